//! `spec.access`: the producer's subscription policy, kept in Git beside its tables. DataZone
//! has no automatic approval (docs/datazone-semantics.md, subscriptions): a request to subscribe
//! waits for a member of the producing project. The operator answers the requests to this
//! resource's listings (its DataZone data products and its assets' own listings) by the first
//! rule that names the requesting project; a request no rule names waits for a person, as
//! without a policy. Left out, nothing changes.
//!
//! Approve rules need the connection's permission (`autoApproval`, [`super::connection`]).

use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::patterns as p;

/// Who gets access without a person deciding, and who is refused.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AccessPolicy {
    /// Rules in order: the first that names the requesting project decides. A request none names
    /// waits for a person in the portal. Rule names are unique.
    #[schemars(length(min = 1, max = p::ACCESS_RULES_MAX))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["name".into()]))]
    pub rules: Vec<AccessRule>,
}

/// One rule: which requesting projects, and what they get.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[x_kube(validation = Rule::new("self.decision != 'Reject' || has(self.reason)").message("spec.access.rules[].reason: a Reject rule states its reason (the requester reads it)"))]
#[serde(rename_all = "camelCase")]
pub struct AccessRule {
    /// Named in the decision comment DataZone shows the requester and keeps for the auditor.
    #[schemars(length(min = 1, max = 63), pattern(p::DNS_LABEL))]
    pub name: String,

    /// The requesting (subscribing) DataZone projects, by name or ID; `*` is any project.
    #[schemars(length(min = 1, max = 100), inner(length(min = 1, max = p::PROJECT_NAME_MAX), pattern(p::PROJECT_NAME_ID_OR_ANY)))]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub projects: Vec<String>,

    /// Approve or Reject.
    pub decision: AccessDecision,

    /// Why, in the decision comment: required to reject, optional to approve.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = p::ACCESS_REASON_MAX))]
    pub reason: Option<String>,
}

/// What a rule does with a request it names.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum AccessDecision {
    /// Accept the request: DataZone then grants the subscriber access.
    Approve,
    /// Reject the request, with the rule's reason.
    Reject,
}

/// Subscribers to a resource's listings (its data products' and its assets' own), and what its
/// access policy decided.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessStatus {
    /// Projects with an APPROVED subscription to one of the listings.
    pub subscribers: u32,
    /// The first few of them (by name where DataZone says it), in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subscribing_projects: Vec<String>,
    /// Requests no rule names: they wait for a person in the portal.
    pub waiting: u32,
    /// When the oldest of them was filed (RFC 3339), as DataZone says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_since: Option<String>,
    /// Requests the policy approved and rejected, since the resource was made.
    pub approved: u32,
    pub rejected: u32,
}
