//! One pass over a RedshiftDataProduct: resolve what it works towards ([`super::target`]),
//! follow a run in progress ([`super::runs`]), observe DataZone (one cheap read in the steady
//! state, [`super::observe`]), decide with [`plan`], make at most one mutating call
//! ([`super::act`]), and record every ID, condition and run outcome in status, with an Event on
//! each transition. Deletion is [`super::cleanup`].

use std::sync::Arc;
use std::time::Duration;

use kube::api::{Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType};
use kube::runtime::finalizer::{Event as Finalizer, finalizer};
use kube::{Api, Resource, ResourceExt};
use serde_json::json;
use tracing::Instrument;

use super::connection::Problem;
use super::context::Context;
use super::plan::{Step, is_active, plan};
use super::target::{self, Target};
use super::{act, cleanup, observe, runs};
use crate::crd::conditions::{
    self, BLUEPRINT_ENABLED, CONNECTION_RESOLVED, ConditionStatus, DATA_SOURCE_READY, ENVIRONMENT_READY, Observation,
    PUBLISHED, READY,
};
use crate::crd::{RECONCILE_REQUESTED_AT, RedshiftDataProduct, RedshiftDataProductStatus};
use crate::datazone::{DzError, ErrorClass};

pub const FINALIZER: &str = "dataproducts.dev/cleanup";
pub const MANAGER: &str = "datazone-operator";
/// A terminal problem is looked at again this often (or at once on a spec change).
pub(super) const TERMINAL_RETRY: Duration = Duration::from_secs(600);
/// When the run quota is used up, try again in an hour.
pub(super) const QUOTA_RETRY: Duration = Duration::from_secs(3600);

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
            Finalizer::Cleanup(p) => cleanup::cleanup(&p, &ctx).await,
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
pub(super) fn throttle_key(p: &RedshiftDataProduct) -> String {
    format!("{:?}/{}", p.spec.connection_ref.kind, p.spec.connection_ref.name)
}

pub(super) fn uid(p: &RedshiftDataProduct) -> String {
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
    pub(super) fn from_problem(phase: &'static str, p: Problem, ctx: &Context, key: &str) -> Self {
        let retry = if p.terminal { TERMINAL_RETRY } else { ctx.backoff(key) };
        Self { phase, reason: p.reason, message: p.message, retry, throttled: false, terminal: p.terminal }
    }
    /// A person must act: looked at again every 10 minutes, or at once on a spec change.
    pub(super) fn terminal(phase: &'static str, reason: &str, message: String) -> Self {
        Self { phase, reason: reason.into(), message, retry: TERMINAL_RETRY, throttled: false, terminal: true }
    }
    pub(super) fn retryable(phase: &'static str, reason: &str, message: String, retry: Duration) -> Self {
        Self { phase, reason: reason.into(), message, retry, throttled: false, terminal: false }
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

async fn progress(p: &RedshiftDataProduct, pass: &mut Pass<'_>) -> Result<Duration, Blocked> {
    let t = target::resolve(p, pass).await?;
    // A run of ours in progress: it is all there is to look at until it ends, and when it has
    // ended its outcome is all this pass needs (the data source was checked when the run
    // started, and is read again at the next resync).
    if pass.status.last_run.as_ref().is_some_and(|r| is_active(&r.status))
        && let Some(requeue) =
            runs::follow(pass, &t).await.map_err(|e| Blocked::from_dz(PUBLISHED, e, pass.ctx, &pass.key))?
    {
        return Ok(requeue);
    }
    let seen = observe::observe(pass, &t).await?;
    let requested_at = p.annotations().get(RECONCILE_REQUESTED_AT).cloned();
    let step = plan(
        &t.region,
        &t.config,
        &t.run_hash,
        &seen.observed(),
        &runs::run_state(&pass.status, requested_at.as_deref()),
    );
    tracing::debug!(?step, "planned");
    mark_phases_behind(pass, &t, &step);
    act::act(p, pass, &t, &seen, step, requested_at.as_deref()).await
}

/// The phases a step lies beyond are True.
fn mark_phases_behind(pass: &mut Pass, t: &Target, step: &Step) {
    let behind = step.phases_behind();
    if behind >= 1 {
        let message = format!("DefaultDataWarehouse is enabled for account {} in {}", t.account, t.region);
        pass.ok(BLUEPRINT_ENABLED, "Enabled", &message);
    }
    if behind >= 2 {
        let env_id = pass.status.environment_id.clone().unwrap_or_default();
        pass.ok(ENVIRONMENT_READY, "Active", &format!("environment {env_id} is ACTIVE"));
    }
    if behind >= 3 {
        let ds_id = pass.status.data_source_id.clone().unwrap_or_default();
        pass.ok(DATA_SOURCE_READY, "Ready", &format!("data source {ds_id} ({}) matches the spec", t.ds_name));
    }
}
