//! Subscriptions: a consumer project's access to a listing once its request is accepted
//! (APPROVED), until the owner revokes it (REVOKED, RevokeSubscription, `retainPermissions`) or
//! the subscriber cancels it (CANCELLED, CancelSubscription); GetSubscription and
//! ListSubscriptions (APPROVED only unless `status` says otherwise [model]). Also what requests
//! and subscriptions both show: the subscribed listing ([`listing_json`]) and principal
//! ([`principal_json`]), who may read them ([`may_read`]), and [`subscribers`], which keeps a
//! listing with subscribers from being deleted. Choices the documentation leaves open are in
//! emulator/README.md (Subscriptions).

use serde_json::{Value, json};

use super::listings::{detailed_terms, forms_object, shown};
use super::request::{Ctx, Filters, check_enum, check_id, domain, is_member, items_page, page, put_opt};
use super::subscription_grants::{grant_subscription, listing_assets, revoke_subscription};
use crate::clock::Instant;
use crate::error::{AwsError, AwsResult};
use crate::state::{Caller, Domain, Listing, State, Subscription, SubscriptionRequest};

/// SubscribedListing: the listing revision `revision` as a subscription sees it — its name,
/// description (`""` when none: the member is required), owner, and `item`: `assetListing` or
/// `productListing` with the assets the data product reaches.
pub fn listing_json(state: &State, d: &Domain, listing: &Listing, revision: u32) -> AwsResult<Value> {
    let lr = listing
        .revisions
        .iter()
        .find(|r| r.number == revision)
        .ok_or_else(|| AwsError::internal(format!("listing {} has no revision {revision}", listing.id)))?;
    let shown = shown(state, listing, lr)?;
    let terms = detailed_terms(state, shown.glossary_terms);
    let mut item = json!({"entityId": shown.entity_id, "entityRevision": lr.entity_revision.to_string()});
    if !terms.is_empty() {
        item["glossaryTerms"] = json!(terms);
    }
    let item = match shown.asset_type {
        Some(asset_type) => {
            item["entityType"] = json!(asset_type);
            item["forms"] = json!(forms_object(shown.forms));
            json!({"assetListing": item})
        }
        None => {
            item["name"] = json!(shown.name);
            put_opt(&mut item, "description", shown.description.clone());
            let assets: Vec<Value> = listing_assets(state, &listing.id, revision)
                .into_iter()
                .map(|(id, revision, asset_type)| {
                    json!({"entityId": id, "entityRevision": revision, "entityType": asset_type})
                })
                .collect();
            item["assetListings"] = json!(assets);
            json!({"productListing": item})
        }
    };
    let mut out = json!({
        "id": listing.id, "revision": revision.to_string(), "name": shown.name,
        "description": shown.description.clone().unwrap_or_default(), "item": item,
        "ownerProjectId": shown.project_id,
    });
    put_opt(&mut out, "ownerProjectName", d.projects.get(shown.project_id).map(|p| p.name.clone()));
    Ok(out)
}

/// SubscribedPrincipal of a project: `{"project": {"id", "name"}}`.
pub fn principal_json(d: &Domain, project_id: &str) -> Value {
    let mut project = json!({"id": project_id});
    put_opt(&mut project, "name", d.projects.get(project_id).map(|p| p.name.clone()));
    json!({"project": project})
}

/// Whether `caller` is a member of the project `project_id` of the domain.
pub fn member_of(d: &Domain, project_id: &str, caller: &Caller) -> bool {
    d.projects.get(project_id).is_some_and(|p| is_member(d, p, caller))
}

/// Who may read a request or a subscription: members of the subscriber project and of the
/// project that owns the listing [inferred].
pub fn may_read(d: &Domain, subscriber: &str, approver: &str, caller: &Caller) -> bool {
    member_of(d, subscriber, caller) || member_of(d, approver, caller)
}

/// The projects with an APPROVED subscription to the listing.
pub fn subscribers(state: &State, listing_id: &str) -> Vec<String> {
    let mut projects: Vec<String> = state
        .subscriptions
        .values()
        .filter(|s| s.listing_id == listing_id && s.is_approved())
        .map(|s| s.project_id.clone())
        .collect();
    projects.sort();
    projects.dedup();
    projects
}

/// The answer of Get, Revoke and Cancel, and a ListSubscriptions item (SubscriptionSummary has
/// the same members).
fn subscription_json(d: &Domain, s: &Subscription) -> Value {
    let mut v = json!({
        "id": s.id, "createdBy": s.created_by, "domainId": s.domain_id, "status": s.status,
        "createdAt": s.created_at.epoch(), "updatedAt": s.updated_at.epoch(),
        "subscribedPrincipal": principal_json(d, &s.project_id), "subscribedListing": s.listing_json,
        "subscriptionRequestId": s.request_id,
    });
    put_opt(&mut v, "updatedBy", s.updated_by.clone());
    put_opt(&mut v, "retainPermissions", s.retain_permissions);
    v
}

/// The subscription an accepted request makes (APPROVED), and its grants.
pub fn subscribe(state: &mut State, request: &SubscriptionRequest, by: &str, at: Instant) -> String {
    let subscription = Subscription {
        id: state.ids.id(),
        domain_id: request.domain_id.clone(),
        status: "APPROVED",
        project_id: request.project_id.clone(),
        listing_id: request.listing_id.clone(),
        listing_revision: request.listing_revision,
        approver_project_id: request.approver_project_id.clone(),
        listing_json: request.listing_json.clone(),
        request_id: request.id.clone(),
        retain_permissions: None,
        created_by: by.to_string(),
        created_at: at,
        updated_by: None,
        updated_at: at,
    };
    let id = subscription.id.clone();
    state.subscriptions.insert(id.clone(), subscription);
    grant_subscription(state, &id, by, at);
    id
}

/// The subscription of the path, when the caller may read it.
fn readable<'s>(state: &'s State, ctx: &Ctx) -> AwsResult<(&'s Domain, &'s Subscription)> {
    let id = ctx.param(1);
    check_id("identifier", id)?;
    let d = domain(state, ctx)?;
    let s = state
        .subscriptions
        .get(id)
        .filter(|s| s.domain_id == d.id)
        .ok_or_else(|| AwsError::not_found(format!("Subscription {id} was not found")))?;
    if !may_read(d, &s.project_id, &s.approver_project_id, ctx.caller) {
        return Err(AwsError::access_denied(ctx.op));
    }
    Ok((d, s))
}

pub fn get(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let (d, s) = readable(state, ctx)?;
    Ok((200, subscription_json(d, s)))
}

/// Ends an APPROVED subscription (another status: ConflictException [inferred]) as `status`:
/// REVOKED by a member of the project that owns the listing, CANCELLED by a member of the
/// subscriber project (AccessDeniedException otherwise); its grants are taken back unless
/// `retain`.
fn end(state: &mut State, ctx: &Ctx, status: &'static str, retain: bool) -> AwsResult<(u16, Value)> {
    let (d, s) = readable(state, ctx)?;
    let deciding = if status == "REVOKED" { &s.approver_project_id } else { &s.project_id };
    if !member_of(d, deciding, ctx.caller) {
        return Err(AwsError::access_denied(ctx.op));
    }
    if !s.is_approved() {
        return Err(AwsError::conflict(format!("Subscription {} is {}, not APPROVED", s.id, s.status)));
    }
    let id = s.id.clone();
    let by = ctx.caller.principal_arn.clone();
    if let Some(s) = state.subscriptions.get_mut(&id) {
        s.status = status;
        s.retain_permissions = Some(retain);
        s.updated_by = Some(by.clone());
        s.updated_at = ctx.now;
    }
    if !retain {
        revoke_subscription(state, &id, &by, ctx.now);
    }
    let d = domain(state, ctx)?;
    Ok((200, subscription_json(d, &state.subscriptions[&id])))
}

/// RevokeSubscription, by a member of the project that owns the listing [docs: Revoke an existing
/// subscription]: REVOKED for good (a new request is needed, "You can't re-approve a subscription
/// after you revoke it"); with `retainPermissions` the grants stay as they are, otherwise they
/// are revoked.
pub fn revoke(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let retain = match ctx.body.get("retainPermissions") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(AwsError::validation("retainPermissions must be a boolean")),
    };
    end(state, ctx, "REVOKED", retain)
}

/// CancelSubscription, by a member of the subscriber project [docs: Unsubscribe from an asset]:
/// CANCELLED, its grants revoked (`retainPermissions` false) [inferred].
pub fn cancel(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    end(state, ctx, "CANCELLED", false)
}

/// ListSubscriptions: the subscriptions the caller may read, APPROVED only unless `status` is
/// given [model], filtered by `subscriptionRequestIdentifier`, `subscribedListingId`,
/// `owningProjectId` (the subscriber) and `approverProjectId`; paged by at most 50.
pub fn list(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let status = ctx.query("status").unwrap_or("APPROVED");
    check_enum("status", status, &["APPROVED", "REVOKED", "CANCELLED"])?;
    let ids = ["subscriptionRequestIdentifier", "subscribedListingId", "owningProjectId", "approverProjectId"];
    let filters = Filters::read(ctx, &ids)?;
    let d = domain(state, ctx)?;
    let mut found: Vec<&Subscription> = state
        .subscriptions
        .values()
        .filter(|s| s.domain_id == d.id && s.status == status && !filters.by_principal)
        .filter(|s| may_read(d, &s.project_id, &s.approver_project_id, ctx.caller))
        .filter(|s| filters.matches("subscriptionRequestIdentifier", &s.request_id))
        .filter(|s| filters.matches("subscribedListingId", &s.listing_id))
        .filter(|s| filters.matches("owningProjectId", &s.project_id))
        .filter(|s| filters.matches("approverProjectId", &s.approver_project_id))
        .collect();
    filters.sort(&mut found, |s| (s.created_at, s.updated_at, s.id.clone()));
    let (found, token) = page(found, ctx, 50, &filters.fingerprint())?;
    Ok((200, items_page(found.into_iter().map(|s| subscription_json(d, s)).collect(), token)))
}
