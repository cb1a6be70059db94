//! The fake's consumer side: listings other teams published ([`FakeSubscriptions::publish`]),
//! one request per client token, a second open request of a project for a listing a
//! ConflictException, a project the role is not a member of an AccessDeniedException, and grants
//! a test moves along ([`FakeSubscriptions::grant`]) as DataZone would after approval
//! (docs/datazone-semantics.md §15).

use super::consumer::{Consumer, GrantInfo, ListingInfo, ListingKind, OwnRequest, TargetSpec};
use super::fake::{Fake, FakeSubscriptions, not_found};
use super::subscriptions::{RequestInfo, SubscriptionInfo};
use super::{DzError, ErrorClass};

fn own(r: &RequestInfo, s: &FakeSubscriptions) -> OwnRequest {
    OwnRequest {
        id: r.id.clone(),
        listing_id: r.listing_id.clone(),
        status: r.status.clone(),
        decision_comment: s.comments.get(&r.id).cloned(),
    }
}

impl FakeSubscriptions {
    /// Another team's project publishes a listing of `kind` named `name`; its listing ID.
    pub fn publish(&mut self, kind: ListingKind, name: &str, owning_project: &str) -> String {
        let id = format!("listing-{}", self.catalog.len() + 1);
        self.catalog.push(ListingInfo {
            id: id.clone(),
            name: name.into(),
            kind,
            owning_project_id: Some(owning_project.into()),
        });
        id
    }

    /// DataZone's grant of the subscription into one target, of `assets`, at `status` (each asset
    /// GRANTED once COMPLETED, else GRANT_PENDING; GRANT_FAILED when the grant failed).
    pub fn grant(&mut self, subscription: &str, target: &str, assets: &[&str], status: &str) {
        let asset_status = match status {
            "COMPLETED" => "GRANTED",
            "GRANT_FAILED" => "GRANT_FAILED",
            _ => "GRANT_PENDING",
        };
        let grants = self.grants.entry(subscription.into()).or_default();
        let grant = GrantInfo {
            id: format!("grant-{subscription}-{target}"),
            target_id: target.into(),
            status: status.into(),
            assets: assets.iter().map(|a| (a.to_string(), asset_status.to_string())).collect(),
        };
        grants.retain(|g| g.target_id != target);
        grants.push(grant);
    }

    /// The subscription `request` became.
    pub fn subscription_of_request(&self, request: &str) -> Option<&SubscriptionInfo> {
        let listing = &self.requests.iter().find(|r| r.id == request)?.listing_id;
        let project = &self.requests.iter().find(|r| r.id == request)?.project_id;
        self.subscriptions.iter().rev().find(|s| &s.listing_id == listing && &s.project_id == project)
    }

    fn refused(operation: &'static str, code: &str, message: String) -> DzError {
        DzError::new(ErrorClass::Terminal, operation, code, message)
    }
}

impl Consumer for Fake {
    async fn find_listings(
        &self,
        _: &str,
        kind: ListingKind,
        name: &str,
        owning_project: &str,
    ) -> Result<Vec<ListingInfo>, DzError> {
        let w = self.call("SearchListings", name)?;
        let owned = |l: &&ListingInfo| l.owning_project_id.as_deref() == Some(owning_project);
        Ok(w.catalog_state
            .subscriptions
            .catalog
            .iter()
            .filter(|l| l.kind == kind && l.name == name)
            .filter(owned)
            .cloned()
            .collect())
    }

    async fn get_listing(&self, _: &str, id: &str) -> Result<Option<ListingInfo>, DzError> {
        let w = self.call("GetListing", id)?;
        Ok(w.catalog_state.subscriptions.catalog.iter().find(|l| l.id == id).cloned())
    }

    async fn request_subscription(
        &self,
        _: &str,
        project: &str,
        listing: &str,
        _: &str,
        client_token: &str,
    ) -> Result<OwnRequest, DzError> {
        const OP: &str = "CreateSubscriptionRequest";
        let mut w = self.call(OP, listing)?;
        let s = &mut w.catalog_state.subscriptions;
        if s.not_member.contains(project) {
            return Err(FakeSubscriptions::refused(
                OP,
                "AccessDeniedException",
                format!("User is not permitted to perform operation: {OP}"),
            ));
        }
        if let Some(r) = s.tokens.get(client_token).and_then(|id| s.requests.iter().find(|r| &r.id == id)) {
            return Ok(own(r, s));
        }
        if !s.catalog.iter().any(|l| l.id == listing) {
            return Err(not_found(OP, listing));
        }
        let same = |p: &str, l: &str| p == project && l == listing;
        if s.requests.iter().any(|r| same(&r.project_id, &r.listing_id) && r.status == "PENDING")
            || s.subscriptions.iter().any(|x| same(&x.project_id, &x.listing_id) && x.status == "APPROVED")
        {
            let message = format!("project {project} already has an open request or subscription for {listing}");
            return Err(FakeSubscriptions::refused(OP, "ConflictException", message));
        }
        let entity = listing.to_string();
        let id = s.file(&entity, project, project);
        if let Some(r) = s.requests.iter_mut().find(|r| r.id == id) {
            r.listing_id = listing.into();
        }
        s.tokens.insert(client_token.into(), id.clone());
        let r = s.requests.iter().find(|r| r.id == id).expect("just filed");
        Ok(own(r, s))
    }

    async fn get_request(&self, _: &str, id: &str) -> Result<Option<OwnRequest>, DzError> {
        let w = self.call("GetSubscriptionRequestDetails", id)?;
        let s = &w.catalog_state.subscriptions;
        Ok(s.requests.iter().find(|r| r.id == id).map(|r| own(r, s)))
    }

    async fn open_requests(&self, _: &str, project: &str, listing: &str) -> Result<Vec<OwnRequest>, DzError> {
        let w = self.call("ListSubscriptionRequests", listing)?;
        let s = &w.catalog_state.subscriptions;
        Ok(s.requests
            .iter()
            .filter(|r| r.project_id == project && r.listing_id == listing)
            .filter(|r| r.status == "PENDING" || r.status == "ACCEPTED")
            .map(|r| own(r, s))
            .collect())
    }

    async fn pending_requests_of(&self, _: &str, project: &str) -> Result<Vec<String>, DzError> {
        let w = self.call("ListSubscriptionRequests", project)?;
        let s = &w.catalog_state.subscriptions;
        Ok(s.requests
            .iter()
            .filter(|r| r.project_id == project && r.status == "PENDING")
            .map(|r| r.id.clone())
            .collect())
    }

    async fn approved_subscriptions_of(&self, _: &str, project: &str) -> Result<Vec<String>, DzError> {
        let w = self.call("ListSubscriptions", project)?;
        let s = &w.catalog_state.subscriptions;
        Ok(s.subscriptions
            .iter()
            .filter(|x| x.project_id == project && x.status == "APPROVED")
            .map(|x| x.id.clone())
            .collect())
    }

    async fn subscription_of(&self, _: &str, request: &str) -> Result<Option<SubscriptionInfo>, DzError> {
        let w = self.call("ListSubscriptions", request)?;
        Ok(w.catalog_state.subscriptions.subscription_of_request(request).cloned())
    }

    async fn get_subscription(&self, _: &str, id: &str) -> Result<Option<SubscriptionInfo>, DzError> {
        let w = self.call("GetSubscription", id)?;
        Ok(w.catalog_state.subscriptions.subscriptions.iter().find(|s| s.id == id).cloned())
    }

    async fn grants(&self, _: &str, subscription: &str) -> Result<Vec<GrantInfo>, DzError> {
        let w = self.call("ListSubscriptionGrants", subscription)?;
        Ok(w.catalog_state.subscriptions.grants.get(subscription).cloned().unwrap_or_default())
    }

    async fn cancel_subscription(&self, _: &str, id: &str) -> Result<(), DzError> {
        const OP: &str = "CancelSubscription";
        let mut w = self.call(OP, id)?;
        let s = w.catalog_state.subscriptions.subscriptions.iter_mut().find(|s| s.id == id);
        let s = s.ok_or_else(|| not_found(OP, id))?;
        if s.status != "APPROVED" {
            return Err(FakeSubscriptions::refused(
                OP,
                "ConflictException",
                format!("subscription {id} is {}", s.status),
            ));
        }
        s.status = "CANCELLED".into();
        Ok(())
    }

    async fn subscription_targets(&self, _: &str, environment: &str) -> Result<Vec<(String, String)>, DzError> {
        let w = self.call("ListSubscriptionTargets", environment)?;
        let targets = &w.catalog_state.subscriptions.targets;
        Ok(targets
            .iter()
            .filter(|(e, _, _)| e == environment)
            .map(|(_, id, name)| (id.clone(), name.clone()))
            .collect())
    }

    async fn create_subscription_target(
        &self,
        _: &str,
        environment: &str,
        spec: &TargetSpec,
    ) -> Result<String, DzError> {
        let mut w = self.call("CreateSubscriptionTarget", &spec.name)?;
        let targets = &mut w.catalog_state.subscriptions.targets;
        let id = format!("target-{}", targets.len() + 1);
        targets.push((environment.to_string(), id.clone(), spec.name.clone()));
        Ok(id)
    }

    async fn withdraw_request(&self, _: &str, id: &str) -> Result<(), DzError> {
        const OP: &str = "DeleteSubscriptionRequest";
        let mut w = self.call(OP, id)?;
        let s = &mut w.catalog_state.subscriptions;
        let r = s.requests.iter().find(|r| r.id == id).ok_or_else(|| not_found(OP, id))?;
        if r.status == "ACCEPTED" {
            return Err(FakeSubscriptions::refused(OP, "ConflictException", format!("request {id} was accepted")));
        }
        s.requests.retain(|r| r.id != id);
        Ok(())
    }
}
