//! One [`Pace`] per DataZone operation of an account and region: DataZone's quotas are per API
//! (docs/datazone-semantics.md §8), so a 3-a-second decision call that is throttled must not slow
//! the 20-a-second data source calls beside it, and the reverse. Where a service has one quota for
//! every operation instead (the emulator's `--rate-limit`), the paces of the operations in use
//! are each cut by their own refusals and together settle on that quota; when the calls move to
//! other operations, the account's [`Room`] lets their paces probe for what the others left.

use std::collections::HashMap;
use std::time::Instant;

use super::room::Room;
use super::{ACCOUNT_QUIET, Pace};

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
    /// When a call of any operation was last refused: a while without one and the account's
    /// paces grow as if alone ([`ACCOUNT_QUIET`]).
    last_refused: Option<Instant>,
}

impl OperationPaces {
    pub fn new(start: f64) -> Self {
        Self { start, paces: HashMap::new(), room: None, last_refused: None }
    }

    /// The pace of `operation`, made on its first call: at its documented quota; else at the share
    /// of a quota the account's other paces learnt from their refusals, when that is below the
    /// start; else at the start. Operators sharing one account (plants) each learn a share of
    /// each quota, and a new operation's quota is shared by the same operators: five of them
    /// starting their runs at 20 a second each sent five times the quota, and about 350 calls were
    /// refused before their cuts brought them down, a third of a five-plant publish's refusals
    /// (docs/design/fleet.md). Started at the learnt share, a pace grows as after a cut: slowly,
    /// faster after a quiet half minute of its own or 10 s without a refusal in the account (an
    /// operator alone, its quotas its own).
    fn pace(&mut self, operation: &str, now: Instant) -> &mut Pace {
        if !self.paces.contains_key(operation) {
            let learnt = self.paces.values().filter(|p| p.learnt()).map(Pace::rate).reduce(f64::max);
            let pace = match (documented(operation), learnt) {
                (Some(rate), _) => Pace::informed(rate, now),
                (None, Some(share)) if share < self.start => Pace::informed(share, now),
                (None, _) => Pace::new(self.start, now),
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
        if refused {
            self.last_refused = Some(now);
        } else {
            room.through(now);
        }
        let calm = self.last_refused.is_some_and(|at| now.duration_since(at) >= ACCOUNT_QUIET);
        let pace = self.pace(operation, now);
        pace.answered(now, refused, spare, calm);
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
    fn a_new_operation_starts_at_the_share_the_refused_ones_learnt() {
        let t0 = Instant::now() + Duration::from_secs(10);
        let mut paces = OperationPaces::new(20.0);
        // Data sources made at 20 a second, refused twice: cut to 16, then 12.8.
        for s in 0..2 {
            let now = t0 + Duration::from_secs(s);
            for _ in 0..20 {
                paces.reserve("CreateDataSource", now);
            }
            paces.answered("CreateDataSource", now, true);
        }
        let learnt = paces.rate("CreateDataSource").unwrap();
        assert!((learnt - 12.8).abs() < 1e-9, "{learnt}");
        // A documented quota is not a learnt share: the accept pace's cut teaches nothing.
        paces.reserve("AcceptSubscriptionRequest", t0);
        paces.answered("AcceptSubscriptionRequest", t0, true);
        let now = t0 + Duration::from_secs(2);
        paces.reserve("StartDataSourceRun", now);
        assert_eq!(paces.rate("StartDataSourceRun"), Some(learnt), "the runs start at the learnt share");
        // And grows from there as after a cut: a step a second, not half again a second (for 8 s:
        // 10 s after the account's last refusal it would grow as if alone).
        for s in 0..8 {
            let now = now + Duration::from_secs(s);
            for _ in 0..20 {
                paces.reserve("StartDataSourceRun", now);
            }
            for _ in 0..13 {
                paces.answered("StartDataSourceRun", now, false);
            }
        }
        let grown = paces.rate("StartDataSourceRun").unwrap() - learnt;
        assert!(grown > 0.2 && grown < 0.8, "grew {grown:.2} in 8 s");
        // A fresh account starts at the start.
        let mut fresh = OperationPaces::new(20.0);
        fresh.reserve("StartDataSourceRun", t0);
        assert_eq!(fresh.rate("StartDataSourceRun"), Some(20.0));
    }

    /// `operation`'s callers queue for a second's worth of calls from `at`, and `answers` of them
    /// come back through; its rate after.
    fn busy_second(paces: &mut OperationPaces, operation: &str, at: Instant, answers: usize) -> f64 {
        for _ in 0..20 {
            paces.reserve(operation, at);
        }
        for _ in 0..answers {
            paces.answered(operation, at, false);
        }
        paces.rate(operation).unwrap()
    }

    #[test]
    fn a_cut_pace_grows_as_if_alone_once_none_of_the_accounts_calls_is_refused_for_ten_seconds() {
        let t0 = Instant::now() + Duration::from_secs(10);
        let secs = Duration::from_secs;
        // Two paces of one account: each cut once.
        let mut paces = OperationPaces::new(20.0);
        for op in ["CreateDataSource", "CreateDataProduct"] {
            busy_second(&mut paces, op, t0, 0);
            paces.answered(op, t0, true);
        }
        // A neighbour still takes its share of the data products' quota: refused now and then.
        for s in [3, 6, 9, 12] {
            busy_second(&mut paces, "CreateDataProduct", t0 + secs(s), 0);
            paces.answered("CreateDataProduct", t0 + secs(s), true);
        }
        // Eight seconds after the last refusal: the data sources' pace grows at the step.
        let before = paces.rate("CreateDataSource").unwrap();
        let after = busy_second(&mut paces, "CreateDataSource", t0 + secs(20), 16);
        assert!(after - before < 0.1, "the step, 0.05 a second: {before:.2} -> {after:.2}");
        // Ten: the account is quiet, and it grows 5 % a second, eight seconds before its own quiet
        // (30 s after its cut) would have let it.
        let before = after;
        let after = busy_second(&mut paces, "CreateDataSource", t0 + secs(22), 16);
        assert!((after - before - 16.0 * 0.05).abs() < 1e-9, "5 % a second: {before:.2} -> {after:.2}");
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
