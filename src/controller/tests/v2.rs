//! Second-generation (V2) domains: the data source is made through a shared Redshift
//! connection in the project's Tooling environment; no blueprint, profile or environment is
//! made. The connection's secret and lineage follow what its data products agree on; lineage is
//! refused in a V1 domain.

use kube::runtime::controller::Action;
use serde_json::json;

use super::{Harness, condition, is, message, strings};
use crate::controller::decide::desired::connection_name;
use crate::crd::RedshiftDataProduct;
use crate::crd::conditions::{
    BLUEPRINT_ENABLED, CONNECTION_READY, CONNECTION_RESOLVED, ConditionStatus::False, ConditionStatus::True,
    DATA_SOURCE_READY, ENVIRONMENT_READY, PUBLISHED, READY, RECONCILING, STALLED,
};
use crate::datazone::fake::TOOLING;
use crate::datazone::{DataSourceStatus, Generation, Lineage, RunStatus, Storage};

const OTHER_SECRET: &str = "arn:aws:secretsmanager:eu-central-1:222222222222:secret:dz-rotated-XyZaBc";

fn v2() -> Harness {
    let h = Harness::new();
    h.dz.world().generation = Generation::V2;
    h
}

fn name() -> String {
    connection_name("222222222222", "eu-central-1", &Storage::Cluster("prod-dwh".into()), "sales")
}

fn with_lineage(enabled: bool, schedule: Option<&str>) -> impl FnOnce(&mut serde_json::Value) {
    move |p| p["spec"]["lineage"] = json!({"enabled": enabled, "schedule": schedule})
}

fn status(p: &RedshiftDataProduct) -> crate::crd::RedshiftDataProductStatus {
    p.status.clone().unwrap_or_default()
}

fn ds_name(name: &str) -> String {
    format!("prod-eks-team-sales-{name}")
}

/// Applies `p` again with `edit`, as a spec change (next generation) keeping its status.
fn edited(h: &Harness, p: &RedshiftDataProduct, edit: impl FnOnce(&mut serde_json::Value)) -> RedshiftDataProduct {
    let mut next = h.product(p.metadata.name.as_deref().unwrap_or_default(), edit);
    next.status = p.status.clone();
    next.metadata.generation = p.metadata.generation.map(|g| g + 1);
    next
}

/// Walks the first data product of a V2 domain until its data source is made through the
/// connection it made; returns the data source's ID.
async fn through_a_new_connection(h: &Harness, p: &mut RedshiftDataProduct) -> String {
    let pass = h.pass(p).await;
    assert_eq!(
        pass.calls,
        strings(&[
            "AssumeRole arn:aws:iam::111111111111:role/dz-registration",
            "ListDomains",
            "ListProjects sales",
            "GetCallerIdentity",
            &format!("ListConnections {}", name()),
            "ListEnvironments",
            &format!("CreateConnection {}", name()),
        ]),
        "the domain's generation comes with its listing; no blueprint, profile or environment call"
    );
    assert_eq!(pass.events, strings(&["ConnectionCreated"]));
    assert_eq!(pass.requeue(), Action::requeue(std::time::Duration::from_millis(200)));
    assert_eq!(condition(p, CONNECTION_READY), is(False, "Created"));
    let s = status(p);
    assert_eq!(s.domain_version.as_deref(), Some("V2"));
    assert_eq!(s.environment_id.as_deref(), Some(TOOLING), "the project's environment the connection is in");
    assert!(message(p, CONNECTION_RESOLVED).contains("(V2)"), "{}", message(p, CONNECTION_RESOLVED));
    through_the_connection(h, p).await
}

/// One pass making `p`'s data source through the (cached) connection.
async fn through_the_connection(h: &Harness, p: &mut RedshiftDataProduct) -> String {
    let pass = h.pass(p).await;
    let product = p.metadata.name.clone().unwrap_or_default();
    assert_eq!(pass.calls, [format!("CreateDataSource {}", ds_name(&product))], "the cached connection");
    assert_eq!(condition(p, CONNECTION_READY).map(|c| c.0), Some(True));
    let connection = h.dz.world().connections[0].info.id.clone();
    assert_eq!(status(p).connection_id.as_deref(), Some(connection.as_str()), "status names the connection");
    let ds = status(p).data_source_id.expect("data source in status");
    let world = h.dz.world();
    let made = world.data_sources.iter().find(|d| d.info.id == ds).expect("made");
    assert_eq!(made.info.connection_id.as_deref(), Some(connection.as_str()), "made by connectionIdentifier");
    ds
}

/// Runs `p`'s data source once to the end.
async fn published(h: &Harness, p: &mut RedshiftDataProduct, ds: &str) {
    h.dz.world().edit(ds, |d| d.status = DataSourceStatus::Ready);
    let pass = h.pass(p).await;
    assert!(pass.calls.contains(&format!("StartDataSourceRun {ds}")), "{:?}", pass.calls);
    let run = status(p).last_run.expect("a run").id;
    h.dz.world().finish_run(&run, RunStatus::Success, &[("orders", "SUCCEEDED_CREATED")]);
    h.pass(p).await;
    assert_eq!(condition(p, READY), is(True, "Published"), "{}", message(p, READY));
}

#[tokio::test]
async fn a_v2_data_product_publishes_through_one_shared_connection() {
    let h = v2();
    let mut p = h.product("orders", |_| {});
    let ds = through_a_new_connection(&h, &mut p).await;
    published(&h, &mut p, &ds).await;
    assert_eq!(condition(&p, PUBLISHED), is(True, "Published"));
    assert_eq!(condition(&p, BLUEPRINT_ENABLED), None, "V1's phases are not shown in a V2 domain");
    assert_eq!(condition(&p, ENVIRONMENT_READY), None);

    // A second data product of the same cluster and database shares the connection.
    let mut q = h.product("customers", |q| q["spec"]["schemas"] = json!([{"name": "public", "tables": ["customers"]}]));
    through_the_connection(&h, &mut q).await;
    assert_eq!(h.dz.world().connections.len(), 1, "one connection per (cluster, database)");

    // An UPDATING connection stays usable: a settled data product is not held back.
    h.dz.world().connections[0].info.status = Some("UPDATING".into());
    h.ctx.shared.connections.forget(&crate::controller::fleet::keys::RedshiftConnectionKey {
        domain: "dzd_fake".into(),
        project: "prj_sales".into(),
        name: name(),
    });
    h.pass(&mut p).await;
    assert_eq!(condition(&p, READY), is(True, "Published"), "{}", message(&p, READY));
}

#[tokio::test]
async fn lineage_follows_the_spec_unless_the_connection_s_data_products_disagree() {
    let h = v2();
    let mut p = h.product("orders", with_lineage(true, Some("cron(0 3 * * ? *)")));
    let ds = through_a_new_connection(&h, &mut p).await;
    let nightly = Lineage { enabled: true, schedule: Some("cron(0 3 * * ? *)".into()) };
    assert_eq!(h.dz.world().connections[0].info.lineage, Some(nightly), "made with the lineage asked for");
    published(&h, &mut p, &ds).await;

    // Turned off in the spec: the connection follows.
    let mut p = edited(&h, &p, with_lineage(false, None));
    let pass = h.pass(&mut p).await;
    let connection = status(&p).connection_id.expect("connection");
    assert!(pass.calls.contains(&format!("UpdateConnection {connection}")), "{:?}", pass.calls);
    // The spec changed: Ready for the new generation waits for the pass that sees it all through.
    assert_eq!(pass.events, strings(&["ConnectionUpdated", "ReadyFalse"]));
    let off = Some(Lineage { enabled: false, schedule: None });
    assert_eq!(h.dz.world().connections[0].info.lineage, off);

    // Another data product of the connection asks for lineage on: neither is set back and forth,
    // both are told, and both publish.
    let mut q = h.product("customers", with_lineage(true, None));
    let pass = h.pass(&mut q).await;
    assert_eq!(pass.calls, [format!("CreateDataSource {}", ds_name("customers"))]);
    assert_eq!(condition(&q, CONNECTION_READY), is(True, "LineageConflict"));
    assert!(message(&q, CONNECTION_READY).contains("team-sales/orders"), "{}", message(&q, CONNECTION_READY));
    let pass = h.pass(&mut p).await;
    assert!(!pass.calls.iter().any(|c| c.starts_with("UpdateConnection")), "{:?}", pass.calls);
    assert_eq!(condition(&p, CONNECTION_READY), is(True, "LineageConflict"));
    assert_eq!(condition(&p, STALLED), None);
    assert_eq!(h.dz.world().connections[0].info.lineage, off);

    // Without an opinion on lineage, the connection is left as it is and nobody disagrees.
    let mut p = edited(&h, &p, |p| p["spec"]["lineage"] = serde_json::Value::Null);
    let pass = h.pass(&mut p).await;
    assert!(!pass.calls.iter().any(|c| c.starts_with("UpdateConnection")), "{:?}", pass.calls);
    let pass = h.pass(&mut q).await;
    assert!(pass.calls.contains(&format!("UpdateConnection {connection}")), "now they agree: {:?}", pass.calls);
}

#[tokio::test]
async fn a_new_secret_moves_the_connection_when_its_data_products_agree_and_waits_when_not() {
    let h = v2();
    let mut p = h.product("orders", |_| {});
    let ds = through_a_new_connection(&h, &mut p).await;
    published(&h, &mut p, &ds).await;
    let mut q = h.product("customers", |q| q["spec"]["schemas"] = json!([{"name": "public", "tables": ["customers"]}]));
    through_the_connection(&h, &mut q).await;

    // One of two rotates its secret: it waits for the other, nothing is changed, nothing stalls.
    let rotate = |p: &mut serde_json::Value| p["spec"]["redshift"]["credentialsSecretArn"] = json!(OTHER_SECRET);
    let mut p = edited(&h, &p, rotate);
    let pass = h.pass(&mut p).await;
    assert!(!pass.calls.iter().any(|c| c.starts_with("Update")), "{:?}", pass.calls);
    assert_eq!(condition(&p, CONNECTION_READY), is(False, "SecretConflict"));
    assert!(message(&p, CONNECTION_READY).contains("team-sales/customers"), "{}", message(&p, CONNECTION_READY));
    assert_eq!((condition(&p, RECONCILING).map(|c| c.0), condition(&p, STALLED)), (Some(True), None));

    // The other follows: the connection, then each data source, move to the new secret.
    let mut q = edited(&h, &q, rotate);
    let pass = h.pass(&mut q).await;
    let connection = status(&q).connection_id.expect("connection");
    assert!(pass.calls.contains(&format!("UpdateConnection {connection}")), "{:?}", pass.calls);
    assert_eq!(h.dz.world().connections[0].info.secret_arn.as_deref(), Some(OTHER_SECRET));
    let pass = h.pass(&mut p).await;
    assert!(pass.calls.contains(&format!("UpdateDataSource {ds}")), "{:?}", pass.calls);
    assert_eq!(status(&p).connection_id.as_deref(), Some(connection.as_str()), "the same connection");
    assert_eq!(h.dz.world().connections.len(), 1);
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
    through_a_new_connection(&h, &mut p).await;
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

#[tokio::test]
async fn a_data_source_adopted_with_a_connection_of_its_own_keeps_it_and_no_connection_is_made() {
    use crate::datazone::fake::{PROJECT, Source, made_elsewhere};
    let h = v2();
    let cluster = Storage::Cluster("prod-dwh".into());
    let mut portal = made_elsewhere("ds-portal", PROJECT, "REDSHIFT", cluster, "sales", Some("made in the portal"));
    portal.connection_id = Some("conn-portal".into());
    let source = Source { info: portal, project: PROJECT.into(), token: "portal".into(), last_run: None, listed: true };
    h.dz.world().data_sources.push(source);
    let mut p = h.product("orders", |o| {
        o["spec"]["adopt"] = json!({"dataSourceId": "ds-portal"});
        o["spec"]["deletionPolicy"] = json!("Retain");
    });
    let made = |calls: &[String]| -> Vec<String> {
        calls.iter().filter(|c| c.starts_with("Create") || c.starts_with("Update")).cloned().collect()
    };
    let pass = h.pass(&mut p).await;
    assert_eq!(made(&pass.calls), ["UpdateDataSource ds-portal"], "{:?}", pass.calls);
    assert_eq!(status(&p).connection_id.as_deref(), Some("conn-portal"), "its own connection, in status");
    h.dz.world().edit("ds-portal", |d| d.status = DataSourceStatus::Ready);
    for _ in 0..3 {
        let pass = h.pass(&mut p).await;
        assert!(!pass.calls.iter().any(|c| c.starts_with("Create")), "{:?}", pass.calls);
    }
    assert_eq!(status(&p).data_source_id.as_deref(), Some("ds-portal"));
    assert_eq!(condition(&p, CONNECTION_READY).map(|c| c.0), Some(True), "{}", message(&p, CONNECTION_READY));
    let world = h.dz.world();
    assert!(world.connections.is_empty(), "no connection of the operator's");
    assert_eq!(world.data_sources.len(), 1, "no second data source");
}
