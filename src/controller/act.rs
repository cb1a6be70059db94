//! Act: the one mutating DataZone call a step asks for, and what it leaves in status and Events.
//! Shared objects are created under a per-key lock after a second look, so two data products
//! never create one twice.

use std::time::Duration;

use kube::runtime::events::EventType;

use super::desired::{self, config_hash};
use super::observe::Seen;
use super::plan::Step;
use super::reconcile::{Blocked, Pass, TERMINAL_RETRY};
use super::runs;
use super::target::Target;
use crate::crd::conditions::{BLUEPRINT_ENABLED, DATA_SOURCE_READY, ENVIRONMENT_READY, PUBLISHED};
use crate::crd::{RECONCILE_REQUESTED_AT, RedshiftDataProduct};
use crate::datazone::{BlueprintEnablement, DataZone, Producer, ProfileSpec};

pub(super) async fn act(
    p: &RedshiftDataProduct,
    pass: &mut Pass<'_>,
    t: &Target,
    seen: &Seen,
    step: Step,
    requested_at: Option<&str>,
) -> Result<Duration, Blocked> {
    let ctx = pass.ctx;
    let poll = ctx.poll;
    Ok(match step {
        Step::EnableBlueprint => enable_blueprint(pass, t, seen).await?,
        Step::CreateProfile => create_profile(pass, t, seen).await?,
        Step::CreateEnvironment => create_environment(pass, t, seen).await?,
        Step::WaitEnvironment => {
            let (id, status) =
                seen.environment.as_ref().map(|e| (e.id.as_str(), e.status.as_str())).unwrap_or_default();
            pass.not_yet(ENVIRONMENT_READY, "Creating", &format!("environment {id} is {status}"));
            poll
        }
        Step::EnvironmentFailed(why) => {
            pass.stalled = true;
            pass.not_yet(ENVIRONMENT_READY, "EnvironmentFailed", &why);
            TERMINAL_RETRY
        }
        Step::CreateDataSource => create_data_source(p, pass, t, seen).await?,
        Step::NotOurs(id) => {
            pass.stalled = true;
            let message = format!(
                "a data source named {} ({id}) exists in the project but was not created by this operator; it is left alone",
                t.ds_name
            );
            pass.not_yet(DATA_SOURCE_READY, "NameTaken", &message);
            TERMINAL_RETRY
        }
        Step::WaitDataSource(status) => {
            pass.not_yet(DATA_SOURCE_READY, "Settling", &format!("data source is {status}"));
            poll
        }
        Step::DataSourceFailed(why) => {
            pass.stalled = true;
            pass.not_yet(DATA_SOURCE_READY, "DataSourceFailed", &why);
            TERMINAL_RETRY
        }
        Step::UpdateDataSource => update_data_source(pass, t).await?,
        Step::StartRun(reason) => runs::start_run(pass, t, p, reason, requested_at).await?,
        Step::WaitRun(id) => {
            pass.not_yet(PUBLISHED, "Running", &format!("data source run {id} is in progress"));
            poll
        }
        Step::RunGaveUp => {
            ctx.flights.landed(&pass.key);
            pass.stalled = true;
            let why = runs::run_failure_message(&pass.status);
            let message = format!(
                "{why}; not retried again until the spec, the catalog or the {RECONCILE_REQUESTED_AT} annotation changes"
            );
            pass.not_yet(PUBLISHED, "RunFailed", &message);
            ctx.resync
        }
        Step::Done => runs::published_outcome(pass),
    })
}

async fn enable_blueprint(pass: &mut Pass<'_>, t: &Target, seen: &Seen) -> Result<Duration, Blocked> {
    let ctx = pass.ctx;
    let (domain, account, region) = (&t.domain, &t.account, &t.region);
    let lock = ctx.cache.lock(&format!("enable|{domain}|{account}"));
    let _guard = lock.lock().await;
    let enabled_key = format!("blueprint-enabled|{domain}|{account}|{region}");
    if ctx.cache.get(&enabled_key, ctx.resync).is_some() {
        // Another data product enabled it while we waited for the lock.
        return Ok(Duration::from_millis(100));
    }
    // The configuration is per account: keep the regions it is already enabled in.
    let mut regions = seen.blueprint_regions.clone().unwrap_or_default();
    regions.push(region.clone());
    regions.sort();
    regions.dedup();
    let enable = BlueprintEnablement {
        regions,
        provisioning_role_arn: t.producer_roles.provisioning_role_arn.clone(),
        manage_access_role_arn: t.producer_roles.manage_access_role_arn.clone(),
        regional_parameters: t.producer_roles.regional_parameters.clone(),
    };
    let blueprint = seen.blueprint.clone().unwrap_or_default();
    t.producer
        .enable_blueprint(domain, &blueprint, &enable)
        .await
        .map_err(|e| Blocked::from_dz(BLUEPRINT_ENABLED, e, ctx, &pass.key))?;
    ctx.cache.put(&enabled_key, "yes");
    let message = format!("DefaultDataWarehouse enabled for account {account} in {region}");
    pass.ok(BLUEPRINT_ENABLED, "Enabled", &message);
    pass.event(EventType::Normal, "BlueprintEnabled", message);
    Ok(Duration::from_millis(200))
}

async fn create_profile(pass: &mut Pass<'_>, t: &Target, seen: &Seen) -> Result<Duration, Blocked> {
    let ctx = pass.ctx;
    let profile_name = desired::profile_name(&t.account, &t.region, &t.storage);
    let lock = ctx.cache.lock(&format!("create|profile|{}|{}|{profile_name}", t.domain, t.project));
    let _guard = lock.lock().await;
    let blocked = |e| Blocked::from_dz(ENVIRONMENT_READY, e, ctx, &pass.key);
    // Another data product may have created it while we waited for the lock.
    if t.dz.find_profile(&t.domain, &t.project, &profile_name).await.map_err(blocked)?.is_none() {
        let spec = ProfileSpec {
            name: profile_name.clone(),
            project_id: t.project.clone(),
            blueprint_id: seen.blueprint.clone().unwrap_or_default(),
            account: t.account.clone(),
            region: t.region.clone(),
            storage: t.storage.clone(),
            secret_arn: t.config.secret_arn.clone(),
        };
        let id = t.dz.create_profile(&t.domain, &spec).await.map_err(blocked)?;
        pass.status.environment_profile_id = Some(id.clone());
        pass.event(
            EventType::Normal,
            "EnvironmentProfileCreated",
            format!("created environment profile {profile_name} ({id})"),
        );
    }
    pass.not_yet(ENVIRONMENT_READY, "Creating", "environment profile ready; creating the environment");
    Ok(Duration::from_millis(200))
}

async fn create_environment(pass: &mut Pass<'_>, t: &Target, seen: &Seen) -> Result<Duration, Blocked> {
    let ctx = pass.ctx;
    let database = &t.config.database;
    let env_name = desired::environment_name(&t.account, &t.region, &t.storage, database);
    let lock = ctx.cache.lock(&format!("create|env|{}|{}|{env_name}", t.domain, t.project));
    let _guard = lock.lock().await;
    let blocked = |e| Blocked::from_dz(ENVIRONMENT_READY, e, ctx, &pass.key);
    let env = match t.dz.find_environment(&t.domain, &t.project, &env_name).await.map_err(blocked)? {
        Some(env) => env,
        None => {
            let profile = seen.profile.clone().unwrap_or_default();
            let env =
                t.dz.create_environment(&t.domain, &t.project, &profile, &env_name, database).await.map_err(blocked)?;
            pass.event(EventType::Normal, "EnvironmentCreated", format!("created environment {env_name} ({})", env.id));
            env
        }
    };
    pass.status.environment_id = Some(env.id.clone());
    pass.not_yet(ENVIRONMENT_READY, "Creating", &format!("environment {env_name} is {}", env.status));
    Ok(ctx.poll)
}

async fn create_data_source(
    p: &RedshiftDataProduct,
    pass: &mut Pass<'_>,
    t: &Target,
    seen: &Seen,
) -> Result<Duration, Blocked> {
    let ctx = pass.ctx;
    let env_id = seen.environment.as_ref().map(|e| e.id.clone()).unwrap_or_default();
    let uid = p.metadata.uid.clone().unwrap_or_default();
    // The client token makes a retried create (lost answer, crash) return the same data source;
    // DataZone's unique names per project catch the rest (the listing looked at may be a poll
    // interval old).
    let token = format!("{uid}-{}", p.metadata.generation.unwrap_or(0));
    let description = desired::description(&ctx.cluster_name, &t.namespace, &t.name, &uid);
    let created =
        t.dz.create_data_source(&t.domain, &t.project, &env_id, &t.ds_name, &description, &t.config, &token).await;
    let ds = match created {
        Ok(ds) => ds,
        Err(e) if e.is_name_taken() => return found_taken_name(pass, t).await,
        Err(e) => return Err(Blocked::from_dz(DATA_SOURCE_READY, e, ctx, &pass.key)),
    };
    ctx.flights.wrote(&pass.key, Some((ds.id.clone(), config_hash(&t.config))));
    let recreated = p.status.as_ref().is_some_and(|s| s.data_source_id.is_some());
    pass.status.data_source_id = Some(ds.id.clone());
    pass.status.data_source_name = Some(ds.name.clone());
    // A new data source has no runs yet.
    pass.status.last_run = None;
    pass.status.consecutive_run_failures = None;
    pass.event(
        EventType::Normal,
        if recreated { "DataSourceRecreated" } else { "DataSourceCreated" },
        format!("created data source {} ({})", t.ds_name, ds.id),
    );
    pass.not_yet(DATA_SOURCE_READY, "Creating", &format!("data source {} is {}", ds.id, ds.status));
    Ok(ctx.poll)
}

/// CreateDataSource said the name is taken although the look before did not show it. The
/// data source of that name goes into status; the next pass reads it and takes it over if it is
/// ours, or reports NameTaken.
async fn found_taken_name(pass: &mut Pass<'_>, t: &Target) -> Result<Duration, Blocked> {
    let ctx = pass.ctx;
    let found =
        t.dz.find_data_source(&t.domain, &t.project, &t.ds_name)
            .await
            .map_err(|e| Blocked::from_dz(DATA_SOURCE_READY, e, ctx, &pass.key))?;
    let Some(found) = found else {
        let message = format!("DataZone says the name {} is taken, but lists no data source of that name", t.ds_name);
        return Err(Blocked::retryable(DATA_SOURCE_READY, "NameTaken", message, ctx.backoff(&pass.key)));
    };
    pass.status.data_source_id = Some(found.clone());
    pass.status.data_source_name = Some(t.ds_name.clone());
    let message = format!("data source {} ({found}) already exists", t.ds_name);
    pass.event(
        EventType::Normal,
        "DataSourceFound",
        format!("{message}; it is taken over if this operator created it"),
    );
    pass.not_yet(DATA_SOURCE_READY, "Found", &message);
    Ok(Duration::from_millis(100))
}

async fn update_data_source(pass: &mut Pass<'_>, t: &Target) -> Result<Duration, Blocked> {
    let ctx = pass.ctx;
    let ds_id = pass.status.data_source_id.clone().unwrap_or_default();
    t.dz.update_data_source(&t.domain, &ds_id, &t.config)
        .await
        .map_err(|e| Blocked::from_dz(DATA_SOURCE_READY, e, ctx, &pass.key))?;
    ctx.flights.wrote(&pass.key, Some((ds_id.clone(), config_hash(&t.config))));
    pass.event(
        EventType::Normal,
        "DataSourceUpdated",
        format!("updated data source {} ({ds_id}) to the spec", t.ds_name),
    );
    pass.not_yet(DATA_SOURCE_READY, "Updating", &format!("data source {ds_id} is being updated"));
    Ok(ctx.poll)
}
