//! Sessions by tenancy: the data products of one namespace share one assumed-role session per
//! connection, whatever their number, and the session goes with the last of them.

use serde_json::json;

use super::{Harness, NS, condition, is, message, strings};
use crate::controller::decide::pass::uid;
use crate::crd::conditions::{CONNECTION_RESOLVED, ConditionStatus::False, ConditionStatus::True, STALLED};

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

#[tokio::test]
async fn a_connection_s_rules_refuse_what_they_do_not_allow_before_any_call() {
    let h = Harness::new().with_allowed(json!([{
        "projects": ["sales"], "clusters": ["prod-dwh"], "databases": ["sales"],
        "credentialsSecretArns": ["arn:aws:secretsmanager:eu-central-1:222222222222:secret:dz-redshift-*"]
    }]));
    let refused = [
        ("project", json!({"project": "marketing"}), "project marketing is not one of sales"),
        ("cluster", json!({"redshift": {"clusterName": "other-dwh"}}), "cluster other-dwh is not one of prod-dwh"),
        ("database", json!({"redshift": {"database": "hr"}}), "database hr is not one of sales"),
        (
            "secret",
            json!({"redshift": {"credentialsSecretArn": "arn:aws:secretsmanager:eu-central-1:222222222222:secret:hr-XyZ"}}),
            "credentials secret arn:aws:secretsmanager:eu-central-1:222222222222:secret:hr-XyZ matches none of",
        ),
    ];
    for (what, change, reason) in refused {
        let mut p = h.product(&format!("refused-{what}"), |p| {
            for (key, value) in change.as_object().unwrap() {
                match value.as_object() {
                    Some(fields) => fields.iter().for_each(|(k, v)| p["spec"][key][k] = v.clone()),
                    None => p["spec"][key] = value.clone(),
                }
            }
        });
        let pass = h.pass(&mut p).await;
        assert!(pass.calls.is_empty(), "{what}: refused before any call: {:?}", pass.calls);
        assert_eq!(condition(&p, CONNECTION_RESOLVED), is(False, "NotAllowed"), "{what}");
        let said = message(&p, CONNECTION_RESOLVED);
        assert!(said.contains(reason) && said.contains("DataZoneConnection central"), "{what}: {said}");
        assert_eq!(condition(&p, STALLED).map(|c| c.0), Some(True), "{what}: a person must act");
    }
    let mut allowed = h.product("allowed", |_| {});
    let pass = h.pass(&mut allowed).await;
    assert!(!pass.calls.is_empty(), "an allowed data product goes on");
    let key = crate::controller::connection::guardrails::connection_key("DataZoneConnection", Some(NS), "central");
    assert_eq!(h.ctx.shared.users.counts(&key), (5, 4), "the connection's status counts them");
}
