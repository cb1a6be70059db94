//! The ProductListed stage, once a data product is Published: each DataZone data product
//! `spec.dataProduct` asks for is made (`CreateDataProduct`), given one revision with the whole
//! item list when the spec or the run's assets change (`CreateDataProductRevision`), and
//! published at that revision (`CreateListingChangeSet`). In the steady state it makes no call of
//! its own: status records each product's fingerprint, the run and the spec generation it was
//! written for, and one view of the project's data product listings (`SearchListings`, shared by
//! the project's data products for a resync) shows what a person unpublished or republished
//! behind the operator's back. What to write is decided in
//! [`crate::controller::decide::products`] (docs/datazone-semantics.md §14).

use std::collections::BTreeMap;
use std::sync::Arc;

use kube::runtime::events::EventType;

use super::describe::term_index;
use super::target::Target;
use crate::controller::context::Context;
use crate::controller::decide::business::Seen;
use crate::controller::decide::pass::{Blocked, Done, Effects, Phase, Record, uid};
use crate::controller::decide::products::{
    self, Catalog, Claim, Owner, ProductStep, ProductSweep, Publication, Revision, Wanted, create_token, fingerprint,
    publish_token, revision_token,
};
use crate::controller::fleet::keys::ProjectKey;
use crate::crd::{CatalogProductStatus, DeletionPolicy, RedshiftDataProduct, RedshiftDataProductStatus, RunSummary};
use crate::datazone::{Backend, DataZone, DzError, Products};

const PHASE: Phase = Phase::ProductListed;

const NOT_DECLARED: &str = "spec.dataProduct is not set: the assets are listed on their own only";

/// The stage's outcome: what it found and did, and an error that stopped it (what it did before
/// is in the effects all the same).
pub struct Listed {
    pub done: Done,
    pub error: Option<Blocked>,
}

/// The stage, on a pass that found the data product Published (`status` as the pass leaves it).
pub async fn list<B: Backend>(
    ctx: &Context<B>,
    t: &Target<B>,
    p: &RedshiftDataProduct,
    status: &RedshiftDataProductStatus,
) -> Listed {
    let mut effects = Effects::default();
    let key = uid(p);
    let owner = Owner { namespace: &t.namespace, name: &t.name, uid: &key };
    let entries: BTreeMap<String, CatalogProductStatus> =
        status.data_products.iter().map(|e| (e.name.clone(), e.clone())).collect();
    if p.spec.data_product.is_none() && entries.is_empty() {
        effects.ok(PHASE, "NotDeclared", NOT_DECLARED);
        return Listed { done: Done::new(effects, ctx.resync), error: None };
    }
    let Some(run) = status.last_run.as_ref() else {
        effects.not_yet(PHASE, "Waiting", "no data source run has imported the assets yet");
        return Listed { done: Done::new(effects, ctx.poll), error: None };
    };
    let generation = p.metadata.generation;
    let mut w = Writer { ctx, t, key: &key, effects: &mut effects, error: None };

    // The steady state: every data product the spec names written for this run and spec, without
    // a problem, and the catalog agrees. No call but the project's shared view of the catalog,
    // looked at only when there is a listing of ours to check (not while a fleet is first made).
    let listed = entries.values().any(|e| matches!(e.listing_status.as_deref(), Some("ACTIVE" | "CREATING")));
    let sweep = match listed {
        true => match sweep(ctx, t).await {
            Ok(s) => Some(s),
            Err(e) => return w.stopped(e),
        },
        false => None,
    };
    let trusted = sweep.as_ref().map(|s| products::trusted_before(&s.taken, products::search_settles(ctx.resync)));
    let catalog = match (&sweep, &trusted) {
        (Some(s), Some(taken)) => Catalog::Seen { listings: &s.listings, taken },
        _ => Catalog::Unseen,
    };
    let names = products::names(&p.spec, &owner);
    let settled = |e: &CatalogProductStatus| {
        let current = e.run.as_deref() == Some(run.id.as_str()) && e.generation == generation;
        let empty = e.id.is_none() && e.items == 0;
        let done = || {
            products::step(e.hash.as_deref().unwrap_or_default(), e.items as usize, Some(e), catalog)
                == ProductStep::Done
        };
        current && e.problem.is_none() && (empty || done())
    };
    let named: Vec<&String> = entries.keys().collect();
    if !names.is_empty() && named == names.iter().collect::<Vec<_>>() && entries.values().all(settled) {
        let listed: Vec<&CatalogProductStatus> = entries.values().collect();
        w.effects.ok(PHASE, "Listed", listed_message(&listed));
        return Listed { done: Done::new(effects, ctx.resync), error: None };
    }

    let index = match index(t, status, run).await {
        Ok(index) => index,
        Err(e) => return w.stopped(e),
    };
    let wanted = products::wanted(&p.spec, &owner, &index);
    let empty_is_fine = products::empty_is_fine(&p.spec);
    let mut kept: Vec<CatalogProductStatus> = Vec::new();
    let mut stalled = false;
    let mut terms = None;
    for want in &wanted {
        let mut e = entries
            .get(&want.name)
            .cloned()
            .unwrap_or_else(|| CatalogProductStatus { name: want.name.clone(), ..Default::default() });
        if w.error.is_some() {
            kept.push(e);
            continue;
        }
        // Written for this run and spec only once its calls are answered: an entry a refused call
        // left (no ID, no item) would read as one with nothing to hold, and the next pass would
        // take it as settled.
        let current = |e: &mut CatalogProductStatus| {
            e.run = Some(run.id.clone());
            e.generation = generation;
        };
        e.problem = None;
        let ids = match resolve(ctx, t, want, &mut terms).await {
            Ok(Ok(ids)) => ids,
            Ok(Err(unresolved)) => {
                current(&mut e);
                e.problem = Some(format!("glossary terms not found: {unresolved}"));
                kept.push(e);
                continue;
            }
            Err(err) => {
                w.error = Some(Blocked::dz(PHASE, err));
                kept.push(e);
                continue;
            }
        };
        let mut problems = Vec::new();
        if !want.missing.is_empty() {
            problems.push(format!("not among the run's assets: {}", want.missing.join(", ")));
        }
        if want.items.is_empty() && (e.id.is_some() || !empty_is_fine) {
            problems.push("no asset of the run to hold".to_string());
        }
        match w.bring(want, &ids, &mut e, catalog, generation).await {
            Brought::Done => current(&mut e),
            Brought::Taken => {
                current(&mut e);
                stalled = true;
                problems.push(
                    "DataZone has a data product of that name this resource did not make; it is left as it is (give it another name, or set adopt: true to take it over)"
                        .into(),
                );
            }
            Brought::Failed => {}
        }
        e.problem = (!problems.is_empty()).then(|| problems.join("; "));
        kept.push(e);
    }
    // Data products the spec no longer asks for.
    let wanted_names: Vec<&str> = wanted.iter().map(|w| w.name.as_str()).collect();
    for gone in entries.values().filter(|e| !wanted_names.contains(&e.name.as_str())) {
        if w.error.is_some() || !w.retire(gone, p.spec.deletion_policy).await {
            kept.push(gone.clone());
        }
    }
    let error = w.error.take();
    kept.sort_by(|a, b| a.name.cmp(&b.name));
    effects.record(Record::DataProducts(kept.clone()));
    let problems: Vec<String> =
        kept.iter().filter_map(|e| Some(format!("{}: {}", e.name, e.problem.as_deref()?))).collect();
    let requeue = if error.is_some() {
        ctx.poll
    } else if !problems.is_empty() {
        if stalled {
            effects.stall();
        }
        let reason = if stalled { "NameTaken" } else { "Incomplete" };
        effects.not_yet(PHASE, reason, problems.join("; "));
        ctx.resync
    } else if p.spec.data_product.is_none() {
        effects.ok(PHASE, "NotDeclared", NOT_DECLARED);
        ctx.resync
    } else {
        effects.ok(PHASE, "Listed", listed_message(&kept.iter().collect::<Vec<_>>()));
        ctx.resync
    };
    Listed { done: Done::new(effects, requeue), error }
}

/// "orders (3 assets, revision 2) is listed".
fn listed_message(listed: &[&CatalogProductStatus]) -> String {
    let each: Vec<String> = listed
        .iter()
        .map(|e| match &e.id {
            Some(_) => format!("{} ({} assets, revision {})", e.name, e.items, e.revision.as_deref().unwrap_or("?")),
            None => format!("{} (no asset yet: not made)", e.name),
        })
        .collect();
    let verb = if each.len() == 1 { "is" } else { "are" };
    format!("data product {} {verb} listed in the catalog", each.join(", "))
}

/// The project's data product listings, one sweep shared by its data products for a resync.
pub(super) async fn sweep<B: Backend>(ctx: &Context<B>, t: &Target<B>) -> Result<Arc<ProductSweep>, DzError> {
    let key = ProjectKey { domain: t.domain.clone(), project: t.project.clone() };
    let found = ctx
        .shared
        .product_listings
        .get_or_find(key, ctx.resync, || async {
            let taken = crate::crd::conditions::now_rfc3339();
            let listings = t.dz.data_product_listings(&t.domain, &t.project).await?;
            Ok::<_, DzError>(Some(Arc::new(ProductSweep { listings, taken })))
        })
        .await?;
    Ok(found.unwrap_or_else(|| Arc::new(ProductSweep { listings: Vec::new(), taken: String::new() })))
}

/// The run's assets by name: from status when it lists all of them, else from the run's
/// activities (once per run or spec change: the steady state never gets here).
pub(super) async fn index<B: Backend>(
    t: &Target<B>,
    status: &RedshiftDataProductStatus,
    run: &RunSummary,
) -> Result<BTreeMap<String, Seen>, DzError> {
    let counts = &run.assets;
    let in_run = counts.added + counts.updated + counts.unchanged + counts.skipped + counts.failed;
    let seen = |schema: String, asset_id: String| Seen { schema, asset_id, created_with_forms: false };
    if status.assets.len() as i64 == in_run {
        let from_status =
            |a: &crate::crd::AssetStatus| Some((a.name.clone(), seen(a.schema.clone(), a.asset_id.clone()?)));
        return Ok(status.assets.iter().filter_map(from_status).collect());
    }
    let activities = t.dz.list_activities(&t.domain, &run.id).await?;
    Ok(activities
        .into_iter()
        .filter_map(|a| {
            let schema = t.objects.get(&a.name).map(|(s, _)| s.clone()).unwrap_or_default();
            Some((a.name.clone(), seen(schema, a.asset_id?)))
        })
        .collect())
}

/// The IDs of every term reference of `want` (the domain's terms, shared and cached), or the
/// references that did not resolve.
pub(super) async fn resolve<B: Backend>(
    ctx: &Context<B>,
    t: &Target<B>,
    want: &Wanted,
    terms: &mut Option<Arc<crate::controller::decide::business::TermIndex>>,
) -> Result<Result<BTreeMap<String, String>, String>, DzError> {
    let refs = want.references();
    if refs.is_empty() {
        return Ok(Ok(BTreeMap::new()));
    }
    let index = match terms {
        Some(index) => index.clone(),
        None => {
            let index = term_index(ctx, t, &refs).await?;
            *terms = Some(index.clone());
            index
        }
    };
    match index.resolve_all(&refs) {
        Ok(ids) => Ok(Ok(refs.into_iter().zip(ids).collect())),
        Err(bad) => Ok(Err(bad.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))),
    }
}

/// What bringing one data product to the spec came to (its entry is updated as it goes, also
/// when a later call fails: what was made is recorded).
enum Brought {
    Done,
    /// Its name is another's.
    Taken,
    /// A call failed (in the writer's error).
    Failed,
}

/// Takes the steps of one pass, recording Events as it goes.
struct Writer<'a, B: Backend> {
    ctx: &'a Context<B>,
    t: &'a Target<B>,
    key: &'a str,
    effects: &'a mut Effects,
    error: Option<Blocked>,
}

impl<B: Backend> Writer<'_, B> {
    fn stopped(self, e: DzError) -> Listed {
        let effects = std::mem::take(self.effects);
        Listed { done: Done::new(effects, self.ctx.poll), error: Some(Blocked::dz(PHASE, e)) }
    }

    fn failed(&mut self, e: DzError) -> Brought {
        self.error = Some(Blocked::dz(PHASE, e));
        Brought::Failed
    }

    /// Brings `want` to what the spec says in `e`: create or revise, then publish (at most three
    /// calls).
    async fn bring(
        &mut self,
        want: &Wanted,
        ids: &BTreeMap<String, String>,
        e: &mut CatalogProductStatus,
        catalog: Catalog<'_>,
        generation: Option<i64>,
    ) -> Brought {
        let hash = fingerprint(&want.revision(ids, String::new()));
        let (domain, project) = (self.t.domain.as_str(), self.t.project.as_str());
        let mut catalog = catalog;
        // A repair is new work, not a retry: its tokens carry the view that showed it.
        let mut repair: Option<String> = None;
        for _ in 0..3 {
            match products::step(&hash, want.items.len(), Some(e), catalog) {
                ProductStep::Empty | ProductStep::Done => return Brought::Done,
                ProductStep::Create => {
                    let r = want.revision(ids, create_token(self.key, &want.name, generation));
                    match self.t.dz.create_data_product(domain, project, &r).await {
                        Ok(made) => {
                            let message =
                                format!("data product {} ({}) made with {} assets", want.name, made.id, r.items.len());
                            self.effects.event(EventType::Normal, "DataProductCreated", message);
                            e.id = Some(made.id);
                            e.revision = Some(made.revision);
                            e.hash = Some(hash.clone());
                            e.items = r.items.len() as i64;
                            e.listing_status = None;
                        }
                        Err(err) if err.is_conflict() => match self.found(want).await {
                            Ok(Claim::Taken) => return Brought::Taken,
                            Ok(Claim::Adopted(id)) => {
                                let message = format!(
                                    "data product {} ({id}), made outside the operator, taken over (adopt): a revision restates the spec and marks it as this resource's",
                                    want.name
                                );
                                self.effects.event(EventType::Normal, "DataProductAdopted", message);
                                e.id = Some(id);
                                e.revision = None;
                                e.hash = None;
                            }
                            Ok(Claim::Ours(id)) => {
                                e.id = Some(id);
                                e.revision = None;
                                e.hash = None;
                            }
                            Err(err) => return self.failed(err),
                        },
                        Err(err) => return self.failed(err),
                    }
                }
                ProductStep::Revise { id, why } => {
                    let after = match (&why, catalog) {
                        (Revision::EditedElsewhere { shown }, Catalog::Seen { taken, .. }) => {
                            repair = Some(taken.to_string());
                            format!("shown {shown} in the view of {taken}")
                        }
                        _ => e.revision.clone().unwrap_or_default(),
                    };
                    let r = want.revision(ids, revision_token(self.key, &id, &hash, &after));
                    match self.t.dz.revise_data_product(domain, &id, &r).await {
                        Ok(made) => {
                            let (reason, message) = match &why {
                                Revision::EditedElsewhere { shown } => (
                                    "DataProductRepaired",
                                    format!(
                                        "data product {} ({id}): the catalog showed revision {shown}, not the operator's {}; revision {} restates the spec",
                                        want.name,
                                        e.revision.as_deref().unwrap_or("?"),
                                        made.revision
                                    ),
                                ),
                                _ => (
                                    "DataProductRevised",
                                    format!(
                                        "data product {} ({id}) revision {}: {} assets (was {})",
                                        want.name,
                                        made.revision,
                                        r.items.len(),
                                        e.items
                                    ),
                                ),
                            };
                            self.effects.event(EventType::Normal, reason, message);
                            e.revision = Some(made.revision);
                            e.hash = Some(hash.clone());
                            e.items = r.items.len() as i64;
                            e.listing_status = None;
                            catalog = Catalog::Unseen;
                        }
                        Err(err) => return self.failed(err),
                    }
                }
                ProductStep::Publish { id, revision, why } => {
                    if let (Publication::Unpublished, Catalog::Seen { taken, .. }) = (&why, catalog) {
                        repair = Some(taken.to_string());
                    }
                    let token = publish_token(self.key, &id, &revision, repair.as_deref());
                    match self.t.dz.change_data_product_listing(domain, &id, Some(&revision), true, &token).await {
                        Ok(listing) => {
                            if why == Publication::Unpublished {
                                let message = format!(
                                    "data product {} ({id}) was no longer in the catalog: published again at revision {revision}",
                                    want.name
                                );
                                self.effects.event(EventType::Normal, "DataProductRepaired", message);
                            } else {
                                let message =
                                    format!("data product {} ({id}) revision {revision} published", want.name);
                                self.effects.event(EventType::Normal, "DataProductPublished", message);
                            }
                            e.listing_id = Some(listing.listing_id);
                            e.listing_revision = Some(listing.listing_revision);
                            e.listing_status = Some(listing.status);
                            // After the answer: a view of the catalog taken before it says nothing of it.
                            e.listed_at = Some(crate::crd::conditions::now_rfc3339());
                            catalog = Catalog::Unseen;
                        }
                        Err(err) => return self.failed(err),
                    }
                }
            }
        }
        Brought::Done
    }

    /// What the project's data product named as `want` is to this resource: its own (its
    /// creation's answer was lost), one to take over (`adopt`), or another's.
    async fn found(&mut self, want: &Wanted) -> Result<Claim, DzError> {
        let named = self.t.dz.find_data_products(&self.t.domain, &self.t.project, &want.name).await?;
        let found: Vec<(String, Option<String>)> = named.into_iter().map(|p| (p.id, p.description)).collect();
        Ok(products::claim(&found, self.key, want.adopt))
    }

    /// A data product the spec no longer asks for: with deletionPolicy Delete unpublished and
    /// deleted, with Retain left as it is. Whether it is gone from status.
    async fn retire(&mut self, gone: &CatalogProductStatus, policy: DeletionPolicy) -> bool {
        let Some(id) = gone.id.as_deref() else { return true };
        match retire(&self.t.dz, &self.t.domain, self.key, gone, id, policy).await {
            Ok(note) => {
                self.effects.event(EventType::Normal, note.0, note.1);
                true
            }
            Err(e) => {
                self.error = Some(Blocked::dz(PHASE, e));
                false
            }
        }
    }
}

/// Takes a data product of the resource out of DataZone as `policy` says (deletion of the
/// resource, or the spec no longer asking for it): Delete unpublishes it and deletes it, Retain
/// leaves it as it is. The Event to publish.
pub async fn retire<D: Products>(
    dz: &D,
    domain: &str,
    key: &str,
    gone: &CatalogProductStatus,
    id: &str,
    policy: DeletionPolicy,
) -> Result<(&'static str, String), DzError> {
    if policy == DeletionPolicy::Retain {
        let message = format!("data product {} ({id}) is left in DataZone as it is (deletionPolicy Retain)", gone.name);
        return Ok(("DataProductRetained", message));
    }
    // Unpublished first unless known to be (one found by name has no listing status): never
    // published is NotFound, which is fine.
    if gone.listing_status.as_deref() != Some("INACTIVE") {
        let token = publish_token(key, id, "unpublish", None);
        match dz.change_data_product_listing(domain, id, None, false, &token).await {
            Ok(_) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
    }
    match dz.delete_data_product(domain, id).await {
        Ok(()) => {}
        Err(e) if e.is_not_found() => {}
        Err(e) => return Err(e),
    }
    Ok(("DataProductDeleted", format!("data product {} ({id}) unpublished and deleted", gone.name)))
}
