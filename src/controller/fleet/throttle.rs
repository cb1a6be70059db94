//! A shared brake: when DataZone answers "rate exceeded" to any data product, every caller to
//! the same region waits a while before its next pass; the wait doubles while throttling goes
//! on and halves with each success, so a throttling storm slows the whole operator instead of
//! each object hammering on alone.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

const FIRST: Duration = Duration::from_millis(250);
const MOST: Duration = Duration::from_secs(30);

/// The brake per key (a connection: one account and region).
pub struct Throttle<K = super::keys::ConnectionId> {
    regions: Mutex<HashMap<K, (Instant, Duration)>>,
}

impl<K> Default for Throttle<K> {
    fn default() -> Self {
        Self { regions: Mutex::default() }
    }
}

impl<K: Hash + Eq + Clone> Throttle<K> {
    /// How long a caller to `key` should still hold off.
    pub fn wait(&self, key: &K) -> Option<Duration> {
        let regions = self.regions.lock().unwrap_or_else(PoisonError::into_inner);
        regions.get(key).and_then(|(until, _)| until.checked_duration_since(Instant::now())).filter(|d| !d.is_zero())
    }

    /// DataZone throttled a call to `key`.
    pub fn throttled(&self, key: &K) {
        let mut regions = self.regions.lock().unwrap_or_else(PoisonError::into_inner);
        let penalty = regions.get(key).map_or(FIRST, |(_, p)| (*p * 2).min(MOST));
        regions.insert(key.clone(), (Instant::now() + penalty, penalty));
    }

    /// A pass to `key` went through without throttling.
    pub fn succeeded(&self, key: &K) {
        let mut regions = self.regions.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, penalty)) = regions.get_mut(key) {
            *penalty /= 2;
            if *penalty < FIRST {
                regions.remove(key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_doubles_the_wait_and_success_halves_it() {
        let t: Throttle<&str> = Throttle::default();
        assert_eq!(t.wait(&"eu-central-1"), None);
        t.throttled(&"eu-central-1");
        let first = t.wait(&"eu-central-1").unwrap();
        assert!(first <= FIRST && first > Duration::from_millis(200), "{first:?}");
        t.throttled(&"eu-central-1");
        assert!(t.wait(&"eu-central-1").unwrap() > FIRST, "the wait grows while throttling goes on");
        assert_eq!(t.wait(&"us-east-1"), None, "other regions are not slowed");
        t.succeeded(&"eu-central-1");
        t.succeeded(&"eu-central-1");
        assert!(t.regions.lock().unwrap().is_empty(), "the brake comes off after successes");
    }
}
