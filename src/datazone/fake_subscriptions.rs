//! The fake's subscription requests and subscriptions: a request is decided once (deciding one
//! no longer PENDING is a ConflictException), an accepted one becomes an APPROVED subscription
//! (docs/datazone-semantics.md §15). A test files requests as a consumer would.

use super::fake::Fake;
use super::subscriptions::{RequestInfo, SubscriptionInfo, Subscriptions};
use super::{DzError, ErrorClass};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FakeSubscriptions {
    pub requests: Vec<RequestInfo>,
    /// Request ID → the decision comment.
    pub comments: std::collections::BTreeMap<String, String>,
    pub subscriptions: Vec<SubscriptionInfo>,
    next: u32,
}

impl FakeSubscriptions {
    /// A consumer project asks for the listing of `entity` (an asset or data product ID);
    /// answers the request's ID.
    pub fn file(&mut self, entity: &str, project_id: &str, project_name: &str) -> String {
        self.next += 1;
        let id = format!("sr-{}", self.next);
        self.requests.push(RequestInfo {
            id: id.clone(),
            listing_id: format!("listing-of-{entity}"),
            entity_id: Some(entity.into()),
            project_id: project_id.into(),
            project_name: Some(project_name.into()),
            status: "PENDING".into(),
        });
        id
    }

    fn decide(&mut self, operation: &'static str, id: &str, comment: &str, to: &str) -> Result<(), DzError> {
        let Some(request) = self.requests.iter_mut().find(|r| r.id == id) else {
            return Err(DzError::new(ErrorClass::Terminal, operation, "ResourceNotFoundException", id.to_string()));
        };
        if request.status != "PENDING" {
            let message = format!("subscription request {id} is {}", request.status);
            return Err(DzError::new(ErrorClass::Terminal, operation, "ConflictException", message));
        }
        request.status = to.into();
        self.comments.insert(id.into(), comment.into());
        if to == "ACCEPTED" {
            let request = request.clone();
            self.next += 1;
            self.subscriptions.push(SubscriptionInfo {
                id: format!("sub-{}", self.next),
                listing_id: request.listing_id,
                entity_id: request.entity_id,
                project_id: request.project_id,
                project_name: request.project_name,
                status: "APPROVED".into(),
            });
        }
        Ok(())
    }
}

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

    async fn subscriptions(&self, _: &str, project: &str) -> Result<Vec<SubscriptionInfo>, DzError> {
        let w = self.call("ListSubscriptions", project)?;
        Ok(w.catalog_state.subscriptions.subscriptions.iter().filter(|s| s.status == "APPROVED").cloned().collect())
    }
}
