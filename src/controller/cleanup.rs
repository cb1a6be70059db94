//! Deletion: with `Delete`, the data source goes (if it is ours); with `Retain`, DataZone is left
//! as it is. Idempotent (already gone is success), and the finalizer always comes off in the end.

use std::time::Duration;

use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType};
use kube::{Resource, ResourceExt};

use super::connection;
use super::context::Context;
use super::desired;
use super::reconcile::{ReconcileError, uid};
use crate::crd::{DeletionPolicy, RedshiftDataProduct};
use crate::datazone::DataZone;

/// How long a Delete-policy cleanup keeps trying before it lets the object go.
const CLEANUP_PATIENCE: Duration = Duration::from_secs(600);

/// Deletion: with `Delete`, the data source goes (if it is ours); with `Retain`, DataZone is left
/// as it is. The finalizer comes off in the end either way: after 10 minutes of failing to
/// delete, the data source is left behind with a Warning Event.
pub(super) async fn cleanup(p: &RedshiftDataProduct, ctx: &Context) -> Result<Action, ReconcileError> {
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
    // Nothing of this data product stays in memory.
    ctx.clients.forget(&namespace, &name);
    ctx.flights.landed(&uid(p));
    ctx.reset_backoff(&uid(p));
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
