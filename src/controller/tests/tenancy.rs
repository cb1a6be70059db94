//! Sessions by tenancy: the data products of one namespace share one assumed-role session per
//! connection, whatever their number, and the session goes with the last of them.

use super::{Harness, strings};
use crate::controller::pass::uid;

#[tokio::test]
async fn the_data_products_of_a_namespace_share_one_session() {
    let h = Harness::new();
    let mut products: Vec<_> = (0..100).map(|i| h.product(&format!("p{i:03}"), |_| {})).collect();
    let mut assumed = 0;
    for p in &mut products {
        let pass = h.pass(p).await;
        assumed += pass.calls.iter().filter(|c| c.starts_with("AssumeRole")).count();
    }
    assert_eq!(assumed, 1, "one role check for a hundred data products of one namespace");
    assert_eq!(h.dz.world().sessions.len(), 1);
    assert_eq!(h.ctx.sessions.len(), 1);
    let message = super::message(&products[7], crate::crd::conditions::CONNECTION_RESOLVED);
    assert!(message.contains("assumed-role/dz-registration/team-sales.central"), "{message}");

    // Deleting all but one keeps it; the last one takes it along.
    let last = products.pop().expect("a hundred");
    for p in &products {
        assert!(h.ctx.sessions.left(&uid(p)).is_empty());
    }
    let mut last = last;
    last.spec.deletion_policy = crate::crd::DeletionPolicy::Retain;
    last.metadata.deletion_timestamp =
        Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(jiff::Timestamp::now()));
    let pass = h.pass(&mut last).await;
    assert_eq!(pass.events, strings(&["Retained"]));
    assert!(h.dz.world().sessions.is_empty(), "the session is dropped with its last data product");
    assert!(h.ctx.sessions.is_empty());
}

#[tokio::test]
async fn connection_resolved_names_the_session_of_the_connection_the_data_product_uses() {
    let h = Harness::new().with_cluster_connection(Some(serde_json::json!({"team": "sales"})));
    let mut central = h.product("by-central", |_| {});
    let mut shared = h.product("by-corp-mesh", |p| {
        p["spec"]["connectionRef"] = serde_json::json!({"kind": "ClusterDataZoneConnection", "name": "corp-mesh"});
    });
    h.pass(&mut central).await;
    h.pass(&mut shared).await;
    let resolved = |p| super::message(p, crate::crd::conditions::CONNECTION_RESOLVED);
    assert!(resolved(&central).contains("/team-sales.central"), "{}", resolved(&central));
    assert!(resolved(&shared).contains("/team-sales.corp-mesh"), "{}", resolved(&shared));
}
