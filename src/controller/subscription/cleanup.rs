//! Deleting a DataZoneSubscription: under `deletionPolicy: Cancel` (the default) the consumer
//! unsubscribes (an approved subscription is cancelled, a pending request withdrawn); under
//! `Keep` DataZone is left as it is. Idempotent: what already ended or is gone is success. A
//! connection that cannot be reached keeps the finalizer for at most ten minutes, then the
//! object goes with a Warning Event saying what was left.

use std::time::Duration;

use kube::ResourceExt;

use super::follow::{LetGo, let_go};
use crate::controller::connection::resolve::{ref_session, resolve, settings_of};
use crate::controller::context::Context;
use crate::controller::decide::pass::{Blocked, Note};
use crate::crd::{DataZoneSubscription, SubscriptionDeletionPolicy};
use crate::datazone::Backend;

/// How long a cleanup keeps trying before it lets the object go.
pub const PATIENCE: Duration = Duration::from_secs(600);

pub struct Cleaned {
    pub notes: Vec<Note>,
    /// `Err`: try again (the finalizer stays).
    pub result: Result<(), Blocked>,
}

fn note(warning: bool, reason: &str, message: impl Into<String>) -> Note {
    Note { warning, reason: reason.into(), message: message.into() }
}

pub async fn cleanup<B: Backend>(ctx: &Context<B>, s: &DataZoneSubscription) -> Cleaned {
    let status = s.status.clone().unwrap_or_default();
    let request = status.request.as_ref().map(|r| r.id.clone()).filter(|id| !id.is_empty());
    let (Some(request), Some(domain)) = (request, status.domain_id.clone()) else {
        return Cleaned {
            notes: vec![note(false, "NothingFiled", "no request was filed: nothing to cancel")],
            result: Ok(()),
        };
    };
    if s.spec.deletion_policy == SubscriptionDeletionPolicy::Keep {
        let message = format!("deletionPolicy Keep: request {request} and its subscription stay in DataZone");
        return Cleaned { notes: vec![note(false, "Kept", message)], result: Ok(()) };
    }
    match cancel(ctx, s, &domain, &request).await {
        Ok(done) => {
            let (reason, message) = match done {
                LetGo::Cancelled(id) => ("SubscriptionCancelled", format!("cancelled subscription {id}")),
                LetGo::Withdrawn => ("RequestWithdrawn", format!("withdrew pending request {request}")),
                LetGo::Nothing => ("NothingToCancel", format!("request {request} had nothing live to cancel")),
            };
            Cleaned { notes: vec![note(false, reason, message)], result: Ok(()) }
        }
        Err(why) => {
            let age = s
                .metadata
                .deletion_timestamp
                .as_ref()
                .map(|t| jiff::Timestamp::now().duration_since(t.0).as_secs())
                .unwrap_or(0);
            if age >= PATIENCE.as_secs() as i64 {
                let message = format!(
                    "gave up cancelling request {request} after {} min ({}): it and its subscription are left in DataZone",
                    PATIENCE.as_secs() / 60,
                    why.message
                );
                return Cleaned { notes: vec![note(true, "CancelAbandoned", message)], result: Ok(()) };
            }
            Cleaned { notes: vec![note(true, "CancelFailed", why.message.clone())], result: Err(why) }
        }
    }
}

async fn cancel<B: Backend>(
    ctx: &Context<B>,
    s: &DataZoneSubscription,
    domain: &str,
    request: &str,
) -> Result<LetGo, Blocked> {
    let namespace = s.namespace().unwrap_or_default();
    let settings = settings_of(&ctx.watched, &namespace, &s.spec.connection_ref)?;
    let session = ref_session(&settings, &namespace, &s.spec.connection_ref);
    resolve(ctx, settings, &session).await?;
    let dz = ctx.backend.project(&session);
    let_go(&dz, domain, request).await
}
