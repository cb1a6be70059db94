//! Where a subscription's grants land (`spec.redshift`): the consuming project's data warehouse
//! environment for the consumer's Redshift (V1), found before it is created and shared, one per
//! project, account, cluster or workgroup and database, by every subscription and data product
//! of the project (the same name a data product's environment has). It must be ACTIVE before the
//! request is filed: DataZone grants into the targets a project has at approval, and none made
//! later (docs/datazone-semantics.md §15).

use super::follow::PHASE;
use crate::controller::context::Context;
use crate::controller::decide::desired;
use crate::controller::decide::pass::{Blocked, Note};
use crate::controller::fleet::cache::STABLE;
use crate::controller::fleet::keys::{Creation, EnvironmentKey, Lookup};
use crate::crd::ConsumerRedshift;
use crate::datazone::{Backend, DataZone, EnvironmentStatus, Generation, Producer, ProfileSpec, Storage};

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
    if generation == Generation::V2 {
        let message = "spec.redshift in a V2 (Unified Studio) domain is not supported yet: leave it out and give the consuming project a Redshift subscription target";
        return Err(Blocked::terminal(PHASE, "NotSupported", message));
    }
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
    let storage = match (&r.cluster_name, &r.workgroup_name) {
        (Some(c), _) => Storage::Cluster(c.clone()),
        (None, Some(w)) => Storage::Workgroup(w.clone()),
        (None, None) => {
            return Err(Blocked::terminal(PHASE, "InvalidSpec", "spec.redshift names no cluster or workgroup"));
        }
    };
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
