//! The mesh's other side for the end-to-end tests: a producer's data product with an access
//! policy, and consumers (projects, their Data Warehouse environments, their requests) made with
//! the AWS SDK as a person or a script would.

use std::time::Duration;

use aws_sdk_datazone::types::{
    EnvironmentParameter, EnvironmentStatus, SubscribedListingInput, SubscribedPrincipalInput, SubscribedProjectInput,
    SubscriptionRequestStatus,
};
use kube::api::{Patch, PatchParams};
use serde_json::json;

use datazone_operator::crd::{DataZoneConnection, DataZoneSubscription};
use kube::Api;

use super::eventually;
use super::world::World;

pub type Client = aws_sdk_datazone::Client;

pub const SECRET: &str = "arn:aws:secretsmanager:eu-central-1:222222222222:secret:dz-redshift-AbCdEf";

/// The policy: analytics approved, external partners rejected, anyone else left to a person.
pub fn policy() -> serde_json::Value {
    json!({"rules": [
        {"name": "analytics", "projects": ["analytics-team"], "decision": "Approve"},
        {"name": "partners-out", "projects": ["external-partners"], "decision": "Reject",
         "reason": "partners get sales data through the data sharing agreement"},
    ]})
}

/// Lets the namespace's policies approve `projects` (the connection's `autoApproval`).
pub async fn allow(w: &World, projects: serde_json::Value) {
    let patch = json!({"spec": {"autoApproval": [{"projects": projects}]}});
    let api = kube::Api::<datazone_operator::crd::ClusterDataZoneConnection>::all(w.client.clone());
    api.patch(&w.connection, &PatchParams::default(), &Patch::Merge(&patch)).await.unwrap();
}

/// The first database of the reference payload as a data product with the policy, listed; its
/// (name, domain ID, data product listing ID).
pub async fn published_with_policy(w: &World) -> (String, String, String) {
    let names = w.import("examples/payloads/three-databases.json").await;
    let name = names[0].clone();
    let patch = json!({"spec": {"dataProduct": {}, "access": policy()}});
    w.products().patch(&name, &PatchParams::default(), &Patch::Merge(&patch)).await.unwrap();
    let listed = eventually(Duration::from_secs(60), || async {
        let p = w.products().get(&name).await.map_err(|e| e.to_string())?;
        let s = p.status.clone().unwrap_or_default();
        let listing = s.data_products.first().and_then(|d| d.listing_id.clone());
        match (s.domain_id.clone(), listing) {
            (Some(domain), Some(listing)) => Ok((domain, listing)),
            other => Err(format!("not listed yet: {other:?}")),
        }
    })
    .await;
    (name, listed.0, listed.1)
}

/// A consumer project of `name`, owned by the consumer.
pub async fn project(consumer: &Client, domain: &str, name: &str) -> String {
    let made = consumer.create_project().domain_identifier(domain).name(name).send().await.unwrap();
    made.id().to_string()
}

/// The consumer project's Data Warehouse environment (it brings a Redshift subscription target),
/// named `name`.
pub async fn warehouse(consumer: &Client, domain: &str, project: &str, name: &str) {
    let blueprints =
        consumer.list_environment_blueprints().domain_identifier(domain).name("DefaultDataWarehouse").send().await;
    let blueprint = blueprints.unwrap().items()[0].id().to_string();
    let parameter = |n: &str, v: &str| EnvironmentParameter::builder().name(n).value(v).build();
    let profile = consumer
        .create_environment_profile()
        .domain_identifier(domain)
        .name(name)
        .environment_blueprint_identifier(&blueprint)
        .project_identifier(project)
        .aws_account_id("222222222222")
        .aws_account_region("eu-central-1")
        .user_parameters(parameter("clusterName", "prod-dwh"))
        .user_parameters(parameter("dataAccessSecretsArn", SECRET))
        .send()
        .await
        .unwrap();
    let env = consumer
        .create_environment()
        .domain_identifier(domain)
        .project_identifier(project)
        .name(name)
        .environment_profile_identifier(profile.id())
        .user_parameters(parameter("dbName", "analytics"))
        .send()
        .await
        .unwrap();
    let env = env.id().unwrap().to_string();
    eventually(Duration::from_secs(30), || async {
        let e = consumer.get_environment().domain_identifier(domain).identifier(&env).send().await;
        let status = e.map_err(|e| e.to_string())?.status().cloned();
        if status == Some(EnvironmentStatus::Active) { Ok(()) } else { Err(format!("{status:?}")) }
    })
    .await;
}

/// `project` files a request for `listing`; its ID.
pub async fn file(consumer: &Client, domain: &str, project: &str, listing: &str) -> String {
    let principal = SubscribedPrincipalInput::Project(SubscribedProjectInput::builder().identifier(project).build());
    let filed = consumer
        .create_subscription_request()
        .domain_identifier(domain)
        .subscribed_principals(principal)
        .subscribed_listings(SubscribedListingInput::builder().identifier(listing).build().unwrap())
        .request_reason("Monthly revenue reporting")
        .send()
        .await
        .unwrap();
    filed.id().to_string()
}

/// The request's status and decision comment.
pub async fn request(consumer: &Client, domain: &str, id: &str) -> (SubscriptionRequestStatus, Option<String>) {
    let r = consumer.get_subscription_request_details().domain_identifier(domain).identifier(id).send().await;
    let r = r.unwrap();
    (r.status().clone(), r.decision_comment().map(str::to_string))
}

/// Waits until the request is no longer PENDING.
pub async fn decided(consumer: &Client, domain: &str, id: &str) -> (SubscriptionRequestStatus, Option<String>) {
    eventually(Duration::from_secs(30), || async {
        let (status, comment) = request(consumer, domain, id).await;
        if status == SubscriptionRequestStatus::Pending { Err("PENDING".to_string()) } else { Ok((status, comment)) }
    })
    .await
}

/// Makes the role `member` (an IAM role ARN) a contributor of `project`, as the project's owner.
pub async fn add_member(owner: &Client, domain: &str, project: &str, member: &str) {
    use aws_sdk_datazone::types::{Member, UserDesignation};
    owner
        .create_project_membership()
        .domain_identifier(domain)
        .project_identifier(project)
        .member(Member::UserIdentifier(member.into()))
        .designation(UserDesignation::ProjectContributor)
        .send()
        .await
        .unwrap();
}

/// The consuming team's role (in the emulator's fixture): a member of its projects only.
pub const CONSUMER_ROLE: &str = "arn:aws:iam::111111111111:role/dz-analytics";

/// The world's DataZoneSubscriptions.
pub fn subscriptions(w: &World) -> Api<DataZoneSubscription> {
    Api::namespaced(w.client.clone(), &w.ns)
}

/// The consuming team's connection to `domain`: its own role, no producer roles.
pub async fn consumer_connection(w: &World, domain: &str) {
    let connection: DataZoneConnection = serde_json::from_value(json!({
        "apiVersion": "dataproducts.dev/v1alpha1", "kind": "DataZoneConnection",
        "metadata": {"name": "analytics", "namespace": w.ns},
        "spec": {"region": "eu-central-1", "domain": {"name": domain}, "roleArn": CONSUMER_ROLE,
                 "externalId": "optional"}
    }))
    .unwrap();
    let api: Api<DataZoneConnection> = Api::namespaced(w.client.clone(), &w.ns);
    api.patch("analytics", &PatchParams::apply("e2e").force(), &Patch::Apply(&connection)).await.unwrap();
}

/// `name` subscribes as `project` to the data product `product` of team sales, its grants landing
/// in `redshift` if given.
pub async fn subscribe(w: &World, name: &str, project: &str, product: &str, redshift: Option<serde_json::Value>) {
    subscribe_to(w, name, project, (product, "sales"), redshift).await
}

/// `name` subscribes as `project` to the data product `(name, owning project)`.
pub async fn subscribe_to(
    w: &World,
    name: &str,
    project: &str,
    product: (&str, &str),
    redshift: Option<serde_json::Value>,
) {
    let mut object = json!({
        "apiVersion": "dataproducts.dev/v1alpha1", "kind": "DataZoneSubscription",
        "metadata": {"name": name, "namespace": w.ns},
        "spec": {"connectionRef": {"kind": "DataZoneConnection", "name": "analytics"}, "project": project,
                 "wanted": {"dataProduct": {"name": product.0, "project": product.1}},
                 "reason": "Monthly revenue reports"}
    });
    if let Some(r) = redshift {
        object["spec"]["redshift"] = r;
    }
    let s: DataZoneSubscription = serde_json::from_value(object).unwrap();
    subscriptions(w).patch(name, &PatchParams::apply("e2e").force(), &Patch::Apply(&s)).await.unwrap();
}
