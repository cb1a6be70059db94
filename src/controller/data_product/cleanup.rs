//! Deletion: with `Delete`, the DataZone data products go, then the data source (if it is ours);
//! with `Retain`, DataZone is left
//! as it is, but for an adopted data source, which gets its description back (without the
//! operator's mark). Idempotent (already gone is success). The orchestrator publishes the Events and
//! takes the finalizer off in the end: after 10 minutes of failing to delete, the data source is
//! left behind with a Warning Event.

use std::time::Duration;

use kube::ResourceExt;

use super::products;
use crate::controller::connection::resolve;
use crate::controller::context::Context;
use crate::controller::decide::desired;
use crate::controller::decide::pass::{Blocked, Note, Phase};
use crate::controller::decide::products::{self as decided, Owner};
use crate::crd::{CatalogProductStatus, DeletionPolicy, RedshiftDataProduct};
use crate::datazone::{Backend, DataZone, Products};

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
    let adopted = p.status.as_ref().and_then(|s| s.adopted_description.clone());
    let mut notes = Vec::new();
    let outcome = match (p.spec.deletion_policy, adopted) {
        (DeletionPolicy::Retain, None) => {
            let message = "deletionPolicy Retain: the DataZone data source, its assets and its data products stay";
            return Cleaned { notes: vec![note(false, "Retained", message)], result: Ok(()) };
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
                return Cleaned { notes, result: Err(why) };
            }
            let message = format!("gave up after {age}s: {}; see to the data source by hand", why.message);
            note(true, "DataSourceLeftBehind", message)
        }
    };
    notes.push(outcome);
    Cleaned { notes, result: Ok(()) }
}

/// Unpublishes and deletes the DataZone data products status records, before the data source:
/// an asset inside a data product cannot be deleted (docs/datazone-semantics.md §14). Each
/// already gone is success, so a retry goes through them again harmlessly.
async fn delete_products<B: Backend>(ctx: &Context<B>, p: &RedshiftDataProduct) -> Result<Vec<Note>, Blocked> {
    let status = p.status.clone().unwrap_or_default();
    let uid = crate::controller::decide::pass::uid(p);
    let namespace = p.namespace().unwrap_or_default();
    let owner = Owner { namespace: &namespace, name: &p.name_any(), uid: &uid };
    // Asked for and not known by ID (made, its answer lost in a crash): found by name and mark.
    let unknown: Vec<String> = decided::names(&p.spec, &owner)
        .into_iter()
        .filter(|n| !status.data_products.iter().any(|e| &e.name == n && e.id.is_some()))
        .collect();
    if unknown.is_empty() && status.data_products.iter().all(|e| e.id.is_none()) {
        return Ok(Vec::new());
    }
    let (dz, domain) = project_client(ctx, p).await?;
    let blocked = |e| Blocked::dz(Phase::ProductListed, e);
    let mut made: Vec<CatalogProductStatus> = status.data_products.iter().filter(|e| e.id.is_some()).cloned().collect();
    if let Some(project) = status.project_id.as_deref() {
        for name in unknown {
            let found = dz.find_data_products(&domain, project, &name).await.map_err(blocked)?;
            let ours = found.into_iter().filter(|f| decided::is_ours(f.description.as_deref(), &uid));
            made.extend(ours.map(|f| CatalogProductStatus {
                name: name.clone(),
                id: Some(f.id),
                ..Default::default()
            }));
        }
    }
    let mut notes = Vec::new();
    for entry in &made {
        let id = entry.id.as_deref().unwrap_or_default();
        let (reason, message) =
            products::retire(&dz, &domain, &uid, entry, id, DeletionPolicy::Delete).await.map_err(blocked)?;
        notes.push(note(false, reason, message));
    }
    Ok(notes)
}

const PHASE: Phase = Phase::DataSourceReady;

/// The project-scoped client of the data product's connection, and its domain ID.
async fn project_client<B: Backend>(
    ctx: &Context<B>,
    p: &RedshiftDataProduct,
) -> Result<(B::DataZone, String), Blocked> {
    let settings = resolve::settings_for(&ctx.watched, p)?;
    let session = resolve::product_session(&settings, p);
    let resolved = resolve::resolve(ctx, settings, &session).await?;
    Ok((ctx.backend.project(&session), resolved.domain_id))
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

/// Deletes the data source status names (or, when status has no ID, the one of our name), if it
/// is ours; `None` when there is none.
async fn delete_data_source<B: Backend>(ctx: &Context<B>, p: &RedshiftDataProduct) -> Result<Option<String>, Blocked> {
    let (dz, domain) = project_client(ctx, p).await?;
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
