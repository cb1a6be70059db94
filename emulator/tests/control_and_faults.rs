//! The control API (state, calls, faults, reset, catalog) and what clients observe of faults
//! and rate limits.

mod common;

use std::time::{Duration, Instant};

use common::*;
use datazone_emulator::EmulatorConfig;
use serde_json::json;

#[tokio::test]
async fn injected_errors_latency_and_drops_reach_the_client() {
    let emulator = start(fast()).await;
    let client = datazone(&emulator, PRODUCER).await;
    let (status, _) = control(
        &emulator,
        "POST",
        "/_emulator/faults",
        Some(json!({"service": "datazone", "operation": "ListDomains", "error": "ThrottlingException", "count": 2})),
    )
    .await;
    assert_eq!(status, 201);
    for _ in 0..2 {
        let err = client.list_domains().send().await.unwrap_err();
        assert_eq!(code(&err), "ThrottlingException");
        assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(429));
    }
    client.list_domains().send().await.expect("the counted fault retired after 2");

    control(
        &emulator,
        "POST",
        "/_emulator/faults",
        Some(json!({"operation": "GetDomain", "error": "InternalServerException", "count": 1})),
    )
    .await;
    assert_eq!(code(&client.get_domain().identifier(DOMAIN).send().await.unwrap_err()), "InternalServerException");

    control(
        &emulator,
        "POST",
        "/_emulator/faults",
        Some(json!({"operation": "ListDomains", "latencyMs": 300, "count": 1})),
    )
    .await;
    let started = Instant::now();
    client.list_domains().send().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300), "latency was injected");

    control(
        &emulator,
        "POST",
        "/_emulator/faults",
        Some(json!({"operation": "ListDomains", "drop": true, "count": 1})),
    )
    .await;
    let err = client.list_domains().send().await.unwrap_err();
    assert!(err.as_service_error().is_none(), "a dropped connection is not a service error: {err:?}");

    // Unknown error names are refused; DELETE clears every rule.
    let (status, body) = control(&emulator, "POST", "/_emulator/faults", Some(json!({"error": "NoSuchError"}))).await;
    assert_eq!((status, body["message"].as_str().is_some()), (400, true));
    control(&emulator, "POST", "/_emulator/faults", Some(json!({"error": "ThrottlingException"}))).await;
    control(&emulator, "DELETE", "/_emulator/faults", None).await;
    client.list_domains().send().await.expect("faults cleared");

    let calls = control(&emulator, "GET", "/_emulator/calls", None).await.1;
    assert_eq!(calls["datazone:ListDomains"], 6);
    assert_eq!(calls["datazone:GetDomain"], 1);
    assert_eq!(calls["total"], 7);
    emulator.shutdown().await;
}

#[tokio::test]
async fn rate_limit_answers_throttling_above_the_rate() {
    let emulator = start_with(EmulatorConfig { fixture: fixture(), lifecycle: fast(), rate_limit: Some(5.0) }).await;
    let client = datazone(&emulator, PRODUCER).await;
    let mut throttled = 0;
    for _ in 0..20 {
        if let Err(e) = client.list_domains().send().await {
            assert_eq!(code(&e), "ThrottlingException");
            throttled += 1;
        }
    }
    assert!(throttled >= 10, "20 back-to-back calls at 5 TPS: {throttled} throttled");
    // Another account has its own bucket.
    datazone(&emulator, GOVERNANCE).await.list_domains().send().await.expect("governance account not throttled");
    emulator.shutdown().await;
}

#[tokio::test]
async fn reset_returns_to_the_fixture() {
    let emulator = start(fast()).await;
    let admin = datazone(&emulator, GOVERNANCE).await;
    admin.create_project().domain_identifier(DOMAIN).name("temporary").send().await.unwrap();
    // The fixture's projects: sales (V1) and analytics (V2).
    let state = control(&emulator, "GET", "/_emulator/state", None).await.1;
    assert_eq!(state["projects"].as_array().unwrap().len(), 3);
    assert_eq!(control(&emulator, "POST", "/_emulator/reset", None).await.0, 200);
    let state = control(&emulator, "GET", "/_emulator/state", None).await.1;
    assert_eq!(state["projects"].as_array().unwrap().len(), 2);
    assert_eq!(control(&emulator, "GET", "/_emulator/calls", None).await.1["total"], 0);
    assert_eq!(control(&emulator, "GET", "/_emulator/health", None).await.1["status"], "ok");
    emulator.shutdown().await;
}

#[tokio::test]
async fn catalog_can_be_replaced_at_run_time() {
    let emulator = start(fast()).await;
    let api = aws_sdk_redshiftdata::Client::new(&sdk(&emulator, PRODUCER, None).await);
    let list = || async {
        let out = api
            .list_tables()
            .cluster_identifier("prod-dwh")
            .database("sales")
            .secret_arn(SECRET)
            .schema_pattern("public")
            .send()
            .await
            .unwrap();
        let mut names: Vec<String> = out.tables().iter().map(|t| t.name().unwrap_or_default().to_string()).collect();
        names.sort();
        names
    };
    assert!(!list().await.contains(&"refunds".to_string()));
    let mut catalog = fixture().redshift;
    catalog[0].databases[0].schemas[0].tables.push("refunds".into());
    assert_eq!(
        control(&emulator, "PUT", "/_emulator/catalog", Some(serde_json::to_value(&catalog).unwrap())).await.0,
        200
    );
    assert!(list().await.contains(&"refunds".to_string()));
    // A malformed catalog is refused with the offending path.
    let (status, body) = control(
        &emulator,
        "PUT",
        "/_emulator/catalog",
        Some(json!([{"accountId": "1", "region": "eu-central-1", "clusterName": "x"}])),
    )
    .await;
    assert_eq!(status, 400);
    assert!(body["message"].as_str().unwrap().starts_with("redshift[0].accountId"), "{body}");
    emulator.shutdown().await;
}
