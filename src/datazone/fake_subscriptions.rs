//! The fake's subscription requests and subscriptions: a request is decided once (deciding one
//! no longer PENDING is a ConflictException), an accepted one becomes an APPROVED subscription
//! (docs/datazone-semantics.md §15). A test files requests as a consumer would.

use super::fake::Fake;
use super::subscriptions::{RequestInfo, SubscriptionInfo, Subscriptions};
use super::{DzError, ErrorClass};

impl Subscriptions for Fake {
    async fn pending_requests(&self, _: &str, project: &str) -> Result<Vec<RequestInfo>, DzError> {
        let w = self.call("ListSubscriptionRequests", project)?;
        Ok(w.catalog_state.subscriptions.requests.iter().filter(|r| r.status == "PENDING").cloned().collect())
    }

    async fn accept_request(&self, _: &str, id: &str, comment: &str) -> Result<(), DzError> {
        let mut w = self.call("AcceptSubscriptionRequest", id)?;
        w.catalog_state.subscriptions.decide("AcceptSubscriptionRequest", id, comment, "ACCEPTED")
    }

    async fn reject_request(&self, _: &str, id: &str, comment: &str) -> Result<(), DzError> {
        let mut w = self.call("RejectSubscriptionRequest", id)?;
        w.catalog_state.subscriptions.decide("RejectSubscriptionRequest", id, comment, "REJECTED")
    }

    async fn revoke_subscription(&self, _: &str, id: &str, _: bool) -> Result<(), DzError> {
        let mut w = self.call("RevokeSubscription", id)?;
        let s = w.catalog_state.subscriptions.subscriptions.iter_mut().find(|s| s.id == id);
        let s = s.ok_or_else(|| {
            DzError::new(ErrorClass::Terminal, "RevokeSubscription", "ResourceNotFoundException", id.to_string())
        })?;
        if s.status != "APPROVED" {
            let message = format!("subscription {id} is {}", s.status);
            return Err(DzError::new(ErrorClass::Terminal, "RevokeSubscription", "ConflictException", message));
        }
        s.status = "REVOKED".into();
        Ok(())
    }

    async fn subscriptions(&self, _: &str, project: &str) -> Result<Vec<SubscriptionInfo>, DzError> {
        let w = self.call("ListSubscriptions", project)?;
        Ok(w.catalog_state.subscriptions.subscriptions.iter().filter(|s| s.status == "APPROVED").cloned().collect())
    }
}
