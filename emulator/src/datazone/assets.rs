//! Assets and their revisions: GetAsset (the latest revision, or `?revision=`),
//! CreateAssetRevision and DeleteAsset, and the revisions runs make. Every revision holds the
//! asset's technical form (what the data source read: database, schema, object) beside its
//! business metadata: a description, glossary terms and metadata forms.

use serde_json::{Value, json};

use super::forms::{self, MAX_FORMS, forms_json};
use super::glossaries::check_terms;
use super::request::{Ctx, check_id, check_length, domain, member_project, put_opt};
use super::subscriptions::subscribers;
use crate::clock::Instant;
use crate::error::{AwsError, AwsResult};
use crate::state::{Asset, AssetRevision, Form, State};

/// The form a data source writes on the asset of a table or view.
pub fn technical_form(database: &str, schema: &str, object: &str, is_view: bool) -> Form {
    let name = if is_view { "RedshiftViewForm" } else { "RedshiftTableForm" };
    Form {
        name: name.into(),
        type_name: format!("amazon.datazone.{name}Type"),
        type_revision: "1".into(),
        content: json!({"databaseName": database, "schemaName": schema, "tableName": object}).to_string(),
    }
}

/// The next revision of `asset` with what the latest has (a run that updates an asset carries
/// its business metadata over [inferred]).
pub fn carry_over(asset: &Asset, created_by: &str, at: Instant) -> AssetRevision {
    let latest = asset.latest();
    AssetRevision { number: latest.number + 1, created_at: at, created_by: created_by.to_string(), ..latest.clone() }
}

/// A Search item (timestamps are epoch seconds in the model). `createdAt` / `createdBy` are the
/// latest revision's, beside the first revision's [inferred: the model has both].
pub fn asset_item(a: &Asset, with_forms: bool) -> Value {
    let latest = a.latest();
    let first = &a.revisions[0];
    let mut v = json!({
        "domainId": a.domain_id, "identifier": a.id, "name": latest.name, "typeIdentifier": a.type_identifier(),
        "typeRevision": "1", "externalIdentifier": a.external_identifier, "createdAt": latest.created_at.epoch(),
        "createdBy": latest.created_by, "firstRevisionCreatedAt": first.created_at.epoch(),
        "firstRevisionCreatedBy": first.created_by, "owningProjectId": a.project_id,
    });
    put_opt(&mut v, "description", latest.description.clone());
    // GlossaryTerms has at least one item [model]: none is said by leaving it out.
    if !latest.glossary_terms.is_empty() {
        v["glossaryTerms"] = json!(latest.glossary_terms);
    }
    if with_forms {
        v["additionalAttributes"] = json!({"formsOutput": forms_json(&latest.forms)});
    }
    v
}

/// GetAsset's and CreateAssetRevision's answer for one revision of the asset.
fn asset_json(state: &State, a: &Asset, r: &AssetRevision) -> Value {
    let first = &a.revisions[0];
    let mut v = json!({
        "id": a.id, "domainId": a.domain_id, "name": r.name, "typeIdentifier": a.type_identifier(), "typeRevision": "1",
        "externalIdentifier": a.external_identifier, "revision": r.number.to_string(),
        "createdAt": r.created_at.epoch(), "createdBy": r.created_by,
        "firstRevisionCreatedAt": first.created_at.epoch(), "firstRevisionCreatedBy": first.created_by,
        "owningProjectId": a.project_id, "formsOutput": forms_json(&r.forms),
    });
    put_opt(&mut v, "description", r.description.clone());
    if !r.glossary_terms.is_empty() {
        v["glossaryTerms"] = json!(r.glossary_terms);
    }
    if let Some(listing) = a.listing.as_ref().and_then(|id| state.listings.get(id)) {
        v["listing"] = json!({"listingId": listing.id, "listingStatus": listing.status});
    }
    v
}

/// The asset `identifier` of the request's domain (also `externalIdentifer/<id>`, the model's
/// own spelling: docs/datazone-semantics.md §7), when the caller is a member of its project.
fn member_asset<'s>(state: &'s State, ctx: &Ctx, identifier: &str) -> AwsResult<&'s Asset> {
    let d = domain(state, ctx)?;
    let asset = match identifier.strip_prefix("externalIdentifer/") {
        Some(external) => {
            state.assets_by_external_id.get(&(d.id.clone(), external.to_string())).and_then(|id| state.assets.get(id))
        }
        None => state.assets.get(identifier).filter(|a| a.domain_id == d.id),
    }
    .ok_or_else(|| AwsError::not_found(format!("Asset {identifier} was not found")))?;
    member_project(d, &asset.project_id, ctx)?;
    Ok(asset)
}

pub fn get_asset(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let revision = ctx.query("revision");
    if let Some(r) = revision {
        check_length("revision", r, 1, 64)?;
    }
    let asset = member_asset(state, ctx, ctx.param(1))?;
    let r = match revision {
        None => asset.latest(),
        Some(n) => {
            asset.revision(n).ok_or_else(|| AwsError::not_found(format!("Asset {} has no revision {n}", asset.id)))?
        }
    };
    Ok((200, asset_json(state, asset, r)))
}

/// Makes the asset's next revision: `name`, `description` and `glossaryTerms` exactly as given
/// (absent: none), and the forms exactly `formsInput` plus the technical form, carried over when
/// left out [inferred: formsInput is the revision's complete set of forms]. Only members of the
/// asset's project; the same client token from the same caller gives the same revision back.
pub fn create_revision(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let identifier = ctx.param(1).to_string();
    check_id("identifier", &identifier)?;
    let name = ctx.required("name", 1, 256)?;
    let description = ctx.optional("description", 0, 2048)?;
    let terms = ctx.optional_ids("glossaryTerms", 1, 20)?.unwrap_or_default();
    let inputs = forms::parse_inputs(&ctx.body, "formsInput")?.unwrap_or_default();
    let type_revision = ctx.optional("typeRevision", 1, 64)?;
    let token = ctx.checked_client_token()?;
    let asset = member_asset(state, ctx, &identifier)?;
    let token_key = token.map(|t| ("CreateAssetRevision", format!("{}|{}", ctx.caller.principal_arn, asset.id), t));
    if let Some(number) = token_key.as_ref().and_then(|k| state.client_tokens.get(k))
        && let Some(r) = asset.revision(number)
    {
        return Ok((200, asset_json(state, asset, r)));
    }
    // The built-in asset types are at revision 1 [inferred].
    if let Some(t) = type_revision.filter(|t| t != "1") {
        return Err(AwsError::validation(format!("Asset type {} has no revision {t}", asset.type_identifier())));
    }
    check_terms(state, &asset.domain_id, &terms)?;
    let latest = asset.latest();
    let mut forms = forms::resolve_inputs(state, &asset.domain_id, &inputs, &latest.forms)?;
    let technical = asset.technical_form_name();
    match forms.iter().find(|f| f.name == technical) {
        Some(f) if f.type_name != format!("amazon.datazone.{technical}Type") => {
            return Err(AwsError::validation(format!(
                "Form {technical} is the asset's technical form: its type is amazon.datazone.{technical}Type"
            )));
        }
        Some(_) => {}
        None => {
            if let Some(f) = latest.forms.iter().find(|f| f.name == technical) {
                forms.insert(0, f.clone());
            }
        }
    }
    if forms.len() > MAX_FORMS {
        return Err(AwsError::validation(format!(
            "An asset has at most {MAX_FORMS} forms, its technical form {technical} among them; this revision would have {}",
            forms.len()
        )));
    }
    let revision = AssetRevision {
        number: latest.number + 1,
        name,
        description,
        glossary_terms: terms,
        forms,
        created_at: ctx.now,
        created_by: ctx.caller.principal_arn.clone(),
    };
    let number = revision.number.to_string();
    let asset_id = asset.id.clone();
    let asset = state.assets.get_mut(&asset_id).ok_or_else(|| AwsError::internal("asset vanished"))?;
    asset.revisions.push(revision);
    if let Some(key) = token_key {
        state.client_tokens.insert(key, number);
    }
    let asset = &state.assets[&asset_id];
    Ok((200, asset_json(state, asset, asset.latest())))
}

/// DeleteAsset (204), by a member of the asset's project. Refused while a data product holds the
/// asset, as an item of its latest revision or of the revision its listing publishes
/// (ConflictException [inferred: the model lists it beside ValidationException]): take it out
/// with a data product revision first [model: DeleteAsset]; and while its listing has subscribers
/// (an APPROVED subscription, published or unpublished) [docs: Delete an Amazon DataZone asset,
/// "You can't delete an asset listing that has existing subscribers"], a ConflictException naming
/// them [inferred: the error]. The asset's listing goes with it [inferred]; a later run of its
/// data source imports the object again as a new asset [inferred].
pub fn delete_asset(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let identifier = ctx.param(1).to_string();
    check_id("identifier", &identifier)?;
    let asset = member_asset(state, ctx, &identifier)?;
    if let Some(product) = super::data_products::holding(state, &asset.id) {
        return Err(AwsError::conflict(format!(
            "Asset {identifier} is an item of data product {product}: take it out with a data product revision first"
        )));
    }
    let subscribers = asset.listing.as_deref().map(|l| subscribers(state, l)).unwrap_or_default();
    if !subscribers.is_empty() {
        return Err(AwsError::conflict(format!(
            "Asset {identifier} has subscribers (projects {}): revoke their subscriptions first",
            subscribers.join(", ")
        )));
    }
    let key = (asset.domain_id.clone(), asset.external_identifier.clone());
    if state.assets_by_external_id.get(&key) == Some(&asset.id) {
        state.assets_by_external_id.remove(&key);
    }
    if let Some(listing) = state.assets.remove(&identifier).and_then(|a| a.listing) {
        state.listings.remove(&listing);
    }
    Ok((204, Value::Null))
}
