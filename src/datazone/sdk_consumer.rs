//! [`Consumer`] over the AWS SDK.

use aws_sdk_datazone::types as dz;

use super::DzError;
use super::consumer::{Consumer, GrantInfo, ListingInfo, ListingKind, OwnRequest, TargetSpec};
use super::sdk::SdkDataZone;
use super::sdk_convert::{build_error, filter, sdk_error};
use super::sdk_subscriptions::subscription_info;
use super::subscriptions::SubscriptionInfo;

/// The page size limit of SearchListings and the subscription listings [model: `maxResults` 1–50].
const PAGE: i32 = 50;

/// A not-found answer as nothing there; any other error as it is.
fn found<T>(answer: Result<T, DzError>) -> Result<Option<T>, DzError> {
    match answer {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

impl Consumer for SdkDataZone {
    async fn find_listings(
        &self,
        domain: &str,
        kind: ListingKind,
        name: &str,
        owning_project: &str,
    ) -> Result<Vec<ListingInfo>, DzError> {
        let filters = dz::FilterClause::And(vec![
            filter("owningProjectId", owning_project)?,
            filter("entityType", kind.entity_type())?,
        ]);
        let items: Vec<dz::SearchResultItem> = self
            .client()
            .search_listings()
            .domain_identifier(domain)
            .search_text(name)
            .filters(filters)
            .into_paginator()
            .page_size(PAGE)
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| sdk_error("SearchListings", e))?;
        // searchText matches words of names and descriptions: only the exact name is meant.
        let listing = |id: Option<&str>, shown: Option<&str>, project: Option<&str>, kind| {
            let id = id?.to_string();
            (shown == Some(name)).then(|| ListingInfo {
                id,
                name: name.to_string(),
                kind,
                owning_project_id: project.map(str::to_string),
            })
        };
        Ok(items
            .iter()
            .filter_map(|i| match i {
                dz::SearchResultItem::AssetListing(l) if kind == ListingKind::Asset => {
                    listing(l.listing_id(), l.name(), l.owning_project_id(), kind)
                }
                dz::SearchResultItem::DataProductListing(l) if kind == ListingKind::DataProduct => {
                    listing(l.listing_id(), l.name(), l.owning_project_id(), kind)
                }
                _ => None,
            })
            .collect())
    }

    async fn get_listing(&self, domain: &str, id: &str) -> Result<Option<ListingInfo>, DzError> {
        let answer = self.client().get_listing().domain_identifier(domain).identifier(id).send().await;
        let Some(out) = found(answer.map_err(|e| sdk_error("GetListing", e)))? else { return Ok(None) };
        let (kind, project) = match out.item() {
            Some(dz::ListingItem::AssetListing(a)) => (ListingKind::Asset, a.owning_project_id()),
            Some(dz::ListingItem::DataProductListing(p)) => (ListingKind::DataProduct, p.owning_project_id()),
            _ => return Ok(None),
        };
        Ok(Some(ListingInfo {
            id: out.id().to_string(),
            name: out.name().unwrap_or_default().to_string(),
            kind,
            owning_project_id: project.map(str::to_string),
        }))
    }

    async fn request_subscription(
        &self,
        domain: &str,
        project: &str,
        listing: &str,
        reason: &str,
        client_token: &str,
    ) -> Result<OwnRequest, DzError> {
        const OP: &str = "CreateSubscriptionRequest";
        let principal =
            dz::SubscribedPrincipalInput::Project(dz::SubscribedProjectInput::builder().identifier(project).build());
        let listing_input =
            dz::SubscribedListingInput::builder().identifier(listing).build().map_err(|e| build_error(OP, e))?;
        let out = self
            .client()
            .create_subscription_request()
            .domain_identifier(domain)
            .subscribed_principals(principal)
            .subscribed_listings(listing_input)
            .request_reason(reason)
            .client_token(client_token)
            .send()
            .await
            .map_err(|e| sdk_error(OP, e))?;
        Ok(OwnRequest {
            id: out.id().to_string(),
            listing_id: out.subscribed_listings().first().map(|l| l.id().to_string()).unwrap_or_else(|| listing.into()),
            status: out.status().as_str().to_string(),
            decision_comment: out.decision_comment().map(str::to_string),
        })
    }

    async fn get_request(&self, domain: &str, id: &str) -> Result<Option<OwnRequest>, DzError> {
        let answer =
            self.client().get_subscription_request_details().domain_identifier(domain).identifier(id).send().await;
        let Some(out) = found(answer.map_err(|e| sdk_error("GetSubscriptionRequestDetails", e)))? else {
            return Ok(None);
        };
        Ok(Some(OwnRequest {
            id: out.id().to_string(),
            listing_id: out.subscribed_listings().first().map(|l| l.id().to_string()).unwrap_or_default(),
            status: out.status().as_str().to_string(),
            decision_comment: out.decision_comment().map(str::to_string),
        }))
    }

    async fn open_requests(&self, domain: &str, project: &str, listing: &str) -> Result<Vec<OwnRequest>, DzError> {
        let mut open = Vec::new();
        // Without `status` only PENDING ones are listed [model]: ACCEPTED is asked for on its own.
        for status in [dz::SubscriptionRequestStatus::Pending, dz::SubscriptionRequestStatus::Accepted] {
            let items: Vec<dz::SubscriptionRequestSummary> = self
                .client()
                .list_subscription_requests()
                .domain_identifier(domain)
                .status(status)
                .owning_project_id(project)
                .subscribed_listing_id(listing)
                .into_paginator()
                .page_size(PAGE)
                .items()
                .send()
                .try_collect()
                .await
                .map_err(|e| sdk_error("ListSubscriptionRequests", e))?;
            open.extend(items.iter().map(|r| OwnRequest {
                id: r.id().to_string(),
                listing_id: listing.to_string(),
                status: r.status().as_str().to_string(),
                decision_comment: r.decision_comment().map(str::to_string),
            }));
        }
        Ok(open)
    }

    async fn pending_requests_of(&self, domain: &str, project: &str) -> Result<Vec<String>, DzError> {
        let items: Vec<dz::SubscriptionRequestSummary> = self
            .client()
            .list_subscription_requests()
            .domain_identifier(domain)
            .status(dz::SubscriptionRequestStatus::Pending)
            .owning_project_id(project)
            .into_paginator()
            .page_size(PAGE)
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| sdk_error("ListSubscriptionRequests", e))?;
        Ok(items.iter().map(|r| r.id().to_string()).collect())
    }

    async fn approved_subscriptions_of(&self, domain: &str, project: &str) -> Result<Vec<String>, DzError> {
        let items: Vec<dz::SubscriptionSummary> = self
            .client()
            .list_subscriptions()
            .domain_identifier(domain)
            .status(dz::SubscriptionStatus::Approved)
            .owning_project_id(project)
            .into_paginator()
            .page_size(PAGE)
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| sdk_error("ListSubscriptions", e))?;
        Ok(items.iter().map(|s| s.id().to_string()).collect())
    }

    async fn subscription_of(&self, domain: &str, request: &str) -> Result<Option<SubscriptionInfo>, DzError> {
        // Without `status` only APPROVED ones are listed [model]; one revoked or cancelled since is
        // asked for in turn (almost always the first call finds it).
        for status in
            [dz::SubscriptionStatus::Approved, dz::SubscriptionStatus::Revoked, dz::SubscriptionStatus::Cancelled]
        {
            let out = self
                .client()
                .list_subscriptions()
                .domain_identifier(domain)
                .status(status)
                .subscription_request_identifier(request)
                .send()
                .await
                .map_err(|e| sdk_error("ListSubscriptions", e))?;
            if let Some(s) = out
                .items()
                .iter()
                .find_map(|s| subscription_info(s.id(), s.status(), s.subscribed_principal(), s.subscribed_listing()))
            {
                return Ok(Some(s));
            }
        }
        Ok(None)
    }

    async fn get_subscription(&self, domain: &str, id: &str) -> Result<Option<SubscriptionInfo>, DzError> {
        let answer = self.client().get_subscription().domain_identifier(domain).identifier(id).send().await;
        let Some(out) = found(answer.map_err(|e| sdk_error("GetSubscription", e)))? else { return Ok(None) };
        Ok(subscription_info(out.id(), out.status(), out.subscribed_principal(), out.subscribed_listing()))
    }

    async fn grants(&self, domain: &str, subscription: &str) -> Result<Vec<GrantInfo>, DzError> {
        let items: Vec<dz::SubscriptionGrantSummary> = self
            .client()
            .list_subscription_grants()
            .domain_identifier(domain)
            .subscription_id(subscription)
            .into_paginator()
            .page_size(PAGE)
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| sdk_error("ListSubscriptionGrants", e))?;
        Ok(items
            .iter()
            .map(|g| GrantInfo {
                id: g.id().to_string(),
                target_id: g.subscription_target_id().to_string(),
                status: g.status().as_str().to_string(),
                assets: g
                    .assets()
                    .iter()
                    .map(|a| (a.asset_id().to_string(), a.status().as_str().to_string()))
                    .collect(),
            })
            .collect())
    }

    async fn cancel_subscription(&self, domain: &str, id: &str) -> Result<(), DzError> {
        self.client()
            .cancel_subscription()
            .domain_identifier(domain)
            .identifier(id)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| sdk_error("CancelSubscription", e))
    }

    async fn subscription_targets(&self, domain: &str, environment: &str) -> Result<Vec<(String, String)>, DzError> {
        let items: Vec<dz::SubscriptionTargetSummary> = self
            .client()
            .list_subscription_targets()
            .domain_identifier(domain)
            .environment_identifier(environment)
            .into_paginator()
            .page_size(PAGE)
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| sdk_error("ListSubscriptionTargets", e))?;
        Ok(items.iter().map(|t| (t.id().to_string(), t.name().to_string())).collect())
    }

    async fn create_subscription_target(
        &self,
        domain: &str,
        environment: &str,
        spec: &TargetSpec,
    ) -> Result<String, DzError> {
        const OP: &str = "CreateSubscriptionTarget";
        // The documented Redshift target [docs: Using existing IAM roles to fulfill Amazon
        // DataZone subscriptions] (docs/datazone-semantics.md §15).
        let mut config = serde_json::json!({"databaseName": spec.database, "secretManagerArn": spec.secret_arn});
        if let Some(c) = &spec.cluster {
            config["clusterIdentifier"] = c.clone().into();
        }
        if let Some(w) = &spec.workgroup {
            config["workgroupName"] = w.clone().into();
        }
        let form = dz::SubscriptionTargetForm::builder()
            .form_name("RedshiftSubscriptionTargetConfigForm")
            .content(config.to_string())
            .build()
            .map_err(|e| build_error(OP, e))?;
        let out = self
            .client()
            .create_subscription_target()
            .domain_identifier(domain)
            .environment_identifier(environment)
            .name(&spec.name)
            .r#type("RedshiftSubscriptionTargetType")
            .subscription_target_config(form)
            .authorized_principals(&spec.authorized_principal)
            .manage_access_role(&spec.manage_access_role)
            .applicable_asset_types("RedshiftTableAssetType")
            .applicable_asset_types("RedshiftViewAssetType")
            .provider("Amazon DataZone")
            .subscription_grant_creation_mode(dz::SubscriptionGrantCreationMode::Automatic)
            .client_token(&spec.client_token)
            .send()
            .await
            .map_err(|e| sdk_error(OP, e))?;
        Ok(out.id().to_string())
    }

    async fn withdraw_request(&self, domain: &str, id: &str) -> Result<(), DzError> {
        self.client()
            .delete_subscription_request()
            .domain_identifier(domain)
            .identifier(id)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| sdk_error("DeleteSubscriptionRequest", e))
    }
}
