//! Subscription targets: where an environment receives the data its project subscribes to.
//! CreateSubscriptionTarget, GetSubscriptionTarget and ListSubscriptionTargets (per environment),
//! and [`targets_in`], the targets a grant can go to. An ACTIVE Data Warehouse environment (V1) has
//! a Redshift target DataZone made with it [docs: Grant access to managed Amazon Redshift assets:
//! approved Redshift assets go to "all the data warehouse environments within the project"];
//! every other target is made with CreateSubscriptionTarget (in V2, on a project's environment).
//! Choices the documentation leaves open are in emulator/README.md (Subscriptions).

use serde_json::{Value, json};

use super::forms::FORM_NAME;
use super::request::{
    Ctx, check_enum, check_id, check_length, check_list, check_pattern, domain, is_member, items_page, matches,
    not_null, page, put_opt,
};
use crate::error::{AwsError, AwsResult};
use crate::state::{Domain, Environment, State, SubscriptionTarget};

/// The model's `IamRoleArn` (a target's manage access role).
const MANAGE_ACCESS_ROLE: &str = r"^arn:aws(|-cn|-us-gov):iam::\d{12}:(role|role/service-role)/[\w+=,.@-]*$";
/// The model's `AuthorizedPrincipalIdentifier`.
const AUTHORIZED_PRINCIPAL: &str = r"^[a-zA-Z0-9:/._-]*$";

/// The Redshift target DataZone gives an ACTIVE environment of the DefaultDataWarehouse blueprint
/// (V1): the environment's database, cluster or workgroup and secret as its configuration, the
/// blueprint configuration's manage access role, the Redshift asset types; its ID is derived
/// from the environment's, so it is the same on every read [inferred: all of it but its being
/// there].
fn warehouse_target(d: &Domain, env: &Environment) -> Option<SubscriptionTarget> {
    let blueprint = d.blueprints.iter().find(|b| b.id == env.blueprint_id)?;
    if env.status != "ACTIVE" || blueprint.name != "DefaultDataWarehouse" || env.configuration.is_some() {
        return None;
    }
    let mut config = json!({"databaseName": env.parameter("dbName").unwrap_or("dev")});
    put_opt(&mut config, "clusterIdentifier", env.parameter("clusterName"));
    put_opt(&mut config, "workgroupName", env.parameter("workgroupName"));
    put_opt(&mut config, "secretManagerArn", env.parameter("dataAccessSecretsArn"));
    let manage_access_role = d
        .blueprint_configs
        .get(&(env.blueprint_id.clone(), env.account.clone()))
        .and_then(|c| c.manage_access_role_arn.clone())
        .filter(|r| matches(MANAGE_ACCESS_ROLE, r))
        .unwrap_or_else(|| {
            format!(
                "arn:aws:iam::{}:role/service-role/AmazonDataZoneRedshiftAccess-{}-{}",
                env.account, env.region, d.id
            )
        });
    Some(SubscriptionTarget {
        id: format!("{:016x}", crate::stable_hash(&format!("warehouse-target|{}", env.id)))[..14].to_string(),
        domain_id: d.id.clone(),
        project_id: env.project_id.clone(),
        environment_id: env.id.clone(),
        name: format!("{} Redshift subscription target", env.name),
        type_: "RedshiftSubscriptionTargetType".into(),
        provider: "Amazon DataZone".into(),
        authorized_principals: vec![format!("datazone_usr_role_{}_{}", env.project_id, env.id)],
        manage_access_role,
        applicable_asset_types: vec!["RedshiftTableAssetType".into(), "RedshiftViewAssetType".into()],
        config: vec![("RedshiftSubscriptionTargetConfigForm".into(), config.to_string())],
        grant_creation_mode: "AUTOMATIC",
        created_by: env.created_by.clone(),
        created_at: env.updated_at,
    })
}

/// The targets of an environment: the one DataZone made with it (if any), then those created, in
/// the order they were.
pub fn targets_in(state: &State, env: &Environment) -> Vec<SubscriptionTarget> {
    let made = state.domains.get(&env.domain_id).and_then(|d| warehouse_target(d, env));
    let mut created: Vec<&SubscriptionTarget> =
        state.subscription_targets.values().filter(|t| t.environment_id == env.id).collect();
    created.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    made.into_iter().chain(created.into_iter().cloned()).collect()
}

/// The model's SubscriptionTargetSummary, which Create and Get answer too.
pub fn target_json(t: &SubscriptionTarget) -> Value {
    let config: Vec<Value> =
        t.config.iter().map(|(form, content)| json!({"formName": form, "content": content})).collect();
    json!({
        "id": t.id, "authorizedPrincipals": t.authorized_principals, "domainId": t.domain_id,
        "projectId": t.project_id, "environmentId": t.environment_id, "name": t.name, "type": t.type_,
        "createdBy": t.created_by, "createdAt": t.created_at.epoch(), "updatedAt": t.created_at.epoch(),
        "manageAccessRole": t.manage_access_role, "applicableAssetTypes": t.applicable_asset_types,
        "subscriptionTargetConfig": config, "provider": t.provider,
        "subscriptionGrantCreationMode": t.grant_creation_mode,
    })
}

/// The environment of the path (`environmentIdentifier`), when the caller is a member of its
/// project: an environment's targets are its project's [inferred].
fn member_environment<'s>(state: &'s State, ctx: &Ctx) -> AwsResult<(&'s Domain, &'s Environment)> {
    let id = ctx.param(1);
    check_id("environmentIdentifier", id)?;
    let d = domain(state, ctx)?;
    let env = state
        .environments
        .get(id)
        .filter(|e| e.domain_id == d.id && e.status != "DELETED")
        .ok_or_else(|| AwsError::not_found(format!("Environment {id} was not found")))?;
    let project = d
        .projects
        .get(&env.project_id)
        .ok_or_else(|| AwsError::not_found(format!("Project {} was not found", env.project_id)))?;
    if !is_member(d, project, ctx.caller) {
        return Err(AwsError::access_denied(ctx.op));
    }
    Ok((d, env))
}

/// A required body list of strings (`min..=max` items), each checked by `each`.
fn strings(ctx: &Ctx, member: &str, min: usize, max: usize) -> AwsResult<Vec<String>> {
    let items = match ctx.body.get(member) {
        None | Some(Value::Null) => return Err(not_null(member)),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(AwsError::validation(format!("{member} must be a list"))),
    };
    check_list(member, items.len(), min, max)?;
    items
        .iter()
        .enumerate()
        .map(|(i, v)| {
            v.as_str()
                .map(str::to_string)
                .ok_or_else(|| AwsError::validation(format!("{member}.{}.member must be a string", i + 1)))
        })
        .collect()
}

/// `subscriptionTargetConfig`: SubscriptionTargetForms, each `{formName, content}` (both required).
fn target_config(ctx: &Ctx) -> AwsResult<Vec<(String, String)>> {
    let items = match ctx.body.get("subscriptionTargetConfig") {
        None | Some(Value::Null) => return Err(not_null("subscriptionTargetConfig")),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(AwsError::validation("subscriptionTargetConfig must be a list")),
    };
    let mut config = Vec::with_capacity(items.len());
    for (i, raw) in items.iter().enumerate() {
        let at = format!("subscriptionTargetConfig.{}.member", i + 1);
        let text = |key: &str| match raw.get(key) {
            None | Some(Value::Null) => Err(not_null(&format!("{at}.{key}"))),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(AwsError::validation(format!("{at}.{key} must be a string"))),
        };
        let (form, content) = (text("formName")?, text("content")?);
        check_length(&format!("{at}.formName"), &form, 1, 128)?;
        check_pattern(&format!("{at}.formName"), &form, matches(FORM_NAME, &form), FORM_NAME)?;
        config.push((form, content));
    }
    Ok(config)
}

/// CreateSubscriptionTarget (200) in an ACTIVE environment, by a member of its project: every
/// member the model requires, checked; `provider` "Amazon DataZone" and
/// `subscriptionGrantCreationMode` AUTOMATIC unless given; names unique in the environment
/// (ConflictException); the same client token from the same caller answers the target it made
/// [inferred: the defaults, the unique names]. A target made after a subscription was approved
/// gets no grant of it: grants are made at approval [code: AWS sample, "DataZone doesn't retry
/// grant fulfillment if no target existed at approval time"].
pub fn create(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let name = ctx.required("name", 1, 256)?;
    let type_ = ctx.required("type", 1, 256)?;
    let config = target_config(ctx)?;
    let principals = strings(ctx, "authorizedPrincipals", 1, 20)?;
    for (i, p) in principals.iter().enumerate() {
        let at = format!("authorizedPrincipals.{}.member", i + 1);
        check_pattern(&at, p, matches(AUTHORIZED_PRINCIPAL, p), AUTHORIZED_PRINCIPAL)?;
    }
    let role = ctx.required("manageAccessRole", 1, 2048)?;
    check_pattern("manageAccessRole", &role, matches(MANAGE_ACCESS_ROLE, &role), MANAGE_ACCESS_ROLE)?;
    let asset_types = strings(ctx, "applicableAssetTypes", 0, usize::MAX)?;
    for (i, t) in asset_types.iter().enumerate() {
        check_length(&format!("applicableAssetTypes.{}.member", i + 1), t, 1, 256)?;
    }
    let provider = ctx.optional("provider", 1, 256)?.unwrap_or_else(|| "Amazon DataZone".into());
    let mode = ctx.optional_enum("subscriptionGrantCreationMode", &["AUTOMATIC", "MANUAL"])?.unwrap_or("AUTOMATIC");
    let token = ctx.checked_client_token()?;
    let (d, env) = member_environment(state, ctx)?;
    let token_key = token.map(|t| ("CreateSubscriptionTarget", format!("{}|{}", ctx.caller.principal_arn, env.id), t));
    if let Some(t) =
        token_key.as_ref().and_then(|k| state.client_tokens.get(k)).and_then(|id| state.subscription_targets.get(id))
    {
        return Ok((200, target_json(t)));
    }
    if env.status != "ACTIVE" {
        return Err(AwsError::validation(format!("Environment {} is {}, not ACTIVE", env.id, env.status)));
    }
    if targets_in(state, env).iter().any(|t| t.name == name) {
        return Err(AwsError::conflict(format!(
            "A subscription target named {name} already exists in environment {}",
            env.id
        )));
    }
    let target = SubscriptionTarget {
        id: state.ids.id(),
        domain_id: d.id.clone(),
        project_id: env.project_id.clone(),
        environment_id: env.id.clone(),
        name,
        type_,
        provider,
        authorized_principals: principals,
        manage_access_role: role,
        applicable_asset_types: asset_types,
        config,
        grant_creation_mode: mode,
        created_by: ctx.caller.principal_arn.clone(),
        created_at: ctx.now,
    };
    let out = target_json(&target);
    if let Some(key) = token_key {
        state.client_tokens.insert(key, target.id.clone());
    }
    state.subscription_targets.insert(target.id.clone(), target);
    Ok((200, out))
}

/// GetSubscriptionTarget, for members of the environment's project.
pub fn get(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let id = ctx.param(2);
    check_id("identifier", id)?;
    let (_, env) = member_environment(state, ctx)?;
    let target = targets_in(state, env)
        .into_iter()
        .find(|t| t.id == id)
        .ok_or_else(|| AwsError::not_found(format!("Subscription target {id} was not found")))?;
    Ok((200, target_json(&target)))
}

/// ListSubscriptionTargets of an environment, for members of its project: in the order they were
/// made (`sortBy` CREATED_AT, the default, or UPDATED_AT — the same here, targets are not
/// updated), `sortOrder` DESCENDING reverses [inferred: the default order]; paged by at most 50.
pub fn list(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    if let Some(s) = ctx.query("sortBy") {
        check_enum("sortBy", s, &["CREATED_AT", "UPDATED_AT"])?;
    }
    if let Some(s) = ctx.query("sortOrder") {
        check_enum("sortOrder", s, &["ASCENDING", "DESCENDING"])?;
    }
    let (_, env) = member_environment(state, ctx)?;
    let mut targets = targets_in(state, env);
    if ctx.query("sortOrder") == Some("DESCENDING") {
        targets.reverse();
    }
    let fingerprint = format!("{}|{:?}", env.id, ctx.query("sortOrder"));
    let (targets, token) = page(targets, ctx, 50, &fingerprint)?;
    Ok((200, items_page(targets.iter().map(target_json).collect(), token)))
}
