//! Subscription grants: a subscription's listing made available in one subscription target of
//! the subscriber project. [`grant_subscription`] makes them when a subscription is approved (one
//! per AUTOMATIC target of the project's ACTIVE environments that takes any of the listing's
//! assets), [`revoke_subscription`] takes them back; each moves PENDING → IN_PROGRESS (after half
//! of `--grant-duration`) → COMPLETED (after all of it) through [`progress`], its assets
//! GRANT_PENDING → GRANT_IN_PROGRESS → GRANTED (or REVOKE_… → REVOKED). ListSubscriptionGrants and
//! GetSubscriptionGrant read them. Choices the documentation leaves open are in
//! emulator/README.md (Subscriptions).

use serde_json::{Value, json};

use super::request::{Ctx, Filters, check_id, domain, is_member, items_page, page, put_opt};
use super::subscription_targets::targets_in;
use crate::clock::Instant;
use crate::error::{AwsError, AwsResult};
use crate::state::{Domain, Due, GrantWork, GrantedAsset, ListingEntity, State, SubscriptionGrant};

/// The assets a listing revision reaches, with the revision of each and its type: the asset of
/// an asset listing, or each item's of a data product listing ("one request covers all its
/// assets", docs/datazone-semantics.md §15). Assets deleted since are left out.
pub fn listing_assets(state: &State, listing_id: &str, listing_revision: u32) -> Vec<(String, String, &'static str)> {
    let Some(listing) = state.listings.get(listing_id) else { return Vec::new() };
    let Some(lr) = listing.revisions.iter().find(|r| r.number == listing_revision) else { return Vec::new() };
    let asset = |asset_id: &str, revision: u32| {
        state.assets.get(asset_id).map(|a| (a.id.clone(), revision.to_string(), a.type_identifier()))
    };
    match &listing.entity {
        ListingEntity::Asset(id) => asset(id, lr.entity_revision).into_iter().collect(),
        ListingEntity::DataProduct(_) => lr
            .items
            .iter()
            .filter_map(|item| {
                let l = state.listings.get(&item.listing_id)?;
                let revision = l.revisions.iter().find(|r| r.number == item.listing_revision)?.entity_revision;
                asset(l.asset_id()?, revision)
            })
            .collect(),
    }
}

/// Makes the grants of an approved subscription: one per AUTOMATIC subscription target of the
/// subscriber project's ACTIVE environments that takes any of the listing's assets, holding those
/// it takes; none when the project has no such target (and none later: a target made after
/// approval gets no grant [code: AWS sample]).
pub fn grant_subscription(state: &mut State, subscription_id: &str, by: &str, at: Instant) {
    let Some(s) = state.subscriptions.get(subscription_id).cloned() else { return };
    let assets = listing_assets(state, &s.listing_id, s.listing_revision);
    let mut targets: Vec<_> = state
        .environments
        .values()
        .filter(|e| e.domain_id == s.domain_id && e.project_id == s.project_id && e.status == "ACTIVE")
        .flat_map(|e| targets_in(state, e))
        .filter(|t| t.grant_creation_mode == "AUTOMATIC")
        .collect();
    targets.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    for target in targets {
        let granted: Vec<GrantedAsset> = assets
            .iter()
            .filter(|(_, _, asset_type)| target.applies_to(asset_type))
            .map(|(id, revision, _)| GrantedAsset {
                asset_id: id.clone(),
                asset_revision: revision.clone(),
                status: "GRANT_PENDING",
                granted_at: None,
            })
            .collect();
        if granted.is_empty() {
            continue;
        }
        let grant = SubscriptionGrant {
            id: state.ids.id(),
            domain_id: s.domain_id.clone(),
            subscription_id: Some(s.id.clone()),
            target_id: target.id.clone(),
            environment_id: target.environment_id.clone(),
            project_id: s.project_id.clone(),
            approver_project_id: s.approver_project_id.clone(),
            listing_id: s.listing_id.clone(),
            listing_revision: s.listing_revision,
            status: "PENDING",
            assets: granted,
            work: GrantWork::Grant,
            step: 0,
            generation: 0,
            created_by: by.to_string(),
            created_at: at,
            updated_by: None,
            updated_at: at,
        };
        let id = grant.id.clone();
        state.subscription_grants.insert(id.clone(), grant);
        schedule(state, &id, 0, at);
    }
}

/// Takes back every grant of the subscription (REVOKE_PENDING → … → REVOKED), unless the
/// permissions are retained.
pub fn revoke_subscription(state: &mut State, subscription_id: &str, by: &str, at: Instant) {
    let ids: Vec<String> = state
        .subscription_grants
        .values()
        .filter(|g| g.subscription_id.as_deref() == Some(subscription_id) && g.work == GrantWork::Grant)
        .map(|g| g.id.clone())
        .collect();
    for id in ids {
        let Some(g) = state.subscription_grants.get_mut(&id) else { continue };
        g.work = GrantWork::Revoke;
        g.step = 0;
        g.generation += 1;
        g.status = "PENDING";
        for a in &mut g.assets {
            a.status = "REVOKE_PENDING";
        }
        g.updated_by = Some(by.to_string());
        g.updated_at = at;
        let generation = g.generation;
        schedule(state, &id, generation, at);
    }
}

/// The two steps of a grant's work: half of `--grant-duration` from `at`, and all of it.
fn schedule(state: &mut State, grant_id: &str, generation: u32, at: Instant) {
    let duration = state.lifecycle.grant_duration;
    state.schedule(at.plus(duration / 2), Due::GrantProgresses(grant_id.to_string(), generation));
    state.schedule(at.plus(duration), Due::GrantProgresses(grant_id.to_string(), generation));
}

/// One step of a grant's current work (a step scheduled for an earlier work is ignored):
/// IN_PROGRESS, then COMPLETED with every asset GRANTED (at `at`) or REVOKED.
pub fn progress(state: &mut State, grant_id: &str, generation: u32, at: Instant) {
    let Some(g) = state.subscription_grants.get_mut(grant_id) else { return };
    if g.generation != generation || g.step >= 2 {
        return;
    }
    g.step += 1;
    let (overall, asset) = match (g.work, g.step) {
        (GrantWork::Grant, 1) => ("IN_PROGRESS", "GRANT_IN_PROGRESS"),
        (GrantWork::Grant, _) => ("COMPLETED", "GRANTED"),
        (GrantWork::Revoke, 1) => ("IN_PROGRESS", "REVOKE_IN_PROGRESS"),
        (GrantWork::Revoke, _) => ("COMPLETED", "REVOKED"),
    };
    g.status = overall;
    for a in &mut g.assets {
        a.status = asset;
        if asset == "GRANTED" {
            a.granted_at = Some(at);
        }
    }
    g.updated_at = at;
}

/// SubscriptionGrantSummary, which GetSubscriptionGrant answers too.
fn grant_json(g: &SubscriptionGrant) -> Value {
    let assets: Vec<Value> = g
        .assets
        .iter()
        .map(|a| {
            let mut v = json!({"assetId": a.asset_id, "assetRevision": a.asset_revision, "status": a.status});
            put_opt(&mut v, "grantedTimestamp", a.granted_at.map(|t| t.epoch()));
            v
        })
        .collect();
    let mut v = json!({
        "id": g.id, "createdBy": g.created_by, "domainId": g.domain_id, "createdAt": g.created_at.epoch(),
        "updatedAt": g.updated_at.epoch(), "environmentId": g.environment_id, "subscriptionTargetId": g.target_id,
        "grantedEntity": {"listing": {"id": g.listing_id, "revision": g.listing_revision.to_string()}},
        "status": g.status, "assets": assets,
    });
    put_opt(&mut v, "updatedBy", g.updated_by.clone());
    put_opt(&mut v, "subscriptionId", g.subscription_id.clone());
    v
}

/// Whether the caller may read the grant: a member of the subscriber project or of the project
/// that owns the listing [inferred].
fn may_read(d: &Domain, g: &SubscriptionGrant, ctx: &Ctx) -> bool {
    [&g.project_id, &g.approver_project_id]
        .iter()
        .any(|p| d.projects.get(*p).is_some_and(|p| is_member(d, p, ctx.caller)))
}

/// GetSubscriptionGrant, for members of the subscriber project or of the listing's owner.
pub fn get(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let id = ctx.param(1);
    check_id("identifier", id)?;
    let d = domain(state, ctx)?;
    let g = state
        .subscription_grants
        .get(id)
        .filter(|g| g.domain_id == d.id)
        .ok_or_else(|| AwsError::not_found(format!("Subscription grant {id} was not found")))?;
    if !may_read(d, g, ctx) {
        return Err(AwsError::access_denied(ctx.op));
    }
    Ok((200, grant_json(g)))
}

/// ListSubscriptionGrants: the grants the caller may read, filtered by `environmentId`,
/// `subscriptionTargetId`, `subscribedListingId`, `subscriptionId` and `owningProjectId` (the
/// subscriber); the owning user, group and IAM principal filters match nothing (only projects
/// subscribe in the emulator); oldest first (`sortBy` CREATED_AT, the default, or UPDATED_AT;
/// `sortOrder` DESCENDING reverses) [inferred: the default order]; paged by at most 50.
pub fn list(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let ids = ["environmentId", "subscriptionTargetId", "subscribedListingId", "subscriptionId", "owningProjectId"];
    let filters = Filters::read(ctx, &ids)?;
    let d = domain(state, ctx)?;
    let mut grants: Vec<&SubscriptionGrant> = state
        .subscription_grants
        .values()
        .filter(|g| g.domain_id == d.id && !filters.by_principal && may_read(d, g, ctx))
        .filter(|g| filters.matches("environmentId", &g.environment_id))
        .filter(|g| filters.matches("subscriptionTargetId", &g.target_id))
        .filter(|g| filters.matches("subscribedListingId", &g.listing_id))
        .filter(|g| ctx.query("subscriptionId").is_none_or(|v| g.subscription_id.as_deref() == Some(v)))
        .filter(|g| filters.matches("owningProjectId", &g.project_id))
        .collect();
    filters.sort(&mut grants, |g| (g.created_at, g.updated_at, g.id.clone()));
    let (grants, token) = page(grants, ctx, 50, &filters.fingerprint())?;
    Ok((200, items_page(grants.into_iter().map(grant_json).collect(), token)))
}
