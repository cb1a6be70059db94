//! Data products: assets grouped to be published, found and subscribed to as one.
//! CreateDataProduct, CreateDataProductRevision (a revision restates the whole product: name,
//! description, glossary terms, forms and items), GetDataProduct (the latest or `?revision=`),
//! ListDataProductRevisions, DeleteDataProduct, and the Search item of scope DATA_PRODUCT
//! ([`search_item`]). Publishing is a listing change set (`listings.rs`). DataZone has no
//! UpdateDataProduct and no ListDataProducts: a data product is found with Search, or once
//! published with SearchListings. Choices the documentation leaves open are in emulator/README.md
//! (Data products).

use serde_json::{Value, json};

use super::forms::{self, FormInput, forms_json};
use super::glossaries::check_terms;
use super::listings::withdraw_product;
use super::request::{
    Ctx, check_enum, check_id, check_length, check_list, domain, ids_at, items_page, member_project, not_null, page,
};
use super::subscriptions::subscribers;
use crate::error::{AwsError, AwsResult};
use crate::state::{DataProduct, DataProductItem, DataProductRevision, Form, State};

/// What CreateDataProduct and CreateDataProductRevision both state, its shape checked.
struct Stated {
    name: String,
    description: Option<String>,
    glossary_terms: Vec<String>,
    forms: Vec<FormInput>,
    items: Vec<DataProductItem>,
}

fn stated(ctx: &Ctx) -> AwsResult<Stated> {
    Ok(Stated {
        name: ctx.required("name", 1, 64)?,
        description: ctx.optional("description", 1, 4096)?,
        glossary_terms: ctx.optional_ids("glossaryTerms", 1, 20)?.unwrap_or_default(),
        forms: forms::parse_inputs(&ctx.body, "formsInput")?.unwrap_or_default(),
        items: parse_items(ctx)?,
    })
}

/// `items` (DataProductItems, at least one when given [model]): `itemType` ASSET (the only
/// value), `identifier`, `revision` (1..=64), `glossaryTerms` (1..=2).
fn parse_items(ctx: &Ctx) -> AwsResult<Vec<DataProductItem>> {
    let raw_items = match ctx.body.get("items") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(AwsError::validation("items must be a list")),
    };
    check_list("items", raw_items.len(), 1, usize::MAX)?;
    let mut items = Vec::with_capacity(raw_items.len());
    for (i, raw) in raw_items.iter().enumerate() {
        let at = format!("items.{}.member", i + 1);
        let string = |key: &str| match raw.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(AwsError::validation(format!("{at}.{key} must be a string"))),
        };
        let item_type = string("itemType")?.ok_or_else(|| not_null(&format!("{at}.itemType")))?;
        check_enum(&format!("{at}.itemType"), &item_type, &["ASSET"])?;
        let asset_id = string("identifier")?.ok_or_else(|| not_null(&format!("{at}.identifier")))?;
        check_id(&format!("{at}.identifier"), &asset_id)?;
        let revision = string("revision")?;
        if let Some(r) = &revision {
            check_length(&format!("{at}.revision"), r, 1, 64)?;
        }
        let glossary_terms =
            ids_at(raw.get("glossaryTerms"), &format!("{at}.glossaryTerms"), 1, 2)?.unwrap_or_default();
        items.push(DataProductItem { asset_id, revision, glossary_terms });
    }
    Ok(items)
}

/// The revision `number` of a data product of `project_id`, from what the request stated:
/// terms usable on assets are usable here; every item an asset of the domain
/// (ResourceNotFoundException) of the data product's project, each once, at a revision it has
/// (ValidationException) [inferred]; forms as on assets, a form without `typeIdentifier` taking
/// the type of the form of its name in `current_forms`; the name unique in the domain
/// (ConflictException) [inferred: the model says it must be unique, not which error].
fn revision_of(
    state: &State,
    ctx: &Ctx,
    (domain_id, project_id, product_id): (&str, &str, Option<&str>),
    stated: Stated,
    current_forms: &[Form],
    number: u32,
) -> AwsResult<DataProductRevision> {
    check_terms(state, domain_id, &stated.glossary_terms)?;
    for (i, item) in stated.items.iter().enumerate() {
        let id = &item.asset_id;
        if stated.items[..i].iter().any(|other| &other.asset_id == id) {
            return Err(AwsError::validation(format!("items: asset {id} is given more than once")));
        }
        let asset = state
            .assets
            .get(id)
            .filter(|a| a.domain_id == domain_id)
            .ok_or_else(|| AwsError::not_found(format!("Asset {id} was not found")))?;
        if asset.project_id != project_id {
            return Err(AwsError::validation(format!(
                "Asset {id} belongs to project {}, not to the data product's project {project_id}",
                asset.project_id
            )));
        }
        if let Some(r) = item.revision.as_deref().filter(|r| asset.revision(r).is_none()) {
            return Err(AwsError::validation(format!("Asset {id} has no revision {r}")));
        }
        check_terms(state, domain_id, &item.glossary_terms)?;
    }
    let forms = forms::resolve_inputs(state, domain_id, &stated.forms, current_forms)?;
    let name = stated.name;
    let taken = state
        .data_products
        .values()
        .any(|p| p.domain_id == domain_id && p.latest().name == name && Some(p.id.as_str()) != product_id);
    if taken {
        return Err(AwsError::conflict(format!("A data product named {name} already exists in this domain")));
    }
    Ok(DataProductRevision {
        number,
        name,
        description: stated.description,
        glossary_terms: stated.glossary_terms,
        forms,
        items: stated.items,
        created_at: ctx.now,
        created_by: ctx.caller.principal_arn.clone(),
    })
}

fn item_json(item: &DataProductItem) -> Value {
    let mut v = json!({"itemType": "ASSET", "identifier": item.asset_id});
    if let Some(r) = &item.revision {
        v["revision"] = json!(r);
    }
    if !item.glossary_terms.is_empty() {
        v["glossaryTerms"] = json!(item.glossary_terms);
    }
    v
}

/// The answer of Create, CreateRevision and Get for one revision (timestamps in epoch seconds
/// [model]). Lists the model requires to have an item (glossary terms, items) are left out
/// when empty.
fn product_json(p: &DataProduct, r: &DataProductRevision) -> Value {
    let first = &p.revisions[0];
    let mut v = json!({
        "domainId": p.domain_id, "id": p.id, "revision": r.number.to_string(), "owningProjectId": p.project_id,
        "name": r.name, "status": "CREATED", "formsOutput": forms_json(&r.forms),
        "createdAt": r.created_at.epoch(), "createdBy": r.created_by,
        "firstRevisionCreatedAt": first.created_at.epoch(), "firstRevisionCreatedBy": first.created_by,
    });
    if let Some(d) = &r.description {
        v["description"] = json!(d);
    }
    if !r.glossary_terms.is_empty() {
        v["glossaryTerms"] = json!(r.glossary_terms);
    }
    if !r.items.is_empty() {
        v["items"] = r.items.iter().map(item_json).collect();
    }
    v
}

/// A Search item (DataProductResultItem) of the latest revision.
pub fn search_item(p: &DataProduct) -> Value {
    let latest = p.latest();
    let first = &p.revisions[0];
    let mut v = json!({
        "domainId": p.domain_id, "id": p.id, "name": latest.name, "owningProjectId": p.project_id,
        "createdAt": latest.created_at.epoch(), "createdBy": latest.created_by,
        "firstRevisionCreatedAt": first.created_at.epoch(), "firstRevisionCreatedBy": first.created_by,
    });
    if let Some(d) = &latest.description {
        v["description"] = json!(d);
    }
    if !latest.glossary_terms.is_empty() {
        v["glossaryTerms"] = json!(latest.glossary_terms);
    }
    v
}

/// The data product `id` of the request's domain, when the caller is a member of its project:
/// a data product is its project's inventory, as an asset is [inferred].
fn member_product<'s>(state: &'s State, ctx: &Ctx, id: &str) -> AwsResult<&'s DataProduct> {
    let d = domain(state, ctx)?;
    let product = state
        .data_products
        .get(id)
        .filter(|p| p.domain_id == d.id)
        .ok_or_else(|| AwsError::not_found(format!("Data product {id} was not found")))?;
    member_project(d, &product.project_id, ctx)?;
    Ok(product)
}

/// The data product that holds the asset, if any: as an item of its latest revision (a draft)
/// or of the revision its ACTIVE listing shows. DeleteAsset is refused while one does [model:
/// DeleteAsset, "Asset must not be linked to any draft or published data product"].
pub fn holding(state: &State, asset_id: &str) -> Option<String> {
    let holds = |r: &DataProductRevision| r.items.iter().any(|i| i.asset_id == asset_id);
    state
        .data_products
        .values()
        .find(|p| {
            holds(p.latest())
                || p.listing
                    .as_ref()
                    .and_then(|id| state.listings.get(id))
                    .filter(|l| l.status == "ACTIVE")
                    .and_then(|l| p.revision(&l.latest().1.to_string()))
                    .is_some_and(holds)
        })
        .map(|p| p.id.clone())
}

/// CreateDataProduct (201): revision 1, by a member of `owningProjectIdentifier`; the same client
/// token from the same caller answers the data product it made (its first revision).
pub fn create(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let project_ref = ctx.required("owningProjectIdentifier", 1, 36)?;
    check_id("owningProjectIdentifier", &project_ref)?;
    let stated = stated(ctx)?;
    let token = ctx.checked_client_token()?;
    let d = domain(state, ctx)?;
    let project_id = member_project(d, &project_ref, ctx)?.id.clone();
    let domain_id = d.id.clone();
    let token_key = token.map(|t| ("CreateDataProduct", ctx.caller.principal_arn.clone(), t));
    if let Some(p) =
        token_key.as_ref().and_then(|k| state.client_tokens.get(k)).and_then(|id| state.data_products.get(id))
    {
        return Ok((201, product_json(p, &p.revisions[0])));
    }
    let held = state.data_products.values().filter(|p| p.domain_id == domain_id).count();
    super::quotas::domain_quota(held, state.lifecycle.data_products_per_domain, &domain_id, "data products")?;
    let revision = revision_of(state, ctx, (&domain_id, &project_id, None), stated, &[], 1)?;
    let product = DataProduct { id: state.ids.id(), domain_id, project_id, revisions: vec![revision], listing: None };
    let out = product_json(&product, product.latest());
    if let Some(key) = token_key {
        state.client_tokens.insert(key, product.id.clone());
    }
    state.data_products.insert(product.id.clone(), product);
    Ok((201, out))
}

/// CreateDataProductRevision (201): the next revision, exactly as stated (what is left out is
/// gone: a revision restates the whole product [model]), by a member of the data product's
/// project. Publishing it is a separate listing change set. The same client token from the same
/// caller answers the same revision.
pub fn create_revision(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let id = ctx.param(1).to_string();
    check_id("identifier", &id)?;
    let stated = stated(ctx)?;
    let token = ctx.checked_client_token()?;
    let product = member_product(state, ctx, &id)?;
    let token_key = token.map(|t| ("CreateDataProductRevision", format!("{}|{id}", ctx.caller.principal_arn), t));
    if let Some(r) = token_key.as_ref().and_then(|k| state.client_tokens.get(k)).and_then(|n| product.revision(n)) {
        return Ok((201, product_json(product, r)));
    }
    let latest = product.latest();
    let scope = (product.domain_id.as_str(), product.project_id.as_str(), Some(id.as_str()));
    let revision = revision_of(state, ctx, scope, stated, &latest.forms, latest.number + 1)?;
    let number = revision.number.to_string();
    let product = state.data_products.get_mut(&id).ok_or_else(|| AwsError::internal("data product vanished"))?;
    product.revisions.push(revision);
    if let Some(key) = token_key {
        state.client_tokens.insert(key, number);
    }
    let product = &state.data_products[&id];
    Ok((201, product_json(product, product.latest())))
}

/// GetDataProduct: the latest revision, or `?revision=` (one it lacks: ResourceNotFoundException,
/// as GetAsset).
pub fn get(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    check_id("identifier", ctx.param(1))?;
    let revision = ctx.query("revision");
    if let Some(r) = revision {
        check_length("revision", r, 1, 64)?;
    }
    let product = member_product(state, ctx, ctx.param(1))?;
    let r = match revision {
        None => product.latest(),
        Some(n) => product
            .revision(n)
            .ok_or_else(|| AwsError::not_found(format!("Data product {} has no revision {n}", product.id)))?,
    };
    Ok((200, product_json(product, r)))
}

/// ListDataProductRevisions: `{domainId, id, revision, createdAt, createdBy}`, the newest first
/// [inferred], paged by at most 50.
pub fn list_revisions(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    check_id("identifier", ctx.param(1))?;
    let product = member_product(state, ctx, ctx.param(1))?;
    let revisions: Vec<&DataProductRevision> = product.revisions.iter().rev().collect();
    let (revisions, token) = page(revisions, ctx, 50, &product.id)?;
    let items = revisions
        .into_iter()
        .map(|r| {
            json!({"domainId": product.domain_id, "id": product.id, "revision": r.number.to_string(),
                   "createdAt": r.created_at.epoch(), "createdBy": r.created_by})
        })
        .collect();
    Ok((200, items_page(items, token)))
}

/// DeleteDataProduct (204), by a member of its project, published or not [inferred]: its listing
/// goes with it, and so do the assets reachable only through it (INACTIVE); the assets
/// themselves stay in the inventory [docs: Delete data products]. Refused while its listing has
/// subscribers (ConflictException naming them), as an asset listing is [inferred: by the rule for
/// asset listings, docs/datazone-semantics.md §15].
pub fn delete(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let id = ctx.param(1).to_string();
    check_id("identifier", &id)?;
    let product = member_product(state, ctx, &id)?;
    let subscribers = product.listing.as_deref().map(|l| subscribers(state, l)).unwrap_or_default();
    if !subscribers.is_empty() {
        return Err(AwsError::conflict(format!(
            "Data product {id} has subscribers (projects {}): revoke their subscriptions first",
            subscribers.join(", ")
        )));
    }
    withdraw_product(state, &id, &ctx.caller.principal_arn, ctx.now);
    state.data_products.remove(&id);
    Ok((204, Value::Null))
}
