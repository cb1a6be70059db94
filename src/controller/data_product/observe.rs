//! Observe: what DataZone holds for one data product. In the steady state that is one read, its
//! data source by the ID in status; right after this process wrote the configuration it wants, a
//! look in the project's shared listing instead; otherwise the shared objects (blueprint and its
//! configuration, profile, environment), cached and coalesced, then the data source by name.

use kube::ResourceExt;
use kube::runtime::events::EventType;
use kube::runtime::reflector::ObjectRef;

use std::sync::Arc;
use std::time::Duration;

use super::redshift_connection;
use super::target::{Demand, Target};
use crate::controller::context::Context;
use crate::controller::decide::adoption;
use crate::controller::decide::desired::{self, bound_in, config_hash};
use crate::controller::decide::pass::{Blocked, Done, Effects, Phase, Record, binding_record};
use crate::controller::decide::plan::{Enablement, Observed, SharedObjects, Upstream};
use crate::controller::fleet::cache::STABLE;
use crate::controller::fleet::keys::{Creation, Enabled, EnvironmentKey, Lookup, ProjectKey};
use crate::controller::fleet::wakeups::Expected;
use crate::crd::{Adoption, RECONCILE_REQUESTED_AT, RedshiftDataProduct, RedshiftDataProductStatus, conditions};
use crate::datazone::{
    Backend, Binding, DataSourceInfo, DataSourceStatus, DataZone, DzError, EnvironmentInfo, EnvironmentStatus,
    Generation, Producer, RunStatus,
};

/// What observing found, and the IDs and Events it leaves.
pub struct Observation {
    pub observed: Observed,
    pub effects: Effects,
}

pub async fn observe<B: Backend>(
    ctx: &Context<B>,
    t: &Target<B>,
    status: &RedshiftDataProductStatus,
    caller: &str,
) -> Result<Observation, Blocked> {
    let mut effects = Effects::default();
    // V2: the connection, cached, on every pass (a change of secret or lineage reaches it).
    let through = match t.generation {
        Generation::V1 => None,
        Generation::V2 => Some(redshift_connection::look(ctx, t, caller, &mut effects).await?),
    };
    if let (Some(ds_id), Some(binding)) = (&status.data_source_id, status_binding(status, t.generation)) {
        match known_data_source(ctx, t, status, ds_id, caller, &mut effects).await? {
            Some((ds, config_unchanged)) if bound_in(&ds, t.generation).as_ref() == Some(&binding) => {
                let upstream = match through {
                    // Made through the key's connection: the operator keeps that connection as
                    // its data products agree.
                    Some(objects)
                        if objects.connection.as_ref().map(|c| Binding::Connection(c.id.clone()))
                            == Some(binding.clone()) =>
                    {
                        Upstream::ThroughConnection(objects)
                    }
                    // V1, or a data source adopted with a connection of its own: left as it is.
                    _ => Upstream::KnownFromStatus { binding },
                };
                let observed = Observed { upstream, data_source: Some(ds), config_unchanged, adopt: false };
                return Ok(Observation { observed, effects });
            }
            _ => {
                forget_missing(&mut effects, ds_id);
            }
        }
    }
    // Never adopted yet (an adopted data source deleted since is replaced as any other).
    if let Some(adopt) = t.adopt.as_ref().filter(|_| status.adopted_description.is_none()) {
        return adoptee(t, adopt, caller, effects).await;
    }
    if let Some(objects) = through {
        let data_source = match &objects.connection {
            Some(c) if c.is_ready() => data_source_by_name(ctx, t, caller, &mut effects).await?,
            _ => None,
        };
        if let Some(ds) = &data_source {
            effects.record(Record::DataSource { id: ds.id.clone(), name: ds.name.clone() });
            if let Some(binding) = bound_in(ds, t.generation) {
                effects.record(binding_record(&binding));
            }
        }
        let upstream = Upstream::ThroughConnection(objects);
        let observed = Observed { upstream, data_source, config_unchanged: false, adopt: false };
        return Ok(Observation { observed, effects });
    }
    let shared = shared_objects(ctx, t, caller).await?;
    effects.record(Record::Blueprint(shared.blueprint.clone()));
    if let Some(profile) = &shared.profile {
        effects.record(Record::Profile(profile.clone()));
    }
    if let Some(env) = &shared.environment {
        effects.record(Record::Environment(env.id.clone()));
    }
    let data_source = match &shared.environment {
        Some(env) if env.status == EnvironmentStatus::Active => {
            data_source_by_name(ctx, t, caller, &mut effects).await?
        }
        _ => None,
    };
    if let Some(ds) = &data_source {
        effects.record(Record::DataSource { id: ds.id.clone(), name: ds.name.clone() });
    }
    let observed = Observed { upstream: Upstream::Looked(shared), data_source, config_unchanged: false, adopt: false };
    Ok(Observation { observed, effects })
}

/// The data source `spec.adopt` names, checked for adoption: in its own environment (adoption
/// creates no profile or environment); a refusal blocks the data product until a person acts,
/// with the check that failed as the reason (docs/datazone-semantics.md §4).
async fn adoptee<B: Backend>(
    t: &Target<B>,
    adopt: &Adoption,
    caller: &str,
    mut effects: Effects,
) -> Result<Observation, Blocked> {
    const PHASE: Phase = Phase::DataSourceReady;
    let blocked = |e| Blocked::dz(PHASE, e);
    let (id, what) = match (&adopt.data_source_id, &adopt.data_source_name) {
        (Some(id), _) => (Some(id.clone()), id.clone()),
        (None, Some(name)) => {
            let id = t.dz.find_data_source(&t.domain, &t.project, name).await.map_err(blocked)?;
            (id, format!("named {name} in the project"))
        }
        (None, None) => (None, "named".to_string()),
    };
    let found = match id {
        Some(id) => t.dz.get_data_source(&t.domain, &id).await.map_err(blocked)?,
        None => None,
    };
    let wanted =
        adoption::Wanted { project: &t.project, storage: &t.storage, database: &t.config.database, uid: caller };
    let refused = |r: adoption::Refusal| Blocked::terminal(PHASE, r.reason, r.message);
    let ds = found.ok_or_else(|| refused(adoption::not_found(&what)))?;
    let verdict = adoption::check(&wanted, &ds).map_err(refused)?;
    let binding = bound_in(&ds, t.generation);
    if verdict == adoption::Verdict::AlreadyOurs {
        // Adopted before, and that pass's status write was lost: it is ours from here on.
        effects.record(Record::DataSource { id: ds.id.clone(), name: ds.name.clone() });
        if let Some(binding) = &binding {
            effects.record(binding_record(binding));
        }
        effects.record(Record::Adopted(String::new()));
    }
    let binding = binding.unwrap_or_else(|| match t.generation {
        Generation::V1 => Binding::Environment(String::new()),
        Generation::V2 => Binding::Connection(String::new()),
    });
    let observed = Observed {
        upstream: Upstream::KnownFromStatus { binding },
        data_source: Some(ds),
        config_unchanged: false,
        adopt: verdict == adoption::Verdict::Adopt,
    };
    Ok(Observation { observed, effects })
}

/// Where status says the data source was made: the environment (V1) or the connection (V2).
fn status_binding(status: &RedshiftDataProductStatus, generation: Generation) -> Option<Binding> {
    match generation {
        Generation::V1 => status.environment_id.clone().map(Binding::Environment),
        Generation::V2 => status.connection_id.clone().map(Binding::Connection),
    }
}

/// A data product that wrote its data source and follows it in the project's listing, when the
/// next listing is still to come: nothing to see before it, so the pass waits (it is woken when
/// the listing is taken).
pub fn awaiting_listing<B: Backend>(
    ctx: &Context<B>,
    t: &Target<B>,
    status: &RedshiftDataProductStatus,
    caller: &str,
) -> Option<Done> {
    let ds_id = status.data_source_id.as_deref()?;
    let since = wrote_wanted(ctx, t, ds_id, caller)?;
    let due = t.awaits_next_listing(ctx, caller, since)?;
    let mut effects = Effects::default();
    effects.not_yet(
        Phase::DataSourceReady,
        "Settling",
        format!("data source {ds_id} is settling; waiting for the project's next listing"),
    );
    Some(Done::new(effects, due))
}

/// A settled data product whose pass is only a resync (Ready for this generation, its last run
/// over with the configuration and catalog wanted now, no run requested) while the account's
/// pace is saturated: the pass makes no call and the data product comes back at its next resync
/// ([`crate::controller::fleet::held_resyncs`]). A changed spec or a requested run always goes.
pub fn resync_held_back<B: Backend>(
    ctx: &Context<B>,
    t: &Target<B>,
    p: &RedshiftDataProduct,
    status: &RedshiftDataProductStatus,
    caller: &str,
) -> bool {
    let requested = p.annotations().get(RECONCILE_REQUESTED_AT);
    let only_a_resync = settled(t, status)
        && conditions::is_true_for(&status.conditions, "Ready", p.metadata.generation)
        && requested.is_none_or(|at| status.last_handled_reconcile_at.as_ref() == Some(at));
    if !only_a_resync || !t.dz.saturated() {
        ctx.held_resyncs.forget(caller);
        return false;
    }
    let held = ctx.held_resyncs.hold(caller);
    if held {
        ctx.metrics.resyncs_held.inc();
        tracing::debug!("resync held back: DataZone calls queue at the account's pace");
    }
    held
}

/// When this process last wrote the configuration wanted now to the data source `ds_id` (its
/// next passes follow it in the project's listing); `None` if it did not.
fn wrote_wanted<B: Backend>(
    ctx: &Context<B>,
    t: &Target<B>,
    ds_id: &str,
    caller: &str,
) -> Option<tokio::time::Instant> {
    let flight = ctx.flights.get(caller);
    let wanted = flight.written.as_ref() == Some(&(ds_id.to_string(), config_hash(&t.config)));
    flight.not_before().filter(|_| wanted)
}

/// The data source status names, and whether its configuration is known without reading it:
/// from the shared listing right after this process wrote the wanted configuration, or when a
/// resync finds it unchanged there ([`unchanged`]); otherwise read in full (and its `updatedAt`
/// recorded for the next resync).
async fn known_data_source<B: Backend>(
    ctx: &Context<B>,
    t: &Target<B>,
    status: &RedshiftDataProductStatus,
    ds_id: &str,
    caller: &str,
    effects: &mut Effects,
) -> Result<Option<(DataSourceInfo, bool)>, Blocked> {
    let blocked = |e| Blocked::dz(Phase::DataSourceReady, e);
    // What the listing shows, and what to watch for there until the next pass.
    let (listed, expected) = match wrote_wanted(ctx, t, ds_id, caller) {
        Some(since) => {
            let listing = t.listing(ctx, caller, since, Demand::Settling).await.map_err(blocked)?;
            // A failed one is read in full for its error message; a missing one to be sure.
            let found = listing.as_ref().and_then(|l| l.by_id(ds_id).filter(|d| !d.status.is_failed()).cloned());
            // Still on its way: only a later listing can tell more.
            if let (Some(l), Some(d)) = (&listing, &found)
                && matches!(
                    d.status,
                    DataSourceStatus::Creating | DataSourceStatus::Updating | DataSourceStatus::Running
                )
            {
                ctx.flights.saw_settling(caller, l.taken);
            }
            let seen = found.as_ref().map(Expected::seen);
            (found, seen)
        }
        // Once a day it reads in full anyway: the listing carries no configuration (fleet::full_reads).
        None if settled(t, status) && !ctx.full_reads.due(caller) => {
            let expected = Expected::from_status(ds_id, status);
            let listing = t.listing(ctx, caller, ctx.started, Demand::Resync).await.map_err(blocked)?;
            let listed = listing.as_ref().and_then(|l| l.by_id(ds_id));
            match (&listing, listed) {
                (Some(_), Some(d)) if !expected.unchanged(d) => {
                    tracing::debug!(data_source = ds_id, listed = ?d, ?expected, "the listing shows the data source moved")
                }
                (Some(l), None) => {
                    tracing::debug!(
                        data_source = ds_id,
                        items = l.items.len(),
                        "the listing does not show the data source"
                    )
                }
                (None, _) => tracing::debug!(data_source = ds_id, "no listing: not worth it for this project now"),
                _ => {}
            }
            let found = listed.filter(|d| expected.unchanged(d)).cloned();
            if let Some(d) = found.as_ref().filter(|d| !expected.matches(d)) {
                // Moved only by its run's end: recorded, so the next resync matches it as it is.
                effects.record(Record::DataSourceSeen(d.updated_at.clone()));
            }
            (found, Some(expected))
        }
        None => (None, None),
    };
    match expected.filter(|_| listed.is_some()) {
        Some(expected) => t.watch_listing(ctx, caller, expected),
        // Read in full below; until it is in a listing again its own passes follow it.
        None => ctx.wakeups.forget(caller),
    }
    if let Some(d) = listed {
        let summary = DataSourceInfo {
            id: d.id,
            name: d.name,
            status: d.status,
            environment_id: d.environment_id,
            connection_id: d.connection_id,
            description: d.description,
            config: None,
            error: None,
            updated_at: d.updated_at,
            project_id: Some(t.project.clone()),
            kind: None,
        };
        return Ok(Some((summary, true)));
    }
    // Why, at debug level: a fleet's full reads after a restart are what a restart costs.
    tracing::debug!(
        data_source = ds_id,
        settled = settled(t, status),
        due = ctx.full_reads.due(caller),
        status_updated_at = status.data_source_updated_at.as_deref(),
        status_last_run = status.last_run.as_ref().map(|r| r.status.as_str()),
        "reading the data source in full"
    );
    let read = t.dz.get_data_source(&t.domain, ds_id).await.map_err(blocked)?;
    ctx.full_reads.read(caller);
    if let Some(ds) = &read {
        effects.record(Record::DataSourceSeen(ds.updated_at.clone()));
    }
    Ok(read.map(|ds| (ds, false)))
}

/// A data product whose last run ran with the configuration and catalog wanted now, and is over:
/// if DataZone has not changed its data source since, nothing is to be done.
fn settled<B: Backend>(t: &Target<B>, status: &RedshiftDataProductStatus) -> bool {
    let last = status.last_run.as_ref();
    status.data_source_updated_at.is_some()
        && last.is_some_and(|r| r.config_hash.as_deref() == Some(t.run_hash.as_str()))
        && last.is_some_and(|r| RunStatus::parse(&r.status).is_terminal())
}

/// The blueprint and its configuration, the profile and the environment, as far as they exist.
async fn shared_objects<B: Backend>(ctx: &Context<B>, t: &Target<B>, caller: &str) -> Result<SharedObjects, Blocked> {
    let domain = &t.domain;
    let blueprint = ctx
        .shared
        .ids
        .get_or_find(Lookup::Blueprint { domain: domain.clone() }, STABLE, || {
            t.producer.find_blueprint(domain, "DefaultDataWarehouse")
        })
        .await
        .map_err(|e| Blocked::dz(Phase::BlueprintEnabled, e))?
        .ok_or_else(|| {
            Blocked::terminal(
                Phase::BlueprintEnabled,
                "BlueprintNotFound",
                format!("domain {domain} has no DefaultDataWarehouse blueprint"),
            )
        })?;
    // Enabled once, it stays so: looked at again each resync, by one data product at a time.
    // Not enabled yet, what was seen is taken for a poll: the data product that looked first
    // enables it (act, under a lock where the others find it enabled), and the regions it is
    // already enabled in go with it (the configuration is per account).
    let enabled_key = Enabled { domain: domain.clone(), account: t.account.clone(), region: t.region.clone() };
    let fresh = |regions: &Vec<String>| if regions.contains(&t.region) { ctx.resync } else { ctx.poll };
    let enabled_in = match ctx.shared.enabled.get_with(&enabled_key, fresh) {
        Some(regions) => regions,
        None => {
            let lock = ctx.shared.enabled.lock(&enabled_key);
            let _looking = lock.lock().await;
            match ctx.shared.enabled.get_with(&enabled_key, fresh) {
                Some(regions) => regions,
                None => {
                    let regions = t
                        .producer
                        .blueprint_regions(domain, &blueprint)
                        .await
                        .map_err(|e| Blocked::dz(Phase::BlueprintEnabled, e))?
                        .unwrap_or_default();
                    ctx.shared.enabled.put(enabled_key, regions.clone());
                    regions
                }
            }
        }
    };
    let mut shared = SharedObjects {
        blueprint: blueprint.clone(),
        enablement: if enabled_in.contains(&t.region) {
            Enablement::Enabled
        } else {
            Enablement::Missing { region: t.region.clone(), enabled_in }
        },
        profile: None,
        environment: None,
    };
    if shared.enablement != Enablement::Enabled {
        return Ok(shared);
    }
    let profile_name = desired::profile_name(&t.account, &t.region, &t.storage);
    let lookup = Lookup::Profile { domain: domain.clone(), project: t.project.clone(), name: profile_name.clone() };
    let creation = Creation::Profile { domain: domain.clone(), project: t.project.clone(), name: profile_name.clone() };
    let find = || async {
        // A data product of this process creating the profile right now (`act`, under this
        // lock) is waited for rather than looked past: it remembers what it made.
        drop(ctx.shared.creating.get(&creation).lock().await);
        match ctx.shared.ids.get(&lookup, ctx.resync) {
            Some(id) => Ok(Some(id)),
            None => t.dz.find_profile(domain, &t.project, &profile_name).await,
        }
    };
    shared.profile = ctx
        .shared
        .ids
        .get_or_find(lookup.clone(), ctx.resync, find)
        .await
        .map_err(|e| Blocked::dz(Phase::EnvironmentReady, e))?;
    if shared.profile.is_some() {
        let new_profile = ctx.shared.new_profiles.get(&lookup, ctx.resync).is_some();
        shared.environment =
            find_environment(ctx, t, new_profile, caller).await.map_err(|e| Blocked::dz(Phase::EnvironmentReady, e))?;
    }
    Ok(shared)
}

/// The data product's environment. ACTIVE ones are cached for a resync; while environments
/// are being created, the data products waiting for any of them in the project share one
/// project-wide listing (at most [`settling_listing_age`] old), the first listing that shows
/// one settled wakes every data product waiting for it (`crate::controller::fleet::wakeups`), and only a failed one
/// is read for its reason.
async fn find_environment<B: Backend>(
    ctx: &Context<B>,
    t: &Target<B>,
    new_profile: bool,
    caller: &str,
) -> Result<Option<EnvironmentInfo>, DzError> {
    let key = t.environment_key();
    // ACTIVE ones for a resync; one settling is looked at again.
    let fresh =
        |env: &EnvironmentInfo| if env.status == EnvironmentStatus::Active { ctx.resync } else { Duration::ZERO };
    if let Some(env) = ctx.shared.environments.get_with(&key, fresh) {
        return Ok(Some(env));
    }
    // A profile this process created has no environment it did not make (and it remembers
    // those it made): a first publish does not list what cannot be there.
    if new_profile && ctx.shared.environments.get(&key, Duration::MAX).is_none() {
        return Ok(None);
    }
    let project = ProjectKey { domain: t.domain.clone(), project: t.project.clone() };
    let listing = ctx
        .shared
        .environment_listings
        .get_or_find(project.clone(), settling_listing_age(ctx.poll), || async {
            let all = t.dz.list_environments(&t.domain, &t.project).await?;
            // Every ACTIVE one is known for a resync: the data products it wakes, and those of
            // the project's other environments, look no further.
            for (name, env) in all.iter().filter(|(_, env)| env.status == EnvironmentStatus::Active) {
                let key = EnvironmentKey { domain: t.domain.clone(), project: t.project.clone(), name: name.clone() };
                ctx.shared.environments.put(key, env.clone());
            }
            ctx.wakeups.environments_listed(&project, &all, caller);
            Ok(Some(Arc::new(all)))
        })
        .await?
        .unwrap_or_default();
    let Some((_, found)) = listing.iter().find(|(name, _)| *name == key.name) else { return Ok(None) };
    let env = match &found.status {
        EnvironmentStatus::Active => {
            ctx.shared.environments.put(key, found.clone());
            found.clone()
        }
        s if s.is_settling() => {
            let object = ObjectRef::new(&t.name).within(&t.namespace);
            ctx.wakeups.await_environment(&project, &key.name, caller, object);
            found.clone()
        }
        // The listing has no failure reason.
        _ => t.dz.get_environment(&t.domain, &found.id).await?,
    };
    Ok(Some(env))
}

/// How old the project's listing of environments may be for a data product whose environment
/// is settling: a fifth of the poll interval (1 s by default). Hundreds of data products looking
/// within it share one call, and one looking later sees a settled environment as soon as it looks.
fn settling_listing_age(poll: Duration) -> Duration {
    poll / 5
}

/// Data source `id` is gone from DataZone: status forgets it (the next look finds it by name or
/// makes it again), and a Warning Event says so.
pub fn forget_missing<'e>(effects: &'e mut Effects, id: &str) -> &'e mut Effects {
    effects.record(Record::DataSourceGone).event(
        EventType::Warning,
        "DataSourceMissing",
        format!("data source {id} is gone from DataZone; it will be recreated"),
    )
}

/// Find by name before create (a crash between a create and its status write, or a data product
/// applied again after a Retain deletion), in the project's shared listing: one call for every
/// data product about to create its data source.
async fn data_source_by_name<B: Backend>(
    ctx: &Context<B>,
    t: &Target<B>,
    caller: &str,
    effects: &mut Effects,
) -> Result<Option<DataSourceInfo>, Blocked> {
    let blocked = |e| Blocked::dz(Phase::DataSourceReady, e);
    let not_before = ctx.flights.get(caller).since.unwrap_or(ctx.started);
    // No look of its own before creating: data source names are unique in a project and the
    // client token makes a retried create return the same one (docs/datazone-semantics.md §4),
    // so a data source of this name (ours from a lost answer, or anyone's) answers "name taken"
    // and is found then (act::found_taken_name). A recent listing someone else took is free.
    let Some(listing) = t.listing_at_hand(ctx, not_before) else { return Ok(None) };
    let Some(found) = listing.by_name(&t.ds_name).map(|d| d.id.clone()) else { return Ok(None) };
    let ds = t.dz.get_data_source(&t.domain, &found).await.map_err(blocked)?;
    if let Some(ds) = ds.as_ref().filter(|ds| desired::is_ours(ds.description.as_deref())) {
        effects.event(
            EventType::Normal,
            "DataSourceFound",
            format!("data source {} ({}) exists and was created by this operator; taking it over", t.ds_name, ds.id),
        );
    }
    Ok(ds)
}
