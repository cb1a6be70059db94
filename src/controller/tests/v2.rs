//! Second-generation (V2) domains: the data source is made through a shared Redshift
//! connection in the project's Tooling environment; no blueprint, profile or environment is
//! made. Lineage is set on the connection, refused in a V1 domain, and left alone when data
//! products of one connection disagree.

use kube::runtime::controller::Action;
use serde_json::json;

use super::{Harness, condition, is, message, strings};
use crate::controller::desired::connection_name;
use crate::crd::RedshiftDataProduct;
use crate::crd::conditions::{
    BLUEPRINT_ENABLED, CONNECTION_READY, CONNECTION_RESOLVED, ConditionStatus::False, ConditionStatus::True,
    DATA_SOURCE_READY, ENVIRONMENT_READY, PUBLISHED, READY, STALLED,
};
use crate::datazone::fake::TOOLING;
use crate::datazone::{DataSourceStatus, Generation, Lineage, RunStatus, Storage};

const DATA_SOURCE: &str = "prod-eks-team-sales-orders";

fn v2() -> Harness {
    let h = Harness::new();
    h.dz.world().generation = Generation::V2;
    h
}

fn with_lineage(enabled: bool, schedule: Option<&str>) -> impl FnOnce(&mut serde_json::Value) {
    move |p| p["spec"]["lineage"] = json!({"enabled": enabled, "schedule": schedule})
}

fn status(p: &RedshiftDataProduct) -> crate::crd::RedshiftDataProductStatus {
    p.status.clone().unwrap_or_default()
}

/// Walks `name` in a V2 domain until its data source is made through the connection; returns the
/// data source's ID.
async fn through_the_connection(h: &Harness, p: &mut RedshiftDataProduct, first: bool) -> String {
    let secret = &p.spec.redshift.credentials_secret_arn;
    let connection_name =
        connection_name("222222222222", "eu-central-1", &Storage::Cluster("prod-dwh".into()), "sales", secret);
    assert!(connection_name.starts_with("redshift-222222222222-eu-central-1-prod-dwh-sales-"), "{connection_name}");
    let pass = h.pass(p).await;
    if first {
        assert_eq!(
            pass.calls,
            strings(&[
                "AssumeRole arn:aws:iam::111111111111:role/dz-registration",
                "ListDomains",
                "ListProjects sales",
                "GetCallerIdentity",
                "ListEnvironments",
                &format!("ListConnections {connection_name}"),
                &format!("CreateConnection {connection_name}"),
            ]),
            "the domain's generation comes with its listing; no blueprint, profile or environment call"
        );
        assert_eq!(pass.events, strings(&["ConnectionCreated"]));
        assert_eq!(pass.requeue(), Action::requeue(std::time::Duration::from_millis(200)));
    }
    let s = status(p);
    assert_eq!(s.domain_version.as_deref(), Some("V2"));
    assert_eq!(s.environment_id.as_deref(), Some(TOOLING), "the project's environment the connection is in");
    let connection = s.connection_id.clone().expect("the connection in status");
    assert_eq!(condition(p, CONNECTION_RESOLVED), is(True, "Resolved"));
    assert!(message(p, CONNECTION_RESOLVED).contains("(V2)"), "{}", message(p, CONNECTION_RESOLVED));

    let pass = h.pass(p).await;
    assert_eq!(
        pass.calls,
        [format!("CreateDataSource {}", p.metadata.name.as_deref().map(ds_name).unwrap_or_default())]
    );
    assert_eq!(condition(p, CONNECTION_READY), is(True, "Ready"));
    assert_eq!(message(p, CONNECTION_READY), format!("Redshift connection {connection} is READY"));
    let ds = status(p).data_source_id.expect("data source in status");
    let world = h.dz.world();
    let made = world.data_sources.iter().find(|d| d.info.id == ds).expect("made");
    assert_eq!(made.info.connection_id.as_deref(), Some(connection.as_str()), "made by connectionIdentifier");
    ds
}

fn ds_name(name: &str) -> String {
    format!("prod-eks-team-sales-{name}")
}

#[tokio::test]
async fn a_v2_data_product_publishes_through_one_shared_connection() {
    let h = v2();
    let mut p = h.product("orders", |_| {});
    let ds = through_the_connection(&h, &mut p, true).await;
    assert_eq!(ds_name("orders"), DATA_SOURCE);

    h.dz.world().edit(&ds, |d| d.status = DataSourceStatus::Ready);
    let pass = h.pass(&mut p).await;
    assert_eq!(pass.calls, ["ListDataSources".to_string(), format!("StartDataSourceRun {ds}")]);
    let run = status(&p).last_run.expect("a run").id;
    h.dz.world().finish_run(&run, RunStatus::Success, &[("orders", "SUCCEEDED_CREATED")]);
    let pass = h.pass(&mut p).await;
    assert_eq!(pass.events, strings(&["RunSucceeded", "Ready"]));
    assert_eq!(condition(&p, READY), is(True, "Published"));
    assert_eq!(condition(&p, PUBLISHED), is(True, "Published"));
    assert_eq!(condition(&p, BLUEPRINT_ENABLED), None, "V1's phases are not shown in a V2 domain");
    assert_eq!(condition(&p, ENVIRONMENT_READY), None);

    // A second data product of the same cluster and database shares the connection.
    let mut q = h.product("customers", |q| q["spec"]["schemas"] = json!([{"name": "public", "tables": ["customers"]}]));
    let pass = h.pass(&mut q).await;
    assert_eq!(pass.calls, [format!("CreateDataSource {}", ds_name("customers"))], "the cached connection");
    assert_eq!(status(&q).connection_id, status(&p).connection_id);
    assert_eq!(h.dz.world().connections.len(), 1, "one connection per (cluster, database)");
    assert!(h.dz.take_calls().is_empty());
}

#[tokio::test]
async fn lineage_is_set_on_the_connection_and_left_alone_when_data_products_disagree() {
    let h = v2();
    let mut p = h.product("orders", with_lineage(true, Some("cron(0 3 * * ? *)")));
    through_the_connection(&h, &mut p, true).await;
    let wanted = Lineage { enabled: true, schedule: Some("cron(0 3 * * ? *)".into()) };
    assert_eq!(h.dz.world().connections[0].info.lineage, Some(wanted.clone()), "made with the lineage asked for");

    // Turned off in the spec: the connection follows.
    let mut p2 = h.product("orders", with_lineage(false, None));
    p2.status = p.status.clone();
    p2.metadata.generation = Some(2);
    let pass = h.pass(&mut p2).await;
    let connection = status(&p2).connection_id.expect("connection");
    assert_eq!(
        pass.calls,
        ["ListDataSources".to_string(), format!("UpdateConnection {connection}")],
        "its data source followed in the listing; the cached connection set to the spec"
    );
    assert_eq!(pass.events, strings(&["ConnectionLineageSet"]));
    assert_eq!(h.dz.world().connections[0].info.lineage, Some(Lineage { enabled: false, schedule: None }));

    // Another data product of the connection asks for lineage on: both are told, nothing flips.
    let mut q = h.product("customers", with_lineage(true, None));
    let pass = h.pass(&mut q).await;
    assert!(!pass.calls.iter().any(|c| c.starts_with("UpdateConnection")), "{:?}", pass.calls);
    assert_eq!(condition(&q, CONNECTION_READY), is(False, "LineageConflict"));
    assert!(message(&q, CONNECTION_READY).contains("team-sales/orders"), "{}", message(&q, CONNECTION_READY));
    assert_eq!(condition(&q, STALLED).map(|c| c.0), Some(True));
    let pass = h.pass(&mut p2).await;
    assert!(!pass.calls.iter().any(|c| c.starts_with("UpdateConnection")), "{:?}", pass.calls);
    assert_eq!(condition(&p2, CONNECTION_READY), is(False, "LineageConflict"));
    assert_eq!(h.dz.world().connections[0].info.lineage, Some(Lineage { enabled: false, schedule: None }));
}

#[tokio::test]
async fn lineage_in_a_v1_domain_is_refused_with_a_clear_condition() {
    let h = Harness::new();
    let mut p = h.product("orders", with_lineage(true, None));
    let pass = h.pass(&mut p).await;
    assert_eq!(condition(&p, CONNECTION_RESOLVED), is(False, "LineageNeedsV2Domain"));
    assert!(message(&p, CONNECTION_RESOLVED).contains("is V1"), "{}", message(&p, CONNECTION_RESOLVED));
    assert_eq!(condition(&p, STALLED).map(|c| c.0), Some(True));
    assert!(!pass.calls.iter().any(|c| c.contains("Blueprint") || c.contains("Create")), "{:?}", pass.calls);
}

#[tokio::test]
async fn a_v2_project_without_a_tooling_environment_stalls_and_a_foreign_connection_is_left_alone() {
    let h = v2();
    h.dz.world().project_environment = None;
    let mut p = h.product("orders", |_| {});
    h.pass(&mut p).await;
    assert_eq!(condition(&p, CONNECTION_READY), is(False, "ProjectEnvironmentMissing"));
    assert_eq!(condition(&p, DATA_SOURCE_READY), None);

    let h = v2();
    let mut p = h.product("orders", |_| {});
    through_the_connection(&h, &mut p, true).await;
    let h2 = v2();
    {
        let mut foreign = h.dz.world().connections[0].clone();
        foreign.info.description = Some("made by hand".into());
        h2.dz.world().connections.push(foreign);
    }
    let mut q = h2.product("orders", |_| {});
    let pass = h2.pass(&mut q).await;
    assert_eq!(condition(&q, CONNECTION_READY), is(False, "ConnectionNameTaken"));
    assert!(!pass.calls.iter().any(|c| c.starts_with("Create") || c.starts_with("Update")), "{:?}", pass.calls);
}
