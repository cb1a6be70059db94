//! Search over the inventory (scopes ASSET and DATA_PRODUCT: assets and data products of the
//! caller's projects) and the business glossary (scopes GLOSSARY and GLOSSARY_TERM: visible to
//! any caller that may use the domain [inferred]); SearchListings over the catalog (the ACTIVE
//! listings of assets published on their own and of data products, visible to any caller that
//! may use the domain [inferred]).

use serde_json::{Value, json};

use super::assets::asset_item;
use super::glossaries::{Shape, glossary_json, term_json};
use super::listings;
use super::request::{Ctx, check_enum, check_length, domain, is_member, member_project, page_with, put_opt};
use crate::error::{AwsError, AwsResult};
use crate::state::{Asset, DataProduct, Domain, Listing, State};

/// Whether a `filters` clause holds, with `leaf(attribute, value, operator)` deciding each
/// `filter`; `and` / `or` combine them.
fn clause_matches(clause: &Value, leaf: &dyn Fn(&str, &str, Option<&str>) -> bool) -> bool {
    if let Some(all) = clause.get("and").and_then(Value::as_array) {
        return all.iter().all(|c| clause_matches(c, leaf));
    }
    if let Some(any) = clause.get("or").and_then(Value::as_array) {
        return any.iter().any(|c| clause_matches(c, leaf));
    }
    let Some(f) = clause.get("filter") else { return true };
    let value = f.get("value").and_then(Value::as_str).unwrap_or_default();
    let attribute = f.get("attribute").and_then(Value::as_str).unwrap_or_default();
    leaf(attribute, value, f.get("operator").and_then(Value::as_str))
}

/// The asset attributes the emulator understands: equality on `name`, `typeIdentifier`,
/// `owningProjectId`, `amazon.datazone.dataSourceId`, and `__DataZoneGlossaryTerms` (a term of
/// the latest revision) [model: Search's documentation names that attribute]; any other
/// attribute matches nothing.
fn asset_matches(a: &Asset, attribute: &str, value: &str) -> bool {
    match attribute {
        "name" => a.latest().name == value,
        "typeIdentifier" => a.type_identifier() == value,
        "owningProjectId" => a.project_id == value,
        "amazon.datazone.dataSourceId" | "dataSourceId" => a.data_source_id == value,
        "__DataZoneGlossaryTerms" => a.latest().glossary_terms.iter().any(|t| t == value),
        _ => false,
    }
}

/// The data product attributes the emulator understands, on its latest revision: equality on
/// `name`, `owningProjectId` and `__DataZoneGlossaryTerms`; any other matches nothing.
fn product_matches(p: &DataProduct, attribute: &str, value: &str) -> bool {
    match attribute {
        "name" => p.latest().name == value,
        "owningProjectId" => p.project_id == value,
        "__DataZoneGlossaryTerms" => p.latest().glossary_terms.iter().any(|t| t == value),
        _ => false,
    }
}

/// A glossary or term attribute: EQ (the default) is equality, TEXT_SEARCH a case-insensitive
/// substring; other operators match nothing [inferred].
fn text_matches(actual: Option<&str>, value: &str, operator: Option<&str>) -> bool {
    match (actual, operator) {
        (Some(a), None | Some("EQ")) => a == value,
        (Some(a), Some("TEXT_SEARCH")) => a.to_lowercase().contains(&value.to_lowercase()),
        _ => false,
    }
}

/// The project `identifier` (an ID or a name) of the domain, if any.
fn project_id_of(d: &Domain, identifier: &str) -> Option<String> {
    d.projects.get(identifier).or_else(|| d.projects.values().find(|p| p.name == identifier)).map(|p| p.id.clone())
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
    let owning_ref = ctx.body_str("owningProjectIdentifier");
    let with_forms =
        ctx.body.get("additionalAttributes").and_then(Value::as_array).is_some_and(|a| a.iter().any(|x| x == "FORMS"));
    let needle = text.as_deref().map(|t| t.trim_matches('"').to_lowercase());
    let named = |name: &str| needle.as_ref().is_none_or(|n| name.to_lowercase().contains(n.as_str()));
    let filters = ctx.body.get("filters").cloned().unwrap_or(Value::Null);
    let items: Vec<Value> = match scope.as_str() {
        "ASSET" => {
            // Assets are a project's inventory: naming a project needs its membership.
            let owning = match owning_ref {
                Some(p) => Some(member_project(d, p, ctx)?.id.clone()),
                None => None,
            };
            let matching: Vec<&Asset> = state
                .assets
                .values()
                .filter(|a| a.domain_id == d.id)
                .filter(|a| owning.as_ref().is_none_or(|p| &a.project_id == p))
                .filter(|a| d.projects.get(&a.project_id).is_some_and(|p| is_member(d, p, ctx.caller)))
                // The source object's name too, so an asset renamed by a revision is still found by
                // its table's name [inferred: the technical form is searchable].
                .filter(|a| named(&a.latest().name) || named(&a.name))
                .filter(|a| filters.is_null() || clause_matches(&filters, &|attr, v, _| asset_matches(a, attr, v)))
                .collect();
            // Rendered below, page first: a page of assets is all that is rendered.
            return answer(
                ctx,
                matching,
                &format!("Search|{owning:?}{needle:?}{filters}"),
                max_results,
                |a| json!({"assetItem": asset_item(a, with_forms)}),
            );
        }
        "GLOSSARY" => {
            let owning = owning_ref.map(|p| project_id_of(d, p));
            state
                .glossaries
                .values()
                .filter(|g| g.domain_id == d.id)
                .filter(|g| owning.as_ref().is_none_or(|p| p.as_deref() == Some(g.project_id.as_str())))
                .filter(|g| named(&g.name))
                .filter(|g| {
                    filters.is_null()
                        || clause_matches(&filters, &|attr, v, op| {
                            let actual = match attr {
                                "name" => Some(g.name.as_str()),
                                "owningProjectId" => Some(g.project_id.as_str()),
                                "status" => Some(g.status),
                                _ => None,
                            };
                            text_matches(actual, v, op)
                        })
                })
                .map(|g| json!({"glossaryItem": glossary_json(g, Shape::Read)}))
                .collect()
        }
        "GLOSSARY_TERM" => {
            let owning = owning_ref.map(|p| project_id_of(d, p));
            state
                .glossary_terms
                .values()
                .filter(|t| t.domain_id == d.id)
                .filter(|t| {
                    owning.as_ref().is_none_or(|p| {
                        state
                            .glossaries
                            .get(&t.glossary_id)
                            .is_some_and(|g| p.as_deref() == Some(g.project_id.as_str()))
                    })
                })
                .filter(|t| named(&t.name))
                .filter(|t| {
                    filters.is_null()
                        || clause_matches(&filters, &|attr, v, op| {
                            let actual = match attr {
                                "glossaryId" => Some(t.glossary_id.as_str()),
                                "name" => Some(t.name.as_str()),
                                "status" => Some(t.status),
                                _ => None,
                            };
                            text_matches(actual, v, op)
                        })
                })
                .map(|t| json!({"glossaryTermItem": term_json(t, state.glossaries.get(&t.glossary_id), Shape::Read)}))
                .collect()
        }
        _ => {
            // Data products are a project's inventory, as assets are [inferred].
            let owning = match owning_ref {
                Some(p) => Some(member_project(d, p, ctx)?.id.clone()),
                None => None,
            };
            let matching: Vec<&DataProduct> = state
                .data_products
                .values()
                .filter(|p| p.domain_id == d.id)
                .filter(|p| owning.as_ref().is_none_or(|o| &p.project_id == o))
                .filter(|p| d.projects.get(&p.project_id).is_some_and(|project| is_member(d, project, ctx.caller)))
                .filter(|p| named(&p.latest().name) || p.latest().description.as_deref().is_some_and(named))
                .filter(|p| filters.is_null() || clause_matches(&filters, &|attr, v, _| product_matches(p, attr, v)))
                .collect();
            return answer(
                ctx,
                matching,
                &format!("Search|DATA_PRODUCT|{owning:?}{needle:?}{filters}"),
                max_results,
                |p| json!({"dataProductItem": super::data_products::search_item(p)}),
            );
        }
    };
    answer(ctx, items, &format!("Search|{scope}|{owning_ref:?}{needle:?}{filters}"), max_results, |v| v)
}

/// One page of `matching`, rendered with `render`, with the total and the next token.
fn answer<T>(
    ctx: &Ctx,
    matching: Vec<T>,
    fingerprint: &str,
    max_results: usize,
    render: impl Fn(T) -> Value,
) -> AwsResult<(u16, Value)> {
    let total = matching.len();
    let (page_items, token) = page_with(matching, ctx.body_str("nextToken"), max_results, fingerprint)?;
    let items: Vec<Value> = page_items.into_iter().map(render).collect();
    let mut out = json!({"items": items, "totalMatchCount": total});
    put_opt(&mut out, "nextToken", token);
    Ok((200, out))
}

/// The listing attributes the emulator understands, on what its latest revision shows: equality
/// on `name`, `owningProjectId`, `entityId`, `entityType` (`ASSET` or `DATA_PRODUCT`
/// [inferred]) and `__DataZoneGlossaryTerms`; any other matches nothing.
fn listing_matches(shown: &listings::Shown, attribute: &str, value: &str) -> bool {
    match attribute {
        "name" => shown.name == value,
        "owningProjectId" => shown.project_id == value,
        "entityId" => shown.entity_id == value,
        "entityType" => value == if shown.asset_type.is_some() { "ASSET" } else { "DATA_PRODUCT" },
        "__DataZoneGlossaryTerms" => shown.glossary_terms.iter().any(|t| t == value),
        _ => false,
    }
}

/// SearchListings: the domain's listings in the catalog ([`Listing::in_catalog`]: an asset
/// reachable only through data products is not found on its own [docs: Publish data products]),
/// `searchText` a case-insensitive substring of the name or description shown, `filters` as
/// [`listing_matches`], FORMS in `additionalAttributes`; `searchIn`, `sort` and `aggregations`
/// are ignored [inferred]. Paged by at most 50.
pub fn search_listings(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let text = ctx.optional("searchText", 0, 512)?;
    let max_results = match ctx.body.get("maxResults").and_then(Value::as_u64) {
        None => 50,
        Some(n @ 1..=50) => n as usize,
        Some(n) => return Err(AwsError::validation(format!("maxResults {n} must be between 1 and 50"))),
    };
    if let Some(Value::Array(attributes)) = ctx.body.get("additionalAttributes") {
        for (i, a) in attributes.iter().enumerate() {
            let member = format!("additionalAttributes.{}.member", i + 1);
            check_length(&member, a.as_str().unwrap_or_default(), 1, 64)?;
            check_enum(
                &member,
                a.as_str().unwrap_or_default(),
                &["FORMS", "TIME_SERIES_DATA_POINT_FORMS", "TEXT_MATCH_RATIONALE"],
            )?;
        }
    }
    let with_forms =
        ctx.body.get("additionalAttributes").and_then(Value::as_array).is_some_and(|a| a.iter().any(|x| x == "FORMS"));
    let d = domain(state, ctx)?;
    let needle = text.as_deref().map(|t| t.trim_matches('"').to_lowercase()).filter(|t| !t.is_empty());
    let named = |s: &str| needle.as_ref().is_none_or(|n| s.to_lowercase().contains(n.as_str()));
    let filters = ctx.body.get("filters").cloned().unwrap_or(Value::Null);
    let mut matching: Vec<&Listing> = Vec::new();
    for listing in state.listings.values().filter(|l| l.domain_id == d.id && l.in_catalog()) {
        let Some(lr) = listing.revisions.last() else { continue };
        let shown = listings::shown(state, listing, lr)?;
        let text_matches = named(&shown.name) || shown.description.as_deref().is_some_and(named);
        if text_matches
            && (filters.is_null() || clause_matches(&filters, &|attr, v, _| listing_matches(&shown, attr, v)))
        {
            matching.push(listing);
        }
    }
    let total = matching.len();
    let fingerprint = format!("SearchListings|{needle:?}{filters}");
    let (page_items, token) = page_with(matching, ctx.body_str("nextToken"), max_results, &fingerprint)?;
    let items =
        page_items.into_iter().map(|l| listings::search_item(state, l, with_forms)).collect::<AwsResult<Vec<_>>>()?;
    let mut out = json!({"items": items, "totalMatchCount": total});
    put_opt(&mut out, "nextToken", token);
    Ok((200, out))
}
