//! Listings: an asset published in the catalog. A listing has revisions, each pointing at the
//! asset revision it published; CreateListingChangeSet publishes (a new listing, or a new listing
//! revision) and unpublishes (INACTIVE), GetListing reads a listing revision. `publishOnImport`
//! publishes through [`publish`] too.

use serde_json::{Map, Value, json};

use super::request::{Ctx, check_enum, check_id, check_length, domain, member_project, not_null};
use crate::clock::Instant;
use crate::error::{AwsError, AwsResult};
use crate::state::{Listing, ListingRevision, State};

/// Publishes revision `asset_revision` of the asset: its listing's first revision, or a new
/// revision of its listing; ACTIVE either way. Publishing what the ACTIVE listing already shows
/// makes no new revision [inferred]. Answers (listing ID, listing revision).
pub fn publish(state: &mut State, asset_id: &str, asset_revision: u32, by: &str, at: Instant) -> (String, u32) {
    let existing = state.assets.get(asset_id).and_then(|a| a.listing.clone());
    if let Some(listing) = existing.and_then(|id| state.listings.get_mut(&id)) {
        let latest = listing.revisions.last().map(|r| (r.number, r.asset_revision)).unwrap_or((0, 0));
        if listing.status == "ACTIVE" && latest.1 == asset_revision {
            return (listing.id.clone(), latest.0);
        }
        let number = latest.0 + 1;
        listing.revisions.push(ListingRevision { number, asset_revision, created_at: at, created_by: by.to_string() });
        listing.status = "ACTIVE";
        listing.updated_at = at;
        listing.updated_by = by.to_string();
        return (listing.id.clone(), number);
    }
    let id = state.ids.id();
    let domain_id = state.assets.get(asset_id).map(|a| a.domain_id.clone()).unwrap_or_default();
    state.listings.insert(
        id.clone(),
        Listing {
            id: id.clone(),
            domain_id,
            asset_id: asset_id.to_string(),
            status: "ACTIVE",
            revisions: vec![ListingRevision { number: 1, asset_revision, created_at: at, created_by: by.to_string() }],
            created_at: at,
            created_by: by.to_string(),
            updated_at: at,
            updated_by: by.to_string(),
        },
    );
    if let Some(asset) = state.assets.get_mut(asset_id) {
        asset.listing = Some(id.clone());
    }
    (id, 1)
}

/// PUBLISH or UNPUBLISH an asset (only assets: DATA_PRODUCT is not emulated), by a member of
/// its project. `entityRevision` (default the latest) must be a revision of the asset
/// (ValidationException) [inferred]; UNPUBLISH of an asset never published is a
/// ResourceNotFoundException and leaves the listing's revisions as they are [inferred]. The same
/// client token from the same caller gets the first answer again.
pub fn change_set(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let entity = ctx.body_str("entityIdentifier").ok_or_else(|| not_null("entityIdentifier"))?.to_string();
    check_id("entityIdentifier", &entity)?;
    let entity_type = ctx.body_str("entityType").ok_or_else(|| not_null("entityType"))?;
    check_enum("entityType", entity_type, &["ASSET", "DATA_PRODUCT"])?;
    let action = ctx.body_str("action").ok_or_else(|| not_null("action"))?.to_string();
    check_enum("action", &action, &["PUBLISH", "UNPUBLISH"])?;
    let revision = ctx.optional("entityRevision", 1, 64)?;
    let token = ctx.checked_client_token()?;
    if entity_type == "DATA_PRODUCT" {
        return Err(AwsError::validation("Listing change sets of data products are not supported by the emulator"));
    }
    let d = domain(state, ctx)?;
    let asset = state
        .assets
        .get(&entity)
        .filter(|a| a.domain_id == d.id)
        .ok_or_else(|| AwsError::not_found(format!("Asset {entity} was not found")))?;
    member_project(d, &asset.project_id, ctx)?;
    let token_key = token.map(|t| ("CreateListingChangeSet", format!("{}|{entity}", ctx.caller.principal_arn), t));
    if let Some(answer) = token_key.as_ref().and_then(|k| state.client_tokens.get(k))
        && let Ok(answer) = serde_json::from_str(answer)
    {
        return Ok((200, answer));
    }
    let asset_revision = match &revision {
        None => asset.latest().number,
        Some(r) => {
            asset.revision(r).ok_or_else(|| AwsError::validation(format!("Asset {entity} has no revision {r}")))?.number
        }
    };
    let listing_id = asset.listing.clone();
    let by = ctx.caller.principal_arn.clone();
    let answer = if action == "PUBLISH" {
        let (listing_id, number) = publish(state, &entity, asset_revision, &by, ctx.now);
        json!({"listingId": listing_id, "listingRevision": number.to_string(), "status": "ACTIVE"})
    } else {
        let listing = listing_id
            .and_then(|id| state.listings.get_mut(&id))
            .ok_or_else(|| AwsError::not_found(format!("Asset {entity} has no listing")))?;
        listing.status = "INACTIVE";
        listing.updated_at = ctx.now;
        listing.updated_by = by;
        let number = listing.revisions.last().map_or(1, |r| r.number);
        json!({"listingId": listing.id, "listingRevision": number.to_string(), "status": "INACTIVE"})
    };
    if let Some(key) = token_key {
        state.client_tokens.insert(key, answer.to_string());
    }
    Ok((200, answer))
}

/// A listing revision (the latest unless `listingRevision`), readable by any caller that may use
/// the domain: the catalog is the domain's [inferred]. `item.assetListing.forms` is a JSON object
/// of each form's content by form name [inferred: the model types it as a string only].
pub fn get(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let id = ctx.param(1);
    check_id("identifier", id)?;
    let wanted = ctx.query("listingRevision");
    if let Some(r) = wanted {
        check_length("listingRevision", r, 1, 64)?;
    }
    let d = domain(state, ctx)?;
    let listing = state
        .listings
        .get(id)
        .filter(|l| l.domain_id == d.id)
        .ok_or_else(|| AwsError::not_found(format!("Listing {id} was not found")))?;
    let lr = match wanted {
        None => listing.revisions.last(),
        Some(r) => listing.revisions.iter().find(|lr| lr.number.to_string() == r),
    }
    .ok_or_else(|| AwsError::not_found(format!("Listing {id} has no revision {}", wanted.unwrap_or_default())))?;
    let asset = state
        .assets
        .get(&listing.asset_id)
        .ok_or_else(|| AwsError::not_found(format!("The asset of listing {id} was not found")))?;
    let ar = asset
        .revision(&lr.asset_revision.to_string())
        .ok_or_else(|| AwsError::internal(format!("listing {id} points at a missing asset revision")))?;
    let forms: Map<String, Value> = ar
        .forms
        .iter()
        .map(|f| (f.name.clone(), serde_json::from_str(&f.content).unwrap_or_else(|_| json!(f.content))))
        .collect();
    let terms: Vec<Value> = ar
        .glossary_terms
        .iter()
        .filter_map(|t| state.glossary_terms.get(t))
        .map(|t| {
            let mut v = json!({"name": t.name});
            super::request::put_opt(&mut v, "shortDescription", t.short_description.clone());
            v
        })
        .collect();
    let mut item = json!({
        "assetId": asset.id, "assetRevision": ar.number.to_string(), "assetType": asset.type_identifier(),
        "createdAt": lr.created_at.epoch(), "forms": Value::Object(forms).to_string(), "owningProjectId": asset.project_id,
    });
    if !terms.is_empty() {
        item["glossaryTerms"] = json!(terms);
    }
    // ListingName has at most 64 characters [model]; a longer asset name is cut [inferred].
    let name: String = ar.name.chars().take(64).collect();
    let mut out = json!({
        "domainId": d.id, "id": listing.id, "listingRevision": lr.number.to_string(), "name": name,
        "status": listing.status, "createdAt": listing.created_at.epoch(), "createdBy": listing.created_by,
        "updatedAt": listing.updated_at.epoch(), "updatedBy": listing.updated_by,
        "item": {"assetListing": item},
    });
    super::request::put_opt(&mut out, "description", ar.description.clone());
    Ok((200, out))
}
