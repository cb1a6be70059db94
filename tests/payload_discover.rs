//! `import-payload --discover` against the DataZone emulator (in this process; no cluster): the
//! reference payload's datasets, one of them already published by the reference Lambda, one
//! twice over, one not at all. The manifests adopt exactly the one match, list the candidates
//! of the ambiguous one, and leave the third to be created; no DataZone call mutates.

mod common;

use std::process::Command;
use std::time::Duration;

use common::lambda::Lambda;
use common::world::SECRET;
use datazone_emulator::Emulator;
use datazone_operator::datazone::Storage;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_datazone-operator");

fn prod_dwh() -> Storage {
    Storage::Cluster("prod-dwh".into())
}

async fn calls(emulator: &Emulator) -> Value {
    common::world::emulator_json(emulator, "/_emulator/calls").await
}

#[tokio::test]
async fn discover_adopts_the_one_match_lists_several_and_leaves_none() {
    let emulator = common::world::fixture_emulator(Duration::from_millis(100)).await;
    let endpoint = emulator.endpoint();
    let lambda = Lambda::sales(&endpoint, "optional");
    let sales = lambda.publish("sales", "public", &["orders", "customers"], "", prod_dwh()).await;
    lambda.publish("marketing", "campaigns", &["campaigns"], "", prod_dwh()).await;
    lambda.publish("marketing", "campaigns", &["clicks"], "-by-hand", prod_dwh()).await;
    let before = calls(&emulator).await;

    let mut command = Command::new(BIN);
    command
        .args(["import-payload", "examples/payloads/three-databases.json", "--connection", "central"])
        .args(["--project", "sales", "--credentials-secret-arn", SECRET, "--discover", "--region", "eu-central-1"])
        .args(["--domain", "corp-mesh", "--role-arn", "arn:aws:iam::111111111111:role/dz-registration"])
        .args(["--external-id", "optional"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("AWS_ENDPOINT_URL", &endpoint)
        .env("AWS_REGION", "eu-central-1")
        .env("AWS_ACCESS_KEY_ID", "AKIAPRODUCER00000001")
        .env("AWS_SECRET_ACCESS_KEY", "producer-secret")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env("RUST_LOG", "warn");
    // Off this thread: it serves the emulator the command calls.
    let out = tokio::task::spawn_blocking(move || command.output()).await.unwrap().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stderr}");

    let documents: Vec<&str> = stdout.split("---\n").filter(|d| !d.trim().is_empty()).collect();
    let doc =
        |name: &str| documents.iter().find(|d| d.contains(&format!("name: {name}\n"))).copied().unwrap_or_default();
    assert!(doc("prod-dwh-sales").contains(&format!("dataSourceId: {sales}")), "{stdout}");
    let marketing = doc("prod-dwh-marketing");
    assert!(
        marketing.starts_with("# several data sources read this cluster, database and these schemas"),
        "{marketing}"
    );
    assert!(!marketing.contains("adopt:"), "{marketing}");
    let finance = doc("prod-dwh-finance");
    assert!(!finance.contains("adopt:") && !finance.starts_with('#'), "{stdout}");
    assert!(stderr.contains(&format!("prod-dwh-sales: adopts data source {sales}")), "{stderr}");
    assert!(stderr.contains("prod-dwh-finance: no data source to adopt"), "{stderr}");

    let after = calls(&emulator).await;
    let mutating: Vec<&String> = after
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| ["Create", "Update", "Delete", "Start", "Put"].iter().any(|m| k.contains(&format!(":{m}"))))
        .filter(|k| after[k.as_str()] != before[k.as_str()])
        .collect();
    assert!(mutating.is_empty(), "discover changed DataZone: {mutating:?}");
}
