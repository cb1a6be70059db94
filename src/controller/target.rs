//! What a pass works towards: the data product's connection resolved to a domain, a project and
//! the producer account (ConnectionResolved), and the data source configuration its spec asks
//! for, with the objects of "all tables" / "all views" schemas listed from Redshift.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kube::ResourceExt;

use super::connection;
use super::context::Context;
use super::desired::{self, config_hash};
use super::reconcile::{Blocked, Pass, throttle_key};
use super::snapshot::Snapshot;
use crate::crd::conditions::{CONNECTION_RESOLVED, DATA_SOURCE_READY};
use crate::crd::{AssetKind, ProducerSettings, RedshiftDataProduct};
use crate::datazone::sdk::{SdkDataZone, SdkProducer};
use crate::datazone::{DataZone, DzError, Producer, SourceConfig, Storage};

/// Lookups that practically never change (a project's ID, the caller's account, a domain's
/// blueprint).
pub(super) const STABLE: Duration = Duration::from_secs(3600);

pub(super) struct Target {
    pub namespace: String,
    pub name: String,
    pub domain: String,
    pub project: String,
    /// The producer account: the operator's own credentials.
    pub account: String,
    pub region: String,
    pub storage: Storage,
    /// Project-scoped calls, made as the connection's role.
    pub dz: SdkDataZone,
    /// The producer account's own calls.
    pub producer: SdkProducer,
    pub producer_roles: ProducerSettings,
    pub config: SourceConfig,
    /// The configuration and the listed catalog: a run is due when this changes.
    pub run_hash: String,
    pub ds_name: String,
    /// Which schema and kind each object is, from the spec and the listed catalog.
    pub objects: BTreeMap<String, (String, AssetKind)>,
    /// The project's shared data source listing (per connection, as its role sees it).
    snapshot_key: String,
}

impl Target {
    /// The project's data sources, listed after `not_before` and at most a poll interval ago;
    /// `None` when the listing does not pay for the data products wanting it (then `caller`
    /// reads its own).
    pub async fn listing(
        &self,
        ctx: &Context,
        caller: &str,
        not_before: Instant,
    ) -> Result<Option<Arc<Snapshot>>, DzError> {
        if !ctx.snapshots.want(&self.snapshot_key, caller, ctx.poll * 2) {
            return Ok(None);
        }
        let list = || self.dz.list_data_sources(&self.domain, &self.project);
        ctx.snapshots.get(&self.snapshot_key, not_before, ctx.poll, list).await.map(Some)
    }
}

/// Resolves the connection (role, domain), the project and the producer account, marks
/// ConnectionResolved, and works out the configuration the spec asks for.
pub(super) async fn resolve(p: &RedshiftDataProduct, pass: &mut Pass<'_>) -> Result<Target, Blocked> {
    let ctx = pass.ctx;
    let key = pass.key.clone();
    let namespace = p.namespace().unwrap_or_default();
    let name = p.name_any();
    let spec = &p.spec;

    let settings =
        connection::settings_for(ctx, p).await.map_err(|e| Blocked::from_problem(CONNECTION_RESOLVED, e, ctx, &key))?;
    let session = connection::session_key(&settings, &namespace, &name);
    let resolved = connection::resolve(ctx, settings, &session)
        .await
        .map_err(|e| Blocked::from_problem(CONNECTION_RESOLVED, e, ctx, &key))?;
    let region = resolved.settings.region.clone();
    let domain = resolved.domain_id.clone();
    let dz = ctx.clients.project(&session).await;
    let producer = ctx.clients.producer(&region);
    // spec.project is immutable, so the project ID in status stays right once found.
    let known_project =
        pass.status.project_id.clone().filter(|_| pass.status.domain_id.as_deref() == Some(domain.as_str()));
    let project = ctx
        .cache
        .get_or_find(&format!("project|{domain}|{}", spec.project), STABLE, || async {
            match known_project {
                Some(id) => Ok(Some(id)),
                None => dz.find_project(&domain, &spec.project).await,
            }
        })
        .await
        .map_err(|e| Blocked::from_dz(CONNECTION_RESOLVED, e, ctx, &key))?
        .ok_or_else(|| {
            Blocked::terminal(
                CONNECTION_RESOLVED,
                "ProjectNotFound",
                format!(
                    "no DataZone project {} in domain {domain} visible to {}",
                    spec.project, resolved.assumed_role_arn
                ),
            )
        })?;
    let account = ctx
        .cache
        .get_or_find(&format!("account|{region}"), STABLE, || async { producer.account().await.map(Some) })
        .await
        .map_err(|e| Blocked::from_dz(CONNECTION_RESOLVED, e, ctx, &key))?
        .unwrap_or_default();
    pass.status.domain_id = Some(domain.clone());
    pass.status.project_id = Some(project.clone());
    pass.ok(
        CONNECTION_RESOLVED,
        "Resolved",
        &format!("domain {domain}, project {project}, role {}", resolved.assumed_role_arn),
    );

    // What the spec wants, with the objects of "all tables" / "all views" schemas listed.
    let storage = desired::storage(spec);
    let mut listed: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for s in spec.schemas.iter().filter(|s| s.add_all_tables || s.add_all_views) {
        // Listed once per resync interval, not on every pass while a data source settles; data
        // products naming the same schema share the answer.
        let (database, secret) = (&spec.redshift.database, &spec.redshift.credentials_secret_arn);
        let cache_key = format!("objects|{storage:?}|{database}|{}|{secret}", s.name);
        let list = || async {
            let objects = producer.list_objects(&storage, database, &s.name, secret).await?;
            Ok(serde_json::to_string(&objects).ok())
        };
        let objects = ctx
            .cache
            .get_or_find(&cache_key, ctx.resync, list)
            .await
            .map_err(|e| Blocked::from_dz(DATA_SOURCE_READY, e, ctx, &key))?
            .and_then(|json| serde_json::from_str(&json).ok())
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
            objects.insert(
                name.clone(),
                (s.name.clone(), if kind == "VIEW" { AssetKind::View } else { AssetKind::Table }),
            );
        }
        objects.extend(s.tables.iter().map(|t| (t.clone(), (s.name.clone(), AssetKind::Table))));
        objects.extend(s.views.iter().map(|v| (v.clone(), (s.name.clone(), AssetKind::View))));
    }
    Ok(Target {
        ds_name: desired::data_source_name(&ctx.cluster_name, &namespace, &name),
        snapshot_key: format!("{}|{domain}|{project}", throttle_key(p)),
        namespace,
        name,
        domain,
        project,
        account,
        region,
        storage,
        dz,
        producer,
        producer_roles: resolved.settings.producer.clone(),
        config,
        run_hash,
        objects,
    })
}
