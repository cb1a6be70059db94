//! `deletionPolicy: Retire`: the clean-up of the reference architecture, in its order, respecting
//! subscribers. First the resource's listings leave the catalog (data products and assets
//! UNPUBLISH: no new subscriptions, existing ones stay, docs/datazone-semantics.md §15); then the
//! APPROVED subscriptions to them decide ([`crate::controller::decide::retirement`]): the
//! deletion waits for the subscribers to leave, or revokes them when the spec says so; with none
//! left, the data products, the assets and the data source are deleted. Every step is done again
//! by the next pass if a crash cut it short (already unpublished, revoked or gone is success),
//! and DataZone itself refuses to delete an asset with a subscriber (ConflictException): a
//! subscription approved by a person in between holds the retirement at the next pass.

use std::sync::PoisonError;

use super::removal::{delete_data_source, delete_products, note, project_client};
use crate::controller::context::Context;
use crate::controller::decide::pass::{Blocked, Note, Phase, uid};
use crate::controller::decide::products::publish_token;
use crate::controller::decide::retirement::{self, RetireStep};
use crate::crd::RedshiftDataProduct;
use crate::datazone::{Backend, Catalog, DzError, Products, Subscriptions};

/// Where a retirement stands after a pass.
pub enum Retired {
    /// All of it deleted: the last Event.
    Done(Note),
    /// Subscribers remain: what status says.
    Waiting(String),
}

/// Done already (gone, never published, revoked or decided before) counts as done.
fn done_or(e: DzError) -> Result<(), DzError> {
    if e.is_not_found() || e.code == "ConflictException" { Ok(()) } else { Err(e) }
}

pub async fn retire<B: Backend>(
    ctx: &Context<B>,
    p: &RedshiftDataProduct,
    notes: &mut Vec<Note>,
) -> Result<Retired, Blocked> {
    let status = p.status.clone().unwrap_or_default();
    let key = uid(p);
    let blocked = |e| Blocked::dz(Phase::Published, e);
    let (dz, domain) = project_client(ctx, p).await?;
    let assets: Vec<&str> = status.asset_ids().collect();
    let products: Vec<&str> = status.product_ids().collect();

    // Out of the catalog: nobody new finds or requests them (once per process).
    let unpublished = || ctx.shared.unpublished.lock().unwrap_or_else(PoisonError::into_inner);
    let done = unpublished().contains(&key);
    for id in products.iter().filter(|_| !done) {
        let token = publish_token(&key, id, "unpublish", None);
        let unpublished = dz.change_data_product_listing(&domain, id, None, false, &token).await.map(drop);
        unpublished.or_else(done_or).map_err(blocked)?;
    }
    for asset in assets.iter().filter(|_| !done) {
        let token = publish_token(&key, asset, "unpublish", None);
        // Not found: never listed on its own (only through a data product, or not published).
        dz.unpublish_asset(&domain, asset, &token).await.or_else(done_or).map_err(blocked)?;
    }

    unpublished().insert(key.clone());

    // Whom it affects.
    if let Some(project) = status.project_id.as_deref() {
        let all = dz.subscriptions(&domain, project).await.map_err(blocked)?;
        let subscriptions = retirement::to(all, &status.listed_ids());
        let declared = p.spec.retirement.unwrap_or_default();
        match retirement::step(&subscriptions, declared) {
            RetireStep::Delete => {}
            RetireStep::Wait(projects) => return Ok(Retired::Waiting(retirement::waiting(&projects))),
            RetireStep::Revoke(ids) => {
                for (id, s) in ids.iter().zip(&subscriptions) {
                    let revoked = dz.revoke_subscription(&domain, id, declared.retain_permissions).await;
                    revoked.or_else(done_or).map_err(blocked)?;
                    let project = s.project_name.as_deref().unwrap_or(&s.project_id);
                    let kept = if declared.retain_permissions { "keeps" } else { "loses" };
                    let message =
                        format!("revoked subscription {id} of project {project} (it {kept} the granted permissions)");
                    notes.push(note(false, "SubscriptionRevoked", message));
                }
            }
        }
    }

    // In the seed's order: the data products (an asset inside one cannot be deleted), the assets,
    // the data source.
    notes.extend(delete_products(ctx, p).await?);
    for asset in &assets {
        let deleted = dz.delete_asset(&domain, asset).await;
        deleted.or_else(|e| if e.is_not_found() { Ok(()) } else { Err(e) }).map_err(blocked)?;
    }
    if !assets.is_empty() {
        notes.push(note(false, "AssetsDeleted", format!("deleted {} assets of the data source", assets.len())));
    }
    unpublished().remove(&key);
    let done = match delete_data_source(ctx, p).await? {
        Some(id) => note(false, "DataSourceDeleted", format!("retired: deleted data source {id}")),
        None => note(false, "DataSourceGone", "retired: no data source of ours to delete"),
    };
    Ok(Retired::Done(done))
}
