//! Resyncs held back while the account's DataZone pace is saturated. A settled data product's
//! resync only looks (the project's listing, the catalog's view of its data products); while a
//! fleet publishes, every call queues behind the others for its slot, so a look postpones a call
//! that makes progress, and at 10,000 data products with a 30 s resync the looks of those
//! already published were an eighth of all calls of the first publish (docs/design/fleet.md).
//! So a settled data product whose resync comes due then makes no call and comes back at its
//! next one; what it would have found waits until the work drains (the pace is no longer
//! saturated within seconds of that), or at most [`HELD_AT_MOST`]: a pace saturated for good
//! (a fleet too big for its resync interval) does not stop drift from being seen.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

/// The longest a data product's resyncs are held back in a row.
pub const HELD_AT_MOST: Duration = Duration::from_secs(30 * 60);

/// Since when each data product (by UID) has had its resyncs held back.
pub struct HeldResyncs {
    since: Mutex<HashMap<String, Instant>>,
    at_most: Duration,
}

impl HeldResyncs {
    pub fn new(at_most: Duration) -> Self {
        Self { since: Mutex::default(), at_most }
    }

    /// Whether `uid`'s resync, due now while the pace is saturated, is held back: yes, unless its
    /// resyncs have been held back for [`HELD_AT_MOST`] already (then this one goes, and the count
    /// starts over).
    pub fn hold(&self, uid: &str) -> bool {
        let mut since = self.since.lock().unwrap_or_else(PoisonError::into_inner);
        let first = *since.entry(uid.to_string()).or_insert_with(Instant::now);
        if first.elapsed() < self.at_most {
            return true;
        }
        since.remove(uid);
        false
    }

    /// `uid` made a pass of its own (not held back), or is gone.
    pub fn forget(&self, uid: &str) {
        self.since.lock().unwrap_or_else(PoisonError::into_inner).remove(uid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn resyncs_are_held_back_at_most_so_long_in_a_row() {
        let held = HeldResyncs::new(Duration::from_secs(600));
        assert!(held.hold("a"));
        tokio::time::advance(Duration::from_secs(599)).await;
        assert!(held.hold("a"), "still within the bound");
        assert!(held.hold("b"), "each data product counts its own");
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(!held.hold("a"), "held back for as long as allowed: this one goes");
        assert!(held.hold("a"), "and the count starts over");
        held.forget("b");
        tokio::time::advance(Duration::from_secs(600)).await;
        assert!(held.hold("b"), "a pass of its own in between starts it over");
    }
}
