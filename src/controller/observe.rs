//! Observe: what DataZone holds for one data product. In the steady state that is one read, its
//! data source by the ID in status; right after this process wrote the configuration it wants, a
//! look in the project's shared listing instead; otherwise the shared objects (blueprint and its
//! configuration, profile, environment), cached and coalesced, then the data source by name.

use kube::runtime::events::EventType;

use super::context::Context;
use super::desired::{self, config_hash};
use super::plan::Observed;
use super::reconcile::{Blocked, Pass};
use super::target::{STABLE, Target};
use crate::crd::conditions::{BLUEPRINT_ENABLED, DATA_SOURCE_READY, ENVIRONMENT_READY};
use crate::datazone::{DataSourceInfo, DataZone, DzError, EnvironmentInfo, Producer};

#[derive(Default)]
pub(super) struct Seen {
    pub blueprint: Option<String>,
    /// Regions the blueprint is enabled in for the producer account.
    pub blueprint_regions: Option<Vec<String>>,
    /// The environment profile ID (empty when known to exist but not looked up).
    pub profile: Option<String>,
    pub environment: Option<EnvironmentInfo>,
    pub data_source: Option<DataSourceInfo>,
}

impl Seen {
    pub fn observed(&self) -> Observed<'_> {
        Observed {
            blueprint_regions: self.blueprint_regions.as_deref(),
            profile: self.profile.as_deref(),
            environment: self.environment.as_ref(),
            data_source: self.data_source.as_ref(),
        }
    }
}

pub(super) async fn observe(pass: &mut Pass<'_>, t: &Target) -> Result<Seen, Blocked> {
    let mut seen = Seen::default();
    if let (Some(ds_id), Some(env_id)) = (pass.status.data_source_id.clone(), pass.status.environment_id.clone()) {
        match known_data_source(pass, t, &ds_id).await? {
            // Found where status said: everything before it exists.
            Some(ds) if ds.environment_id.as_deref() == Some(&env_id) => {
                seen.blueprint_regions = Some(vec![t.region.clone()]);
                seen.profile = pass.status.environment_profile_id.clone().or(Some(String::new()));
                seen.environment = Some(EnvironmentInfo { id: env_id, status: "ACTIVE".into(), failure: None });
                seen.data_source = Some(ds);
            }
            _ => {
                pass.event(
                    EventType::Warning,
                    "DataSourceMissing",
                    format!("data source {ds_id} is gone from DataZone; it will be recreated"),
                );
                pass.status.data_source_id = None;
            }
        }
    }
    if seen.data_source.is_none() {
        shared_objects(pass, t, &mut seen).await?;
        if seen.environment.as_ref().is_some_and(|e| e.status == "ACTIVE") {
            seen.data_source = data_source_by_name(pass, t).await?;
        }
    }
    if let Some(pid) = seen.profile.as_ref().filter(|p| !p.is_empty()) {
        pass.status.environment_profile_id = Some(pid.clone());
    }
    if let Some(env) = &seen.environment {
        pass.status.environment_id = Some(env.id.clone());
    }
    if let Some(ds) = &seen.data_source {
        pass.status.data_source_id = Some(ds.id.clone());
        pass.status.data_source_name = Some(ds.name.clone());
    }
    Ok(seen)
}

/// The data source status names: from the shared listing when this process just wrote the
/// configuration the spec wants (the listing has no configuration, so only then), else read.
async fn known_data_source(pass: &Pass<'_>, t: &Target, ds_id: &str) -> Result<Option<DataSourceInfo>, Blocked> {
    let ctx = pass.ctx;
    let flight = ctx.flights.get(&pass.key);
    let wrote_this = flight.written.as_ref() == Some(&(ds_id.to_string(), config_hash(&t.config)));
    if let Some(since) = flight.since.filter(|_| wrote_this) {
        let listing = t
            .listing(ctx, &pass.key, since)
            .await
            .map_err(|e| Blocked::from_dz(DATA_SOURCE_READY, e, ctx, &pass.key))?;
        // A failed one is read in full for its error message; a missing one to be sure.
        if let Some(d) = listing.as_ref().and_then(|l| l.by_id(ds_id)).filter(|d| !d.status.starts_with("FAILED")) {
            return Ok(Some(DataSourceInfo {
                id: d.id.clone(),
                name: d.name.clone(),
                status: d.status.clone(),
                environment_id: d.environment_id.clone(),
                description: d.description.clone(),
                config: Some(t.config.clone()),
                error: None,
            }));
        }
    }
    t.dz.get_data_source(&t.domain, ds_id).await.map_err(|e| Blocked::from_dz(DATA_SOURCE_READY, e, ctx, &pass.key))
}

/// The blueprint and its configuration, the profile and the environment, as far as they exist.
async fn shared_objects(pass: &mut Pass<'_>, t: &Target, seen: &mut Seen) -> Result<(), Blocked> {
    let ctx = pass.ctx;
    let key = pass.key.clone();
    let domain = &t.domain;
    let bp = ctx
        .cache
        .get_or_find(&format!("blueprint|{domain}"), STABLE, || {
            t.producer.find_blueprint(domain, "DefaultDataWarehouse")
        })
        .await
        .map_err(|e| Blocked::from_dz(BLUEPRINT_ENABLED, e, ctx, &key))?
        .ok_or_else(|| {
            Blocked::terminal(
                BLUEPRINT_ENABLED,
                "BlueprintNotFound",
                format!("domain {domain} has no DefaultDataWarehouse blueprint"),
            )
        })?;
    pass.status.blueprint_id = Some(bp.clone());
    seen.blueprint = Some(bp.clone());
    // Enabled once, it stays so: looked at again each resync, by one data product at a time.
    let enabled_key = format!("blueprint-enabled|{domain}|{}|{}", t.account, t.region);
    let mut regions = None;
    let enabled = ctx
        .cache
        .get_or_find(&enabled_key, ctx.resync, || async {
            regions = t.producer.blueprint_regions(domain, &bp).await?;
            Ok(regions.as_ref().filter(|r| r.contains(&t.region)).map(|_| "yes".to_string()))
        })
        .await
        .map_err(|e| Blocked::from_dz(BLUEPRINT_ENABLED, e, ctx, &key))?;
    seen.blueprint_regions = if enabled.is_some() { Some(vec![t.region.clone()]) } else { regions };
    if enabled.is_none() {
        return Ok(());
    }
    let profile_name = desired::profile_name(&t.account, &t.region, &t.storage);
    seen.profile = ctx
        .cache
        .get_or_find(&format!("profile|{domain}|{}|{profile_name}", t.project), ctx.resync, || {
            t.dz.find_profile(domain, &t.project, &profile_name)
        })
        .await
        .map_err(|e| Blocked::from_dz(ENVIRONMENT_READY, e, ctx, &key))?;
    if seen.profile.is_some() {
        seen.environment =
            find_environment(ctx, t).await.map_err(|e| Blocked::from_dz(ENVIRONMENT_READY, e, ctx, &key))?;
    }
    Ok(())
}

/// The data product's environment; settled ones are cached for a resync, and while one is being
/// created the data products waiting for it share one look per poll interval.
async fn find_environment(ctx: &Context, t: &Target) -> Result<Option<EnvironmentInfo>, DzError> {
    let env_name = desired::environment_name(&t.account, &t.region, &t.storage, &t.config.database);
    let cache_key = format!("env|{}|{}|{env_name}", t.domain, t.project);
    let active = || {
        ctx.cache.get(&cache_key, ctx.resync).map(|id| EnvironmentInfo { id, status: "ACTIVE".into(), failure: None })
    };
    if let Some(env) = active() {
        return Ok(Some(env));
    }
    let lock = ctx.cache.lock(&cache_key);
    let _guard = lock.lock().await;
    if let Some(env) = active() {
        return Ok(Some(env));
    }
    let pending_key = format!("pending|{cache_key}");
    if let Some((id, status)) = ctx.cache.get(&pending_key, ctx.poll).as_deref().and_then(|v| v.split_once(' ')) {
        return Ok(Some(EnvironmentInfo { id: id.to_string(), status: status.to_string(), failure: None }));
    }
    let Some(found) = t.dz.find_environment(&t.domain, &t.project, &env_name).await? else { return Ok(None) };
    let env = if found.status == "ACTIVE" { found } else { t.dz.get_environment(&t.domain, &found.id).await? };
    match env.status.as_str() {
        "ACTIVE" => ctx.cache.put(&cache_key, &env.id),
        "CREATING" | "UPDATING" => ctx.cache.put(&pending_key, &format!("{} {}", env.id, env.status)),
        _ => {}
    }
    Ok(Some(env))
}

/// Find by name before create (a crash between a create and its status write, or a data product
/// applied again after a Retain deletion), in the project's shared listing: one call for every
/// data product about to create its data source.
async fn data_source_by_name(pass: &mut Pass<'_>, t: &Target) -> Result<Option<DataSourceInfo>, Blocked> {
    let ctx = pass.ctx;
    let not_before = ctx.flights.get(&pass.key).since.unwrap_or(ctx.started);
    let blocked = |e| Blocked::from_dz(DATA_SOURCE_READY, e, ctx, &pass.key);
    let found = match t.listing(ctx, &pass.key, not_before).await.map_err(blocked)? {
        Some(listing) => listing.by_name(&t.ds_name).map(|d| d.id.clone()),
        None => t.dz.find_data_source(&t.domain, &t.project, &t.ds_name).await.map_err(blocked)?,
    };
    let Some(found) = found else { return Ok(None) };
    let ds =
        t.dz.get_data_source(&t.domain, &found)
            .await
            .map_err(|e| Blocked::from_dz(DATA_SOURCE_READY, e, ctx, &pass.key))?;
    if let Some(ds) = ds.as_ref().filter(|ds| desired::is_ours(ds.description.as_deref())) {
        pass.event(
            EventType::Normal,
            "DataSourceFound",
            format!("data source {} ({}) exists and was created by this operator; taking it over", t.ds_name, ds.id),
        );
    }
    Ok(ds)
}
