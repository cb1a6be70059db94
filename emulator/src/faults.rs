//! Injected faults (per service and operation: a named error, extra latency or a dropped
//! connection, by count or by rate), the `--rate-limit` token buckets and the per-operation
//! quotas (`--operation-rate-limit`).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::clock::{IdGenerator, Instant};
use crate::error::AwsError;

/// One rule, as posted to `/_emulator/faults`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FaultRule {
    /// `datazone`, `sts`, `redshift-data`, or `*`.
    #[serde(default = "any")]
    pub service: String,
    /// The operation name (e.g. `GetDataSource`), or `*`.
    #[serde(default = "any")]
    pub operation: String,
    /// A named error, e.g. ThrottlingException or InternalServerException.
    #[serde(default)]
    pub error: Option<String>,
    /// Extra latency before answering, in milliseconds.
    #[serde(default)]
    pub latency_ms: u64,
    /// Close the connection without answering.
    #[serde(default)]
    pub drop: bool,
    /// Apply to this many matching requests, then retire.
    #[serde(default)]
    pub count: Option<u64>,
    /// Apply to this fraction (0..=1) of matching requests.
    #[serde(default)]
    pub rate: Option<f64>,
}

fn any() -> String {
    "*".into()
}

impl FaultRule {
    pub fn check(&self) -> Result<(), String> {
        if let Some(e) = &self.error
            && AwsError::named(e).is_none()
        {
            return Err(format!("unknown error {e:?}"));
        }
        if self.rate.is_some_and(|r| !(0.0..=1.0).contains(&r)) {
            return Err("rate must be between 0 and 1".into());
        }
        if self.error.is_none() && !self.drop && self.latency_ms == 0 {
            return Err("a fault needs an error, latencyMs or drop".into());
        }
        Ok(())
    }
}

/// What to do to one request.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Injection {
    pub latency_ms: u64,
    pub error: Option<AwsError>,
    pub drop: bool,
}

#[derive(Default)]
pub struct Faults {
    pub rules: Vec<FaultRule>,
}

impl Faults {
    /// The injection for a request to `service:operation`, consuming counted rules.
    pub fn decide(&mut self, service: &str, operation: &str, random: &IdGenerator) -> Injection {
        let mut injection = Injection::default();
        for rule in &mut self.rules {
            let applies = (rule.service == "*" || rule.service == service)
                && (rule.operation == "*" || rule.operation == operation);
            if !applies || rule.count == Some(0) || rule.rate.is_some_and(|r| random.unit() >= r) {
                continue;
            }
            if let Some(n) = rule.count.as_mut() {
                *n -= 1;
            }
            injection.latency_ms += rule.latency_ms;
            injection.drop |= rule.drop;
            if injection.error.is_none() {
                injection.error = rule.error.as_deref().and_then(AwsError::named);
            }
        }
        self.rules.retain(|r| r.count != Some(0));
        injection
    }
}

/// One token bucket per account and region, as DataZone's limits apply (docs/datazone-semantics.md §8).
pub struct RateLimiter {
    pub tps: f64,
    buckets: HashMap<(String, String), (f64, Instant)>,
}

impl RateLimiter {
    pub fn new(tps: f64) -> Self {
        Self { tps, buckets: HashMap::new() }
    }

    /// Takes a token for the caller, or says the request is throttled.
    pub fn allow(&mut self, account: &str, region: &str, now: Instant) -> bool {
        let burst = self.tps.max(1.0);
        let (tokens, last) = self.buckets.entry((account.to_string(), region.to_string())).or_insert((burst, now));
        let elapsed = now.0.saturating_sub(last.0) as f64 / 1000.0;
        *tokens = (*tokens + elapsed * self.tps).min(burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Quotas of single operations (DataZone's `AcceptSubscriptionRequest` and `CancelSubscription`:
/// 3 calls a second, docs/datazone-semantics.md §15): a token bucket per operation, account and
/// region, beside the one of `--rate-limit`.
pub struct OperationLimiter {
    limiters: HashMap<String, RateLimiter>,
    /// Operations without a rate of their own: each gets a bucket of this rate on first call.
    others: Option<f64>,
    /// Operations whose quota was lifted (rate 0): never limited, whatever `others` says.
    lifted: std::collections::HashSet<String>,
}

impl OperationLimiter {
    /// `(operation, calls a second)`; a later entry for an operation replaces an earlier one, and
    /// a rate of 0 (or less) lifts the operation's limit.
    pub fn new(limits: &[(String, f64)]) -> Self {
        Self::with_others(limits, None)
    }

    /// As [`Self::new`], and every other operation limited to `others` calls a second (its own
    /// bucket each), when given.
    pub fn with_others(limits: &[(String, f64)], others: Option<f64>) -> Self {
        let mut rates: HashMap<String, f64> = HashMap::new();
        for (operation, tps) in limits {
            rates.insert(operation.clone(), *tps);
        }
        let lifted = rates.iter().filter(|(_, tps)| **tps <= 0.0).map(|(op, _)| op.clone()).collect();
        let limiters =
            rates.into_iter().filter(|(_, tps)| *tps > 0.0).map(|(op, tps)| (op, RateLimiter::new(tps))).collect();
        Self { limiters, others: others.filter(|tps| *tps > 0.0), lifted }
    }

    /// Takes a token of `operation` for the caller (always, for an operation without a quota),
    /// or says the request is throttled.
    pub fn allow(&mut self, operation: &str, account: &str, region: &str, now: Instant) -> bool {
        if let Some(tps) = self.others
            && !self.limiters.contains_key(operation)
            && !self.lifted.contains(operation)
        {
            self.limiters.insert(operation.to_string(), RateLimiter::new(tps));
        }
        self.limiters.get_mut(operation).is_none_or(|l| l.allow(account, region, now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(operation: &str, count: Option<u64>) -> FaultRule {
        FaultRule {
            service: "datazone".into(),
            operation: operation.into(),
            error: Some("ThrottlingException".into()),
            latency_ms: 0,
            drop: false,
            count,
            rate: None,
        }
    }

    #[test]
    fn counted_rules_retire() {
        let ids = IdGenerator::default();
        let mut faults = Faults { rules: vec![rule("GetDataSource", Some(2))] };
        assert_eq!(faults.decide("datazone", "ListDataSources", &ids), Injection::default());
        assert_eq!(faults.decide("datazone", "GetDataSource", &ids).error.map(|e| e.status), Some(429));
        assert!(faults.decide("datazone", "GetDataSource", &ids).error.is_some());
        assert!(faults.decide("datazone", "GetDataSource", &ids).error.is_none());
        assert!(faults.rules.is_empty());
    }

    #[test]
    fn rates_apply_to_about_that_share() {
        let ids = IdGenerator::default();
        let mut r = rule("*", None);
        r.rate = Some(0.25);
        let mut faults = Faults { rules: vec![r] };
        let hits = (0..4000).filter(|_| faults.decide("datazone", "GetDataSource", &ids).error.is_some()).count();
        assert!((800..1200).contains(&hits), "{hits} of 4000 at rate 0.25");
    }

    #[test]
    fn bucket_refills_over_time() {
        let mut limiter = RateLimiter::new(2.0);
        let t0 = Instant(1_000_000);
        assert!(limiter.allow("a", "r", t0));
        assert!(limiter.allow("a", "r", t0));
        assert!(!limiter.allow("a", "r", t0), "burst of 2 used up");
        assert!(limiter.allow("b", "r", t0), "other accounts have their own bucket");
        assert!(limiter.allow("a", "r", Instant(1_000_500)), "one token back after 0.5 s at 2 TPS");
    }

    #[test]
    fn operation_quotas_bind_their_operation_only() {
        let limits = [("AcceptSubscriptionRequest".to_string(), 3.0), ("CancelSubscription".to_string(), 3.0)];
        let mut limiter = OperationLimiter::new(&limits);
        let t0 = Instant(1_000_000);
        for _ in 0..3 {
            assert!(limiter.allow("AcceptSubscriptionRequest", "a", "r", t0));
        }
        assert!(!limiter.allow("AcceptSubscriptionRequest", "a", "r", t0), "the fourth in the same instant");
        assert!(limiter.allow("CancelSubscription", "a", "r", t0), "each operation has its own bucket");
        assert!((0..100).all(|_| limiter.allow("GetSubscription", "a", "r", t0)), "no quota, no limit");
        assert!(limiter.allow("AcceptSubscriptionRequest", "a", "r", Instant(1_000_334)), "a token back after 1/3 s");
        let mut lifted = OperationLimiter::new(&[limits[0].clone(), ("AcceptSubscriptionRequest".to_string(), 0.0)]);
        assert!((0..100).all(|_| lifted.allow("AcceptSubscriptionRequest", "a", "r", t0)), "0 lifts the quota");
    }
}
