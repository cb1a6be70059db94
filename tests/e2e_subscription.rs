//! The consumer's side end to end: the operator binary against the real API server (`make e2e`)
//! and the emulator over the SDK. A producer's data product with an access policy; a consuming
//! team's `DataZoneSubscription`s through its own connection (a role that is a member of its
//! projects, no producer roles): the one the policy approves is Ready with every grant
//! COMPLETED; the one left to a person (whose Redshift the spec names: the operator gives the
//! consuming project exactly one environment for it, and the grants land there) is Progressing until the approver accepts it, then Ready;
//! the rejected one is Degraded with the approver's comment; revoked by the producer it is
//! Degraded and no new request is filed; deleted, its subscription is cancelled. Exactly one
//! request per object across two operator restarts. Flux's kstatus sees each state.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_datazone::types::SubscriptionStatus;
use common::mesh::{
    CONSUMER_ROLE, SECRET, add_member, allow, consumer_connection, project, published_with_policy, subscribe,
    subscribe_to, subscriptions, warehouse,
};
use common::world::{V2_DOMAIN, World, count, world, world_in};
use common::{eventually, kstatus};
use datazone_operator::crd::DataZoneSubscription;
use kube::api::{DeleteParams, Patch, PatchParams};
use serde_json::json;

const RESOURCE: &str = "datazonesubscriptions.dataproducts.dev";

/// Waits until `name`'s Ready condition has `status` and `reason` for the current generation.
async fn ready_is(w: &World, name: &str, status: &str, reason: &str) -> DataZoneSubscription {
    eventually(Duration::from_secs(60), || async {
        let s = subscriptions(w).get(name).await.map_err(|e| e.to_string())?;
        let st = s.status.clone().unwrap_or_default();
        let ready = st.conditions.iter().find(|c| c.type_ == "Ready");
        match ready {
            Some(c)
                if format!("{:?}", c.status) == status
                    && c.reason == reason
                    && st.observed_generation == s.metadata.generation =>
            {
                Ok(s)
            }
            other => Err(format!("{name}: {other:?}")),
        }
    })
    .await
}

fn ready_message(s: &DataZoneSubscription) -> String {
    let st = s.status.clone().unwrap_or_default();
    st.conditions.iter().find(|c| c.type_ == "Ready").map(|c| c.message.clone()).unwrap_or_default()
}

fn request_of(s: &DataZoneSubscription) -> String {
    s.status.clone().unwrap_or_default().request.map(|r| r.id).unwrap_or_default()
}

async fn kstatus_is(w: &World, want: &[(&str, &str)]) {
    let want: BTreeMap<String, String> = want.iter().map(|(n, s)| (n.to_string(), s.to_string())).collect();
    eventually(Duration::from_secs(30), || async {
        let now = kstatus(RESOURCE, &w.ns);
        if now == want { Ok(()) } else { Err(format!("kstatus: {now:?}")) }
    })
    .await;
}

#[tokio::test]
#[ignore = "needs a real API server: make e2e"]
async fn a_consumer_subscribes_from_git_and_sees_approval_grants_rejection_revocation_and_cancellation() {
    let mut w = world("subscribe", "optional").await;
    allow(&w, json!(["analytics-team"])).await;
    let (product, domain, listing) = published_with_policy(&w).await;
    // The consuming team's projects (made by a platform script, its role a contributor of each),
    // with Data Warehouse environments where grants land.
    let platform = common::aws::consumer(&w.emulator.endpoint()).await;
    let approver = common::aws::governance(&w.emulator.endpoint()).await;
    let mut projects = BTreeMap::new();
    for name in ["analytics-team", "marketing", "external-partners"] {
        let id = project(&platform, &domain, name).await;
        add_member(&platform, &domain, &id, CONSUMER_ROLE).await;
        projects.insert(name, id);
    }
    warehouse(&platform, &domain, &projects["analytics-team"], "analytics-dwh").await;
    consumer_connection(&w, "corp-mesh").await;

    subscribe(&w, "reports", "analytics-team", &product, None).await;
    // Marketing names its Redshift: the operator gives the project its environment first.
    let redshift = json!({"clusterName": "prod-dwh", "database": "marketing", "credentialsSecretArn": SECRET});
    subscribe(&w, "campaigns", "marketing", &product, Some(redshift)).await;
    subscribe(&w, "partners", "external-partners", &product, None).await;

    // The policy approves analytics-team: granted, every asset.
    let reports = ready_is(&w, "reports", "True", "Granted").await;
    let status = reports.status.clone().unwrap();
    assert_eq!(status.listing_id.as_deref(), Some(listing.as_str()));
    assert!(
        !status.grants.is_empty()
            && status.grants.iter().all(|g| g.status == "COMPLETED" && g.asset_status == "GRANTED"),
        "{:?}",
        status.grants
    );
    assert_eq!(status.grant_summary, Some(format!("{n}/{n} granted", n = status.grants.len())));
    // It rejects external-partners, with its reason.
    let partners = ready_is(&w, "partners", "False", "Rejected").await;
    assert!(
        ready_message(&partners).contains("partners get sales data through the data sharing agreement"),
        "{}",
        ready_message(&partners)
    );
    // Marketing waits for a person.
    let campaigns = ready_is(&w, "campaigns", "False", "AwaitingApproval").await;
    kstatus_is(&w, &[("reports", "Current"), ("partners", "Failed"), ("campaigns", "InProgress")]).await;

    // The approver accepts it (as a person would in the portal): granted.
    approver
        .accept_subscription_request()
        .domain_identifier(&domain)
        .identifier(request_of(&campaigns))
        .decision_comment("ok for campaign attribution")
        .send()
        .await
        .unwrap();
    let campaigns = ready_is(&w, "campaigns", "True", "Granted").await;
    // Exactly one environment in the marketing project, and the grant's target is its own.
    let environments =
        approver.list_environments().domain_identifier(&domain).project_identifier(&projects["marketing"]);
    let environments = environments.send().await.unwrap();
    let names: Vec<&str> = environments.items().iter().map(|e| e.name()).collect();
    assert_eq!(names, ["dwh-222222222222-eu-central-1-prod-dwh-marketing"]);
    let status = campaigns.status.clone().unwrap();
    let environment = environments.items()[0].id().unwrap_or_default().to_string();
    assert_eq!(status.environment_id.as_deref(), Some(environment.as_str()));
    let targets = approver.list_subscription_targets().domain_identifier(&domain).environment_identifier(&environment);
    let targets = targets.send().await.unwrap();
    let target = targets.items().first().map(|t| t.id().to_string()).expect("the environment's Redshift target");
    assert!(!status.grants.is_empty() && status.grants.iter().all(|g| g.target_id == target), "{:?}", status.grants);
    kstatus_is(&w, &[("reports", "Current"), ("partners", "Failed"), ("campaigns", "Current")]).await;
    // What a dashboard or an alert reads.
    eventually(Duration::from_secs(30), || async {
        let text = w.metrics().await;
        let granted = common::sample(&text, "datazone_operator_subscriptions{ready=\"true\",reason=\"Granted\"}");
        let rejected = common::sample(&text, "datazone_operator_subscriptions{ready=\"false\",reason=\"Rejected\"}");
        if (granted, rejected) == (Some(2.0), Some(1.0)) { Ok(()) } else { Err(format!("{granted:?} {rejected:?}")) }
    })
    .await;

    // Exactly one request per object, across two restarts.
    let filed = |calls: &serde_json::Value| count(calls, "datazone:CreateSubscriptionRequest");
    assert_eq!(filed(&w.calls().await), 3);
    for _ in 0..2 {
        w.start_operator();
        w.resyncs(2).await;
    }
    assert_eq!(filed(&w.calls().await), 3, "a restart files nothing again");

    // The producer revokes reports' subscription: Degraded, and no new request.
    let reports = subscriptions(&w).get("reports").await.unwrap();
    let revoked = reports.status.clone().unwrap().subscription.unwrap().id;
    approver.revoke_subscription().domain_identifier(&domain).identifier(&revoked).send().await.unwrap();
    let reports = ready_is(&w, "reports", "False", "Revoked").await;
    assert!(ready_message(&reports).contains("revoked"), "{}", ready_message(&reports));
    kstatus_is(&w, &[("reports", "Failed"), ("partners", "Failed"), ("campaigns", "Current")]).await;
    w.resyncs(3).await;
    assert_eq!(filed(&w.calls().await), 3, "a revocation is no loop of new requests");

    // Deleted: its subscription is cancelled.
    let campaigns = subscriptions(&w).get("campaigns").await.unwrap();
    let cancelled = campaigns.status.clone().unwrap().subscription.unwrap().id;
    subscriptions(&w).delete("campaigns", &DeleteParams::default()).await.unwrap();
    eventually(Duration::from_secs(30), || async {
        let gone = subscriptions(&w).get_opt("campaigns").await.map_err(|e| e.to_string())?.is_none();
        let s = approver.get_subscription().domain_identifier(&domain).identifier(&cancelled).send().await;
        let status = s.map_err(|e| e.to_string())?.status().clone();
        if gone && status == SubscriptionStatus::Cancelled { Ok(()) } else { Err(format!("gone {gone}, {status:?}")) }
    })
    .await;
}

#[tokio::test]
#[ignore = "needs a real API server: make e2e"]
async fn in_a_v2_domain_the_grants_land_in_the_consuming_projects_connection_target() {
    let w = world_in("subscribe-v2", "optional", V2_DOMAIN).await;
    let names = w.import_into("examples/payloads/three-databases.json", "analytics").await;
    let patch = json!({"spec": {"dataProduct": {}}});
    w.products().patch(&names[0], &PatchParams::default(), &Patch::Merge(&patch)).await.unwrap();
    let (domain, product) = eventually(Duration::from_secs(60), || async {
        let p = w.products().get(&names[0]).await.map_err(|e| e.to_string())?;
        let s = p.status.clone().unwrap_or_default();
        let listed = s.data_products.first().filter(|d| d.listing_id.is_some()).map(|d| d.name.clone());
        match (s.domain_id.clone(), listed) {
            (Some(domain), Some(name)) => Ok((domain, name)),
            other => Err(format!("not listed yet: {other:?}")),
        }
    })
    .await;
    let platform = common::aws::consumer(&w.emulator.endpoint()).await;
    let approver = common::aws::governance(&w.emulator.endpoint()).await;
    let reports = project(&platform, &domain, "v2-reports").await;
    add_member(&platform, &domain, &reports, CONSUMER_ROLE).await;
    consumer_connection(&w, V2_DOMAIN).await;
    let redshift = json!({"workgroupName": "analytics-wg", "database": "analytics", "credentialsSecretArn": SECRET,
                          "manageAccessRoleArn": "arn:aws:iam::222222222222:role/DzRedshiftAccess-v2-reports"});
    subscribe_to(&w, "v2-reports", "v2-reports", (&product, "analytics"), Some(redshift)).await;

    // No policy: a person decides.
    let pending = ready_is(&w, "v2-reports", "False", "AwaitingApproval").await;
    approver
        .accept_subscription_request()
        .domain_identifier(&domain)
        .identifier(request_of(&pending))
        .decision_comment("ok")
        .send()
        .await
        .unwrap();
    let granted = ready_is(&w, "v2-reports", "True", "Granted").await;
    let status = granted.status.clone().unwrap();
    // The project's Redshift connection, and one target of its name on the project's environment:
    // every grant went there.
    let environment = status.environment_id.clone().expect("the project's environment");
    let targets = approver.list_subscription_targets().domain_identifier(&domain).environment_identifier(&environment);
    let targets = targets.send().await.unwrap();
    let name = "redshift-222222222222-eu-central-1-analytics-wg-analytics";
    let ours: Vec<&str> = targets.items().iter().filter(|t| t.name() == name).map(|t| t.id()).collect();
    assert_eq!(ours.len(), 1, "{:?}", targets.items());
    assert!(!status.grants.is_empty() && status.grants.iter().all(|g| g.target_id == ours[0]), "{:?}", status.grants);
    let connections = approver.list_connections().domain_identifier(&domain).project_identifier(&reports).name(name);
    assert_eq!(connections.send().await.unwrap().items().len(), 1, "the project's Redshift connection");
}
