//! What every reconcile shares: the Kubernetes client, the AWS backend, the shared caches and
//! listings, and the per-object backoff.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::controller::decide::pass::Phase;
use crate::controller::fleet::cache::{Cache, KeyedLocks};
use crate::controller::fleet::claims::ConnectionClaims;
use crate::controller::fleet::full_reads::{FULL_READ_EVERY, FullReads};
use crate::controller::fleet::held_resyncs::{HELD_AT_MOST, HeldResyncs};
use crate::controller::fleet::keys::{
    Creation, Enabled, EnvironmentKey, Lookup, ProjectKey, RedshiftConnectionKey, SchemaKey,
};
use crate::controller::fleet::recovery::Recovery;
use crate::controller::fleet::snapshot::{Flights, Snapshots};
use crate::controller::fleet::tenancy::Sessions;
use crate::controller::fleet::wakeups::Wakeups;
use crate::controller::fleet::watched::Watched;
use crate::datazone::{Backend, ConnectionInfo, EnvironmentInfo, ObjectKind};
use crate::events::Events;
use crate::metrics::Metrics;

/// Answers shared by every data product that asks the same question.
#[derive(Default)]
pub struct Shared {
    /// IDs and ARNs: role checks, domains, projects, accounts, blueprints, profiles.
    pub ids: Cache<Lookup, String>,
    /// Blueprint configurations known to enable the region.
    /// The regions an account's DefaultDataWarehouse is enabled in, as last seen (see
    /// `observe::shared_objects`).
    pub enabled: Cache<Enabled, Vec<String>>,
    /// Environments: ACTIVE ones trusted for a resync (one settling is looked at again).
    pub environments: Cache<EnvironmentKey, EnvironmentInfo>,
    /// Domains whose quota of environments refused a CreateEnvironment, with DataZone's words:
    /// every data product needing a new environment there is told so without a call of its own.
    pub environment_quota: Cache<String, String>,
    /// Each project's environments while some are settling: one listing (at most a fifth of a
    /// poll old) for every data product waiting on any of them.
    pub environment_listings: Cache<ProjectKey, Arc<Vec<(String, EnvironmentInfo)>>>,
    /// The tables and views of "all tables" / "all views" schemas.
    pub schemas: Cache<SchemaKey, Vec<(String, ObjectKind)>>,
    /// Held across find-then-create of a shared object.
    pub creating: KeyedLocks<Creation>,
    /// Profiles this process created: until it creates an environment of one, none can exist,
    /// so there is nothing to list.
    pub new_profiles: Cache<Lookup, ()>,
    /// V2 Redshift connections: READY ones trusted for a resync, others for a poll.
    pub connections: Cache<RedshiftConnectionKey, ConnectionInfo>,
    /// What each data product asks of its V2 connection (secret, lineage).
    pub claims: ConnectionClaims,
    /// Which data products use which connection, and which its rules refuse.
    pub users: crate::controller::fleet::tenancy::ConnectionUsers,
    /// Each domain's glossary terms, for the data products' term references.
    pub glossary_terms: Cache<String, std::sync::Arc<crate::controller::decide::business::TermIndex>>,
    /// Each project's data product listings, one sweep a resync for all its data products.
    pub product_listings: Cache<ProjectKey, std::sync::Arc<crate::controller::decide::products::ProductSweep>>,
    /// Each project's subscription requests and subscriptions, one view for its access policies.
    pub access_views: Cache<ProjectKey, std::sync::Arc<crate::controller::fleet::access_views::AccessView>>,
    /// Retiring data products (by UID) whose listings this process took out of the catalog: a
    /// retirement waiting for its subscribers does not unpublish again each time it looks.
    pub unpublished: Mutex<std::collections::HashSet<String>>,
    /// Which data product with an access policy owns which asset or data product.
    pub owners: crate::controller::fleet::access_views::Owners,
    /// Each consuming project's PENDING requests, one listing for all its subscriptions waiting
    /// for a decision (a thousand of them are followed with a few pages, not a thousand reads).
    pub pending_requests: Cache<ProjectKey, Arc<std::collections::BTreeSet<String>>>,
    /// Each consuming project's APPROVED subscriptions, one listing for all its granted
    /// subscriptions at their resync (a settled one makes no call of its own).
    pub approved_subscriptions: Cache<ProjectKey, Arc<std::collections::BTreeSet<String>>>,
    /// AcceptSubscriptionRequest calls per account, spaced under DataZone's quota.
    pub accepts: crate::controller::fleet::access_views::Spaced<String>,
    /// Each data source's run starts of the last day (the daily quota's gauge).
    pub run_starts: Arc<crate::controller::fleet::run_starts::RunStarts>,
}

pub struct Context<B: Backend> {
    pub client: kube::Client,
    /// Connections and namespaces, from the operator's watches.
    pub watched: Watched,
    /// Where the AWS calls go.
    pub backend: B,
    pub shared: Shared,
    /// Each project's data source listing, shared while data sources and runs settle.
    pub snapshots: Snapshots,
    /// What this process last wrote per data product, followed in the shared listing.
    pub flights: Flights,
    /// Settled data products woken when a shared listing shows their data source moved.
    pub wakeups: Wakeups,
    /// Which data products use which assumed-role session.
    pub sessions: Sessions,
    /// When this process started: a listing taken after it reflects everything done before.
    pub started: tokio::time::Instant,
    /// When each settled data product next reads its data source in full, whatever the listing shows.
    pub full_reads: FullReads,
    /// Whose resyncs are held back while the account's pace is saturated, since when.
    pub held_resyncs: HeldResyncs,
    pub events: Events,
    pub metrics: Metrics,
    /// Names this Kubernetes cluster inside DataZone data source names.
    pub cluster_name: String,
    /// How often a settled data product is checked against DataZone.
    pub resync: Duration,
    /// How often something in progress (environment, data source, run) is looked at again.
    pub poll: Duration,
    /// Wakes the data products backing off when DataZone is back after an outage.
    pub recovery: Recovery,
    /// Consecutive errors per object, for exponential backoff (reset on success).
    pub failures: Mutex<HashMap<String, u32>>,
    /// Consecutive waits per object for something settling (reset when it moves on).
    pub waits: Waits,
    /// Data product passes under way at once, across every watched scope: one controller runs
    /// per scope (`--namespaces`), and each would otherwise allow `--concurrency` of its own —
    /// twenty namespaces, twenty times the passes, all queueing for one account's DataZone pace.
    pub passes: crate::controller::fleet::gate::Gate,
    /// Whether those passes go by stage (a fleet publishing) or in the order they came due.
    pub balance: crate::controller::fleet::gate::Balance,
}

impl<B: Backend> Context<B> {
    /// A context with empty caches.
    pub fn new(
        client: kube::Client,
        watched: Watched,
        backend: B,
        events: Events,
        metrics: Metrics,
        settings: Settings,
    ) -> Self {
        let started = tokio::time::Instant::now();
        Self {
            client,
            watched,
            backend,
            shared: Shared::default(),
            snapshots: Snapshots::default(),
            flights: Flights::default(),
            wakeups: Wakeups::default(),
            sessions: Sessions::default(),
            started,
            full_reads: FullReads::new(started, FULL_READ_EVERY),
            held_resyncs: HeldResyncs::new(HELD_AT_MOST),
            events,
            metrics,
            cluster_name: settings.cluster_name,
            resync: settings.resync,
            poll: settings.poll,
            recovery: Recovery::default(),
            failures: Mutex::default(),
            waits: Waits::default(),
            passes: crate::controller::fleet::gate::Gate::new(settings.concurrency),
            balance: crate::controller::fleet::gate::Balance::default(),
        }
    }
}

/// The operator's settings a context takes from the command line.
#[derive(Clone, Debug)]
pub struct Settings {
    pub cluster_name: String,
    pub resync: Duration,
    pub poll: Duration,
    /// Data product passes at once (`--concurrency`).
    pub concurrency: usize,
}

impl<B: Backend> Context<B> {
    /// The wait after a pass throttling blocked: the first backoff's, jittered, whatever came
    /// before (the pace slows the calls; see `data_product::reconcile`).
    pub fn throttled_wait(&self, key: &str) -> Duration {
        backoff_for(1, crate::naming::stable_hash(&format!("{key}{}", self.started.elapsed().as_nanos())))
    }

    /// Exponential backoff with jitter for an object's `n`-th consecutive error: 2 s, 4 s, … up
    /// to 5 min, ±20 %.
    pub fn backoff(&self, key: &str) -> Duration {
        let mut failures = self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = failures.entry(key.to_string()).or_insert(0);
        *n = n.saturating_add(1);
        backoff_for(*n, crate::naming::stable_hash(&format!("{key}{n}")))
    }

    /// A mutating call for `caller` just returned: its next passes follow what it wrote in the
    /// listing, and what it watched for there is out of date (its own change is no news). A data
    /// source's configuration written is as good as read in full: its daily full read
    /// ([`crate::controller::fleet::full_reads`]) is a day from now. Otherwise the slots that
    /// passed while a fleet published came due all at once at its first resync: 128 of 10,000
    /// data products read in full after a publish of 1,100 s (docs/design/fleet.md).
    pub fn wrote(&self, caller: &str, written: Option<(String, String)>) {
        if written.is_some() {
            self.full_reads.read(caller);
        }
        self.flights.wrote(caller, written);
        self.wakeups.forget(caller);
    }

    pub fn reset_backoff(&self, key: &str) {
        self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(key);
    }

    /// How long an object waiting for `awaited` to settle (its environment, its data source, its
    /// run) waits before its next look: the poll interval, doubling with each wait in a row.
    pub fn settle_wait(&self, key: &str, awaited: Option<Phase>) -> Duration {
        settle_wait_for(self.poll, self.waits.next(key, awaited))
    }

    /// The object moved on: its next wait starts at the poll interval again.
    pub fn reset_waits(&self, key: &str) {
        self.waits.reset(key);
    }

    /// Publishes a pass's notes as Events regarding `reference` (a note is cut to the 1,000
    /// characters and a reason to the 128 the Events API takes); one that cannot be published is
    /// logged, never an error of the pass.
    pub async fn publish_notes(
        &self,
        reference: &k8s_openapi::api::core::v1::ObjectReference,
        action: &str,
        notes: Vec<crate::controller::decide::pass::Note>,
    ) {
        use kube::runtime::events::{Event, EventType};
        for n in notes {
            let mut note = n.message;
            note.truncate(1000);
            let event = Event {
                type_: if n.warning { EventType::Warning } else { EventType::Normal },
                reason: n.reason.chars().take(128).collect(),
                note: Some(note),
                action: action.into(),
                secondary: None,
            };
            if let Err(e) = self.events.publish(&event, reference).await {
                tracing::warn!(error = %e, "could not publish an Event");
            }
        }
    }
}

/// Consecutive waits per object, each run of them for one thing. A wait for something else
/// starts over: a data product that waited long for its environment looks at its data source,
/// and then its run, after one poll interval again, not after the environment's backed-off wait
/// (a fleet's runs of a second were otherwise first looked at after 20 s).
#[derive(Default)]
pub struct Waits(Mutex<HashMap<String, (Option<Phase>, u32)>>);

impl Waits {
    /// This wait's number in the object's run of waits for `awaited` (1 for the first).
    pub fn next(&self, key: &str, awaited: Option<Phase>) -> u32 {
        let mut waits = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (what, n) = waits.entry(key.to_string()).or_insert((awaited, 0));
        if *what != awaited {
            (*what, *n) = (awaited, 0);
        }
        *n = n.saturating_add(1);
        *n
    }

    pub fn reset(&self, key: &str) {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(key);
    }
}

/// The `n`-th wait in a row for something settling: half the poll interval first (a data source
/// settles at once, a run of seconds is over by then), then three times the poll interval, then
/// 45 s (or the poll interval if that is longer): 2.5, 15, 45, 45 … s. A short run is seen at the
/// first look; an environment (minutes, a CloudFormation stack) or a run of a minute or two is
/// looked at a handful of times, not every few seconds: looks at 2.5, 17.5, 62.5, 107.5 s see the
/// reference payload's environments of 90 s at the fourth, its runs of 60 s at the third.
pub fn settle_wait_for(poll: Duration, n: u32) -> Duration {
    if n <= 1 {
        return poll / 2;
    }
    let cap = poll.max(Duration::from_secs(45));
    poll.saturating_mul(3u32.saturating_pow(n.saturating_sub(1).min(16))).min(cap)
}

/// A resync of a settled object, spread by `noise` over 75–125 % of the interval, so resyncs of
/// many data products (all due at once after a restart) drift apart instead of coming in waves.
pub fn spread(resync: Duration, noise: u64) -> Duration {
    resync.mul_f64(0.75 + (noise % 501) as f64 / 1000.0)
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
    fn waits_for_something_settling_triple_up_to_three_quarters_of_a_minute() {
        let poll = Duration::from_secs(5);
        let waits: Vec<u64> = (1..=6).map(|n| settle_wait_for(poll, n).as_secs()).collect();
        assert_eq!(waits, [2, 15, 45, 45, 45, 45], "2.5 s first");
        assert_eq!(settle_wait_for(poll, 1), Duration::from_millis(2500));
        assert_eq!(settle_wait_for(poll, 40), Duration::from_secs(45), "no overflow");
        assert_eq!(
            settle_wait_for(Duration::from_secs(60), 3),
            Duration::from_secs(60),
            "a long poll is not shortened"
        );
        assert_eq!(settle_wait_for(Duration::ZERO, 9), Duration::ZERO);
    }

    #[test]
    fn waits_for_something_else_start_over() {
        let waits = Waits::default();
        let (environment, data_source, run) = (Phase::EnvironmentReady, Phase::DataSourceReady, Phase::Published);
        let seq: Vec<u32> = [environment, environment, environment, data_source, run, run]
            .into_iter()
            .map(|awaited| waits.next("p1", Some(awaited)))
            .collect();
        assert_eq!(seq, [1, 2, 3, 1, 1, 2]);
        assert_eq!(waits.next("p2", Some(run)), 1, "per object");
        waits.reset("p1");
        assert_eq!(waits.next("p1", Some(run)), 1, "moved on");
    }

    #[test]
    fn resyncs_are_spread_over_half_the_interval() {
        let resync = Duration::from_secs(600);
        let all: Vec<Duration> =
            (0..1000u64).map(|i| spread(resync, crate::naming::stable_hash(&i.to_string()))).collect();
        assert!(all.iter().all(|d| *d >= Duration::from_secs(450) && *d <= Duration::from_secs(750)));
        let early = all.iter().filter(|d| **d < resync).count();
        assert!((400..600).contains(&early), "about half come early: {early}");
        assert_eq!(spread(resync, 250), resync);
    }

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
