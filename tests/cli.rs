//! The binary as a user runs it: flags, exit statuses, what goes to stdout and stderr.

use std::io::Write;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_datazone-operator");
const SECRET: &str = "arn:aws:secretsmanager:eu-central-1:222222222222:secret:dz-redshift-AbCdEf";

fn run(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

fn import(input: &str, stdin: Option<&str>) -> Output {
    run(
        &["import-payload", input, "--connection", "central", "--project", "sales", "--credentials-secret-arn", SECRET],
        stdin,
    )
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn version_and_help() {
    let version = run(&["--version"], None);
    assert!(version.status.success());
    assert_eq!(text(&version.stdout).trim(), format!("datazone-operator {}", env!("CARGO_PKG_VERSION")));
    let help = run(&["run", "--help"], None);
    let help = text(&help.stdout);
    for flag in [
        "--namespaces",
        "--selector",
        "--metrics-addr",
        "--health-addr",
        "--resync-interval",
        "--concurrency",
        "--log-format",
        "--cluster-name",
    ] {
        assert!(help.contains(flag), "run --help lacks {flag}");
    }
    assert!(help.contains("DATAZONE_OPERATOR_RESYNC_INTERVAL"), "environment variables are documented");
}

#[test]
fn crdgen_prints_every_crd() {
    let out = run(&["crdgen"], None);
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    assert_eq!(stdout.matches("kind: CustomResourceDefinition").count(), 5);
    for name in [
        "redshiftdataproducts.dataproducts.dev",
        "datazoneconnections.dataproducts.dev",
        "clusterdatazoneconnections.dataproducts.dev",
        "datazoneglossaries.dataproducts.dev",
        "datazonesubscriptions.dataproducts.dev",
    ] {
        assert!(stdout.contains(&format!("name: {name}")), "{name}");
    }
}

#[test]
fn import_payload_from_file_and_stdin_agree() {
    let from_file = import("examples/payloads/three-databases.json", None);
    assert!(from_file.status.success(), "{}", text(&from_file.stderr));
    let payload =
        std::fs::read_to_string(format!("{}/examples/payloads/three-databases.json", env!("CARGO_MANIFEST_DIR")))
            .unwrap();
    let from_stdin = import("-", Some(&payload));
    assert!(from_stdin.status.success());
    assert_eq!(from_file.stdout, from_stdin.stdout);
    assert_eq!(text(&from_file.stdout).matches("kind: RedshiftDataProduct").count(), 3);
}

#[test]
fn malformed_payloads_exit_2_with_the_path_and_print_nothing() {
    let cases = [
        ("{not json", "invalid JSON"),
        (
            r#"{"datasets": [{"clusterName": "c1", "schemas": [{"schemaName": "s", "addAllTables": true}]}]}"#,
            "datasets[0].dbName: missing",
        ),
        (
            r#"{"datasets": [{"clusterName": "c1", "dbName": "d", "schemas": [{"schemaName": "s"}]}]}"#,
            "datasets[0].schemas[0]: selects nothing",
        ),
        (
            r#"{"datasets": [{"clusterName": "c1", "dbName": "d", "schemas": [{"schemaName": "s", "tables": [1]}]}]}"#,
            "datasets[0].schemas[0].tables[0]: expected a string, found a number",
        ),
        (
            r#"{"datasets": [{"clusterName": 5, "dbName": "d", "schemas": [{"schemaName": "s", "addAllViews": true}]}]}"#,
            "datasets[0].clusterName: expected a string",
        ),
    ];
    for (payload, message) in cases {
        let out = import("-", Some(payload));
        assert_eq!(out.status.code(), Some(2), "{payload}");
        assert!(out.stdout.is_empty(), "nothing on stdout for {payload}");
        assert!(text(&out.stderr).contains(message), "stderr for {payload}: {}", text(&out.stderr));
    }
}

#[test]
fn missing_file_exits_2() {
    let out = import("examples/payloads/does-not-exist.json", None);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(text(&out.stderr).contains("cannot read examples/payloads/does-not-exist.json"));
}

#[test]
fn bad_flags_are_refused_at_parse_time() {
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "import-payload",
                "-",
                "--connection",
                "central",
                "--project",
                "sales",
                "--credentials-secret-arn",
                "arn:aws:ssm:eu-central-1:222222222222:parameter/x",
            ],
            "is not a Secrets Manager secret ARN",
        ),
        (
            &[
                "import-payload",
                "-",
                "--connection",
                "Central!",
                "--project",
                "sales",
                "--credentials-secret-arn",
                SECRET,
            ],
            "is not a Kubernetes object name",
        ),
        (
            &[
                "import-payload",
                "-",
                "--connection",
                "central",
                "--project",
                "sales/eu",
                "--credentials-secret-arn",
                SECRET,
            ],
            "is not a DataZone project name",
        ),
        (
            &[
                "import-payload",
                "-",
                "--connection",
                "central",
                "--project",
                "sales",
                "--credentials-secret-arn",
                SECRET,
                "--deletion-policy",
                "Orphan",
            ],
            "invalid value 'Orphan'",
        ),
        (&["run", "--resync-interval", "soon"], "is not a duration"),
        (&["run", "--selector", "team=sa les"], "is not a label selector"),
        (&["run", "--namespaces", "team-sales,Team_B"], "is not a namespace name"),
        (&["run", "--concurrency", "0"], "--concurrency"),
        (&["run", "--metrics-addr", "localhost"], "--metrics-addr"),
    ];
    for (args, message) in cases {
        let out = run(args, None);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty());
        assert!(text(&out.stderr).contains(message), "{args:?}: {}", text(&out.stderr));
    }
}

#[test]
fn run_settings_come_from_the_environment_too() {
    let out = Command::new(BIN).args(["run"]).env("DATAZONE_OPERATOR_RESYNC_INTERVAL", "never").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("is not a duration"), "{}", text(&out.stderr));
}

#[test]
fn run_without_a_cluster_fails_clearly() {
    let out = Command::new(BIN)
        .args(["run", "--metrics-addr", "127.0.0.1:0", "--health-addr", "127.0.0.1:0", "--log-format", "text"])
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("cannot reach the Kubernetes API"), "{}", text(&out.stderr));
}

#[test]
fn plan_needs_manifests_or_all_and_not_both() {
    let neither = run(&["plan"], None);
    assert_eq!(neither.status.code(), Some(2));
    assert!(text(&neither.stderr).contains("--filename"), "{}", text(&neither.stderr));
    let both = run(&["plan", "-f", "x.yaml", "--all"], None);
    assert_eq!(both.status.code(), Some(2));
    assert!(text(&both.stderr).contains("cannot be used with"), "{}", text(&both.stderr));
    let bad_output = run(&["plan", "--all", "-o", "yaml"], None);
    assert_eq!(bad_output.status.code(), Some(2));
    let bad_namespace = run(&["plan", "--all", "-n", "Not_A_Namespace"], None);
    assert_eq!(bad_namespace.status.code(), Some(2));
}

/// The `kubectl datazone` plugin's own binary: bad input is refused before any cluster is read.
#[test]
fn the_kubectl_plugin_names_its_commands_and_refuses_bad_input_before_reading_the_cluster() {
    let plugin = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_kubectl-datazone"))
            .args(args)
            // No cluster at all: a refusal must come from the arguments alone.
            .env("KUBECONFIG", "/nonexistent/kubeconfig")
            .output()
            .unwrap()
    };
    let help = plugin(&["--help"]);
    assert!(help.status.success());
    let help = text(&help.stdout);
    for command in ["status", "why", "rerun", "plan"] {
        assert!(help.contains(command), "{help}");
    }
    assert!(help.contains("Usage: kubectl datazone"), "{help}");
    let rows: [(&[&str], &str); 4] = [
        (&["why", "Not_A_Name"], "Not_A_Name"),
        (&["status", "-n", "Team Sales"], "Team Sales"),
        (&["status", "-n", "a", "-A"], "cannot be used with"),
        (&["rerun", "orders", "--timeout", "soon"], "soon"),
    ];
    for (args, named) in rows {
        let out = plugin(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains(named), "{args:?}: {}", text(&out.stderr));
    }
    // Good arguments and no cluster: the error says so, exit 1.
    let out = plugin(&["status", "-n", "team-sales"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).starts_with("error: "), "{}", text(&out.stderr));
}
