//! The access policy (`spec.access`): the subscription requests to the resource's listings are
//! answered by the first rule naming the requesting project, with a comment naming the rule and
//! the resource; the rest wait for a person; nothing is decided twice; a connection that does
//! not allow the policy's approvals stops all of it.

use std::time::Duration;

use serde_json::json;

use super::business::first_run;
use super::{Harness, condition, is, message, strings};
use crate::crd::RedshiftDataProduct;
use crate::crd::conditions::{ACCESS_APPLIED, ConditionStatus::False, ConditionStatus::True};

const RESYNC: Duration = Duration::from_millis(20);

/// A data product of the reference shape as one DataZone data product, with a policy: analytics
/// approved, external partners rejected, anyone else left to a person.
fn with_policy(v: &mut serde_json::Value) {
    v["spec"]["dataProduct"] = json!({});
    v["spec"]["access"] = json!({"rules": [
        {"name": "analytics", "projects": ["analytics"], "decision": "Approve"},
        {"name": "partners-out", "projects": ["external-partners"], "decision": "Reject",
         "reason": "partners get data through the sharing agreement"},
    ]});
}

/// Published, its data product listed: the data product's ID.
async fn listed(h: &Harness, p: &mut RedshiftDataProduct) -> String {
    first_run(h, p).await;
    h.pass(p).await;
    let status = p.status.clone().unwrap_or_default();
    status.data_products.first().and_then(|d| d.id.clone()).expect("the data product is made")
}

fn decisions(calls: &[String]) -> Vec<String> {
    let ops = ["AcceptSubscriptionRequest", "RejectSubscriptionRequest"];
    calls.iter().filter(|c| ops.contains(&c.split(' ').next().unwrap_or_default())).cloned().collect()
}

#[tokio::test(start_paused = true)]
async fn requests_are_answered_by_the_first_rule_naming_the_project_and_the_rest_wait_for_a_person() {
    let h = Harness::paused(RESYNC).with_auto_approval(json!([{"projects": ["analytics"]}]));
    let mut p = h.product("orders", with_policy);
    let product = listed(&h, &mut p).await;
    let (approved, rejected, waiting) = {
        let mut w = h.dz.world();
        let s = &mut w.catalog_state.subscriptions;
        // The data product's listing, and one asset's own listing.
        (
            s.file(&product, "prj_analytics", "analytics"),
            s.file("asset-orders", "prj_ext", "external-partners"),
            s.file(&product, "prj_mkt", "marketing"),
        )
    };
    // Another producer's listing is none of this resource's business.
    h.dz.world().catalog_state.subscriptions.file("asset-elsewhere", "prj_analytics", "analytics");
    tokio::time::sleep(RESYNC).await;
    let pass = h.pass(&mut p).await;
    assert_eq!(
        decisions(&pass.calls),
        [format!("AcceptSubscriptionRequest {approved}"), format!("RejectSubscriptionRequest {rejected}")]
    );
    let subscriptions = h.dz.world().catalog_state.subscriptions.clone();
    assert_eq!(
        subscriptions.comments.get(&approved).map(String::as_str),
        Some("Approved by access rule analytics of RedshiftDataProduct team-sales/orders (datazone-operator)")
    );
    assert_eq!(
        subscriptions.comments.get(&rejected).map(String::as_str),
        Some(
            "Rejected by access rule partners-out of RedshiftDataProduct team-sales/orders (datazone-operator): partners get data through the sharing agreement"
        )
    );
    assert!(!subscriptions.comments.contains_key(&waiting), "no rule names marketing: a person decides");
    for event in ["SubscriptionApproved", "SubscriptionRejected"] {
        assert!(pass.events.contains(&event.to_string()), "{event}: {:?}", pass.events);
    }

    // The next resync shows what came of it.
    tokio::time::sleep(RESYNC).await;
    let pass = h.pass(&mut p).await;
    assert_eq!(decisions(&pass.calls), strings(&[]), "nothing is decided twice");
    let access = p.status.clone().unwrap_or_default().access.expect("status.access");
    assert_eq!(
        (access.subscribers, access.subscribing_projects.clone(), access.waiting, access.approved, access.rejected),
        (1, strings(&["analytics"]), 1, 1, 1)
    );
    assert_eq!(condition(&p, ACCESS_APPLIED), is(True, "Applied"));
    assert_eq!(message(&p, ACCESS_APPLIED), "2 access rules: 1 subscribing project, 1 request waiting for a person");

    // A restarted operator lists again: only the request for a person is still PENDING.
    let restarted = h.restarted().with_auto_approval(json!([{"projects": ["analytics"]}]));
    let mut calls = Vec::new();
    for _ in 0..3 {
        calls.extend(restarted.pass(&mut p).await.calls);
        tokio::time::sleep(RESYNC).await;
    }
    assert!(calls.contains(&"ListSubscriptionRequests prj_sales".to_string()), "{calls:?}");
    assert_eq!(decisions(&calls), strings(&[]), "a restart decides nothing twice");
}

#[tokio::test(start_paused = true)]
async fn a_connection_that_does_not_allow_the_approvals_stops_the_policy_and_nothing_is_decided() {
    // Allowed for analytics only in another team's namespaces.
    let h = Harness::paused(RESYNC).with_auto_approval(json!([
        {"namespaceSelector": {"matchLabels": {"team": "marketing"}}, "projects": ["analytics"]}
    ]));
    let mut p = h.product("orders", with_policy);
    let product = listed(&h, &mut p).await;
    h.dz.world().catalog_state.subscriptions.file(&product, "prj_analytics", "analytics");
    h.dz.world().catalog_state.subscriptions.file("asset-orders", "prj_ext", "external-partners");
    tokio::time::sleep(RESYNC).await;
    let pass = h.pass(&mut p).await;
    assert!(!pass.calls.iter().any(|c| c.contains("Subscription")), "not even looked: {:?}", pass.calls);
    assert_eq!(condition(&p, ACCESS_APPLIED), is(False, "ApprovalNotAllowed"));
    assert_eq!(
        message(&p, ACCESS_APPLIED),
        "DataZoneConnection central: access rule analytics approves analytics, but the connection allows no auto-approval for this namespace; nothing is decided, every request waits for a person"
    );
}

#[tokio::test(start_paused = true)]
async fn without_a_policy_no_request_is_looked_at() {
    let h = Harness::paused(RESYNC);
    let mut p = h.product("orders", |v| v["spec"]["dataProduct"] = json!({}));
    let product = listed(&h, &mut p).await;
    h.dz.world().catalog_state.subscriptions.file(&product, "prj_analytics", "analytics");
    tokio::time::sleep(RESYNC).await;
    let pass = h.pass(&mut p).await;
    assert!(!pass.calls.iter().any(|c| c.contains("Subscription")), "{:?}", pass.calls);
    assert_eq!(condition(&p, ACCESS_APPLIED), is(True, "NotDeclared"));
    assert_eq!(p.status.clone().unwrap_or_default().access, None);
}
