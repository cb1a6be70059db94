//! The image built here (`scripts/image-local`, `make image-local`: no base image can be pulled on
//! this machine) has the production image's final-stage layout (`Dockerfile`): the binary's path,
//! the entrypoint, the command and the user. Both files are read as text, so the two cannot drift.

use std::path::Path;

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

/// The Dockerfile's final stage: (binary path, user, entrypoint, command).
fn dockerfile() -> (String, String, String, String) {
    let text = read("Dockerfile");
    let last = text.rsplit("\nFROM ").next().expect("a final stage");
    let line = |instruction: &str| {
        last.lines()
            .find_map(|l| l.strip_prefix(&format!("{instruction} ")))
            .unwrap_or_else(|| panic!("the final stage has no {instruction}"))
            .trim()
            .to_string()
    };
    let copy = line("COPY");
    let binary = copy.split_whitespace().last().unwrap().to_string();
    (binary, line("USER"), line("ENTRYPOINT"), line("CMD"))
}

/// The layout `scripts/image-local` assembles.
fn local() -> (String, String, String, String) {
    let text = read("scripts/image-local");
    let var = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("scripts/image-local sets no {name}"))
            .trim_matches('\'')
            .to_string()
    };
    (var("BINARY"), var("IMAGE_USER"), var("ENTRYPOINT"), var("CMD"))
}

#[test]
fn the_local_image_has_the_production_images_layout() {
    let (binary, user, entrypoint, cmd) = dockerfile();
    assert_eq!(binary, "/usr/local/bin/datazone-operator");
    assert_eq!(entrypoint, format!(r#"["{binary}"]"#), "the entrypoint is the binary");
    assert_eq!(local(), (binary, user, entrypoint, cmd), "scripts/image-local against the Dockerfile's final stage");
}

#[test]
fn the_charts_security_context_runs_the_images_user() {
    let (_, user, _, _) = dockerfile();
    let chart = read("charts/datazone-operator/templates/deployment.yaml");
    let (uid, gid) = user.split_once(':').unwrap();
    assert!(chart.contains(&format!("runAsUser: {uid}")) && chart.contains(&format!("runAsGroup: {gid}")), "{user}");
    assert!(chart.contains("readOnlyRootFilesystem: true"));
}
