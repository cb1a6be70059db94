//! Data sources of type REDSHIFT, reading through an environment (V1 domains) or a connection
//! (V2 domains). CREATING / UPDATING settle to READY on the next read; a run makes the data source
//! RUNNING until it finishes.

use serde_json::{Value, json};

use super::forms::{self, FormInput, MAX_FORMS, forms_json};
use super::request::{
    Ctx, SECRET_ARN, check_enum, check_id, check_length, check_pattern, domain, items_page, matches, member_project,
    page, put_opt,
};
use crate::clock::Instant;
use crate::error::{AwsError, AwsResult};
use crate::state::{
    Connection, DataSource, DomainVersion, Environment, FilterExpression, Form, RedshiftConfig, RelationalFilter,
    State, Storage,
};

pub const TIMEZONES: &[&str] = &[
    "UTC",
    "AFRICA_JOHANNESBURG",
    "AMERICA_MONTREAL",
    "AMERICA_SAO_PAULO",
    "ASIA_BAHRAIN",
    "ASIA_BANGKOK",
    "ASIA_CALCUTTA",
    "ASIA_DUBAI",
    "ASIA_HONG_KONG",
    "ASIA_JAKARTA",
    "ASIA_KUALA_LUMPUR",
    "ASIA_SEOUL",
    "ASIA_SHANGHAI",
    "ASIA_SINGAPORE",
    "ASIA_TAIPEI",
    "ASIA_TOKYO",
    "AUSTRALIA_MELBOURNE",
    "AUSTRALIA_SYDNEY",
    "CANADA_CENTRAL",
    "CET",
    "CST6CDT",
    "ETC_GMT",
    "ETC_GMT0",
    "ETC_GMT_ADD_0",
    "ETC_GMT_ADD_1",
    "ETC_GMT_ADD_10",
    "ETC_GMT_ADD_11",
    "ETC_GMT_ADD_12",
    "ETC_GMT_ADD_2",
    "ETC_GMT_ADD_3",
    "ETC_GMT_ADD_4",
    "ETC_GMT_ADD_5",
    "ETC_GMT_ADD_6",
    "ETC_GMT_ADD_7",
    "ETC_GMT_ADD_8",
    "ETC_GMT_ADD_9",
    "ETC_GMT_NEG_0",
    "ETC_GMT_NEG_1",
    "ETC_GMT_NEG_10",
    "ETC_GMT_NEG_11",
    "ETC_GMT_NEG_12",
    "ETC_GMT_NEG_13",
    "ETC_GMT_NEG_14",
    "ETC_GMT_NEG_2",
    "ETC_GMT_NEG_3",
    "ETC_GMT_NEG_4",
    "ETC_GMT_NEG_5",
    "ETC_GMT_NEG_6",
    "ETC_GMT_NEG_7",
    "ETC_GMT_NEG_8",
    "ETC_GMT_NEG_9",
    "EUROPE_DUBLIN",
    "EUROPE_LONDON",
    "EUROPE_PARIS",
    "EUROPE_STOCKHOLM",
    "EUROPE_ZURICH",
    "ISRAEL",
    "MEXICO_GENERAL",
    "MST7MDT",
    "PACIFIC_AUCKLAND",
    "US_CENTRAL",
    "US_EASTERN",
    "US_MOUNTAIN",
    "US_PACIFIC",
];

/// The model's `CronString` pattern, anchored as Smithy patterns are searched.
const CRON: &str = r".*cron\((\b[0-5]?[0-9]\b) (\b2[0-3]\b|\b[0-1]?[0-9]\b) ([-?*,/\dLW]){1,83} ([-*,/\d]|[a-zA-Z]{3}){1,23} ([-?#*,/\dL]|[a-zA-Z]{3}){1,13} ([^\)]+)\).*";

/// Settles a transient status whose time has come; the change moves `updatedAt`, as every change
/// of a data source does [inferred] (docs/datazone-semantics.md §4).
pub fn settle(ds: &mut DataSource, now: Instant) {
    if matches!(ds.status, "CREATING" | "UPDATING") && now >= ds.settles_at {
        ds.status = "READY";
        ds.updated_at = ds.settles_at;
    }
}

fn error_json((error_type, detail): &(&'static str, String)) -> Value {
    json!({"errorType": error_type, "errorDetail": detail})
}

/// Which operation's output a data source is rendered for: the model gives each its own members
/// (only GetDataSource and the summary count the last run's assets; DeleteDataSource has no
/// recommendation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    Create,
    Get,
    Update,
    Delete,
    Summary,
}

pub fn data_source_json(ds: &DataSource, state: &State, shape: Shape) -> Value {
    let summary = shape == Shape::Summary;
    let mut v = json!({
        "domainId": ds.domain_id, "environmentId": ds.environment_id, "name": ds.name, "type": ds.type_,
        "status": ds.status, "enableSetting": ds.enable_setting,
        "createdAt": ds.created_at.iso(), "updatedAt": ds.updated_at.iso(),
    });
    v[if summary { "dataSourceId" } else { "id" }] = json!(ds.id);
    put_opt(&mut v, "description", ds.description.clone());
    put_opt(&mut v, "schedule", ds.schedule.clone());
    put_opt(&mut v, "connectionId", ds.connection_id.clone());
    if let Some(run) = ds.last_run_id.as_ref().and_then(|id| state.runs.get(id)) {
        v["lastRunStatus"] = json!(run.status);
        v["lastRunAt"] = run.started_at.iso();
        if matches!(shape, Shape::Get | Shape::Summary) {
            let s = &run.statistics;
            v["lastRunAssetCount"] = json!(s.added + s.updated + s.unchanged);
        }
        if let Some(e) = &run.error {
            v["lastRunErrorMessage"] = error_json(e);
        }
    }
    if !summary {
        v["projectId"] = json!(ds.project_id);
        v["publishOnImport"] = json!(ds.publish_on_import);
        if shape != Shape::Delete {
            v["recommendation"] = json!({"enableBusinessNameGeneration": ds.business_name_generation});
        }
        v["configuration"] = json!({"redshiftRunConfiguration": config_json(&ds.config, &ds.account, &ds.region)});
        // Every output but the summary has assetFormsOutput [model].
        v["assetFormsOutput"] = forms_json(&ds.asset_forms);
    }
    v
}

/// `assetFormsInput` as the forms a run gives each asset it creates, checked against the
/// domain's form types. Not the technical forms (the run writes those), and at most 9 (an asset
/// holds at most 10 forms [model: FormOutputList], its technical form among them) [inferred].
fn checked_asset_forms(state: &State, domain_id: &str, inputs: &[FormInput], current: &[Form]) -> AwsResult<Vec<Form>> {
    if let Some(f) = inputs.iter().find(|f| matches!(f.name.as_str(), "RedshiftTableForm" | "RedshiftViewForm")) {
        return Err(AwsError::validation(format!(
            "Form {} ({}) is the technical form the data source writes on each asset",
            f.name, f.at
        )));
    }
    if inputs.len() >= MAX_FORMS {
        return Err(AwsError::validation(format!(
            "assetFormsInput: at most {} forms, as an asset holds at most {MAX_FORMS} with its technical form",
            MAX_FORMS - 1
        )));
    }
    forms::resolve_inputs(state, domain_id, inputs, current)
}

fn config_json(c: &RedshiftConfig, account: &str, region: &str) -> Value {
    let storage = match &c.storage {
        Storage::Cluster(n) => json!({"redshiftClusterSource": {"clusterName": n}}),
        Storage::Workgroup(n) => json!({"redshiftServerlessSource": {"workgroupName": n}}),
    };
    let filters: Vec<Value> = c
        .filters
        .iter()
        .map(|f| {
            let mut v = json!({"databaseName": f.database});
            put_opt(&mut v, "schemaName", f.schema.clone());
            v["filterExpressions"] = f
                .expressions
                .iter()
                .map(|e| json!({"type": if e.include { "INCLUDE" } else { "EXCLUDE" }, "expression": e.expression}))
                .collect();
            v
        })
        .collect();
    let mut v = json!({
        "accountId": account, "region": region, "relationalFilterConfigurations": filters, "redshiftStorage": storage,
    });
    // Empty only for a data source reading through a username-and-password connection.
    if !c.secret_arn.is_empty() {
        v["redshiftCredentialConfiguration"] = json!({"secretManagerArn": c.secret_arn});
    }
    put_opt(&mut v, "dataAccessRole", c.data_access_role.clone());
    v
}

/// What a data source reads through: its storage and secret default to this one's.
#[derive(Clone, Copy)]
enum Binding<'a> {
    /// V1: the environment's parameters [inferred].
    Environment(&'a Environment),
    /// V2: the connection's storage and secret, the only ones allowed [inferred].
    Connection(&'a Connection),
}

/// Parses `configuration.redshiftRunConfiguration`; storage and secret default to the binding's
/// when left out.
fn parse_config(raw: &Value, binding: Binding) -> AwsResult<RedshiftConfig> {
    let rc = raw.get("redshiftRunConfiguration").ok_or_else(|| {
        AwsError::validation("configuration.redshiftRunConfiguration is required for a REDSHIFT data source")
    })?;
    let storage = match rc.get("redshiftStorage") {
        Some(s) => match (
            s.pointer("/redshiftClusterSource/clusterName").and_then(Value::as_str),
            s.pointer("/redshiftServerlessSource/workgroupName").and_then(Value::as_str),
        ) {
            (Some(c), None) => {
                check_length("clusterName", c, 1, 63)?;
                Storage::Cluster(c.to_string())
            }
            (None, Some(w)) => {
                check_length("workgroupName", w, 3, 64)?;
                Storage::Workgroup(w.to_string())
            }
            _ => {
                return Err(AwsError::validation(
                    "redshiftStorage must set exactly one of redshiftClusterSource or redshiftServerlessSource",
                ));
            }
        },
        None => match binding {
            Binding::Connection(c) => c.storage.clone(),
            Binding::Environment(e) => match (e.parameter("clusterName"), e.parameter("workgroupName")) {
                (_, Some(w)) => Storage::Workgroup(w.to_string()),
                (Some(c), _) => Storage::Cluster(c.to_string()),
                _ => {
                    return Err(AwsError::validation(
                        "redshiftStorage is required: the environment binds no cluster or workgroup",
                    ));
                }
            },
        },
    };
    let given_secret = rc.pointer("/redshiftCredentialConfiguration/secretManagerArn").and_then(Value::as_str);
    let secret_arn = match (given_secret, binding) {
        (Some(arn), _) => arn.to_string(),
        (None, Binding::Environment(e)) => e.parameter("dataAccessSecretsArn").unwrap_or_default().to_string(),
        (None, Binding::Connection(c)) => c.secret_arn().unwrap_or_default().to_string(),
    };
    check_length("secretManagerArn", &secret_arn, 0, 256)?;
    // Through a username-and-password connection there is no secret at all.
    if !secret_arn.is_empty() || matches!(binding, Binding::Environment(_)) {
        check_pattern("secretManagerArn", &secret_arn, matches(SECRET_ARN, &secret_arn), SECRET_ARN)?;
    }
    if let Binding::Connection(c) = binding {
        if storage != c.storage {
            return Err(AwsError::validation(format!(
                "redshiftStorage must be the storage of connection {} ({})",
                c.id,
                c.storage.name()
            )));
        }
        if given_secret.is_some() && c.secret_arn() != given_secret {
            return Err(AwsError::validation(format!(
                "redshiftCredentialConfiguration must be the credentials of connection {}",
                c.id
            )));
        }
    }
    let list = rc
        .get("relationalFilterConfigurations")
        .and_then(Value::as_array)
        .ok_or_else(|| AwsError::validation("1 validation error detected: Value null at 'relationalFilterConfigurations' failed to satisfy constraint: Member must not be null"))?;
    let mut filters = Vec::new();
    for f in list {
        let database = f
            .get("databaseName")
            .and_then(Value::as_str)
            .ok_or_else(|| AwsError::validation("databaseName is required"))?;
        check_length("databaseName", database, 1, 128)?;
        let schema = f.get("schemaName").and_then(Value::as_str);
        if let Some(s) = schema {
            check_length("schemaName", s, 1, 128)?;
        }
        let mut expressions = Vec::new();
        for e in f.get("filterExpressions").and_then(Value::as_array).into_iter().flatten() {
            let kind = e.get("type").and_then(Value::as_str).unwrap_or_default();
            check_enum("type", kind, &["INCLUDE", "EXCLUDE"])?;
            let expression = e.get("expression").and_then(Value::as_str).unwrap_or_default();
            check_length("expression", expression, 1, 2048)?;
            expressions.push(FilterExpression { include: kind == "INCLUDE", expression: expression.to_string() });
        }
        filters.push(RelationalFilter {
            database: database.to_string(),
            schema: schema.map(str::to_string),
            expressions,
        });
    }
    Ok(RedshiftConfig {
        storage,
        secret_arn,
        data_access_role: rc.get("dataAccessRole").and_then(Value::as_str).map(str::to_string),
        filters,
    })
}

fn parse_schedule(raw: Option<&Value>) -> AwsResult<Option<Value>> {
    let Some(s) = raw.filter(|v| !v.is_null()) else { return Ok(None) };
    if let Some(cron) = s.get("schedule").and_then(Value::as_str) {
        check_length("schedule", cron, 1, 256)?;
        check_pattern("schedule", cron, matches(CRON, cron), CRON)?;
    }
    if let Some(tz) = s.get("timezone").and_then(Value::as_str) {
        check_enum("timezone", tz, TIMEZONES)?;
    }
    Ok(Some(s.clone()))
}

fn project_names_taken(state: &State, domain_id: &str, project_id: &str, name: &str, except: Option<&str>) -> bool {
    state.data_sources.values().any(|ds| {
        ds.domain_id == domain_id && ds.project_id == project_id && ds.name == name && Some(ds.id.as_str()) != except
    })
}

/// In a V1 domain a data source reads through an environment, in a V2 domain through a
/// connection (whose environment it then belongs to) [inferred: each requires its own].
pub fn create(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let name = ctx.required("name", 1, 256)?;
    let description = ctx.optional("description", 0, 2048)?;
    let type_ = ctx.required("type", 1, 256)?;
    let project_ref = ctx.required("projectIdentifier", 1, 36)?;
    let environment_ref = ctx.optional("environmentIdentifier", 1, 36)?;
    let connection_ref = ctx.optional("connectionIdentifier", 1, 36)?;
    if let Some(c) = &connection_ref {
        check_id("connectionIdentifier", c)?;
    }
    if type_ != "REDSHIFT" {
        return Err(AwsError::validation(format!("The emulator supports data sources of type REDSHIFT, not {type_}")));
    }
    let enable_setting = ctx.optional("enableSetting", 1, 16)?.unwrap_or_else(|| "ENABLED".into());
    check_enum("enableSetting", &enable_setting, &["ENABLED", "DISABLED"])?;
    let schedule = parse_schedule(ctx.body.get("schedule"))?;
    let form_inputs = forms::parse_inputs(&ctx.body, "assetFormsInput")?.unwrap_or_default();
    let d = domain(state, ctx)?;
    match (d.version, &connection_ref, &environment_ref) {
        (DomainVersion::V1, Some(_), _) => {
            return Err(AwsError::validation("connectionIdentifier is only valid for V2 domains"));
        }
        (DomainVersion::V1, None, None) => {
            return Err(AwsError::validation(
                "environmentIdentifier is required for a REDSHIFT data source in this domain",
            ));
        }
        (DomainVersion::V2, None, _) => {
            return Err(AwsError::validation(
                "connectionIdentifier is required for a REDSHIFT data source in a V2 domain",
            ));
        }
        _ => {}
    }
    let project_id = member_project(d, &project_ref, ctx)?.id.clone();
    let domain_id = d.id.clone();
    let token_key = ctx.client_token().map(|t| ("CreateDataSource", ctx.caller.principal_arn.clone(), t));
    if let Some(existing) =
        token_key.as_ref().and_then(|k| state.client_tokens.get(k)).and_then(|id| state.data_sources.get(id))
    {
        return Ok((201, data_source_json(existing, state, Shape::Create)));
    }
    let connection = match &connection_ref {
        Some(id) => Some(
            state
                .connections
                .get(id)
                .filter(|c| c.domain_id == domain_id && c.project_id == project_id)
                .ok_or_else(|| AwsError::not_found(format!("Connection {id} was not found in this project")))?,
        ),
        None => None,
    };
    let environment_id = match (connection, environment_ref) {
        (Some(c), Some(e)) if e != c.environment_id => {
            return Err(AwsError::validation(format!(
                "environmentIdentifier {e} is not the environment of connection {}",
                c.id
            )));
        }
        (Some(c), _) => c.environment_id.clone(),
        (None, e) => e.unwrap_or_default(),
    };
    let environment = state
        .environments
        .get(&environment_id)
        .filter(|e| e.domain_id == domain_id && e.project_id == project_id)
        .ok_or_else(|| AwsError::not_found(format!("Environment {environment_id} was not found in this project")))?;
    if environment.status != "ACTIVE" {
        return Err(AwsError::validation(format!(
            "Environment {environment_id} is {}, not ACTIVE",
            environment.status
        )));
    }
    let binding = connection.map_or(Binding::Environment(environment), Binding::Connection);
    let config = parse_config(ctx.body.get("configuration").unwrap_or(&Value::Null), binding)?;
    // A connection-bound data source lives where its connection points.
    let (account, region) = match connection {
        Some(c) => (c.account.clone(), c.region.clone()),
        None => (environment.account.clone(), environment.region.clone()),
    };
    // Duplicate names are a ValidationException, not a conflict (docs/datazone-semantics.md §4).
    if project_names_taken(state, &domain_id, &project_id, &name, None) {
        return Err(AwsError::validation("DataSource name must be unique for a given project."));
    }
    let asset_forms = checked_asset_forms(state, &domain_id, &form_inputs, &[])?;
    let id = state.ids.id();
    let ds = DataSource {
        id: id.clone(),
        domain_id,
        project_id,
        environment_id,
        connection_id: connection_ref,
        name,
        description,
        type_,
        account,
        region,
        config,
        publish_on_import: ctx.body.get("publishOnImport").and_then(Value::as_bool).unwrap_or(false),
        business_name_generation: ctx
            .body
            .pointer("/recommendation/enableBusinessNameGeneration")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        enable_setting,
        schedule,
        status: "CREATING",
        settles_at: ctx.now,
        created_at: ctx.now,
        updated_at: ctx.now,
        last_run_id: None,
        run_starts: Vec::new(),
        asset_forms,
    };
    let out = data_source_json(&ds, state, Shape::Create);
    state.data_sources.insert(id.clone(), ds);
    if let Some(key) = token_key {
        state.client_tokens.insert(key, id);
    }
    Ok((201, out))
}

/// The data source in the request's domain whose project the caller is a member of.
pub fn member_data_source<'s>(state: &'s mut State, ctx: &Ctx, id: &str) -> AwsResult<&'s mut DataSource> {
    let d = domain(state, ctx)?;
    let project_id = state
        .data_sources
        .get(id)
        .filter(|ds| ds.domain_id == d.id)
        .map(|ds| ds.project_id.clone())
        .ok_or_else(|| AwsError::not_found(format!("Data source {id} was not found")))?;
    member_project(d, &project_id, ctx)?;
    let ds =
        state.data_sources.get_mut(id).ok_or_else(|| AwsError::not_found(format!("Data source {id} was not found")))?;
    settle(ds, ctx.now);
    Ok(ds)
}

pub fn get(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    member_data_source(state, ctx, ctx.param(1))?;
    let ds = &state.data_sources[ctx.param(1)];
    Ok((200, data_source_json(ds, state, Shape::Get)))
}

pub fn update(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let id = ctx.param(1).to_string();
    let ds = member_data_source(state, ctx, &id)?.clone();
    if ds.status == "RUNNING" {
        return Err(AwsError::conflict(format!("Data source {id} is running and cannot be updated")));
    }
    let name = ctx.optional("name", 1, 256)?;
    if let Some(n) = &name
        && project_names_taken(state, &ds.domain_id, &ds.project_id, n, Some(&id))
    {
        return Err(AwsError::validation("DataSource name must be unique for a given project."));
    }
    let description = ctx.optional("description", 0, 2048)?;
    let enable_setting = ctx.optional("enableSetting", 1, 16)?;
    if let Some(e) = &enable_setting {
        check_enum("enableSetting", e, &["ENABLED", "DISABLED"])?;
    }
    let schedule = match ctx.body.get("schedule") {
        Some(raw) => Some(parse_schedule(Some(raw))?),
        None => None,
    };
    // Given, the forms replace the data source's; they reach the assets later runs create.
    let asset_forms = match forms::parse_inputs(&ctx.body, "assetFormsInput")? {
        Some(inputs) => Some(checked_asset_forms(state, &ds.domain_id, &inputs, &ds.asset_forms)?),
        None => None,
    };
    let config = match ctx.body.get("configuration") {
        Some(raw) => {
            let binding = match &ds.connection_id {
                Some(id) => Binding::Connection(
                    state.connections.get(id).ok_or_else(|| AwsError::not_found(format!("Connection {id}")))?,
                ),
                None => Binding::Environment(
                    state.environments.get(&ds.environment_id).ok_or_else(|| AwsError::not_found("environment"))?,
                ),
            };
            Some(parse_config(raw, binding)?)
        }
        None => None,
    };
    let ds = state
        .data_sources
        .get_mut(&id)
        .ok_or_else(|| AwsError::not_found(format!("Data source {id} was not found")))?;
    if let Some(n) = name {
        ds.name = n;
    }
    if description.is_some() {
        ds.description = description;
    }
    if let Some(e) = enable_setting {
        ds.enable_setting = e;
    }
    if let Some(s) = schedule {
        ds.schedule = s;
    }
    if let Some(c) = config {
        ds.config = c;
    }
    if let Some(f) = asset_forms {
        ds.asset_forms = f;
    }
    if let Some(p) = ctx.body.get("publishOnImport").and_then(Value::as_bool) {
        ds.publish_on_import = p;
    }
    if let Some(b) = ctx.body.pointer("/recommendation/enableBusinessNameGeneration").and_then(Value::as_bool) {
        ds.business_name_generation = b;
    }
    ds.status = "UPDATING";
    ds.settles_at = ctx.now;
    ds.updated_at = ctx.now;
    let ds = &state.data_sources[&id];
    Ok((200, data_source_json(ds, state, Shape::Update)))
}

/// Answers with the data source as DELETING; it is gone for every later call. Its assets stay
/// in the catalog (docs/datazone-semantics.md §4).
pub fn delete(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let id = ctx.param(1).to_string();
    member_data_source(state, ctx, &id)?;
    let Some(mut ds) = state.data_sources.remove(&id) else {
        return Err(AwsError::not_found(format!("Data source {id} was not found")));
    };
    ds.status = "DELETING";
    ds.updated_at = ctx.now;
    Ok((200, data_source_json(&ds, state, Shape::Delete)))
}

pub fn list(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let d = domain(state, ctx)?;
    let project_ref = ctx
        .query("projectIdentifier")
        .ok_or_else(|| AwsError::validation("1 validation error detected: Value null at 'projectIdentifier' failed to satisfy constraint: Member must not be null"))?;
    let project_id = member_project(d, project_ref, ctx)?.id.clone();
    let domain_id = d.id.clone();
    let q = |k| ctx.query(k);
    let now = ctx.now;
    for ds in state.data_sources.values_mut() {
        settle(ds, now);
    }
    let matching: Vec<&DataSource> = state
        .data_sources
        .values()
        .filter(|ds| ds.domain_id == domain_id && ds.project_id == project_id)
        .filter(|ds| q("name").is_none_or(|v| ds.name == v))
        .filter(|ds| q("environmentIdentifier").is_none_or(|v| ds.environment_id == v))
        .filter(|ds| q("connectionIdentifier").is_none_or(|v| ds.connection_id.as_deref() == Some(v)))
        .filter(|ds| q("status").is_none_or(|v| ds.status == v))
        .filter(|ds| q("type").is_none_or(|v| ds.type_ == v))
        .collect();
    let fingerprint = format!(
        "{project_id}{:?}",
        [q("name"), q("environmentIdentifier"), q("connectionIdentifier"), q("status"), q("type")]
    );
    // Page first, render only the page.
    let (matching, token) = page(matching, ctx, 50, &fingerprint)?;
    let items = matching.into_iter().map(|ds| data_source_json(ds, state, Shape::Summary)).collect();
    Ok((200, items_page(items, token)))
}
