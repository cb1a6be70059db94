//! Where a subscription's grants land (`spec.redshift`), found before it is made and shared, one
//! per project, account, cluster or workgroup and database, by every subscription and data
//! product of the project (the names a data product's would have):
//!
//! - V1: the consuming project's data warehouse environment for the consumer's Redshift (it
//!   brings its Redshift subscription target);
//! - V2: the project's Redshift connection, and a Redshift subscription target of that name on the
//!   project's Tooling environment (V2 environments bring none of their own).
//!
//! It must be ready before the request is filed: DataZone grants into the targets a project has
//! at approval, and none made later (docs/datazone-semantics.md §15).

use super::follow::PHASE;
use crate::controller::context::Context;
use crate::controller::decide::desired;
use crate::controller::decide::pass::{Blocked, Note};
use crate::controller::fleet::cache::STABLE;
use crate::controller::fleet::keys::{Creation, EnvironmentKey, Lookup, RedshiftConnectionKey};
use crate::crd::ConsumerRedshift;
use crate::datazone::{
    Backend, ConnectionSpec, Consumer, DataZone, EnvironmentStatus, Generation, Producer, ProfileSpec, Storage,
    TargetSpec,
};

/// Whether the grants have somewhere to land.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Landing {
    /// The environment is ACTIVE.
    Ready { environment: String },
    /// It is being made: looked at again soon.
    Preparing { environment: Option<String>, message: String },
}

/// The reason Ready says while the environment is being made.
pub const PREPARING: &str = "PreparingTarget";

/// The consuming project's environment for `r`, made if missing.
#[allow(clippy::too_many_arguments)]
pub async fn land<B: Backend>(
    ctx: &Context<B>,
    dz: &B::DataZone,
    generation: Generation,
    domain: &str,
    project: &str,
    region: &str,
    r: &ConsumerRedshift,
    notes: &mut Vec<Note>,
) -> Result<Landing, Blocked> {
    let dz_err = |e| Blocked::dz(PHASE, e);
    let producer = ctx.backend.producer(region);
    let account = ctx
        .shared
        .ids
        .get_or_find(Lookup::Account { region: region.to_string() }, STABLE, || async {
            producer.account().await.map(Some)
        })
        .await
        .map_err(dz_err)?
        .ok_or_else(|| Blocked::retryable(PHASE, "CallerUnknown", "STS named no account for the operator"))?;
    let storage = storage_of(r)?;
    if generation == Generation::V2 {
        return land_v2(ctx, dz, domain, project, region, &account, &storage, r, notes).await;
    }
    let blueprint = ctx
        .shared
        .ids
        .get_or_find(Lookup::Blueprint { domain: domain.to_string() }, STABLE, || {
            producer.find_blueprint(domain, "DefaultDataWarehouse")
        })
        .await
        .map_err(dz_err)?
        .ok_or_else(|| {
            Blocked::terminal(
                PHASE,
                "BlueprintNotFound",
                format!("domain {domain} has no DefaultDataWarehouse blueprint"),
            )
        })?;
    let name = desired::environment_name(&account, region, &storage, &r.database);
    let key = EnvironmentKey { domain: domain.to_string(), project: project.to_string(), name: name.clone() };
    if let Some(env) = ctx.shared.environments.get(&key, ctx.resync).filter(|e| e.status == EnvironmentStatus::Active) {
        return Ok(Landing::Ready { environment: env.id });
    }
    let lock = ctx.shared.creating.get(&Creation::Environment(key.clone()));
    let _guard = lock.lock().await;
    let env = match dz.find_environment(domain, project, &name).await.map_err(dz_err)? {
        Some(env) => env,
        None => {
            let regions = producer.blueprint_regions(domain, &blueprint).await.map_err(dz_err)?.unwrap_or_default();
            if !regions.iter().any(|x| x == region) {
                let message = format!(
                    "DefaultDataWarehouse is not enabled for account {account} in {region}: enable it (a RedshiftDataProduct of a connection with producer roles does, or the DataZone console) so the consuming project can have an environment"
                );
                return Err(Blocked::terminal(PHASE, "BlueprintNotEnabled", message));
            }
            let profile_name = desired::profile_name(&account, region, &storage);
            let profile = match dz.find_profile(domain, project, &profile_name).await.map_err(dz_err)? {
                Some(id) => id,
                None => {
                    let spec = ProfileSpec {
                        name: profile_name.clone(),
                        project_id: project.to_string(),
                        blueprint_id: blueprint.clone(),
                        account: account.clone(),
                        region: region.to_string(),
                        storage: storage.clone(),
                        secret_arn: r.credentials_secret_arn.clone(),
                    };
                    dz.create_profile(domain, &spec).await.map_err(dz_err)?
                }
            };
            let made = match dz.create_environment(domain, project, &profile, &name, &r.database).await {
                Ok(env) => env,
                // Made by someone else since: names are unique in a project.
                Err(e) if e.is_conflict() => {
                    dz.find_environment(domain, project, &name).await.map_err(dz_err)?.ok_or_else(|| dz_err(e))?
                }
                Err(e) => return Err(dz_err(e)),
            };
            notes.push(Note {
                warning: false,
                reason: "EnvironmentCreated".into(),
                message: format!("created environment {name} ({}) for the grants to land in", made.id),
            });
            made
        }
    };
    match env.status {
        EnvironmentStatus::Active => {
            ctx.shared.environments.put(key, env.clone());
            Ok(Landing::Ready { environment: env.id })
        }
        ref s if s.is_settling() => Ok(Landing::Preparing {
            environment: Some(env.id.clone()),
            message: format!(
                "environment {name} ({}) is {}: the request is filed once it is ACTIVE",
                env.id, env.status
            ),
        }),
        _ => {
            let message = format!(
                "environment {name} ({}) is {}: {}",
                env.id,
                env.status,
                env.failure.unwrap_or_else(|| "no reason given".into())
            );
            Err(Blocked::terminal(PHASE, "EnvironmentFailed", message))
        }
    }
}

fn storage_of(r: &ConsumerRedshift) -> Result<Storage, Blocked> {
    match (&r.cluster_name, &r.workgroup_name) {
        (Some(c), _) => Ok(Storage::Cluster(c.clone())),
        (None, Some(w)) => Ok(Storage::Workgroup(w.clone())),
        (None, None) => Err(Blocked::terminal(PHASE, "InvalidSpec", "spec.redshift names no cluster or workgroup")),
    }
}

/// V2: the project's Redshift connection (as a data product's: same name, same client token) and a
/// Redshift subscription target of that name on the project's Tooling environment.
#[allow(clippy::too_many_arguments)]
async fn land_v2<B: Backend>(
    ctx: &Context<B>,
    dz: &B::DataZone,
    domain: &str,
    project: &str,
    region: &str,
    account: &str,
    storage: &Storage,
    r: &ConsumerRedshift,
    notes: &mut Vec<Note>,
) -> Result<Landing, Blocked> {
    let dz_err = |e| Blocked::dz(PHASE, e);
    let Some(role) = r.manage_access_role_arn.clone() else {
        let message = "in a V2 domain spec.redshift.manageAccessRoleArn is required: the role DataZone grants into the consumer's Redshift with, for the subscription target the operator makes";
        return Err(Blocked::terminal(PHASE, "ManageAccessRoleRequired", message));
    };
    let lookup = Lookup::ProjectEnvironment { domain: domain.to_string(), project: project.to_string() };
    let tooling = ctx
        .shared
        .ids
        .get_or_find(lookup, STABLE, || dz.project_environment(domain, project))
        .await
        .map_err(dz_err)?
        .ok_or_else(|| {
            let message = format!("project {project} has no ACTIVE Tooling environment yet");
            Blocked::retryable(PHASE, "NoProjectEnvironment", message)
        })?;
    let name = desired::connection_name(account, region, storage, &r.database);
    let key = RedshiftConnectionKey { domain: domain.to_string(), project: project.to_string(), name: name.clone() };
    let lock = ctx.shared.creating.get(&Creation::RedshiftConnection(key.clone()));
    let _guard = lock.lock().await;
    let connection = match ctx.shared.connections.get(&key, ctx.resync).filter(|c| c.is_ready()) {
        Some(c) => c,
        None => match dz.find_connection(domain, project, &name).await.map_err(dz_err)? {
            Some(c) => c,
            None => {
                let spec = ConnectionSpec {
                    name: name.clone(),
                    description: desired::connection_description(),
                    environment: tooling.clone(),
                    account: account.to_string(),
                    region: region.to_string(),
                    storage: storage.clone(),
                    database: r.database.clone(),
                    secret_arn: r.credentials_secret_arn.clone(),
                    lineage: None,
                    client_token: crate::naming::short_hash(&format!("{}/{}/{}", key.domain, key.project, key.name)),
                };
                let made = match dz.create_connection(domain, &spec).await {
                    Ok(c) => c,
                    Err(e) if e.is_conflict() => {
                        dz.find_connection(domain, project, &name).await.map_err(dz_err)?.ok_or_else(|| dz_err(e))?
                    }
                    Err(e) => return Err(dz_err(e)),
                };
                let message = format!("created Redshift connection {name} ({}) for the grants to land in", made.id);
                notes.push(Note { warning: false, reason: "ConnectionCreated".into(), message });
                made
            }
        },
    };
    ctx.shared.connections.put(key.clone(), connection.clone());
    if connection.is_failed() || connection.is_deleted() {
        let status = connection.status.clone().unwrap_or_default();
        return Err(Blocked::terminal(PHASE, "ConnectionFailed", format!("Redshift connection {name} is {status}")));
    }
    if !connection.is_ready() {
        let status = connection.status.clone().unwrap_or_default();
        let message = format!(
            "Redshift connection {name} ({}) is {status}: the request is filed once it is READY",
            connection.id
        );
        return Ok(Landing::Preparing { environment: Some(tooling), message });
    }
    let targets = dz.subscription_targets(domain, &tooling).await.map_err(dz_err)?;
    if !targets.iter().any(|(_, n)| *n == name) {
        let spec = TargetSpec {
            name: name.clone(),
            cluster: r.cluster_name.clone(),
            workgroup: r.workgroup_name.clone(),
            database: r.database.clone(),
            secret_arn: r.credentials_secret_arn.clone(),
            manage_access_role: role,
            // The database role DataZone grants to, as a V1 environment's target names it
            // (docs/datazone-semantics.md §15).
            authorized_principal: format!("datazone_usr_role_{project}_{tooling}"),
            client_token: crate::naming::short_hash(&format!("target/{}/{}/{}", key.domain, key.project, key.name)),
        };
        let id = dz.create_subscription_target(domain, &tooling, &spec).await.map_err(dz_err)?;
        let message = format!("created subscription target {name} ({id}) on the project's environment {tooling}");
        notes.push(Note { warning: false, reason: "SubscriptionTargetCreated".into(), message });
    }
    Ok(Landing::Ready { environment: tooling })
}
