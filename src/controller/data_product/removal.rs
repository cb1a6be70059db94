//! What deleting a data product takes from DataZone, for `Delete` ([`super::cleanup`]) and
//! `Retire` ([`super::retirement`]) alike: its DataZone data products (found by name and mark when
//! status lost their IDs) and its data source (only if it is ours). Each already gone is success,
//! so a retry goes through them again harmlessly.

use kube::ResourceExt;

use super::products;
use crate::controller::connection::resolve;
use crate::controller::context::Context;
use crate::controller::decide::desired;
use crate::controller::decide::pass::{Blocked, Note, Phase};
use crate::controller::decide::products::{self as decided, Owner};
use crate::crd::{CatalogProductStatus, DeletionPolicy, RedshiftDataProduct};
use crate::datazone::{Backend, DataZone, Products};

pub fn note(warning: bool, reason: &str, message: impl Into<String>) -> Note {
    Note { warning, reason: reason.into(), message: message.into() }
}

/// Unpublishes and deletes the DataZone data products status records, before the data source:
/// an asset inside a data product cannot be deleted (docs/datazone-semantics.md §14). Each
/// already gone is success, so a retry goes through them again harmlessly.
pub async fn delete_products<B: Backend>(ctx: &Context<B>, p: &RedshiftDataProduct) -> Result<Vec<Note>, Blocked> {
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

/// The phase a failed data source deletion is reported under.
pub const PHASE: Phase = Phase::DataSourceReady;

/// The project-scoped client of the data product's connection, and its domain ID.
pub async fn project_client<B: Backend>(
    ctx: &Context<B>,
    p: &RedshiftDataProduct,
) -> Result<(B::DataZone, String), Blocked> {
    let settings = resolve::settings_for(&ctx.watched, p)?;
    let session = resolve::product_session(&settings, p);
    let resolved = resolve::resolve(ctx, settings, &session).await?;
    Ok((ctx.backend.project(&session), resolved.domain_id))
}

/// Deletes the data source status names (or, when status has no ID, the one of our name), if it
/// is ours; `None` when there is none.
pub async fn delete_data_source<B: Backend>(
    ctx: &Context<B>,
    p: &RedshiftDataProduct,
) -> Result<Option<String>, Blocked> {
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
