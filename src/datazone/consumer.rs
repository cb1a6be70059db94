//! The consumer's side of subscriptions: a listing found as a consumer knows it, the one request
//! a `DataZoneSubscription` files for it, and what came of it (the subscription and its grants),
//! made as the consumer's role, a member of the subscribing project
//! (docs/datazone-semantics.md §15). Plain types, as the rest of [`super`].

use super::DzError;
use super::subscriptions::SubscriptionInfo;

/// What a listing lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListingKind {
    Asset,
    DataProduct,
}

impl ListingKind {
    /// As a SearchListings `entityType` filter names it.
    pub fn entity_type(self) -> &'static str {
        match self {
            ListingKind::Asset => "ASSET",
            ListingKind::DataProduct => "DATA_PRODUCT",
        }
    }

    /// As a person says it: `data product`, `asset`.
    pub fn word(self) -> &'static str {
        match self {
            ListingKind::Asset => "asset",
            ListingKind::DataProduct => "data product",
        }
    }
}

/// A listing in the catalog, as a consumer sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListingInfo {
    pub id: String,
    pub name: String,
    pub kind: ListingKind,
    /// The project that published it.
    pub owning_project_id: Option<String>,
}

/// The subscribing project's request, as its members see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnRequest {
    pub id: String,
    pub listing_id: String,
    /// PENDING, ACCEPTED or REJECTED.
    pub status: String,
    /// The approver's comment, once decided.
    pub decision_comment: Option<String>,
}

/// One grant of a subscription: its listing made available in one subscription target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantInfo {
    pub id: String,
    pub target_id: String,
    /// PENDING, IN_PROGRESS, COMPLETED, GRANT_FAILED, …
    pub status: String,
    /// Per asset: its ID and status (GRANT_PENDING, …, GRANTED, GRANT_FAILED, REVOKED, …).
    pub assets: Vec<(String, String)>,
}

/// A Redshift subscription target to make in an environment (V2: the project's Tooling
/// environment), where DataZone grants the project's approved subscriptions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetSpec {
    pub name: String,
    /// Exactly one of the cluster and the workgroup.
    pub cluster: Option<String>,
    pub workgroup: Option<String>,
    pub database: String,
    pub secret_arn: String,
    /// The role DataZone grants with.
    pub manage_access_role: String,
    /// Who receives the grants in the database.
    pub authorized_principal: String,
    pub client_token: String,
}

/// Consumer calls, made as the consumer's connection role.
pub trait Consumer: Send + Sync {
    /// The listings of `kind` named `name` (exactly) that `owning_project` published.
    fn find_listings(
        &self,
        domain: &str,
        kind: ListingKind,
        name: &str,
        owning_project: &str,
    ) -> impl Future<Output = Result<Vec<ListingInfo>, DzError>> + Send;
    /// The listing of this ID, if it is in the catalog.
    fn get_listing(&self, domain: &str, id: &str) -> impl Future<Output = Result<Option<ListingInfo>, DzError>> + Send;
    /// Files `project`'s request for `listing` (idempotent by `client_token`).
    fn request_subscription(
        &self,
        domain: &str,
        project: &str,
        listing: &str,
        reason: &str,
        client_token: &str,
    ) -> impl Future<Output = Result<OwnRequest, DzError>> + Send;
    /// The request of this ID (None when it is gone).
    fn get_request(&self, domain: &str, id: &str) -> impl Future<Output = Result<Option<OwnRequest>, DzError>> + Send;
    /// `project`'s PENDING and ACCEPTED requests for `listing` (the one another request of the
    /// project conflicts with).
    fn open_requests(
        &self,
        domain: &str,
        project: &str,
        listing: &str,
    ) -> impl Future<Output = Result<Vec<OwnRequest>, DzError>> + Send;
    /// The IDs of `project`'s PENDING requests, every page: one listing for all the project's
    /// subscriptions waiting for a decision.
    fn pending_requests_of(
        &self,
        domain: &str,
        project: &str,
    ) -> impl Future<Output = Result<Vec<String>, DzError>> + Send;
    /// The IDs of `project`'s APPROVED subscriptions, every page: one listing for all the
    /// project's granted subscriptions (one revoked or cancelled is no longer in it).
    fn approved_subscriptions_of(
        &self,
        domain: &str,
        project: &str,
    ) -> impl Future<Output = Result<Vec<String>, DzError>> + Send;
    /// The subscription an accepted request became, whatever its status.
    fn subscription_of(
        &self,
        domain: &str,
        request: &str,
    ) -> impl Future<Output = Result<Option<SubscriptionInfo>, DzError>> + Send;
    /// The subscription of this ID (None when it is gone).
    fn get_subscription(
        &self,
        domain: &str,
        id: &str,
    ) -> impl Future<Output = Result<Option<SubscriptionInfo>, DzError>> + Send;
    /// The subscription's grants, every page.
    fn grants(&self, domain: &str, subscription: &str) -> impl Future<Output = Result<Vec<GrantInfo>, DzError>> + Send;
    /// The subscriber unsubscribes (CancelSubscription).
    fn cancel_subscription(&self, domain: &str, id: &str) -> impl Future<Output = Result<(), DzError>> + Send;
    /// The subscription targets of an environment: (ID, name), every page.
    fn subscription_targets(
        &self,
        domain: &str,
        environment: &str,
    ) -> impl Future<Output = Result<Vec<(String, String)>, DzError>> + Send;
    /// Makes a Redshift subscription target in the environment (idempotent by client token); its ID.
    fn create_subscription_target(
        &self,
        domain: &str,
        environment: &str,
        spec: &TargetSpec,
    ) -> impl Future<Output = Result<String, DzError>> + Send;
    /// The subscriber withdraws a request not accepted (DeleteSubscriptionRequest).
    fn withdraw_request(&self, domain: &str, id: &str) -> impl Future<Output = Result<(), DzError>> + Send;
}
