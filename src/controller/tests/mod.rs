//! Reconcile passes without a cluster: the whole [`crate::controller::data_product::reconcile::reconcile`] (finalizer,
//! phases, status patch, Events) against the in-process DataZone backend
//! ([`crate::datazone::fake`]) and an in-process Kubernetes API ([`api`]). Each test asserts
//! what a user would see (status, Events, when the next pass comes) and the exact DataZone calls
//! a pass made.

mod access;
mod adoption;
mod api;
mod business;
mod deletion;
mod failures;
mod glossary;
mod products;
mod retirement;
mod steps;
mod subscription;
mod tenancy;
mod v2;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use kube::core::PartialObjectMeta;
use kube::runtime::controller::Action;
use kube::runtime::events::Reporter;
use kube::runtime::reflector::{self, store::Writer};
use kube::runtime::watcher;
use serde_json::{Value, json};

use crate::controller::context::{Context, Settings};
use crate::controller::data_product::reconcile::reconcile;
use crate::controller::decide::pass::FINALIZER;
use crate::controller::decide::pass::ReconcileError;
use crate::controller::fleet::watched::Watched;
use crate::crd::conditions::{self, ConditionStatus};
use crate::crd::{ClusterDataZoneConnection, DataZoneConnection, RedshiftDataProduct, RedshiftDataProductStatus};
use crate::datazone::fake::Fake;
use crate::events::Events;
use crate::metrics::Metrics;

use api::FakeApi;

pub const NS: &str = "team-sales";
pub const RESYNC: Duration = Duration::from_secs(1800);
const SECRET: &str = "arn:aws:secretsmanager:eu-central-1:222222222222:secret:dz-redshift-AbCdEf";

pub fn product_path(name: &str) -> String {
    format!("/apis/dataproducts.dev/v1alpha1/namespaces/{NS}/redshiftdataproducts/{name}")
}

fn connection_spec() -> Value {
    json!({
        "region": "eu-central-1",
        "domain": {"name": "corp"},
        "roleArn": "arn:aws:iam::111111111111:role/dz-registration",
        "producer": {
            "provisioningRoleArn": "arn:aws:iam::222222222222:role/DataZoneProvisioning-111111111111",
            "manageAccessRoleArn": "arn:aws:iam::222222222222:role/DzRedshiftAccess"
        }
    })
}

/// A fake DataZone, a fake API server, the namespace's `DataZoneConnection` "central" in the
/// watches, and a context over them. Polls are immediate (every pass looks again), resyncs half an hour.
pub struct Harness {
    pub dz: Fake,
    pub api: FakeApi,
    pub ctx: Arc<Context<Fake>>,
    /// What the operator's watches would have brought.
    watches: Mutex<Watches>,
    /// On tokio's paused clock ([`Harness::paused`]): each pass moves it on by a moment, as a
    /// real pass takes one (a listing taken in a pass is then later than a write before it).
    paused: bool,
}

struct Watches {
    connections: Writer<DataZoneConnection>,
    cluster_connections: Writer<ClusterDataZoneConnection>,
    namespaces: Writer<PartialObjectMeta<Namespace>>,
}

/// What one pass did.
#[derive(Debug)]
pub struct Pass {
    pub result: Result<Action, String>,
    /// DataZone, STS and Redshift Data calls, in order.
    pub calls: Vec<String>,
    /// Event reasons, in order.
    pub events: Vec<String>,
    /// Whether the pass wrote status.
    pub wrote_status: bool,
    /// The finalizer was taken off.
    pub finalizer_removed: bool,
    /// Paths the pass GET from the API server.
    pub reads: Vec<String>,
}

impl Pass {
    pub fn requeue(&self) -> Action {
        self.result.clone().expect("the pass succeeded")
    }
}

impl Harness {
    pub fn new() -> Self {
        Self::with_resync(RESYNC)
    }

    /// A harness whose resync interval is `resync` (short ones let a test see listings expire).
    pub fn with_resync(resync: Duration) -> Self {
        Self::with_timing(resync, Duration::ZERO)
    }

    /// A harness whose resync and poll intervals are `resync` and `poll`.
    pub fn with_timing(resync: Duration, poll: Duration) -> Self {
        Self::over(Fake::default(), resync, poll)
    }

    /// The operator restarted: a new process (no cached lookup, listing or memory of its own
    /// writes) over the same DataZone, with the same resync and poll.
    pub fn restarted(&self) -> Self {
        Self { paused: self.paused, ..Self::over(self.dz.clone(), self.ctx.resync, self.ctx.poll) }
    }

    fn over(dz: Fake, resync: Duration, poll: Duration) -> Self {
        let api = FakeApi::default();
        let (connections, mut connection_writer) = reflector::store();
        let (cluster_connections, cluster_writer) = reflector::store();
        let (namespaces, namespace_writer) = reflector::store();
        let central = json!({"apiVersion": "dataproducts.dev/v1alpha1", "kind": "DataZoneConnection",
                             "metadata": {"name": "central", "namespace": NS}, "spec": connection_spec()});
        connection_writer.apply_watcher_event(&watcher::Event::Apply(serde_json::from_value(central).expect("valid")));
        let watched = Watched { connections: vec![connections], cluster_connections, namespaces };
        let watches = Mutex::new(Watches {
            connections: connection_writer,
            cluster_connections: cluster_writer,
            namespaces: namespace_writer,
        });
        let client = api.client();
        let reporter = Reporter { controller: "datazone-operator".into(), instance: None };
        let settings = Settings { cluster_name: "prod-eks".into(), resync, poll, concurrency: 1 };
        let metrics = Metrics::new().expect("metrics");
        let events = Events::new(client.clone(), reporter);
        let ctx = Arc::new(Context::new(client, watched, dz.clone(), events, metrics, settings));
        Self { dz, api, ctx, watches, paused: false }
    }

    /// A harness whose resync interval is `resync`, for a test on tokio's paused clock
    /// (`#[tokio::test(start_paused = true)]`): listings and cached lookups expire only when the
    /// test sleeps past them, however busy the machine.
    pub fn paused(resync: Duration) -> Self {
        Self { paused: true, ..Self::with_resync(resync) }
    }

    /// Also offers the cluster-scoped connection "corp-mesh", admitting namespaces labelled
    /// `team=sales`, and the namespace with `labels` (`None`: not seen by the watch yet).
    pub fn with_cluster_connection(self, labels: Option<Value>) -> Self {
        let mut spec = connection_spec();
        spec["namespaceSelector"] = json!({"matchLabels": {"team": "sales"}});
        let connection = json!({"apiVersion": "dataproducts.dev/v1alpha1", "kind": "ClusterDataZoneConnection",
                                "metadata": {"name": "corp-mesh"}, "spec": spec});
        let namespace = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS, "labels": labels}});
        {
            let mut watches = self.watches.lock().unwrap_or_else(PoisonError::into_inner);
            let connection = serde_json::from_value(connection).expect("valid");
            watches.cluster_connections.apply_watcher_event(&watcher::Event::Apply(connection));
            if labels.is_some() {
                let namespace = serde_json::from_value(namespace).expect("valid");
                watches.namespaces.apply_watcher_event(&watcher::Event::Apply(namespace));
            }
        }
        self
    }

    /// Gives the DataZoneConnection `central` the tenancy rules `allowed`.
    pub fn with_allowed(self, allowed: Value) -> Self {
        self.with_connection(|spec| spec["allowed"] = allowed)
    }

    /// Lets the data products using the DataZoneConnection `central` approve the consumer
    /// projects of `entries` (its `autoApproval`).
    pub fn with_auto_approval(self, entries: Value) -> Self {
        self.with_connection(|spec| spec["autoApproval"] = entries)
    }

    /// The DataZoneConnection `central` with its spec changed by `edit`.
    pub fn with_connection(self, edit: impl FnOnce(&mut Value)) -> Self {
        {
            let mut watches = self.watches.lock().unwrap_or_else(PoisonError::into_inner);
            let mut spec = connection_spec();
            edit(&mut spec);
            let central = json!({"apiVersion": "dataproducts.dev/v1alpha1", "kind": "DataZoneConnection",
                                 "metadata": {"name": "central", "namespace": NS}, "spec": spec});
            watches
                .connections
                .apply_watcher_event(&watcher::Event::Apply(serde_json::from_value(central).expect("valid")));
        }
        self
    }

    /// Removes the DataZoneConnection `central` from the watches, as its deletion would.
    pub fn without_connection(self) -> Self {
        {
            let mut watches = self.watches.lock().unwrap_or_else(PoisonError::into_inner);
            let central = json!({"apiVersion": "dataproducts.dev/v1alpha1", "kind": "DataZoneConnection",
                                 "metadata": {"name": "central", "namespace": NS}, "spec": connection_spec()});
            watches
                .connections
                .apply_watcher_event(&watcher::Event::Delete(serde_json::from_value(central).expect("valid")));
        }
        self
    }

    /// A data product `name` of the reference shape (cluster prod-dwh, database sales, schema
    /// public with two tables and a view), already carrying the finalizer; `edit` changes its
    /// JSON first.
    pub fn product(&self, name: &str, edit: impl FnOnce(&mut Value)) -> RedshiftDataProduct {
        let mut object = json!({
            "apiVersion": "dataproducts.dev/v1alpha1",
            "kind": "RedshiftDataProduct",
            "metadata": {"name": name, "namespace": NS, "uid": format!("uid-{name}"), "generation": 1,
                         "finalizers": [FINALIZER]},
            "spec": {
                "connectionRef": {"kind": "DataZoneConnection", "name": "central"},
                "project": "sales",
                "redshift": {"clusterName": "prod-dwh", "database": "sales", "credentialsSecretArn": SECRET},
                "schemas": [{"name": "public", "tables": ["orders", "customers"], "views": ["v_orders"]}],
                "deletionPolicy": "Delete"
            }
        });
        edit(&mut object);
        self.api.put(&product_path(name), object.clone());
        serde_json::from_value(object).expect("a valid data product")
    }

    /// Runs one pass over `p` and, as the watch would, gives `p` the status it wrote.
    pub async fn pass(&self, p: &mut RedshiftDataProduct) -> Pass {
        if self.paused {
            tokio::time::advance(Duration::from_millis(1)).await;
        }
        let result = reconcile(Arc::new(p.clone()), self.ctx.clone()).await.map_err(|e: ReconcileError| {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                text.push_str(&format!(" / {s}"));
                source = s.source();
            }
            text
        });
        let requests = self.api.take();
        let mut wrote_status = false;
        let mut finalizer_removed = false;
        let mut events = Vec::new();
        for r in &requests {
            if r.path.contains("/events") {
                if let Some(reason) = r.body["reason"].as_str() {
                    events.push(reason.to_string());
                }
            } else if r.method == "PATCH" && r.path.ends_with("/status") {
                wrote_status = true;
                let status: RedshiftDataProductStatus =
                    serde_json::from_value(r.body["status"].clone()).expect("a status the CRD accepts");
                p.status = Some(status);
            } else if r.method == "PATCH" && r.body.to_string().contains("remove") {
                finalizer_removed = true;
            }
        }
        let reads = requests.iter().filter(|r| r.method == "GET").map(|r| r.path.clone()).collect();
        Pass { result, calls: self.dz.take_calls(), events, wrote_status, finalizer_removed, reads }
    }
}

/// When `action` comes back (kube's `Action` shows it only in its Debug form).
pub fn requeue_after(action: &Action) -> Option<Duration> {
    let text = format!("{action:?}");
    let inner = text.split("Some(").nth(1)?.split(')').next()?;
    let split = inner.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (number, unit) = inner.split_at(split);
    let seconds = number.parse::<f64>().ok()?
        * match unit {
            "s" => 1.0,
            "ms" => 1e-3,
            "µs" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
    Some(Duration::from_secs_f64(seconds))
}

/// The pass comes back at the resync interval, spread by ±25 %.
pub fn assert_resync(h: &Harness, pass: &Pass) {
    let after = requeue_after(&pass.requeue());
    let (low, high) = (h.ctx.resync.mul_f64(0.75), h.ctx.resync.mul_f64(1.25));
    assert!(after.is_some_and(|d| d >= low && d <= high), "requeue {after:?}, not a resync");
}

/// `(status, reason)` of condition `type_`.
pub fn condition(p: &RedshiftDataProduct, type_: &str) -> Option<(ConditionStatus, String)> {
    let c = conditions::find(&p.status.as_ref()?.conditions, type_)?;
    Some((c.status, c.reason.clone()))
}

pub fn message(p: &RedshiftDataProduct, type_: &str) -> String {
    p.status
        .as_ref()
        .and_then(|s| conditions::find(&s.conditions, type_))
        .map(|c| c.message.clone())
        .unwrap_or_default()
}

pub fn is(status: ConditionStatus, reason: &str) -> Option<(ConditionStatus, String)> {
    Some((status, reason.to_string()))
}

pub fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}
