//! [`Subscriptions`] over the AWS SDK.

use aws_sdk_datazone::types as dz;

use super::DzError;
use super::sdk::SdkDataZone;
use super::sdk_convert::sdk_error;
use super::subscriptions::{RequestInfo, SubscriptionInfo, Subscriptions};

/// The page size limit of both listings [model: `maxResults` 1–50].
const PAGE: i32 = 50;

/// The asset or data product a subscribed listing lists.
pub(super) fn entity(listing: &dz::SubscribedListing) -> Option<String> {
    match listing.item()? {
        dz::SubscribedListingItem::AssetListing(a) => a.entity_id().map(str::to_string),
        dz::SubscribedListingItem::ProductListing(p) => p.entity_id().map(str::to_string),
        _ => None,
    }
}

/// The subscribing project a principal names (a request or subscription of a user, group or IAM
/// principal has none: the operator's policies are about projects).
pub(super) fn project(principal: Option<&dz::SubscribedPrincipal>) -> Option<(String, Option<String>)> {
    match principal? {
        dz::SubscribedPrincipal::Project(p) => Some((p.id()?.to_string(), p.name().map(str::to_string))),
        _ => None,
    }
}

impl Subscriptions for SdkDataZone {
    async fn pending_requests(&self, domain: &str, project_id: &str) -> Result<Vec<RequestInfo>, DzError> {
        let items: Vec<dz::SubscriptionRequestSummary> = self
            .client()
            .list_subscription_requests()
            .domain_identifier(domain)
            .status(dz::SubscriptionRequestStatus::Pending)
            .approver_project_id(project_id)
            .into_paginator()
            .page_size(PAGE)
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| sdk_error("ListSubscriptionRequests", e))?;
        Ok(items
            .iter()
            .filter_map(|r| {
                let (project_id, project_name) = project(r.subscribed_principals().first())?;
                let listing = r.subscribed_listings().first()?;
                Some(RequestInfo {
                    id: r.id().to_string(),
                    listing_id: listing.id().to_string(),
                    entity_id: entity(listing),
                    project_id,
                    project_name,
                    status: r.status().as_str().to_string(),
                    created_at: super::sdk_convert::time(Some(r.created_at())),
                })
            })
            .collect())
    }

    async fn accept_request(&self, domain: &str, id: &str, comment: &str) -> Result<(), DzError> {
        self.client()
            .accept_subscription_request()
            .domain_identifier(domain)
            .identifier(id)
            .decision_comment(comment)
            .send()
            .await
            .map_err(|e| sdk_error("AcceptSubscriptionRequest", e))?;
        Ok(())
    }

    async fn reject_request(&self, domain: &str, id: &str, comment: &str) -> Result<(), DzError> {
        self.client()
            .reject_subscription_request()
            .domain_identifier(domain)
            .identifier(id)
            .decision_comment(comment)
            .send()
            .await
            .map_err(|e| sdk_error("RejectSubscriptionRequest", e))?;
        Ok(())
    }

    async fn revoke_subscription(&self, domain: &str, id: &str, retain_permissions: bool) -> Result<(), DzError> {
        self.client()
            .revoke_subscription()
            .domain_identifier(domain)
            .identifier(id)
            .retain_permissions(retain_permissions)
            .send()
            .await
            .map_err(|e| sdk_error("RevokeSubscription", e))?;
        Ok(())
    }

    async fn subscriptions(&self, domain: &str, project_id: &str) -> Result<Vec<SubscriptionInfo>, DzError> {
        let items: Vec<dz::SubscriptionSummary> = self
            .client()
            .list_subscriptions()
            .domain_identifier(domain)
            .status(dz::SubscriptionStatus::Approved)
            .approver_project_id(project_id)
            .into_paginator()
            .page_size(PAGE)
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| sdk_error("ListSubscriptions", e))?;
        Ok(items
            .iter()
            .filter_map(|s| subscription_info(s.id(), s.status(), s.subscribed_principal(), s.subscribed_listing()))
            .collect())
    }
}

/// A subscription as ListSubscriptions and GetSubscription show it (two output types of the same
/// members); None for one of a user, group or IAM principal.
pub(super) fn subscription_info(
    id: &str,
    status: &dz::SubscriptionStatus,
    principal: Option<&dz::SubscribedPrincipal>,
    listing: Option<&dz::SubscribedListing>,
) -> Option<SubscriptionInfo> {
    let (project_id, project_name) = project(principal)?;
    let listing = listing?;
    Some(SubscriptionInfo {
        id: id.to_string(),
        listing_id: listing.id().to_string(),
        entity_id: entity(listing),
        project_id,
        project_name,
        status: status.as_str().to_string(),
    })
}
