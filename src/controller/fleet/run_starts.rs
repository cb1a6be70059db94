//! The runs each data source started in the last 24 hours, as this process counted them: DataZone
//! allows 25 a day per data source (docs/datazone-semantics.md §4, "25 runs per data source per
//! day"), and a data source that has started most of them (a loop of requested runs, a
//! configuration that changes every few minutes, failures retried) is worth an alert before the
//! 26th is refused. Held in memory only: a restarted operator counts from zero, so the gauge can
//! only under-count (the refusal itself still shows as `RunQuotaExceeded`).

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

/// DataZone's window of the daily quota.
pub const WINDOW: Duration = Duration::from_secs(24 * 3600);
/// Starts in the window from which a data source counts as near its quota (of 25).
pub const NEAR: usize = 20;

#[derive(Debug, Default)]
struct Inner {
    /// Data source ID → its starts in the window, oldest first (at most 25 are kept).
    starts: HashMap<String, VecDeque<Instant>>,
    /// Those with at least [`NEAR`] starts when last counted.
    near: BTreeSet<String>,
}

#[derive(Debug, Default)]
pub struct RunStarts {
    inner: Mutex<Inner>,
}

impl RunStarts {
    /// Counts a run `data_source` started at `now`; answers how many data sources are near
    /// their quota now. Only the near ones are counted again: a start costs the same at 10,000.
    pub fn started(&self, data_source: &str, now: Instant) -> usize {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let starts = inner.starts.entry(data_source.to_string()).or_default();
        starts.push_back(now);
        while starts.len() > 25 {
            starts.pop_front();
        }
        inner.near.insert(data_source.to_string());
        let Inner { starts, near } = &mut *inner;
        near.retain(|id| {
            let Some(s) = starts.get_mut(id) else { return false };
            while s.front().is_some_and(|t| now.duration_since(*t) >= WINDOW) {
                s.pop_front();
            }
            s.len() >= NEAR
        });
        starts.retain(|_, s| s.back().is_some_and(|t| now.duration_since(*t) < WINDOW));
        near.len()
    }

    /// A data source gone (deleted with its data product): no longer counted.
    pub fn forget(&self, data_source: &str) {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.starts.remove(data_source);
        inner.near.remove(data_source);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_data_source_is_near_its_quota_from_its_20th_start_in_a_day_until_they_age_out() {
        let runs = RunStarts::default();
        let t0 = Instant::now();
        let minute = Duration::from_secs(60);
        for i in 0..19 {
            assert_eq!(runs.started("ds-busy", t0 + minute * i), 0, "start {}", i + 1);
        }
        assert_eq!(runs.started("ds-quiet", t0), 0);
        assert_eq!(runs.started("ds-busy", t0 + minute * 19), 1, "the 20th start in a day");
        assert_eq!(runs.started("ds-quiet", t0 + minute * 20), 1, "another data source's start counts it again");
        // A day after the first start it has aged out: 19 in the window.
        assert_eq!(runs.started("ds-quiet", t0 + WINDOW), 0);
        runs.forget("ds-busy");
        assert_eq!(runs.started("ds-quiet", t0 + WINDOW + minute), 0);
    }

    #[test]
    fn the_window_holds_at_most_25_starts_and_forgets_idle_data_sources() {
        let runs = RunStarts::default();
        let t0 = Instant::now();
        for i in 0..40 {
            runs.started("ds", t0 + Duration::from_secs(i));
        }
        assert_eq!(runs.inner.lock().unwrap().starts["ds"].len(), 25);
        runs.started("other", t0 + WINDOW * 2);
        assert!(!runs.inner.lock().unwrap().starts.contains_key("ds"), "a day without a start: dropped");
    }
}
