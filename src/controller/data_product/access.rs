//! The AccessApplied stage, once the data product is Published: the subscription requests to the
//! resource's listings (its assets' own and its DataZone data products') are answered by its
//! access policy (`spec.access`, the rule decided in [`crate::controller::decide::access`]), and
//! status counts its subscribers. One view of the project's PENDING requests and APPROVED
//! subscriptions serves all its data products for half a resync (not a call per data product);
//! a request is decided once: what this process decided is remembered until the next view (which
//! no longer shows it PENDING), and one decided elsewhere meanwhile answers ConflictException,
//! taken as done. Accepting is paced under DataZone's 3 a second per account
//! (docs/datazone-semantics.md §15).

use std::collections::BTreeSet;
use std::sync::Arc;

use kube::runtime::events::EventType;
use kube::runtime::reflector::ObjectRef;

use super::target::Target;
use crate::controller::connection::approvals;
use crate::controller::context::Context;
use crate::controller::decide::access::{self, Requester, Verdict};
use crate::controller::decide::pass::{Blocked, Done, Effects, Phase, Record};
use crate::controller::fleet::access_views::AccessView;
use crate::controller::fleet::keys::ProjectKey;
use crate::crd::{AccessDecision, AccessStatus, RedshiftDataProduct, RedshiftDataProductStatus};
use crate::datazone::{Backend, DzError, Subscriptions};

const PHASE: Phase = Phase::AccessApplied;

const NOT_DECLARED: &str = "spec.access is not set: every subscription request waits for a person";

/// How many subscribing projects status names.
const PROJECTS_SHOWN: usize = 5;

/// The stage's outcome, as [`super::products::Listed`].
pub struct Answered {
    pub done: Done,
    pub error: Option<Blocked>,
}

/// The stage, on a pass that found the data product Published (`status` as the pass leaves it).
pub async fn answer<B: Backend>(
    ctx: &Context<B>,
    t: &Target<B>,
    p: &RedshiftDataProduct,
    status: &RedshiftDataProductStatus,
) -> Answered {
    let mut effects = Effects::default();
    let key = crate::controller::decide::pass::uid(p);
    let Some(policy) = &p.spec.access else {
        ctx.shared.owners.forget(&key);
        effects.ok(PHASE, "NotDeclared", NOT_DECLARED);
        if status.access.is_some() {
            effects.record(Record::Access(None));
        }
        return Answered { done: Done::new(effects, ctx.resync), error: None };
    };
    let labels = ctx.watched.namespace_labels(&t.namespace);
    if let Err(why) = approvals::allowed(&t.auto_approval, labels.as_ref(), policy) {
        let c = &p.spec.connection_ref;
        let message =
            format!("{} {}: {why}; nothing is decided, every request waits for a person", c.kind.as_str(), c.name);
        let error = Blocked::terminal(PHASE, "ApprovalNotAllowed", message);
        return Answered { done: Done::new(effects, ctx.resync), error: Some(error) };
    }
    let ours = status.listed_ids();
    let project = ProjectKey { domain: t.domain.clone(), project: t.project.clone() };
    let owner = (key.clone(), ObjectRef::new(&t.name).within(&t.namespace));
    ctx.shared.owners.register(&project, &owner, ours.iter().copied());
    let view = match view(ctx, t, &key).await {
        Ok(view) => view,
        Err(e) => return Answered { done: Done::new(effects, ctx.resync), error: Some(Blocked::dz(PHASE, e)) },
    };
    let mine = |entity: &Option<String>| entity.as_deref().is_some_and(|e| ours.contains(e));
    let before = status.access.clone().unwrap_or_default();
    let mut access = AccessStatus { approved: before.approved, rejected: before.rejected, ..Default::default() };
    let mut error = None;
    for request in view.requests.iter().filter(|r| mine(&r.entity_id) && !view.decided(&r.id)) {
        let requester = Requester { id: &request.project_id, name: request.project_name.as_deref() };
        let Verdict::Decided(rule) = access::decide(policy, &requester) else {
            access.waiting += 1;
            access.waiting_since = older(access.waiting_since.take(), request.created_at.as_deref());
            continue;
        };
        let comment = access::comment(rule, &t.namespace, &t.name);
        let decided = match rule.decision {
            AccessDecision::Approve => {
                ctx.shared.accepts.wait(&t.account).await;
                t.dz.accept_request(&t.domain, &request.id, &comment).await
            }
            AccessDecision::Reject => t.dz.reject_request(&t.domain, &request.id, &comment).await,
        };
        match decided {
            Ok(()) => {
                let project = request.project_name.as_deref().unwrap_or(&request.project_id);
                let (counter, reason, verb) = match rule.decision {
                    AccessDecision::Approve => (&mut access.approved, "SubscriptionApproved", "approved"),
                    AccessDecision::Reject => (&mut access.rejected, "SubscriptionRejected", "rejected"),
                };
                *counter += 1;
                ctx.metrics.subscription_decisions.with_label_values(&[verb]).inc();
                let message = format!("project {project}'s request {} {verb} by access rule {}", request.id, rule.name);
                effects.event(EventType::Normal, reason, message);
            }
            // Decided by someone else since the view was taken: no longer ours to decide.
            Err(e) if e.code == "ConflictException" => {}
            Err(e) => {
                error = Some(Blocked::dz(PHASE, e));
                break;
            }
        }
        view.decide(&request.id);
    }
    let subscribed: BTreeSet<&str> = view
        .subscriptions
        .iter()
        .filter(|s| mine(&s.entity_id))
        .map(|s| s.project_name.as_deref().unwrap_or(&s.project_id))
        .collect();
    access.subscribers = subscribed.len() as u32;
    access.subscribing_projects = subscribed.iter().take(PROJECTS_SHOWN).map(|s| s.to_string()).collect();
    if status.access.as_ref() != Some(&access) {
        effects.record(Record::Access(Some(access.clone())));
    }
    let rules = policy.rules.len();
    let message = format!(
        "{rules} access rule{}: {} subscribing project{}, {} request{} waiting for a person",
        if rules == 1 { "" } else { "s" },
        access.subscribers,
        if access.subscribers == 1 { "" } else { "s" },
        access.waiting,
        if access.waiting == 1 { "" } else { "s" },
    );
    if error.is_none() {
        effects.ok(PHASE, "Applied", message);
    }
    Answered { done: Done::new(effects, ctx.resync), error }
}

/// The older of two RFC 3339 times (either may be missing or unreadable: the other stands).
fn older(held: Option<String>, filed: Option<&str>) -> Option<String> {
    let at = |t: &str| t.parse::<jiff::Timestamp>().ok();
    match (held, filed) {
        (Some(h), Some(f)) if at(f).is_some_and(|f| at(&h).is_none_or(|h| f < h)) => Some(f.to_string()),
        (None, Some(f)) => Some(f.to_string()),
        (held, _) => held,
    }
}

/// The project's PENDING requests and APPROVED subscriptions, at most half a resync old: one view
/// for all its data products with a policy. A new view wakes the owners of what it shows requested
/// (`reader` sees for itself), so a request is answered within about half a resync.
async fn view<B: Backend>(ctx: &Context<B>, t: &Target<B>, reader: &str) -> Result<Arc<AccessView>, DzError> {
    let key = ProjectKey { domain: t.domain.clone(), project: t.project.clone() };
    let found = ctx
        .shared
        .access_views
        .get_or_find(key.clone(), ctx.resync / 2, || async {
            let requests = t.dz.pending_requests(&t.domain, &t.project).await?;
            let subscriptions = t.dz.subscriptions(&t.domain, &t.project).await?;
            let requested = requests.iter().filter_map(|r| r.entity_id.as_deref());
            ctx.wakeups.wake_each(ctx.shared.owners.of(&key, requested), reader);
            Ok::<_, DzError>(Some(Arc::new(AccessView::new(requests, subscriptions))))
        })
        .await?;
    Ok(found.unwrap_or_else(|| Arc::new(AccessView::new(Vec::new(), Vec::new()))))
}

#[cfg(test)]
mod tests {
    use super::older;

    #[test]
    fn the_oldest_waiting_request_is_kept_whatever_the_order_and_precision() {
        let rows: [(Option<&str>, Option<&str>, Option<&str>); 6] = [
            (None, None, None),
            (None, Some("2026-12-02T00:00:00Z"), Some("2026-12-02T00:00:00Z")),
            (Some("2026-12-02T00:00:00Z"), None, Some("2026-12-02T00:00:00Z")),
            (Some("2026-12-02T00:00:00Z"), Some("2026-12-01T23:59:59.5Z"), Some("2026-12-01T23:59:59.5Z")),
            (Some("2026-12-01T23:59:59.5Z"), Some("2026-12-02T00:00:00Z"), Some("2026-12-01T23:59:59.5Z")),
            (Some("2026-12-02T00:00:00Z"), Some("not a time"), Some("2026-12-02T00:00:00Z")),
        ];
        for (held, filed, oldest) in rows {
            assert_eq!(older(held.map(str::to_string), filed).as_deref(), oldest, "{held:?} and {filed:?}");
        }
    }
}
