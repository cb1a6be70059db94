//! `plan`: what the operator would do for a data product, without doing it. The same connection,
//! target and observation as a reconcile pass (reads only), then every step [`plan::steps`]
//! names, the fields an update or adoption would change, and the objects a run would import.
//! Nothing is written to DataZone or to Kubernetes.

use kube::ResourceExt;

use std::collections::BTreeMap;

use super::observe;
use super::products;
use super::runs;
use super::target::{self, Target};
use crate::controller::context::Context;
use crate::controller::decide::business;
use crate::controller::decide::business::Seen;
use crate::controller::decide::desired::{self, FieldChange};
use crate::controller::decide::pass::{Blocked, Phase, uid};
use crate::controller::decide::plan::{self, NEW, Step};
use crate::controller::decide::products::{self as decided, Catalog, Owner, ProductChange, ProductStep, fingerprint};
use crate::controller::decide::retirement;
use crate::controller::fleet::keys::EnvironmentKey;
use crate::crd::{
    CatalogProductStatus, DeletionPolicy, RECONCILE_REQUESTED_AT, RedshiftDataProduct, RedshiftDataProductStatus,
};
use crate::datazone::{Backend, DataZone, DzError, EnvironmentStatus, Products, Subscriptions};

/// One data product's preview.
#[derive(Debug)]
pub struct Preview {
    pub steps: Vec<Step>,
    /// What an update or adoption would change in the data source.
    pub changes: Vec<FieldChange>,
    /// `schema.name` of each table and view a run would import, when one would start.
    pub objects: Vec<String>,
    /// `schema.name` of each asset whose declared business metadata would be written.
    pub metadata: Vec<String>,
    /// What would happen to each DataZone data product of `spec.dataProduct`.
    pub products: Vec<ProductChange>,
    /// What deleting the resource would do, and whom it would affect.
    pub on_delete: String,
    /// The environment it would make (V1), for `plan`'s count against the domain's quota.
    pub new_environment: Option<EnvironmentKey>,
}

impl Preview {
    pub fn changes_anything(&self) -> bool {
        self.steps.iter().any(Step::mutates)
            || !self.metadata.is_empty()
            || self.products.iter().any(ProductChange::mutates)
    }
}

pub async fn preview<B: Backend>(ctx: &Context<B>, p: &RedshiftDataProduct) -> Result<Preview, Blocked> {
    let status = p.status.clone().unwrap_or_default();
    let key = uid(p);
    let connected = target::connect(ctx, p, &status).await?;
    let t = Target::new(ctx, p, connected).await?;
    let seen = observe::observe(ctx, &t, &status, &key).await?;
    let requested_at = p.annotations().get(RECONCILE_REQUESTED_AT).map(String::as_str);
    let steps = plan::steps(&t.config, &t.run_hash, &seen.observed, &runs::run_state(&status, requested_at));
    let updates = steps.iter().find_map(|s| match s {
        Step::UpdateDataSource { data_source } | Step::AdoptDataSource { data_source } => Some(data_source),
        _ => None,
    });
    let changes = match updates {
        Some(id) => {
            // Seen in a listing, a data source has no configuration: read it for the diff.
            let known = seen.observed.data_source.as_ref().and_then(|d| d.config.clone());
            let actual = match known {
                Some(config) => Some(config),
                None => {
                    t.dz.get_data_source(&t.domain, id)
                        .await
                        .map_err(|e| Blocked::dz(Phase::DataSourceReady, e))?
                        .and_then(|d| d.config)
                }
            };
            actual.map(|a| desired::config_diff(&a, &t.config)).unwrap_or_default()
        }
        None => vec![],
    };
    let runs = steps.iter().any(|s| matches!(s, Step::StartRun { .. }));
    let objects = if runs {
        let mut all: Vec<String> = t.objects.iter().map(|(name, (schema, _))| format!("{schema}.{name}")).collect();
        all.sort();
        all
    } else {
        vec![]
    };
    let metadata = business::pending(&business::Declared::of(&p.spec), &status);
    let products =
        product_changes(ctx, &t, p, &status, runs).await.map_err(|e| Blocked::dz(Phase::ProductListed, e))?;
    let on_delete = on_delete(&t, p, &status).await.map_err(|e| Blocked::dz(Phase::AccessApplied, e))?;
    let creates = steps.iter().any(|s| matches!(s, Step::CreateProfile { .. } | Step::CreateEnvironment { .. }));
    let new_environment = creates.then(|| t.environment_key());
    Ok(Preview { steps, changes, objects, metadata, products, on_delete, new_environment })
}

/// The environments (not DELETED) of `p`'s domain in the projects its connection's role can read,
/// how many projects that is, and how many it can list but not read (`plan`'s lower bound, see
/// [`crate::controller::decide::environment_room`]).
pub async fn environments_held<B: Backend>(
    ctx: &Context<B>,
    p: &RedshiftDataProduct,
) -> Result<(usize, usize, usize), Blocked> {
    let status = p.status.clone().unwrap_or_default();
    let connected = target::connect(ctx, p, &status).await?;
    let t = Target::new(ctx, p, connected).await?;
    let blocked = |e| Blocked::dz(Phase::EnvironmentReady, e);
    let (mut held, mut read, mut unread) = (0, 0, 0);
    for project in t.dz.list_projects(&t.domain).await.map_err(blocked)? {
        match t.dz.list_environments(&t.domain, &project).await {
            Ok(environments) => {
                read += 1;
                held += environments.iter().filter(|(_, e)| e.status != EnvironmentStatus::Deleted).count();
            }
            Err(e) if e.is_access_denied() => unread += 1,
            Err(e) => return Err(blocked(e)),
        }
    }
    Ok((held, read, unread))
}

/// What deleting it would do ([`retirement::outlook`]); under `Retire`, whom it would affect: the
/// projects subscribing to its listings now (one read of the project's subscriptions).
async fn on_delete<B: Backend>(
    t: &Target<B>,
    p: &RedshiftDataProduct,
    status: &RedshiftDataProductStatus,
) -> Result<String, DzError> {
    let products: Vec<String> =
        status.data_products.iter().filter(|e| e.id.is_some()).map(|e| e.name.clone()).collect();
    let mut subscribers = Vec::new();
    if p.spec.deletion_policy == DeletionPolicy::Retire {
        let all = t.dz.subscriptions(&t.domain, &t.project).await?;
        subscribers = retirement::projects(&retirement::to(all, &status.listed_ids()));
    }
    let retirement = p.spec.retirement.unwrap_or_default();
    let data_source = status.data_source_id.as_deref();
    let assets = status.asset_ids().count();
    Ok(retirement::outlook(p.spec.deletion_policy, retirement, &products, assets, data_source, &subscribers))
}

/// What the data products would come to: after a run that is to start (or has not run yet), of the
/// objects it would import (assets already imported keep their IDs); otherwise of the run's
/// assets. Reads only: the project's listings, the domain's terms, and each data product to be
/// revised (`GetDataProduct`, for the item diff).
async fn product_changes<B: Backend>(
    ctx: &Context<B>,
    t: &Target<B>,
    p: &RedshiftDataProduct,
    status: &RedshiftDataProductStatus,
    runs: bool,
) -> Result<Vec<ProductChange>, DzError> {
    if p.spec.data_product.is_none() && status.data_products.is_empty() {
        return Ok(vec![]);
    }
    let key = uid(p);
    let owner = Owner { namespace: &t.namespace, name: &t.name, uid: &key };
    let known: BTreeMap<&str, &str> =
        status.assets.iter().filter_map(|a| Some((a.name.as_str(), a.asset_id.as_deref()?))).collect();
    let index: BTreeMap<String, Seen> = match status.last_run.as_ref().filter(|_| !runs) {
        Some(run) => products::index(t, status, run).await?,
        None => t
            .objects
            .iter()
            .map(|(name, (schema, _))| {
                let asset_id = known.get(name.as_str()).map_or_else(|| format!("{NEW} {name}"), |id| id.to_string());
                (name.clone(), Seen { schema: schema.clone(), asset_id, created_with_forms: false })
            })
            .collect(),
    };
    let by_id: BTreeMap<&str, &str> = known.iter().map(|(name, id)| (*id, *name)).collect();
    let sweep = products::sweep(ctx, t).await?;
    let trusted = decided::trusted_before(&sweep.taken, decided::search_settles(ctx.resync));
    let catalog = Catalog::Seen { listings: &sweep.listings, taken: &trusted };
    let entries: BTreeMap<&str, &CatalogProductStatus> =
        status.data_products.iter().map(|e| (e.name.as_str(), e)).collect();
    let wanted = decided::wanted(&p.spec, &owner, &index);
    let mut terms = None;
    let mut out = Vec::new();
    for want in &wanted {
        // A reference that does not resolve is the pass's condition to name; here it only makes the
        // revision look changed.
        let ids = match products::resolve(ctx, t, want, &mut terms).await? {
            Ok(ids) => ids,
            Err(unresolved) => {
                let why = format!("glossary terms not found: {unresolved}");
                out.push(ProductChange::Blocked { name: want.name.clone(), why });
                continue;
            }
        };
        let hash = fingerprint(&want.revision(&ids, String::new()));
        let step = decided::step(&hash, want.items.len(), entries.get(want.name.as_str()).copied(), catalog);
        let before = match &step {
            ProductStep::Revise { id, .. } => {
                let held = t.dz.get_data_product(&t.domain, id).await?.items;
                held.iter().map(|id| by_id.get(id.as_str()).map_or_else(|| id.clone(), |n| n.to_string())).collect()
            }
            _ => vec![],
        };
        out.push(decided::change(&step, want, &before));
    }
    let delete = p.spec.deletion_policy != DeletionPolicy::Retain;
    let made = status.data_products.iter().filter(|e| e.id.is_some());
    for gone in made.filter(|e| !wanted.iter().any(|w| w.name == e.name)) {
        out.push(ProductChange::Retire { name: gone.name.clone(), delete });
    }
    Ok(out)
}
