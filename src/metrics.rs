//! Prometheus metrics of the operator, served on `/metrics`.

use prometheus::{
    Encoder, GaugeVec, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};

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
                "Calls a second the operator sends to DataZone per account and region, learnt from throttling.",
            ),
            &["account", "region"],
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
