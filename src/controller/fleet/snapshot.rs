//! A project's data sources, listed once and shared. While data sources are being created and
//! their runs are going, every data product of the project needs to know "is mine READY yet?",
//! "has my run ended?". One `ListDataSources` answers that for up to 50 data products at a time,
//! where a `GetDataSource` or `GetDataSourceRun` each would cost one call per data product per
//! poll. The steady state reads it too: the listing has no configuration, but every change moves
//! a data source's `updatedAt` there, so only what moved is read by ID (`crate::controller::data_product::observe`), and
//! what moved wakes its data product (`super::wakeups`).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use super::cache::KeyedLocks;
use super::keys::ListingKey;
use crate::datazone::{DataSourceStatus, DataSourceSummary, DzError, RunStatus};

/// A listing and when it was asked for (the request's start: everything done before is in it).
pub struct Snapshot {
    pub taken: Instant,
    pub items: Vec<DataSourceSummary>,
    /// Positions in `items` by ID and by name: a project of thousands is looked up by each of
    /// its data products.
    by_id: HashMap<String, usize>,
    by_name: HashMap<String, usize>,
}

impl Snapshot {
    pub fn new(taken: Instant, items: Vec<DataSourceSummary>) -> Self {
        // Reversed, so that the first of equal names wins, as a search from the start would.
        let by_id = items.iter().enumerate().rev().map(|(i, d)| (d.id.clone(), i)).collect();
        let by_name = items.iter().enumerate().rev().map(|(i, d)| (d.name.clone(), i)).collect();
        Self { taken, items, by_id, by_name }
    }
    pub fn by_id(&self, id: &str) -> Option<&DataSourceSummary> {
        self.by_id.get(id).map(|i| &self.items[*i])
    }
    pub fn by_name(&self, name: &str) -> Option<&DataSourceSummary> {
        self.by_name.get(name).map(|i| &self.items[*i])
    }
}

/// DataZone pages a listing by 50.
const PAGE: usize = 50;

/// The latest listing per key (a project as one connection's role sees it).
pub struct Snapshots<K = ListingKey> {
    latest: Mutex<HashMap<K, Arc<Snapshot>>>,
    locks: KeyedLocks<K>,
    /// Per listing, who asked for it lately and when.
    demand: Mutex<HashMap<K, Demand>>,
}

/// Who asked for one listing lately, and when that was last swept of old demand.
struct Demand {
    callers: HashMap<String, Instant>,
    swept: Instant,
}

impl Demand {
    fn new() -> Self {
        Self { callers: HashMap::new(), swept: Instant::now() }
    }
}

impl<K> Default for Snapshots<K> {
    fn default() -> Self {
        Self { latest: Mutex::default(), locks: KeyedLocks::default(), demand: Mutex::default() }
    }
}

/// A listing costs a call per 50 data sources of the project; it pays when at least that many
/// data products want it at about the same time. One data product changing in a project of
/// hundreds reads its own data source instead.
pub fn worth_listing(wanting: usize, last_listed: Option<usize>) -> bool {
    wanting >= pages(last_listed)
}

/// The pages a listing of `last_listed` data sources takes (at least one; one when never listed).
fn pages(last_listed: Option<usize>) -> usize {
    last_listed.map_or(1, |n| n.div_ceil(PAGE).max(1))
}

/// A listing of a project of thousands is itself costly: at most this many pages a poll interval
/// go to following data sources and runs settling, so a project of 10,000 (200 pages) is listed
/// every third poll, not every poll (the data products waiting on it are woken by the listing
/// that shows them moved, `super::wakeups`). Up to 4,000 data sources it is every poll: 16 pages a
/// second at the default poll of 5 s, most of `ListDataSources`' own quota of 20 (DataZone's
/// quotas are per API, docs/datazone-semantics.md §8), and the listing's pace is the operator's
/// when others share that quota ([`PAGES_PER_POLL_SATURATED`]). At 20 pages a poll, a plant of 4,000
/// in one project (80 pages) was listed every 20 s; its data products waited that long twice on
/// their way to Ready, came to the next stage in batches, and the last batches made the tail:
/// 261.5 s where its quotas allow 200 (1.30 ×), 243.0 s (1.21 ×) at every poll (docs/design/fleet.md).
const PAGES_PER_POLL: usize = 80;

/// ... and while a listing page postpones other listing pages (`DataZone::saturated_for`: the
/// `ListDataSources` pace itself is saturated), at most this many. A project of 10,000 is listed
/// every 100 polls then (200 pages in 500 s), one of 1,000 every 10; up to 100 data sources
/// nothing changes. When the work drains, the pace is no longer saturated within seconds and the
/// listing comes at the usual interval. DataZone's
/// quotas are per API (docs/datazone-semantics.md §8): a fleet keeping `CreateDataSource` busy is
/// not slowed by a listing, and the listing shows its data products their data source or run
/// settled (held back while any pace was saturated, five plants of 1,000 saw a run of a second
/// over 37 s after it started: docs/design/fleet.md).
const PAGES_PER_POLL_SATURATED: usize = 2;

/// How old a listing may be for data products waiting on something settling, while the pace is
/// `saturated` or not.
pub fn settling_max_age(poll: Duration, last_listed: Option<usize>, saturated: bool) -> Duration {
    let per_poll = if saturated { PAGES_PER_POLL_SATURATED } else { PAGES_PER_POLL };
    poll * u32::try_from(pages(last_listed).div_ceil(per_poll)).unwrap_or(u32::MAX).max(1)
}

impl<K: Hash + Eq + Clone> Snapshots<K> {
    /// How many data sources the last listing under `key` held.
    pub fn last_listed(&self, key: &K) -> Option<usize> {
        self.latest.lock().unwrap_or_else(PoisonError::into_inner).get(key).map(|s| s.items.len())
    }

    /// Records that `caller` wants the listing under `key` and says whether it pays to list
    /// (see [`worth_listing`]); demand older than `window` is forgotten (swept a few times a
    /// window, not on every call: a project of 10,000 asks on every pass).
    pub fn want(&self, key: &K, caller: &str, window: Duration) -> bool {
        let wanting = {
            let mut demand = self.demand.lock().unwrap_or_else(PoisonError::into_inner);
            let Demand { callers, swept } = demand.entry(key.clone()).or_insert_with(Demand::new);
            if swept.elapsed() >= window / 4 {
                callers.retain(|_, at| at.elapsed() < window);
                *swept = Instant::now();
            }
            callers.insert(caller.to_string(), Instant::now());
            callers.len()
        };
        worth_listing(wanting, self.last_listed(key))
    }

    /// The listing under `key` taken after `not_before` and at most `max_age` old, or a new one
    /// from `list()`. Concurrent callers wait for one listing instead of making their own.
    pub async fn get<F, Fut>(
        &self,
        key: &K,
        not_before: Instant,
        max_age: Duration,
        list: F,
    ) -> Result<Arc<Snapshot>, DzError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Vec<DataSourceSummary>, DzError>>,
    {
        if let Some(s) = self.usable(key, not_before, max_age) {
            return Ok(s);
        }
        let lock = self.locks.get(key);
        let _guard = lock.lock().await;
        if let Some(s) = self.usable(key, not_before, max_age) {
            return Ok(s);
        }
        let taken = Instant::now();
        let items = list().await?;
        let snapshot = Arc::new(Snapshot::new(taken, items));
        self.latest.lock().unwrap_or_else(PoisonError::into_inner).insert(key.clone(), snapshot.clone());
        Ok(snapshot)
    }

    /// How long a caller that wrote at `not_before` should wait for the next listing under `key`
    /// instead of taking one: while the latest predates its write but is younger than `max_age`,
    /// a new one now would come sooner than the project's listings are taken. Whoever comes
    /// after `max_age` takes the next (listings of a big project are costly: [`settling_max_age`]).
    pub fn wait_for_next(&self, key: &K, not_before: Instant, max_age: Duration) -> Option<Duration> {
        let latest = self.latest.lock().unwrap_or_else(PoisonError::into_inner);
        let s = latest.get(key).filter(|s| s.taken <= not_before)?;
        max_age.checked_sub(s.taken.elapsed()).filter(|left| !left.is_zero())
    }

    /// Whether someone is taking the listing under `key` now: a caller settling waits to be woken
    /// by it ([`super::wakeups`]) instead of waiting for it here, holding one of the passes'
    /// places (`super::gate`) for as long as a listing of a project of thousands takes (80
    /// pages: seconds), while the stages that call DataZone wait for a place.
    pub fn under_way(&self, key: &K) -> bool {
        self.locks.get(key).try_lock().is_err()
    }

    /// The listing under `key` if one taken after `not_before` and at most `max_age` old is at
    /// hand, without listing. Strictly after: a listing begun at the very instant of a write (one
    /// tick of a coarse or paused clock) may not show it.
    pub fn usable(&self, key: &K, not_before: Instant, max_age: Duration) -> Option<Arc<Snapshot>> {
        let latest = self.latest.lock().unwrap_or_else(PoisonError::into_inner);
        latest.get(key).filter(|s| s.taken > not_before && s.taken.elapsed() < max_age).cloned()
    }
}

/// What this process last did to one data product's data source, so that the next passes can
/// follow it in the shared listing instead of reading it: when the last mutating call returned,
/// and which configuration (by fingerprint) it wrote to which data source. Lost on restart, which
/// only means one `GetDataSource` more.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InFlight {
    pub since: Option<Instant>,
    /// `(data source ID, configuration fingerprint)` written by CreateDataSource / UpdateDataSource.
    pub written: Option<(String, String)>,
    /// When the latest listing that showed the write still settling was taken.
    pub seen_settling: Option<Instant>,
}

impl InFlight {
    /// The listings that can tell this data product something new about its last write: those
    /// taken after it, and after the one that last showed it still settling. How old such a
    /// listing is does not matter: it shows what happened after the write.
    pub fn not_before(&self) -> Option<Instant> {
        let after_seen = self.seen_settling.map(|taken| taken + Duration::from_nanos(1));
        self.since.max(after_seen)
    }
}

#[derive(Default)]
pub struct Flights {
    by_object: Mutex<HashMap<String, InFlight>>,
}

impl Flights {
    pub fn get(&self, key: &str) -> InFlight {
        self.by_object.lock().unwrap_or_else(PoisonError::into_inner).get(key).cloned().unwrap_or_default()
    }

    /// A mutating call just returned; `written` when it wrote a configuration.
    pub fn wrote(&self, key: &str, written: Option<(String, String)>) {
        let mut all = self.by_object.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = all.entry(key.to_string()).or_default();
        entry.since = Some(Instant::now());
        entry.seen_settling = None;
        if written.is_some() {
            entry.written = written;
        }
    }

    /// The listing taken at `taken` showed `key`'s write still settling: only a later one can
    /// tell it more.
    pub fn saw_settling(&self, key: &str, taken: Instant) {
        let mut all = self.by_object.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = all.get_mut(key) {
            entry.seen_settling = entry.seen_settling.max(Some(taken));
        }
    }

    /// Settled (or deleted): the next pass reads the data source itself.
    pub fn landed(&self, key: &str) {
        self.by_object.lock().unwrap_or_else(PoisonError::into_inner).remove(key);
    }
}

/// What the listing says about a run of ours that status still shows as active.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunSeen {
    /// Still going (or the listing cannot tell yet).
    Running,
    /// Over, with the data source's last run status and error.
    Ended { status: RunStatus, error: Option<String> },
    /// The data source reports no run at all: ask for the run itself.
    Unknown,
    /// The data source is not in the listing.
    DataSourceGone,
}

/// Runs of one data source never overlap (a second start is refused while one is active), so in
/// a listing taken after our run started, a data source that is no longer RUNNING and whose
/// last run is terminal has finished ours.
pub fn run_seen(summary: Option<&DataSourceSummary>) -> RunSeen {
    let Some(ds) = summary else { return RunSeen::DataSourceGone };
    match &ds.last_run_status {
        None => RunSeen::Unknown,
        Some(s) if s.is_active() => RunSeen::Running,
        Some(_) if ds.status == DataSourceStatus::Running => RunSeen::Running,
        Some(status) => RunSeen::Ended { status: status.clone(), error: ds.last_run_error.clone() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn summary(status: DataSourceStatus, last_run: Option<RunStatus>) -> DataSourceSummary {
        DataSourceSummary {
            connection_id: None,
            id: "ds1".into(),
            name: "n".into(),
            status,
            environment_id: Some("env1".into()),
            description: None,
            last_run_error: last_run.as_ref().filter(|s| **s == RunStatus::Failed).map(|_| "secret unreadable".into()),
            last_run_status: last_run,
            updated_at: None,
        }
    }

    #[test]
    fn what_the_listing_says_about_a_run() {
        use DataSourceStatus::{Ready, Running};
        let ended = |s: RunStatus, e: Option<&str>| RunSeen::Ended { status: s, error: e.map(str::to_string) };
        let cases = [
            (None, RunSeen::DataSourceGone),
            (Some(summary(Ready, None)), RunSeen::Unknown),
            (Some(summary(Running, Some(RunStatus::Requested))), RunSeen::Running),
            (Some(summary(Running, Some(RunStatus::Running))), RunSeen::Running),
            // The data source still shows RUNNING for a moment after its run's status flipped.
            (Some(summary(Running, Some(RunStatus::Success))), RunSeen::Running),
            (Some(summary(Ready, Some(RunStatus::Success))), ended(RunStatus::Success, None)),
            (Some(summary(Ready, Some(RunStatus::PartiallySucceeded))), ended(RunStatus::PartiallySucceeded, None)),
            (Some(summary(Ready, Some(RunStatus::Failed))), ended(RunStatus::Failed, Some("secret unreadable"))),
        ];
        for (listed, want) in cases {
            assert_eq!(run_seen(listed.as_ref()), want, "{listed:?}");
        }
    }

    #[test]
    fn a_big_project_is_listed_less_often_for_waiters() {
        let poll = Duration::from_secs(5);
        let cases = [(None, 5), (Some(0), 5), (Some(1000), 5), (Some(4000), 5), (Some(4001), 10), (Some(10_000), 15)];
        for (listed, secs) in cases {
            assert_eq!(settling_max_age(poll, listed, false), Duration::from_secs(secs), "{listed:?} listed");
        }
        // While the pace is saturated, a big project is listed ten times less often.
        let cases = [(None, 5), (Some(100), 5), (Some(101), 10), (Some(1000), 50), (Some(10_000), 500)];
        for (listed, secs) in cases {
            assert_eq!(settling_max_age(poll, listed, true), Duration::from_secs(secs), "{listed:?} listed, saturated");
        }
    }

    #[test]
    fn a_listing_pays_when_as_many_want_it_as_it_has_pages() {
        let cases = [
            (1, None, true),
            (1, Some(0), true),
            (1, Some(50), true),
            (1, Some(51), false),
            (2, Some(51), true),
            (3, Some(500), false),
            (10, Some(500), true),
            (50, Some(2_000), true),
        ];
        for (wanting, listed, want) in cases {
            assert_eq!(worth_listing(wanting, listed), want, "{wanting} wanting, {listed:?} listed");
        }
    }

    #[tokio::test]
    async fn demand_is_counted_per_caller_within_the_window() {
        let snapshots: Snapshots<&str> = Snapshots::default();
        let big: Vec<DataSourceSummary> = (0..120).map(|_| summary(DataSourceStatus::Ready, None)).collect();
        snapshots.get(&"p", Instant::now(), Duration::from_secs(60), || async { Ok(big) }).await.unwrap();
        // 120 data sources: three pages, so three data products must want it.
        assert!(!snapshots.want(&"p", "a", Duration::from_secs(60)));
        assert!(!snapshots.want(&"p", "a", Duration::from_secs(60)), "the same caller counts once");
        assert!(!snapshots.want(&"p", "b", Duration::from_secs(60)));
        assert!(snapshots.want(&"p", "c", Duration::from_secs(60)));
        assert!(!snapshots.want(&"p", "d", Duration::ZERO), "old demand is forgotten");
        assert!(snapshots.want(&"other", "a", Duration::from_secs(60)), "never listed: try it");
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_listing_taken_after_their_write() {
        let snapshots: Arc<Snapshots<&str>> = Arc::default();
        let calls = Arc::new(AtomicUsize::new(0));
        let list = |calls: Arc<AtomicUsize>| async move {
            calls.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok(vec![summary(DataSourceStatus::Ready, None)])
        };
        let wrote = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let (snapshots, calls) = (snapshots.clone(), calls.clone());
            tasks.push(tokio::spawn(async move {
                snapshots.get(&"dzd|prj", wrote, Duration::from_secs(60), || list(calls)).await.unwrap().items.len()
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap(), 1);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1, "twenty data products, one ListDataSources");

        // A write after the listing was taken needs a new one; so does an old listing.
        let later = Instant::now();
        snapshots.get(&"dzd|prj", later, Duration::from_secs(60), || list(calls.clone())).await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        snapshots.get(&"dzd|prj", wrote, Duration::ZERO, || list(calls.clone())).await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        // Another project has its own listing.
        snapshots.get(&"dzd|other", wrote, Duration::from_secs(60), || list(calls.clone())).await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn a_write_after_a_young_listing_waits_for_the_next_one() {
        let snapshots: Snapshots<&str> = Snapshots::default();
        let max_age = Duration::from_millis(200);
        assert_eq!(snapshots.wait_for_next(&"p", Instant::now(), max_age), None, "never listed: take one");
        let before = Instant::now();
        snapshots.get(&"p", before, max_age, || async { Ok(vec![]) }).await.unwrap();
        assert_eq!(snapshots.wait_for_next(&"p", before, max_age), None, "a listing after the write is there to use");
        let wrote = Instant::now();
        let left = snapshots.wait_for_next(&"p", wrote, max_age);
        assert!(left.is_some_and(|d| d <= max_age), "the latest predates the write and is young: {left:?}");
        std::thread::sleep(max_age);
        assert_eq!(snapshots.wait_for_next(&"p", wrote, max_age), None, "the next listing is due: take it");
    }

    #[tokio::test]
    async fn a_listing_is_under_way_while_someone_takes_it() {
        let snapshots: Arc<Snapshots<&str>> = Arc::default();
        assert!(!snapshots.under_way(&"p"), "nobody lists");
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        let lister = snapshots.clone();
        let listing = tokio::spawn(async move {
            lister
                .get(&"p", Instant::now(), Duration::from_secs(60), || async {
                    let _ = released.await;
                    Ok(vec![])
                })
                .await
                .map(|s| s.items.len())
        });
        let started = async {
            while !snapshots.under_way(&"p") {
                tokio::task::yield_now().await;
            }
        };
        tokio::time::timeout(Duration::from_secs(5), started)
            .await
            .expect("the listing is under way while it is taken");
        assert!(!snapshots.under_way(&"other"), "another project's listing is not under way");
        release.send(()).unwrap();
        assert_eq!(listing.await.unwrap().unwrap(), 0);
        assert!(!snapshots.under_way(&"p"), "taken");
    }

    #[test]
    fn flights_remember_the_last_write_until_landed() {
        let flights = Flights::default();
        assert_eq!(flights.get("uid"), InFlight::default());
        flights.wrote("uid", Some(("ds1".into(), "h1".into())));
        flights.wrote("uid", None);
        let f = flights.get("uid");
        assert!(f.since.is_some());
        assert_eq!(f.written, Some(("ds1".into(), "h1".into())), "a run start keeps the written configuration");
        assert_eq!(f.not_before(), f.since, "any listing taken after the write");
        let listed = Instant::now();
        flights.saw_settling("uid", listed);
        assert!(
            flights.get("uid").not_before().is_some_and(|t| t > listed),
            "then only one after the listing that showed it settling"
        );
        flights.wrote("uid", None);
        assert!(flights.get("uid").not_before().is_some_and(|t| t > listed), "a new write starts over");
        assert_eq!(flights.get("uid").seen_settling, None);
        flights.landed("uid");
        assert_eq!(flights.get("uid"), InFlight::default());
    }
}
