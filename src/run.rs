//! `datazone-operator run`: serves the HTTP endpoints and watches the three kinds in the
//! configured scope. Reconciliation against DataZone is not part of this version: objects are
//! observed and counted, nothing is written to DataZone or to status.

use std::fmt::Debug;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::{StreamExt, future, stream};
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, Resource, ResourceExt};
use serde::de::DeserializeOwned;
use thiserror::Error;

use crate::cli::{DEFAULT_CLUSTER_NAME, RunArgs};
use crate::crd::{ClusterDataZoneConnection, DataZoneConnection, RedshiftDataProduct};
use crate::http::{self, HttpState};
use crate::metrics::Metrics;

#[derive(Debug, Error)]
pub enum RunError {
    #[error("cannot reach the Kubernetes API (kubeconfig or in-cluster config): {0}")]
    Kube(#[from] kube::Error),
    #[error("cannot set up metrics: {0}")]
    Metrics(#[from] prometheus::Error),
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: std::net::SocketAddr, source: std::io::Error },
}

pub async fn run(args: RunArgs) -> Result<(), RunError> {
    if args.cluster_name == DEFAULT_CLUSTER_NAME {
        tracing::warn!(
            "--cluster-name is not set; using {DEFAULT_CLUSTER_NAME:?}. Set it per Kubernetes cluster so that two clusters \
             publishing into one DataZone project never share data source names"
        );
    }
    tracing::warn!("this version watches RedshiftDataProducts and connections but does not reconcile them yet");

    let client = Client::try_default().await?;
    let metrics = Metrics::new()?;
    let ready = Arc::new(AtomicBool::new(false));
    let state = HttpState { metrics: metrics.clone(), ready: ready.clone() };

    let mut servers = Vec::new();
    let mut addrs = vec![args.health_addr];
    if args.metrics_addr != args.health_addr {
        addrs.push(args.metrics_addr);
    }
    for addr in addrs {
        let (_, server) = http::bind(addr, state.clone()).await.map_err(|source| RunError::Listen { addr, source })?;
        servers.push(tokio::spawn(server));
    }

    let label_config = match &args.selector {
        Some(selector) => watcher::Config::default().labels(selector),
        None => watcher::Config::default(),
    };
    let (products, watch_products) = watch(
        scoped_apis::<RedshiftDataProduct>(&client, &args.namespaces),
        label_config,
        metrics.clone(),
        "RedshiftDataProduct",
    );
    let (connections, watch_connections) = watch(
        scoped_apis::<DataZoneConnection>(&client, &args.namespaces),
        watcher::Config::default(),
        metrics.clone(),
        "DataZoneConnection",
    );
    let (cluster_connections, watch_cluster_connections) = watch(
        vec![Api::<ClusterDataZoneConnection>::all(client.clone())],
        watcher::Config::default(),
        metrics,
        "ClusterDataZoneConnection",
    );

    let mark_ready = async move {
        let stores = future::join3(
            future::join_all(products.iter().map(Store::wait_until_ready)),
            future::join_all(connections.iter().map(Store::wait_until_ready)),
            future::join_all(cluster_connections.iter().map(Store::wait_until_ready)),
        );
        stores.await;
        ready.store(true, Ordering::Relaxed);
        tracing::info!("watch caches synced; ready");
    };

    tokio::select! {
        _ = future::join4(watch_products, watch_connections, watch_cluster_connections, mark_ready) => {}
        _ = shutdown_signal() => tracing::info!("shutting down"),
    }
    servers.iter().for_each(tokio::task::JoinHandle::abort);
    Ok(())
}

/// One Api per watched namespace, or one cluster-wide Api when no namespace is given.
fn scoped_apis<K>(client: &Client, namespaces: &[String]) -> Vec<Api<K>>
where
    K: Resource<Scope = kube::core::NamespaceResourceScope>,
    K::DynamicType: Default,
{
    if namespaces.is_empty() {
        vec![Api::all(client.clone())]
    } else {
        namespaces.iter().map(|ns| Api::namespaced(client.clone(), ns)).collect()
    }
}

/// Watches `apis` into one store each and keeps the per-kind gauge current. Returns the stores
/// and the future that drives the watches.
fn watch<K>(
    apis: Vec<Api<K>>,
    config: watcher::Config,
    metrics: Metrics,
    kind: &'static str,
) -> (Vec<Store<K>>, impl Future<Output = ()>)
where
    K: Resource + Clone + Debug + DeserializeOwned + Send + Sync + 'static,
    K::DynamicType: Default + Eq + std::hash::Hash + Clone,
{
    let (stores, streams): (Vec<_>, Vec<_>) = apis
        .into_iter()
        .map(|api| {
            let (store, writer) = reflector::store();
            let stream = reflector::reflector(writer, watcher(api, config.clone()).default_backoff()).boxed();
            (store, stream)
        })
        .unzip();
    let counted = stores.clone();
    let drive = stream::select_all(streams).for_each(move |event| {
        match event {
            Ok(watcher::Event::Apply(object) | watcher::Event::InitApply(object)) => {
                tracing::info!(kind, namespace = object.namespace(), name = object.name_any(), "observed");
            }
            Ok(watcher::Event::Delete(object)) => {
                tracing::info!(kind, namespace = object.namespace(), name = object.name_any(), "deleted");
            }
            Ok(watcher::Event::Init | watcher::Event::InitDone) => {}
            Err(error) => tracing::warn!(kind, %error, "watch failed; retrying with backoff"),
        }
        // The store is filled when a (re)list completes, so count after every event.
        let count: usize = counted.iter().map(|s| s.state().len()).sum();
        metrics.watched_objects.with_label_values(&[kind]).set(i64::try_from(count).unwrap_or(i64::MAX));
        future::ready(())
    });
    (stores, drive)
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(term) => term,
            Err(_) => return ctrl_c.await.unwrap_or(()),
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    ctrl_c.await.unwrap_or(());
}
