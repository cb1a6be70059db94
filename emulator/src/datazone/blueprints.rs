//! The managed environment blueprints and their per-account configurations.

use serde_json::{Value, json};

use super::request::{Ctx, check_id, domain, domain_mut, is_role_arn, items_page, page, put_opt};
use crate::error::{AwsError, AwsResult};
use crate::fixture::is_region;
use crate::state::{Blueprint, BlueprintConfig, Domain, State};

/// User parameters of the Data Warehouse blueprint. `clusterName` is [inferred]: no public
/// source names the key for a provisioned cluster (docs/datazone-semantics.md §3).
pub const DATA_WAREHOUSE_PARAMETERS: &[&str] =
    &["dataAccessSecretsArn", "dbName", "clusterName", "workgroupName", "profilePermissionLevel", "allowedProjects"];

fn summary(b: &Blueprint, d: &Domain) -> Value {
    json!({
        "id": b.id, "name": b.name, "description": b.description, "provider": "Amazon DataZone",
        "provisioningProperties": {"cloudFormation": {"templateUrl": format!("https://datazone-blueprints-{}.s3.amazonaws.com/{}.template.json", d.region, b.name)}},
        "createdAt": d.created_at.iso(), "updatedAt": d.created_at.iso(),
    })
}

pub fn blueprint<'d>(d: &'d Domain, id: &str) -> AwsResult<&'d Blueprint> {
    d.blueprints
        .iter()
        .find(|b| b.id == id)
        .ok_or_else(|| AwsError::not_found(format!("Environment blueprint {id} was not found")))
}

pub fn list_blueprints(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let d = domain(state, ctx)?;
    // Every blueprint here is managed; `name` matches exactly [inferred: undocumented].
    let name = ctx.query("name");
    let managed = ctx.query("managed").map(|m| m == "true");
    let items: Vec<Value> = d
        .blueprints
        .iter()
        .filter(|b| name.is_none_or(|n| b.name == n) && managed != Some(false))
        .map(|b| summary(b, d))
        .collect();
    let fingerprint = format!("{name:?}{managed:?}");
    let (items, token) = page(items, ctx, 50, &fingerprint)?;
    Ok((200, items_page(items, token)))
}

pub fn get_blueprint(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let d = domain(state, ctx)?;
    let b = blueprint(d, ctx.param(1))?;
    let mut out = summary(b, d);
    if b.name == "DefaultDataWarehouse" {
        out["userParameters"] = DATA_WAREHOUSE_PARAMETERS
            .iter()
            .map(|k| json!({"keyName": k, "fieldType": "String", "isOptional": !matches!(*k, "dataAccessSecretsArn" | "dbName"), "isEditable": false, "isUpdateSupported": false}))
            .collect();
    }
    Ok((200, out))
}

fn config_json(domain_id: &str, blueprint_id: &str, c: &BlueprintConfig) -> Value {
    let mut v = json!({
        "domainId": domain_id, "environmentBlueprintId": blueprint_id, "enabledRegions": c.enabled_regions,
        "createdAt": c.created_at.iso(), "updatedAt": c.updated_at.iso(),
    });
    put_opt(&mut v, "provisioningRoleArn", c.provisioning_role_arn.clone());
    put_opt(&mut v, "manageAccessRoleArn", c.manage_access_role_arn.clone());
    if !c.regional_parameters.is_null() {
        v["regionalParameters"] = c.regional_parameters.clone();
    }
    v
}

/// The configuration belongs to the caller's account (docs/datazone-semantics.md §1).
pub fn put_configuration(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let regions = ctx
        .body
        .get("enabledRegions")
        .and_then(Value::as_array)
        .ok_or_else(|| AwsError::validation("1 validation error detected: Value null at 'enabledRegions' failed to satisfy constraint: Member must not be null"))?;
    let mut enabled = Vec::new();
    for r in regions {
        let r = r
            .as_str()
            .filter(|r| is_region(r))
            .ok_or_else(|| AwsError::validation(format!("Invalid region in enabledRegions: {r}")))?;
        enabled.push(r.to_string());
    }
    let mut roles = [None, None];
    for (slot, member) in roles.iter_mut().zip(["provisioningRoleArn", "manageAccessRoleArn"]) {
        if let Some(arn) = ctx.optional(member, 1, 2048)? {
            super::request::check_pattern(
                member,
                &arn,
                is_role_arn(&arn),
                "^arn:aws[^:]*:iam::\\d{12}:role(/[a-zA-Z0-9+=,.@_-]+)*/[a-zA-Z0-9+=,.@_-]+$",
            )?;
            *slot = Some(arn);
        }
    }
    let regional = ctx.body.get("regionalParameters").cloned().unwrap_or(Value::Null);
    let blueprint_id = ctx.param(1).to_string();
    check_id("environmentBlueprintIdentifier", &blueprint_id)?;
    let account = ctx.caller.account.clone();
    let d = domain_mut(state, ctx)?;
    blueprint(d, &blueprint_id)?;
    let key = (blueprint_id.clone(), account);
    let created_at = d.blueprint_configs.get(&key).map_or(ctx.now, |c| c.created_at);
    let [provisioning_role_arn, manage_access_role_arn] = roles;
    let config = BlueprintConfig {
        provisioning_role_arn,
        manage_access_role_arn,
        enabled_regions: enabled,
        regional_parameters: regional,
        created_at,
        updated_at: ctx.now,
    };
    let out = config_json(&d.id, &blueprint_id, &config);
    d.blueprint_configs.insert(key, config);
    Ok((200, out))
}

pub fn get_configuration(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let d = domain(state, ctx)?;
    let key = (ctx.param(1).to_string(), ctx.caller.account.clone());
    let config = d.blueprint_configs.get(&key).ok_or_else(|| {
        AwsError::not_found(format!("Environment blueprint configuration for {} was not found", ctx.param(1)))
    })?;
    Ok((200, config_json(&d.id, ctx.param(1), config)))
}

pub fn list_configurations(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let d = domain(state, ctx)?;
    let items: Vec<Value> = d
        .blueprint_configs
        .iter()
        .filter(|((_, account), _)| account == &ctx.caller.account)
        .map(|((bp, _), c)| config_json(&d.id, bp, c))
        .collect();
    let (items, token) = page(items, ctx, 50, "")?;
    Ok((200, items_page(items, token)))
}
