//! BENCH_SUBSCRIPTIONS=1: the consumer's side at fleet size. After the steady state, a consuming
//! team subscribes from Git to every data product of the fleet: one `DataZoneSubscription` each,
//! as project [`CONSUMER`] through its own connection, its grants landing in one Redshift
//! database (so one environment, shared by all). The producers' access policies approve them.
//! Figures: seconds until all are Granted against the bound DataZone's quota of 3
//! AcceptSubscriptionRequest calls a second sets, the DataZone calls per subscription on the
//! way, the environments the consuming project got, and the steady state per subscription per
//! resync.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use datazone_emulator::Emulator;
use datazone_operator::crd::{DataZoneConnection, DataZoneSubscription, RedshiftDataProduct};
use futures::StreamExt;
use kube::api::{Patch, PatchParams};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use kube::{Api, Client, ResourceExt};
use serde_json::json;

use super::{CONSUMER, SECRET, calls, minus, sum};

/// The consuming team's role in the emulator's fixture.
const CONSUMER_ROLE: &str = "arn:aws:iam::111111111111:role/dz-analytics";
/// DataZone's quota of AcceptSubscriptionRequest calls a second (docs/datazone-semantics.md §15).
const ACCEPTS_PER_SECOND: f64 = 3.0;

pub fn enabled() -> bool {
    super::env_or("BENCH_SUBSCRIPTIONS", 0) == 1
}

pub struct Subscribed {
    pub n: usize,
    pub secs: f64,
    pub bound_secs: f64,
    pub calls: BTreeMap<String, u64>,
    pub environments: usize,
    pub steady_per_subscription_resync: f64,
    pub granted: usize,
}

/// The project, its member role, the connection, then a subscription per listed data product;
/// waits until all are Granted and measures two resyncs after.
pub async fn subscribe_all(
    client: &Client,
    emulator: &Emulator,
    namespace: &str,
    products: &[RedshiftDataProduct],
    resync: Duration,
) -> Subscribed {
    let wanted: Vec<(String, String)> = products
        .iter()
        .filter_map(|p| {
            let s = p.status.as_ref()?;
            Some((s.domain_id.clone()?, s.data_products.first().filter(|d| d.listing_id.is_some())?.name.clone()))
        })
        .collect();
    assert_eq!(wanted.len(), products.len(), "BENCH_SUBSCRIPTIONS needs BENCH_DATA_PRODUCTS both or only");
    let domain = wanted[0].0.clone();
    let platform = super::sdk_client(emulator).await;
    let project = platform.create_project().domain_identifier(&domain).name(CONSUMER).send().await.expect("project");
    platform
        .create_project_membership()
        .domain_identifier(&domain)
        .project_identifier(project.id())
        .member(aws_sdk_datazone::types::Member::UserIdentifier(CONSUMER_ROLE.into()))
        .designation(aws_sdk_datazone::types::UserDesignation::ProjectContributor)
        .send()
        .await
        .expect("membership");
    let connection: DataZoneConnection = serde_json::from_value(json!({
        "apiVersion": "dataproducts.dev/v1alpha1", "kind": "DataZoneConnection",
        "metadata": {"name": "consumer", "namespace": namespace},
        "spec": {"region": "eu-central-1", "domain": {"name": "corp-mesh"}, "roleArn": CONSUMER_ROLE,
                 "externalId": "optional"}
    }))
    .unwrap();
    let connections: Api<DataZoneConnection> = Api::namespaced(client.clone(), namespace);
    connections.patch("consumer", &PatchParams::apply("bench").force(), &Patch::Apply(&connection)).await.unwrap();

    let before = calls(emulator);
    let started = Instant::now();
    let api: Api<DataZoneSubscription> = Api::namespaced(client.clone(), namespace);
    futures::stream::iter(wanted.iter().enumerate())
        .map(|(i, (_, product))| {
            let s: DataZoneSubscription = serde_json::from_value(json!({
                "apiVersion": "dataproducts.dev/v1alpha1", "kind": "DataZoneSubscription",
                "metadata": {"name": format!("sub-{i:05}"), "namespace": namespace},
                "spec": {"connectionRef": {"kind": "DataZoneConnection", "name": "consumer"}, "project": CONSUMER,
                         "wanted": {"dataProduct": {"name": product, "project": "sales"}},
                         "reason": "Monthly revenue reports",
                         "redshift": {"clusterName": "prod-dwh", "database": "reports", "credentialsSecretArn": SECRET}}
            }))
            .unwrap();
            let api = api.clone();
            async move {
                api.patch(&s.name_any(), &PatchParams::apply("bench").force(), &Patch::Apply(&s)).await.expect("apply")
            }
        })
        .buffer_unordered(16)
        .for_each(|_| futures::future::ready(()))
        .await;
    let n = wanted.len();
    let granted = wait_granted(&api, n, started).await;
    let secs = started.elapsed().as_secs_f64();
    let during = minus(&calls(emulator), &before);
    let settled = calls(emulator);
    let window = Instant::now();
    tokio::time::sleep(resync * 2).await;
    let resyncs = window.elapsed().as_secs_f64() / resync.as_secs_f64();
    let steady = minus(&calls(emulator), &settled);
    let environments = platform
        .list_environments()
        .domain_identifier(&domain)
        .project_identifier(project.id())
        .send()
        .await
        .map(|e| e.items().len())
        .unwrap_or(0);
    Subscribed {
        n,
        secs,
        bound_secs: n as f64 / ACCEPTS_PER_SECOND,
        calls: during,
        environments,
        steady_per_subscription_resync: sum(&steady, "datazone:") as f64 / n as f64 / resyncs,
        granted,
    }
}

/// Waits (a watch, not listings) until `n` subscriptions are Ready; how many were.
async fn wait_granted(api: &Api<DataZoneSubscription>, n: usize, started: Instant) -> usize {
    let (store, writer) = reflector::store();
    let watch = tokio::spawn(watcher(api.clone(), watcher::Config::default()).reflect(writer).for_each(|_| async {}));
    let (mut best, mut moved) = (0, Instant::now());
    loop {
        let granted = store
            .state()
            .iter()
            .filter(|s| {
                s.status.as_ref().is_some_and(|st| {
                    st.conditions.iter().any(|c| c.type_ == "Ready" && format!("{:?}", c.status) == "True")
                })
            })
            .count();
        if granted >= n {
            watch.abort();
            return granted;
        }
        if granted > best {
            (best, moved) = (granted, Instant::now());
        }
        if moved.elapsed() > Duration::from_secs(300) {
            watch.abort();
            eprintln!("  subscriptions: {granted} of {n} Granted and no progress for 5 minutes");
            return granted;
        }
        if started.elapsed().as_secs().is_multiple_of(10) {
            eprintln!("  {granted} of {n} subscriptions Granted after {:.0} s", started.elapsed().as_secs_f64());
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

pub fn print(s: &Subscribed) {
    eprintln!(
        "  {} subscriptions (one consuming project, one Redshift database): {} Granted after {:.1} s; bound {:.1} s (AcceptSubscriptionRequest at {ACCEPTS_PER_SECOND} a second), {:.2} x; {:.2} DataZone calls per subscription on the way; {} environment(s) in the consuming project; steady state {:.3} DataZone calls per subscription per resync",
        s.n,
        s.granted,
        s.secs,
        s.bound_secs,
        s.secs / s.bound_secs,
        sum(&s.calls, "datazone:") as f64 / s.n as f64,
        s.environments,
        s.steady_per_subscription_resync
    );
    eprintln!("  subscriptions, calls on the way: {}", super::by_operation(&s.calls));
}
