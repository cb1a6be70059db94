//! Second-generation (V2) domains end to end: the operator binary against the real API server
//! (`make e2e`) and the emulator's V2 domain `unified-mesh` (Amazon SageMaker Unified Studio),
//! where data sources are made through shared Redshift connections.

mod common;

use std::time::Duration;

use common::world::{
    V2_DOMAIN, World, by_operation, condition, count, datazone_calls, ours, published, reference_assets, world,
    world_in,
};
use datazone_operator::datazone::{Backend, DataZone, Lineage};
use kube::ResourceExt;
use serde_json::{Value, json};

/// Operations of the V1 flow that a V2 domain never needs.
const V1_ONLY: [&str; 7] = [
    "ListEnvironmentBlueprints",
    "GetEnvironmentBlueprintConfiguration",
    "PutEnvironmentBlueprintConfiguration",
    "ListEnvironmentProfiles",
    "CreateEnvironmentProfile",
    "CreateEnvironment",
    "GetEnvironment",
];

fn connections(state: &Value) -> Vec<Value> {
    state["connections"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
#[ignore = "needs a real API server: make e2e"]
async fn the_reference_payload_publishes_in_a_v2_domain_through_one_connection_per_database() {
    let w = world_in("v2ref", "optional", V2_DOMAIN).await;
    let names = w.import_into("examples/payloads/three-databases.json", "analytics").await;
    let ready = w.all_ready(&names).await;
    let calls = w.calls().await;
    let state = w.state().await;

    let sources = ours(&state);
    assert_eq!(sources.len(), 3, "one data source per dataset: {sources:#?}");
    assert_eq!(published(&state), reference_assets(), "the same assets as in a V1 domain");
    let made = connections(&state);
    assert_eq!(made.len(), 3, "one connection per (cluster, database): {made:#?}");
    assert!(state["environmentProfiles"].as_array().is_none_or(Vec::is_empty), "no environment profile");

    for p in &ready {
        let s = p.status.clone().unwrap();
        assert_eq!(s.domain_version.as_deref(), Some("V2"));
        let ds = sources.iter().find(|d| d["id"] == s.data_source_id.clone().unwrap()).expect("its data source");
        assert_eq!(ds["connectionId"].as_str(), s.connection_id.as_deref(), "status.connectionId is the emulator's");
        assert!(made.iter().any(|c| c["connectionId"].as_str() == s.connection_id.as_deref()));
        assert_eq!(condition(p, "ConnectionReady").map(|c| c.0), Some("True".to_string()));
        assert_eq!(condition(p, "BlueprintEnabled"), None, "no V1 phase shown");
        assert_eq!(condition(p, "EnvironmentReady"), None);
        assert_eq!(s.published_asset_count, Some(3));
    }
    for operation in V1_ONLY {
        assert_eq!(count(&calls, &format!("datazone:{operation}")), 0, "{operation}: {}", by_operation(&calls));
    }
    let n = ready.len() as f64;
    let publish = datazone_calls(&calls);
    println!(
        "budget v2: {} data products, 3 connections: first publish {publish} DataZone calls ({:.1} per data product): {}",
        ready.len(),
        publish as f64 / n,
        by_operation(&calls)
    );
    for operation in ["CreateDataSource", "StartDataSourceRun", "ListDataSourceRunActivities"] {
        assert_eq!(count(&calls, &format!("datazone:{operation}")), 3, "{operation} once per data product");
    }
}

#[tokio::test]
#[ignore = "needs a real API server: make e2e"]
async fn v2_budget_for_fifty_data_products_is_three_calls_each_plus_a_constant() {
    let w = world_in("v2budget", "optional", V2_DOMAIN).await;
    let mut names = Vec::new();
    for i in 0..50 {
        let p = w.product(&format!("orders-{i}"), "analytics", "sales", "public", &["orders"]);
        w.apply(&p).await;
        names.push(p.name_any());
    }
    w.all_ready(&names).await;
    let calls = w.calls().await;
    let publish = datazone_calls(&calls);
    println!(
        "budget v2: 50 data products, one connection: first publish {publish} DataZone calls ({:.2} per data product): {}",
        publish as f64 / 50.0,
        by_operation(&calls)
    );
    assert_eq!(count(&calls, "datazone:CreateConnection"), 1, "one shared connection");
    assert!(publish <= 3 * 50 + 40, "first publish: {publish} calls for 50 data products");
}

#[tokio::test]
#[ignore = "needs a real API server: make e2e"]
async fn restarted_while_connections_are_made_creates_no_second_connection_or_data_source() {
    let mut w = world_in("v2restart", "optional", V2_DOMAIN).await;
    let mut names = Vec::new();
    for i in 0..6 {
        let p = w.product(&format!("t-{i}"), "analytics", "sales", "public", &["orders"]);
        w.apply(&p).await;
        names.push(p.name_any());
    }
    // Killed as soon as the connection is asked for, and twice more while data sources are made.
    w.calls_reach("datazone:CreateConnection", 1).await;
    w.start_operator();
    tokio::time::sleep(Duration::from_millis(400)).await;
    w.start_operator();
    tokio::time::sleep(Duration::from_millis(700)).await;
    w.start_operator();
    w.all_ready(&names).await;
    let state = w.state().await;
    assert_eq!(connections(&state).len(), 1, "one connection: {:#?}", connections(&state));
    assert_eq!(ours(&state).len(), 6, "one data source per data product");
}

/// The connection `id` as the operator's own SDK layer reads it back (GetConnection), as the
/// fixture's registration role.
async fn connection_as_read(w: &World, domain: &str, project: &str, name: &str) -> Option<Lineage> {
    let clients = common::aws::clients(&w.emulator.endpoint(), 50.0).await;
    let session = common::aws::registration("Test/readback", "test", "optional");
    let found = clients.project(&session).find_connection(domain, project, name).await.unwrap();
    found.expect("the connection").lineage
}

#[tokio::test]
#[ignore = "needs a real API server: make e2e"]
async fn lineage_reaches_the_v2_connection_and_is_refused_in_a_v1_domain() {
    let w = world_in("v2lineage", "optional", V2_DOMAIN).await;
    let mut p = w.product("orders", "analytics", "sales", "public", &["orders"]);
    p.spec.lineage = serde_json::from_value(json!({"enabled": true, "schedule": "cron(0 3 * * ? *)"})).unwrap();
    w.apply(&p).await;
    let ready = w.all_ready(&["orders".to_string()]).await;
    let s = ready[0].status.clone().unwrap();
    let state = w.state().await;
    let made = connections(&state);
    let name = made[0]["name"].as_str().unwrap().to_string();
    let (domain, project) = (s.domain_id.unwrap(), s.project_id.unwrap());
    let lineage = connection_as_read(&w, &domain, &project, &name).await;
    assert_eq!(lineage, Some(Lineage { enabled: true, schedule: Some("cron(0 3 * * ? *)".into()) }));

    // Turned off in Git: the connection follows.
    p.spec.lineage = serde_json::from_value(json!({"enabled": false})).unwrap();
    w.apply(&p).await;
    common::eventually(Duration::from_secs(60), || async {
        match connection_as_read(&w, &domain, &project, &name).await {
            Some(l) if !l.enabled => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;

    // In a V1 domain the same spec is refused with a clear condition, and nothing is made.
    let v1 = world("v1lineage", "optional").await;
    let mut q = v1.product("orders", "sales", "sales", "public", &["orders"]);
    q.spec.lineage = serde_json::from_value(json!({"enabled": true})).unwrap();
    v1.apply(&q).await;
    let refused = v1.condition_is("orders", "ConnectionResolved", "False", "LineageNeedsV2Domain").await;
    let (_, _, message) = condition(&refused, "ConnectionResolved").unwrap();
    assert!(message.contains("V2"), "{message}");
    assert!(ours(&v1.state().await).is_empty(), "no data source made");
}
