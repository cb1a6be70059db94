//! The DataZoneSubscription controller: the connection resolved as for every kind, the consuming
//! project found, then [`super::follow`] files or follows the one request and reads what it
//! became; [`crate::controller::decide::subscription`] says where it stands, and status, Events
//! and the next pass follow from that. A pending request or grants under way are looked at again
//! soon; a granted one at the resync; a rejected or revoked one waits for the spec (or the
//! `reconcile-requested-at` annotation) to change.

use std::sync::Arc;
use std::time::Duration;

use kube::api::{Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::finalizer::{self, Event as Finalizer};
use kube::{Api, Resource, ResourceExt};
use serde_json::json;
use tracing::Instrument;

use super::cleanup;
use super::follow::{self, Followed, PHASE};
use super::target::{self, Landing};
use crate::controller::connection::guardrails;
use crate::controller::connection::resolve::{ref_session, resolve, settings_of};
use crate::controller::context::{Context, settle_wait_for, spread};
use crate::controller::decide::pass::{Blocked, FINALIZER, MANAGER, Note, ReconcileError};
use crate::controller::decide::subscription::{self as decide, Standing, Verdict};
use crate::controller::fleet::cache::STABLE;
use crate::controller::fleet::keys::{Lookup, ProjectKey};
use crate::crd::conditions::{self, ConditionStatus, Observation};
use crate::crd::{DataZoneSubscription, DataZoneSubscriptionStatus, RequestStatus, SubscriptionStatus};
use crate::datazone::{Backend, Consumer, DataZone};

pub const KIND: &str = "DataZoneSubscription";

/// How long a request waiting for a person is looked at, its `n`-th look in a row: as anything
/// settling at first (a policy answers within moments), then a quarter of the resync (at least
/// 45 s): a person decides in minutes or days, and a thousand pending requests must not poll
/// DataZone every few seconds.
pub fn pending_wait(poll: Duration, resync: Duration, n: u32) -> Duration {
    if n <= 3 { settle_wait_for(poll, n) } else { (resync / 4).max(Duration::from_secs(45)).min(resync.max(poll)) }
}

/// How old the project's listing of pending requests may be for a subscription looking at its
/// own: a tenth of the resync, at least the poll interval (and at most the resync).
pub fn pending_view_age(poll: Duration, resync: Duration) -> Duration {
    (resync / 10).max(poll).min(resync)
}

/// How old the project's listing of approved subscriptions may be for a granted one at its
/// resync: half the resync (a revocation is seen within one and a half resyncs).
pub fn approved_view_age(resync: Duration) -> Duration {
    resync / 2
}

pub async fn reconcile<B: Backend>(
    s: Arc<DataZoneSubscription>,
    ctx: Arc<Context<B>>,
) -> Result<Action, ReconcileError> {
    let namespace = s.namespace().unwrap_or_default();
    let span = tracing::info_span!("reconcile", kind = KIND, namespace = %namespace, resource = %s.name_any());
    let started = tokio::time::Instant::now();
    let api: Api<DataZoneSubscription> = Api::namespaced(ctx.client.clone(), &namespace);
    let result = finalizer::finalizer(&api, FINALIZER, s, |event| async {
        match event {
            Finalizer::Apply(s) => apply(&s, &ctx).await,
            Finalizer::Cleanup(s) => clean_up(&s, &ctx).await,
        }
    })
    .instrument(span)
    .await
    .map_err(|e| ReconcileError::Finalizer(Box::new(e)));
    ctx.metrics.observe_reconcile(KIND, if result.is_ok() { "ok" } else { "error" }, started.elapsed());
    result
}

pub fn error_policy<B: Backend>(s: Arc<DataZoneSubscription>, error: &ReconcileError, ctx: Arc<Context<B>>) -> Action {
    let delay = ctx.backoff(&uid(&s));
    tracing::warn!(kind = KIND, namespace = s.namespace(), name = s.name_any(), %error, retry_in = ?delay, "reconcile failed");
    Action::requeue(delay)
}

fn uid(s: &DataZoneSubscription) -> String {
    s.metadata.uid.clone().unwrap_or_else(|| format!("{}/{}", s.namespace().unwrap_or_default(), s.name_any()))
}

async fn apply<B: Backend>(s: &DataZoneSubscription, ctx: &Context<B>) -> Result<Action, ReconcileError> {
    let key = uid(s);
    let before = s.status.clone().unwrap_or_default();
    let mut status = before.clone();
    let generation = s.metadata.generation;
    let now = conditions::now_rfc3339();
    let mut notes = Vec::new();
    let requeue = match bring(s, ctx, &key, &mut status, &mut notes).await {
        Ok(followed) => {
            ctx.reset_backoff(&key);
            let verdict = record(&mut status, &followed, s, &now);
            notes.extend(transitions(&before, &status, &verdict, &followed));
            conditions::set_ready(
                &mut status.conditions,
                verdict.ready,
                verdict.stalled,
                verdict.reason,
                &verdict.message,
                generation,
                &now,
            );
            // Waiting for something else (approved, now granting) starts its waits over.
            let was = conditions::find(&before.conditions, conditions::READY).map(|c| c.reason.as_str());
            if was != Some(verdict.reason) {
                ctx.reset_waits(&key);
            }
            if !verdict.moving {
                ctx.reset_waits(&key);
                spread(ctx.resync, crate::naming::stable_hash(&key))
            } else if matches!(decide::standing(followed.request.as_ref(), None, &[]), Standing::Pending) {
                pending_wait(ctx.poll, ctx.resync, ctx.waits.next(&key, None))
            } else {
                ctx.settle_wait(&key, None)
            }
        }
        Err(b) => {
            let stalled = b.is_terminal();
            tracing::warn!(reason = %b.reason, detail = %b.message, stalled, "subscription not ready");
            conditions::set_ready(&mut status.conditions, false, stalled, &b.reason, &b.message, generation, &now);
            if b.reason == target::PREPARING {
                ctx.settle_wait(&key, None)
            } else if b.reason == "NotFound" || stalled {
                // Published later, or fixed by a person: looked for again at the resync.
                ctx.reset_backoff(&key);
                spread(ctx.resync, crate::naming::stable_hash(&key))
            } else {
                ctx.backoff(&key)
            }
        }
    };
    status.observed_generation = generation;
    if status != before {
        write_status(s, ctx, &status).await?;
    }
    publish(s, ctx, "Reconcile", notes).await;
    Ok(Action::requeue(requeue))
}

/// Resolves the connection and the consuming project, then files or follows the request.
async fn bring<B: Backend>(
    s: &DataZoneSubscription,
    ctx: &Context<B>,
    uid: &str,
    status: &mut DataZoneSubscriptionStatus,
    notes: &mut Vec<Note>,
) -> Result<Followed, Blocked> {
    let namespace = s.namespace().unwrap_or_default();
    let settings = settings_of(&ctx.watched, &namespace, &s.spec.connection_ref)?;
    let asked = guardrails::Asked { project: &s.spec.project, ..guardrails::Asked::default() };
    let labels = ctx.watched.namespace_labels(&namespace);
    guardrails::check(&settings.allowed, labels.as_ref(), &asked, &s.spec.connection_ref, &namespace)?;
    let session = ref_session(&settings, &namespace, &s.spec.connection_ref);
    let resolved = resolve(ctx, settings, &session).await?;
    let domain = resolved.domain_id.clone();
    let dz = ctx.backend.project(&session);
    let lookup = Lookup::Project { domain: domain.clone(), project: s.spec.project.clone() };
    let project = ctx
        .shared
        .ids
        .get_or_find(lookup, STABLE, || dz.find_project(&domain, &s.spec.project))
        .await
        .map_err(|e| Blocked::dz(PHASE, e))?
        .ok_or_else(|| {
            let message = format!(
                "no DataZone project {} in domain {domain} visible to {}",
                s.spec.project, resolved.assumed_role_arn
            );
            Blocked::terminal(PHASE, "ProjectNotFound", message)
        })?;
    status.domain_id = Some(domain.clone());
    status.project_id = Some(project.clone());
    if let Some(r) = &s.spec.redshift {
        let region = resolved.settings.region.clone();
        match target::land(ctx, &dz, resolved.generation, &domain, &project, &region, r, notes).await? {
            Landing::Ready { environment } => status.environment_id = Some(environment),
            Landing::Preparing { environment, message } => {
                status.environment_id = environment;
                return Err(Blocked::retryable(PHASE, target::PREPARING, message));
            }
        }
    }
    let (listing, what) = follow::find_listing(&dz, &ctx.shared.ids, &domain, s).await?;
    // A request known to be pending is looked for in the project's one listing of pending ones.
    let waiting = status.request.as_ref().is_some_and(|r| r.state == "PENDING");
    let pending = if waiting {
        let key = ProjectKey { domain: domain.clone(), project: project.clone() };
        let find = || async {
            let ids = dz.pending_requests_of(&domain, &project).await?;
            Ok(Some(Arc::new(ids.into_iter().collect())))
        };
        let age = pending_view_age(ctx.poll, ctx.resync);
        ctx.shared.pending_requests.get_or_find(key, age, find).await.map_err(|e| Blocked::dz(PHASE, e))?
    } else {
        None
    };
    // A granted one is looked for in the project's one listing of approved subscriptions.
    let granted = status.subscription.as_ref().is_some_and(|x| x.state == "APPROVED") && follow::granted(status);
    let approved = if granted {
        let key = ProjectKey { domain: domain.clone(), project: project.clone() };
        let find = || async {
            let ids = dz.approved_subscriptions_of(&domain, &project).await?;
            Ok(Some(Arc::new(ids.into_iter().collect())))
        };
        let age = approved_view_age(ctx.resync);
        ctx.shared.approved_subscriptions.get_or_find(key, age, find).await.map_err(|e| Blocked::dz(PHASE, e))?
    } else {
        None
    };
    follow::follow(&dz, &domain, &project, uid, s, status, listing, what, pending.as_deref(), approved.as_deref()).await
}

/// What the pass found, into status; where it stands.
fn record(status: &mut DataZoneSubscriptionStatus, f: &Followed, s: &DataZoneSubscription, now: &str) -> Verdict {
    status.wanted = Some(f.what.clone());
    status.listing_id = Some(f.listing_id.clone());
    if f.filed {
        status.last_handled_reconcile_at =
            s.metadata.annotations.as_ref().and_then(|a| a.get(crate::crd::RECONCILE_REQUESTED_AT)).cloned();
        status.subscription = None;
    }
    let known = status.request.as_ref().map(|r| r.id.clone()).unwrap_or_default();
    status.request = Some(match &f.request {
        Some(r) => RequestStatus {
            id: r.id.clone(),
            state: r.status.clone(),
            decision_comment: r.decision_comment.clone(),
            spec_hash: if f.filed {
                f.spec_hash.clone()
            } else {
                status.request.as_ref().map(|k| k.spec_hash.clone()).unwrap_or_default()
            },
        },
        // Gone while followed: withdrawn or deleted outside the operator.
        None => RequestStatus {
            id: known.clone(),
            state: "WITHDRAWN".into(),
            decision_comment: None,
            spec_hash: status.request.as_ref().map(|k| k.spec_hash.clone()).unwrap_or_default(),
        },
    });
    if let Some(sub) = &f.subscription {
        status.subscription = Some(SubscriptionStatus { id: sub.id.clone(), state: sub.status.clone() });
    }
    status.grants = decide::grant_statuses(&f.grants);
    status.grant_summary = decide::grant_summary(&f.grants);
    let standing = decide::standing(f.request.as_ref(), f.subscription.as_ref(), &f.grants);
    let request = f.request.as_ref().map(|r| r.id.as_str()).unwrap_or(known.as_str());
    let verdict = decide::verdict(&standing, request, &f.what, &s.spec.project);
    let generation = s.metadata.generation;
    // Conditions of a later stage go when an earlier one changes (a new request: not yet approved).
    let said: Vec<&str> = verdict.conditions.iter().map(|c| c.type_).collect();
    status.conditions.retain(|c| {
        ![decide::REQUESTED, decide::APPROVED, decide::GRANTED].contains(&c.type_.as_str())
            || said.contains(&c.type_.as_str())
    });
    for c in &verdict.conditions {
        let state = if c.status { ConditionStatus::True } else { ConditionStatus::False };
        conditions::set_condition(
            &mut status.conditions,
            Observation::new(c.type_, state, c.reason, &c.message),
            generation,
            now,
        );
    }
    verdict
}

/// Events for what changed: filed, approved, granted, rejected, revoked, let go.
fn transitions(
    before: &DataZoneSubscriptionStatus,
    after: &DataZoneSubscriptionStatus,
    v: &Verdict,
    f: &Followed,
) -> Vec<Note> {
    let mut notes = Vec::new();
    let note = |warning, reason: &str, message: String| Note { warning, reason: reason.into(), message };
    if let Some(old) = &f.released {
        notes.push(note(
            false,
            "SubscriptionReleased",
            format!("the spec no longer wants what request {old} asked for: let go"),
        ));
    }
    if f.filed {
        let id = after.request.as_ref().map(|r| r.id.as_str()).unwrap_or_default();
        notes.push(note(false, "SubscriptionRequested", format!("filed request {id} for {}", f.what)));
    }
    let was = conditions::find(&before.conditions, conditions::READY).map(|c| (c.status, c.reason.clone()));
    let changed = was.as_ref().is_none_or(|(_, reason)| reason != v.reason);
    if changed {
        match v.reason {
            "Granted" => notes.push(note(false, "SubscriptionGranted", v.message.clone())),
            "Rejected" | "Revoked" | "Cancelled" | "Withdrawn" | "GrantFailed" => {
                notes.push(note(true, &format!("Subscription{}", v.reason), v.message.clone()))
            }
            _ => {}
        }
    }
    let approved = |s: &DataZoneSubscriptionStatus| s.request.as_ref().is_some_and(|r| r.state == "ACCEPTED");
    if approved(after) && !approved(before) {
        notes.push(note(false, "SubscriptionApproved", format!("the owner of {} accepted the request", f.what)));
    }
    notes
}

async fn clean_up<B: Backend>(s: &DataZoneSubscription, ctx: &Context<B>) -> Result<Action, ReconcileError> {
    let cleaned = cleanup::cleanup(ctx, s).await;
    publish(s, ctx, "Delete", cleaned.notes).await;
    cleaned.result.map_err(ReconcileError::Cleanup)?;
    let key = uid(s);
    ctx.reset_backoff(&key);
    ctx.reset_waits(&key);
    Ok(Action::await_change())
}

async fn write_status<B: Backend>(
    s: &DataZoneSubscription,
    ctx: &Context<B>,
    status: &DataZoneSubscriptionStatus,
) -> Result<(), ReconcileError> {
    let api: Api<DataZoneSubscription> = Api::namespaced(ctx.client.clone(), &s.namespace().unwrap_or_default());
    let patch = json!({"apiVersion": crate::crd::API_VERSION, "kind": KIND, "status": status});
    api.patch_status(&s.name_any(), &PatchParams::apply(MANAGER).force(), &Patch::Apply(&patch)).await?;
    Ok(())
}

async fn publish<B: Backend>(s: &DataZoneSubscription, ctx: &Context<B>, action: &str, notes: Vec<Note>) {
    for n in &notes {
        tracing::info!(reason = n.reason, note = n.message, "event");
    }
    ctx.publish_notes(&s.object_ref(&()), action, notes).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pending_request_is_looked_at_soon_then_at_a_quarter_of_the_resync() {
        let (poll, resync) = (Duration::from_secs(5), Duration::from_secs(600));
        let waits: Vec<u64> = (1..=6).map(|n| pending_wait(poll, resync, n).as_secs()).collect();
        assert_eq!(waits, [2, 15, 45, 150, 150, 150]);
        assert_eq!(pending_wait(poll, Duration::from_secs(60), 5), Duration::from_secs(45), "at least 45 s");
        assert_eq!(pending_wait(poll, Duration::from_secs(20), 5), Duration::from_secs(20), "never past the resync");
    }
}
