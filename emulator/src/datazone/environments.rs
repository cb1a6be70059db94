//! Environment profiles and environments. An environment is CREATING until
//! `--environment-ready-after` has passed, then ACTIVE (with its default data source) or
//! CREATE_FAILED when the blueprint is not enabled for its account and region. V2 domains have
//! neither profiles nor created environments: each project brings its Tooling environment.

use serde_json::{Value, json};

use super::blueprints::{DATA_WAREHOUSE_PARAMETERS, blueprint};
use super::request::{Ctx, check_id, check_name64, domain, items_page, member_project, page, put_opt, require_version};
use crate::clock::Instant;
use crate::error::{AwsError, AwsResult};
use crate::fixture::{is_account, is_region};
use crate::state::{
    DataSource, DomainVersion, Due, Environment, FilterExpression, Profile, RedshiftConfig, RelationalFilter, State,
    Storage,
};

fn parameters(ctx: &Ctx, allowed: Option<&[&str]>) -> AwsResult<Vec<(String, String)>> {
    let Some(list) = ctx.body.get("userParameters") else { return Ok(Vec::new()) };
    let list = list.as_array().ok_or_else(|| AwsError::validation("userParameters must be a list"))?;
    let mut out = Vec::new();
    for p in list {
        let name = p.get("name").and_then(Value::as_str).unwrap_or_default();
        let value = p.get("value").and_then(Value::as_str).unwrap_or_default();
        if let Some(allowed) = allowed
            && !allowed.contains(&name)
        {
            return Err(AwsError::validation(format!(
                "Invalid user parameter {name:?} for this environment blueprint"
            )));
        }
        out.push((name.to_string(), value.to_string()));
    }
    Ok(out)
}

fn parameters_json(params: &[(String, String)]) -> Value {
    params
        .iter()
        .map(|(k, v)| json!({"keyName": k, "fieldType": "String", "defaultValue": v, "isEditable": false, "isOptional": true}))
        .collect()
}

fn profile_json(p: &Profile, full: bool) -> Value {
    let mut v = json!({
        "id": p.id, "domainId": p.domain_id, "awsAccountId": p.account, "awsAccountRegion": p.region,
        "createdBy": p.created_by, "createdAt": p.created_at.iso(), "updatedAt": p.created_at.iso(),
        "name": p.name, "environmentBlueprintId": p.blueprint_id, "projectId": p.project_id,
    });
    put_opt(&mut v, "description", p.description.clone());
    if full {
        v["userParameters"] = parameters_json(&p.user_parameters);
    }
    v
}

pub fn create_profile(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let name = ctx.required("name", 1, 64)?;
    check_name64("name", &name)?;
    let description = ctx.optional("description", 0, 2048)?;
    let blueprint_id = ctx.required("environmentBlueprintIdentifier", 1, 36)?;
    check_id("environmentBlueprintIdentifier", &blueprint_id)?;
    let project_ref = ctx.required("projectIdentifier", 1, 36)?;
    // The Data Warehouse blueprint needs the account and region it binds [inferred].
    let account = ctx.required("awsAccountId", 12, 12)?;
    let region = ctx.required("awsAccountRegion", 4, 16)?;
    super::request::check_pattern("awsAccountId", &account, is_account(&account), "^\\d{12}$")?;
    super::request::check_pattern("awsAccountRegion", &region, is_region(&region), "^[a-z]{2}-[a-z]{4,10}-\\d$")?;
    let d = domain(state, ctx)?;
    // [inferred] wording: V2 domains have project profiles instead.
    require_version(d, DomainVersion::V1, "Environment profiles are only supported in V1 domains")?;
    let project_id = member_project(d, &project_ref, ctx)?.id.clone();
    let bp = blueprint(d, &blueprint_id)?;
    let allowed = (bp.name == "DefaultDataWarehouse").then_some(DATA_WAREHOUSE_PARAMETERS);
    let user_parameters = parameters(ctx, allowed)?;
    if account != d.account && !d.associated.contains(&account) {
        return Err(AwsError::validation(format!("Account {account} is not associated with domain {}", d.id)));
    }
    let domain_id = d.id.clone();
    // Profile names are unique within a project [inferred: the scope is not established].
    if state.profiles.values().any(|p| p.domain_id == domain_id && p.project_id == project_id && p.name == name) {
        return Err(AwsError::conflict(format!(
            "An environment profile named {name} already exists within this project"
        )));
    }
    let id = state.ids.id();
    let profile = Profile {
        id: id.clone(),
        domain_id,
        project_id,
        name,
        description,
        blueprint_id,
        account,
        region,
        user_parameters,
        created_by: ctx.caller.principal_arn.clone(),
        created_at: ctx.now,
    };
    let out = profile_json(&profile, true);
    state.profiles.insert(id, profile);
    Ok((201, out))
}

fn profile_in<'s>(state: &'s State, ctx: &Ctx, id: &str) -> AwsResult<&'s Profile> {
    state
        .profiles
        .get(id)
        .filter(|p| p.domain_id == ctx.param(0))
        .ok_or_else(|| AwsError::not_found(format!("Environment profile {id} was not found")))
}

pub fn get_profile(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    domain(state, ctx)?;
    Ok((200, profile_json(profile_in(state, ctx, ctx.param(1))?, true)))
}

pub fn delete_profile(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let d = domain(state, ctx)?;
    let p = profile_in(state, ctx, ctx.param(1))?;
    member_project(d, &p.project_id, ctx)?;
    let id = p.id.clone();
    if state.environments.values().any(|e| e.profile_id == id && e.status != "DELETED") {
        return Err(AwsError::conflict(format!("Environment profile {id} is used by environments")));
    }
    state.profiles.remove(&id);
    Ok((204, Value::Null))
}

pub fn list_profiles(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    domain(state, ctx)?;
    let q = |k| ctx.query(k);
    let items = state
        .profiles
        .values()
        .filter(|p| p.domain_id == ctx.param(0))
        .filter(|p| q("name").is_none_or(|v| p.name == v))
        .filter(|p| q("projectIdentifier").is_none_or(|v| p.project_id == v))
        .filter(|p| q("awsAccountId").is_none_or(|v| p.account == v))
        .filter(|p| q("awsAccountRegion").is_none_or(|v| p.region == v))
        .filter(|p| q("environmentBlueprintIdentifier").is_none_or(|v| p.blueprint_id == v))
        .collect::<Vec<_>>();
    let fingerprint = format!("{:?}", [q("name"), q("projectIdentifier"), q("awsAccountId"), q("awsAccountRegion")]);
    let (page_items, token) = page(items, ctx, 50, &fingerprint)?;
    let items = page_items.into_iter().map(|p| profile_json(p, false)).collect();
    Ok((200, items_page(items, token)))
}

fn environment_json(e: &Environment, full: bool) -> Value {
    // A V2 project environment comes from a project profile's environment configuration, not
    // from an environment profile: its environmentProfileId is "".
    let provider = if e.configuration.is_some() { "Amazon SageMaker" } else { "Amazon DataZone" };
    let mut v = json!({
        "projectId": e.project_id, "id": e.id, "domainId": e.domain_id, "createdBy": e.created_by,
        "createdAt": e.created_at.iso(), "updatedAt": e.updated_at.iso(), "name": e.name,
        "environmentProfileId": e.profile_id, "awsAccountId": e.account, "awsAccountRegion": e.region,
        "provider": provider, "status": e.status,
    });
    put_opt(&mut v, "description", e.description.clone());
    if let Some((id, name)) = &e.configuration {
        v["environmentConfigurationId"] = json!(id);
        v["environmentConfigurationName"] = json!(name);
    }
    if full {
        v["environmentBlueprintId"] = json!(e.blueprint_id);
        v["userParameters"] = parameters_json(&e.user_parameters);
        let (deployment_status, complete) = match e.status {
            "CREATING" => ("IN_PROGRESS", false),
            "CREATE_FAILED" => ("FAILED", true),
            _ => ("SUCCESSFUL", true),
        };
        let mut deployment = json!({"deploymentId": format!("{}-create", e.id), "deploymentType": "CREATE", "deploymentStatus": deployment_status, "isDeploymentComplete": complete});
        if let Some(message) = &e.failure {
            deployment["failureReason"] = json!({"code": "400", "message": message});
        }
        v["lastDeployment"] = deployment;
        if e.status == "ACTIVE" && e.configuration.is_none() {
            v["provisionedResources"] = json!([
                {"type": "string", "name": "redshiftDatabase", "value": e.parameter("dbName").unwrap_or_default(), "provider": "Amazon Redshift"}
            ]);
        }
    }
    v
}

pub fn create_environment(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let name = ctx.required("name", 1, 64)?;
    check_name64("name", &name)?;
    let description = ctx.optional("description", 0, 2048)?;
    let project_ref = ctx.required("projectIdentifier", 1, 36)?;
    let d = domain(state, ctx)?;
    if d.version == DomainVersion::V2 {
        // The model's documentation of CreateEnvironmentInput: blueprint (and profile) IDs are
        // for V1 domains only. V2 environments come from project profiles, which the emulator
        // does not create beyond each project's Tooling environment [inferred].
        for member in ["environmentBlueprintIdentifier", "environmentProfileIdentifier"] {
            if ctx.body.get(member).is_some_and(|v| !v.is_null()) {
                return Err(AwsError::validation(format!(
                    "{member} is only valid for V1 domains. It is not supported for V2 domains."
                )));
            }
        }
        return Err(AwsError::validation(
            "The emulator creates no environments in V2 domains: each project has its Tooling environment",
        ));
    }
    let profile_id = ctx.required("environmentProfileIdentifier", 1, 36)?;
    let project_id = member_project(d, &project_ref, ctx)?.id.clone();
    let profile = profile_in(state, ctx, &profile_id)?.clone();
    let bp = blueprint(d, &profile.blueprint_id)?;
    let allowed = (bp.name == "DefaultDataWarehouse").then_some(DATA_WAREHOUSE_PARAMETERS);
    let mut user_parameters = profile.user_parameters.clone();
    for (k, v) in parameters(ctx, allowed)? {
        user_parameters.retain(|(existing, _)| existing != &k);
        user_parameters.push((k, v));
    }
    // Names are unique within a project, DELETED environments included (docs/datazone-semantics.md §3).
    if state.environments.values().any(|e| e.domain_id == ctx.param(0) && e.project_id == project_id && e.name == name)
    {
        return Err(AwsError::conflict(format!("An environment named {name} already exists within this project")));
    }
    // The domain's quota of environments [docs: Quotas for Amazon DataZone]; DELETED ones do
    // not count, and only CreateEnvironment is refused (a V2 project's Tooling environment is
    // made with its project) [inferred].
    let limit = state.lifecycle.environments_per_domain;
    let held = state.environments.values().filter(|e| e.domain_id == ctx.param(0) && e.status != "DELETED").count();
    super::quotas::domain_quota(held, limit, ctx.param(0), "environments")?;
    let id = state.ids.id();
    let environment = Environment {
        id: id.clone(),
        domain_id: ctx.param(0).to_string(),
        project_id,
        profile_id: profile.id.clone(),
        blueprint_id: profile.blueprint_id.clone(),
        name,
        description,
        account: profile.account.clone(),
        region: profile.region.clone(),
        user_parameters,
        status: "CREATING",
        failure: None,
        created_by: ctx.caller.principal_arn.clone(),
        created_at: ctx.now,
        updated_at: ctx.now,
        configuration: None,
    };
    let out = environment_json(&environment, true);
    state.environments.insert(id.clone(), environment);
    let ready_at = ctx.now.plus(state.lifecycle.environment_ready_after);
    state.schedule(ready_at, Due::EnvironmentSettles(id));
    Ok((201, out))
}

/// CREATING → ACTIVE, or CREATE_FAILED when the blueprint is not enabled for the account and
/// region; an ACTIVE Data Warehouse environment gets its default data source.
pub fn settle(state: &mut State, id: &str, at: Instant) {
    let Some(env) = state.environments.get(id).cloned() else { return };
    if env.status != "CREATING" {
        return;
    }
    let enabled = state
        .domains
        .get(&env.domain_id)
        .and_then(|d| d.blueprint_configs.get(&(env.blueprint_id.clone(), env.account.clone())));
    let failure = match enabled {
        Some(c) if c.enabled_regions.contains(&env.region) => None,
        // The documented message for a configuration without regions; the emulator gives it for
        // a missing configuration or region too [inferred].
        _ => Some("Environment blueprint configuration needs to enable atleast one region".to_string()),
    };
    let is_warehouse = state
        .domains
        .get(&env.domain_id)
        .and_then(|d| d.blueprints.iter().find(|b| b.id == env.blueprint_id))
        .is_some_and(|b| b.name == "DefaultDataWarehouse");
    if let Some(e) = state.environments.get_mut(id) {
        e.status = if failure.is_some() { "CREATE_FAILED" } else { "ACTIVE" };
        e.failure = failure.clone();
        e.updated_at = at;
    }
    if failure.is_none() && is_warehouse {
        create_default_data_source(state, &env, at);
    }
}

/// DataZone creates a data source with every Data Warehouse environment (docs/datazone-semantics.md §3).
fn create_default_data_source(state: &mut State, env: &Environment, at: Instant) {
    let storage = match (env.parameter("clusterName"), env.parameter("workgroupName")) {
        (_, Some(wg)) => Storage::Workgroup(wg.to_string()),
        (Some(c), _) => Storage::Cluster(c.to_string()),
        (None, None) => return,
    };
    let id = state.ids.id();
    let database = env.parameter("dbName").unwrap_or("dev").to_string();
    state.data_sources.insert(
        id.clone(),
        DataSource {
            id,
            domain_id: env.domain_id.clone(),
            project_id: env.project_id.clone(),
            environment_id: env.id.clone(),
            connection_id: None,
            name: format!("{}-default-datasource", env.name),
            description: Some("Default data source created with the environment".into()),
            type_: "REDSHIFT".into(),
            config: RedshiftConfig {
                storage,
                secret_arn: env.parameter("dataAccessSecretsArn").unwrap_or_default().to_string(),
                data_access_role: None,
                filters: vec![RelationalFilter {
                    database,
                    schema: None,
                    expressions: vec![FilterExpression { include: true, expression: "*".into() }],
                }],
            },
            account: env.account.clone(),
            region: env.region.clone(),
            publish_on_import: false,
            business_name_generation: false,
            enable_setting: "ENABLED".into(),
            schedule: None,
            status: "READY",
            settles_at: at,
            created_at: at,
            updated_at: at,
            last_run_id: None,
            run_starts: Vec::new(),
            asset_forms: Vec::new(),
        },
    );
}

fn environment_in<'s>(state: &'s State, ctx: &Ctx, id: &str) -> AwsResult<&'s Environment> {
    state
        .environments
        .get(id)
        .filter(|e| e.domain_id == ctx.param(0))
        .ok_or_else(|| AwsError::not_found(format!("Environment {id} was not found")))
}

pub fn get_environment(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let d = domain(state, ctx)?;
    let e = environment_in(state, ctx, ctx.param(1))?;
    member_project(d, &e.project_id, ctx)?;
    Ok((200, environment_json(e, true)))
}

pub fn delete_environment(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let d = domain(state, ctx)?;
    let e = environment_in(state, ctx, ctx.param(1))?;
    member_project(d, &e.project_id, ctx)?;
    if e.status == "DELETED" {
        return Err(AwsError::validation("Cannot delete the environment in DELETED state"));
    }
    let id = e.id.clone();
    if state.connections.values().any(|c| c.environment_id == id) {
        // [inferred]: as with data sources, its connections go first.
        return Err(AwsError::conflict("To delete an environment, you must first delete all its connections"));
    }
    if state.data_sources.values().any(|ds| ds.environment_id == id && !ds.name.ends_with("-default-datasource")) {
        return Err(AwsError::conflict(
            "To delete an environment, you must first delete all its associated data sources",
        ));
    }
    state.data_sources.retain(|_, ds| ds.environment_id != id);
    if let Some(e) = state.environments.get_mut(&id) {
        // The record stays, DELETED, and keeps its name (docs/datazone-semantics.md §3).
        e.status = "DELETED";
        e.updated_at = ctx.now;
    }
    Ok((204, Value::Null))
}

pub fn list_environments(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let d = domain(state, ctx)?;
    let project_ref = ctx
        .query("projectIdentifier")
        .ok_or_else(|| AwsError::validation("1 validation error detected: Value null at 'projectIdentifier' failed to satisfy constraint: Member must not be null"))?;
    let project_id = member_project(d, project_ref, ctx)?.id.clone();
    let q = |k| ctx.query(k);
    let items = state
        .environments
        .values()
        .filter(|e| e.domain_id == ctx.param(0) && e.project_id == project_id)
        .filter(|e| q("name").is_none_or(|v| e.name == v))
        .filter(|e| q("status").is_none_or(|v| e.status == v))
        .filter(|e| q("environmentProfileIdentifier").is_none_or(|v| e.profile_id == v))
        .filter(|e| q("environmentBlueprintIdentifier").is_none_or(|v| e.blueprint_id == v))
        .filter(|e| q("awsAccountId").is_none_or(|v| e.account == v))
        .filter(|e| q("awsAccountRegion").is_none_or(|v| e.region == v))
        .collect::<Vec<_>>();
    let fingerprint = format!("{project_id}{:?}", [q("name"), q("status"), q("environmentProfileIdentifier")]);
    let (page_items, token) = page(items, ctx, 50, &fingerprint)?;
    let items = page_items.into_iter().map(|e| environment_json(e, false)).collect();
    Ok((200, items_page(items, token)))
}
