//! `DataZoneConnection` (namespaced) and `ClusterDataZoneConnection` (cluster-scoped): where
//! the DataZone domain is and how to reach it, shared by many data products. Split like External
//! Secrets' SecretStore / ClusterSecretStore: a platform team owns the cluster-scoped one and
//! limits which namespaces may use it.

use std::collections::BTreeMap;

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::conditions::Condition;
use super::patterns as p;

/// How to reach an Amazon DataZone domain: its region and name or ID, the governance-account
/// role to assume for project-scoped calls, and the producer-account roles for enabling the
/// Data Warehouse blueprint. Usable by data products in the same namespace.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "dataproducts.dev",
    version = "v1alpha1",
    kind = "DataZoneConnection",
    plural = "datazoneconnections",
    category = "dataproducts",
    namespaced,
    cel,
    status = "ConnectionStatus",
    doc = "How to reach an Amazon DataZone domain; used by RedshiftDataProducts in the same namespace.",
    printcolumn(name = "Ready", type_ = "string", json_path = ".status.conditions[?(@.type==\"Ready\")].status"),
    printcolumn(name = "Reason", type_ = "string", json_path = ".status.conditions[?(@.type==\"Ready\")].reason"),
    printcolumn(name = "Region", type_ = "string", json_path = ".spec.region"),
    printcolumn(name = "Domain", type_ = "string", json_path = ".status.domainId"),
    printcolumn(name = "Version", type_ = "string", json_path = ".status.domainVersion"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[serde(rename_all = "camelCase")]
pub struct DataZoneConnectionSpec {
    #[serde(flatten)]
    pub connection: ConnectionSettings,
}

/// Like DataZoneConnection, but cluster-scoped: usable by data products in every namespace its
/// namespaceSelector admits.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "dataproducts.dev",
    version = "v1alpha1",
    kind = "ClusterDataZoneConnection",
    plural = "clusterdatazoneconnections",
    category = "dataproducts",
    cel,
    status = "ConnectionStatus",
    doc = "How to reach an Amazon DataZone domain; shared by RedshiftDataProducts of the namespaces it admits.",
    printcolumn(name = "Ready", type_ = "string", json_path = ".status.conditions[?(@.type==\"Ready\")].status"),
    printcolumn(name = "Reason", type_ = "string", json_path = ".status.conditions[?(@.type==\"Ready\")].reason"),
    printcolumn(name = "Region", type_ = "string", json_path = ".spec.region"),
    printcolumn(name = "Domain", type_ = "string", json_path = ".status.domainId"),
    printcolumn(name = "Version", type_ = "string", json_path = ".status.domainVersion"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[serde(rename_all = "camelCase")]
pub struct ClusterDataZoneConnectionSpec {
    #[serde(flatten)]
    pub connection: ConnectionSettings,

    /// Namespaces whose RedshiftDataProducts may use this connection. Omitted or empty: every
    /// namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_selector: Option<LabelSelector>,
}

/// What both connection kinds say about the domain.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionSettings {
    /// AWS region of the DataZone domain, e.g. eu-central-1.
    #[schemars(length(min = 4, max = 16), pattern(p::REGION))]
    pub region: String,

    /// The DataZone domain: exactly one of its name or its ID.
    pub domain: DomainRef,

    /// IAM role in the governance account (the domain's account) that the operator assumes for
    /// project-scoped calls. It must be a contributor member of the projects it publishes into.
    #[schemars(length(min = 20, max = 2048), pattern(p::IAM_ROLE_ARN))]
    pub role_arn: String,

    /// External ID the role's trust policy requires, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 2, max = 1224), pattern(p::EXTERNAL_ID))]
    pub external_id: Option<String>,

    /// The producer account's roles for enabling the DefaultDataWarehouse blueprint. A
    /// connection only consumers use (DataZoneSubscription) leaves them out; a V1 data product
    /// publishing through it is then Stalled (NoProducerRoles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub producer: Option<ProducerSettings>,

    /// What the objects using this connection may name: a data product (or glossary) must be
    /// allowed by at least one rule that applies to its namespace, or it is refused before any
    /// DataZone call that changes anything (condition ConnectionResolved reason NotAllowed, naming
    /// the rule). Left out, anything the role can do.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 100))]
    pub allowed: Vec<TenancyRule>,

    /// For which consumer projects the data products using this connection may approve
    /// subscription requests by their access policy (`spec.access`), per namespace. Left out:
    /// none; a policy with an Approve rule is then refused as a whole (condition AccessPolicy
    /// reason ApprovalNotAllowed, naming the rule) and every request waits for a person.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 100))]
    pub auto_approval: Vec<AutoApproval>,
}

/// One tenancy rule: each list left out or empty allows anything of its kind.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TenancyRule {
    /// The namespaces the rule is for (on a ClusterDataZoneConnection, one rule per team); left
    /// out, every namespace the connection admits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_selector: Option<LabelSelector>,
    /// DataZone projects, as `spec.project` names them (name or ID).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 100), inner(length(min = 1, max = p::PROJECT_NAME_MAX), pattern(p::PROJECT_NAME_OR_ID)))]
    pub projects: Vec<String>,
    /// Provisioned Redshift clusters. With `workgroups`: either one of the two lists is set, and the
    /// data product's cluster or workgroup must be in its list.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 100), inner(length(min = 1, max = p::CLUSTER_NAME_MAX), pattern(p::CLUSTER_NAME)))]
    pub clusters: Vec<String>,
    /// Redshift Serverless workgroups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 100), inner(length(min = 3, max = 64), pattern(p::WORKGROUP_NAME)))]
    pub workgroups: Vec<String>,
    /// Redshift databases.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 100), inner(length(min = 1, max = p::DATABASE_OR_SCHEMA_MAX)))]
    pub databases: Vec<String>,
    /// Secrets Manager ARNs of the Redshift credentials, where `*` stands for any characters
    /// (e.g. `arn:aws:secretsmanager:eu-central-1:222222222222:secret:dz-sales-*`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 100), inner(length(min = 1, max = p::SECRETS_MANAGER_ARN_MAX), pattern(p::SECRET_ARN_PATTERN)))]
    pub credentials_secret_arns: Vec<String>,
}

/// A DataZone domain by name or by ID.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[x_kube(validation = Rule::new("has(self.name) != has(self.id)").message("domain: set exactly one of name or id"))]
#[serde(rename_all = "camelCase")]
pub struct DomainRef {
    /// The domain's name (resolved to its ID with ListDomains).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 256))]
    pub name: Option<String>,
    /// The domain's ID, e.g. dzd_0123456789abcd.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(p::DOMAIN_ID))]
    pub id: Option<String>,
}

/// Roles of the producer account (where the operator runs) used to enable the
/// DefaultDataWarehouse blueprint (PutEnvironmentBlueprintConfiguration).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProducerSettings {
    /// Role DataZone assumes to provision environments in the producer account.
    #[schemars(length(min = 20, max = 2048), pattern(p::IAM_ROLE_ARN))]
    pub provisioning_role_arn: String,
    /// Role DataZone uses to manage access to the producer's Redshift data.
    #[schemars(length(min = 20, max = 2048), pattern(p::IAM_ROLE_ARN))]
    pub manage_access_role_arn: String,
    /// Per-region blueprint parameters, passed through to DataZone unchanged.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub regional_parameters: BTreeMap<String, BTreeMap<String, String>>,
}

/// A label selector, as in `metav1.LabelSelector`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    /// Labels a namespace must have, all of them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub match_labels: BTreeMap<String, String>,
    /// Requirements a namespace's labels must meet, all of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_expressions: Vec<LabelSelectorRequirement>,
}

/// One requirement of a label selector.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelectorRequirement {
    /// The label key.
    pub key: String,
    /// In, NotIn, Exists or DoesNotExist.
    pub operator: SelectorOperator,
    /// Values for In and NotIn; empty for Exists and DoesNotExist.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

/// Operator of a label selector requirement.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum SelectorOperator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

/// Observed state of a connection, written only by the operator.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionStatus {
    /// The metadata.generation the status was last computed for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Ready: the role can be assumed and the domain resolves; while not, Reconciling or Stalled
    /// (a person must act).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,
    /// The resolved DataZone domain ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain_id: Option<String>,
    /// The domain's generation: `V1` (environments) or `V2` (Amazon SageMaker Unified Studio,
    /// connections); it decides how data products publish through this connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain_version: Option<String>,
    /// The producer account the operator's own credentials belong to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller_account_id: Option<String>,
    /// The session ARN obtained by assuming roleArn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assumed_role_arn: Option<String>,
    /// Data products this operator has seen use the connection (counted since it started).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_products: Option<i64>,
    /// Of those, the ones `allowed` refuses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused_data_products: Option<i64>,
}

/// For which consumer projects the data products using a connection may approve subscription
/// requests by their access policy (`spec.access`): approving is the one decision that opens
/// data, so the platform team opts in; rejecting and leaving to a person need no permission.
/// One entry per team on a ClusterDataZoneConnection.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AutoApproval {
    /// The namespaces the entry is for; left out, every namespace the connection admits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_selector: Option<LabelSelector>,

    /// Consumer projects their policies may approve, by name or ID (as the rules name them);
    /// `*` is any project.
    #[schemars(length(min = 1, max = 100), inner(length(min = 1, max = p::PROJECT_NAME_MAX), pattern(p::PROJECT_NAME_ID_OR_ANY)))]
    pub projects: Vec<String>,
}
