//! The orchestrator of one pass over a RedshiftDataProduct: resolve what it works towards
//! ([`super::target`]), follow a run in progress ([`super::runs`]), observe DataZone (one cheap
//! read in the steady state, [`super::observe`]), decide with [`plan`], make at most one mutating
//! call ([`super::act`]). The phases return what they saw and did; this file alone turns that
//! into status and Events ([`crate::controller::decide::status`]) and decides backoff. Deletion is
//! [`super::cleanup`].

use std::sync::Arc;
use std::time::Duration;

use kube::api::{Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::finalizer::{self, Event as Finalizer};
use kube::runtime::reflector::ObjectRef;
use kube::{Api, Resource, ResourceExt};
use serde_json::json;
use tokio::time::Instant;
use tracing::Instrument;

use super::access;
use super::act::{self, Subject};
use super::cleanup;
use super::describe;
use super::observe;
use super::products;
use super::runs;
use super::target::{self, Target};
use crate::controller::context::{Context, spread};
use crate::controller::decide::business;
use crate::controller::decide::pass::{
    Blocked, Effects, FINALIZER, MANAGER, Note, Phase, ReconcileError, TERMINAL_RETRY, uid,
};
use crate::controller::decide::plan::{Step, Upstream, plan};
use crate::controller::decide::status;
use crate::controller::fleet::keys::ConnectionId;
use crate::crd::conditions;
use crate::crd::{RECONCILE_REQUESTED_AT, RedshiftDataProduct, RedshiftDataProductStatus};
use crate::datazone::{Backend, Binding, ErrorClass, Generation};
use crate::metrics::InProgress;

pub async fn reconcile<B: Backend>(
    product: Arc<RedshiftDataProduct>,
    ctx: Arc<Context<B>>,
) -> Result<Action, ReconcileError> {
    // `--concurrency` passes at once in all (every scope's controller shares these), in the order
    // they came due (the controllers hand passes over as they come due, `run.rs`); while a pace is
    // saturated (a fleet publishing) and a minute after, a free place goes to the stage with the
    // fewest under way first (why: `fleet::gate`); so also while hundreds queue here, as when a
    // fleet was just applied or the operator restarted. Not always: a few dozen data products taken
    // stage by stage are looked at one by one where a wave shares one listing (an e2e budget of 50
    // went over by a call).
    let busy = ctx.backend.saturated() || ctx.passes.backlogged();
    let stage = ctx.balance.stage(busy, Instant::now(), &product);
    let waiting = InProgress::new(&ctx.metrics.passes_waiting);
    let _pass = ctx.passes.enter(stage).await;
    drop(waiting);
    let _running = InProgress::new(&ctx.metrics.passes_running);
    // Thousands may wait above; each holds this small future, the pass's own is made now.
    Box::pin(pass(product, ctx.clone())).await
}

async fn pass<B: Backend>(product: Arc<RedshiftDataProduct>, ctx: Arc<Context<B>>) -> Result<Action, ReconcileError> {
    let started = tokio::time::Instant::now();
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
    let result = finalizer::finalizer(&api, FINALIZER, product.clone(), |event| async {
        match event {
            Finalizer::Apply(p) => apply(&p, &ctx).await,
            Finalizer::Cleanup(p) => clean_up(&p, &ctx).await,
        }
    })
    .instrument(span)
    .await
    .map_err(|e| ReconcileError::Finalizer(Box::new(e)));
    let outcome = if result.is_ok() { "ok" } else { "error" };
    ctx.metrics.observe_reconcile("RedshiftDataProduct", outcome, started.elapsed());
    result
}

pub fn error_policy<B: Backend>(
    product: Arc<RedshiftDataProduct>,
    error: &ReconcileError,
    ctx: Arc<Context<B>>,
) -> Action {
    if read_stale(error) {
        tracing::debug!(namespace = product.namespace(), name = product.name_any(), %error, "stale read; again");
        return Action::requeue(STALE_READ_RETRY);
    }
    if retiring_with_subscribers(error) {
        tracing::info!(namespace = product.namespace(), name = product.name_any(), %error, "retirement waits for subscribers");
        return Action::requeue(ctx.resync);
    }
    let delay = ctx.backoff(&uid(&product));
    tracing::warn!(namespace = product.namespace(), name = product.name_any(), %error, retry_in = ?delay, "reconcile failed");
    Action::requeue(delay)
}

/// The finalizer patch tests the finalizers it read, and fails (422) when the watch cache has
/// not yet seen a newer object (a pass triggered again before the watch delivered the previous
/// pass's own patch: at startup, half a fleet). The watch brings the newer object within
/// moments; it is no failure to back off from.
fn read_stale(error: &ReconcileError) -> bool {
    let ReconcileError::Finalizer(e) = error else { return false };
    let (finalizer::Error::AddFinalizer(kube::Error::Api(status))
    | finalizer::Error::RemoveFinalizer(kube::Error::Api(status))) = e.as_ref()
    else {
        return false;
    };
    status.code == 422
}

const STALE_READ_RETRY: Duration = Duration::from_millis(500);

/// A retirement waiting for its subscribers to leave: no failure, it looks again a resync later.
fn retiring_with_subscribers(error: &ReconcileError) -> bool {
    let ReconcileError::Finalizer(e) = error else { return false };
    let finalizer::Error::CleanupFailed(ReconcileError::Cleanup(blocked)) = e.as_ref() else { return false };
    blocked.reason == cleanup::SUBSCRIBED
}

async fn apply<B: Backend>(p: &RedshiftDataProduct, ctx: &Context<B>) -> Result<Action, ReconcileError> {
    let key = uid(p);
    let connection = ConnectionId::from(&p.spec.connection_ref);
    // Not woken by a listing while this pass is under way: it decides when it comes next.
    let _passing = ctx.wakeups.passing(&key);
    let before = p.status.clone().unwrap_or_default();
    let now = conditions::now_rfc3339();
    let mut effects = Effects::default();
    let passed = progress(p, ctx, &before, &now, &mut effects).await;
    let problem = passed.is_err() || effects.stalled;
    let requeue = match passed {
        Ok(d) => {
            ctx.reset_backoff(&key);
            // The first pass through after DataZone was down: the rest stop backing off.
            ctx.wakeups.wake_each(ctx.recovery.succeeded(&connection, &key, Instant::now()), &key);
            d
        }
        Err(b) => {
            // The one place a blocked pass's retry is decided.
            if b.class != ErrorClass::Terminal {
                ctx.recovery.failed(&connection, &key, ObjectRef::from_obj(p), Instant::now());
            }
            // Throttled, only this data product waits, and not longer each time: every attempt of
            // every call waits for its operation's pace, which the refusals cut (`datazone::pace`),
            // so the pace, not the data product, is what slows down. A brake holding back every
            // data product of the connection also stalled the calls of other operations, whose
            // quotas are their own (docs/datazone-semantics.md §8; five plants: the runs barely
            // started in the first 30 s while data sources were refused), and a backoff doubling
            // with each throttled pass left data products refused at a fleet's start waiting minutes
            // after the others were done (docs/design/fleet.md).
            let retry = match b.class {
                ErrorClass::Terminal => TERMINAL_RETRY,
                ErrorClass::Throttled => ctx.throttled_wait(&key),
                ErrorClass::Retryable => ctx.backoff(&key),
            };
            tracing::warn!(
                phase = %b.phase,
                reason = %b.reason,
                detail = %b.message,
                terminal = b.is_terminal(),
                retry_in = ?retry,
                "blocked"
            );
            effects.stalled = b.is_terminal();
            effects.not_yet(b.phase, &b.reason, b.message.clone());
            retry
        }
    };
    // Waiting for something to settle backs off; a resync is spread; anything else starts the
    // waits over, but for a pass that waits for the project's next listing: its wait goes on.
    let effects_awaited = effects.awaited();
    let requeue = if requeue == ctx.poll {
        ctx.settle_wait(&key, effects_awaited)
    } else if !problem && effects_awaited.is_some() && requeue < ctx.resync {
        requeue
    } else {
        ctx.reset_waits(&key);
        if requeue == ctx.resync {
            spread(ctx.resync, crate::naming::stable_hash(&format!("{key}{now}")))
        } else {
            requeue
        }
    };
    let generation = p.metadata.generation;
    let mut after = before.clone();
    status::apply(&mut after, &effects, generation, &now);
    status::summarize(&mut after, effects.stalled, generation, &now);
    after.observed_generation = generation;
    let mut notes = effects.events;
    notes.extend(status::transitions(&before, &after, problem));
    if after != before {
        write_status(p, ctx, &after).await?;
    }
    publish(p, ctx, "Reconcile", notes).await;
    tracing::debug!(?requeue, awaited = ?effects_awaited, "pass done");
    Ok(Action::requeue(requeue))
}

/// The pass: each stage's effects are added as it returns, so a later stage's error keeps what
/// the earlier ones found.
async fn progress<B: Backend>(
    p: &RedshiftDataProduct,
    ctx: &Context<B>,
    status: &RedshiftDataProductStatus,
    now: &str,
    effects: &mut Effects,
) -> Result<Duration, Blocked> {
    let key = uid(p);
    let connected = target::connect(ctx, p, status).await?;
    effects.extend(connected.effects());
    let t = Target::new(ctx, p, connected).await?;
    // Forms DataZone would refuse are named before they go into the data source.
    let problems = business::form_problems(&business::Declared::of(&p.spec));
    if !problems.is_empty() {
        return Err(Blocked::terminal(Phase::MetadataApplied, "InvalidMetadataForm", problems.join("; ")));
    }
    // A run of ours in progress: it is all there is to look at until it ends, and when it has
    // ended its outcome is all this pass needs (the data source was checked when the run
    // started, and is read again at the next resync).
    if let Some(done) = runs::follow(ctx, &t, status, &key, now).await? {
        effects.extend(done.effects);
        return when_published(ctx, &t, p, status, effects, done.requeue, now).await;
    }
    if let Some(done) = observe::awaiting_listing(ctx, &t, status, &key) {
        effects.extend(done.effects);
        return Ok(done.requeue);
    }
    if observe::resync_held_back(ctx, &t, p, status, &key) {
        return Ok(ctx.resync);
    }
    let seen = observe::observe(ctx, &t, status, &key).await?;
    effects.extend(seen.effects);
    let requested_at = p.annotations().get(RECONCILE_REQUESTED_AT).map(String::as_str);
    let step = plan(&t.config, &t.run_hash, &seen.observed, &runs::run_state(status, requested_at));
    tracing::debug!(?step, "planned");
    let here = Where { generation: t.generation, account: &t.account, region: &t.region, ds_name: &t.ds_name };
    effects.extend(phases_behind(&here, &seen.observed, &step));
    let who = Subject { uid: &key, generation: p.metadata.generation, status, requested_at, now };
    let done = act::act(ctx, &t, &who, step).await?;
    effects.extend(done.effects);
    when_published(ctx, &t, p, status, effects, done.requeue, now).await
}

/// A pass that found the data product Published goes on to its business metadata
/// ([`describe`]) and its DataZone data products ([`products`]), with status as the pass has it
/// so far (a run may just have ended).
async fn when_published<B: Backend>(
    ctx: &Context<B>,
    t: &Target<B>,
    p: &RedshiftDataProduct,
    status: &RedshiftDataProductStatus,
    effects: &mut Effects,
    requeue: Duration,
    now: &str,
) -> Result<Duration, Blocked> {
    let published = effects.conditions.iter().rev().find(|c| c.phase == Phase::Published).is_some_and(|c| c.ok);
    if !published {
        return Ok(requeue);
    }
    let mut so_far = status.clone();
    status::apply(&mut so_far, effects, p.metadata.generation, now);
    let described = describe::describe(ctx, t, p, &so_far).await;
    let done = described.done;
    effects.extend(done.effects);
    if let Some(stopped) = described.error {
        return Err(stopped);
    }
    // Work left over comes back sooner than a resync.
    let requeue = if done.requeue < ctx.resync { done.requeue.min(requeue) } else { requeue };
    let listed = products::list(ctx, t, p, &so_far).await;
    let done = listed.done;
    // The access policy answers for the data products as this stage left them.
    status::apply(&mut so_far, &done.effects, p.metadata.generation, now);
    effects.extend(done.effects);
    if let Some(stopped) = listed.error {
        return Err(stopped);
    }
    let requeue = if done.requeue < ctx.resync { done.requeue.min(requeue) } else { requeue };
    let answered = access::answer(ctx, t, p, &so_far).await;
    let done = answered.done;
    effects.extend(done.effects);
    if let Some(stopped) = answered.error {
        return Err(stopped);
    }
    Ok(if done.requeue < ctx.resync { done.requeue.min(requeue) } else { requeue })
}

/// What the phase messages name.
struct Where<'a> {
    generation: Generation,
    account: &'a str,
    region: &'a str,
    ds_name: &'a str,
}

/// The phases of the domain's generation before the one the step works on are True. Pure.
fn phases_behind(t: &Where<'_>, observed: &crate::controller::decide::plan::Observed, step: &Step) -> Effects {
    let mut e = Effects::default();
    let (environment, connection) = match &observed.upstream {
        Upstream::KnownFromStatus { binding: Binding::Environment(env) } => (Some(env.as_str()), None),
        Upstream::KnownFromStatus { binding: Binding::Connection(c) } => (None, Some((c.as_str(), None))),
        Upstream::Looked(shared) => (shared.environment.as_ref().map(|env| env.id.as_str()), None),
        Upstream::ThroughConnection(objects) => {
            (None, objects.connection.as_ref().map(|c| (c.id.as_str(), Some(objects))))
        }
    };
    let behind = Phase::of(t.generation).iter().filter(|p| **p > Phase::ConnectionResolved && **p < step.phase());
    for phase in behind {
        match phase {
            Phase::BlueprintEnabled => {
                let message = format!("DefaultDataWarehouse is enabled for account {} in {}", t.account, t.region);
                e.ok(Phase::BlueprintEnabled, "Enabled", message);
            }
            Phase::EnvironmentReady => {
                if let Some(env) = environment {
                    e.ok(Phase::EnvironmentReady, "Active", format!("environment {env} is ACTIVE"));
                }
            }
            Phase::ConnectionReady => match connection {
                // Lineage the data products of the connection disagree on is left as it is;
                // each of them is told (publishing goes on).
                Some((c, Some(objects))) if !objects.others.lineage.is_empty() => {
                    let message = format!(
                        "Redshift connection {c} is READY; its lineage is left as it is: {} ask for other lineage settings than this data product",
                        objects.others.lineage.join(", ")
                    );
                    e.ok(Phase::ConnectionReady, "LineageConflict", message);
                }
                Some((c, Some(_))) => {
                    e.ok(Phase::ConnectionReady, "Ready", format!("Redshift connection {c} is READY"));
                }
                Some((c, None)) => {
                    let message = format!("the data source is made through Redshift connection {c}");
                    e.ok(Phase::ConnectionReady, "Ready", message);
                }
                None => {}
            },
            Phase::DataSourceReady => {
                if let Some(ds) = &observed.data_source {
                    let message = format!("data source {} ({}) matches the spec", ds.id, t.ds_name);
                    e.ok(Phase::DataSourceReady, "Ready", message);
                }
            }
            Phase::ConnectionResolved
            | Phase::Published
            | Phase::MetadataApplied
            | Phase::ProductListed
            | Phase::AccessApplied => {}
        }
    }
    e
}

async fn clean_up<B: Backend>(p: &RedshiftDataProduct, ctx: &Context<B>) -> Result<Action, ReconcileError> {
    let cleaned = cleanup::cleanup(ctx, p).await;
    for n in &cleaned.notes {
        tracing::info!(reason = n.reason, note = n.message, "cleanup");
    }
    publish(p, ctx, "Delete", cleaned.notes).await;
    // Retiring, and subscribers remain: status says whom it waits for, and it looks again a
    // resync later (a person must act: a subscriber leaves, or the spec says to revoke).
    // The finalizer stays only on an error (`error_policy` brings it back a resync later).
    if let Some(waiting) = &cleaned.waiting {
        let mut status = p.status.clone().unwrap_or_default();
        let now = conditions::now_rfc3339();
        conditions::set_ready(&mut status.conditions, false, true, "Subscribed", waiting, p.metadata.generation, &now);
        // Deleting moved the generation: this is the status of the one being deleted.
        status.observed_generation = p.metadata.generation;
        if p.status.as_ref() != Some(&status) {
            write_status(p, ctx, &status).await?;
        }
    }
    cleaned.result.map_err(ReconcileError::Cleanup)?;
    // Nothing of this data product stays in memory.
    let key = uid(p);
    for unused in ctx.sessions.left(&key) {
        ctx.backend.drop_session(&unused);
    }
    ctx.flights.landed(&key);
    ctx.wakeups.forget(&key);
    ctx.recovery.forget(&ConnectionId::from(&p.spec.connection_ref), &key);
    ctx.shared.claims.forget(&key);
    ctx.full_reads.forget(&key);
    ctx.held_resyncs.forget(&key);
    if let Some(ds) = p.status.as_ref().and_then(|s| s.data_source_id.as_deref()) {
        ctx.shared.run_starts.forget(ds);
    }
    ctx.shared.owners.forget(&key);
    ctx.shared.users.left(&key);
    ctx.reset_backoff(&key);
    ctx.reset_waits(&key);
    Ok(Action::await_change())
}

async fn write_status<B: Backend>(
    p: &RedshiftDataProduct,
    ctx: &Context<B>,
    status: &RedshiftDataProductStatus,
) -> Result<(), kube::Error> {
    let api: Api<RedshiftDataProduct> = Api::namespaced(ctx.client.clone(), &p.namespace().unwrap_or_default());
    let patch = json!({"apiVersion": crate::crd::API_VERSION, "kind": "RedshiftDataProduct", "status": status});
    api.patch_status(&p.name_any(), &PatchParams::apply(MANAGER).force(), &Patch::Apply(&patch)).await?;
    Ok(())
}

/// Publishes Events on the data product; a failure to publish is logged, never fatal.
async fn publish<B: Backend>(p: &RedshiftDataProduct, ctx: &Context<B>, action: &str, notes: Vec<Note>) {
    if action == "Reconcile" {
        for n in &notes {
            tracing::info!(
                namespace = p.namespace(),
                name = p.name_any(),
                reason = n.reason,
                note = n.message,
                "event"
            );
        }
    }
    ctx.publish_notes(&p.object_ref(&()), action, notes).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::decide::plan::{ConnectionObjects, Enablement, Observed, SharedObjects};
    use crate::controller::fleet::claims::{Ask, Disagreement};
    use crate::datazone::{ConnectionInfo, EnvironmentInfo, EnvironmentStatus};

    fn here(generation: Generation) -> Where<'static> {
        Where { generation, account: "222222222222", region: "eu-central-1", ds_name: "prod-eks-team-orders" }
    }

    /// (condition type, reason) of each True phase.
    fn shown(e: &Effects) -> Vec<(&'static str, String)> {
        e.conditions.iter().filter(|c| c.ok).map(|c| (c.phase.condition(), c.reason.clone())).collect()
    }

    fn observed(upstream: Upstream) -> Observed {
        Observed { upstream, data_source: None, config_unchanged: false, adopt: false }
    }

    #[test]
    fn the_phases_before_a_step_are_true_for_the_domain_s_generation() {
        let env = EnvironmentInfo { id: "env1".into(), status: EnvironmentStatus::Active, failure: None };
        let v1 = observed(Upstream::Looked(SharedObjects {
            blueprint: "bp".into(),
            enablement: Enablement::Enabled,
            profile: Some("p".into()),
            environment: Some(env),
        }));
        let connection = |others: Disagreement| {
            observed(Upstream::ThroughConnection(ConnectionObjects {
                environment: None,
                connection: Some(ConnectionInfo {
                    id: "c1".into(),
                    name: "redshift-x".into(),
                    description: None,
                    status: Some("READY".into()),
                    secret_arn: Some("s".into()),
                    lineage: None,
                }),
                ask: Ask { secret: "s".into(), lineage: None },
                others,
            }))
        };
        let create = Step::CreateDataSource { binding: Binding::Environment("env1".into()) };
        let run = Step::WaitRun { run: "r".into() };
        let cases = [
            (Generation::V1, &v1, &create, vec![("BlueprintEnabled", "Enabled"), ("EnvironmentReady", "Active")]),
            (
                Generation::V1,
                &v1,
                &Step::CreateProfile { blueprint: "bp".into() },
                vec![("BlueprintEnabled", "Enabled")],
            ),
            (Generation::V2, &connection(Disagreement::default()), &create, vec![("ConnectionReady", "Ready")]),
            (
                Generation::V2,
                &connection(Disagreement { secret: vec![], lineage: vec!["team/b".into()] }),
                &run,
                vec![("ConnectionReady", "LineageConflict")],
            ),
            (Generation::V2, &connection(Disagreement::default()), &Step::NoProjectEnvironment, vec![]),
        ];
        for (generation, obs, step, want) in cases {
            let got = shown(&phases_behind(&here(generation), obs, step));
            let want: Vec<(&str, String)> = want.into_iter().map(|(c, r)| (c, r.to_string())).collect();
            assert_eq!(got, want, "{generation:?} {step:?}");
        }
        // Adopted with a connection of its own: named, not looked at.
        let adopted = observed(Upstream::KnownFromStatus { binding: Binding::Connection("c9".into()) });
        let e = phases_behind(&here(Generation::V2), &adopted, &run);
        assert_eq!(e.conditions[0].message, "the data source is made through Redshift connection c9");
    }
}
