//! The watched objects counted by state for the gauges the dashboard and the alerts read
//! (docs/operations/alerts.md): data products by Ready and the reason they are not, connections,
//! subscriptions, and the subscription requests that wait for a person. Counted every few seconds
//! over every watch cache (not after each pass: at 10,000 data products that would be 10,000
//! counts of 10,000 objects a resync), and never per object: a label per data product would make
//! a series per data product.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use kube::runtime::reflector::Store;

use crate::controller::decide::subscription::{AWAITING_APPROVAL, REQUESTED};
use crate::controller::fleet::run_starts::RunStarts;
use crate::crd::conditions::{Condition, ConditionStatus, READY, STALLED, find};
use crate::crd::{ClusterDataZoneConnection, DataZoneConnection, DataZoneSubscription, RedshiftDataProduct};
use crate::metrics::Metrics;

/// How often the gauges are counted again.
pub const EVERY: Duration = Duration::from_secs(5);

/// Requests waiting for a person on one side: how many, and when the oldest was filed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Waiting {
    pub count: i64,
    /// Unix seconds.
    pub since: Option<f64>,
}

impl Waiting {
    fn add(&mut self, n: i64, filed: Option<&str>) {
        self.count += n;
        if let Some(at) = filed.and_then(|t| t.parse::<jiff::Timestamp>().ok()) {
            let at = at.as_millisecond() as f64 / 1000.0;
            self.since = Some(self.since.map_or(at, |s| s.min(at)));
        }
    }
}

/// What the gauges show.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Counts {
    /// Data products by Ready: true, false, unknown (no condition yet).
    pub products: BTreeMap<&'static str, i64>,
    /// Data products not Ready: (reason, stalled) → how many.
    pub not_ready: BTreeMap<(String, bool), i64>,
    /// Since when (Unix seconds) the one not Ready and not Stalled the longest has been so.
    pub not_ready_since: Option<f64>,
    /// Subscriptions: (ready, reason) → how many.
    pub subscriptions: BTreeMap<(&'static str, String), i64>,
    /// Connections: (kind, ready, reason) → how many.
    pub connections: BTreeMap<(&'static str, &'static str, String), i64>,
    pub producer_waiting: Waiting,
    pub consumer_waiting: Waiting,
}

/// The Ready condition as a label value, and its reason (`Pending` before there is one).
fn ready(conditions: Option<&[Condition]>) -> (&'static str, String) {
    match conditions.and_then(|c| find(c, READY)) {
        Some(c) if c.status == ConditionStatus::True => ("true", c.reason.clone()),
        Some(c) if c.status == ConditionStatus::False => ("false", c.reason.clone()),
        _ => ("unknown", "Pending".to_string()),
    }
}

impl Counts {
    pub fn of(
        products: &[Arc<RedshiftDataProduct>],
        subscriptions: &[Arc<DataZoneSubscription>],
        connections: &[Arc<DataZoneConnection>],
        cluster_connections: &[Arc<ClusterDataZoneConnection>],
    ) -> Self {
        let mut counts = Counts::default();
        for label in ["true", "false", "unknown"] {
            counts.products.insert(label, 0);
        }
        for p in products {
            let conditions = p.status.as_ref().map(|s| s.conditions.as_slice());
            let (label, reason) = ready(conditions);
            *counts.products.entry(label).or_default() += 1;
            if label != "true" {
                let stalled =
                    conditions.and_then(|c| find(c, STALLED)).is_some_and(|c| c.status == ConditionStatus::True);
                *counts.not_ready.entry((reason, stalled)).or_default() += 1;
                if !stalled {
                    // Not Ready since Ready last turned; a new one since it was made.
                    let since = match conditions.and_then(|c| find(c, READY)) {
                        Some(c) => c.last_transition_time.parse::<jiff::Timestamp>().ok(),
                        None => p.metadata.creation_timestamp.as_ref().map(|t| t.0),
                    };
                    if let Some(at) = since.map(|t| t.as_millisecond() as f64 / 1000.0) {
                        counts.not_ready_since = Some(counts.not_ready_since.map_or(at, |s| s.min(at)));
                    }
                }
            }
            if let Some(access) = p.status.as_ref().and_then(|s| s.access.as_ref()).filter(|a| a.waiting > 0) {
                counts.producer_waiting.add(access.waiting.into(), access.waiting_since.as_deref());
            }
        }
        for s in subscriptions {
            let conditions = s.status.as_ref().map(|s| s.conditions.as_slice());
            let key = ready(conditions);
            if key.1 == AWAITING_APPROVAL {
                // Filed when Requested turned True.
                let filed = conditions.and_then(|c| find(c, REQUESTED)).map(|c| c.last_transition_time.as_str());
                counts.consumer_waiting.add(1, filed);
            }
            *counts.subscriptions.entry(key).or_default() += 1;
        }
        let namespaced = connections.iter().map(|c| ("DataZoneConnection", c.status.as_ref()));
        let cluster = cluster_connections.iter().map(|c| ("ClusterDataZoneConnection", c.status.as_ref()));
        for (kind, status) in namespaced.chain(cluster) {
            let (label, reason) = ready(status.map(|s| s.conditions.as_slice()));
            *counts.connections.entry((kind, label, reason)).or_default() += 1;
        }
        counts
    }

    /// Sets the gauges to these counts; a reason no object has any more leaves the gauges.
    pub fn publish(&self, metrics: &Metrics) {
        for (label, n) in &self.products {
            metrics.data_products.with_label_values(&[label]).set(*n);
        }
        metrics.not_ready_since.set(self.not_ready_since.unwrap_or(0.0));
        metrics.data_products_not_ready.reset();
        for ((reason, stalled), n) in &self.not_ready {
            metrics.data_products_not_ready.with_label_values(&[reason.as_str(), &stalled.to_string()]).set(*n);
        }
        metrics.subscriptions.reset();
        for ((ready, reason), n) in &self.subscriptions {
            metrics.subscriptions.with_label_values(&[ready, reason.as_str()]).set(*n);
        }
        metrics.connections.reset();
        for ((kind, ready, reason), n) in &self.connections {
            metrics.connections.with_label_values(&[kind, ready, reason.as_str()]).set(*n);
        }
        metrics.requests_waiting_since.reset();
        for (side, waiting) in [("producer", &self.producer_waiting), ("consumer", &self.consumer_waiting)] {
            metrics.requests_waiting.with_label_values(&[side]).set(waiting.count);
            if let Some(since) = waiting.since {
                metrics.requests_waiting_since.with_label_values(&[side]).set(since);
            }
        }
    }
}

/// The watch caches the census counts (a scoped operator has one per namespace of each kind), and
/// the run starts of the last day.
#[derive(Clone, Default)]
pub struct Census {
    pub products: Vec<Store<RedshiftDataProduct>>,
    pub subscriptions: Vec<Store<DataZoneSubscription>>,
    pub connections: Vec<Store<DataZoneConnection>>,
    pub cluster_connections: Option<Store<ClusterDataZoneConnection>>,
    pub run_starts: Arc<RunStarts>,
}

/// Every object of a kind in its watch caches.
fn all<K>(stores: &[Store<K>]) -> Vec<Arc<K>>
where
    K: kube::Resource + Clone + 'static,
    K::DynamicType: Eq + std::hash::Hash + Clone,
{
    stores.iter().flat_map(Store::state).collect()
}

impl Census {
    pub fn count(&self) -> Counts {
        let products = all(&self.products);
        let subscriptions = all(&self.subscriptions);
        let connections = all(&self.connections);
        let cluster = self.cluster_connections.as_ref().map(Store::state).unwrap_or_default();
        Counts::of(&products, &subscriptions, &connections, &cluster)
    }

    /// Counts every [`EVERY`] once `filled` (the watches of connections and namespaces) and one
    /// more period have passed, for as long as the operator runs: counted earlier, the caches of
    /// a restarted operator would still be filling, and a gauge of nothing would restart every
    /// alert's `for` timer.
    pub async fn run(self, metrics: Metrics, filled: impl std::future::Future<Output = ()>) {
        filled.await;
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + EVERY, EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            self.count().publish(&metrics);
            metrics.near_run_quota.set(self.run_starts.near(tokio::time::Instant::now()) as i64);
            let watched = [
                ("RedshiftDataProduct", self.products.iter().map(|s| s.state().len()).sum::<usize>()),
                ("DataZoneSubscription", self.subscriptions.iter().map(|s| s.state().len()).sum()),
            ];
            for (kind, n) in watched {
                metrics.watched_objects.with_label_values(&[kind]).set(n as i64);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::{AccessStatus, DataZoneSubscriptionStatus, RedshiftDataProductStatus};

    fn condition(type_: &str, status: ConditionStatus, reason: &str, at: &str) -> Condition {
        Condition {
            type_: type_.into(),
            status,
            reason: reason.into(),
            message: String::new(),
            observed_generation: None,
            last_transition_time: at.into(),
        }
    }

    fn product(conditions: Vec<Condition>, access: Option<AccessStatus>) -> Arc<RedshiftDataProduct> {
        let mut p: RedshiftDataProduct =
            serde_json::from_value(serde_json::json!({"metadata": {"name": "p"}, "spec": {
                "connectionRef": {"kind": "DataZoneConnection", "name": "c"}, "project": "sales",
                "redshift": {"clusterName": "rs", "database": "dev", "credentialsSecretArn": "arn:aws:secretsmanager:eu-west-1:1:secret:s"},
                "schemas": [{"name": "public", "tables": ["orders"]}]}}))
            .expect("a data product");
        p.status = Some(RedshiftDataProductStatus { conditions, access, ..Default::default() });
        Arc::new(p)
    }

    fn subscription(conditions: Vec<Condition>) -> Arc<DataZoneSubscription> {
        let mut s: DataZoneSubscription =
            serde_json::from_value(serde_json::json!({"metadata": {"name": "s"}, "spec": {
                "connectionRef": {"kind": "DataZoneConnection", "name": "c"}, "project": "analytics",
                "wanted": {"listingId": "l1"}, "reason": "dashboards"}}))
            .expect("a subscription");
        s.status = Some(DataZoneSubscriptionStatus { conditions, ..Default::default() });
        Arc::new(s)
    }

    #[test]
    fn counts_data_products_by_ready_and_why_not() {
        use ConditionStatus::{False, True};
        let t0 = "2026-12-01T00:00:00Z";
        let products = [
            product(vec![condition(READY, True, "Published", t0)], None),
            product(
                vec![condition(READY, False, "ProjectNotFound", t0), condition(STALLED, True, "ProjectNotFound", t0)],
                None,
            ),
            product(
                vec![condition(READY, False, "ProjectNotFound", t0), condition(STALLED, True, "ProjectNotFound", t0)],
                None,
            ),
            product(vec![condition(READY, False, "Running", t0), condition(STALLED, False, "Running", t0)], None),
            product(vec![], None),
        ];
        let counts = Counts::of(&products, &[], &[], &[]);
        assert_eq!(counts.products, BTreeMap::from([("true", 1), ("false", 3), ("unknown", 1)]));
        assert_eq!(
            counts.not_ready,
            BTreeMap::from([
                (("ProjectNotFound".to_string(), true), 2),
                (("Running".to_string(), false), 1),
                (("Pending".to_string(), false), 1),
            ])
        );
        assert_eq!(counts.producer_waiting, Waiting::default(), "no access status, nothing waits");
        let t0 = t0.parse::<jiff::Timestamp>().unwrap().as_second() as f64;
        assert_eq!(counts.not_ready_since, Some(t0), "the Running one's, not the Stalled ones'");
    }

    #[test]
    fn requests_waiting_for_a_person_are_counted_with_the_oldest_filing_time() {
        use ConditionStatus::{False, True};
        let ready = condition(READY, True, "Published", "2026-12-01T00:00:00Z");
        let waiting =
            |n, since: &str| AccessStatus { waiting: n, waiting_since: Some(since.into()), ..Default::default() };
        let products = [
            product(vec![ready.clone()], Some(waiting(2, "2026-12-03T00:00:00Z"))),
            product(vec![ready.clone()], Some(waiting(1, "2026-12-02T00:00:00Z"))),
            product(vec![ready], Some(AccessStatus { approved: 4, ..Default::default() })),
        ];
        let awaiting = |filed: &str| {
            subscription(vec![
                condition(READY, False, AWAITING_APPROVAL, "2026-11-30T00:00:00Z"),
                condition(REQUESTED, True, "Filed", filed),
            ])
        };
        let subscriptions = [
            awaiting("2026-12-04T00:00:00Z"),
            awaiting("2026-12-05T00:00:00Z"),
            subscription(vec![condition(READY, True, "Granted", "2026-12-01T00:00:00Z")]),
        ];
        let counts = Counts::of(&products, &subscriptions, &[], &[]);
        let at = |t: &str| t.parse::<jiff::Timestamp>().unwrap().as_second() as f64;
        assert_eq!(counts.producer_waiting, Waiting { count: 3, since: Some(at("2026-12-02T00:00:00Z")) });
        assert_eq!(counts.consumer_waiting, Waiting { count: 2, since: Some(at("2026-12-04T00:00:00Z")) });
        assert_eq!(
            counts.subscriptions,
            BTreeMap::from([(("false", AWAITING_APPROVAL.to_string()), 2), (("true", "Granted".to_string()), 1)])
        );
    }

    #[test]
    fn published_gauges_drop_reasons_no_object_has_any_more() {
        use ConditionStatus::{False, True};
        let metrics = Metrics::new().unwrap();
        let stalled = product(
            vec![condition(READY, False, "ProjectNotFound", "t"), condition(STALLED, True, "ProjectNotFound", "t")],
            None,
        );
        Counts::of(&[stalled], &[], &[], &[]).publish(&metrics);
        let text = metrics.render();
        assert!(
            text.contains(r#"datazone_operator_data_products_not_ready{reason="ProjectNotFound",stalled="true"} 1"#),
            "{text}"
        );
        assert!(!text.contains("datazone_operator_subscription_requests_waiting_since"), "nothing waits: {text}");
        let fixed = product(vec![condition(READY, True, "Published", "t")], None);
        Counts::of(&[fixed], &[], &[], &[]).publish(&metrics);
        let text = metrics.render();
        assert!(!text.contains("ProjectNotFound"), "{text}");
        assert!(text.contains(r#"datazone_operator_data_products{ready="true"} 1"#), "{text}");
        assert!(text.contains(r#"datazone_operator_subscription_requests_waiting{side="producer"} 0"#), "{text}");
    }
}
