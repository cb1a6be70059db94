//! Access as code end to end: the operator binary against the real API server (`make e2e`) and
//! the emulator over the SDK. A data product with a policy; three consumer projects file
//! subscription requests to its data product listing: the one an Approve rule names is ACCEPTED
//! with a comment naming the rule, the one a Reject rule names is REJECTED with its reason, the
//! third stays PENDING and status counts it; the grant of the approved one reaches COMPLETED; a
//! restart and two replicas decide nothing twice. A connection that does not allow the approvals:
//! the same policy decides nothing and says why.

mod common;

use std::time::Duration;

use aws_sdk_datazone::types::{SubscriptionGrantOverallStatus, SubscriptionRequestStatus};
use common::mesh::{allow, decided, file, policy, project, published_with_policy, request, warehouse};
use common::world::{count, world};
use common::{eventually, free_port};
use kube::api::{Patch, PatchParams};
use serde_json::json;

fn decisions(calls: &serde_json::Value) -> (u64, u64) {
    (count(calls, "datazone:AcceptSubscriptionRequest"), count(calls, "datazone:RejectSubscriptionRequest"))
}

#[tokio::test]
#[ignore = "needs a real API server: make e2e"]
async fn requests_are_answered_by_the_policy_in_git_once() {
    let mut w = world("access", "optional").await;
    allow(&w, json!(["analytics-team"])).await;
    let (name, domain, listing) = published_with_policy(&w).await;
    let consumer = common::aws::consumer(&w.emulator.endpoint()).await;
    let analytics = project(&consumer, &domain, "analytics-team").await;
    let partners = project(&consumer, &domain, "external-partners").await;
    let marketing = project(&consumer, &domain, "marketing").await;
    warehouse(&consumer, &domain, &analytics, "analytics-dwh").await;

    let approved = file(&consumer, &domain, &analytics, &listing).await;
    let rejected = file(&consumer, &domain, &partners, &listing).await;
    let waiting = file(&consumer, &domain, &marketing, &listing).await;
    let (status, comment) = decided(&consumer, &domain, &approved).await;
    assert_eq!(status, SubscriptionRequestStatus::Accepted);
    assert_eq!(
        comment.as_deref(),
        Some(
            format!("Approved by access rule analytics of RedshiftDataProduct {}/{name} (datazone-operator)", w.ns)
                .as_str()
        )
    );
    let (status, comment) = decided(&consumer, &domain, &rejected).await;
    assert_eq!(status, SubscriptionRequestStatus::Rejected);
    assert!(comment.unwrap_or_default().ends_with(": partners get sales data through the data sharing agreement"));

    // Status counts the subscriber and the request left to a person.
    let p = eventually(Duration::from_secs(30), || async {
        let p = w.products().get(&name).await.map_err(|e| e.to_string())?;
        let access = p.status.clone().unwrap_or_default().access.unwrap_or_default();
        let want = (1, vec!["analytics-team".to_string()], 1, 1, 1);
        let got =
            (access.subscribers, access.subscribing_projects.clone(), access.waiting, access.approved, access.rejected);
        if got == want { Ok(p) } else { Err(format!("{got:?}")) }
    })
    .await;
    let applied = p.status.unwrap().conditions.into_iter().find(|c| c.type_ == "AccessApplied").unwrap();
    assert_eq!(applied.message, "2 access rules: 1 subscribing project, 1 request waiting for a person");

    // The approved subscription's grant completes in the consumer's environment.
    eventually(Duration::from_secs(30), || async {
        let subscriptions = consumer.list_subscriptions().domain_identifier(&domain).owning_project_id(&analytics);
        let subscription = subscriptions.send().await.map_err(|e| e.to_string())?;
        let id = subscription.items().first().map(|s| s.id().to_string()).ok_or("no subscription")?;
        let grants = consumer.list_subscription_grants().domain_identifier(&domain).subscription_id(&id).send().await;
        let grants = grants.map_err(|e| e.to_string())?;
        let done = !grants.items().is_empty()
            && grants.items().iter().all(|g| g.status() == &SubscriptionGrantOverallStatus::Completed);
        if done { Ok(()) } else { Err(format!("{:?}", grants.items().iter().map(|g| g.status()).collect::<Vec<_>>())) }
    })
    .await;
    let before = decisions(&w.calls().await);
    assert_eq!(before, (1, 1), "one accept, one reject");

    // A restart, then two replicas under leader election: nothing decided twice.
    w.start_operator();
    w.resyncs(3).await;
    w.operator = None;
    let lease = format!("lease-{}", w.ns);
    let args = ["--leader-elect", "--leader-election-namespace", &w.ns, "--leader-election-lease", &lease];
    let _a = w.spawn_operator(free_port(), &args, &[("POD_NAME", "replica-a")], "replica-a");
    let _b = w.spawn_operator(free_port(), &args, &[("POD_NAME", "replica-b")], "replica-b");
    tokio::time::sleep(common::world::RESYNC * 4).await;
    assert_eq!(decisions(&w.calls().await), before, "a restart and a second replica decide nothing twice");
    assert_eq!(request(&consumer, &domain, &waiting).await.0, SubscriptionRequestStatus::Pending);
}

#[tokio::test]
#[ignore = "needs a real API server: make e2e"]
async fn a_connection_forbidding_auto_approval_stops_the_policy() {
    let w = world("access-forbidden", "optional").await;
    let (name, domain, listing) = published_with_policy(&w).await;
    let p = w.condition_is(&name, "AccessApplied", "False", "ApprovalNotAllowed").await;
    let applied = p.status.unwrap().conditions.into_iter().find(|c| c.type_ == "AccessApplied").unwrap();
    assert!(
        applied
            .message
            .contains("access rule analytics approves analytics-team, but the connection allows no auto-approval"),
        "{}",
        applied.message
    );
    let consumer = common::aws::consumer(&w.emulator.endpoint()).await;
    let analytics = project(&consumer, &domain, "analytics-team").await;
    let id = file(&consumer, &domain, &analytics, &listing).await;
    w.resyncs(3).await;
    assert_eq!(request(&consumer, &domain, &id).await.0, SubscriptionRequestStatus::Pending, "nothing approved");
    assert_eq!(decisions(&w.calls().await), (0, 0));
}

/// Whether the emulator holds anything of `ids` under `key` of its state.
fn holds(state: &serde_json::Value, key: &str, ids: &[String]) -> bool {
    state[key].as_array().unwrap().iter().any(|v| ids.iter().any(|id| v["id"] == id.as_str()))
}

#[tokio::test]
#[ignore = "needs a real API server: make e2e"]
async fn retiring_waits_for_the_subscriber_or_revokes_then_deletes_it_all() {
    use kube::api::DeleteParams;
    let w = world("retire", "optional").await;
    allow(&w, json!(["analytics-team"])).await;
    let names = w.import("examples/payloads/three-databases.json").await;
    let consumer = common::aws::consumer(&w.emulator.endpoint()).await;
    // The first waits for its subscriber; the second revokes.
    let retire = |revoke: bool| {
        json!({"spec": {"dataProduct": {}, "access": policy(), "deletionPolicy": "Retire",
                        "retirement": {"revokeSubscriptions": revoke}}})
    };
    for (name, revoke) in names.iter().take(2).zip([false, true]) {
        w.products().patch(name, &PatchParams::default(), &Patch::Merge(&retire(revoke))).await.unwrap();
    }
    let ready = w.all_ready(&names).await;
    let domain = ready[0].status.clone().unwrap().domain_id.unwrap();
    let analytics = project(&consumer, &domain, "analytics-team").await;
    let (mut everything, mut listings) = (Vec::new(), Vec::new());
    for name in names.iter().take(2) {
        let s = eventually(Duration::from_secs(60), || async {
            let p = w.products().get(name).await.map_err(|e| e.to_string())?;
            let s = p.status.clone().unwrap_or_default();
            if s.data_products.first().and_then(|d| d.listing_id.clone()).is_some() {
                Ok(s)
            } else {
                Err("not listed".into())
            }
        })
        .await;
        let listing = s.data_products[0].listing_id.clone().unwrap();
        let request = file(&consumer, &domain, &analytics, &listing).await;
        assert_eq!(decided(&consumer, &domain, &request).await.0, SubscriptionRequestStatus::Accepted);
        let mut ids: Vec<String> = s.assets.iter().filter_map(|a| a.asset_id.clone()).collect();
        ids.extend(s.data_products.iter().filter_map(|d| d.id.clone()));
        ids.extend(s.data_source_id.clone());
        everything.push(ids);
        listings.push(listing);
    }

    // `plan` says what a delete would do, and whom it would affect.
    let (code, out) = w.plan(&["--all"]).await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("on delete: Retire: would unpublish, then wait while 1 subscribe(s) (analytics-team), then delete data product"),
        "{out}"
    );
    assert!(out.contains("on delete: Retire: would unpublish, revoke the subscriptions of analytics-team"), "{out}");

    // Deleted with a subscriber: out of the catalog, held, status naming the subscriber.
    w.products().delete(&names[0], &DeleteParams::default()).await.unwrap();
    let held = w.condition_is(&names[0], "Ready", "False", "Subscribed").await;
    let message = held.status.unwrap().conditions.into_iter().find(|c| c.type_ == "Ready").unwrap().message;
    assert!(message.contains("project analytics-team still subscribes"), "{message}");
    let state = w.state().await;
    let all = state["listings"].as_array().unwrap();
    let ours = |l: &&serde_json::Value| everything[0].iter().any(|id| l.to_string().contains(id.as_str()));
    let unpublished: Vec<&serde_json::Value> = all.iter().filter(ours).collect();
    assert!(!unpublished.is_empty() && unpublished.iter().all(|l| l["status"] == "INACTIVE"), "{unpublished:?}");
    for key in ["dataProducts", "assets", "dataSources"] {
        assert!(holds(&state, key, &everything[0]), "nothing deleted while subscribed: {key}");
    }

    // The subscriber leaves: the data product, the assets and the data source go, then the object.
    let subscriptions = consumer.list_subscriptions().domain_identifier(&domain).owning_project_id(&analytics);
    let subscriptions = subscriptions.send().await.unwrap();
    for s in subscriptions.items() {
        if s.subscribed_listing().is_some_and(|l| l.id() == listings[0]) {
            consumer.cancel_subscription().domain_identifier(&domain).identifier(s.id()).send().await.unwrap();
        }
    }
    w.gone(&names[0]).await;
    let state = w.state().await;
    for key in ["dataProducts", "assets", "dataSources"] {
        assert!(!holds(&state, key, &everything[0]), "{key} of the retired data product deleted");
    }

    // The second says to revoke: it does, and retires at once.
    w.products().delete(&names[1], &DeleteParams::default()).await.unwrap();
    w.gone(&names[1]).await;
    let state = w.state().await;
    for key in ["dataProducts", "assets", "dataSources"] {
        assert!(!holds(&state, key, &everything[1]), "{key} of the revoking data product deleted");
    }
    let revoked = state["subscriptions"].as_array().unwrap().iter().filter(|s| s["status"] == "REVOKED").count();
    assert_eq!(revoked, 1, "its subscription revoked: {:?}", state["subscriptions"]);
}
