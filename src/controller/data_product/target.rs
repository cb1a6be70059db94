//! What a pass works towards: the data product's connection resolved to a domain, a project and
//! the producer account ([`connect`], ConnectionResolved), and the data source configuration its
//! spec asks for, with the objects of "all tables" / "all views" schemas listed from Redshift
//! ([`Target::new`]).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use kube::ResourceExt;
use kube::runtime::reflector::ObjectRef;

use crate::controller::connection::guardrails;
use crate::controller::connection::resolve;
use crate::controller::context::Context;
use crate::controller::decide::desired::{self, config_hash};
use crate::controller::decide::pass::{Blocked, Effects, Phase, Record};
use crate::controller::fleet::cache::STABLE;
use crate::controller::fleet::keys::{ConnectionId, EnvironmentKey, ListingKey, Lookup, SchemaKey};
use crate::controller::fleet::snapshot::{Snapshot, settling_max_age};
use crate::controller::fleet::wakeups::Expected;
use crate::crd::{Adoption, AssetKind, AutoApproval, ProducerSettings, RedshiftDataProduct, RedshiftDataProductStatus};
use crate::datazone::{Backend, DataZone, DzError, Generation, Lineage, ObjectKind, Producer, SourceConfig, Storage};

/// The connection resolved for one data product.
pub struct Connected<B: Backend> {
    pub domain: String,
    pub generation: Generation,
    pub project: String,
    /// The producer account: the operator's own credentials.
    pub account: String,
    pub region: String,
    pub assumed_role_arn: String,
    pub dz: B::DataZone,
    pub producer: B::Producer,
    pub producer_roles: Option<ProducerSettings>,
    /// For which consumer projects the connection lets access policies approve.
    pub auto_approval: Vec<AutoApproval>,
}

impl<B: Backend> Connected<B> {
    /// ConnectionResolved, and the IDs it found.
    pub fn effects(&self) -> Effects {
        let mut e = Effects::default();
        let (domain, project, generation) = (self.domain.clone(), self.project.clone(), self.generation);
        e.record(Record::Resolved { domain, project, generation }).ok(
            Phase::ConnectionResolved,
            "Resolved",
            format!(
                "domain {} ({}), project {}, role {}",
                self.domain,
                self.generation.as_str(),
                self.project,
                self.assumed_role_arn
            ),
        );
        e
    }
}

/// Resolves the connection (role, domain), the project and the producer account.
pub async fn connect<B: Backend>(
    ctx: &Context<B>,
    p: &RedshiftDataProduct,
    status: &RedshiftDataProductStatus,
) -> Result<Connected<B>, Blocked> {
    const PHASE: Phase = Phase::ConnectionResolved;
    let settings = resolve::settings_for(&ctx.watched, p)?;
    // The connection's tenancy rules, before any call.
    let namespace = p.namespace().unwrap_or_default();
    let storage = desired::storage(&p.spec);
    let asked = guardrails::Asked {
        project: &p.spec.project,
        storage: Some(&storage),
        database: Some(&p.spec.redshift.database),
        secret_arn: Some(&p.spec.redshift.credentials_secret_arn),
    };
    let labels = ctx.watched.namespace_labels(&namespace);
    let r = &p.spec.connection_ref;
    let allowed = guardrails::check(&settings.allowed, labels.as_ref(), &asked, r, &namespace);
    let uid = crate::controller::decide::pass::uid(p);
    ctx.shared.users.seen(&guardrails::referenced_key(r, &namespace), &uid, allowed.is_err());
    allowed?;
    let session = resolve::product_session(&settings, p);
    ctx.sessions.used(&session, &uid);
    let resolved = resolve::resolve(ctx, settings, &session).await?;
    let region = resolved.settings.region.clone();
    let domain = resolved.domain_id.clone();
    if resolved.generation == Generation::V1 && p.spec.lineage.is_some() {
        // Lineage is collected through a V2 connection; a V1 domain has none to set it on.
        let message = format!(
            "spec.lineage needs a V2 domain (Amazon SageMaker Unified Studio); domain {domain} is V1: remove spec.lineage or publish into a V2 domain"
        );
        return Err(Blocked::terminal(PHASE, "LineageNeedsV2Domain", message));
    }
    let dz = ctx.backend.project(&session);
    let producer = ctx.backend.producer(&region);
    let spec_project = &p.spec.project;
    // spec.project is immutable, so the project ID in status stays right once found.
    let known = status.project_id.clone().filter(|_| status.domain_id.as_deref() == Some(domain.as_str()));
    let lookup = Lookup::Project { domain: domain.clone(), project: spec_project.clone() };
    let project = ctx
        .shared
        .ids
        .get_or_find(lookup, STABLE, || async {
            match known {
                Some(id) => Ok(Some(id)),
                None => dz.find_project(&domain, spec_project).await,
            }
        })
        .await
        .map_err(|e| Blocked::dz(PHASE, e))?
        .ok_or_else(|| {
            Blocked::terminal(
                PHASE,
                "ProjectNotFound",
                format!(
                    "no DataZone project {spec_project} in domain {domain} visible to {}",
                    resolved.assumed_role_arn
                ),
            )
        })?;
    let account = ctx
        .shared
        .ids
        .get_or_find(Lookup::Account { region: region.clone() }, STABLE, || async {
            producer.account().await.map(Some)
        })
        .await
        .map_err(|e| Blocked::dz(PHASE, e))?
        .ok_or_else(|| Blocked::retryable(PHASE, "CallerUnknown", "STS named no account for the operator"))?;
    Ok(Connected {
        domain,
        generation: resolved.generation,
        project,
        account,
        region,
        assumed_role_arn: resolved.assumed_role_arn,
        dz,
        producer,
        producer_roles: resolved.settings.producer,
        auto_approval: resolved.settings.auto_approval,
    })
}

/// Why a data product wants the project's listing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Demand {
    /// Its data source or run is settling after this process's own write.
    Settling,
    /// A resync of a settled data product.
    Resync,
}

pub struct Target<B: Backend> {
    pub namespace: String,
    pub name: String,
    pub domain: String,
    /// V1: blueprint, profile, environment; V2: a connection.
    pub generation: Generation,
    /// The lineage the spec asks for on the V2 connection (`None`: no opinion).
    pub lineage: Option<Lineage>,
    pub project: String,
    pub account: String,
    pub region: String,
    pub storage: Storage,
    /// Project-scoped calls, made as the connection's role.
    pub dz: B::DataZone,
    /// The producer account's own calls.
    pub producer: B::Producer,
    pub producer_roles: Option<ProducerSettings>,
    pub auto_approval: Vec<AutoApproval>,
    pub config: SourceConfig,
    /// The configuration and the listed catalog: a run is due when this changes.
    pub run_hash: String,
    pub ds_name: String,
    /// Which schema and kind each object is, from the spec and the listed catalog.
    pub objects: BTreeMap<String, (String, AssetKind)>,
    /// An existing data source the spec asks to take over.
    pub adopt: Option<Adoption>,
    /// `spec.dataProduct` asks for DataZone data products.
    pub declares_products: bool,
    /// When the resource was made (its first publish is measured from there).
    pub created: Option<jiff::Timestamp>,
    /// The project's shared data source listing (per connection, as its role sees it).
    listing_key: ListingKey,
}

impl<B: Backend> Target<B> {
    /// Works out the configuration the spec asks for, listing the objects of "all tables" /
    /// "all views" schemas (once per resync interval, shared by the data products naming them).
    pub async fn new(ctx: &Context<B>, p: &RedshiftDataProduct, c: Connected<B>) -> Result<Self, Blocked> {
        let spec = &p.spec;
        let storage = desired::storage(spec);
        let mut listed: BTreeMap<String, Vec<(String, ObjectKind)>> = BTreeMap::new();
        for s in spec.schemas.iter().filter(|s| s.add_all_tables || s.add_all_views) {
            let key = SchemaKey {
                storage: storage.clone(),
                database: spec.redshift.database.clone(),
                schema: s.name.clone(),
                secret: spec.redshift.credentials_secret_arn.clone(),
            };
            let list = || async {
                c.producer.list_objects(&key.storage, &key.database, &key.schema, &key.secret).await.map(Some)
            };
            let objects = ctx
                .shared
                .schemas
                .get_or_find(key.clone(), ctx.resync, list)
                .await
                .map_err(|e| Blocked::dz(Phase::DataSourceReady, e))?
                .unwrap_or_default();
            listed.insert(s.name.clone(), objects);
        }
        let config = desired::source_config(spec, &|schema| listed.get(schema).cloned().unwrap_or_default());
        let run_hash = format!(
            "{}-{}",
            config_hash(&config),
            &format!("{:016x}", crate::naming::stable_hash(&format!("{listed:?}")))[..8]
        );
        let mut objects: BTreeMap<String, (String, AssetKind)> = BTreeMap::new();
        for s in &spec.schemas {
            for (name, kind) in listed.get(&s.name).into_iter().flatten() {
                let kind = match kind {
                    ObjectKind::Table => AssetKind::Table,
                    ObjectKind::View => AssetKind::View,
                };
                objects.insert(name.clone(), (s.name.clone(), kind));
            }
            objects.extend(s.listed_tables().map(|t| (t.clone(), (s.name.clone(), AssetKind::Table))));
            objects.extend(s.listed_views().map(|v| (v.clone(), (s.name.clone(), AssetKind::View))));
        }
        let (namespace, name) = (p.namespace().unwrap_or_default(), p.name_any());
        Ok(Self {
            ds_name: desired::data_source_name(&ctx.cluster_name, &namespace, &name),
            listing_key: ListingKey {
                connection: ConnectionId::from(&spec.connection_ref),
                domain: c.domain.clone(),
                project: c.project.clone(),
            },
            namespace,
            name,
            domain: c.domain,
            generation: c.generation,
            lineage: desired::lineage(spec),
            project: c.project,
            account: c.account,
            region: c.region,
            storage,
            dz: c.dz,
            producer: c.producer,
            producer_roles: c.producer_roles,
            auto_approval: c.auto_approval,
            config,
            run_hash,
            objects,
            adopt: spec.adopt.clone(),
            declares_products: spec.data_product.is_some(),
            created: p.metadata.creation_timestamp.as_ref().map(|t| t.0),
        })
    }

    /// The project's data sources, listed after `not_before`, for a data product that is
    /// settling (any listing taken after its write, worth it when as many settle within
    /// [`Self::settling_window`] as it has pages) or resyncing (at most a resync interval old,
    /// worth it when as many resync within an interval); `None` when it does not pay (then
    /// `caller` reads its own).
    pub async fn listing(
        &self,
        ctx: &Context<B>,
        caller: &str,
        not_before: Instant,
        demand: Demand,
    ) -> Result<Option<Arc<Snapshot>>, DzError> {
        let (window, max_age) = match demand {
            // Any listing taken after `not_before` shows what happened since the write, however
            // old it is: a new one is taken only when none is (at most every
            // `settling_max_age`, see `awaits_next_listing`).
            Demand::Settling => (self.settling_window(ctx), Duration::MAX),
            // One listing a resync for all the project's data products: with the data product
            // sweep beside it (`products.rs`), the steady state stays within 0.05 calls per
            // data product per resync (docs/design/fleet.md, data products). Their demand counts
            // for two resyncs: a wave of resyncs comes a resync after the last, and with a window
            // of one the last wave's demand had aged out when the next began, so its first
            // callers (up to a page's worth each: 199 in a project of 10,000) read their data
            // sources in full instead of waiting for the listing the rest took.
            Demand::Resync => (ctx.resync * 2, ctx.resync),
        };
        // A listing someone took that fits is free to look at: taking its word costs nothing, and
        // reading in full because too few have asked for the next one (the demand counts only
        // callers, not the listing at hand) cost a restarted operator of 1,000 four full reads
        // right after its first listing, one of 10,000 about two hundred.
        let wanted = ctx.snapshots.want(&self.listing_key, caller, window);
        if !wanted && ctx.snapshots.usable(&self.listing_key, not_before, max_age).is_none() {
            return Ok(None);
        }
        let list = || self.dz.list_data_sources(&self.domain, &self.project);
        let listing = ctx.snapshots.get(&self.listing_key, not_before, max_age, list).await?;
        // What moved in it wakes its data product now rather than at its own resync.
        ctx.wakeups.look_through(&self.listing_key, &listing, caller);
        Ok(Some(listing))
    }

    /// How long `caller` (settling since its write at `not_before`) should wait for the project's
    /// next listing rather than take one now ([`crate::controller::fleet::snapshot::Snapshots::wait_for_next`]): it
    /// is woken when someone takes that listing, and comes back to take it itself when it is due.
    /// While the listing's own pace (`ListDataSources`) is saturated the listings of a big
    /// project are further apart ([`settling_max_age`]); a waiter still comes back at the usual
    /// interval, so that when the work drains the next listing is taken then, not when the long
    /// wait would have ended.
    pub fn awaits_next_listing(&self, ctx: &Context<B>, caller: &str, not_before: Instant) -> Option<Duration> {
        let listed = ctx.snapshots.last_listed(&self.listing_key);
        let max_age = settling_max_age(ctx.poll, listed, self.dz.saturated_for("ListDataSources"));
        if !ctx.snapshots.want(&self.listing_key, caller, self.settling_window(ctx)) {
            return None;
        }
        let left = match ctx.snapshots.wait_for_next(&self.listing_key, not_before, max_age) {
            Some(left) => left,
            // Someone is taking one now: woken when it is taken, rather than waiting for it at one
            // of the passes' places, which the stages calling DataZone need, for as long as the
            // listing takes (a project of 4,000: 80 pages, seconds). A plant of 4,000 alone, its
            // listing every poll: 237.6 s with this, 243.0 s without (one run each;
            // docs/design/fleet.md). Back after half a poll if the wake is missed (its pass still
            // under way when the listing lands); not after a whole poll, which the pass takes for
            // a settle wait and backs off (15 s, then 45 s).
            None if ctx.snapshots.usable(&self.listing_key, not_before, Duration::MAX).is_none()
                && ctx.snapshots.under_way(&self.listing_key) =>
            {
                ctx.poll / 2
            }
            None => return None,
        };
        let object = ObjectRef::new(&self.name).within(&self.namespace);
        ctx.wakeups.at_next_listing(&self.listing_key, caller, object);
        Some(left.min(settling_max_age(ctx.poll, listed, false)))
    }

    /// How far back demand for the listing from data products settling counts: two polls, or as
    /// long as the project's listings are apart when it is big (a listing of 200 pages every
    /// 50 s pays when 200 data products wait for it within those 50 s, not within 10 s).
    fn settling_window(&self, ctx: &Context<B>) -> Duration {
        (ctx.poll * 2).max(settling_max_age(ctx.poll, ctx.snapshots.last_listed(&self.listing_key), false))
    }

    /// The project's listing if one taken after `not_before` is at most a poll interval old
    /// (someone else's, free to look at); `None` rather than a call.
    pub fn listing_at_hand(&self, ctx: &Context<B>, not_before: Instant) -> Option<Arc<Snapshot>> {
        ctx.snapshots.usable(&self.listing_key, not_before, ctx.poll)
    }

    /// The key of the data product's shared environment.
    pub fn environment_key(&self) -> EnvironmentKey {
        let name = desired::environment_name(&self.account, &self.region, &self.storage, &self.config.database);
        EnvironmentKey { domain: self.domain.clone(), project: self.project.clone(), name }
    }

    /// `caller` found its data source as `expected` in the listing: wake it when a later listing
    /// shows it moved ([`crate::controller::fleet::wakeups`]).
    pub fn watch_listing(&self, ctx: &Context<B>, caller: &str, expected: Expected) {
        let object = ObjectRef::new(&self.name).within(&self.namespace);
        ctx.wakeups.watch(&self.listing_key, caller, object, expected);
    }
}
