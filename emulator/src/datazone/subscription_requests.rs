//! Subscription requests: a consumer project asks for one listing in the catalog
//! (CreateSubscriptionRequest, idempotent by client token; UpdateSubscriptionRequest,
//! DeleteSubscriptionRequest while PENDING), the project that owns the listing decides
//! (AcceptSubscriptionRequest makes the subscription and its grants; RejectSubscriptionRequest);
//! GetSubscriptionRequestDetails and ListSubscriptionRequests (PENDING only unless `status` says
//! otherwise [model]) read them. DataZone approves nothing by itself: every decision is a call.
//! Choices the documentation leaves open are in emulator/README.md (Subscriptions).

use serde_json::{Value, json};

use super::forms::{self, forms_json};
use super::request::{
    Ctx, Filters, check_enum, check_id, check_list, domain, items_page, member_project, not_null, page, put_opt,
};
use super::subscriptions::{listing_json, may_read, member_of, principal_json, subscribe};
use crate::error::{AwsError, AwsResult};
use crate::state::{Domain, State, SubscriptionRequest};

/// Which operation's output a request is rendered for: a ListSubscriptionRequests item has a
/// summary of the metadata forms.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Full,
    Summary,
}

fn request_json(d: &Domain, r: &SubscriptionRequest, shape: Shape) -> Value {
    let mut v = json!({
        "id": r.id, "createdBy": r.created_by, "domainId": r.domain_id, "status": r.status,
        "createdAt": r.created_at.epoch(), "updatedAt": r.updated_at.epoch(), "requestReason": r.request_reason,
        "subscribedPrincipals": [principal_json(d, &r.project_id)], "subscribedListings": [r.listing_json],
    });
    put_opt(&mut v, "updatedBy", r.updated_by.clone());
    put_opt(&mut v, "reviewerId", r.reviewer_id.clone());
    put_opt(&mut v, "decisionComment", r.decision_comment.clone());
    if !r.metadata_forms.is_empty() {
        match shape {
            Shape::Full => v["metadataForms"] = forms_json(&r.metadata_forms),
            Shape::Summary => {
                v["metadataFormsSummary"] = r
                    .metadata_forms
                    .iter()
                    .map(|f| json!({"formName": f.name, "typeName": f.type_name, "typeRevision": f.type_revision}))
                    .collect()
            }
        }
    }
    v
}

/// A required list member of exactly one item (`subscribedPrincipals`, `subscribedListings`).
fn the_one<'b>(ctx: &'b Ctx, member: &str) -> AwsResult<&'b Value> {
    match ctx.body.get(member) {
        None | Some(Value::Null) => Err(not_null(member)),
        Some(Value::Array(items)) => {
            check_list(member, items.len(), 1, 1)?;
            Ok(&items[0])
        }
        Some(_) => Err(AwsError::validation(format!("{member} must be a list"))),
    }
}

/// `assetScopes` and `assetPermissions` ask for asset filters and S3 permissions, which the
/// emulator does not have: given with any item, a ValidationException [inferred].
fn refuse_scopes(ctx: &Ctx) -> AwsResult<()> {
    for member in ["assetScopes", "assetPermissions"] {
        if ctx.body.get(member).and_then(Value::as_array).is_some_and(|a| !a.is_empty()) {
            return Err(AwsError::validation(format!(
                "{member}: asset filters and S3 permissions are not emulated (Redshift assets are granted whole)"
            )));
        }
    }
    Ok(())
}

/// CreateSubscriptionRequest (200), by a member of the subscribing project (`subscribedPrincipals`:
/// one `project`; users, groups and IAM principals are not emulated), for one listing
/// (`subscribedListings`) that is in the catalog — ACTIVE, an asset's only when published on its
/// own (else ResourceNotFoundException [inferred]) — and owned by another project
/// (ValidationException [inferred]); a second PENDING request or an APPROVED subscription of the
/// project to the listing is a ConflictException [inferred]. `metadataForms` are checked as forms
/// on assets are. The same client token from the same caller answers the request it made.
pub fn create(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let reason = ctx.required("requestReason", 1, 4096)?;
    let principal = the_one(ctx, "subscribedPrincipals")?;
    let project_ref = match principal.get("project").and_then(|p| p.get("identifier")) {
        Some(Value::String(id)) => id.clone(),
        Some(_) => {
            return Err(AwsError::validation("subscribedPrincipals.1.member.project.identifier must be a string"));
        }
        None if principal.get("project").is_some() => {
            return Err(not_null("subscribedPrincipals.1.member.project.identifier"));
        }
        None => {
            return Err(AwsError::validation(
                "subscribedPrincipals: the emulator subscribes projects only (user, group and iam principals are not emulated)",
            ));
        }
    };
    check_id("subscribedPrincipals.1.member.project.identifier", &project_ref)?;
    let listing_id = match the_one(ctx, "subscribedListings")?.get("identifier") {
        Some(Value::String(id)) => id.clone(),
        Some(_) => return Err(AwsError::validation("subscribedListings.1.member.identifier must be a string")),
        None => return Err(not_null("subscribedListings.1.member.identifier")),
    };
    check_id("subscribedListings.1.member.identifier", &listing_id)?;
    let form_inputs = forms::parse_inputs(&ctx.body, "metadataForms")?.unwrap_or_default();
    refuse_scopes(ctx)?;
    let token = ctx.checked_client_token()?;
    let d = domain(state, ctx)?;
    let project_id = member_project(d, &project_ref, ctx)?.id.clone();
    let token_key = token.map(|t| ("CreateSubscriptionRequest", ctx.caller.principal_arn.clone(), t));
    if let Some(r) =
        token_key.as_ref().and_then(|k| state.client_tokens.get(k)).and_then(|id| state.subscription_requests.get(id))
    {
        return Ok((200, request_json(d, r, Shape::Full)));
    }
    let listing = state
        .listings
        .get(&listing_id)
        .filter(|l| l.domain_id == d.id && l.in_catalog())
        .ok_or_else(|| AwsError::not_found(format!("Listing {listing_id} was not found in the catalog")))?;
    let revision = listing.latest().0;
    let shown = listing_json(state, d, listing, revision)?;
    let owner = shown["ownerProjectId"].as_str().unwrap_or_default().to_string();
    if owner == project_id {
        return Err(AwsError::validation(format!(
            "Project {project_id} owns listing {listing_id}: a project does not subscribe to its own listings"
        )));
    }
    let same = |p: &str, l: &str| p == project_id && l == listing_id;
    if let Some(r) =
        state.subscription_requests.values().find(|r| same(&r.project_id, &r.listing_id) && r.status == "PENDING")
    {
        return Err(AwsError::conflict(format!(
            "Project {project_id} already has a PENDING subscription request {} for listing {listing_id}",
            r.id
        )));
    }
    if let Some(s) = state.subscriptions.values().find(|s| same(&s.project_id, &s.listing_id) && s.is_approved()) {
        return Err(AwsError::conflict(format!(
            "Project {project_id} is already subscribed to listing {listing_id} (subscription {})",
            s.id
        )));
    }
    let metadata_forms = forms::resolve_inputs(state, &d.id, &form_inputs, &[])?;
    let request = SubscriptionRequest {
        id: state.ids.id(),
        domain_id: d.id.clone(),
        status: "PENDING",
        request_reason: reason,
        project_id,
        listing_id,
        listing_revision: revision,
        approver_project_id: owner,
        listing_json: shown,
        metadata_forms,
        reviewer_id: None,
        decision_comment: None,
        created_by: ctx.caller.principal_arn.clone(),
        created_at: ctx.now,
        updated_by: None,
        updated_at: ctx.now,
    };
    let out = request_json(d, &request, Shape::Full);
    if let Some(key) = token_key {
        state.client_tokens.insert(key, request.id.clone());
    }
    state.subscription_requests.insert(request.id.clone(), request);
    Ok((200, out))
}

/// The request of the path, when the caller may read it (a member of the subscriber project or
/// of the project that owns the listing [inferred]).
fn readable<'s>(state: &'s State, ctx: &Ctx) -> AwsResult<(&'s Domain, &'s SubscriptionRequest)> {
    let id = ctx.param(1);
    check_id("identifier", id)?;
    let d = domain(state, ctx)?;
    let r = state
        .subscription_requests
        .get(id)
        .filter(|r| r.domain_id == d.id)
        .ok_or_else(|| AwsError::not_found(format!("Subscription request {id} was not found")))?;
    if !may_read(d, &r.project_id, &r.approver_project_id, ctx.caller) {
        return Err(AwsError::access_denied(ctx.op));
    }
    Ok((d, r))
}

/// Who may change a request: the subscriber project's members (`subscriber`) or the listing
/// owner's; and the request must be PENDING (ConflictException otherwise [inferred]).
fn changeable<'s>(state: &'s State, ctx: &Ctx, subscriber: bool) -> AwsResult<(&'s Domain, &'s SubscriptionRequest)> {
    let (d, r) = readable(state, ctx)?;
    let project = if subscriber { &r.project_id } else { &r.approver_project_id };
    if !member_of(d, project, ctx.caller) {
        return Err(AwsError::access_denied(ctx.op));
    }
    if r.status != "PENDING" {
        return Err(AwsError::conflict(format!("Subscription request {} is {}, not PENDING", r.id, r.status)));
    }
    Ok((d, r))
}

pub fn get(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let (d, r) = readable(state, ctx)?;
    Ok((200, request_json(d, r, Shape::Full)))
}

/// The decision on a PENDING request by a member of the project that owns the listing [docs:
/// Approve or reject a subscription request]: `decisionComment` (1–4096) and the reviewer kept.
fn decide(state: &mut State, ctx: &Ctx, status: &'static str) -> AwsResult<SubscriptionRequest> {
    let comment = ctx.optional("decisionComment", 1, 4096)?;
    let (_, r) = changeable(state, ctx, false)?;
    let id = r.id.clone();
    let by = ctx.caller.principal_arn.clone();
    let r = state.subscription_requests.get_mut(&id).ok_or_else(|| AwsError::internal("request vanished"))?;
    r.status = status;
    r.decision_comment = comment;
    r.reviewer_id = Some(by.clone());
    r.updated_by = Some(by);
    r.updated_at = ctx.now;
    Ok(r.clone())
}

/// AcceptSubscriptionRequest: ACCEPTED, and the subscription (APPROVED) with its grants into the
/// subscriber project's targets. The listing must still exist (ResourceNotFoundException
/// otherwise [inferred]); an unpublished one may still be accepted (its subscriptions remain,
/// docs/datazone-semantics.md §15). At most 3 calls a second (the emulator's per-operation quota).
pub fn accept(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    refuse_scopes(ctx)?;
    let (_, r) = changeable(state, ctx, false)?;
    if !state.listings.contains_key(&r.listing_id) {
        return Err(AwsError::not_found(format!("Listing {} of the request was deleted", r.listing_id)));
    }
    let request = decide(state, ctx, "ACCEPTED")?;
    subscribe(state, &request, &ctx.caller.principal_arn, ctx.now);
    let d = domain(state, ctx)?;
    Ok((200, request_json(d, &request, Shape::Full)))
}

/// RejectSubscriptionRequest: REJECTED; nothing else changes.
pub fn reject(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let request = decide(state, ctx, "REJECTED")?;
    let d = domain(state, ctx)?;
    Ok((200, request_json(d, &request, Shape::Full)))
}

/// UpdateSubscriptionRequest: a new `requestReason`, by a member of the subscriber project, while
/// PENDING [inferred: who, and when].
pub fn update(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let reason = ctx.required("requestReason", 1, 4096)?;
    let (_, r) = changeable(state, ctx, true)?;
    let id = r.id.clone();
    let r = state.subscription_requests.get_mut(&id).ok_or_else(|| AwsError::internal("request vanished"))?;
    r.request_reason = reason;
    r.updated_by = Some(ctx.caller.principal_arn.clone());
    r.updated_at = ctx.now;
    let r = r.clone();
    let d = domain(state, ctx)?;
    Ok((200, request_json(d, &r, Shape::Full)))
}

/// DeleteSubscriptionRequest (204), by a member of the subscriber project [docs: Cancel a
/// subscription request: a project owner or contributor], of a PENDING or REJECTED request; an
/// ACCEPTED one stays with its subscription (ConflictException) [inferred].
pub fn delete(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let (d, r) = readable(state, ctx)?;
    if !member_of(d, &r.project_id, ctx.caller) {
        return Err(AwsError::access_denied(ctx.op));
    }
    if r.status == "ACCEPTED" {
        return Err(AwsError::conflict(format!(
            "Subscription request {} was accepted: cancel its subscription instead",
            r.id
        )));
    }
    let id = r.id.clone();
    state.subscription_requests.remove(&id);
    Ok((204, Value::Null))
}

/// ListSubscriptionRequests: the requests the caller may read, PENDING only unless `status` is
/// given [model], filtered by `subscribedListingId`, `owningProjectId` (the subscriber) and
/// `approverProjectId` (the listing's owner); paged by at most 50.
pub fn list(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let status = ctx.query("status").unwrap_or("PENDING");
    check_enum("status", status, &["PENDING", "ACCEPTED", "REJECTED"])?;
    let filters = Filters::read(ctx, &["subscribedListingId", "owningProjectId", "approverProjectId"])?;
    let d = domain(state, ctx)?;
    let mut found: Vec<&SubscriptionRequest> = state
        .subscription_requests
        .values()
        .filter(|r| r.domain_id == d.id && r.status == status && !filters.by_principal)
        .filter(|r| may_read(d, &r.project_id, &r.approver_project_id, ctx.caller))
        .filter(|r| filters.matches("subscribedListingId", &r.listing_id))
        .filter(|r| filters.matches("owningProjectId", &r.project_id))
        .filter(|r| filters.matches("approverProjectId", &r.approver_project_id))
        .collect();
    filters.sort(&mut found, |r| (r.created_at, r.updated_at, r.id.clone()));
    let (found, token) = page(found, ctx, 50, &filters.fingerprint())?;
    Ok((200, items_page(found.into_iter().map(|r| request_json(d, r, Shape::Summary)).collect(), token)))
}
