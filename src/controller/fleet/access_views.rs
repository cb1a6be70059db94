//! What the access policies of a project's data products share: one view of the project's
//! PENDING subscription requests and APPROVED subscriptions, and the pace of accepting.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use crate::datazone::{RequestInfo, SubscriptionInfo};

/// One view of a project's requests and subscriptions, and the requests decided since it was
/// taken (the view still shows them PENDING).
pub struct AccessView {
    pub requests: Vec<RequestInfo>,
    pub subscriptions: Vec<SubscriptionInfo>,
    decided: Mutex<HashSet<String>>,
}

impl AccessView {
    pub fn new(requests: Vec<RequestInfo>, subscriptions: Vec<SubscriptionInfo>) -> Self {
        Self { requests, subscriptions, decided: Mutex::default() }
    }

    pub fn decided(&self, id: &str) -> bool {
        self.decided.lock().unwrap_or_else(PoisonError::into_inner).contains(id)
    }

    pub fn decide(&self, id: &str) {
        self.decided.lock().unwrap_or_else(PoisonError::into_inner).insert(id.to_string());
    }
}

/// `AcceptSubscriptionRequest` is limited to 3 calls a second per account and region
/// (docs/datazone-semantics.md §15), far below the account's pace for other calls: accepts are
/// spaced a third of a second apart per key, so a hundred requests filed at once are accepted in
/// about 34 s without a refusal.
pub const ACCEPT_EVERY: Duration = Duration::from_millis(334);

/// Calls of one kind spaced evenly per key.
pub struct Spaced<K> {
    next: Mutex<HashMap<K, Instant>>,
    every: Duration,
}

/// Spaced as accepts must be.
impl<K> Default for Spaced<K> {
    fn default() -> Self {
        Self { next: Mutex::default(), every: ACCEPT_EVERY }
    }
}

impl<K: Hash + Eq + Clone> Spaced<K> {
    pub fn new(every: Duration) -> Self {
        Self { next: Mutex::default(), every }
    }

    /// Waits for the next slot of `key`.
    pub async fn wait(&self, key: &K) {
        let at = {
            let mut next = self.next.lock().unwrap_or_else(PoisonError::into_inner);
            let now = Instant::now();
            let at = next.get(key).copied().unwrap_or(now).max(now);
            next.insert(key.clone(), at + self.every);
            at
        };
        tokio::time::sleep_until(at).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn calls_of_one_key_are_spaced_and_other_keys_are_not_held_up() {
        let spaced = Spaced::new(ACCEPT_EVERY);
        let start = Instant::now();
        for _ in 0..4 {
            spaced.wait(&"111111111111").await;
        }
        assert_eq!(start.elapsed(), ACCEPT_EVERY * 3, "the fourth goes three spacings after the first");
        let other = Instant::now();
        spaced.wait(&"222222222222").await;
        assert_eq!(other.elapsed(), Duration::ZERO);
    }
}
