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

#[tokio::test]
async fn per_api_quotas_limit_each_operation_in_its_own_bucket() {
    use datazone_emulator::Lifecycle;
    use datazone_emulator::state::QUOTA_PAGE;
    // The quota page's table, every other operation at 2 a second, GetDomain lifted.
    let mut limits: Vec<(String, f64)> = QUOTA_PAGE.iter().map(|(op, tps)| (op.to_string(), *tps)).collect();
    limits.push(("GetDomain".into(), 0.0));
    let lifecycle = Lifecycle { operation_rate_limits: limits, other_operations_rate: Some(2.0), ..fast() };
    let emulator = start_with(EmulatorConfig { fixture: fixture(), lifecycle, rate_limit: None }).await;
    let client = datazone(&emulator, PRODUCER).await;
    // What each of `n` back-to-back calls answered: throttled or not (the quota comes before the
    // handler, so calls that fail for another reason count too).
    async fn throttled<F, Fut, T, E>(n: usize, call: F) -> Vec<bool>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, aws_sdk_datazone::error::SdkError<E>>>,
        E: aws_sdk_datazone::error::ProvideErrorMetadata + std::fmt::Debug,
    {
        let mut out = Vec::new();
        for _ in 0..n {
            out.push(call().await.err().is_some_and(|e| code(&e) == "ThrottlingException"));
        }
        out
    }
    let glossaries = throttled(8, || {
        client.create_glossary().domain_identifier(DOMAIN).name("g").owning_project_identifier("nosuchproject").send()
    })
    .await;
    assert_eq!(glossaries[..5], [false; 5], "CreateGlossary: a burst of 5");
    assert!(glossaries[5..].iter().all(|t| *t), "then throttled: {glossaries:?}");
    // Search has its own bucket of 20, untouched by CreateGlossary's.
    let searches = throttled(24, || {
        client
            .search()
            .domain_identifier(DOMAIN)
            .search_scope(aws_sdk_datazone::types::InventorySearchScope::Asset)
            .send()
    })
    .await;
    assert_eq!(searches[..20], [false; 20], "Search: a burst of 20");
    assert!(searches[20..].iter().any(|t| *t), "then throttled: {searches:?}");
    // An operation the page does not name: the other operations' rate, its own bucket.
    let listed = throttled(4, || client.list_domains().send()).await;
    assert_eq!(listed, [false, false, true, true], "ListDomains at 2 a second");
    let projects = throttled(3, || client.list_projects().domain_identifier(DOMAIN).send()).await;
    assert_eq!(projects, [false, false, true], "ListProjects: a bucket of its own");
    // A quota lifted stays lifted.
    let domains = throttled(10, || client.get_domain().identifier(DOMAIN).send()).await;
    assert_eq!(domains, [false; 10]);
    // Each operation's bucket is per account: another account calls at once.
    let governance = datazone(&emulator, GOVERNANCE).await;
    governance.list_domains().send().await.expect("the governance account's own bucket");
    emulator.shutdown().await;
}
