//! Deletion: with `Delete`, the DataZone data products go, then the data source (if it is ours,
//! [`super::removal`]); with `Retire`, the same and the assets, respecting subscribers
//! ([`super::retirement`]); with `Retain`, DataZone is left as it is, but for an adopted data
//! source, which gets its description back (without the operator's mark). Idempotent (already gone is success). The orchestrator publishes the Events and
//! takes the finalizer off in the end: after 10 minutes of failing to delete, the data source is
//! left behind with a Warning Event.

use std::time::Duration;

use super::removal::{PHASE, delete_data_source, delete_products, note, project_client};
use super::retirement::{self, Retired};
use crate::controller::context::Context;
use crate::controller::decide::desired;
use crate::controller::decide::pass::{Blocked, Note, Phase};
use crate::crd::{DeletionPolicy, RedshiftDataProduct};
use crate::datazone::{Backend, DataZone};

/// The reason of a retirement that waits for subscribers.
pub const SUBSCRIBED: &str = "Subscribed";

/// How long a Delete-policy cleanup keeps trying before it lets the object go.
pub const CLEANUP_PATIENCE: Duration = Duration::from_secs(600);

/// What a cleanup pass did: its Events, and whether the finalizer may come off.
pub struct Cleaned {
    pub notes: Vec<Note>,
    /// `Err`: try again (the finalizer stays).
    pub result: Result<(), Blocked>,
    /// `deletionPolicy: Retire` waits for these subscribers (the finalizer stays, however long:
    /// the resource says so; status says whom it waits for).
    pub waiting: Option<String>,
}

pub async fn cleanup<B: Backend>(ctx: &Context<B>, p: &RedshiftDataProduct) -> Cleaned {
    let adopted = p.status.as_ref().and_then(|s| s.adopted_description.clone());
    let mut notes = Vec::new();
    let outcome = match (p.spec.deletion_policy, adopted) {
        (DeletionPolicy::Retain, None) => {
            let message = "deletionPolicy Retain: the DataZone data source, its assets and its data products stay";
            return Cleaned { notes: vec![note(false, "Retained", message)], result: Ok(()), waiting: None };
        }
        // Adopted: it goes back as it was found, but for the spec it was brought to.
        (DeletionPolicy::Retain, Some(description)) => release(ctx, p, &description).await.map(|released| match released {
            Some(id) => note(
                false,
                "DataSourceReleased",
                format!("deletionPolicy Retain: released adopted data source {id} (its description as it was, without the operator's mark); it and its assets stay"),
            ),
            None => note(false, "DataSourceGone", "no data source of ours to release"),
        }),
        (DeletionPolicy::Retire, _) => match retirement::retire(ctx, p, &mut notes).await {
            Ok(Retired::Done(done)) => Ok(done),
            // Subscribers remain: the finalizer holds, whatever the patience for errors.
            Ok(Retired::Waiting(message)) => {
                let why = Blocked::retryable(Phase::Published, SUBSCRIBED, message.clone());
                return Cleaned { notes, result: Err(why), waiting: Some(message) };
            }
            Err(e) => Err(e),
        },
        (DeletionPolicy::Delete, _) => match delete_products(ctx, p).await {
            Ok(deleted) => {
                notes.extend(deleted);
                delete_data_source(ctx, p).await
            }
            Err(e) => Err(e),
        }
        .map(|deleted| match deleted {
            Some(id) => note(
                false,
                "DataSourceDeleted",
                format!("deleted data source {id}; its published assets stay in the catalog"),
            ),
            None => note(false, "DataSourceGone", "no data source of ours to delete"),
        }),
    };
    let outcome = match outcome {
        Ok(done) => done,
        Err(why) => {
            let age = p
                .metadata
                .deletion_timestamp
                .as_ref()
                .map(|t| jiff::Timestamp::now().duration_since(t.0).as_secs())
                .unwrap_or(0);
            if age < CLEANUP_PATIENCE.as_secs() as i64 {
                notes.push(note(true, "DeleteFailed", why.message.clone()));
                return Cleaned { notes, result: Err(why), waiting: None };
            }
            let message = format!("gave up after {age}s: {}; see to the data source by hand", why.message);
            note(true, "DataSourceLeftBehind", message)
        }
    };
    notes.push(outcome);
    Cleaned { notes, result: Ok(()), waiting: None }
}

/// Gives an adopted data source its `description` back (the operator's mark goes), if it is
/// still this data product's; `None` when it is gone.
async fn release<B: Backend>(
    ctx: &Context<B>,
    p: &RedshiftDataProduct,
    description: &str,
) -> Result<Option<String>, Blocked> {
    let Some(id) = p.status.as_ref().and_then(|s| s.data_source_id.clone()) else { return Ok(None) };
    let (dz, domain) = project_client(ctx, p).await?;
    let blocked = |e| Blocked::dz(PHASE, e);
    let uid = crate::controller::decide::pass::uid(p);
    match dz.get_data_source(&domain, &id).await.map_err(blocked)? {
        Some(ds)
            if ds
                .description
                .as_deref()
                .is_some_and(|d| desired::is_ours(Some(d)) && d.contains(&desired::uid_mark(&uid))) =>
        {
            dz.update_data_source(&domain, &id, None, Some(description)).await.map_err(blocked)?;
            Ok(Some(id))
        }
        // Someone else's since, or gone: nothing of ours to give back.
        _ => Ok(None),
    }
}
