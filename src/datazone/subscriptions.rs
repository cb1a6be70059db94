//! Subscription requests to a producer's listings, and the subscriptions they became
//! (docs/datazone-semantics.md §15). Plain types, as the rest of [`super`].

use super::DzError;

/// A request to subscribe to one listing, as the producer sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestInfo {
    pub id: String,
    /// The listing asked for (a request names exactly one).
    pub listing_id: String,
    /// What it lists: an asset's or a data product's ID.
    pub entity_id: Option<String>,
    /// The subscribing project: its ID, and its name when DataZone says it.
    pub project_id: String,
    pub project_name: Option<String>,
    /// PENDING, ACCEPTED or REJECTED.
    pub status: String,
    /// When it was filed (RFC 3339).
    pub created_at: Option<String>,
}

/// A subscription to one of the producer's listings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubscriptionInfo {
    pub id: String,
    pub listing_id: String,
    /// What it lists: an asset's or a data product's ID.
    pub entity_id: Option<String>,
    pub project_id: String,
    pub project_name: Option<String>,
    /// APPROVED, REVOKED or CANCELLED.
    pub status: String,
}

/// Subscription calls, made as the connection's role (a member of the producing project: only
/// its members may decide).
pub trait Subscriptions: Send + Sync {
    /// The PENDING requests to the listings `project` owns, every page.
    fn pending_requests(
        &self,
        domain: &str,
        project: &str,
    ) -> impl Future<Output = Result<Vec<RequestInfo>, DzError>> + Send;
    /// Accepts a request with `comment` (1–4,096 characters).
    fn accept_request(&self, domain: &str, id: &str, comment: &str)
    -> impl Future<Output = Result<(), DzError>> + Send;
    /// Rejects a request with `comment`.
    fn reject_request(&self, domain: &str, id: &str, comment: &str)
    -> impl Future<Output = Result<(), DzError>> + Send;
    /// Revokes a subscription (the owner's): the subscriber keeps the granted permissions when
    /// `retain_permissions`.
    fn revoke_subscription(
        &self,
        domain: &str,
        id: &str,
        retain_permissions: bool,
    ) -> impl Future<Output = Result<(), DzError>> + Send;
    /// The APPROVED subscriptions to the listings `project` owns, every page.
    fn subscriptions(
        &self,
        domain: &str,
        project: &str,
    ) -> impl Future<Output = Result<Vec<SubscriptionInfo>, DzError>> + Send;
}
