//! Data source runs: RUNNING for `--run-duration`, then the data source's filters are applied to
//! the fake Redshift catalog, one asset per matched table or view is created (with the data
//! source's asset forms) or refreshed (and published with `publishOnImport`), and one activity is
//! recorded per object. A connection-bound data source (V2) reads through its connection as it
//! was when the run started.

use serde_json::{Value, json};

use super::assets::{carry_over, technical_form};
use super::data_sources::member_data_source;
use super::listings::{Reach, publish};
use super::request::{Ctx, check_enum, domain, items_page, member_project, page, put_opt};
use crate::clock::Instant;
use crate::error::{AwsError, AwsResult};
use crate::filters::{exact_includes, selected};
use crate::state::{
    Activity, Asset, AssetRevision, Connection, DataSource, Due, OwnPublication, Run, RunStatistics, State, Storage,
};

const DAY_MS: u64 = 24 * 60 * 60 * 1000;

fn error_json((error_type, detail): &(&'static str, String)) -> Value {
    json!({"errorType": error_type, "errorDetail": detail})
}

fn statistics_json(s: &RunStatistics) -> Value {
    json!({"added": s.added, "updated": s.updated, "unchanged": s.unchanged, "skipped": s.skipped, "failed": s.failed})
}

/// Which operation's output a run is rendered for: StartDataSourceRun's has no lineageSummary.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Start,
    Get,
    Summary,
}

/// The lineage import of a run through a connection with lineage enabled [inferred: it follows
/// the run].
fn lineage_status(run_status: &str) -> &'static str {
    match run_status {
        "SUCCESS" | "PARTIALLY_SUCCEEDED" => "SUCCESS",
        "FAILED" => "FAILED",
        _ => "IN_PROGRESS",
    }
}

fn run_json(r: &Run, shape: Shape) -> Value {
    let summary = shape == Shape::Summary;
    let mut v = json!({
        "id": r.id, "dataSourceId": r.data_source_id, "projectId": r.project_id, "status": r.status, "type": r.type_,
        "createdAt": r.created_at.iso(), "updatedAt": r.updated_at.iso(), "startedAt": r.started_at.iso(),
        "runStatisticsForAssets": statistics_json(&r.statistics),
    });
    if !summary {
        v["domainId"] = json!(r.domain_id);
        v["dataSourceConfigurationSnapshot"] = json!(r.configuration_snapshot);
    }
    put_opt(&mut v, "stoppedAt", r.stopped_at.map(Instant::iso));
    if let Some(e) = &r.error {
        v["errorMessage"] = error_json(e);
    }
    if shape != Shape::Start && r.through.as_ref().is_some_and(Connection::lineage_enabled) {
        v["lineageSummary"] = json!({"importStatus": lineage_status(r.status)});
    }
    v
}

pub fn start(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let ds_id = ctx.param(1).to_string();
    let token_key =
        ctx.client_token().map(|t| ("StartDataSourceRun", format!("{}|{ds_id}", ctx.caller.principal_arn), t));
    member_data_source(state, ctx, &ds_id)?;
    if let Some(run) = token_key.as_ref().and_then(|k| state.client_tokens.get(k)).and_then(|id| state.runs.get(id)) {
        return Ok((200, run_json(run, Shape::Start)));
    }
    let quota = state.lifecycle.runs_per_day;
    let run_duration = state.lifecycle.run_duration;
    let ds = state
        .data_sources
        .get_mut(&ds_id)
        .ok_or_else(|| AwsError::not_found(format!("Data source {ds_id} was not found")))?;
    // A second run while one is active: ConflictException [inferred] (docs/datazone-semantics.md §6).
    if ds.status == "RUNNING" {
        return Err(AwsError::conflict(format!("A run of data source {ds_id} is already in progress")));
    }
    if ds.status != "READY" {
        return Err(AwsError::conflict(format!("Data source {ds_id} is {}, not READY", ds.status)));
    }
    let now = ctx.now;
    ds.run_starts.retain(|t| t.0 + DAY_MS > now.0);
    if ds.run_starts.len() >= quota {
        return Err(AwsError::quota(format!("Data source {ds_id} has reached the limit of {quota} runs per day")));
    }
    ds.run_starts.push(now);
    ds.status = "RUNNING";
    // The run moves the data source's status and lastRun*: its updatedAt too [inferred].
    ds.updated_at = now;
    let snapshot = serde_json::to_string(&json!({
        "filters": ds.config.filters.iter().map(|f| json!({"database": f.database, "schema": f.schema})).collect::<Vec<_>>(),
        "publishOnImport": ds.publish_on_import,
    }))
    .unwrap_or_default();
    let run_id = state.ids.id();
    ds.last_run_id = Some(run_id.clone());
    let connection_id = ds.connection_id.clone();
    let run = Run {
        id: run_id.clone(),
        domain_id: ds.domain_id.clone(),
        data_source_id: ds_id,
        project_id: ds.project_id.clone(),
        status: "RUNNING",
        type_: "PRIORITIZED",
        created_at: now,
        updated_at: now,
        started_at: now,
        stopped_at: None,
        statistics: RunStatistics::default(),
        error: None,
        activities: Vec::new(),
        configuration_snapshot: snapshot,
        // The run reads through the connection as it is now, whatever changes during the run.
        through: connection_id.and_then(|id| state.connections.get(&id).cloned()),
    };
    let out = run_json(&run, Shape::Start);
    state.runs.insert(run_id.clone(), run);
    if let Some(key) = token_key {
        state.client_tokens.insert(key, run_id.clone());
    }
    state.schedule(now.plus(run_duration), Due::RunFinishes(run_id));
    Ok((200, out))
}

/// Where a run reads: the storage, the secret (none for a username and password), the account and
/// region of the Redshift catalog, and those its assets' external identifiers name.
struct Source {
    storage: Storage,
    secret_arn: Option<String>,
    account: String,
    region: String,
    asset_account: String,
    asset_region: String,
    /// Through a connection: the one database it reads.
    database: Option<String>,
}

/// The outcome of importing one data source: activities, or why the whole run failed.
fn import(
    state: &mut State,
    ds: &DataSource,
    through: Option<&Connection>,
    at: Instant,
) -> Result<Vec<Activity>, (&'static str, String)> {
    let environment = state
        .environments
        .get(&ds.environment_id)
        .filter(|e| e.status == "ACTIVE")
        .ok_or(("RESOURCE_NOT_FOUND_EXCEPTION", format!("Environment {} is not available", ds.environment_id)))?;
    let at_source = match through {
        // V2: the connection's storage, secret and database in its account and region [inferred].
        Some(c) => Source {
            storage: c.storage.clone(),
            secret_arn: c.secret_arn().map(str::to_string),
            account: c.account.clone(),
            region: c.region.clone(),
            asset_account: c.account.clone(),
            asset_region: c.region.clone(),
            database: Some(c.database.clone()),
        },
        // V1: the data source's own storage and secret, in its environment's account and region.
        None => Source {
            storage: ds.config.storage.clone(),
            secret_arn: Some(ds.config.secret_arn.clone()),
            account: environment.account.clone(),
            region: environment.region.clone(),
            asset_account: ds.account.clone(),
            asset_region: ds.region.clone(),
            database: None,
        },
    };
    // The run's errors for a wrong secret or source are [inferred] texts.
    if let Some(secret) = &at_source.secret_arn
        && !state.secrets.contains(secret)
    {
        return Err((
            "ACCESS_DENIED_EXCEPTION",
            format!("Unable to access secret {secret}: it does not exist or DataZone is not allowed to read it"),
        ));
    }
    let (kind, name) = match &at_source.storage {
        Storage::Cluster(n) => ("cluster", n.as_str()),
        Storage::Workgroup(n) => ("workgroup", n.as_str()),
    };
    let source = state
        .catalog
        .iter()
        .find(|r| {
            r.account_id == at_source.account
                && r.region == at_source.region
                && match &at_source.storage {
                    Storage::Cluster(n) => r.cluster_name.as_deref() == Some(n),
                    Storage::Workgroup(n) => r.workgroup_name.as_deref() == Some(n),
                }
        })
        .cloned()
        .ok_or((
            "RESOURCE_NOT_FOUND_EXCEPTION",
            format!(
                "Redshift {kind} {name} was not found in account {} region {}",
                at_source.account, at_source.region
            ),
        ))?;
    let mut activities = Vec::new();
    for filter in &ds.config.filters {
        // A connection opens one database: a filter on another cannot be read [inferred].
        if let Some(db) = at_source.database.as_ref().filter(|db| **db != filter.database) {
            return Err((
                "VALIDATION_EXCEPTION",
                format!("Database {} is not the database {db} of the data source's connection", filter.database),
            ));
        }
        let database = source.databases.iter().find(|d| d.name == filter.database).ok_or((
            "VALIDATION_EXCEPTION",
            format!("Database {} does not exist in Redshift {kind} {name}", filter.database),
        ))?;
        let schemas: Vec<_> =
            database.schemas.iter().filter(|s| filter.schema.as_ref().is_none_or(|f| &s.name == f)).collect();
        for schema in &schemas {
            let objects = schema.tables.iter().map(|t| (t, false)).chain(schema.views.iter().map(|v| (v, true)));
            for (object, is_view) in objects.filter(|(o, _)| selected(&filter.expressions, o)) {
                activities.push(import_object(
                    state,
                    ds,
                    &at_source,
                    &database.name,
                    &schema.name,
                    object,
                    is_view,
                    at,
                ));
            }
        }
        // A name the filter spells out but the catalog lacks (dropped, or never there).
        for missing in exact_includes(&filter.expressions) {
            let present = schemas.iter().any(|s| s.tables.iter().chain(&s.views).any(|o| o == missing));
            if !present
                && !filter.expressions.iter().any(|e| !e.include && crate::filters::glob(&e.expression, missing))
            {
                activities.push(Activity {
                    database: filter.database.clone(),
                    technical_name: missing.to_string(),
                    status: "FAILED",
                    asset_id: None,
                    error: Some((
                        "RESOURCE_NOT_FOUND_EXCEPTION",
                        format!(
                            "Table or view {missing} was not found in {}.{}",
                            filter.database,
                            filter.schema.as_deref().unwrap_or("*")
                        ),
                    )),
                    at,
                });
            }
        }
    }
    Ok(activities)
}

#[allow(clippy::too_many_arguments)]
fn import_object(
    state: &mut State,
    ds: &DataSource,
    source: &Source,
    database: &str,
    schema: &str,
    object: &str,
    is_view: bool,
    at: Instant,
) -> Activity {
    let name = source.storage.name();
    let external_id = format!(
        "arn:aws:redshift:{}:{}:table/{name}/{database}/{schema}/{object}",
        source.asset_region, source.asset_account
    );
    let key = (ds.domain_id.clone(), external_id.clone());
    let activity = |status, asset_id: Option<String>| Activity {
        database: database.to_string(),
        technical_name: object.to_string(),
        status,
        asset_id,
        error: None,
        at,
    };
    match state.assets_by_external_id.get(&key).and_then(|id| state.assets.get(id)) {
        Some(asset) if asset.data_source_id != ds.id => activity("SKIPPED_ALREADY_IMPORTED", Some(asset.id.clone())),
        Some(asset) => {
            let asset_id = asset.id.clone();
            // Never published on its own: no listing, or one only through data products.
            let own = asset.listing.as_ref().and_then(|id| state.listings.get(id)).map(|l| l.own);
            let newly_published = ds.publish_on_import && own.is_none_or(|o| o == OwnPublication::Never);
            if newly_published {
                // An update is a new revision with the latest's business metadata; the run does not
                // stamp the data source's forms again [inferred].
                let revision = carry_over(asset, &asset.created_by, at);
                let (number, by) = (revision.number, asset.created_by.clone());
                if let Some(a) = state.assets.get_mut(&asset_id) {
                    a.revisions.push(revision);
                }
                publish(state, &asset_id, number, Reach::Own, &by, at);
            }
            activity(if newly_published { "SUCCEEDED_UPDATED" } else { "UNCHANGED" }, Some(asset_id))
        }
        None => {
            let id = state.ids.id();
            let created_by = "datazone".to_string();
            // The first revision: the technical form and the data source's asset forms [model:
            // assetFormsInput are "attached to the assets that this data source works with"].
            let mut forms = vec![technical_form(database, schema, object, is_view)];
            forms.extend(ds.asset_forms.iter().cloned());
            let first = AssetRevision {
                number: 1,
                name: object.to_string(),
                description: None,
                glossary_terms: Vec::new(),
                forms,
                created_at: at,
                created_by: created_by.clone(),
            };
            state.assets.insert(
                id.clone(),
                Asset {
                    id: id.clone(),
                    domain_id: ds.domain_id.clone(),
                    project_id: ds.project_id.clone(),
                    data_source_id: ds.id.clone(),
                    name: object.to_string(),
                    database: database.to_string(),
                    schema: schema.to_string(),
                    is_view,
                    external_identifier: external_id,
                    revisions: vec![first],
                    created_by: created_by.clone(),
                    created_at: at,
                    listing: None,
                },
            );
            state.assets_by_external_id.insert(key, id.clone());
            if ds.publish_on_import {
                publish(state, &id, 1, Reach::Own, &created_by, at);
            }
            activity("SUCCEEDED_CREATED", Some(id))
        }
    }
}

/// RUNNING → SUCCESS, PARTIALLY_SUCCEEDED or FAILED.
pub fn finish(state: &mut State, run_id: &str, at: Instant) {
    let Some(run) = state.runs.get(run_id) else { return };
    if run.status != "RUNNING" {
        return;
    }
    let ds = state.data_sources.get(&run.data_source_id).cloned();
    let through = run.through.clone();
    let outcome = match &ds {
        Some(ds) => import(state, ds, through.as_ref(), at),
        None => Err(("RESOURCE_NOT_FOUND_EXCEPTION", "The data source was deleted during the run".to_string())),
    };
    let Some(run) = state.runs.get_mut(run_id) else { return };
    run.stopped_at = Some(at);
    run.updated_at = at;
    match outcome {
        Ok(activities) => {
            let mut s = RunStatistics::default();
            for a in &activities {
                match a.status {
                    "SUCCEEDED_CREATED" => s.added += 1,
                    "SUCCEEDED_UPDATED" => s.updated += 1,
                    "UNCHANGED" => s.unchanged += 1,
                    "FAILED" | "PUBLISHING_FAILED" => s.failed += 1,
                    _ => s.skipped += 1,
                }
            }
            let succeeded = s.added + s.updated + s.unchanged + s.skipped;
            run.status = match (s.failed, succeeded) {
                (0, _) => "SUCCESS",
                (_, 0) => "FAILED",
                _ => "PARTIALLY_SUCCEEDED",
            };
            if s.failed > 0 {
                run.error = Some((
                    "RESOURCE_NOT_FOUND_EXCEPTION",
                    format!("{} of {} objects could not be imported", s.failed, activities.len()),
                ));
            }
            run.statistics = s;
            run.activities = activities;
        }
        Err(error) => {
            run.status = "FAILED";
            run.error = Some(error);
        }
    }
    if let Some(ds) = ds.and_then(|ds| state.data_sources.get_mut(&ds.id)) {
        ds.status = "READY";
        ds.updated_at = at;
    }
}

fn member_run<'s>(state: &'s State, ctx: &Ctx, id: &str) -> AwsResult<&'s Run> {
    let d = domain(state, ctx)?;
    let run = state
        .runs
        .get(id)
        .filter(|r| r.domain_id == d.id)
        .ok_or_else(|| AwsError::not_found(format!("Data source run {id} was not found")))?;
    member_project(d, &run.project_id, ctx)?;
    Ok(run)
}

pub fn get(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    Ok((200, run_json(member_run(state, ctx, ctx.param(1))?, Shape::Get)))
}

pub fn list(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let ds_id = ctx.param(1).to_string();
    member_data_source(state, ctx, &ds_id)?;
    let status = ctx.query("status");
    if let Some(s) = status {
        check_enum("status", s, &["REQUESTED", "RUNNING", "FAILED", "PARTIALLY_SUCCEEDED", "SUCCESS"])?;
    }
    // Newest first.
    let mut runs: Vec<&Run> =
        state.runs.values().filter(|r| r.data_source_id == ds_id && status.is_none_or(|s| r.status == s)).collect();
    runs.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    let (runs, token) = page(runs, ctx, 50, &format!("{ds_id}{status:?}"))?;
    let items = runs.into_iter().map(|r| run_json(r, Shape::Summary)).collect();
    Ok((200, items_page(items, token)))
}

pub fn list_activities(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let run = member_run(state, ctx, ctx.param(1))?;
    let status = ctx.query("status");
    let items: Vec<Value> = run
        .activities
        .iter()
        .filter(|a| status.is_none_or(|s| a.status == s))
        .map(|a| {
            let mut v = json!({
                "database": a.database, "dataSourceRunId": run.id, "technicalName": a.technical_name,
                "dataAssetStatus": a.status, "projectId": run.project_id,
                "createdAt": a.at.iso(), "updatedAt": a.at.iso(),
            });
            put_opt(&mut v, "dataAssetId", a.asset_id.clone());
            if let Some(e) = &a.error {
                v["errorMessage"] = error_json(e);
            }
            v
        })
        .collect();
    let (items, token) = page(items, ctx, 50, &format!("{}{status:?}", run.id))?;
    Ok((200, items_page(items, token)))
}
