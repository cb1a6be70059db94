//! `DataZoneSubscription`: the consumer's side of the mesh. A team declares, beside the app that
//! reads it, a data product (or one asset) it needs from another team; the operator files the
//! subscription request as the consuming project, follows it to approval and the grants, and says
//! in status (and to kstatus, Argo CD and Flux) whether the data is there yet.
//! (docs/guide/subscriptions.md)

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::conditions::Condition;
use super::data_product::ConnectionRef;
use super::patterns as p;

/// A data product or asset a consuming project needs, requested and followed to its grants.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[kube(
    group = "dataproducts.dev",
    version = "v1alpha1",
    kind = "DataZoneSubscription",
    plural = "datazonesubscriptions",
    shortname = "dzsub",
    category = "dataproducts",
    namespaced,
    cel,
    status = "DataZoneSubscriptionStatus",
    doc = "A data product or asset a consuming project needs: requested in DataZone and followed to its grants.",
    printcolumn(name = "Ready", type_ = "string", json_path = ".status.conditions[?(@.type==\"Ready\")].status"),
    printcolumn(name = "Reason", type_ = "string", json_path = ".status.conditions[?(@.type==\"Ready\")].reason"),
    printcolumn(name = "Wanted", type_ = "string", json_path = ".status.wanted"),
    printcolumn(name = "Request", type_ = "string", json_path = ".status.request.state"),
    printcolumn(name = "Grants", type_ = "string", json_path = ".status.grantSummary"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[x_kube(
    validation = Rule::new("self.project == oldSelf.project").message("spec.project is immutable: the request is filed as that project; create a new DataZoneSubscription to subscribe as another project"),
    validation = Rule::new("self.connectionRef == oldSelf.connectionRef").message("spec.connectionRef is immutable: it decides the DataZone domain and who asks; create a new DataZoneSubscription to subscribe through another connection")
)]
#[serde(rename_all = "camelCase")]
pub struct DataZoneSubscriptionSpec {
    /// The consumer's connection: its role must be a member of the consuming project.
    pub connection_ref: ConnectionRef,

    /// The consuming (subscribing) project: its name or ID.
    #[schemars(length(min = 1, max = p::PROJECT_NAME_MAX), pattern(p::PROJECT_NAME_OR_ID))]
    pub project: String,

    /// What is wanted: a data product, one asset, or a listing by ID.
    pub wanted: Wanted,

    /// Why, shown to the approver (DataZone's requestReason).
    #[schemars(length(min = 1, max = 4096))]
    pub reason: String,

    /// Where the grant should land: the consumer's Redshift. The operator makes sure the
    /// consuming project has a data warehouse environment for it (one per project, account,
    /// cluster or workgroup and database, found before it is created, shared by every
    /// subscription and data product of the project) before it files the request: DataZone grants
    /// only into targets there at approval. Left out, DataZone grants into whatever subscription
    /// targets the consuming project has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redshift: Option<ConsumerRedshift>,

    /// What deleting this resource does: Cancel (the default) cancels the subscription; Keep
    /// leaves it.
    #[serde(default)]
    pub deletion_policy: SubscriptionDeletionPolicy,
}

/// Exactly one of a data product, an asset, or a listing ID.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[x_kube(validation = Rule::new("[has(self.dataProduct), has(self.asset), has(self.listingId)].filter(x, x).size() == 1").message("spec.wanted: name exactly one of dataProduct, asset or listingId"))]
#[serde(rename_all = "camelCase")]
pub struct Wanted {
    /// A data product by its name and the project that owns it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_product: Option<Published>,
    /// One asset by its name and the project that owns it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset: Option<Published>,
    /// A listing by its ID, as the portal shows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(p::RESOURCE_ID))]
    pub listing_id: Option<String>,
}

/// Something published, as a consumer knows it: its name and its owning project.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Published {
    #[schemars(length(min = 1, max = 256))]
    pub name: String,
    /// The owning (producing) project: its name or ID.
    #[schemars(length(min = 1, max = p::PROJECT_NAME_MAX), pattern(p::PROJECT_NAME_OR_ID))]
    pub project: String,
}

/// The consumer's Redshift the grant should land in.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[x_kube(validation = Rule::new("has(self.clusterName) != has(self.workgroupName)").message("spec.redshift: set exactly one of clusterName or workgroupName"))]
#[serde(rename_all = "camelCase")]
pub struct ConsumerRedshift {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = p::CLUSTER_NAME_MAX), pattern(p::CLUSTER_NAME))]
    pub cluster_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 3, max = 64), pattern(p::WORKGROUP_NAME))]
    pub workgroup_name: Option<String>,
    #[schemars(length(min = 1, max = p::DATABASE_OR_SCHEMA_MAX))]
    pub database: String,
    /// The Secrets Manager secret DataZone reads to grant into this database (tagged for the
    /// domain and project, as a producer's).
    #[schemars(length(min = 1, max = p::SECRETS_MANAGER_ARN_MAX), pattern(p::SECRETS_MANAGER_ARN))]
    pub credentials_secret_arn: String,
    /// V2 domains: the role DataZone grants into this Redshift with (one with
    /// AmazonDataZoneRedshiftManageAccessRolePolicy), for the subscription target the operator
    /// makes. V1 environments bring their own target (the blueprint configuration's role).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 20, max = 2048), pattern(p::IAM_ROLE_ARN))]
    pub manage_access_role_arn: Option<String>,
}

/// What deleting a DataZoneSubscription does in DataZone.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum SubscriptionDeletionPolicy {
    /// Cancel the subscription (the consumer unsubscribes).
    #[default]
    Cancel,
    /// Leave the subscription as it is.
    Keep,
}

/// Observed state, written only by the operator.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DataZoneSubscriptionStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Ready, Requested, Approved, Granted; Reconciling or Stalled while not Ready.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// The consuming project's data warehouse environment the grants land in (`spec.redshift`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment_id: Option<String>,
    /// The domain and the consuming project, as IDs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    /// What was found: `data product <name> of <project>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wanted: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listing_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<RequestStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription: Option<SubscriptionStatus>,
    /// Per granted asset: the target and the grant's status.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<GrantStatus>,
    /// `3/3 granted`, for the printer column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_summary: Option<String>,
    /// The `dataproducts.dev/reconcile-requested-at` annotation last acted on: changing it files
    /// a new request after a rejection or revocation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reconcile_at: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequestStatus {
    pub id: String,
    /// PENDING, ACCEPTED or REJECTED.
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision_comment: Option<String>,
    /// What of the spec the request was filed for (project, wanted, reason, redshift): after a
    /// rejection or revocation, a new request is filed only when it changes.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub spec_hash: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionStatus {
    pub id: String,
    /// APPROVED, REVOKED or CANCELLED.
    pub state: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GrantStatus {
    pub asset_id: String,
    pub target_id: String,
    /// The grant's overall status (COMPLETED, IN_PROGRESS, …) and the asset's (GRANTED, …).
    pub status: String,
    pub asset_status: String,
}
