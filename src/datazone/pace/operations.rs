//! One [`Pace`] per DataZone operation of an account and region: DataZone's quotas are per API
//! (docs/datazone-semantics.md §8), so a 3-a-second decision call that is throttled must not slow
//! the 20-a-second data source calls beside it, and the reverse. Where a service has one quota for
//! every operation instead (the emulator's `--rate-limit`), the paces of the operations in use
//! are each cut by their own refusals and together settle on that quota; when the calls move to
//! other operations, the account's [`Room`] lets their paces probe for what the others left.

use std::collections::HashMap;
use std::time::Instant;

use super::Pace;
use super::room::Room;

/// The per-API quotas DataZone documents below the default start (calls a second per account and
/// region) [docs: Quotas for Amazon DataZone, in docs/datazone-semantics.md §8]: those paces
/// start there. The others start at `--datazone-pace` (20, the page's rate for most calls).
const DOCUMENTED: [(&str, f64); 3] =
    [("AcceptSubscriptionRequest", 3.0), ("CancelSubscription", 3.0), ("CreateGlossary", 5.0)];

fn documented(operation: &str) -> Option<f64> {
    DOCUMENTED.iter().find(|(op, _)| *op == operation).map(|(_, rate)| *rate)
}

/// The paces of one account and region, by operation.
#[derive(Clone, Debug)]
pub struct OperationPaces {
    /// Where a pace of an operation without a documented quota starts.
    start: f64,
    paces: HashMap<String, Pace>,
    /// The account's calls through, and whether its paces may probe for room ([`Room`]).
    room: Option<Room>,
}

impl OperationPaces {
    pub fn new(start: f64) -> Self {
        Self { start, paces: HashMap::new(), room: None }
    }

    /// The pace of `operation`, made on its first call.
    fn pace(&mut self, operation: &str, now: Instant) -> &mut Pace {
        if !self.paces.contains_key(operation) {
            let pace = match documented(operation) {
                Some(rate) => Pace::documented(rate, now),
                None => Pace::new(self.start, now),
            };
            self.paces.insert(operation.to_string(), pace);
        }
        self.paces.get_mut(operation).expect("inserted above")
    }

    /// The time a call of `operation` may go (see [`Pace::reserve`]).
    pub fn reserve(&mut self, operation: &str, now: Instant) -> Instant {
        self.pace(operation, now).reserve(now)
    }

    /// A call of `operation` came back; its pace's rate after it.
    pub fn answered(&mut self, operation: &str, now: Instant, refused: bool) -> f64 {
        let room = self.room.get_or_insert_with(|| Room::new(now));
        let spare = room.spare(now);
        if !refused {
            room.through(now);
        }
        let pace = self.pace(operation, now);
        pace.answered(now, refused, spare);
        pace.rate()
    }

    /// Whether any operation's pace is saturated (see [`Pace::saturated`]): a fleet publishing
    /// keeps the one it waits for busy.
    pub fn saturated(&mut self, now: Instant) -> bool {
        self.paces.values_mut().any(|p| p.saturated(now))
    }

    /// Whether `operation`'s own pace is saturated. DataZone's quotas are per API, so a call of
    /// it postpones only other calls of it. Where one quota serves every operation (the
    /// emulator's `--rate-limit`) it postpones them all, which this does not see: one operator
    /// publishing 1,000 there took 134.3 s instead of 125.4 when a listing went by this rather
    /// than by any pace saturated, and telling the two apart by refusals failed (docs/design/fleet.md).
    pub fn saturated_for(&mut self, operation: &str, now: Instant) -> bool {
        self.paces.get_mut(operation).is_some_and(|p| p.saturated(now))
    }

    pub fn rate(&self, operation: &str) -> Option<f64> {
        self.paces.get(operation).map(Pace::rate)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn each_operation_starts_at_its_documented_quota_or_the_start() {
        let t0 = Instant::now() + Duration::from_secs(10);
        let mut paces = OperationPaces::new(20.0);
        for op in ["AcceptSubscriptionRequest", "CancelSubscription", "CreateGlossary", "GetDataSource"] {
            paces.reserve(op, t0);
        }
        let rates: Vec<Option<f64>> =
            ["AcceptSubscriptionRequest", "CancelSubscription", "CreateGlossary", "GetDataSource", "Search"]
                .iter()
                .map(|op| paces.rate(op))
                .collect();
        assert_eq!(rates, [Some(3.0), Some(3.0), Some(5.0), Some(20.0), None]);
    }

    #[test]
    fn a_busy_operation_saturates_its_own_pace_not_the_others() {
        let t0 = Instant::now() + Duration::from_secs(10);
        let mut paces = OperationPaces::new(20.0);
        // A fleet creating data sources at their quota for half a minute, listing now and then.
        for s in 0..30 {
            let now = t0 + Duration::from_secs(s);
            for _ in 0..20 {
                paces.reserve("CreateDataSource", now);
            }
            paces.reserve("ListDataSources", now);
        }
        let now = t0 + Duration::from_secs(30);
        assert!(paces.saturated(now), "some pace is");
        assert!(paces.saturated_for("CreateDataSource", now));
        assert!(!paces.saturated_for("ListDataSources", now), "a page a second of twenty");
        assert!(!paces.saturated_for("Search", now), "never called");
    }

    #[test]
    fn a_refused_operation_slows_only_its_own_calls() {
        let t0 = Instant::now() + Duration::from_secs(10);
        let mut paces = OperationPaces::new(20.0);
        // A second's worth of accepts and of data source calls queued at once.
        for _ in 0..20 {
            paces.reserve("GetDataSource", t0);
        }
        for _ in 0..3 {
            paces.reserve("AcceptSubscriptionRequest", t0);
        }
        let accept = paces.answered("AcceptSubscriptionRequest", t0, true);
        assert!(accept < 3.0, "the refused operation is cut: {accept}");
        assert_eq!(paces.rate("GetDataSource"), Some(20.0));
        // The data source calls go on at their own pace: the 20th slot a second's worth later.
        let slot = paces.reserve("GetDataSource", t0);
        assert_eq!(slot - t0, Duration::from_secs(1));
    }
}
