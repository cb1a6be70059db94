//! Act: the one mutating DataZone call a step asks for, and what it leaves in status and Events
//! (returned as [`Effects`]). Shared objects are created under a per-key lock after a second
//! look, so two data products never create one twice.

use std::time::Duration;

use kube::runtime::events::EventType;

use super::redshift_connection;
use super::runs::{self, RunStart, Runs};
use super::target::Target;
use crate::controller::context::Context;
use crate::controller::decide::desired::{self, bound_in, config_hash};
use crate::controller::decide::environment_room::ENVIRONMENTS_PER_DOMAIN;
use crate::controller::decide::pass::{Blocked, Done, Effects, Phase, Record, TERMINAL_RETRY, binding_record};
use crate::controller::decide::plan::Step;
use crate::controller::fleet::keys::{Creation, Enabled, Lookup};
use crate::crd::{RECONCILE_REQUESTED_AT, RedshiftDataProductStatus};
use crate::datazone::{Backend, Binding, BlueprintEnablement, DataZone, Producer, ProfileSpec};

/// What acting needs to know of the data product beyond its target.
pub struct Subject<'a> {
    /// The object's UID ([`crate::controller::decide::pass::uid`]): client tokens, the ownership description and the
    /// in-memory state (flights, backoff) derive from it.
    pub uid: &'a str,
    pub generation: Option<i64>,
    /// Status as the pass found it.
    pub status: &'a RedshiftDataProductStatus,
    pub requested_at: Option<&'a str>,
    pub now: &'a str,
}

pub async fn act<B: Backend>(ctx: &Context<B>, t: &Target<B>, who: &Subject<'_>, step: Step) -> Result<Done, Blocked> {
    let mut e = Effects::default();
    let requeue = match step {
        Step::EnableBlueprint { blueprint, regions } => enable_blueprint(ctx, t, &blueprint, regions, &mut e).await?,
        Step::CreateProfile { blueprint } => create_profile(ctx, t, &blueprint, &mut e).await?,
        Step::CreateEnvironment { profile } => create_environment(ctx, t, &profile, &mut e).await?,
        Step::WaitEnvironment { environment, status } => {
            e.not_yet(Phase::EnvironmentReady, "Creating", format!("environment {environment} is {status}"));
            ctx.poll
        }
        Step::EnvironmentFailed { why, .. } => {
            e.stall().not_yet(Phase::EnvironmentReady, "EnvironmentFailed", why);
            TERMINAL_RETRY
        }
        Step::NoProjectEnvironment => {
            let message = format!(
                "project {} has no ACTIVE Tooling environment to make the Redshift connection in (a V2 project gets one from its project profile)",
                t.project
            );
            e.stall().not_yet(Phase::ConnectionReady, "ProjectEnvironmentMissing", message);
            TERMINAL_RETRY
        }
        Step::CreateConnection { environment } => redshift_connection::create(ctx, t, &environment, &mut e).await?,
        Step::ConnectionNotOurs { connection } => {
            let name = redshift_connection::key(t).name;
            let message = format!(
                "a connection named {name} ({connection}) exists in the project but was not created by this operator; it is left alone"
            );
            e.stall().not_yet(Phase::ConnectionReady, "ConnectionNameTaken", message);
            TERMINAL_RETRY
        }
        Step::WaitConnection { connection, status } => {
            e.not_yet(Phase::ConnectionReady, "NotReady", format!("Redshift connection {connection} is {status}"));
            ctx.poll
        }
        Step::ConnectionFailed { connection, status } => {
            let message = format!("Redshift connection {connection} is {status}");
            e.stall().not_yet(Phase::ConnectionReady, "ConnectionFailed", message);
            TERMINAL_RETRY
        }
        Step::SecretConflict { connection, with } => {
            let message = format!(
                "the shared Redshift connection {connection} reads with another credentials secret than this data product's, and {} ask for other secrets; it is changed when the data products of this cluster and database agree",
                with.join(", ")
            );
            e.not_yet(Phase::ConnectionReady, "SecretConflict", message);
            ctx.poll
        }
        Step::UpdateConnection { connection, patch } => {
            redshift_connection::update(ctx, t, &connection, &patch, &mut e).await?
        }
        Step::CreateDataSource { binding } => create_data_source(ctx, t, who, &binding, &mut e).await?,
        Step::NotOurs { data_source } => {
            let message = format!(
                "a data source named {} ({data_source}) exists in the project but was not created by this operator; it is left alone",
                t.ds_name
            );
            e.stall().not_yet(Phase::DataSourceReady, "NameTaken", message);
            TERMINAL_RETRY
        }
        Step::WaitDataSource { status, .. } => {
            e.not_yet(Phase::DataSourceReady, "Settling", format!("data source is {status}"));
            ctx.poll
        }
        Step::DataSourceFailed { why, .. } => {
            e.stall().not_yet(Phase::DataSourceReady, "DataSourceFailed", why);
            TERMINAL_RETRY
        }
        Step::UpdateDataSource { data_source } => update_data_source(ctx, t, who.uid, &data_source, &mut e).await?,
        Step::AdoptDataSource { data_source } => adopt_data_source(ctx, t, who.uid, &data_source, &mut e).await?,
        Step::StartRun { data_source, reason } => {
            let start = RunStart {
                uid: who.uid,
                generation: who.generation,
                data_source: &data_source,
                reason,
                requested_at: who.requested_at,
            };
            return runs::start_run(ctx, t, who.status, start, who.uid, who.now).await;
        }
        Step::WaitRun { run } => {
            e.not_yet(Phase::Published, "Running", format!("data source run {run} is in progress"));
            ctx.poll
        }
        Step::RunGaveUp => {
            ctx.flights.landed(who.uid);
            let why = runs::run_failure_message(&Runs::of(who.status));
            let message = format!(
                "{why}; not retried again until the spec, the catalog or the {RECONCILE_REQUESTED_AT} annotation changes"
            );
            e.stall().not_yet(Phase::Published, "RunFailed", message);
            ctx.resync
        }
        Step::Done => runs::published_outcome(ctx, who.uid, &Runs::of(who.status), &mut e),
    };
    Ok(Done::new(e, requeue))
}

async fn enable_blueprint<B: Backend>(
    ctx: &Context<B>,
    t: &Target<B>,
    blueprint: &str,
    regions: Vec<String>,
    e: &mut Effects,
) -> Result<Duration, Blocked> {
    let (domain, account, region) = (&t.domain, &t.account, &t.region);
    let lock = ctx.shared.creating.get(&Creation::Enablement { domain: domain.clone(), account: account.clone() });
    let _guard = lock.lock().await;
    let enabled = Enabled { domain: domain.clone(), account: account.clone(), region: region.clone() };
    if ctx.shared.enabled.get(&enabled, ctx.resync).is_some_and(|seen| seen.contains(region)) {
        // Another data product enabled it while we waited for the lock.
        return Ok(Duration::from_millis(100));
    }
    let Some(roles) = &t.producer_roles else {
        let message = format!(
            "the connection names no producer roles (spec.producer): DefaultDataWarehouse cannot be enabled for account {account} in {region}"
        );
        return Err(Blocked::terminal(Phase::BlueprintEnabled, "NoProducerRoles", message));
    };
    // The configuration is per account: `regions` keeps the ones it is already enabled in.
    let enable = BlueprintEnablement {
        regions: regions.clone(),
        provisioning_role_arn: roles.provisioning_role_arn.clone(),
        manage_access_role_arn: roles.manage_access_role_arn.clone(),
        regional_parameters: roles.regional_parameters.clone(),
    };
    t.producer
        .enable_blueprint(domain, blueprint, &enable)
        .await
        .map_err(|e| Blocked::dz(Phase::BlueprintEnabled, e))?;
    ctx.shared.enabled.put(enabled, regions);
    let message = format!("DefaultDataWarehouse enabled for account {account} in {region}");
    e.ok(Phase::BlueprintEnabled, "Enabled", message.clone()).event(EventType::Normal, "BlueprintEnabled", message);
    Ok(Duration::from_millis(200))
}

/// A lock taken within this long was free: nobody in this process was creating the object.
const UNCONTENDED: Duration = Duration::from_millis(50);

async fn create_profile<B: Backend>(
    ctx: &Context<B>,
    t: &Target<B>,
    blueprint: &str,
    e: &mut Effects,
) -> Result<Duration, Blocked> {
    let profile_name = desired::profile_name(&t.account, &t.region, &t.storage);
    let creation =
        Creation::Profile { domain: t.domain.clone(), project: t.project.clone(), name: profile_name.clone() };
    let lock = ctx.shared.creating.get(&creation);
    let waited = tokio::time::Instant::now();
    let _guard = lock.lock().await;
    let blocked = |e| Blocked::dz(Phase::EnvironmentReady, e);
    let lookup = Lookup::Profile { domain: t.domain.clone(), project: t.project.clone(), name: profile_name.clone() };
    // This pass looked for the profile a moment ago (a found one is cached, a missing one is
    // looked for afresh). Another data product may have created it since — while we waited for
    // the lock, or just before we took it: this process remembers what it created or found (for
    // a resync, as the look trusts it); after a wait, anyone else's is found by name.
    let known = match ctx.shared.ids.get(&lookup, ctx.resync) {
        Some(id) => Some(id),
        None if waited.elapsed() < UNCONTENDED => None,
        None => t.dz.find_profile(&t.domain, &t.project, &profile_name).await.map_err(blocked)?,
    };
    if known.is_none() {
        let spec = ProfileSpec {
            name: profile_name.clone(),
            project_id: t.project.clone(),
            blueprint_id: blueprint.to_string(),
            account: t.account.clone(),
            region: t.region.clone(),
            storage: t.storage.clone(),
            secret_arn: t.config.secret_arn.clone(),
        };
        let id = t.dz.create_profile(&t.domain, &spec).await.map_err(blocked)?;
        ctx.shared.ids.put(lookup.clone(), id.clone());
        ctx.shared.new_profiles.put(lookup, ());
        e.record(Record::Profile(id.clone())).event(
            EventType::Normal,
            "EnvironmentProfileCreated",
            format!("created environment profile {profile_name} ({id})"),
        );
    }
    e.not_yet(Phase::EnvironmentReady, "Creating", "environment profile ready; creating the environment");
    Ok(Duration::from_millis(200))
}

async fn create_environment<B: Backend>(
    ctx: &Context<B>,
    t: &Target<B>,
    profile: &str,
    e: &mut Effects,
) -> Result<Duration, Blocked> {
    let key = t.environment_key();
    let lock = ctx.shared.creating.get(&Creation::Environment(key.clone()));
    let waited = tokio::time::Instant::now();
    let _guard = lock.lock().await;
    let blocked = |e| Blocked::dz(Phase::EnvironmentReady, e);
    let env_name = &key.name;
    // Created by another data product while we waited for the lock: cached since. Otherwise
    // create it: names are unique in a project (docs/datazone-semantics.md §3), so an environment
    // someone else made answers a conflict, and then it is found by name.
    let env = match ctx.shared.environments.get(&key, waited.elapsed()) {
        Some(env) => env,
        None => {
            // The domain's quota refused another data product's environment in the last ten
            // minutes: the same answer, without asking again (a plant of a thousand data products
            // would otherwise ask a thousand times, and again every ten minutes).
            if let Some(refused) = ctx.shared.environment_quota.get(&t.domain, TERMINAL_RETRY) {
                return Err(environment_quota(&t.domain, env_name, &refused));
            }
            let database = &t.config.database;
            match t.dz.create_environment(&t.domain, &t.project, profile, env_name, database).await {
                Ok(env) => {
                    let message = format!("created environment {env_name} ({})", env.id);
                    e.event(EventType::Normal, "EnvironmentCreated", message);
                    env
                }
                Err(err) if err.is_conflict() => {
                    t.dz.find_environment(&t.domain, &t.project, env_name)
                        .await
                        .map_err(blocked)?
                        .ok_or_else(|| Blocked::dz(Phase::EnvironmentReady, err))?
                }
                // The domain's quota of environments (500, docs/datazone-semantics.md §3): a
                // person must make room; looked at again every ten minutes, not retried.
                Err(err) if err.code == "ServiceQuotaExceededException" => {
                    ctx.shared.environment_quota.put(t.domain.clone(), err.message.clone());
                    return Err(environment_quota(&t.domain, env_name, &err.message));
                }
                Err(err) => return Err(blocked(err)),
            }
        }
    };
    // The others waiting for it see it at once, not after the project's listing expires.
    ctx.shared.environments.put(key.clone(), env.clone());
    e.record(Record::Environment(env.id.clone())).not_yet(
        Phase::EnvironmentReady,
        "Creating",
        format!("environment {env_name} is {}", env.status),
    );
    Ok(ctx.poll)
}

/// The condition of a data product whose environment the domain's quota refuses.
fn environment_quota(domain: &str, env_name: &str, refused: &str) -> Blocked {
    let message = format!(
        "domain {domain} holds as many environments as DataZone allows a domain ({ENVIRONMENTS_PER_DOMAIN} by default): environment {env_name} cannot be made until one is deleted or the quota raised ({refused})"
    );
    Blocked::terminal(Phase::EnvironmentReady, "EnvironmentQuotaExceeded", message)
}

async fn create_data_source<B: Backend>(
    ctx: &Context<B>,
    t: &Target<B>,
    who: &Subject<'_>,
    binding: &Binding,
    e: &mut Effects,
) -> Result<Duration, Blocked> {
    // The client token makes a retried create (lost answer, crash) return the same data source;
    // DataZone's unique names per project catch the rest (the listing looked at may be a poll
    // interval old).
    let token = format!("{}-{}", who.uid, who.generation.unwrap_or(0));
    let description = desired::description(&ctx.cluster_name, &t.namespace, &t.name, who.uid);
    let created =
        t.dz.create_data_source(&t.domain, &t.project, binding, &t.ds_name, &description, &t.config, &token).await;
    let ds = match created {
        Ok(ds) => ds,
        Err(err) if err.is_name_taken() => return found_taken_name(t, e).await,
        Err(err) => return Err(Blocked::dz(Phase::DataSourceReady, err)),
    };
    ctx.wrote(who.uid, Some((ds.id.clone(), config_hash(&t.config))));
    let recreated = who.status.data_source_id.is_some();
    if let Binding::Connection(_) = binding {
        // V2: status names the connection the data source is made through (V1's environment
        // was recorded when it was looked at).
        e.record(binding_record(binding));
    }
    e.record(Record::DataSource { id: ds.id.clone(), name: ds.name.clone() })
        .record(Record::RunsCleared)
        .event(
            EventType::Normal,
            if recreated { "DataSourceRecreated" } else { "DataSourceCreated" },
            format!("created data source {} ({})", t.ds_name, ds.id),
        )
        .not_yet(Phase::DataSourceReady, "Creating", format!("data source {} is {}", ds.id, ds.status));
    Ok(ctx.poll)
}

/// CreateDataSource said the name is taken although the look before did not show it. The
/// data source of that name goes into status; the next pass reads it and takes it over if it is
/// ours, or reports NameTaken.
async fn found_taken_name<B: Backend>(t: &Target<B>, e: &mut Effects) -> Result<Duration, Blocked> {
    let found =
        t.dz.find_data_source(&t.domain, &t.project, &t.ds_name)
            .await
            .map_err(|e| Blocked::dz(Phase::DataSourceReady, e))?;
    let Some(found) = found else {
        let message = format!("DataZone says the name {} is taken, but lists no data source of that name", t.ds_name);
        return Err(Blocked::retryable(Phase::DataSourceReady, "NameTaken", message));
    };
    let message = format!("data source {} ({found}) already exists", t.ds_name);
    e.record(Record::DataSource { id: found.clone(), name: t.ds_name.clone() })
        .event(EventType::Normal, "DataSourceFound", format!("{message}; it is taken over if this operator created it"))
        .not_yet(Phase::DataSourceReady, "Found", message);
    Ok(Duration::from_millis(100))
}

async fn update_data_source<B: Backend>(
    ctx: &Context<B>,
    t: &Target<B>,
    caller: &str,
    ds_id: &str,
    e: &mut Effects,
) -> Result<Duration, Blocked> {
    t.dz.update_data_source(&t.domain, ds_id, Some(&t.config), None)
        .await
        .map_err(|e| Blocked::dz(Phase::DataSourceReady, e))?;
    ctx.wrote(caller, Some((ds_id.to_string(), config_hash(&t.config))));
    e.event(EventType::Normal, "DataSourceUpdated", format!("updated data source {} ({ds_id}) to the spec", t.ds_name))
        .not_yet(Phase::DataSourceReady, "Updating", format!("data source {ds_id} is being updated"));
    Ok(ctx.poll)
}

/// Takes over the data source `spec.adopt` named (it passed the adoption checks): one update
/// brings it to the spec and marks it as ours; its name and environment stay. What its
/// description said before is kept in status, to give back on a Retain deletion.
async fn adopt_data_source<B: Backend>(
    ctx: &Context<B>,
    t: &Target<B>,
    caller: &str,
    ds_id: &str,
    e: &mut Effects,
) -> Result<Duration, Blocked> {
    let blocked = |e| Blocked::dz(Phase::DataSourceReady, e);
    // Its name, environment and the description to keep, read right before the update (the
    // adoption checks ran on the pass's look; they are not run again on this read).
    let Some(ds) = t.dz.get_data_source(&t.domain, ds_id).await.map_err(blocked)? else {
        let message = format!("data source {ds_id} is gone; nothing to adopt");
        return Err(Blocked::terminal(Phase::DataSourceReady, "AdoptionNotFound", message));
    };
    let mark = desired::description(&ctx.cluster_name, &t.namespace, &t.name, caller);
    t.dz.update_data_source(&t.domain, ds_id, Some(&t.config), Some(&mark)).await.map_err(blocked)?;
    ctx.wrote(caller, Some((ds_id.to_string(), config_hash(&t.config))));
    if let Some(binding) = bound_in(&ds, t.generation) {
        e.record(binding_record(&binding));
    }
    e.record(Record::DataSource { id: ds.id.clone(), name: ds.name.clone() })
        .record(Record::Adopted(ds.description.clone().unwrap_or_default()))
        .record(Record::RunsCleared)
        .event(
            EventType::Normal,
            "DataSourceAdopted",
            format!("adopted data source {} ({ds_id}) and brought it to the spec", ds.name),
        )
        .not_yet(Phase::DataSourceReady, "Updating", format!("data source {ds_id} is being updated"));
    Ok(ctx.poll)
}
