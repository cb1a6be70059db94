//! When each settled data product last read its data source in full, or wrote its configuration
//! (as good as a read: `Context::wrote`). A settled data product takes
//! the project's shared listing at its word and reads in full only what moved there
//! (docs/datazone-semantics.md §4); the listing carries no configuration, so an edit by hand that
//! landed before the listing a data product recorded (while its run was in progress, say) would
//! otherwise never be seen. So each one also reads in full once every [`FULL_READ_EVERY`], its
//! turns spread over that interval by its UID (a restarted operator does not read a fleet of
//! 10,000 at once: each in its own slot of the next day).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

/// How often a settled data product reads its data source in full, whatever the listing shows.
pub const FULL_READ_EVERY: Duration = Duration::from_secs(24 * 3600);

/// When each data product (by UID) is next due for a full read.
pub struct FullReads {
    due: Mutex<HashMap<String, Instant>>,
    started: Instant,
    every: Duration,
}

impl FullReads {
    pub fn new(started: Instant, every: Duration) -> Self {
        Self { due: Mutex::default(), started, every }
    }

    /// Whether `uid` should read its data source in full now rather than take the listing's word.
    /// One this process has not read yet is due at its slot: its UID's place in the interval,
    /// counted from the start.
    pub fn due(&self, uid: &str) -> bool {
        let due = self.due.lock().unwrap_or_else(PoisonError::into_inner);
        let at = due.get(uid).copied().unwrap_or_else(|| self.started + self.slot(uid));
        Instant::now() >= at
    }

    /// `uid` has just read its data source in full: next due one interval on.
    pub fn read(&self, uid: &str) {
        self.due.lock().unwrap_or_else(PoisonError::into_inner).insert(uid.to_string(), Instant::now() + self.every);
    }

    /// `uid` is gone (deleted): nothing to remember.
    pub fn forget(&self, uid: &str) {
        self.due.lock().unwrap_or_else(PoisonError::into_inner).remove(uid);
    }

    /// `uid`'s place in the interval, the same in every process.
    fn slot(&self, uid: &str) -> Duration {
        let millis = u64::try_from(self.every.as_millis()).unwrap_or(u64::MAX).max(1);
        Duration::from_millis(crate::naming::stable_hash(uid) % millis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn each_is_due_at_its_slot_then_once_an_interval() {
        let every = Duration::from_secs(100);
        let reads = FullReads::new(Instant::now(), every);
        let uids: Vec<String> = (0..1000).map(|i| format!("uid-{i}")).collect();
        assert!(uids.iter().all(|u| !reads.due(u) || reads.slot(u).is_zero()), "none due at the start");
        tokio::time::advance(every / 2).await;
        let half = uids.iter().filter(|u| reads.due(u)).count();
        assert!((400..=600).contains(&half), "spread over the interval: {half} of 1000 due after half of it");
        tokio::time::advance(every / 2).await;
        assert!(uids.iter().all(|u| reads.due(u)), "every one due within one interval");
        reads.read("uid-1");
        assert!(!reads.due("uid-1"), "read: not due again until an interval later");
        tokio::time::advance(every).await;
        assert!(reads.due("uid-1"));
        reads.forget("uid-1");
        assert!(reads.due("uid-1"), "forgotten: back to its slot, long past");
    }
}
