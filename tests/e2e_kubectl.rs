//! `kubectl datazone` end to end: the `kubectl-datazone` binary run as a plugin by the real kubectl
//! (found on the PATH, as a user installs it) against the real API server, while the operator
//! binary publishes into the emulator. `why` on a data product whose project does not exist names
//! the blocking condition and its Event; `status` lists it first; `rerun` leads to exactly one new
//! run; `plan` is the operator's plan.

mod common;

use std::process::Command;
use std::time::Duration;

use common::eventually;
use common::world::{World, count, world};
use kube::api::PostParams;
use serde_json::Value;

/// `kubectl datazone <args>` as a user runs it; (exit status, stdout, stderr).
async fn kubectl_datazone(w: &World, args: &[&str]) -> (i32, String, String) {
    let kubectl = std::env::var("KUBECTL").expect("KUBECTL names kubectl (scripts/e2e sets it)");
    let plugin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_kubectl-datazone")).parent().unwrap().to_path_buf();
    let path = format!("{}:{}", plugin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let mut command = Command::new(kubectl);
    command.arg("datazone").args(args).env("PATH", path).envs(w.aws_env()).env_remove("AWS_PROFILE");
    let out = tokio::task::spawn_blocking(move || command.output()).await.unwrap().unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

#[tokio::test]
#[ignore = "needs a real API server: make e2e"]
async fn kubectl_datazone_says_why_reruns_once_and_plans() {
    let w = world("kubectl", "optional").await;
    let names = w.import("examples/payloads/three-databases.json").await;
    w.all_ready(&names).await;
    // A data product whose project does not exist.
    let mut orphan = w.products().get(&names[0]).await.unwrap();
    orphan.metadata = kube::api::ObjectMeta { name: Some("orphan".into()), ..Default::default() };
    orphan.spec.project = "no-such-project".into();
    orphan.status = None;
    w.products().create(&PostParams::default(), &orphan).await.unwrap();

    // why: the blocking condition with its message, and the Event that said it.
    let out = eventually(Duration::from_secs(60), || async {
        let (code, out, err) = kubectl_datazone(&w, &["why", "orphan", "-n", &w.ns]).await;
        let events = out.split("\nEVENTS").nth(1).unwrap_or_default();
        if code == 0 && out.contains("ProjectNotFound") && events.contains("ConnectionResolvedFalse") {
            Ok(out)
        } else {
            Err(format!("exit {code}: {out}{err}"))
        }
    })
    .await;
    println!("{out}");
    assert!(
        out.contains(&format!("{}/orphan is not Ready: ConnectionResolved is False (ProjectNotFound).", w.ns)),
        "{out}"
    );
    assert!(out.contains("no-such-project"), "the message names the project: {out}");
    assert!(out.contains("Stalled: the operator waits for a person"), "{out}");
    assert!(out.contains("docs/operations/troubleshooting.md#connectionresolved"), "{out}");
    let (code, json_out, _) = kubectl_datazone(&w, &["why", "orphan", "-n", &w.ns, "-o", "json"]).await;
    assert_eq!(code, 0);
    let why: Value = serde_json::from_str(&json_out).unwrap_or_else(|e| panic!("{e}: {json_out}"));
    assert_eq!(why["blocking"]["type"], "ConnectionResolved");
    assert_eq!(why["blocking"]["reason"], "ProjectNotFound");

    // status: the not-Ready first; the others Ready with their last run and assets.
    let (code, out, err) = kubectl_datazone(&w, &["status", "-n", &w.ns]).await;
    assert_eq!(code, 0, "{err}");
    println!("{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("NAMESPACE") && lines[1].contains("orphan"), "{out}");
    assert!(lines[1].contains("False (Stalled)") && lines[1].contains("ProjectNotFound"), "{out}");
    assert!(out.contains("4 data products: 3 Ready, 1 not Ready (1 Stalled"), "{out}");
    let (_, json_out, _) = kubectl_datazone(&w, &["status", "-n", &w.ns, "-o", "json"]).await;
    let rows: Vec<Value> = serde_json::from_str(&json_out).unwrap_or_else(|e| panic!("{e}: {json_out}"));
    assert_eq!(rows.len(), 4);
    for row in &rows[1..] {
        assert_eq!(row["ready"], "True", "{row}");
        assert_eq!(row["lastRun"]["status"], "SUCCESS", "{row}");
        assert!(row["assets"].as_i64().is_some_and(|a| a > 0), "{row}");
    }
    // An unknown data product is an error that names it.
    let (code, _, err) = kubectl_datazone(&w, &["why", "nope", "-n", &w.ns]).await;
    assert_eq!(code, 1);
    assert!(err.contains(&format!("no RedshiftDataProduct nope in namespace {}", w.ns)), "{err}");

    // rerun: exactly one new run, started for the request.
    let runs = |calls: &Value| count(calls, "datazone:StartDataSourceRun");
    let before = runs(&w.calls().await);
    let (code, out, err) = kubectl_datazone(&w, &["rerun", &names[1], "-n", &w.ns, "--wait", "--timeout", "90s"]).await;
    assert_eq!(code, 0, "{out}{err}");
    println!("{out}");
    assert!(out.contains("ended SUCCESS"), "{out}");
    w.resyncs(3).await;
    assert_eq!(runs(&w.calls().await), before + 1, "one request, one run");
    let rerun = w.products().get(&names[1]).await.unwrap();
    assert_eq!(rerun.status.unwrap().last_run.unwrap().reason.as_deref(), Some("Requested"));

    // plan: the operator's, through the plugin: a published data product as it is in Git.
    let mut published = w.products().get(&names[2]).await.unwrap();
    published.metadata.managed_fields = None;
    let file = std::env::temp_dir().join(format!("{}.kubectl-plan.yaml", w.ns));
    std::fs::write(&file, serde_json::to_string(&published).unwrap()).unwrap();
    let (code, out, err) =
        kubectl_datazone(&w, &["plan", "-f", file.to_str().unwrap(), "-n", &w.ns, "--cluster-name", "e2e"]).await;
    assert_eq!(code, 0, "nothing would change: {out}{err}");
    assert!(out.contains("Plan: 0 of 1 data products would change."), "{out}{err}");
}
