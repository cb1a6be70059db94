//! DataZoneSubscription: one request per object (a restart, a lost status or a request a person
//! filed make no second one), followed to approval and grants; rejected, revoked and failed are
//! Stalled with what happened, pending and granting are Reconciling, granted is Ready; nothing
//! is filed again until the spec or the annotation asks; deleting cancels (or keeps).

use std::sync::Arc;

use serde_json::json;

use super::{Harness, NS, RESYNC, requeue_after, strings};
use crate::controller::decide::pass::FINALIZER;
use crate::controller::fleet::keys::ProjectKey;
use crate::controller::subscription;
use crate::crd::DataZoneSubscription;
use crate::crd::conditions::{self, ConditionStatus, READY};
use crate::datazone::ListingKind;
use crate::datazone::fake::PROJECT;

const CONSUMER: &str = "prj_analytics";

fn path() -> String {
    format!("/apis/dataproducts.dev/v1alpha1/namespaces/{NS}/datazonesubscriptions/orders-for-reports")
}

/// The analytics team's subscription to team sales' data product `sales-orders`, with the
/// finalizer; `edit` changes its JSON first.
fn subscription(h: &Harness, edit: impl FnOnce(&mut serde_json::Value)) -> DataZoneSubscription {
    let mut object = json!({
        "apiVersion": "dataproducts.dev/v1alpha1", "kind": "DataZoneSubscription",
        "metadata": {"name": "orders-for-reports", "namespace": NS, "uid": "uid-sub", "generation": 1,
                     "finalizers": [FINALIZER]},
        "spec": {
            "connectionRef": {"kind": "DataZoneConnection", "name": "central"},
            "project": "analytics",
            "wanted": {"dataProduct": {"name": "sales-orders", "project": "sales"}},
            "reason": "Monthly revenue reports",
        }
    });
    edit(&mut object);
    h.api.put(&path(), object.clone());
    serde_json::from_value(object).expect("a valid subscription")
}

/// A harness where project analytics exists and team sales published `sales-orders`; its
/// listing ID.
fn world() -> (Harness, String) {
    let h = Harness::new();
    let listing = {
        let mut w = h.dz.world();
        w.projects.insert("analytics".into(), CONSUMER.into());
        w.catalog_state.subscriptions.publish(ListingKind::DataProduct, "sales-orders", PROJECT)
    };
    (h, listing)
}

struct Pass {
    calls: Vec<String>,
    events: Vec<String>,
    requeue: Option<std::time::Duration>,
    finalizer_removed: bool,
    wrote_status: bool,
}

async fn pass(h: &Harness, s: &mut DataZoneSubscription) -> Pass {
    let result = subscription::reconcile::reconcile(Arc::new(s.clone()), h.ctx.clone()).await;
    let mut events = Vec::new();
    let mut finalizer_removed = false;
    let mut wrote_status = false;
    for r in h.api.take() {
        if r.path.contains("/events") {
            events.extend(r.body["reason"].as_str().map(str::to_string));
        } else if r.method == "PATCH" && r.path.ends_with("/status") {
            wrote_status = true;
            s.status = serde_json::from_value(r.body["status"].clone()).expect("a status the CRD accepts");
        } else if r.method == "PATCH" && r.body.to_string().contains("remove") {
            finalizer_removed = true;
        }
    }
    let requeue = result.as_ref().ok().and_then(requeue_after);
    Pass { calls: h.dz.take_calls(), events, requeue, finalizer_removed, wrote_status }
}

/// `(status, reason)` of the condition.
fn cond(s: &DataZoneSubscription, type_: &str) -> Option<(ConditionStatus, String)> {
    let c = conditions::find(&s.status.as_ref()?.conditions, type_)?;
    Some((c.status, c.reason.clone()))
}

fn is(status: ConditionStatus, reason: &str) -> Option<(ConditionStatus, String)> {
    Some((status, reason.to_string()))
}

fn ready_message(s: &DataZoneSubscription) -> String {
    s.status
        .as_ref()
        .and_then(|x| conditions::find(&x.conditions, READY))
        .map(|c| c.message.clone())
        .unwrap_or_default()
}

fn request_id(s: &DataZoneSubscription) -> String {
    s.status.as_ref().and_then(|x| x.request.as_ref()).map(|r| r.id.clone()).unwrap_or_default()
}

fn filed(calls: &[String]) -> usize {
    calls.iter().filter(|c| c.starts_with("CreateSubscriptionRequest")).count()
}

/// The owner decides; the project's listing of pending requests a pass takes at its word (at
/// most a tenth of a resync old) is out of date from then on, as time would make it.
fn decide(h: &Harness, request: &str, to: &str, comment: &str) {
    let op = if to == "ACCEPTED" { "AcceptSubscriptionRequest" } else { "RejectSubscriptionRequest" };
    h.dz.world().catalog_state.subscriptions.decide(op, request, comment, to).expect("decided");
    let key = ProjectKey { domain: crate::datazone::fake::DOMAIN.into(), project: CONSUMER.into() };
    h.ctx.shared.pending_requests.forget(&key);
}

fn subscription_id(h: &Harness, request: &str) -> String {
    h.dz.world().catalog_state.subscriptions.subscription_of_request(request).map(|s| s.id.clone()).unwrap_or_default()
}

use ConditionStatus::{False, True};

#[tokio::test]
async fn a_data_product_is_requested_once_approved_and_granted() {
    let (h, listing) = world();
    let mut s = subscription(&h, |_| {});
    let first = pass(&h, &mut s).await;
    assert_eq!(
        first.calls[2..],
        strings(&[
            "ListProjects analytics",
            "ListProjects sales",
            "SearchListings sales-orders",
            &format!("CreateSubscriptionRequest {listing}")
        ]),
        "{:?}",
        first.calls
    );
    let request = request_id(&s);
    assert_eq!(first.events, ["SubscriptionRequested"]);
    assert_eq!(cond(&s, READY), is(False, "AwaitingApproval"));
    assert_eq!(cond(&s, "Reconciling"), is(True, "AwaitingApproval"), "kstatus InProgress, Argo CD Progressing");
    assert_eq!(cond(&s, "Requested"), is(True, "Filed"));
    assert_eq!(cond(&s, "Approved"), is(False, "Pending"));
    let status = s.status.clone().unwrap_or_default();
    assert_eq!(status.wanted.as_deref(), Some("data product sales-orders of sales"));
    assert_eq!((status.listing_id.as_deref(), status.project_id.as_deref()), (Some(listing.as_str()), Some(CONSUMER)));
    assert!(first.requeue.is_some_and(|d| d < RESYNC), "a pending request is looked at soon: {:?}", first.requeue);

    // Two restarts later: the same request is followed (in the project's listing of pending
    // requests), none filed.
    for _ in 0..2 {
        let h2 = h.restarted();
        h2.api.put(&path(), serde_json::to_value(&s).unwrap());
        let again = pass(&h2, &mut s).await;
        assert_eq!(filed(&again.calls), 0, "{:?}", again.calls);
        assert!(again.calls.contains(&format!("ListSubscriptionRequests {CONSUMER}")), "{:?}", again.calls);
        assert!(!again.calls.iter().any(|c| c.starts_with("GetSubscriptionRequestDetails")), "{:?}", again.calls);
    }

    decide(&h, &request, "ACCEPTED", "Approved by access rule analytics");
    let sub = subscription_id(&h, &request);
    h.dz.world().catalog_state.subscriptions.grant(&sub, "target-dwh", &["a1", "a2", "a3"], "IN_PROGRESS");
    let granting = pass(&h, &mut s).await;
    assert_eq!(granting.events, ["SubscriptionApproved"]);
    assert_eq!(cond(&s, "Approved"), is(True, "Accepted"));
    assert_eq!(cond(&s, "Granted"), is(False, "Granting"));
    assert_eq!(cond(&s, READY), is(False, "Granting"));
    assert_eq!(s.status.as_ref().and_then(|x| x.grant_summary.clone()).as_deref(), Some("0/3 granted"));

    h.dz.world().catalog_state.subscriptions.grant(&sub, "target-dwh", &["a1", "a2", "a3"], "COMPLETED");
    let granted = pass(&h, &mut s).await;
    assert_eq!(granted.events, ["SubscriptionGranted"]);
    assert_eq!(cond(&s, READY), is(True, "Granted"));
    assert_eq!(cond(&s, "Reconciling"), None);
    let status = s.status.clone().unwrap_or_default();
    assert_eq!(status.grant_summary.as_deref(), Some("3/3 granted"));
    assert_eq!(status.grants.len(), 3);
    assert!(status.grants.iter().all(|g| g.target_id == "target-dwh" && g.asset_status == "GRANTED"));
    assert_eq!(
        status.subscription.as_ref().map(|x| (x.id.as_str(), x.state.as_str())),
        Some((sub.as_str(), "APPROVED"))
    );
    let low = RESYNC.mul_f64(0.75);
    assert!(granted.requeue.is_some_and(|d| d >= low), "granted: the resync: {:?}", granted.requeue);

    // Settled: a resync finds it in the project's listing of approved subscriptions, and reads
    // nothing of its own; nothing else changes.
    let settled = pass(&h, &mut s).await;
    assert_eq!(settled.calls, strings(&[&format!("ListSubscriptions {CONSUMER}")]), "one listing for the project");
    assert!(settled.events.is_empty());
    assert!(!settled.wrote_status, "nothing changed");
    let again = pass(&h, &mut s).await;
    assert!(again.calls.is_empty(), "the listing is shared for half a resync: {:?}", again.calls);
    assert_eq!(cond(&s, READY), is(True, "Granted"));
}

#[tokio::test]
async fn rejected_is_stalled_with_the_comment_and_asked_again_only_by_the_spec_or_the_annotation() {
    let (h, _) = world();
    let mut s = subscription(&h, |_| {});
    pass(&h, &mut s).await;
    let first = request_id(&s);
    decide(&h, &first, "REJECTED", "no order data outside the EU");
    let rejected = pass(&h, &mut s).await;
    assert_eq!(rejected.events, ["SubscriptionRejected"]);
    assert_eq!(cond(&s, READY), is(False, "Rejected"));
    assert_eq!(cond(&s, "Stalled"), is(True, "Rejected"), "kstatus Failed, Argo CD Degraded");
    assert!(ready_message(&s).contains("rejected: no order data outside the EU"), "{}", ready_message(&s));
    assert_eq!(
        s.status.as_ref().and_then(|x| x.request.clone()).and_then(|r| r.decision_comment).as_deref(),
        Some("no order data outside the EU")
    );
    let later = pass(&h, &mut s).await;
    assert_eq!(filed(&later.calls), 0, "a rejection is terminal: {:?}", later.calls);

    // The annotation asks again: one new request, then none.
    let mut asked = subscription(&h, |o| {
        o["metadata"]["annotations"] = json!({"dataproducts.dev/reconcile-requested-at": "2026-12-06T10:00:00Z"})
    });
    asked.status = s.status.clone();
    let again = pass(&h, &mut asked).await;
    assert_eq!(filed(&again.calls), 1);
    assert_ne!(request_id(&asked), first);
    assert_eq!(cond(&asked, READY), is(False, "AwaitingApproval"));
    assert_eq!(cond(&asked, "Approved"), is(False, "Pending"), "the old rejection is gone from the conditions");
    let then = pass(&h, &mut asked).await;
    assert_eq!(filed(&then.calls), 0);

    // A changed reason (the spec) after another rejection asks again too.
    decide(&h, &request_id(&asked), "REJECTED", "still no");
    pass(&h, &mut asked).await;
    let mut changed = subscription(&h, |o| {
        o["metadata"]["generation"] = json!(2);
        o["metadata"]["annotations"] = json!({"dataproducts.dev/reconcile-requested-at": "2026-12-06T10:00:00Z"});
        o["spec"]["reason"] = json!("EU-only revenue reports, approved by legal");
    });
    changed.status = asked.status.clone();
    let third = pass(&h, &mut changed).await;
    assert_eq!(filed(&third.calls), 1);
}

#[tokio::test]
async fn revoked_by_the_producer_is_stalled_and_no_new_request_is_filed() {
    let (h, _) = world();
    let mut s = subscription(&h, |_| {});
    pass(&h, &mut s).await;
    let request = request_id(&s);
    decide(&h, &request, "ACCEPTED", "ok");
    let sub = subscription_id(&h, &request);
    h.dz.world().catalog_state.subscriptions.grant(&sub, "t", &["a1"], "COMPLETED");
    pass(&h, &mut s).await;
    assert_eq!(cond(&s, READY), is(True, "Granted"));
    for x in h.dz.world().catalog_state.subscriptions.subscriptions.iter_mut().filter(|x| x.id == sub) {
        x.status = "REVOKED".into();
    }
    // Half a resync later, the project's listing of approved subscriptions no longer shows it.
    let key = ProjectKey { domain: crate::datazone::fake::DOMAIN.into(), project: CONSUMER.into() };
    h.ctx.shared.approved_subscriptions.forget(&key);
    let revoked = pass(&h, &mut s).await;
    assert_eq!(revoked.events, ["SubscriptionRevoked"]);
    assert_eq!(cond(&s, READY), is(False, "Revoked"));
    assert_eq!(cond(&s, "Stalled"), is(True, "Revoked"));
    assert_eq!(cond(&s, "Granted"), None, "nothing is granted any more");
    for _ in 0..3 {
        let p = pass(&h, &mut s).await;
        assert_eq!(filed(&p.calls), 0, "no loop of new requests: {:?}", p.calls);
    }
}

#[tokio::test]
async fn no_grant_and_a_failed_grant_say_so() {
    let (h, _) = world();
    let mut s = subscription(&h, |_| {});
    pass(&h, &mut s).await;
    let request = request_id(&s);
    decide(&h, &request, "ACCEPTED", "ok");
    pass(&h, &mut s).await;
    assert_eq!(cond(&s, READY), is(False, "NoTarget"));
    assert!(ready_message(&s).contains("no subscription target"), "{}", ready_message(&s));
    let sub = subscription_id(&h, &request);
    h.dz.world().catalog_state.subscriptions.grant(&sub, "t", &["a1"], "GRANT_FAILED");
    let failed = pass(&h, &mut s).await;
    assert_eq!(failed.events, ["SubscriptionGrantFailed"]);
    assert_eq!(cond(&s, "Stalled"), is(True, "GrantFailed"));
}

#[tokio::test]
async fn not_found_is_retried_at_the_resync_and_an_ambiguous_name_lists_the_candidates() {
    let h = Harness::new();
    h.dz.world().projects.insert("analytics".into(), CONSUMER.into());
    let mut s = subscription(&h, |_| {});
    let missing = pass(&h, &mut s).await;
    assert_eq!(cond(&s, READY), is(False, "NotFound"));
    assert_eq!(cond(&s, "Reconciling"), is(True, "NotFound"), "it may be published later");
    assert!(
        ready_message(&s).contains("data product sales-orders of sales is not in the catalog"),
        "{}",
        ready_message(&s)
    );
    assert!(missing.requeue.is_some_and(|d| d >= RESYNC.mul_f64(0.75)), "at the resync: {:?}", missing.requeue);
    let (a, b) = {
        let mut w = h.dz.world();
        let c = &mut w.catalog_state.subscriptions;
        (
            c.publish(ListingKind::DataProduct, "sales-orders", PROJECT),
            c.publish(ListingKind::DataProduct, "sales-orders", PROJECT),
        )
    };
    let ambiguous = pass(&h, &mut s).await;
    assert_eq!(filed(&ambiguous.calls), 0);
    assert_eq!(cond(&s, "Stalled"), is(True, "Ambiguous"));
    assert!(ready_message(&s).contains(&format!("({a}, {b})")), "{}", ready_message(&s));

    // By listing ID, exactly the one meant.
    let mut by_id = subscription(&h, |o| o["spec"]["wanted"] = json!({"listingId": b}));
    pass(&h, &mut by_id).await;
    assert_eq!(by_id.status.as_ref().and_then(|x| x.listing_id.clone()), Some(b.clone()));
    assert_eq!(cond(&by_id, READY), is(False, "AwaitingApproval"));
}

#[tokio::test]
async fn a_role_that_is_not_a_member_of_the_consuming_project_is_stalled_not_retried_in_a_storm() {
    let (h, _) = world();
    h.dz.world().catalog_state.subscriptions.not_member.insert(CONSUMER.into());
    let mut s = subscription(&h, |_| {});
    let p = pass(&h, &mut s).await;
    assert_eq!(cond(&s, "Stalled"), is(True, "NotAMember"));
    assert!(ready_message(&s).contains("must be a member"), "{}", ready_message(&s));
    assert!(p.requeue.is_some_and(|d| d >= RESYNC.mul_f64(0.75)), "at the resync, not a backoff: {:?}", p.requeue);
}

#[tokio::test]
async fn a_lost_status_or_a_request_filed_by_a_person_makes_no_second_request() {
    let (h, listing) = world();
    let mut s = subscription(&h, |_| {});
    pass(&h, &mut s).await;
    let request = request_id(&s);
    // A crash before the status was written: the same client token answers the same request.
    s.status = None;
    let again = pass(&h, &mut s).await;
    assert_eq!(filed(&again.calls), 1, "filed with the same token");
    assert_eq!(request_id(&s), request);
    assert_eq!(h.dz.world().catalog_state.subscriptions.requests.len(), 1);

    // Another object (a new UID: deleted and applied again) for what a person already asked for.
    let (h, _) = world();
    let by_hand = h.dz.world().catalog_state.subscriptions.file(&listing, CONSUMER, "analytics");
    h.dz.world().catalog_state.subscriptions.requests.iter_mut().for_each(|r| r.listing_id = listing.clone());
    let mut s = subscription(&h, |_| {});
    let adopted = pass(&h, &mut s).await;
    assert!(adopted.calls.contains(&format!("ListSubscriptionRequests {listing}")), "{:?}", adopted.calls);
    assert_eq!(request_id(&s), by_hand, "the project's open request is this object's");
    assert_eq!(h.dz.world().catalog_state.subscriptions.requests.len(), 1);
}

#[tokio::test]
async fn deleting_cancels_the_subscription_withdraws_a_pending_request_or_keeps_them() {
    let deleting = |o: &mut serde_json::Value| o["metadata"]["deletionTimestamp"] = json!("2026-12-06T10:00:00Z");
    // Approved: cancelled.
    let (h, _) = world();
    let mut s = subscription(&h, |_| {});
    pass(&h, &mut s).await;
    let request = request_id(&s);
    decide(&h, &request, "ACCEPTED", "ok");
    pass(&h, &mut s).await;
    let sub = subscription_id(&h, &request);
    let mut gone = subscription(&h, deleting);
    gone.status = s.status.clone();
    let deleted = pass(&h, &mut gone).await;
    assert!(deleted.calls.contains(&format!("CancelSubscription {sub}")), "{:?}", deleted.calls);
    assert_eq!(deleted.events, ["SubscriptionCancelled"]);
    assert!(deleted.finalizer_removed);
    let state = h.dz.world().catalog_state.subscriptions.subscriptions[0].status.clone();
    assert_eq!(state, "CANCELLED");

    // Pending: withdrawn.
    let (h, _) = world();
    let mut s = subscription(&h, |_| {});
    pass(&h, &mut s).await;
    let mut gone = subscription(&h, deleting);
    gone.status = s.status.clone();
    let deleted = pass(&h, &mut gone).await;
    assert!(deleted.calls.contains(&format!("DeleteSubscriptionRequest {}", request_id(&s))), "{:?}", deleted.calls);
    assert!(deleted.finalizer_removed);
    assert!(h.dz.world().catalog_state.subscriptions.requests.is_empty());

    // Keep: nothing is called.
    let (h, _) = world();
    let mut s = subscription(&h, |o| o["spec"]["deletionPolicy"] = json!("Keep"));
    pass(&h, &mut s).await;
    let mut gone = subscription(&h, |o| {
        o["spec"]["deletionPolicy"] = json!("Keep");
        deleting(o)
    });
    gone.status = s.status.clone();
    let kept = pass(&h, &mut gone).await;
    assert!(kept.calls.is_empty(), "{:?}", kept.calls);
    assert_eq!(kept.events, ["Kept"]);
    assert!(kept.finalizer_removed);
}

#[tokio::test]
async fn wanting_another_listing_lets_the_old_subscription_go_and_files_one_for_the_new() {
    let (h, _) = world();
    let other = h.dz.world().catalog_state.subscriptions.publish(ListingKind::Asset, "refunds", PROJECT);
    let mut s = subscription(&h, |_| {});
    pass(&h, &mut s).await;
    let request = request_id(&s);
    decide(&h, &request, "ACCEPTED", "ok");
    pass(&h, &mut s).await;
    let sub = subscription_id(&h, &request);
    let mut moved = subscription(&h, |o| {
        o["metadata"]["generation"] = json!(2);
        o["spec"]["wanted"] = json!({"asset": {"name": "refunds", "project": "sales"}});
    });
    moved.status = s.status.clone();
    let p = pass(&h, &mut moved).await;
    assert!(p.calls.contains(&format!("CancelSubscription {sub}")), "{:?}", p.calls);
    assert!(p.calls.contains(&format!("CreateSubscriptionRequest {other}")), "{:?}", p.calls);
    assert_eq!(p.events, ["SubscriptionReleased", "SubscriptionRequested"]);
    let status = moved.status.clone().unwrap_or_default();
    assert_eq!(status.wanted.as_deref(), Some("asset refunds of sales"));
    assert_eq!(status.subscription, None, "the old subscription is not this one's");
    assert_eq!(cond(&moved, "Approved"), is(False, "Pending"));
}

#[tokio::test]
async fn a_named_redshift_gets_one_environment_in_the_consuming_project_before_the_request() {
    let (h, listing) = world();
    {
        let mut w = h.dz.world();
        w.blueprint_regions = Some(vec!["eu-central-1".into()]);
        w.new_environment_status = crate::datazone::EnvironmentStatus::Creating;
    }
    let redshift = json!({"clusterName": "reports-dwh", "database": "reports",
                          "credentialsSecretArn": "arn:aws:secretsmanager:eu-central-1:222222222222:secret:dz-reports-AbCdEf"});
    let with_redshift = |o: &mut serde_json::Value| o["spec"]["redshift"] = redshift.clone();
    let mut s = subscription(&h, with_redshift);
    let first = pass(&h, &mut s).await;
    let environment = "dwh-222222222222-eu-central-1-reports-dwh-reports";
    assert!(first.calls.contains(&format!("CreateEnvironment {environment}")), "{:?}", first.calls);
    assert_eq!(filed(&first.calls), 0, "no request before the grants have somewhere to land");
    assert_eq!(first.events, ["EnvironmentCreated"]);
    assert_eq!(cond(&s, READY), is(False, "PreparingTarget"));
    assert_eq!(cond(&s, "Reconciling"), is(True, "PreparingTarget"));
    let env_id = s.status.as_ref().and_then(|x| x.environment_id.clone()).expect("the environment is in status");
    assert!(first.requeue.is_some_and(|d| d < RESYNC), "looked at again soon: {:?}", first.requeue);

    let waiting = pass(&h, &mut s).await;
    assert!(
        !waiting.calls.iter().any(|c| c.starts_with("CreateEnvironment")),
        "found, not made again: {:?}",
        waiting.calls
    );
    for e in h.dz.world().environments.iter_mut() {
        e.info.status = crate::datazone::EnvironmentStatus::Active;
    }
    let ready = pass(&h, &mut s).await;
    assert!(ready.calls.contains(&format!("CreateSubscriptionRequest {listing}")), "{:?}", ready.calls);
    assert_eq!(cond(&s, READY), is(False, "AwaitingApproval"));

    // Another subscription of the project to the same database shares the environment.
    let other = h.dz.world().catalog_state.subscriptions.publish(ListingKind::Asset, "refunds", PROJECT);
    let mut second = subscription(&h, |o| {
        o["metadata"]["name"] = json!("refunds-for-reports");
        o["metadata"]["uid"] = json!("uid-sub-2");
        o["spec"]["wanted"] = json!({"asset": {"name": "refunds", "project": "sales"}});
        with_redshift(o);
    });
    let shared = pass(&h, &mut second).await;
    assert!(
        !shared.calls.iter().any(|c| c.starts_with("Create") && !c.starts_with("CreateSubscriptionRequest")),
        "{:?}",
        shared.calls
    );
    assert!(shared.calls.contains(&format!("CreateSubscriptionRequest {other}")), "{:?}", shared.calls);
    assert_eq!(second.status.as_ref().and_then(|x| x.environment_id.clone()), Some(env_id));
    assert_eq!(h.dz.world().environments.len(), 1);
}

#[tokio::test]
async fn in_a_v2_domain_the_grants_land_in_the_projects_connection_and_a_target_on_its_environment() {
    let (h, listing) = world();
    {
        let mut w = h.dz.world();
        w.generation = crate::datazone::Generation::V2;
        w.project_environment = Some(crate::datazone::fake::TOOLING.into());
    }
    let role = "arn:aws:iam::222222222222:role/DzRedshiftAccess-analytics";
    let redshift = json!({"workgroupName": "analytics-wg", "database": "reports",
                          "credentialsSecretArn": "arn:aws:secretsmanager:eu-central-1:222222222222:secret:dz-reports-AbCdEf"});
    let mut without_role = subscription(&h, |o| o["spec"]["redshift"] = redshift.clone());
    pass(&h, &mut without_role).await;
    assert_eq!(cond(&without_role, "Stalled"), is(True, "ManageAccessRoleRequired"));

    let mut with_role = redshift.clone();
    with_role["manageAccessRoleArn"] = json!(role);
    let mut s = subscription(&h, |o| o["spec"]["redshift"] = with_role.clone());
    let first = pass(&h, &mut s).await;
    let name = "redshift-222222222222-eu-central-1-analytics-wg-reports";
    let made: Vec<&String> = first.calls.iter().filter(|c| c.starts_with("Create")).collect();
    assert_eq!(
        made,
        [
            &format!("CreateConnection {name}"),
            &format!("CreateSubscriptionTarget {name}"),
            &format!("CreateSubscriptionRequest {listing}")
        ],
        "the connection and its target, then the request: {:?}",
        first.calls
    );
    assert_eq!(first.events, ["ConnectionCreated", "SubscriptionTargetCreated", "SubscriptionRequested"]);
    assert_eq!(s.status.as_ref().and_then(|x| x.environment_id.as_deref()), Some(crate::datazone::fake::TOOLING));

    // The next pass (and another subscription of the project) makes nothing again.
    let again = pass(&h, &mut s).await;
    assert!(!again.calls.iter().any(|c| c.starts_with("Create")), "{:?}", again.calls);
    assert_eq!(h.dz.world().catalog_state.subscriptions.targets.len(), 1);
}

#[tokio::test]
async fn three_hundred_pending_requests_of_a_project_are_followed_with_one_listing() {
    let (h, _) = world();
    let mut all = Vec::new();
    for i in 0..300 {
        let name = format!("product-{i}");
        h.dz.world().catalog_state.subscriptions.publish(ListingKind::DataProduct, &name, PROJECT);
        let mut s = subscription(&h, |o| {
            o["metadata"]["name"] = json!(format!("sub-{i}"));
            o["metadata"]["uid"] = json!(format!("uid-sub-{i}"));
            o["spec"]["wanted"]["dataProduct"]["name"] = json!(name);
        });
        pass(&h, &mut s).await;
        all.push(s);
    }
    // Every one looks again: one listing of the project's pending requests answers all of them.
    let mut calls = Vec::new();
    for s in &mut all {
        calls.extend(pass(&h, s).await.calls);
    }
    let listed = calls.iter().filter(|c| c.starts_with("ListSubscriptionRequests")).count();
    let read = calls.iter().filter(|c| c.starts_with("GetSubscriptionRequestDetails")).count();
    assert_eq!((listed, read), (1, 0), "300 pending requests, one listing, no read each");
    assert!(all.iter().all(|s| cond(s, READY) == is(False, "AwaitingApproval")));
    // One decided: that one is read (once), the others still answered by the listing.
    let decided = request_id(&all[7]);
    decide(&h, &decided, "ACCEPTED", "ok");
    let mut calls = Vec::new();
    for s in &mut all {
        calls.extend(pass(&h, s).await.calls);
    }
    let read: Vec<&String> = calls.iter().filter(|c| c.starts_with("GetSubscriptionRequestDetails")).collect();
    assert_eq!(read, [&format!("GetSubscriptionRequestDetails {decided}")]);
    assert_eq!(cond(&all[7], "Approved"), is(True, "Accepted"));
}
