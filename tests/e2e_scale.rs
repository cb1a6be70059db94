//! The operator end to end at scale (`make e2e`): the DataZone calls a first publish and a steady
//! state cost for one and fifty data products, and a hundred in three namespaces sharing sessions
//! and one listing.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::eventually;
use common::world::{RESYNC, World, by_operation, count, datazone_calls, delta, is_ready, many, ours, world};
use datazone_operator::crd::RedshiftDataProduct;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, ResourceExt};
use serde_json::{Value, json};

#[tokio::test]
#[ignore = "needs a real API server: make e2e"]
async fn api_budget_for_one_and_fifty_data_products() {
    for n in [1usize, 50] {
        let w = world(&format!("budget{n}"), "optional").await;
        let names = many(&w, 0..n).await;
        w.all_ready(&names).await;
        let first = w.calls().await;
        // The first resync reads each data source once in full (recording its updatedAt); from
        // then on a resync is the project's shared listing.
        w.resyncs(2).await;
        let settled = w.calls().await;
        let took = w.resyncs(2).await;
        let later = w.calls().await;
        let (publish, steady) = (datazone_calls(&first), datazone_calls(&later) - datazone_calls(&settled));
        let resyncs = took.as_secs_f64() / RESYNC.as_secs_f64();
        println!(
            "budget: {n} data products in one project: first publish {publish} DataZone calls ({:.1} per data product), first resync {} calls, then {steady} calls in {took:.1?} ({resyncs:.1} resyncs: {:.3} per data product per resync)",
            publish as f64 / n as f64,
            datazone_calls(&settled) - publish,
            steady as f64 / n as f64 / resyncs
        );
        println!("budget: steady state by operation: {}", by_operation(&delta(&settled, &later)));
        println!("budget: first publish by operation: {}", by_operation(&first));
        // Per data product: create its data source, start its run, list the run's activities.
        // Everything else is shared: the domain, project, blueprint, profile and environment are
        // looked up and created once, and while data sources and runs settle one listing of
        // the project's data sources serves them all.
        for operation in ["CreateDataSource", "StartDataSourceRun", "ListDataSourceRunActivities"] {
            assert_eq!(first[format!("datazone:{operation}")], n, "{operation} once per data product");
        }
        // A data product's first resync (4 s here) reads its data source once in full; on a slow
        // machine the first ones come before the last data product is Ready, inside the publish
        // window. So full reads are counted until the first resync is over, and the rest of the
        // publish apart from them.
        let reads = count(&settled, "datazone:GetDataSource") as usize;
        assert!(reads <= n + 10, "one full read per data source by its first resync (and few while settling): {reads}");
        let publish_without_reads = publish as usize - count(&first, "datazone:GetDataSource") as usize;
        assert!(
            publish_without_reads <= 3 * n + 40,
            "first publish: {publish_without_reads} calls for {n} data products"
        );
        assert_eq!(
            steady,
            count(&later, "datazone:ListDataSources") - count(&settled, "datazone:ListDataSources"),
            "the steady state is the listing only"
        );
        // The environment's default data source is in the project's listing too.
        let pages = w.state().await["dataSources"].as_array().unwrap().len().div_ceil(50) as f64;
        assert!(
            steady as f64 <= 2.0 * pages * (resyncs + 1.0),
            "steady state: at most two listings ({pages} pages) per resync for all {n}: {steady} in {took:?}"
        );
        if n == 50 {
            one_change_in_a_big_project_reads_its_own(&w).await;
        }
    }
}

/// With 61 data sources the project's listing is two pages: one data product changing alone
/// reads its own data source and run instead.
async fn one_change_in_a_big_project_reads_its_own(w: &World) {
    let more = many(w, 50..61).await;
    w.all_ready(&more).await;
    // Past the listing's demand window (two polls): the change below wants it alone.
    w.resyncs(1).await;
    let count = |c: &Value, op: &str| c[format!("datazone:{op}")].as_u64().unwrap_or(0);
    let before = w.calls().await;
    w.apply(&w.product("orders-00", "sales", "sales", "public", &["orders", "customers"])).await;
    let p = w.condition_is("orders-00", "Ready", "True", "Published").await;
    assert_eq!(p.status.unwrap().assets.len(), 2);
    let after = w.calls().await;
    let spent: BTreeMap<&str, u64> = [
        "ListDataSources",
        "UpdateDataSource",
        "StartDataSourceRun",
        "GetDataSourceRun",
        "ListDataSourceRunActivities",
    ]
    .into_iter()
    .map(|op| (op, count(&after, op) - count(&before, op)))
    .collect();
    println!("budget: one spec change among 61 data products: {spent:?}");
    // The others' resyncs read the two-page listing anyway (twice a resync); the changed one
    // follows its run in it instead of reading the run itself.
    assert_eq!((spent["UpdateDataSource"], spent["StartDataSourceRun"]), (1, 1), "{spent:?}");
    assert_eq!(spent["ListDataSourceRunActivities"], 1, "{spent:?}");
    assert!(spent["GetDataSourceRun"] + spent["ListDataSources"] <= 8, "no read storm for one change: {spent:?}");
}

#[tokio::test]
#[ignore = "needs a real API server: make e2e"]
async fn a_hundred_data_products_in_three_namespaces_share_sessions_and_one_listing() {
    let mut w = world("fleet", "optional").await;
    let mut namespaces = vec![w.ns.clone()];
    for extra in ["b", "c"] {
        let ns = format!("{}-{extra}", w.ns);
        let namespace: Namespace = serde_json::from_value(
            json!({"metadata": {"name": ns, "labels": {"dataproducts.dev/datazone-access": w.ns}}}),
        )
        .unwrap();
        Api::<Namespace>::all(w.client.clone()).create(&PostParams::default(), &namespace).await.unwrap();
        namespaces.push(ns);
    }
    // The operator watches all three.
    w.metrics_port = common::free_port();
    let extra = ["--namespaces", &namespaces[1..].join(",")];
    w.operator = Some(w.spawn_operator(w.metrics_port, &extra, &[], "operator"));
    let tables = ["orders", "customers", "order_items"];
    for i in 0..100 {
        let ns = &namespaces[i % 3];
        let mut product = w.product(&format!("fleet-{i:03}"), "sales", "sales", "public", &[tables[i % 3]]);
        product.metadata.namespace = Some(ns.clone());
        let api: Api<RedshiftDataProduct> = Api::namespaced(w.client.clone(), ns);
        api.patch(&product.name_any(), &PatchParams::apply("e2e").force(), &Patch::Apply(&product)).await.unwrap();
    }
    let all_ready = || async {
        let mut ready = 0;
        for ns in &namespaces {
            let api: Api<RedshiftDataProduct> = Api::namespaced(w.client.clone(), ns);
            let list = api.list(&Default::default()).await.map_err(|e| e.to_string())?;
            ready += list.items.iter().filter(|p| is_ready(p)).count();
        }
        if ready == 100 { Ok(()) } else { Err(format!("{ready} of 100 Ready")) }
    };
    eventually(Duration::from_secs(120), all_ready).await;
    let published = w.calls().await;
    // Sessions by tenancy: one per namespace, plus the connection controller's own check.
    let assumed = count(&published, "sts:AssumeRole");
    let sessions: BTreeMap<String, usize> =
        w.emulator.shared.lock_state().sessions.values().filter(|s| s.session_arn.ends_with(&w.connection)).fold(
            BTreeMap::new(),
            |mut by, s| {
                *by.entry(s.session_arn.clone()).or_default() += 1;
                by
            },
        );
    println!(
        "fleet: 100 data products in 3 namespaces: {assumed} AssumeRole calls until all Ready; sessions {sessions:?}"
    );
    // Three namespaces and the connection controller's own check: four sessions, whatever the
    // number of data products, each assumed once (at most twice an hour as credentials expire).
    assert_eq!(sessions.len(), 4, "one session per (connection, namespace): {sessions:?}");
    // The operator also checks the other tests' ClusterDataZoneConnections still in the cluster
    // (one session each); those are not this connection's.
    let ours_assumed: usize = sessions.values().sum();
    assert!(ours_assumed <= 2 * 4, "{ours_assumed} AssumeRole calls for 4 sessions ({assumed} in all)");
    assert_eq!(ours(&w.state().await).len(), 100, "one data source per data product");

    // The first resync reads each data source in full once; then a resync is the listing.
    w.resyncs(2).await;
    let settled = w.calls().await;
    let took = w.resyncs(2).await;
    let later = w.calls().await;
    let spent = delta(&settled, &later);
    let steady = datazone_calls(&spent);
    let resyncs = took.as_secs_f64() / RESYNC.as_secs_f64();
    let sources = w.state().await["dataSources"].as_array().unwrap().len();
    let pages = sources.div_ceil(50) as f64;
    println!(
        "fleet: steady state {steady} DataZone calls in {took:.1?} ({resyncs:.1} resyncs, {sources} data sources in the project = {pages} pages): {:.3} per data product per resync; {}",
        steady as f64 / 100.0 / resyncs,
        by_operation(&spent)
    );
    assert_eq!(steady, count(&spent, "datazone:ListDataSources"), "the listing only: {spent}");
    assert!(steady as f64 <= 2.0 * pages * (resyncs + 1.0), "at most two listings a resync: {steady}");
    assert_eq!(count(&spent, "sts:AssumeRole"), 0, "sessions are kept, not assumed again");

    // Edited and deleted behind the operator's back: both seen in the listing and repaired.
    let status = |name: &str| {
        let (api, name) = (Api::<RedshiftDataProduct>::namespaced(w.client.clone(), &namespaces[0]), name.to_string());
        async move { api.get(&name).await.unwrap().status.unwrap() }
    };
    let edited = status("fleet-000").await.data_source_id.unwrap();
    let deleted = status("fleet-003").await.data_source_id.unwrap();
    let changed = std::time::Instant::now();
    {
        let mut state = w.emulator.shared.lock_state();
        let ds = state.data_sources.get_mut(&edited).unwrap();
        ds.publish_on_import = false;
        ds.updated_at = datazone_emulator::clock::Instant::now();
        state.data_sources.remove(&deleted);
    }
    eventually(Duration::from_secs(30), || async {
        let state = w.state().await;
        let restored = ours(&state).iter().any(|d| d["id"] == edited && d["publishOnImport"] == true);
        let recreated = status("fleet-003").await.data_source_id.is_some_and(|id| id != deleted);
        if restored && recreated { Ok(()) } else { Err(format!("restored {restored}, recreated {recreated}")) }
    })
    .await;
    let repaired = changed.elapsed();
    println!("fleet: an edit and a deletion behind the operator's back repaired in {repaired:.1?} (resync {RESYNC:?})");
    // Seen in the first listing taken after the change (someone resyncs every half interval or
    // so) and the owner woken: within one resync interval, plus the pass itself.
    assert!(repaired <= RESYNC + Duration::from_secs(2), "repaired within one resync: {repaired:?}");
}
