//! The runs each data source started in the last 24 hours, as this process counted them: DataZone
//! allows 25 a day per data source (docs/datazone-semantics.md §4, "25 runs per data source per
//! day"), and a data source that has started most of them (a loop of requested runs, a
//! configuration that changes every few minutes, failures retried) is worth an alert before the
//! 26th is refused. Held in memory only: a restarted operator counts from zero, so the gauge can
//! only under-count (the refusal itself still shows as `RunQuotaExceeded`).

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

/// DataZone's window of the daily quota.
pub const WINDOW: Duration = Duration::from_secs(24 * 3600);
/// Starts in the window from which a data source counts as near its quota (of 25).
pub const NEAR: usize = 20;

#[derive(Debug, Default)]
pub struct RunStarts {
    /// Data source ID → its starts in the window, oldest first (at most 25 are kept).
    starts: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl RunStarts {
    /// Counts a run `data_source` started at `now` (one data source's entry: a start costs the
    /// same in a fleet of 10,000).
    pub fn started(&self, data_source: &str, now: Instant) {
        let mut starts = self.starts.lock().unwrap_or_else(PoisonError::into_inner);
        let mine = starts.entry(data_source.to_string()).or_default();
        mine.push_back(now);
        while mine.len() > 25 {
            mine.pop_front();
        }
    }

    /// How many data sources started at least [`NEAR`] runs in the day before `now`; the starts
    /// older than a day are dropped (every data source is looked at: the census asks every few
    /// seconds, not every pass).
    pub fn near(&self, now: Instant) -> usize {
        let mut starts = self.starts.lock().unwrap_or_else(PoisonError::into_inner);
        starts.retain(|_, s| {
            while s.front().is_some_and(|t| now.duration_since(*t) >= WINDOW) {
                s.pop_front();
            }
            !s.is_empty()
        });
        starts.values().filter(|s| s.len() >= NEAR).count()
    }

    /// A data source gone (deleted with its data product): no longer counted.
    pub fn forget(&self, data_source: &str) {
        self.starts.lock().unwrap_or_else(PoisonError::into_inner).remove(data_source);
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
            runs.started("ds-busy", t0 + minute * i);
            assert_eq!(runs.near(t0 + minute * i), 0, "start {}", i + 1);
        }
        runs.started("ds-quiet", t0);
        runs.started("ds-busy", t0 + minute * 19);
        assert_eq!(runs.near(t0 + minute * 19), 1, "the 20th start in a day");
        // Nothing starts any more: a day after the first start it has aged out, 19 in the window.
        assert_eq!(runs.near(t0 + WINDOW - minute), 1);
        assert_eq!(runs.near(t0 + WINDOW), 0);
        runs.started("ds-busy", t0 + WINDOW);
        assert_eq!(runs.near(t0 + WINDOW), 1, "20 again");
        runs.forget("ds-busy");
        assert_eq!(runs.near(t0 + WINDOW), 0);
    }

    #[test]
    fn the_window_holds_at_most_25_starts_and_forgets_idle_data_sources() {
        let runs = RunStarts::default();
        let t0 = Instant::now();
        for i in 0..40 {
            runs.started("ds", t0 + Duration::from_secs(i));
        }
        assert_eq!(runs.starts.lock().unwrap()["ds"].len(), 25);
        assert_eq!(runs.near(t0 + WINDOW * 2), 0);
        assert!(runs.starts.lock().unwrap().is_empty(), "a day without a start: dropped");
    }
}
