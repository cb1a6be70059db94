//! The pacing at the edge: every session's DataZone client sends through a [`PacedHttpClient`],
//! whose connector waits for the slot of the call's operation in the [`Pacer`] of the session's
//! account and region. The connector sees only the HTTP request; [`TagOperation`], an SDK
//! interceptor on the same client, names the operation on it first.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut;
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, Metadata};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use prometheus::GaugeVec;

use super::operations::OperationPaces;

/// A wait for a slot this long is logged (debug): where a fleet's time goes.
const SLOW_SLOT: Duration = Duration::from_millis(500);

/// An account ID and a region.
type AccountRegion = (String, String);

/// One [`Pacer`] per (account, region), shared by every client that calls as that account.
#[derive(Clone, Debug)]
pub struct Pacers {
    start: f64,
    paces: Arc<Mutex<HashMap<AccountRegion, Arc<Pacer>>>>,
    /// Where each pace is shown: `datazone_operator_aws_pace{account, region, operation}`.
    shown: GaugeVec,
}

impl Pacers {
    /// Pacers whose operations without a documented quota start at `start` calls a second.
    pub fn new(start: f64, shown: GaugeVec) -> Self {
        Self { start, paces: Arc::default(), shown }
    }

    /// Whether any account's pace is saturated ([`Pacer::saturated`]).
    pub fn any_saturated(&self) -> bool {
        let paces: Vec<Arc<Pacer>> =
            self.paces.lock().unwrap_or_else(PoisonError::into_inner).values().cloned().collect();
        paces.iter().any(|p| p.saturated())
    }

    pub fn get(&self, account: &str, region: &str) -> Arc<Pacer> {
        let mut paces = self.paces.lock().unwrap_or_else(PoisonError::into_inner);
        let key = (account.to_string(), region.to_string());
        let make = || {
            Arc::new(Pacer {
                paces: Mutex::new(OperationPaces::new(self.start)),
                shown: self.shown.clone(),
                account: key.0.clone(),
                region: key.1.clone(),
            })
        };
        paces.entry(key.clone()).or_insert_with(make).clone()
    }
}

/// The paces of one account and region.
#[derive(Debug)]
pub struct Pacer {
    paces: Mutex<OperationPaces>,
    shown: GaugeVec,
    account: String,
    region: String,
}

impl Pacer {
    fn paces(&self) -> std::sync::MutexGuard<'_, OperationPaces> {
        self.paces.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits for this call's slot.
    pub async fn slot(&self, operation: &str) {
        let now = Instant::now();
        let at = self.paces().reserve(operation, now);
        if at.duration_since(now) >= SLOW_SLOT {
            tracing::debug!(operation, wait_ms = at.duration_since(now).as_millis(), "waiting for a DataZone slot");
        }
        tokio::time::sleep_until(at.into()).await;
    }

    /// See [`OperationPaces::saturated`].
    pub fn saturated(&self) -> bool {
        self.paces().saturated(Instant::now())
    }

    /// See [`OperationPaces::saturated_for`].
    pub fn saturated_for(&self, operation: &str) -> bool {
        self.paces().saturated_for(operation, Instant::now())
    }

    pub fn answered(&self, operation: &str, refused: bool) {
        let mut paces = self.paces();
        let before = paces.rate(operation);
        let rate = paces.answered(operation, Instant::now(), refused);
        if before.is_some_and(|b| rate < b) {
            tracing::debug!(operation, from = before, to = rate, "DataZone throttled: pace cut");
        }
        self.shown.with_label_values(&[&self.account, &self.region, operation]).set(rate);
    }
}

/// DataZone says "rate exceeded" with 429 (docs/datazone-semantics.md §8); the error type header
/// also names it.
fn refused(status: u16, error_type: Option<&str>) -> bool {
    status == 429 || error_type.is_some_and(|t| t.starts_with("ThrottlingException"))
}

/// The operation of a request, as [`TagOperation`] names it.
#[derive(Clone, Debug)]
struct Operation(String);

/// Names the operation on each request, for the connector (which sees only HTTP).
#[derive(Debug)]
pub struct TagOperation;

impl Intercept for TagOperation {
    fn name(&self) -> &'static str {
        "DatazoneOperatorTagOperation"
    }

    fn modify_before_transmit(
        &self,
        ctx: &mut BeforeTransmitInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(metadata) = cfg.load::<Metadata>() {
            ctx.request_mut().add_extension(Operation(metadata.name().to_string()));
        }
        Ok(())
    }
}

/// An HTTP client whose every request waits for its slot of `pacer` first.
#[derive(Debug)]
pub struct PacedHttpClient {
    inner: SharedHttpClient,
    pacer: Arc<Pacer>,
}

impl PacedHttpClient {
    pub fn shared(inner: SharedHttpClient, pacer: Arc<Pacer>) -> SharedHttpClient {
        SharedHttpClient::new(Self { inner, pacer })
    }
}

impl HttpClient for PacedHttpClient {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        let inner = self.inner.http_connector(settings, components);
        SharedHttpConnector::new(PacedConnector { inner, pacer: self.pacer.clone() })
    }
}

#[derive(Debug)]
struct PacedConnector {
    inner: SharedHttpConnector,
    pacer: Arc<Pacer>,
}

/// A request nothing named (a client without [`TagOperation`]) shares one pace with the others.
const UNNAMED: &str = "unnamed";

impl HttpConnector for PacedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let (inner, pacer) = (self.inner.clone(), self.pacer.clone());
        let operation = request.extension::<Operation>().map_or_else(|| UNNAMED.to_string(), |o| o.0.clone());
        HttpConnectorFuture::new(async move {
            pacer.slot(&operation).await;
            let answer = inner.call(request).await;
            if let Ok(response) = &answer {
                let error_type = response.headers().get("x-amzn-errortype");
                pacer.answered(&operation, refused(response.status().as_u16(), error_type));
            }
            answer
        })
    }
}

#[cfg(test)]
mod tests {
    use super::refused;

    #[test]
    fn refusals_are_429_or_a_throttling_error_type() {
        assert!(refused(429, None));
        assert!(refused(400, Some("ThrottlingException:http://internal.amazon.com/coral/")));
        assert!(!refused(400, Some("ValidationException")));
        assert!(!refused(503, None));
    }
}
