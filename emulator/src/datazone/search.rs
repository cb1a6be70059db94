//! Search (scope ASSET) over the inventory, and GetAsset.

use serde_json::{Value, json};

use super::request::{Ctx, check_enum, domain, is_member, member_project, page_with, put_opt};
use crate::error::{AwsError, AwsResult};
use crate::state::{Asset, State};

fn forms(a: &Asset) -> Value {
    let form = if a.is_view { "RedshiftViewForm" } else { "RedshiftTableForm" };
    let content = json!({"databaseName": a.database, "schemaName": a.schema, "tableName": a.name}).to_string();
    json!([{"formName": form, "typeName": format!("amazon.datazone.{form}Type"), "typeRevision": "1", "content": content}])
}

fn asset_item(a: &Asset, with_forms: bool) -> Value {
    // Search and GetAsset timestamps are epoch seconds in the model.
    let mut v = json!({
        "domainId": a.domain_id, "identifier": a.id, "name": a.name, "typeIdentifier": a.type_identifier(),
        "typeRevision": "1", "externalIdentifier": a.external_identifier, "createdAt": a.created_at.epoch(),
        "createdBy": a.created_by, "firstRevisionCreatedAt": a.created_at.epoch(), "firstRevisionCreatedBy": a.created_by,
        "owningProjectId": a.project_id,
    });
    if with_forms {
        v["additionalAttributes"] = json!({"formsOutput": forms(a)});
    }
    v
}

/// The `filter` clauses the emulator understands: attribute equality on `name`,
/// `typeIdentifier`, `owningProjectId` and `amazon.datazone.dataSourceId` (combined with
/// `and` / `or`); any other attribute matches nothing.
fn filter_matches(clause: &Value, a: &Asset) -> bool {
    if let Some(all) = clause.get("and").and_then(Value::as_array) {
        return all.iter().all(|c| filter_matches(c, a));
    }
    if let Some(any) = clause.get("or").and_then(Value::as_array) {
        return any.iter().any(|c| filter_matches(c, a));
    }
    let Some(f) = clause.get("filter") else { return true };
    let value = f.get("value").and_then(Value::as_str).unwrap_or_default();
    match f.get("attribute").and_then(Value::as_str).unwrap_or_default() {
        "name" => a.name == value,
        "typeIdentifier" => a.type_identifier() == value,
        "owningProjectId" => a.project_id == value,
        "amazon.datazone.dataSourceId" | "dataSourceId" => a.data_source_id == value,
        _ => false,
    }
}

pub fn search(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let scope = ctx.required("searchScope", 1, 32)?;
    check_enum("searchScope", &scope, &["ASSET", "GLOSSARY", "GLOSSARY_TERM", "DATA_PRODUCT"])?;
    let text = ctx.optional("searchText", 1, 512)?;
    let max_results = match ctx.body.get("maxResults").and_then(Value::as_u64) {
        None => 50,
        Some(n @ 1..=50) => n as usize,
        Some(n) => return Err(AwsError::validation(format!("maxResults {n} must be between 1 and 50"))),
    };
    let d = domain(state, ctx)?;
    let owning = match ctx.body_str("owningProjectIdentifier") {
        Some(p) => Some(member_project(d, p, ctx)?.id.clone()),
        None => None,
    };
    let with_forms =
        ctx.body.get("additionalAttributes").and_then(Value::as_array).is_some_and(|a| a.iter().any(|x| x == "FORMS"));
    let needle = text.as_deref().map(|t| t.trim_matches('"').to_lowercase());
    let filters = ctx.body.get("filters").cloned().unwrap_or(Value::Null);
    let matches: Vec<&Asset> = if scope != "ASSET" {
        Vec::new()
    } else {
        state
            .assets
            .values()
            .filter(|a| a.domain_id == d.id)
            .filter(|a| owning.as_ref().is_none_or(|p| &a.project_id == p))
            .filter(|a| d.projects.get(&a.project_id).is_some_and(|p| is_member(d, p, ctx.caller)))
            .filter(|a| needle.as_ref().is_none_or(|n| a.name.to_lowercase().contains(n.as_str())))
            .filter(|a| filters.is_null() || filter_matches(&filters, a))
            .collect()
    };
    let total = matches.len();
    let fingerprint = format!("Search|{owning:?}{needle:?}{filters}");
    let (page_items, token) = page_with(matches, ctx.body_str("nextToken"), max_results, &fingerprint)?;
    let items: Vec<Value> = page_items.into_iter().map(|a| json!({"assetItem": asset_item(a, with_forms)})).collect();
    let mut out = json!({"items": items, "totalMatchCount": total});
    put_opt(&mut out, "nextToken", token);
    Ok((200, out))
}

pub fn get_asset(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let d = domain(state, ctx)?;
    let identifier = ctx.param(1);
    let asset = match identifier.strip_prefix("externalIdentifer/") {
        // The model's own spelling (docs/datazone-semantics.md §7).
        Some(external) => {
            state.assets_by_external_id.get(&(d.id.clone(), external.to_string())).and_then(|id| state.assets.get(id))
        }
        None => state.assets.get(identifier).filter(|a| a.domain_id == d.id),
    }
    .ok_or_else(|| AwsError::not_found(format!("Asset {identifier} was not found")))?;
    member_project(d, &asset.project_id, ctx)?;
    let mut out = asset_item(asset, false);
    if let Some(o) = out.as_object_mut() {
        o.remove("identifier");
    }
    out["id"] = json!(asset.id);
    out["revision"] = json!(asset.revision.to_string());
    out["formsOutput"] = forms(asset);
    if let Some((listing_id, status)) = &asset.listing {
        out["listing"] = json!({"listingId": listing_id, "listingStatus": status});
    }
    Ok((200, out))
}
