//! Listings: assets and data products published in the catalog. A listing has revisions, each
//! pointing at the asset or data product revision it published (a data product's also at the
//! asset listing revisions its items reach); CreateListingChangeSet publishes (a new listing, or
//! a new listing revision) and unpublishes (INACTIVE), GetListing reads a listing revision, and
//! [`search_item`] renders one for SearchListings. `publishOnImport` publishes through
//! [`publish`] too.
//!
//! An asset has one listing, published for the asset itself or only through the data products
//! that hold it (emulator/README.md, Data products): it is ACTIVE while either holds.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::request::{Ctx, check_enum, check_id, check_length, domain, member_project, not_null, put_opt};
use crate::clock::Instant;
use crate::error::{AwsError, AwsResult};
use crate::state::{Form, Listing, ListingEntity, ListingRevision, ListingSummary, OwnPublication, State};

/// How an asset is published: for itself, or through a data product (by ID).
#[derive(Clone, Copy, Debug)]
pub enum Reach<'a> {
    Own,
    Through(&'a str),
}

/// An asset listing is ACTIVE while it is published on its own or a data product reaches it.
fn settle(listing: &mut Listing, by: &str, at: Instant) {
    let active = listing.own == OwnPublication::Published || !listing.through.is_empty();
    let status = if active { "ACTIVE" } else { "INACTIVE" };
    if status != listing.status {
        listing.status = status;
        listing.updated_at = at;
        listing.updated_by = by.to_string();
    }
}

/// Publishes revision `asset_revision` of the asset: its listing's first revision, or a new
/// revision of its listing; ACTIVE either way. Publishing what the ACTIVE listing already shows
/// makes no new revision [inferred]. Answers (listing ID, listing revision).
pub fn publish(
    state: &mut State,
    asset_id: &str,
    asset_revision: u32,
    reach: Reach,
    by: &str,
    at: Instant,
) -> (String, u32) {
    let existing = state.assets.get(asset_id).and_then(|a| a.listing.clone());
    if let Some(listing) = existing.and_then(|id| state.listings.get_mut(&id)) {
        let (latest, shown) = listing.latest();
        let number = if listing.status == "ACTIVE" && shown == asset_revision {
            latest
        } else {
            listing.revisions.push(ListingRevision {
                number: latest + 1,
                entity_revision: asset_revision,
                items: Vec::new(),
                created_at: at,
                created_by: by.to_string(),
            });
            listing.updated_at = at;
            listing.updated_by = by.to_string();
            latest + 1
        };
        match reach {
            Reach::Own => listing.own = OwnPublication::Published,
            Reach::Through(product) => {
                listing.through.insert(product.to_string());
            }
        }
        listing.status = "ACTIVE";
        return (listing.id.clone(), number);
    }
    let id = state.ids.id();
    let domain_id = state.assets.get(asset_id).map(|a| a.domain_id.clone()).unwrap_or_default();
    let (own, through) = match reach {
        Reach::Own => (OwnPublication::Published, BTreeSet::new()),
        Reach::Through(product) => (OwnPublication::Never, BTreeSet::from([product.to_string()])),
    };
    state.listings.insert(
        id.clone(),
        new_listing(&id, domain_id, ListingEntity::Asset(asset_id.to_string()), own, through, asset_revision, by, at),
    );
    if let Some(asset) = state.assets.get_mut(asset_id) {
        asset.listing = Some(id.clone());
    }
    (id, 1)
}

#[allow(clippy::too_many_arguments)]
fn new_listing(
    id: &str,
    domain_id: String,
    entity: ListingEntity,
    own: OwnPublication,
    through: BTreeSet<String>,
    entity_revision: u32,
    by: &str,
    at: Instant,
) -> Listing {
    Listing {
        id: id.to_string(),
        domain_id,
        entity,
        status: "ACTIVE",
        own,
        through,
        revisions: vec![ListingRevision {
            number: 1,
            entity_revision,
            items: Vec::new(),
            created_at: at,
            created_by: by.to_string(),
        }],
        created_at: at,
        created_by: by.to_string(),
        updated_at: at,
        updated_by: by.to_string(),
    }
}

fn change_answer(listing_id: &str, number: u32, status: &str) -> Value {
    json!({"listingId": listing_id, "listingRevision": number.to_string(), "status": status})
}

/// PUBLISH or UNPUBLISH an asset or a data product, by a member of its project.
/// `entityRevision` (default the latest) must be a revision of the entity (ValidationException)
/// [inferred]; UNPUBLISH of what was never published is a ResourceNotFoundException and leaves
/// the listing's revisions as they are [inferred]. The same client token from the same caller
/// gets the first answer again.
pub fn change_set(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let entity = ctx.body_str("entityIdentifier").ok_or_else(|| not_null("entityIdentifier"))?.to_string();
    check_id("entityIdentifier", &entity)?;
    let entity_type = ctx.body_str("entityType").ok_or_else(|| not_null("entityType"))?;
    check_enum("entityType", entity_type, &["ASSET", "DATA_PRODUCT"])?;
    let is_asset = entity_type == "ASSET";
    let action = ctx.body_str("action").ok_or_else(|| not_null("action"))?.to_string();
    check_enum("action", &action, &["PUBLISH", "UNPUBLISH"])?;
    let revision = ctx.optional("entityRevision", 1, 64)?;
    let token = ctx.checked_client_token()?;
    let d = domain(state, ctx)?;
    let project_id = if is_asset {
        state.assets.get(&entity).filter(|a| a.domain_id == d.id).map(|a| a.project_id.clone())
    } else {
        state.data_products.get(&entity).filter(|p| p.domain_id == d.id).map(|p| p.project_id.clone())
    }
    .ok_or_else(|| {
        AwsError::not_found(format!("{} {entity} was not found", if is_asset { "Asset" } else { "Data product" }))
    })?;
    member_project(d, &project_id, ctx)?;
    let token_key = token.map(|t| ("CreateListingChangeSet", format!("{}|{entity}", ctx.caller.principal_arn), t));
    if let Some(answer) = token_key.as_ref().and_then(|k| state.client_tokens.get(k))
        && let Ok(answer) = serde_json::from_str(answer)
    {
        return Ok((200, answer));
    }
    let by = ctx.caller.principal_arn.clone();
    let publishing = action == "PUBLISH";
    let answer = if is_asset {
        let asset = &state.assets[&entity];
        let asset_revision = match &revision {
            None => asset.latest().number,
            Some(r) => {
                asset
                    .revision(r)
                    .ok_or_else(|| AwsError::validation(format!("Asset {entity} has no revision {r}")))?
                    .number
            }
        };
        if publishing {
            let (listing_id, number) = publish(state, &entity, asset_revision, Reach::Own, &by, ctx.now);
            change_answer(&listing_id, number, "ACTIVE")
        } else {
            unpublish_asset(state, &entity, &by, ctx.now)?
        }
    } else if publishing {
        publish_product(state, &entity, revision.as_deref(), &by, ctx.now)?
    } else {
        if let Some(r) = &revision
            && state.data_products[&entity].revision(r).is_none()
        {
            return Err(AwsError::validation(format!("Data product {entity} has no revision {r}")));
        }
        unpublish_product(state, &entity, &by, ctx.now)?
    };
    if let Some(key) = token_key {
        state.client_tokens.insert(key, answer.to_string());
    }
    Ok((200, answer))
}

/// The asset is no longer published on its own; its listing stays ACTIVE while a published data
/// product holds it, reachable only through that product [inferred].
fn unpublish_asset(state: &mut State, asset_id: &str, by: &str, at: Instant) -> AwsResult<Value> {
    let listing = state.assets[asset_id]
        .listing
        .clone()
        .and_then(|id| state.listings.get_mut(&id))
        .ok_or_else(|| AwsError::not_found(format!("Asset {asset_id} has no listing")))?;
    if listing.own == OwnPublication::Published {
        listing.own = OwnPublication::Withdrawn;
        listing.updated_at = at;
        listing.updated_by = by.to_string();
    }
    settle(listing, by, at);
    Ok(change_answer(&listing.id, listing.latest().0, listing.status))
}

/// Publishes a data product revision (default the latest), which needs at least one item
/// [inferred]. Each item's asset is reached through its listing: an asset published on its own
/// as its listing shows it, any other at the item's revision (default the asset's latest), so
/// an asset not yet published becomes ACTIVE only through this data product [docs: Publish data
/// products]. The same revision already ACTIVE makes no new listing revision [inferred]; a new
/// one lets go of the assets the product no longer holds.
fn publish_product(
    state: &mut State,
    product_id: &str,
    revision: Option<&str>,
    by: &str,
    at: Instant,
) -> AwsResult<Value> {
    let product = &state.data_products[product_id];
    let pr = match revision {
        None => product.latest(),
        Some(r) => product
            .revision(r)
            .ok_or_else(|| AwsError::validation(format!("Data product {product_id} has no revision {r}")))?,
    };
    if pr.items.is_empty() {
        return Err(AwsError::validation(format!(
            "Data product {product_id} revision {} has no items: publish a revision with at least one asset",
            pr.number
        )));
    }
    let number = pr.number;
    let current = product.listing.as_ref().and_then(|id| state.listings.get(id));
    if let Some(l) = current.filter(|l| l.status == "ACTIVE" && l.latest().1 == number) {
        return Ok(change_answer(&l.id, l.latest().0, "ACTIVE"));
    }
    // Every item's asset revision first, so a problem changes nothing.
    let mut plan = Vec::with_capacity(pr.items.len());
    for item in &pr.items {
        let asset = state.assets.get(&item.asset_id).ok_or_else(|| {
            AwsError::validation(format!("Asset {} of data product {product_id} no longer exists", item.asset_id))
        })?;
        let asset_revision = match &item.revision {
            None => Some(asset.latest().number),
            Some(r) => asset.revision(r).map(|r| r.number),
        }
        .ok_or_else(|| AwsError::internal(format!("asset {} lost a revision", asset.id)))?;
        plan.push((item.asset_id.clone(), asset_revision, item.glossary_terms.clone()));
    }
    let mut items = Vec::with_capacity(plan.len());
    for (asset_id, asset_revision, glossary_terms) in plan {
        let own = state.assets[&asset_id]
            .listing
            .clone()
            .and_then(|id| state.listings.get_mut(&id))
            .filter(|l| l.status == "ACTIVE" && l.own == OwnPublication::Published);
        let (listing_id, listing_revision) = match own {
            Some(l) => {
                l.through.insert(product_id.to_string());
                (l.id.clone(), l.latest().0)
            }
            None => publish(state, &asset_id, asset_revision, Reach::Through(product_id), by, at),
        };
        items.push(ListingSummary { listing_id, listing_revision, glossary_terms });
    }
    let keep: BTreeSet<String> = items.iter().map(|i| i.listing_id.clone()).collect();
    release(state, product_id, &keep, by, at);
    let revision = ListingRevision { number: 1, entity_revision: number, items, created_at: at, created_by: by.into() };
    let existing = state.data_products[product_id].listing.clone();
    if let Some(listing) = existing.and_then(|id| state.listings.get_mut(&id)) {
        let next = listing.latest().0 + 1;
        listing.revisions.push(ListingRevision { number: next, ..revision });
        listing.status = "ACTIVE";
        listing.updated_at = at;
        listing.updated_by = by.to_string();
        return Ok(change_answer(&listing.id, next, "ACTIVE"));
    }
    let id = state.ids.id();
    let domain_id = state.data_products[product_id].domain_id.clone();
    let entity = ListingEntity::DataProduct(product_id.to_string());
    let mut listing = new_listing(&id, domain_id, entity, OwnPublication::Published, BTreeSet::new(), number, by, at);
    listing.revisions = vec![revision];
    state.listings.insert(id.clone(), listing);
    if let Some(p) = state.data_products.get_mut(product_id) {
        p.listing = Some(id.clone());
    }
    Ok(change_answer(&id, 1, "ACTIVE"))
}

/// Every asset listing the data product reaches, except those in `keep`, is no longer reached
/// through it (INACTIVE when nothing else publishes it).
fn release(state: &mut State, product_id: &str, keep: &BTreeSet<String>, by: &str, at: Instant) {
    for listing in state.listings.values_mut().filter(|l| l.through.contains(product_id) && !keep.contains(&l.id)) {
        listing.through.remove(product_id);
        settle(listing, by, at);
    }
}

/// The data product's listing INACTIVE (its revisions stay, as would subscriptions: "all active
/// subscriptions remain" [docs: Unpublish data products]); assets reachable only through it
/// become INACTIVE.
fn unpublish_product(state: &mut State, product_id: &str, by: &str, at: Instant) -> AwsResult<Value> {
    let listing_id = state.data_products[product_id]
        .listing
        .clone()
        .filter(|id| state.listings.contains_key(id))
        .ok_or_else(|| AwsError::not_found(format!("Data product {product_id} has no listing")))?;
    release(state, product_id, &BTreeSet::new(), by, at);
    let listing = state.listings.get_mut(&listing_id).ok_or_else(|| AwsError::internal("listing vanished"))?;
    if listing.status != "INACTIVE" {
        listing.status = "INACTIVE";
        listing.updated_at = at;
        listing.updated_by = by.to_string();
    }
    Ok(change_answer(&listing.id, listing.latest().0, "INACTIVE"))
}

/// A deleted data product leaves the catalog: its listing is gone, and so are the assets that
/// were reachable only through it (INACTIVE) [docs: Delete data products].
pub fn withdraw_product(state: &mut State, product_id: &str, by: &str, at: Instant) {
    release(state, product_id, &BTreeSet::new(), by, at);
    if let Some(id) = state.data_products.get(product_id).and_then(|p| p.listing.clone()) {
        state.listings.remove(&id);
    }
}

/// FormsOutput as a listing shows it: a JSON object of each form's content by form name
/// [inferred: the model types it as a string only].
pub fn forms_object(forms: &[Form]) -> String {
    let forms: Map<String, Value> = forms
        .iter()
        .map(|f| (f.name.clone(), serde_json::from_str(&f.content).unwrap_or_else(|_| json!(f.content))))
        .collect();
    Value::Object(forms).to_string()
}

/// DetailedGlossaryTerms: each term's name and short description.
pub fn detailed_terms(state: &State, terms: &[String]) -> Vec<Value> {
    terms
        .iter()
        .filter_map(|t| state.glossary_terms.get(t))
        .map(|t| {
            let mut v = json!({"name": t.name});
            put_opt(&mut v, "shortDescription", t.short_description.clone());
            v
        })
        .collect()
}

/// What a listing revision shows of its entity, to render and to search.
pub struct Shown<'s> {
    pub name: String,
    pub description: Option<String>,
    pub project_id: &'s str,
    pub glossary_terms: &'s [String],
    pub forms: &'s [Form],
    /// The asset's type (`None` for a data product).
    pub asset_type: Option<&'static str>,
    pub entity_id: &'s str,
}

/// What `lr` of `listing` shows: the asset or data product revision it published. ListingName
/// has at most 64 characters and Description 2048 [model]: longer ones are cut [inferred].
pub fn shown<'s>(state: &'s State, listing: &'s Listing, lr: &'s ListingRevision) -> AwsResult<Shown<'s>> {
    let missing = || AwsError::internal(format!("listing {} points at a missing revision", listing.id));
    let cut = |s: &str, n: usize| s.chars().take(n).collect::<String>();
    let revision = lr.entity_revision.to_string();
    match &listing.entity {
        ListingEntity::Asset(id) => {
            let asset = state
                .assets
                .get(id)
                .ok_or_else(|| AwsError::not_found(format!("The asset of listing {} was not found", listing.id)))?;
            let ar = asset.revision(&revision).ok_or_else(missing)?;
            Ok(Shown {
                name: cut(&ar.name, 64),
                description: ar.description.as_deref().map(|d| cut(d, 2048)),
                project_id: &asset.project_id,
                glossary_terms: &ar.glossary_terms,
                forms: &ar.forms,
                asset_type: Some(asset.type_identifier()),
                entity_id: &asset.id,
            })
        }
        ListingEntity::DataProduct(id) => {
            let product = state.data_products.get(id).ok_or_else(|| {
                AwsError::not_found(format!("The data product of listing {} was not found", listing.id))
            })?;
            let pr = product.revision(&revision).ok_or_else(missing)?;
            Ok(Shown {
                name: cut(&pr.name, 64),
                description: pr.description.as_deref().map(|d| cut(d, 2048)),
                project_id: &product.project_id,
                glossary_terms: &pr.glossary_terms,
                forms: &pr.forms,
                asset_type: None,
                entity_id: &product.id,
            })
        }
    }
}

/// A data product listing's items: ListingSummary (GetListing) and ListingSummaryItem
/// (SearchListings) have the same members.
fn summaries_json(state: &State, items: &[ListingSummary]) -> Vec<Value> {
    items
        .iter()
        .map(|i| {
            let mut v = json!({"listingId": i.listing_id, "listingRevision": i.listing_revision.to_string()});
            let terms = detailed_terms(state, &i.glossary_terms);
            if !terms.is_empty() {
                v["glossaryTerms"] = json!(terms);
            }
            v
        })
        .collect()
}

/// A listing revision (the latest unless `listingRevision`), readable by any caller that may use
/// the domain: the catalog is the domain's [inferred]. `item.assetListing` or
/// `item.dataProductListing` (with the listings of its assets as `items`).
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
    let shown = shown(state, listing, lr)?;
    let mut item = json!({
        "createdAt": lr.created_at.epoch(), "forms": forms_object(shown.forms), "owningProjectId": shown.project_id,
    });
    let terms = detailed_terms(state, shown.glossary_terms);
    if !terms.is_empty() {
        item["glossaryTerms"] = json!(terms);
    }
    let item = match shown.asset_type {
        Some(asset_type) => {
            item["assetId"] = json!(shown.entity_id);
            item["assetRevision"] = json!(lr.entity_revision.to_string());
            item["assetType"] = json!(asset_type);
            json!({"assetListing": item})
        }
        None => {
            item["dataProductId"] = json!(shown.entity_id);
            item["dataProductRevision"] = json!(lr.entity_revision.to_string());
            item["items"] = json!(summaries_json(state, &lr.items));
            json!({"dataProductListing": item})
        }
    };
    let mut out = json!({
        "domainId": d.id, "id": listing.id, "listingRevision": lr.number.to_string(), "name": shown.name,
        "status": listing.status, "createdAt": listing.created_at.epoch(), "createdBy": listing.created_by,
        "updatedAt": listing.updated_at.epoch(), "updatedBy": listing.updated_by, "item": item,
    });
    put_opt(&mut out, "description", shown.description);
    Ok((200, out))
}

/// A SearchListings item for the listing's latest revision: `assetListing` (AssetListingItem) or
/// `dataProductListing` (DataProductListingItem); `additionalAttributes.forms` with FORMS.
pub fn search_item(state: &State, listing: &Listing, with_forms: bool) -> AwsResult<Value> {
    let lr = listing.revisions.last().ok_or_else(|| AwsError::internal("a listing without revisions"))?;
    let shown = shown(state, listing, lr)?;
    let mut item = json!({
        "listingId": listing.id, "listingRevision": lr.number.to_string(), "name": shown.name,
        "entityId": shown.entity_id, "entityRevision": lr.entity_revision.to_string(),
        "createdAt": listing.created_at.epoch(), "listingCreatedBy": listing.created_by,
        "listingUpdatedBy": listing.updated_by, "owningProjectId": shown.project_id,
    });
    put_opt(&mut item, "description", shown.description);
    let terms = detailed_terms(state, shown.glossary_terms);
    if !terms.is_empty() {
        item["glossaryTerms"] = json!(terms);
    }
    if with_forms {
        item["additionalAttributes"] = json!({"forms": forms_object(shown.forms)});
    }
    Ok(match shown.asset_type {
        Some(asset_type) => {
            item["entityType"] = json!(asset_type);
            json!({"assetListing": item})
        }
        None => {
            item["items"] = json!(summaries_json(state, &lr.items));
            json!({"dataProductListing": item})
        }
    })
}
