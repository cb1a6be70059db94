//! What every reconcile shares.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use kube::runtime::events::Recorder;

use super::cache::Cache;
use super::snapshot::{Flights, Snapshots};
use super::throttle::Throttle;
use crate::datazone::sdk::Clients;
use crate::metrics::Metrics;

pub struct Context {
    pub client: kube::Client,
    pub clients: Clients,
    pub cache: Cache,
    /// Each project's data source listing, shared while data sources and runs settle.
    pub snapshots: Snapshots,
    /// What this process last wrote per data product, followed in the shared listing.
    pub flights: Flights,
    /// When this process started: a listing taken after it reflects everything done before.
    pub started: std::time::Instant,
    pub recorder: Recorder,
    pub metrics: Metrics,
    /// Names this Kubernetes cluster inside DataZone data source names.
    pub cluster_name: String,
    /// How often a settled data product is checked against DataZone.
    pub resync: Duration,
    /// How often something in progress (environment, data source, run) is looked at again.
    pub poll: Duration,
    /// Slows every caller to a region while DataZone throttles.
    pub throttle: Throttle,
    /// Consecutive errors per object, for exponential backoff (reset on success).
    pub failures: Mutex<HashMap<String, u32>>,
}

impl Context {
    /// Exponential backoff with jitter for an object's `n`-th consecutive error: 2 s, 4 s, … up
    /// to 5 min, ±20 %.
    pub fn backoff(&self, key: &str) -> Duration {
        let mut failures = self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = failures.entry(key.to_string()).or_insert(0);
        *n = n.saturating_add(1);
        backoff_for(*n, crate::naming::stable_hash(&format!("{key}{n}")))
    }

    pub fn reset_backoff(&self, key: &str) {
        self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(key);
    }
}

/// The delay after `n` consecutive errors, jittered by `noise`.
pub fn backoff_for(n: u32, noise: u64) -> Duration {
    let base = Duration::from_secs(2).saturating_mul(1u32 << n.saturating_sub(1).min(8)).min(Duration::from_secs(300));
    let jitter = (noise % 41) as f64 / 100.0 - 0.2; // -0.20 ..= +0.20
    base.mul_f64(1.0 + jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_exponentially_to_a_cap_with_jitter() {
        let plain = |n| backoff_for(n, 20); // noise 20 → no jitter
        assert_eq!(plain(1), Duration::from_secs(2));
        assert_eq!(plain(2), Duration::from_secs(4));
        assert_eq!(plain(5), Duration::from_secs(32));
        assert_eq!(plain(30), Duration::from_secs(300));
        for noise in 0..100 {
            let d = backoff_for(3, noise);
            assert!(d >= Duration::from_millis(6400) && d <= Duration::from_millis(9600), "{d:?}");
        }
    }
}
