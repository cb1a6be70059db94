//! AWS calls in the metrics: an SDK interceptor on every client counts each call by service,
//! operation and outcome, and times it (retries included, as the caller experiences it).

use std::time::Instant;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

use crate::metrics::Metrics;

#[derive(Debug)]
struct Started(Instant);

impl Storable for Started {
    type Storer = StoreReplace<Self>;
}

#[derive(Clone, Debug)]
pub struct CallMetrics {
    pub metrics: Metrics,
}

/// `success`, `throttled` (429), `client_error` (4xx), `server_error` (5xx) or `network_error`.
pub fn outcome(status: Option<u16>, ok: bool) -> &'static str {
    match (ok, status) {
        (true, _) => "success",
        (false, Some(429)) => "throttled",
        (false, Some(s)) if s >= 500 => "server_error",
        (false, Some(_)) => "client_error",
        (false, None) => "network_error",
    }
}

/// The service and operation of a call (or attempt), and how it was answered.
fn answered<'a>(ctx: &FinalizerInterceptorContextRef<'_>, cfg: &'a ConfigBag) -> (&'a str, &'a str, &'static str) {
    let (service, operation) = cfg.load::<Metadata>().map_or(("unknown", "unknown"), |m| (m.service(), m.name()));
    let ok = matches!(ctx.output_or_error(), Some(Ok(_)));
    let status = ctx.response().map(|r| r.status().as_u16());
    (service, operation, outcome(status, ok))
}

impl Intercept for CallMetrics {
    fn name(&self) -> &'static str {
        "DatazoneOperatorCallMetrics"
    }

    fn read_before_execution(
        &self,
        _: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state().store_put(Started(Instant::now()));
        Ok(())
    }

    /// Every attempt, the SDK's retries included: a call throttled twice and then answered is one
    /// call (`read_after_execution`) but three attempts, two of them throttled.
    fn read_after_attempt(
        &self,
        ctx: &FinalizerInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (service, operation, outcome) = answered(ctx, cfg);
        self.metrics.aws_attempts.with_label_values(&[service, operation, outcome]).inc();
        Ok(())
    }

    fn read_after_execution(
        &self,
        ctx: &FinalizerInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (service, operation, outcome) = answered(ctx, cfg);
        let took = cfg.load::<Started>().map(|s| s.0.elapsed());
        // In the caller's span (which data product): where a fleet's calls go, at debug level.
        tracing::debug!(service, operation, outcome, took_ms = took.map(|t| t.as_millis()), "aws call");
        self.metrics.observe_aws_call(service, operation, outcome, took);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::outcome;

    #[test]
    fn outcomes() {
        assert_eq!(outcome(Some(200), true), "success");
        assert_eq!(outcome(Some(429), false), "throttled");
        assert_eq!(outcome(Some(503), false), "server_error");
        assert_eq!(outcome(Some(403), false), "client_error");
        assert_eq!(outcome(None, false), "network_error");
    }
}
