//! `datazone-operator run`: the HTTP endpoints and the controllers (RedshiftDataProducts in the
//! configured scope, one controller per watched namespace; both connection kinds).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::{FutureExt, StreamExt, future};
use k8s_openapi::api::core::v1::Namespace;
use kube::client::ClientBuilder;
use kube::core::PartialObjectMeta;
use kube::runtime::controller::{self, Controller};
use kube::runtime::events::Reporter;
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{PredicateConfig, WatchStreamExt, predicates, watcher};
use kube::{Api, ResourceExt};
use thiserror::Error;

use crate::cli::{DEFAULT_CLUSTER_NAME, RunArgs};
use crate::controller::census::Census;
use crate::controller::context::{Context, Settings};
use crate::controller::decide::pass::{FINALIZER, MANAGER};
use crate::controller::fleet::watched::Watched;
use crate::controller::{connection, data_product, glossary, subscription};
use crate::crd::{
    ClusterDataZoneConnection, ConnectionKind, DataZoneConnection, DataZoneGlossary, DataZoneSubscription,
    RECONCILE_REQUESTED_AT, RedshiftDataProduct,
};
use crate::datazone::sdk::{Clients, base_config};
use crate::events::Events;
use crate::http::{self, HttpState};
use crate::lease::LeaderElection;
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
    if args.scope.cluster_name == DEFAULT_CLUSTER_NAME {
        tracing::warn!(
            "--cluster-name is not set; using {DEFAULT_CLUSTER_NAME:?}. Set it per Kubernetes cluster so that two clusters \
             publishing into one DataZone project never share data source names"
        );
    }
    let metrics = Metrics::new()?;
    // Every request to the API server is counted (datazone_operator_kubernetes_requests_total).
    let counter = metrics.kubernetes_requests.clone();
    let count = tower::util::MapRequestLayer::new(move |request: ::http::Request<kube::client::Body>| {
        counter.with_label_values(&[request.method().as_str()]).inc();
        request
    });
    let client = ClientBuilder::try_from(kube::Config::infer().await.map_err(kube::Error::InferConfig)?)?
        .with_layer(&count)
        .build();
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

    let leading = if args.leader_elect {
        let identity =
            std::env::var("POD_NAME").unwrap_or_else(|_| format!("datazone-operator-{}", std::process::id()));
        let namespace = args
            .leader_election_namespace
            .clone()
            .or_else(|| std::env::var("POD_NAMESPACE").ok())
            .unwrap_or_else(|| "default".into());
        let election = LeaderElection::new(
            client.clone(),
            &namespace,
            &args.leader_election_lease,
            &identity,
            args.lease_duration,
        );
        let election = Arc::new(election);
        // A standby is healthy and ready; it just does not reconcile (and stops when told to).
        ready.store(true, Ordering::Relaxed);
        tokio::select! {
            _ = election.acquire() => {}
            _ = shutdown_signal() => {
                tracing::info!("shut down while standing by");
                servers.iter().for_each(tokio::task::JoinHandle::abort);
                return Ok(());
            }
        }
        let keeper = election.clone();
        let keeping = tokio::spawn(async move {
            keeper.keep().await;
            // Never two reconcilers: stop at once and let Kubernetes restart us as a standby.
            tracing::error!("leadership lost; exiting");
            std::process::exit(1);
        });
        metrics.leader.set(1);
        Some((election, keeping))
    } else {
        metrics.leader.set(1);
        None
    };
    let reporter = Reporter { controller: MANAGER.into(), instance: std::env::var("POD_NAME").ok() };
    let scopes: Vec<Option<String>> = if args.scope.namespaces.is_empty() {
        vec![None]
    } else {
        args.scope.namespaces.iter().cloned().map(Some).collect()
    };
    let mut controllers = Vec::new();

    // The connections and namespaces a pass reads, from watches: one reflector per kind (and
    // per watched scope for the namespaced connections), which also drives the connection
    // status controllers.
    let (namespaces, namespace_writer) = reflector::store();
    let namespace_watch = watcher(Api::<PartialObjectMeta<Namespace>>::all(client.clone()), watcher::Config::default())
        .default_backoff()
        .modify(|n| n.managed_fields_mut().clear())
        .reflect(namespace_writer)
        .take_until(shutdown_signal())
        .for_each(|_| future::ready(()));
    controllers.push(namespace_watch.boxed());
    let (cluster_connections, cluster_writer) = reflector::store();
    let cluster_stream = watcher(Api::<ClusterDataZoneConnection>::all(client.clone()), watcher::Config::default())
        .default_backoff()
        .reflect(cluster_writer)
        .applied_objects();
    let mut connection_streams = Vec::new();
    let mut connections = Vec::new();
    for scope in &scopes {
        let api: Api<DataZoneConnection> = match scope {
            Some(ns) => Api::namespaced(client.clone(), ns),
            None => Api::all(client.clone()),
        };
        let (store, writer) = reflector::store();
        let stream = watcher(api, watcher::Config::default()).default_backoff().reflect(writer).applied_objects();
        connections.push(store.clone());
        connection_streams.push((stream, store));
    }
    let mut census = Census {
        connections: connections.clone(),
        cluster_connections: Some(cluster_connections.clone()),
        ..Census::default()
    };
    let watched = Watched { connections, cluster_connections: cluster_connections.clone(), namespaces };
    // One wait for the watches, shared by every data product controller: a store wakes only the
    // last of its waiters, so many waiting on it themselves would not all wake.
    let watches_filled = {
        let watched = watched.clone();
        async move { watched.ready().await }.boxed().shared()
    };

    let settings = Settings {
        cluster_name: args.scope.cluster_name.clone(),
        resync: args.resync_interval,
        poll: args.poll_interval,
        concurrency: usize::from(args.concurrency),
    };
    let ctx = Arc::new(Context::new(
        client.clone(),
        watched.clone(),
        Clients::new(base_config().await, metrics.clone(), args.datazone_pace),
        Events::new(client.clone(), reporter),
        metrics.clone(),
        settings,
    ));
    // Each scope's controller hands over every data product as it comes due (unbounded
    // there): `--concurrency` is the shared gate in `reconcile`, first come first served. A
    // kube-rs controller at its own limit keeps due objects in an unordered set (kube-runtime
    // 5.0 `Scheduler::pending`, a HashSet) and takes them in hash order: at a thousand data
    // products some waited a minute past their time while others made three passes.
    let config = controller::Config::default().concurrency(0);
    for (stream, store) in connection_streams {
        controllers.push(
            Controller::for_stream(stream, store)
                .graceful_shutdown_on(shutdown_signal())
                .run(
                    connection::reconcile::reconcile::<DataZoneConnection, Clients>,
                    connection::reconcile::error_policy::<DataZoneConnection, Clients>,
                    ctx.clone(),
                )
                .for_each(|_| future::ready(()))
                .boxed(),
        );
    }
    controllers.push(
        Controller::for_stream(cluster_stream, cluster_connections)
            .graceful_shutdown_on(shutdown_signal())
            .run(
                connection::reconcile::reconcile::<ClusterDataZoneConnection, Clients>,
                connection::reconcile::error_policy::<ClusterDataZoneConnection, Clients>,
                ctx.clone(),
            )
            .for_each(|_| future::ready(()))
            .boxed(),
    );

    for scope in scopes {
        let (products, connections): (Api<RedshiftDataProduct>, Api<DataZoneConnection>) = match &scope {
            Some(ns) => (Api::namespaced(client.clone(), ns), Api::namespaced(client.clone(), ns)),
            None => (Api::all(client.clone()), Api::all(client.clone())),
        };
        let watch = match &args.scope.selector {
            Some(selector) => watcher::Config::default().labels(selector),
            None => watcher::Config::default(),
        };
        // Status writes (ours, and the connection controllers') do not trigger a pass; a spec
        // change, the reconcile-request annotation or a deletion does, and resyncs do the rest.
        let (store, writer) = reflector::store();
        let triggers = watcher(products, watch)
            .default_backoff()
            // Nothing reads managedFields; they are most of an object's size in memory.
            .modify(|p| p.managed_fields_mut().clear())
            .reflect(writer)
            .applied_objects()
            .predicate_filter(meaningful_change, PredicateConfig::default());
        // A settled data product whose data source moved in a shared listing is woken at once
        // (controller::fleet::wakeups).
        let c = Controller::for_stream(triggers, store.clone())
            .with_config(config.clone())
            .reconcile_on(ctx.wakeups.subscribe(scope.clone()));
        let (by_ns, by_cluster) = (store.clone(), store.clone());
        let namespaced = watcher(connections, watcher::Config::default())
            .default_backoff()
            .touched_objects()
            .predicate_filter(predicates::generation, PredicateConfig::default());
        let cluster = watcher(Api::<ClusterDataZoneConnection>::all(client.clone()), watcher::Config::default())
            .default_backoff()
            .touched_objects()
            .predicate_filter(predicates::generation, PredicateConfig::default());
        let c = c
            .watches_stream(namespaced, move |conn: DataZoneConnection| {
                referencing(&by_ns, ConnectionKind::DataZoneConnection, conn.namespace(), &conn.name_any())
            })
            .watches_stream(cluster, move |conn: ClusterDataZoneConnection| {
                referencing(&by_cluster, ConnectionKind::ClusterDataZoneConnection, None, &conn.name_any())
            })
            .graceful_shutdown_on(shutdown_signal());
        census.products.push(store.clone());
        let (products_ctx, filled) = (ctx.clone(), watches_filled.clone());
        // A pass reads connections from the watches: none before they are filled (or at all, if
        // the operator is told to stop first).
        let run = async move {
            tokio::select! {
                _ = filled => {}
                _ = shutdown_signal() => return,
            }
            c.run(data_product::reconcile::reconcile, data_product::reconcile::error_policy, products_ctx)
                .for_each(move |result| {
                    if let Err(error) = result {
                        tracing::debug!(%error, "reconcile error");
                    }
                    future::ready(())
                })
                .await
        };
        controllers.push(run.boxed());

        // Glossaries: a pass per change and per resync, once the connection watches are filled.
        let glossaries: Api<DataZoneGlossary> = match &scope {
            Some(ns) => Api::namespaced(client.clone(), ns),
            None => Api::all(client.clone()),
        };
        let c = Controller::new(glossaries, watcher::Config::default())
            .with_config(config.clone())
            .graceful_shutdown_on(shutdown_signal());
        let (glossaries_ctx, filled) = (ctx.clone(), watches_filled.clone());
        let run = async move {
            tokio::select! {
                _ = filled => {}
                _ = shutdown_signal() => return,
            }
            c.run(glossary::reconcile::reconcile, glossary::reconcile::error_policy, glossaries_ctx)
                .for_each(|_| future::ready(()))
                .await
        };
        controllers.push(run.boxed());

        // Subscriptions: a pass per spec change, annotation, deletion and finalizer, then as
        // each one's state asks (status writes are no trigger).
        let subscriptions: Api<DataZoneSubscription> = match &scope {
            Some(ns) => Api::namespaced(client.clone(), ns),
            None => Api::all(client.clone()),
        };
        let (store, writer) = reflector::store();
        let triggers = watcher(subscriptions, watcher::Config::default())
            .default_backoff()
            .modify(|s| s.managed_fields_mut().clear())
            .reflect(writer)
            .applied_objects()
            .predicate_filter(meaningful_change, PredicateConfig::default());
        census.subscriptions.push(store.clone());
        let c =
            Controller::for_stream(triggers, store).with_config(config.clone()).graceful_shutdown_on(shutdown_signal());
        let (subscriptions_ctx, filled) = (ctx.clone(), watches_filled.clone());
        let run = async move {
            tokio::select! {
                _ = filled => {}
                _ = shutdown_signal() => return,
            }
            c.run(subscription::reconcile::reconcile, subscription::reconcile::error_policy, subscriptions_ctx)
                .for_each(|_| future::ready(()))
                .await
        };
        controllers.push(run.boxed());
    }
    // The gauges counted from the watch caches, until the controllers stop.
    census.run_starts = ctx.shared.run_starts.clone();
    let counting = census.run(metrics.clone(), watches_filled.clone());
    controllers.push(
        async move {
            tokio::select! {
                _ = counting => {}
                _ = shutdown_signal() => {}
            }
        }
        .boxed(),
    );
    // Ready once the connection and namespace watches are filled. A store wakes only the last
    // of its waiters (its readiness is a oneshot receiver), so the data product stores are
    // left to their controllers alone and this waits on the one shared future.
    let mark_ready = async move {
        watches_filled.await;
        ready.store(true, Ordering::Relaxed);
        tracing::info!("watch caches synced; reconciling");
    };
    tracing::info!(cluster = args.scope.cluster_name, "datazone-operator started");
    future::join(future::join_all(controllers), mark_ready).await;
    // Every pass in flight has finished (the controllers shut down gracefully): the successor
    // may start at once, not after the lease expires.
    if let Some((election, keeping)) = leading {
        keeping.abort();
        match election.release().await {
            Ok(true) => tracing::info!("released the lease"),
            Ok(false) => {}
            Err(error) => tracing::warn!(%error, "could not release the lease; it expires by itself"),
        }
    }
    tracing::info!("shut down");
    servers.iter().for_each(tokio::task::JoinHandle::abort);
    Ok(())
}

/// Data products by their Ready condition.
/// What makes a data product worth a pass now: its generation, the reconcile-request
/// annotation, deletion, and our finalizer appearing (kube's finalizer helper waits for that
/// event before the first real pass).
fn meaningful_change<K: kube::Resource>(p: &K) -> Option<u64> {
    let requested = p.annotations().get(RECONCILE_REQUESTED_AT).cloned().unwrap_or_default();
    let deleting = p.meta().deletion_timestamp.is_some();
    let finalized = p.finalizers().iter().any(|f| f == FINALIZER);
    Some(crate::naming::stable_hash(&format!("{:?}|{requested}|{deleting}|{finalized}", p.meta().generation)))
}

/// The data products that use the connection `name` (of `kind`; `namespace` for namespaced ones).
fn referencing(
    store: &Store<RedshiftDataProduct>,
    kind: ConnectionKind,
    namespace: Option<String>,
    name: &str,
) -> Vec<ObjectRef<RedshiftDataProduct>> {
    store
        .state()
        .iter()
        .filter(|p| p.spec.connection_ref.kind == kind && p.spec.connection_ref.name == name)
        .filter(|p| namespace.is_none() || p.namespace() == namespace)
        .map(|p| ObjectRef::from(p.as_ref()))
        .collect()
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
