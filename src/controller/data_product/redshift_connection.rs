//! V2 domains: the shared Redshift connection in DataZone a data source is made through (not
//! the operator's `DataZoneConnection`). Looked up once a resync for all the data products of its
//! key, made once under the key's lock in the project's Tooling environment, and brought to the
//! secret and lineage its data products agree on ([`crate::controller::fleet::claims`];
//! docs/datazone-semantics.md §12).

use std::time::Duration;

use kube::runtime::events::EventType;

use super::target::Target;
use crate::controller::context::Context;
use crate::controller::decide::desired;
use crate::controller::decide::pass::{Blocked, Effects, Phase, Record};
use crate::controller::decide::plan::ConnectionObjects;
use crate::controller::fleet::cache::STABLE;
use crate::controller::fleet::claims::Ask;
use crate::controller::fleet::keys::{Creation, Lookup, RedshiftConnectionKey};
use crate::datazone::{Backend, ConnectionInfo, ConnectionPatch, ConnectionSpec, DataZone, DzError};

const PHASE: Phase = Phase::ConnectionReady;

/// The key of the data product's shared connection.
pub fn key<B: Backend>(t: &Target<B>) -> RedshiftConnectionKey {
    let name = desired::connection_name(&t.account, &t.region, &t.storage, &t.config.database);
    RedshiftConnectionKey { domain: t.domain.clone(), project: t.project.clone(), name }
}

/// The shared connection (cached), the project's environment when there is none to make one in
/// (looked up once an hour), and the other data products of the connection that ask it for
/// another secret or other lineage.
pub async fn look<B: Backend>(
    ctx: &Context<B>,
    t: &Target<B>,
    caller: &str,
    effects: &mut Effects,
) -> Result<ConnectionObjects, Blocked> {
    let blocked = |e| Blocked::dz(PHASE, e);
    let key = key(t);
    let connection = find(ctx, t, &key).await.map_err(blocked)?.filter(|c| !c.is_deleted());
    let environment = match &connection {
        Some(_) => None,
        None => {
            let (domain, project) = (&t.domain, &t.project);
            let lookup = Lookup::ProjectEnvironment { domain: domain.clone(), project: project.clone() };
            let find = || t.dz.project_environment(domain, project);
            let env = ctx.shared.ids.get_or_find(lookup, STABLE, find).await.map_err(blocked)?;
            if let Some(env) = &env {
                effects.record(Record::Environment(env.clone()));
            }
            env
        }
    };
    let ask = Ask { secret: t.config.secret_arn.clone(), lineage: t.lineage.clone() };
    let who = format!("{}/{}", t.namespace, t.name);
    let others = ctx.shared.claims.claim(&key, caller, &who, &ask, ctx.resync * 2);
    Ok(ConnectionObjects { environment, connection, ask, others })
}

/// From the cache (READY ones for a resync, others for a poll), or one look (ListConnections,
/// then GetConnection for its ownership mark) for all the data products of the key at a time.
async fn find<B: Backend>(
    ctx: &Context<B>,
    t: &Target<B>,
    key: &RedshiftConnectionKey,
) -> Result<Option<ConnectionInfo>, DzError> {
    let cache = &ctx.shared.connections;
    let fresh = |c: &ConnectionInfo| if c.is_ready() { ctx.resync } else { ctx.poll };
    if let Some(c) = cache.get_with(key, fresh) {
        return Ok(Some(c));
    }
    let creation = Creation::RedshiftConnection(key.clone());
    let find = || async {
        // A data product of this process making it right now (under this lock) is waited for
        // rather than looked past: it remembers what it made.
        drop(ctx.shared.creating.get(&creation).lock().await);
        match cache.get_with(key, fresh) {
            Some(c) => Ok(Some(c)),
            None => t.dz.find_connection(&t.domain, &t.project, &key.name).await,
        }
    };
    // A stale entry (not READY, older than a poll) must not answer for the look.
    cache.forget(key);
    cache.get_or_find(key.clone(), ctx.poll, find).await
}

/// Makes the connection every data product of the key shares, under the key's lock (after a
/// wait, one made meanwhile is in the cache). The client token is the key's, so a retried create
/// returns the same connection; a name taken otherwise is found by name.
pub async fn create<B: Backend>(
    ctx: &Context<B>,
    t: &Target<B>,
    environment: &str,
    e: &mut Effects,
) -> Result<Duration, Blocked> {
    let key = key(t);
    let lock = ctx.shared.creating.get(&Creation::RedshiftConnection(key.clone()));
    let waited = tokio::time::Instant::now();
    let _guard = lock.lock().await;
    let blocked = |e| Blocked::dz(PHASE, e);
    let connection = match ctx.shared.connections.get(&key, waited.elapsed()) {
        Some(c) => c,
        None => {
            let spec = ConnectionSpec {
                name: key.name.clone(),
                description: desired::connection_description(),
                environment: environment.to_string(),
                account: t.account.clone(),
                region: t.region.clone(),
                storage: t.storage.clone(),
                database: t.config.database.clone(),
                secret_arn: t.config.secret_arn.clone(),
                lineage: t.lineage.clone(),
                client_token: crate::naming::short_hash(&format!("{}/{}/{}", key.domain, key.project, key.name)),
            };
            match t.dz.create_connection(&t.domain, &spec).await {
                Ok(c) => {
                    let message = format!("created Redshift connection {} ({})", key.name, c.id);
                    e.event(EventType::Normal, "ConnectionCreated", message);
                    c
                }
                Err(err) if err.is_conflict() => {
                    t.dz.find_connection(&t.domain, &t.project, &key.name)
                        .await
                        .map_err(blocked)?
                        .ok_or_else(|| Blocked::dz(PHASE, err))?
                }
                Err(err) => return Err(blocked(err)),
            }
        }
    };
    ctx.shared.connections.put(key, connection.clone());
    let status = connection.status.as_deref().unwrap_or("made");
    e.not_yet(PHASE, "Created", format!("Redshift connection {} is {status}", connection.id));
    Ok(if connection.is_ready() { Duration::from_millis(200) } else { ctx.poll })
}

/// Brings the connection to the secret and lineage its data products agree on. It stays usable
/// while DataZone applies the change.
pub async fn update<B: Backend>(
    ctx: &Context<B>,
    t: &Target<B>,
    connection: &str,
    patch: &ConnectionPatch,
    e: &mut Effects,
) -> Result<Duration, Blocked> {
    t.dz.update_connection(&t.domain, connection, patch).await.map_err(|e| Blocked::dz(PHASE, e))?;
    let key = key(t);
    if let Some(mut c) = ctx.shared.connections.get(&key, Duration::MAX) {
        c.secret_arn = patch.secret_arn.clone().or(c.secret_arn);
        c.lineage = patch.lineage.clone().or(c.lineage);
        ctx.shared.connections.put(key, c);
    }
    let mut changes = Vec::new();
    if let Some(secret) = &patch.secret_arn {
        changes.push(format!("credentials secret {secret}"));
    }
    if let Some(l) = &patch.lineage {
        changes.push(match (l.enabled, &l.schedule) {
            (false, _) => "lineage disabled".to_string(),
            (true, Some(schedule)) => format!("lineage enabled ({schedule})"),
            (true, None) => "lineage enabled (DataZone's default schedule)".to_string(),
        });
    }
    let message = format!("set {} on Redshift connection {connection}", changes.join(" and "));
    e.event(EventType::Normal, "ConnectionUpdated", message.clone()).ok(PHASE, "Ready", message);
    Ok(Duration::from_millis(200))
}
