//! Prometheus metrics of the operator, served on `/metrics`. The chart's dashboard and alerts
//! (docs/operations/dashboard.md, docs/operations/alerts.md) are written against these names:
//! a family renamed here breaks a panel or an alert there (`make alerts` and the dashboard's
//! end-to-end test say which).

use prometheus::{
    Encoder, GaugeVec, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

/// Buckets of long waits (runs, first publish): 10 s to 6 h.
const LONG_BUCKETS: [f64; 11] = [10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0, 7200.0, 21600.0];

/// The operator's metric families, registered in their own registry.
#[derive(Clone, Debug)]
pub struct Metrics {
    registry: Registry,
    /// Objects of each kind currently in the watch cache.
    pub watched_objects: IntGaugeVec,
    /// Reconciles by result (ok, error).
    pub reconciles: IntCounterVec,
    /// Reconcile duration by result.
    pub reconcile_seconds: HistogramVec,
    /// AWS calls by service, operation and outcome.
    pub aws_calls: IntCounterVec,
    /// AWS call duration by service and operation.
    pub aws_call_seconds: HistogramVec,
    /// AWS call attempts (the SDK's retries each count) by service, operation and outcome.
    pub aws_attempts: IntCounterVec,
    /// Data products by their Ready condition (true, false, unknown).
    pub data_products: IntGaugeVec,
    /// DataZoneSubscriptions by their Ready condition and its reason.
    pub subscriptions: IntGaugeVec,
    /// Requests to the Kubernetes API server by HTTP method (a watch counts once).
    pub kubernetes_requests: IntCounterVec,
    /// The pace DataZone calls go at, per account and region (calls a second).
    pub aws_pace: GaugeVec,
    /// Resyncs of settled data products held back while the pace was saturated.
    pub resyncs_held: IntCounter,
    /// Subscription requests decided by access policies, by decision (approved, rejected).
    pub subscription_decisions: IntCounterVec,
    /// Data products not Ready, by the Ready condition's reason and whether Stalled.
    pub data_products_not_ready: IntGaugeVec,
    /// Since when the longest-waiting data product not Ready (and not Stalled) has been so.
    pub not_ready_since: prometheus::Gauge,
    /// Connections by kind, Ready and its reason.
    pub connections: IntGaugeVec,
    /// Subscription requests waiting for a person, by side (producer: to this operator's
    /// listings; consumer: this operator's DataZoneSubscriptions).
    pub requests_waiting: IntGaugeVec,
    /// When the oldest of them was filed (Unix seconds), by side; absent when none waits.
    pub requests_waiting_since: GaugeVec,
    /// Data source runs seen ending, by status.
    pub runs: IntCounterVec,
    /// How long data source runs took, start to end.
    pub run_seconds: Histogram,
    /// From a data product's creation to the end of its first run, when it imported assets.
    pub first_publish_seconds: Histogram,
    /// Data sources that started most of their daily runs in the last 24 hours.
    pub near_run_quota: IntGauge,
    /// Assumed-role sessions held (one per connection role, account and region).
    pub aws_sessions: IntGauge,
    /// Data product passes waiting at the shared `--concurrency` gate, and running past it.
    pub passes_waiting: IntGauge,
    pub passes_running: IntGauge,
    /// 1 while this process holds the leader lease (or runs without leader election).
    pub leader: IntGauge,
}

impl Metrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let build_info = IntGaugeVec::new(
            Opts::new("datazone_operator_build_info", "Version of the running operator (always 1)."),
            &["version"],
        )?;
        build_info.with_label_values(&[env!("CARGO_PKG_VERSION")]).set(1);
        let watched_objects = IntGaugeVec::new(
            Opts::new("datazone_operator_watched_objects", "Objects of each kind in the operator's watch cache."),
            &["kind"],
        )?;
        let kubernetes_requests = IntCounterVec::new(
            Opts::new("datazone_operator_kubernetes_requests_total", "Requests to the Kubernetes API by HTTP method."),
            &["method"],
        )?;
        let reconciles = IntCounterVec::new(
            Opts::new("datazone_operator_reconciles_total", "Reconcile passes by kind and result."),
            &["kind", "result"],
        )?;
        let reconcile_seconds = HistogramVec::new(
            HistogramOpts::new("datazone_operator_reconcile_duration_seconds", "Duration of one reconcile pass.")
                .buckets(vec![0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0]),
            &["kind", "result"],
        )?;
        let aws_calls = IntCounterVec::new(
            Opts::new("datazone_operator_aws_requests_total", "AWS calls by service, operation and outcome."),
            &["service", "operation", "outcome"],
        )?;
        let aws_call_seconds = HistogramVec::new(
            HistogramOpts::new(
                "datazone_operator_aws_request_duration_seconds",
                "Duration of AWS calls, retries included.",
            )
            .buckets(vec![0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
            &["service", "operation"],
        )?;
        let data_products = IntGaugeVec::new(
            Opts::new("datazone_operator_data_products", "RedshiftDataProducts by their Ready condition."),
            &["ready"],
        )?;
        let subscriptions = IntGaugeVec::new(
            Opts::new(
                "datazone_operator_subscriptions",
                "DataZoneSubscriptions by their Ready condition and its reason (Granted, AwaitingApproval, Rejected, Revoked, ...).",
            ),
            &["ready", "reason"],
        )?;
        registry.register(Box::new(subscriptions.clone()))?;
        let aws_pace = GaugeVec::new(
            Opts::new(
                "datazone_operator_aws_pace",
                "Calls a second the operator sends to DataZone per account, region and operation, learnt from throttling.",
            ),
            &["account", "region", "operation"],
        )?;
        let resyncs_held = IntCounter::new(
            "datazone_operator_resyncs_held_total",
            "Resyncs of settled data products held back (no call made) while the DataZone pace was saturated.",
        )?;
        registry.register(Box::new(resyncs_held.clone()))?;
        let subscription_decisions = IntCounterVec::new(
            Opts::new(
                "datazone_operator_subscription_decisions_total",
                "Subscription requests decided by the data products' access policies, by decision.",
            ),
            &["decision"],
        )?;
        registry.register(Box::new(subscription_decisions.clone()))?;
        let data_products_not_ready = IntGaugeVec::new(
            Opts::new(
                "datazone_operator_data_products_not_ready",
                "RedshiftDataProducts not Ready, by the Ready condition's reason and whether they are Stalled.",
            ),
            &["reason", "stalled"],
        )?;
        let not_ready_since = prometheus::Gauge::new(
            "datazone_operator_data_products_not_ready_since_timestamp_seconds",
            "When the data product not Ready (and not Stalled) the longest turned not Ready (Unix seconds); 0 when none is.",
        )?;
        let aws_attempts = IntCounterVec::new(
            Opts::new(
                "datazone_operator_aws_attempts_total",
                "AWS call attempts by service, operation and outcome: each retry of the SDK counts (a 429 retried is one throttled attempt).",
            ),
            &["service", "operation", "outcome"],
        )?;
        let connections = IntGaugeVec::new(
            Opts::new("datazone_operator_connections", "Connections by kind, their Ready condition and its reason."),
            &["kind", "ready", "reason"],
        )?;
        let requests_waiting = IntGaugeVec::new(
            Opts::new(
                "datazone_operator_subscription_requests_waiting",
                "Subscription requests waiting for a person: producer (to the listings of data products with an access \
                 policy, no rule names them) and consumer (DataZoneSubscriptions awaiting approval).",
            ),
            &["side"],
        )?;
        let requests_waiting_since = GaugeVec::new(
            Opts::new(
                "datazone_operator_subscription_requests_waiting_since_timestamp_seconds",
                "When the oldest subscription request waiting for a person was filed (Unix seconds); absent when none waits.",
            ),
            &["side"],
        )?;
        let runs = IntCounterVec::new(
            Opts::new("datazone_operator_data_source_runs_total", "Data source runs seen ending, by status."),
            &["status"],
        )?;
        let run_seconds = Histogram::with_opts(
            HistogramOpts::new(
                "datazone_operator_data_source_run_duration_seconds",
                "How long data source runs took, from their start to their end.",
            )
            .buckets(LONG_BUCKETS.to_vec()),
        )?;
        let first_publish_seconds = Histogram::with_opts(
            HistogramOpts::new(
                "datazone_operator_first_publish_duration_seconds",
                "From a RedshiftDataProduct's creation to the end of its first run, when that run imported assets.",
            )
            .buckets(LONG_BUCKETS.to_vec()),
        )?;
        let near_run_quota = IntGauge::new(
            "datazone_operator_data_sources_near_run_quota",
            "Data sources that started at least 20 of their 25 daily runs in the last 24 hours (as this process counted).",
        )?;
        let aws_sessions = IntGauge::new(
            "datazone_operator_aws_sessions",
            "Assumed-role sessions held (per role, account and region).",
        )?;
        let passes_waiting = IntGauge::new(
            "datazone_operator_passes_waiting",
            "Data product passes waiting at the shared --concurrency gate.",
        )?;
        let passes_running = IntGauge::new(
            "datazone_operator_passes_running",
            "Data product passes running past the --concurrency gate.",
        )?;
        let leader = IntGauge::new(
            "datazone_operator_leader",
            "1 while this process holds the leader lease (or runs without leader election), else 0.",
        )?;
        // The label values known in advance start at 0: a counter first seen at 1 shows no
        // increase (Prometheus takes its first sample as the start), so the first run or decision
        // after a start would never reach a rate, a dashboard or an alert.
        for status in ["SUCCESS", "PARTIALLY_SUCCEEDED", "FAILED"] {
            runs.with_label_values(&[status]);
        }
        for decision in ["approved", "rejected"] {
            subscription_decisions.with_label_values(&[decision]);
        }
        for family in [
            Box::new(data_products_not_ready.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(not_ready_since.clone()),
            Box::new(aws_attempts.clone()),
            Box::new(connections.clone()),
            Box::new(requests_waiting.clone()),
            Box::new(requests_waiting_since.clone()),
            Box::new(runs.clone()),
            Box::new(run_seconds.clone()),
            Box::new(first_publish_seconds.clone()),
            Box::new(near_run_quota.clone()),
            Box::new(aws_sessions.clone()),
            Box::new(passes_waiting.clone()),
            Box::new(passes_running.clone()),
            Box::new(leader.clone()),
        ] {
            registry.register(family)?;
        }
        registry.register(Box::new(aws_pace.clone()))?;
        registry.register(Box::new(aws_calls.clone()))?;
        registry.register(Box::new(aws_call_seconds.clone()))?;
        registry.register(Box::new(data_products.clone()))?;
        registry.register(Box::new(build_info))?;
        registry.register(Box::new(watched_objects.clone()))?;
        registry.register(Box::new(reconciles.clone()))?;
        registry.register(Box::new(kubernetes_requests.clone()))?;
        registry.register(Box::new(reconcile_seconds.clone()))?;
        Ok(Self {
            registry,
            watched_objects,
            reconciles,
            reconcile_seconds,
            kubernetes_requests,
            aws_calls,
            aws_call_seconds,
            data_products,
            subscriptions,
            aws_pace,
            resyncs_held,
            subscription_decisions,
            data_products_not_ready,
            not_ready_since,
            aws_attempts,
            connections,
            requests_waiting,
            requests_waiting_since,
            runs,
            run_seconds,
            first_publish_seconds,
            near_run_quota,
            aws_sessions,
            passes_waiting,
            passes_running,
            leader,
        })
    }

    pub fn observe_aws_call(&self, service: &str, operation: &str, outcome: &str, took: Option<std::time::Duration>) {
        self.aws_calls.with_label_values(&[service, operation, outcome]).inc();
        if let Some(took) = took {
            self.aws_call_seconds.with_label_values(&[service, operation]).observe(took.as_secs_f64());
        }
    }

    pub fn observe_reconcile(&self, kind: &str, result: &str, took: std::time::Duration) {
        self.reconciles.with_label_values(&[kind, result]).inc();
        self.reconcile_seconds.with_label_values(&[kind, result]).observe(took.as_secs_f64());
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        // Encoding into a Vec cannot fail for well-formed families.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buffer);
        String::from_utf8_lossy(&buffer).into_owned()
    }
}

/// One in a gauge of things in progress while it lives (dropped when a future is cancelled, too).
pub struct InProgress(IntGauge);

impl InProgress {
    pub fn new(gauge: &IntGauge) -> Self {
        gauge.inc();
        Self(gauge.clone())
    }
}

impl Drop for InProgress {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposes_build_info_and_watched_objects() {
        let metrics = Metrics::new().unwrap();
        metrics.watched_objects.with_label_values(&["RedshiftDataProduct"]).set(3);
        let text = metrics.render();
        assert!(
            text.contains(&format!("datazone_operator_build_info{{version=\"{}\"}} 1", env!("CARGO_PKG_VERSION"))),
            "{text}"
        );
        assert!(text.contains("datazone_operator_watched_objects{kind=\"RedshiftDataProduct\"} 3"), "{text}");
    }
}
