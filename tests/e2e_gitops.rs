//! GitOps end to end: what Flux's health checks (kstatus, built from cli-utils by
//! `scripts/kstatus-bin`) say of the data products the operator reconciles.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::eventually;
use common::world::{condition, world};
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use serde_json::json;

/// What Flux's health checks (kstatus) say of each data product in the namespace: name → status.
fn kstatus(ns: &str) -> BTreeMap<String, String> {
    common::kstatus("redshiftdataproducts.dataproducts.dev", ns)
}

#[tokio::test]
#[ignore = "needs a real API server: make e2e"]
async fn flux_kstatus_sees_ready_and_unobserved_spec_changes() {
    let mut w = world("kstatus", "optional").await;
    let names = w.import("examples/payloads/two-schemas.json").await;
    w.all_ready(&names).await;
    let current: BTreeMap<String, String> = names.iter().map(|n| (n.clone(), "Current".to_string())).collect();
    assert_eq!(kstatus(&w.ns), current, "Ready=True for the current generation is Current");

    // A data product that cannot get anywhere without a person (no such project) is Failed,
    // through its Stalled condition, not InProgress forever.
    let stuck = w.product("stuck", "nowhere", "sales", "public", &["orders"]);
    w.products().create(&PostParams::default(), &stuck).await.unwrap();
    eventually(Duration::from_secs(30), || async {
        let now = kstatus(&w.ns);
        if now.get("stuck").map(String::as_str) == Some("Failed") { Ok(()) } else { Err(format!("kstatus: {now:?}")) }
    })
    .await;
    let p = w.products().get("stuck").await.unwrap();
    assert_eq!(condition(&p, "Stalled").map(|(s, r, _)| (s, r)), Some(("True".into(), "ProjectNotFound".into())));
    assert_eq!(condition(&p, "Reconciling"), None);
    w.products().delete("stuck", &DeleteParams::default()).await.unwrap();
    w.gone("stuck").await;

    // A spec change the operator has not yet seen (it is stopped) is InProgress, not Current.
    w.operator = None;
    let name = &names[0];
    let patch = json!({"spec": {"schemas": [{"name": "public", "tables": ["orders", "customers"]}]}});
    w.products().patch(name, &PatchParams::default(), &Patch::Merge(&patch)).await.unwrap();
    assert_eq!(kstatus(&w.ns)[name], "InProgress", "observedGeneration behind generation");

    // Restarted, the operator reconciles the change and Flux sees it Current again.
    w.start_operator();
    eventually(Duration::from_secs(60), || async {
        let now = kstatus(&w.ns);
        if now == current { Ok(()) } else { Err(format!("kstatus: {now:?}")) }
    })
    .await;
}
