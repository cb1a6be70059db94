//! Deletion: with `Delete`, the data source goes (if it is ours); with `Retain`, DataZone is left
//! as it is. Idempotent (already gone is success). The orchestrator publishes the Events and
//! takes the finalizer off in the end: after 10 minutes of failing to delete, the data source is
//! left behind with a Warning Event.

use std::time::Duration;

use super::connection;
use super::context::Context;
use super::desired;
use super::pass::{Blocked, Note, Phase};
use crate::crd::{DeletionPolicy, RedshiftDataProduct};
use crate::datazone::{Backend, DataZone};

/// How long a Delete-policy cleanup keeps trying before it lets the object go.
pub const CLEANUP_PATIENCE: Duration = Duration::from_secs(600);

/// What a cleanup pass did: its Events, and whether the finalizer may come off.
pub struct Cleaned {
    pub notes: Vec<Note>,
    /// `Err`: try again (the finalizer stays).
    pub result: Result<(), Blocked>,
}

fn note(warning: bool, reason: &str, message: impl Into<String>) -> Note {
    Note { warning, reason: reason.into(), message: message.into() }
}

pub async fn cleanup<B: Backend>(ctx: &Context<B>, p: &RedshiftDataProduct) -> Cleaned {
    if p.spec.deletion_policy == DeletionPolicy::Retain {
        let message = "deletionPolicy Retain: the DataZone data source and its assets stay";
        return Cleaned { notes: vec![note(false, "Retained", message)], result: Ok(()) };
    }
    let outcome = match delete_data_source(ctx, p).await {
        Ok(Some(id)) => note(
            false,
            "DataSourceDeleted",
            format!("deleted data source {id}; its published assets stay in the catalog"),
        ),
        Ok(None) => note(false, "DataSourceGone", "no data source of ours to delete"),
        Err(why) => {
            let age = p
                .metadata
                .deletion_timestamp
                .as_ref()
                .map(|t| jiff::Timestamp::now().duration_since(t.0).as_secs())
                .unwrap_or(0);
            if age < CLEANUP_PATIENCE.as_secs() as i64 {
                return Cleaned { notes: vec![note(true, "DeleteFailed", why.message.clone())], result: Err(why) };
            }
            let message = format!("gave up deleting after {age}s: {}; remove the data source by hand", why.message);
            note(true, "DataSourceLeftBehind", message)
        }
    };
    Cleaned { notes: vec![outcome], result: Ok(()) }
}

/// Deletes the data source status names (or, when status has no ID, the one of our name), if it
/// is ours; `None` when there is none.
async fn delete_data_source<B: Backend>(ctx: &Context<B>, p: &RedshiftDataProduct) -> Result<Option<String>, Blocked> {
    const PHASE: Phase = Phase::DataSourceReady;
    let settings = connection::settings_for(&ctx.watched, p)?;
    let session = connection::product_session(&settings, p);
    let resolved = connection::resolve(ctx, settings, &session).await?;
    let dz = ctx.backend.project(&session);
    let domain = resolved.domain_id;
    let status = p.status.clone().unwrap_or_default();
    let blocked = |e| Blocked::dz(PHASE, e);
    let id = match status.data_source_id {
        Some(id) => Some(id),
        None => match (&status.project_id, &status.data_source_name) {
            (Some(project), Some(ds_name)) => dz.find_data_source(&domain, project, ds_name).await.map_err(blocked)?,
            _ => None,
        },
    };
    let Some(id) = id else { return Ok(None) };
    match dz.get_data_source(&domain, &id).await.map_err(blocked)? {
        Some(ds) if desired::is_ours(ds.description.as_deref()) => {
            dz.delete_data_source(&domain, &id).await.map_err(blocked)?;
            Ok(Some(id))
        }
        Some(_) => Err(Blocked::terminal(
            PHASE,
            "NotOurs",
            format!("data source {id} was not created by this operator; not deleting it"),
        )),
        None => Ok(None),
    }
}
