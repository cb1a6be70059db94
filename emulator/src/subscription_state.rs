//! The records of access to the catalog (subscription requests, subscriptions, subscription
//! targets and grants), kept in [`crate::state::State`] and re-exported from there. A leaf: the
//! handlers in `datazone/subscription_*.rs` give them their behaviour.

use serde_json::Value;

use crate::catalog_state::Form;
use crate::clock::Instant;

/// A consumer project's request for one listing (PENDING, then ACCEPTED or REJECTED).
#[derive(Clone, Debug)]
pub struct SubscriptionRequest {
    pub id: String,
    pub domain_id: String,
    /// PENDING, ACCEPTED or REJECTED.
    pub status: &'static str,
    pub request_reason: String,
    /// The subscribing project (the only kind of principal emulated).
    pub project_id: String,
    pub listing_id: String,
    /// The listing revision when the request was made: what a subscription made of it reaches.
    pub listing_revision: u32,
    /// The project that owns the listing: it decides.
    pub approver_project_id: String,
    /// SubscribedListing as the request was made (the catalog may change after).
    pub listing_json: Value,
    pub metadata_forms: Vec<Form>,
    pub reviewer_id: Option<String>,
    pub decision_comment: Option<String>,
    pub created_by: String,
    pub created_at: Instant,
    pub updated_by: Option<String>,
    pub updated_at: Instant,
}

/// An accepted request: the subscriber's access (APPROVED, then REVOKED or CANCELLED).
#[derive(Clone, Debug)]
pub struct Subscription {
    pub id: String,
    pub domain_id: String,
    /// APPROVED, REVOKED or CANCELLED.
    pub status: &'static str,
    pub project_id: String,
    pub listing_id: String,
    pub listing_revision: u32,
    pub approver_project_id: String,
    pub listing_json: Value,
    pub request_id: String,
    /// Set by RevokeSubscription (as given, default false) and CancelSubscription (false).
    pub retain_permissions: Option<bool>,
    pub created_by: String,
    pub created_at: Instant,
    pub updated_by: Option<String>,
    pub updated_at: Instant,
}

impl Subscription {
    pub fn is_approved(&self) -> bool {
        self.status == "APPROVED"
    }
}

/// Where an environment receives the data its project subscribes to.
#[derive(Clone, Debug)]
pub struct SubscriptionTarget {
    pub id: String,
    pub domain_id: String,
    pub project_id: String,
    pub environment_id: String,
    pub name: String,
    pub type_: String,
    pub provider: String,
    pub authorized_principals: Vec<String>,
    pub manage_access_role: String,
    pub applicable_asset_types: Vec<String>,
    /// SubscriptionTargetForm: (formName, content).
    pub config: Vec<(String, String)>,
    /// AUTOMATIC: grants are made when a subscription is approved; MANUAL: they are not.
    pub grant_creation_mode: &'static str,
    pub created_by: String,
    pub created_at: Instant,
}

impl SubscriptionTarget {
    /// Whether the target takes assets of `asset_type` (`amazon.datazone.RedshiftTableAssetType`):
    /// named with or without the `amazon.datazone.` prefix.
    pub fn applies_to(&self, asset_type: &str) -> bool {
        let short = asset_type.strip_prefix("amazon.datazone.").unwrap_or(asset_type);
        self.applicable_asset_types.iter().any(|t| t == asset_type || t == short)
    }
}

/// One asset of a grant, and how far it is.
#[derive(Clone, Debug)]
pub struct GrantedAsset {
    pub asset_id: String,
    pub asset_revision: String,
    /// GRANT_PENDING, GRANT_IN_PROGRESS, GRANTED, REVOKE_PENDING, REVOKE_IN_PROGRESS, REVOKED.
    pub status: &'static str,
    pub granted_at: Option<Instant>,
}

/// What a grant is doing: granting its assets, or taking them back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantWork {
    Grant,
    Revoke,
}

/// A subscription's listing made available in one subscription target.
#[derive(Clone, Debug)]
pub struct SubscriptionGrant {
    pub id: String,
    pub domain_id: String,
    pub subscription_id: Option<String>,
    pub target_id: String,
    pub environment_id: String,
    /// The subscriber project (the target's).
    pub project_id: String,
    /// The project that owns the listing.
    pub approver_project_id: String,
    pub listing_id: String,
    pub listing_revision: u32,
    /// PENDING, IN_PROGRESS or COMPLETED (SubscriptionGrantOverallStatus).
    pub status: &'static str,
    pub assets: Vec<GrantedAsset>,
    pub work: GrantWork,
    /// Steps of the current work done: 0 (PENDING), 1 (IN_PROGRESS), 2 (COMPLETED).
    pub step: u8,
    /// Counts the works started, so a step scheduled for an earlier one is ignored.
    pub generation: u32,
    pub created_by: String,
    pub created_at: Instant,
    pub updated_by: Option<String>,
    pub updated_at: Instant,
}
