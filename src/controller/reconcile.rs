//! One pass over a RedshiftDataProduct: resolve the connection, observe DataZone (one cheap read
//! in the steady state), decide with [`plan`], make at most one mutating call, and record every
//! ID, condition and run outcome in status (with an Event on each transition).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use kube::api::{Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType};
use kube::runtime::finalizer::{Event as Finalizer, finalizer};
use kube::{Api, Resource, ResourceExt};
use serde_json::json;
use tracing::Instrument;

use super::connection::{self, Problem};
use super::context::Context;
use super::desired::{self, config_hash};
use super::plan::{Observed, RunState, Step, is_active, plan};
use super::runs;
use crate::crd::conditions::{
    self, BLUEPRINT_ENABLED, CONNECTION_RESOLVED, ConditionStatus, DATA_SOURCE_READY, ENVIRONMENT_READY, Observation,
    PUBLISHED, READY,
};
use crate::crd::{AssetKind, DeletionPolicy, RECONCILE_REQUESTED_AT, RedshiftDataProduct, RedshiftDataProductStatus};
use crate::datazone::sdk::SdkDataZone;
use crate::datazone::{
    BlueprintEnablement, DataSourceInfo, DataZone, DzError, EnvironmentInfo, ErrorClass, Producer, ProfileSpec,
};

pub const FINALIZER: &str = "dataproducts.dev/cleanup";
pub const MANAGER: &str = "datazone-operator";
/// A terminal problem is looked at again this often (or at once on a spec change).
const TERMINAL_RETRY: Duration = Duration::from_secs(600);
/// When the run quota is used up, try again in an hour.
pub(super) const QUOTA_RETRY: Duration = Duration::from_secs(3600);
/// How long a Delete-policy cleanup keeps trying before it lets the object go.
const CLEANUP_PATIENCE: Duration = Duration::from_secs(600);

#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error(transparent)]
    DataZone(#[from] DzError),
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    #[error("cleanup: {0}")]
    Cleanup(String),
    #[error("finalizer: {0}")]
    Finalizer(String),
}

pub async fn reconcile(product: Arc<RedshiftDataProduct>, ctx: Arc<Context>) -> Result<Action, ReconcileError> {
    let started = std::time::Instant::now();
    let namespace = product.namespace().unwrap_or_default();
    // Every log line of the pass (AWS calls included) carries the resource.
    let span = tracing::info_span!(
        "reconcile",
        kind = "RedshiftDataProduct",
        namespace = %namespace,
        // Not `name`: the JSON log already uses it for the span's own name.
        resource = %product.name_any(),
        generation = product.metadata.generation.unwrap_or(0)
    );
    let api: Api<RedshiftDataProduct> = Api::namespaced(ctx.client.clone(), &namespace);
    let result = finalizer(&api, FINALIZER, product.clone(), |event| async {
        match event {
            Finalizer::Apply(p) => apply(&p, &ctx).await,
            Finalizer::Cleanup(p) => cleanup(&p, &ctx).await,
        }
    })
    .instrument(span)
    .await
    .map_err(|e| ReconcileError::Finalizer(e.to_string()));
    ctx.metrics.observe_reconcile(if result.is_ok() { "ok" } else { "error" }, started.elapsed());
    result
}

pub fn error_policy(product: Arc<RedshiftDataProduct>, error: &ReconcileError, ctx: Arc<Context>) -> Action {
    let delay = ctx.backoff(&uid(&product));
    tracing::warn!(namespace = product.namespace(), name = product.name_any(), %error, retry_in = ?delay, "reconcile failed");
    Action::requeue(delay)
}

/// DataZone's limits are per account and region; the operator brakes per connection (one role
/// account and one region, known before any call).
fn throttle_key(p: &RedshiftDataProduct) -> String {
    format!("{:?}/{}", p.spec.connection_ref.kind, p.spec.connection_ref.name)
}

fn uid(p: &RedshiftDataProduct) -> String {
    p.metadata.uid.clone().unwrap_or_else(|| format!("{}/{}", p.namespace().unwrap_or_default(), p.name_any()))
}

/// Why a pass stopped short: the phase whose condition turns False, and when to look again.
pub(super) struct Blocked {
    phase: &'static str,
    reason: String,
    message: String,
    retry: Duration,
    throttled: bool,
    /// A person must act (shown as Stalled).
    terminal: bool,
}

impl Blocked {
    fn from_problem(phase: &'static str, p: Problem, ctx: &Context, key: &str) -> Self {
        let retry = if p.terminal { TERMINAL_RETRY } else { ctx.backoff(key) };
        Self { phase, reason: p.reason, message: p.message, retry, throttled: false, terminal: p.terminal }
    }
    pub(super) fn from_dz(phase: &'static str, e: DzError, ctx: &Context, key: &str) -> Self {
        let retry = match e.class {
            ErrorClass::Terminal => TERMINAL_RETRY,
            ErrorClass::Retryable | ErrorClass::Throttled => ctx.backoff(key),
        };
        Self {
            phase,
            reason: e.reason(),
            message: e.to_string(),
            retry,
            throttled: e.class == ErrorClass::Throttled,
            terminal: e.class == ErrorClass::Terminal,
        }
    }
}

/// The status being built in this pass.
pub(super) struct Pass<'a> {
    pub(super) status: RedshiftDataProductStatus,
    generation: Option<i64>,
    pub(super) now: String,
    events: Vec<(EventType, String, String)>,
    pub(super) ctx: &'a Context,
    pub(super) key: String,
    /// Ready cannot be reached without a person: shown as `Stalled`, not `Reconciling`.
    pub(super) stalled: bool,
}

impl Pass<'_> {
    fn set(&mut self, type_: &str, status: ConditionStatus, reason: &str, message: &str) {
        conditions::set_condition(
            &mut self.status.conditions,
            Observation::new(type_, status, reason, message),
            self.generation,
            &self.now,
        );
    }
    pub(super) fn ok(&mut self, type_: &str, reason: &str, message: &str) {
        self.set(type_, ConditionStatus::True, reason, message);
    }
    pub(super) fn not_yet(&mut self, type_: &str, reason: &str, message: &str) {
        self.set(type_, ConditionStatus::False, reason, message);
    }
    pub(super) fn event(&mut self, type_: EventType, reason: &str, note: impl Into<String>) {
        self.events.push((type_, reason.to_string(), note.into()));
    }
    fn blocked(&mut self, b: Blocked) -> Duration {
        self.stalled = b.terminal;
        self.not_yet(b.phase, &b.reason, &b.message);
        b.retry
    }
}

async fn apply(p: &RedshiftDataProduct, ctx: &Context) -> Result<Action, ReconcileError> {
    let key = uid(p);
    // While DataZone throttles this region, hold every data product back a little.
    let region = throttle_key(p);
    if let Some(wait) = ctx.throttle.wait(&region) {
        return Ok(Action::requeue(wait + Duration::from_millis(crate::naming::stable_hash(&key) % 250)));
    }
    let mut pass = Pass {
        status: p.status.clone().unwrap_or_default(),
        generation: p.metadata.generation,
        now: conditions::now_rfc3339(),
        events: Vec::new(),
        ctx,
        key: key.clone(),
        stalled: false,
    };
    let before = pass.status.clone();
    let requeue = match progress(p, &mut pass).await {
        Ok(d) => {
            ctx.reset_backoff(&key);
            ctx.throttle.succeeded(&region);
            d
        }
        Err(b) => {
            if b.throttled {
                ctx.throttle.throttled(&region);
            }
            tracing::warn!(
                phase = b.phase,
                reason = %b.reason,
                detail = %b.message,
                terminal = b.terminal,
                retry_in = ?b.retry,
                "blocked"
            );
            pass.blocked(b)
        }
    };
    summarize(&mut pass);
    pass.status.observed_generation = p.metadata.generation;
    record(p, ctx, &before, pass).await?;
    Ok(Action::requeue(requeue))
}

/// The Ready condition summarises the phases for the current generation; `Reconciling` or
/// `Stalled` says whether the operator is still on its way there.
fn summarize(pass: &mut Pass) {
    let phases = [CONNECTION_RESOLVED, BLUEPRINT_ENABLED, ENVIRONMENT_READY, DATA_SOURCE_READY, PUBLISHED];
    let first_not_ready = phases.iter().find(|t| !conditions::is_true_for(&pass.status.conditions, t, pass.generation));
    let (ready, reason, message) = match first_not_ready.and_then(|t| conditions::find(&pass.status.conditions, t)) {
        None if first_not_ready.is_none() => {
            let n = pass.status.published_asset_count.unwrap_or(0);
            (true, "Published".to_string(), format!("{n} assets published"))
        }
        Some(c) => (false, c.reason.clone(), format!("{}: {}", c.type_, c.message)),
        None => (false, "Progressing".to_string(), "reconciling".to_string()),
    };
    pass.set(READY, if ready { ConditionStatus::True } else { ConditionStatus::False }, &reason, &message);
    conditions::set_progress(
        &mut pass.status.conditions,
        ready,
        pass.stalled,
        &reason,
        &message,
        pass.generation,
        &pass.now,
    );
}

/// Writes status (only when it changed) and publishes the pass's Events, plus one per condition
/// transition.
async fn record(
    p: &RedshiftDataProduct,
    ctx: &Context,
    before: &RedshiftDataProductStatus,
    mut pass: Pass<'_>,
) -> Result<(), ReconcileError> {
    for c in &pass.status.conditions {
        let was = conditions::find(&before.conditions, &c.type_).map(|o| o.status);
        if was != Some(c.status) && (c.type_ == READY || c.status == ConditionStatus::False) {
            let type_ = if c.status == ConditionStatus::True { EventType::Normal } else { EventType::Warning };
            pass.events.push((
                type_,
                format!("{}{}", c.type_, if c.status == ConditionStatus::True { "" } else { "False" }),
                format!("{}: {}", c.reason, c.message),
            ));
        }
    }
    if &pass.status != before {
        let api: Api<RedshiftDataProduct> = Api::namespaced(ctx.client.clone(), &p.namespace().unwrap_or_default());
        let patch =
            json!({"apiVersion": crate::crd::API_VERSION, "kind": "RedshiftDataProduct", "status": pass.status});
        api.patch_status(&p.name_any(), &PatchParams::apply(MANAGER).force(), &Patch::Apply(&patch)).await?;
    }
    let reference = p.object_ref(&());
    for (type_, reason, note) in pass.events {
        tracing::info!(namespace = p.namespace(), name = p.name_any(), reason, note, "event");
        let mut note = note;
        note.truncate(1000);
        let event = Event {
            type_,
            reason: reason.chars().take(128).collect(),
            note: Some(note),
            action: "Reconcile".into(),
            secondary: None,
        };
        if let Err(e) = ctx.recorder.publish(&event, &reference).await {
            tracing::warn!(error = %e, "could not publish an Event");
        }
    }
    Ok(())
}

/// Lookups that practically never change (the caller's account, a domain's blueprint IDs).
const STABLE: Duration = Duration::from_secs(3600);

/// Cached lookup: the value under `key` if younger than `ttl`, or `find()`'s answer (then cached
/// when present).
async fn cached<F, Fut>(ctx: &Context, key: &str, ttl: Duration, find: F) -> Result<Option<String>, DzError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Option<String>, DzError>>,
{
    if let Some(v) = ctx.cache.get(key, ttl) {
        return Ok(Some(v));
    }
    // Concurrent lookups of one key are made once: the others find the cache filled.
    let lock = ctx.cache.lock(key);
    let _guard = lock.lock().await;
    if let Some(v) = ctx.cache.get(key, ttl) {
        return Ok(Some(v));
    }
    let found = find().await?;
    if let Some(v) = &found {
        ctx.cache.put(key, v);
    }
    Ok(found)
}

async fn progress(p: &RedshiftDataProduct, pass: &mut Pass<'_>) -> Result<Duration, Blocked> {
    let ctx = pass.ctx;
    let key = pass.key.clone();
    let namespace = p.namespace().unwrap_or_default();
    let name = p.name_any();
    let spec = &p.spec;

    // ConnectionResolved: the connection, its role and its domain; then the project.
    let settings =
        connection::settings_for(ctx, p).await.map_err(|e| Blocked::from_problem(CONNECTION_RESOLVED, e, ctx, &key))?;
    let session = connection::session_key(&settings, &namespace, &name);
    let resolved = connection::resolve(ctx, settings, &session)
        .await
        .map_err(|e| Blocked::from_problem(CONNECTION_RESOLVED, e, ctx, &key))?;
    let region = resolved.settings.region.clone();
    let domain = resolved.domain_id.clone();
    let dz = ctx.clients.project(&session).await;
    let producer = ctx.clients.producer(&region);
    // spec.project is immutable, so the project ID in status stays right once found.
    let known_project =
        pass.status.project_id.clone().filter(|_| pass.status.domain_id.as_deref() == Some(domain.as_str()));
    let project = cached(ctx, &format!("project|{domain}|{}", spec.project), STABLE, || async {
        match known_project {
            Some(id) => Ok(Some(id)),
            None => dz.find_project(&domain, &spec.project).await,
        }
    })
    .await
    .map_err(|e| Blocked::from_dz(CONNECTION_RESOLVED, e, ctx, &key))?
    .ok_or_else(|| Blocked {
        phase: CONNECTION_RESOLVED,
        reason: "ProjectNotFound".into(),
        message: format!(
            "no DataZone project {} in domain {domain} visible to {}",
            spec.project, resolved.assumed_role_arn
        ),
        retry: TERMINAL_RETRY,
        throttled: false,
        terminal: true,
    })?;
    let account = cached(ctx, &format!("account|{region}"), STABLE, || async { producer.account().await.map(Some) })
        .await
        .map_err(|e| Blocked::from_dz(CONNECTION_RESOLVED, e, ctx, &key))?
        .unwrap_or_default();
    pass.status.domain_id = Some(domain.clone());
    pass.status.project_id = Some(project.clone());
    pass.ok(
        CONNECTION_RESOLVED,
        "Resolved",
        &format!("domain {domain}, project {project}, role {}", resolved.assumed_role_arn),
    );

    // What the spec wants, with the objects of "all tables" / "all views" schemas listed.
    let storage = desired::storage(spec);
    let mut listed: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for s in spec.schemas.iter().filter(|s| s.add_all_tables || s.add_all_views) {
        let objects = producer
            .list_objects(&storage, &spec.redshift.database, &s.name, &spec.redshift.credentials_secret_arn)
            .await
            .map_err(|e| Blocked::from_dz(DATA_SOURCE_READY, e, ctx, &key))?;
        listed.insert(s.name.clone(), objects);
    }
    let config = desired::source_config(spec, &|schema| listed.get(schema).cloned().unwrap_or_default());
    // A run is due when the configuration or the listed catalog changed since the last one.
    let run_hash = format!(
        "{}-{}",
        config_hash(&config),
        &format!("{:016x}", crate::naming::stable_hash(&format!("{listed:?}")))[..8]
    );
    let ds_name = desired::data_source_name(&ctx.cluster_name, &namespace, &name);

    // Which schema and kind each object is comes from the spec and the listed catalog.
    let mut objects: BTreeMap<String, (String, AssetKind)> = BTreeMap::new();
    for s in &spec.schemas {
        for (name, kind) in listed.get(&s.name).into_iter().flatten() {
            objects.insert(
                name.clone(),
                (s.name.clone(), if kind == "VIEW" { AssetKind::View } else { AssetKind::Table }),
            );
        }
        objects.extend(s.tables.iter().map(|t| (t.clone(), (s.name.clone(), AssetKind::Table))));
        objects.extend(s.views.iter().map(|v| (v.clone(), (s.name.clone(), AssetKind::View))));
    }
    // While data sources and runs settle, the data products of a project share one listing.
    let snapshot_key = format!("{}|{domain}|{project}", throttle_key(p));
    // A run of ours in progress: it is all there is to look at until it ends, and when it has
    // ended its outcome is all this pass needs (the data source was checked when the run
    // started, and is read again at the next resync).
    if pass.status.last_run.as_ref().is_some_and(|r| is_active(&r.status))
        && let Some(requeue) = runs::follow(pass, &dz, &domain, &project, &snapshot_key, &objects)
            .await
            .map_err(|e| Blocked::from_dz(PUBLISHED, e, ctx, &key))?
    {
        return Ok(requeue);
    }

    // Observe: one read in the steady state (the data source by its ID in status), or a look
    // in the shared listing right after this process wrote the configuration it wants; the
    // shared objects are looked up (cached) only when that does not settle it.
    let mut blueprint_regions: Option<Vec<String>> = None;
    let mut profile: Option<String> = None;
    let mut environment: Option<EnvironmentInfo> = None;
    let mut data_source = None;
    let flight = ctx.flights.get(&key);
    if let (Some(ds_id), Some(env_id)) = (pass.status.data_source_id.clone(), pass.status.environment_id.clone()) {
        let wrote_this = flight.written.as_ref() == Some(&(ds_id.clone(), config_hash(&config)));
        let listed = match flight.since.filter(|_| wrote_this) {
            Some(since) => ctx
                .snapshots
                .get(&snapshot_key, since, ctx.poll, || dz.list_data_sources(&domain, &project))
                .await
                .map_err(|e| Blocked::from_dz(DATA_SOURCE_READY, e, ctx, &key))?
                .by_id(&ds_id)
                // A failed one is read in full for its error message.
                .filter(|d| !d.status.starts_with("FAILED"))
                .map(|d| DataSourceInfo {
                    id: d.id.clone(),
                    name: d.name.clone(),
                    status: d.status.clone(),
                    environment_id: d.environment_id.clone(),
                    description: d.description.clone(),
                    config: Some(config.clone()),
                    error: None,
                }),
            None => None,
        };
        let found = match listed {
            Some(ds) => Some(ds),
            None => dz
                .get_data_source(&domain, &ds_id)
                .await
                .map_err(|e| Blocked::from_dz(DATA_SOURCE_READY, e, ctx, &key))?,
        };
        if let Some(ds) = found.filter(|ds| ds.environment_id.as_deref() == Some(&env_id)) {
            blueprint_regions = Some(vec![region.clone()]);
            profile = pass.status.environment_profile_id.clone().or(Some(String::new()));
            environment = Some(EnvironmentInfo { id: env_id, status: "ACTIVE".into(), failure: None });
            data_source = Some(ds);
        } else {
            pass.event(
                EventType::Warning,
                "DataSourceMissing",
                format!("data source {ds_id} is gone from DataZone; it will be recreated"),
            );
            pass.status.data_source_id = None;
        }
    }
    let blueprint = if data_source.is_none() {
        let bp = cached(ctx, &format!("blueprint|{domain}"), STABLE, || {
            producer.find_blueprint(&domain, "DefaultDataWarehouse")
        })
        .await
        .map_err(|e| Blocked::from_dz(BLUEPRINT_ENABLED, e, ctx, &key))?
        .ok_or_else(|| Blocked {
            phase: BLUEPRINT_ENABLED,
            reason: "BlueprintNotFound".into(),
            message: format!("domain {domain} has no DefaultDataWarehouse blueprint"),
            retry: TERMINAL_RETRY,
            throttled: false,
            terminal: true,
        })?;
        let enabled_key = format!("blueprint-enabled|{domain}|{account}|{region}");
        blueprint_regions = match ctx.cache.get(&enabled_key, ctx.resync) {
            Some(_) => Some(vec![region.clone()]),
            None => producer
                .blueprint_regions(&domain, &bp)
                .await
                .map_err(|e| Blocked::from_dz(BLUEPRINT_ENABLED, e, ctx, &key))?,
        };
        if blueprint_regions.as_ref().is_some_and(|r| r.contains(&region)) {
            ctx.cache.put(&enabled_key, "yes");
            let profile_name = desired::profile_name(&account, &region, &storage);
            profile = cached(ctx, &format!("profile|{domain}|{project}|{profile_name}"), ctx.resync, || {
                dz.find_profile(&domain, &project, &profile_name)
            })
            .await
            .map_err(|e| Blocked::from_dz(ENVIRONMENT_READY, e, ctx, &key))?;
            if profile.is_some() {
                environment =
                    find_environment(ctx, &dz, &domain, &project, &account, &region, &storage, &spec.redshift.database)
                        .await
                        .map_err(|e| Blocked::from_dz(ENVIRONMENT_READY, e, ctx, &key))?;
            }
            if environment.as_ref().is_some_and(|e| e.status == "ACTIVE") {
                // Find by name before create (a crash between a create and its status write, or
                // a data product applied again after a Retain deletion), in the project's shared
                // listing: one call for every data product about to create its data source.
                let not_before = flight.since.unwrap_or(ctx.started);
                let listing = ctx
                    .snapshots
                    .get(&snapshot_key, not_before, ctx.poll, || dz.list_data_sources(&domain, &project))
                    .await
                    .map_err(|e| Blocked::from_dz(DATA_SOURCE_READY, e, ctx, &key))?;
                if let Some(found) = listing.by_name(&ds_name) {
                    data_source = dz
                        .get_data_source(&domain, &found.id)
                        .await
                        .map_err(|e| Blocked::from_dz(DATA_SOURCE_READY, e, ctx, &key))?;
                    if let Some(ds) = data_source.as_ref().filter(|ds| desired::is_ours(ds.description.as_deref())) {
                        pass.event(
                            EventType::Normal,
                            "DataSourceFound",
                            format!(
                                "data source {ds_name} ({}) exists and was created by this operator; taking it over",
                                ds.id
                            ),
                        );
                    }
                }
            }
        }
        pass.status.blueprint_id = Some(bp.clone());
        Some(bp)
    } else {
        None
    };
    if let Some(pid) = profile.as_ref().filter(|p| !p.is_empty()) {
        pass.status.environment_profile_id = Some(pid.clone());
    }
    if let Some(env) = &environment {
        pass.status.environment_id = Some(env.id.clone());
    }
    if let Some(ds) = &data_source {
        pass.status.data_source_id = Some(ds.id.clone());
        pass.status.data_source_name = Some(ds.name.clone());
    }

    let requested_at = p.annotations().get(RECONCILE_REQUESTED_AT).cloned();
    let failures = pass.status.consecutive_run_failures.unwrap_or(0);
    let retry_due = pass
        .status
        .last_run
        .as_ref()
        .and_then(|r| r.stopped_at.as_deref())
        .and_then(|t| t.parse::<jiff::Timestamp>().ok())
        .is_some_and(|stopped| {
            let wait = Duration::from_secs(60) * 2u32.pow(failures.clamp(0, 6) as u32);
            jiff::Timestamp::now().duration_since(stopped).as_secs() >= wait.as_secs() as i64
        });
    let last = pass.status.last_run.clone();
    let runs = RunState {
        last: last.as_ref().map(|r| (r.id.as_str(), r.status.as_str())),
        last_config_hash: last.as_ref().and_then(|r| r.config_hash.as_deref()),
        requested_at: requested_at.as_deref(),
        handled: pass.status.last_handled_reconcile_at.as_deref(),
        consecutive_failures: failures as u32,
        retry_due,
    };
    let observed = Observed {
        blueprint_regions: blueprint_regions.as_deref(),
        profile: profile.as_deref(),
        environment: environment.as_ref(),
        data_source: data_source.as_ref(),
    };
    let step = plan(&region, &config, &run_hash, &observed, &runs);
    tracing::debug!(namespace, name, ?step, "planned");

    // Phases already behind us.
    let past = |s: &Step| match s {
        Step::EnableBlueprint => 0,
        Step::CreateProfile | Step::CreateEnvironment | Step::WaitEnvironment | Step::EnvironmentFailed(_) => 1,
        Step::CreateDataSource
        | Step::NotOurs(_)
        | Step::WaitDataSource(_)
        | Step::DataSourceFailed(_)
        | Step::UpdateDataSource => 2,
        _ => 3,
    };
    let reached = past(&step);
    if reached >= 1 {
        pass.ok(
            BLUEPRINT_ENABLED,
            "Enabled",
            &format!("DefaultDataWarehouse is enabled for account {account} in {region}"),
        );
    }
    if reached >= 2 {
        let env_id = pass.status.environment_id.clone().unwrap_or_default();
        pass.ok(ENVIRONMENT_READY, "Active", &format!("environment {env_id} is ACTIVE"));
    }
    if reached >= 3 {
        let ds_id = pass.status.data_source_id.clone().unwrap_or_default();
        pass.ok(DATA_SOURCE_READY, "Ready", &format!("data source {ds_id} ({ds_name}) matches the spec"));
    }

    // Act: at most one mutating call.
    let poll = ctx.poll;
    let d = match step {
        Step::EnableBlueprint => {
            let bp = blueprint.clone().unwrap_or_default();
            let lock = ctx.cache.lock(&format!("enable|{domain}|{account}"));
            let _guard = lock.lock().await;
            let enabled_key = format!("blueprint-enabled|{domain}|{account}|{region}");
            if ctx.cache.get(&enabled_key, ctx.resync).is_some() {
                // Another data product enabled it while we waited for the lock.
                return Ok(Duration::from_millis(100));
            }
            let mut regions = blueprint_regions.clone().unwrap_or_default();
            regions.push(region.clone());
            regions.sort();
            regions.dedup();
            let producer_roles = &resolved.settings.producer;
            let enable = BlueprintEnablement {
                regions,
                provisioning_role_arn: producer_roles.provisioning_role_arn.clone(),
                manage_access_role_arn: producer_roles.manage_access_role_arn.clone(),
                regional_parameters: producer_roles.regional_parameters.clone(),
            };
            producer
                .enable_blueprint(&domain, &bp, &enable)
                .await
                .map_err(|e| Blocked::from_dz(BLUEPRINT_ENABLED, e, ctx, &key))?;
            ctx.cache.put(&enabled_key, "yes");
            pass.ok(
                BLUEPRINT_ENABLED,
                "Enabled",
                &format!("DefaultDataWarehouse enabled for account {account} in {region}"),
            );
            pass.event(
                EventType::Normal,
                "BlueprintEnabled",
                format!("enabled DefaultDataWarehouse for account {account} in {region}"),
            );
            Duration::from_millis(200)
        }
        Step::CreateProfile => {
            let profile_name = desired::profile_name(&account, &region, &storage);
            let cache_key = format!("profile|{domain}|{project}|{profile_name}");
            let lock = ctx.cache.lock(&format!("create|{cache_key}"));
            let _guard = lock.lock().await;
            // Another data product may have created it while we waited for the lock.
            if dz
                .find_profile(&domain, &project, &profile_name)
                .await
                .map_err(|e| Blocked::from_dz(ENVIRONMENT_READY, e, ctx, &key))?
                .is_none()
            {
                let spec = ProfileSpec {
                    name: profile_name.clone(),
                    project_id: project.clone(),
                    blueprint_id: blueprint.clone().unwrap_or_default(),
                    account: account.clone(),
                    region: region.clone(),
                    storage: storage.clone(),
                    secret_arn: p.spec.redshift.credentials_secret_arn.clone(),
                };
                let id = dz
                    .create_profile(&domain, &spec)
                    .await
                    .map_err(|e| Blocked::from_dz(ENVIRONMENT_READY, e, ctx, &key))?;
                pass.status.environment_profile_id = Some(id.clone());
                pass.event(
                    EventType::Normal,
                    "EnvironmentProfileCreated",
                    format!("created environment profile {profile_name} ({id})"),
                );
            }
            pass.not_yet(ENVIRONMENT_READY, "Creating", "environment profile ready; creating the environment");
            Duration::from_millis(200)
        }
        Step::CreateEnvironment => {
            let env_name = desired::environment_name(&account, &region, &storage, &spec.redshift.database);
            let lock = ctx.cache.lock(&format!("create|env|{domain}|{project}|{env_name}"));
            let _guard = lock.lock().await;
            let existing = dz
                .find_environment(&domain, &project, &env_name)
                .await
                .map_err(|e| Blocked::from_dz(ENVIRONMENT_READY, e, ctx, &key))?;
            let env = match existing {
                Some(env) => env,
                None => {
                    let profile_id = profile.clone().unwrap_or_default();
                    let env = dz
                        .create_environment(&domain, &project, &profile_id, &env_name, &spec.redshift.database)
                        .await
                        .map_err(|e| Blocked::from_dz(ENVIRONMENT_READY, e, ctx, &key))?;
                    pass.event(
                        EventType::Normal,
                        "EnvironmentCreated",
                        format!("created environment {env_name} ({})", env.id),
                    );
                    env
                }
            };
            pass.status.environment_id = Some(env.id.clone());
            pass.not_yet(ENVIRONMENT_READY, "Creating", &format!("environment {env_name} is {}", env.status));
            poll
        }
        Step::WaitEnvironment => {
            let env = environment.clone().unwrap_or(EnvironmentInfo {
                id: String::new(),
                status: String::new(),
                failure: None,
            });
            pass.not_yet(ENVIRONMENT_READY, "Creating", &format!("environment {} is {}", env.id, env.status));
            poll
        }
        Step::EnvironmentFailed(why) => {
            pass.stalled = true;
            pass.not_yet(ENVIRONMENT_READY, "EnvironmentFailed", &why);
            TERMINAL_RETRY
        }
        Step::CreateDataSource => {
            let env_id = environment.as_ref().map(|e| e.id.clone()).unwrap_or_default();
            let uid = p.metadata.uid.clone().unwrap_or_default();
            // The client token makes a retried create (lost answer, crash) return the same data
            // source instead of a second one.
            let token = format!("{uid}-{}", p.metadata.generation.unwrap_or(0));
            let description = desired::description(&ctx.cluster_name, &namespace, &name, &uid);
            // The token makes a retried create return the same data source; DataZone's unique
            // names per project catch the rest (the listing above may be a poll interval old).
            let ds = match dz
                .create_data_source(&domain, &project, &env_id, &ds_name, &description, &config, &token)
                .await
            {
                Ok(ds) => ds,
                Err(e) if e.is_name_taken() => {
                    return adopt(pass, &dz, &domain, &project, &snapshot_key, &ds_name).await;
                }
                Err(e) => return Err(Blocked::from_dz(DATA_SOURCE_READY, e, ctx, &key)),
            };
            ctx.flights.wrote(&key, Some((ds.id.clone(), config_hash(&config))));
            let recreated = before_had_data_source(p);
            pass.status.data_source_id = Some(ds.id.clone());
            pass.status.data_source_name = Some(ds.name.clone());
            // A new data source has no runs yet.
            pass.status.last_run = None;
            pass.status.consecutive_run_failures = None;
            pass.event(
                EventType::Normal,
                if recreated { "DataSourceRecreated" } else { "DataSourceCreated" },
                format!("created data source {ds_name} ({})", ds.id),
            );
            pass.not_yet(DATA_SOURCE_READY, "Creating", &format!("data source {} is {}", ds.id, ds.status));
            poll
        }
        Step::NotOurs(id) => {
            pass.stalled = true;
            pass.not_yet(DATA_SOURCE_READY, "NameTaken", &format!("a data source named {ds_name} ({id}) exists in the project but was not created by this operator; it is left alone"));
            TERMINAL_RETRY
        }
        Step::WaitDataSource(status) => {
            pass.not_yet(DATA_SOURCE_READY, "Settling", &format!("data source is {status}"));
            poll
        }
        Step::DataSourceFailed(why) => {
            pass.stalled = true;
            pass.not_yet(DATA_SOURCE_READY, "DataSourceFailed", &why);
            TERMINAL_RETRY
        }
        Step::UpdateDataSource => {
            let ds_id = pass.status.data_source_id.clone().unwrap_or_default();
            dz.update_data_source(&domain, &ds_id, &config)
                .await
                .map_err(|e| Blocked::from_dz(DATA_SOURCE_READY, e, ctx, &key))?;
            ctx.flights.wrote(&key, Some((ds_id.clone(), config_hash(&config))));
            pass.event(
                EventType::Normal,
                "DataSourceUpdated",
                format!("updated data source {ds_name} ({ds_id}) to the spec"),
            );
            pass.not_yet(DATA_SOURCE_READY, "Updating", &format!("data source {ds_id} is being updated"));
            poll
        }
        Step::StartRun(reason) => {
            runs::start_run(pass, &dz, &domain, p, &run_hash, reason, requested_at.as_deref(), &objects).await?
        }
        Step::WaitRun(id) => {
            pass.not_yet(PUBLISHED, "Running", &format!("data source run {id} is in progress"));
            poll
        }
        Step::RunGaveUp => {
            ctx.flights.landed(&key);
            pass.stalled = true;
            let why = runs::run_failure_message(&pass.status);
            pass.not_yet(PUBLISHED, "RunFailed", &format!("{why}; not retried again until the spec, the catalog or the {RECONCILE_REQUESTED_AT} annotation changes"));
            ctx.resync
        }
        Step::Done => runs::published_outcome(pass),
    };
    Ok(d)
}

/// CreateDataSource said the name is taken although the listing looked at before did not show
/// it (the listing may be a poll interval old). The data source of that name goes into status;
/// the next pass reads it and takes it over if it is ours, or reports NameTaken.
async fn adopt(
    pass: &mut Pass<'_>,
    dz: &SdkDataZone,
    domain: &str,
    project: &str,
    snapshot_key: &str,
    ds_name: &str,
) -> Result<Duration, Blocked> {
    let ctx = pass.ctx;
    let listing = ctx
        .snapshots
        .get(snapshot_key, std::time::Instant::now(), ctx.poll, || dz.list_data_sources(domain, project))
        .await
        .map_err(|e| Blocked::from_dz(DATA_SOURCE_READY, e, ctx, &pass.key))?;
    let Some(found) = listing.by_name(ds_name) else {
        return Err(Blocked {
            phase: DATA_SOURCE_READY,
            reason: "NameTaken".into(),
            message: format!("DataZone says the name {ds_name} is taken, but lists no data source of that name"),
            retry: ctx.backoff(&pass.key),
            throttled: false,
            terminal: false,
        });
    };
    pass.status.data_source_id = Some(found.id.clone());
    pass.status.data_source_name = Some(found.name.clone());
    pass.event(
        EventType::Normal,
        "DataSourceFound",
        format!("data source {ds_name} ({}) already exists; it is taken over if this operator created it", found.id),
    );
    pass.not_yet(DATA_SOURCE_READY, "Found", &format!("data source {ds_name} ({}) already exists", found.id));
    Ok(Duration::from_millis(100))
}

fn before_had_data_source(p: &RedshiftDataProduct) -> bool {
    p.status.as_ref().is_some_and(|s| s.data_source_id.is_some())
}

#[allow(clippy::too_many_arguments)]
async fn find_environment(
    ctx: &Context,
    dz: &SdkDataZone,
    domain: &str,
    project: &str,
    account: &str,
    region: &str,
    storage: &crate::datazone::Storage,
    database: &str,
) -> Result<Option<EnvironmentInfo>, DzError> {
    let env_name = desired::environment_name(account, region, storage, database);
    let cache_key = format!("env|{domain}|{project}|{env_name}");
    let active = || {
        ctx.cache.get(&cache_key, ctx.resync).map(|id| EnvironmentInfo { id, status: "ACTIVE".into(), failure: None })
    };
    if let Some(env) = active() {
        return Ok(Some(env));
    }
    // While it is being created, the data products waiting for it share one look per poll.
    let lock = ctx.cache.lock(&cache_key);
    let _guard = lock.lock().await;
    if let Some(env) = active() {
        return Ok(Some(env));
    }
    let pending_key = format!("pending|{cache_key}");
    if let Some((id, status)) = ctx.cache.get(&pending_key, ctx.poll).as_deref().and_then(|v| v.split_once(' ')) {
        return Ok(Some(EnvironmentInfo { id: id.to_string(), status: status.to_string(), failure: None }));
    }
    let Some(found) = dz.find_environment(domain, project, &env_name).await? else { return Ok(None) };
    let env = if found.status == "ACTIVE" { found } else { dz.get_environment(domain, &found.id).await? };
    match env.status.as_str() {
        // Only a settled environment is shared for long.
        "ACTIVE" => ctx.cache.put(&cache_key, &env.id),
        "CREATING" | "UPDATING" => ctx.cache.put(&pending_key, &format!("{} {}", env.id, env.status)),
        _ => {}
    }
    Ok(Some(env))
}

/// Deletion: with `Delete`, the data source goes (if it is ours); with `Retain`, DataZone is left
/// as it is. The finalizer comes off in the end either way: after 10 minutes of failing to
/// delete, the data source is left behind with a Warning Event.
async fn cleanup(p: &RedshiftDataProduct, ctx: &Context) -> Result<Action, ReconcileError> {
    let namespace = p.namespace().unwrap_or_default();
    let name = p.name_any();
    let mut events = Vec::new();
    if p.spec.deletion_policy == DeletionPolicy::Retain {
        events.push((
            EventType::Normal,
            "Retained",
            "deletionPolicy Retain: the DataZone data source and its assets stay".to_string(),
        ));
    } else {
        match delete_data_source(p, ctx).await {
            Ok(Some(id)) => events.push((
                EventType::Normal,
                "DataSourceDeleted",
                format!("deleted data source {id}; its published assets stay in the catalog"),
            )),
            Ok(None) => {
                events.push((EventType::Normal, "DataSourceGone", "no data source of ours to delete".to_string()))
            }
            Err(why) => {
                let age = p
                    .metadata
                    .deletion_timestamp
                    .as_ref()
                    .map(|t| jiff::Timestamp::now().duration_since(t.0).as_secs())
                    .unwrap_or(0);
                if age < CLEANUP_PATIENCE.as_secs() as i64 {
                    let event = Event {
                        type_: EventType::Warning,
                        reason: "DeleteFailed".into(),
                        note: Some(why.clone()),
                        action: "Delete".into(),
                        secondary: None,
                    };
                    let _ = ctx.recorder.publish(&event, &p.object_ref(&())).await;
                    return Err(ReconcileError::Cleanup(why));
                }
                events.push((
                    EventType::Warning,
                    "DataSourceLeftBehind",
                    format!("gave up deleting after {age}s: {why}; remove the data source by hand"),
                ));
            }
        }
    }
    ctx.clients.forget(&namespace, &name);
    for (type_, reason, note) in events {
        tracing::info!(namespace, name, reason, note, "cleanup");
        let event = Event { type_, reason: reason.into(), note: Some(note), action: "Delete".into(), secondary: None };
        let _ = ctx.recorder.publish(&event, &p.object_ref(&())).await;
    }
    Ok(Action::await_change())
}

async fn delete_data_source(p: &RedshiftDataProduct, ctx: &Context) -> Result<Option<String>, String> {
    let namespace = p.namespace().unwrap_or_default();
    let name = p.name_any();
    let settings = connection::settings_for(ctx, p).await.map_err(|e| e.message)?;
    let session = connection::session_key(&settings, &namespace, &name);
    let resolved = connection::resolve(ctx, settings, &session).await.map_err(|e| e.message)?;
    let dz = ctx.clients.project(&session).await;
    let domain = resolved.domain_id;
    let status = p.status.clone().unwrap_or_default();
    let id = match status.data_source_id {
        Some(id) => Some(id),
        None => match (&status.project_id, &status.data_source_name) {
            (Some(project), Some(ds_name)) => {
                dz.find_data_source(&domain, project, ds_name).await.map_err(|e| e.to_string())?
            }
            _ => None,
        },
    };
    let Some(id) = id else { return Ok(None) };
    match dz.get_data_source(&domain, &id).await.map_err(|e| e.to_string())? {
        Some(ds) if desired::is_ours(ds.description.as_deref()) => {
            dz.delete_data_source(&domain, &id).await.map_err(|e| e.to_string())?;
            Ok(Some(id))
        }
        Some(_) => Err(format!("data source {id} was not created by this operator; not deleting it")),
        None => Ok(None),
    }
}
