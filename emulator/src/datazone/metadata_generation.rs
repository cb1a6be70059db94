//! Metadata generation runs: StartMetadataGenerationRun and GetMetadataGenerationRun. A run is
//! SUBMITTED, and SUCCEEDED after `--run-duration` [inferred]; its suggestions are not applied to
//! the asset (accepting them is a person's act in the portal), so the asset is unchanged.

use serde_json::{Value, json};

use super::request::{Ctx, check_enum, check_id, check_length, check_list, domain, member_project, not_null};
use crate::clock::Instant;
use crate::error::{AwsError, AwsResult};
use crate::state::{Due, MetadataGenerationRun, State};

const TYPES: &[&str] = &["BUSINESS_DESCRIPTIONS", "BUSINESS_NAMES", "BUSINESS_GLOSSARY_ASSOCIATIONS"];

/// `type` or `types` (1..=2), exactly one of them [inferred: the model has both optional];
/// answers the types and whether they came as the list.
fn types_of(ctx: &Ctx) -> AwsResult<(Vec<String>, bool)> {
    let single = ctx.optional("type", 1, 64)?;
    let list = match ctx.body.get("types") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => {
            check_list("types", items.len(), 1, 2)?;
            let mut types = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let t = item.as_str().unwrap_or_default();
                check_enum(&format!("types.{}.member", i + 1), t, TYPES)?;
                types.push(t.to_string());
            }
            Some(types)
        }
        Some(_) => return Err(AwsError::validation("types must be a list")),
    };
    match (single, list) {
        (Some(t), None) => {
            check_enum("type", &t, TYPES)?;
            Ok((vec![t], false))
        }
        (None, Some(types)) => Ok((types, true)),
        (None, None) => Err(AwsError::validation("One of type or types is required")),
        (Some(_), Some(_)) => Err(AwsError::validation("Give type or types, not both")),
    }
}

fn run_json(r: &MetadataGenerationRun, start: bool) -> Value {
    let mut v = json!({
        "domainId": r.domain_id, "id": r.id, "status": r.status, "createdAt": r.created_at.epoch(),
        "createdBy": r.created_by, "owningProjectId": r.project_id,
    });
    if r.as_list {
        v["types"] = json!(r.types);
    } else {
        v["type"] = json!(r.types[0]);
    }
    if !start {
        let mut target = json!({"type": "ASSET", "identifier": r.asset_id});
        super::request::put_opt(&mut target, "revision", r.asset_revision.clone());
        v["target"] = target;
        // Each type goes as the run goes [inferred].
        v["typeStats"] = r.types.iter().map(|t| json!({"type": t, "status": r.status})).collect();
    }
    v
}

/// For an asset of the domain owned by `owningProjectIdentifier` (ValidationException otherwise
/// [inferred]), by a member of that project. The same client token from the same caller gives
/// the same run back.
pub fn start(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let (types, as_list) = types_of(ctx)?;
    let target = ctx.body.get("target").filter(|t| !t.is_null()).ok_or_else(|| not_null("target"))?;
    let target_type = target.get("type").and_then(Value::as_str).ok_or_else(|| not_null("target.type"))?;
    check_enum("target.type", target_type, &["ASSET"])?;
    let asset_id = target.get("identifier").and_then(Value::as_str).ok_or_else(|| not_null("target.identifier"))?;
    let revision = target.get("revision").and_then(Value::as_str).map(str::to_string);
    if let Some(r) = &revision {
        check_length("target.revision", r, 1, 64)?;
    }
    let project_ref = ctx.required("owningProjectIdentifier", 1, 36)?;
    check_id("owningProjectIdentifier", &project_ref)?;
    let token = ctx.checked_client_token()?;
    let d = domain(state, ctx)?;
    let project_id = member_project(d, &project_ref, ctx)?.id.clone();
    let token_key = token.map(|t| ("StartMetadataGenerationRun", ctx.caller.principal_arn.clone(), t));
    if let Some(run) =
        token_key.as_ref().and_then(|k| state.client_tokens.get(k)).and_then(|id| state.metadata_runs.get(id))
    {
        return Ok((200, run_json(run, true)));
    }
    let asset = state
        .assets
        .get(asset_id)
        .filter(|a| a.domain_id == d.id)
        .ok_or_else(|| AwsError::not_found(format!("Asset {asset_id} was not found")))?;
    if asset.project_id != project_id {
        return Err(AwsError::validation(format!("Asset {asset_id} is not owned by project {project_id}")));
    }
    if let Some(r) = revision.as_deref().filter(|r| asset.revision(r).is_none()) {
        return Err(AwsError::validation(format!("Asset {asset_id} has no revision {r}")));
    }
    let run = MetadataGenerationRun {
        id: state.ids.id(),
        domain_id: d.id.clone(),
        project_id,
        asset_id: asset.id.clone(),
        asset_revision: revision,
        types,
        as_list,
        status: "SUBMITTED",
        created_at: ctx.now,
        created_by: ctx.caller.principal_arn.clone(),
    };
    let out = run_json(&run, true);
    let id = run.id.clone();
    state.metadata_runs.insert(id.clone(), run);
    if let Some(key) = token_key {
        state.client_tokens.insert(key, id.clone());
    }
    let due = ctx.now.plus(state.lifecycle.run_duration);
    state.schedule(due, Due::MetadataGenerationFinishes(id));
    Ok((200, out))
}

/// SUBMITTED → SUCCEEDED.
pub fn finish(state: &mut State, id: &str, _at: Instant) {
    if let Some(run) = state.metadata_runs.get_mut(id).filter(|r| r.status == "SUBMITTED") {
        run.status = "SUCCEEDED";
    }
}

/// For members of the run's project. `type` is checked and otherwise changes nothing.
pub fn get(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let id = ctx.param(1);
    check_id("identifier", id)?;
    if let Some(t) = ctx.query("type") {
        check_enum("type", t, TYPES)?;
    }
    let d = domain(state, ctx)?;
    let run = state
        .metadata_runs
        .get(id)
        .filter(|r| r.domain_id == d.id)
        .ok_or_else(|| AwsError::not_found(format!("Metadata generation run {id} was not found")))?;
    member_project(d, &run.project_id, ctx)?;
    Ok((200, run_json(run, false)))
}
