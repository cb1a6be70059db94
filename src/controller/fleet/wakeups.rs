//! Drift seen in a shared listing wakes the data product it belongs to.
//!
//! A settled data product checks its data source at its resync, through the project's listing
//! (`updatedAt`, status and last run against what its status recorded). The listing is shared:
//! at its resync a data product may reuse one up to half an interval old, and its resync is
//! spread up to 25 % past the interval, so on its own an edit behind the operator's back could
//! wait about one and a half intervals. But in a project of many data products somebody takes a
//! fresh listing every half interval or so, and whatever that listing shows moved belongs to a
//! known data product: it is woken at once, so drift is found within one resync interval.
//!
//! The same serves a data product waiting for its data source or its run to settle: it watches
//! for the data source as it last saw it, and the first listing anyone takes that shows it
//! moved (READY, the run over) wakes it, instead of its next poll (which backs off to 45 s).
//!
//! A data product waiting for its environment (minutes in DataZone) is woken the same way: the
//! first listing of the project's environments that shows it settled wakes every data product
//! waiting for it, instead of each one's own next look.
//!
//! A data product watches only while a listing is how it follows its data source (registered by
//! the pass that looked there, forgotten by any other pass and on deletion); a wake is a hint
//! that brings its pass forward, never a decision: the pass reads for itself, from the listing
//! that woke it when that is recent enough, so a wake costs no DataZone call.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, PoisonError};
use tokio::time::Instant;

use futures::channel::mpsc;
use kube::runtime::reflector::ObjectRef;

use super::keys::{ListingKey, ProjectKey};
use super::snapshot::Snapshot;
use crate::crd::{RedshiftDataProduct, RedshiftDataProductStatus};
use crate::datazone::{DataSourceStatus, DataSourceSummary, EnvironmentInfo, RunStatus};

/// How a data product expects its data source to look in a listing: as its status recorded it
/// (settled), or as it last saw it there (waiting for it or its run to settle).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expected {
    pub data_source_id: String,
    pub status: DataSourceStatus,
    pub updated_at: Option<String>,
    pub last_run: Option<RunStatus>,
    pub environment_id: Option<String>,
    /// When the last run ended, as status recorded it from the run itself.
    pub run_ended_at: Option<String>,
}

impl Expected {
    /// A settled data product: READY, as status last read it.
    pub fn from_status(data_source_id: &str, status: &RedshiftDataProductStatus) -> Self {
        Self {
            data_source_id: data_source_id.to_string(),
            status: DataSourceStatus::Ready,
            updated_at: status.data_source_updated_at.clone(),
            last_run: status.last_run.as_ref().map(|r| RunStatus::parse(&r.status)),
            environment_id: status.environment_id.clone(),
            run_ended_at: status.last_run.as_ref().and_then(|r| r.stopped_at.clone()),
        }
    }

    /// A waiting data product: as it just saw its data source in a listing.
    pub fn seen(d: &DataSourceSummary) -> Self {
        Self {
            data_source_id: d.id.clone(),
            status: d.status.clone(),
            updated_at: d.updated_at.clone(),
            last_run: d.last_run_status.clone(),
            environment_id: d.environment_id.clone(),
            run_ended_at: None,
        }
    }

    /// The listing shows the data source as expected: the same status, `updatedAt` (which moves
    /// with every change, docs/datazone-semantics.md §4), last run outcome and environment.
    pub fn matches(&self, d: &DataSourceSummary) -> bool {
        d.id == self.data_source_id
            && d.status == self.status
            && d.updated_at.is_some()
            && d.updated_at == self.updated_at
            && d.last_run_status == self.last_run
            && d.environment_id == self.environment_id
    }

    /// The listing shows the data source as expected but for an `updatedAt` that its last run's end
    /// moved, and nothing after it: later than the one recorded, and no later than the run's
    /// `stoppedAt`. A run's end moves its data source's `updatedAt` (docs/datazone-semantics.md §4);
    /// when a data product saw its run end by reading the run rather than in a listing (a project
    /// of thousands is not listed for a few), its status recorded no `updatedAt` after the run,
    /// and at 10,000 the first resync after a publish read about 200 data sources in full for it
    /// (docs/design/fleet.md).
    pub fn moved_only_by_its_run(&self, d: &DataSourceSummary) -> bool {
        let at = |s: Option<&String>| s.and_then(|s| s.parse::<jiff::Timestamp>().ok());
        let (Some(recorded), Some(listed), Some(ended)) =
            (at(self.updated_at.as_ref()), at(d.updated_at.as_ref()), at(self.run_ended_at.as_ref()))
        else {
            return false;
        };
        d.id == self.data_source_id
            && d.status == self.status
            && d.last_run_status == self.last_run
            && d.environment_id == self.environment_id
            && recorded < listed
            && listed <= ended
    }

    /// Nothing moved that the data product did not see: as expected, or moved only by its run.
    pub fn unchanged(&self, d: &DataSourceSummary) -> bool {
        self.matches(d) || self.moved_only_by_its_run(d)
    }

    /// Something moved: the data source is missing from `listing` or differs there.
    pub fn moved_in(&self, listing: &Snapshot) -> bool {
        !listing.by_id(&self.data_source_id).is_some_and(|d| self.unchanged(d))
    }
}

type Waker = mpsc::UnboundedSender<ObjectRef<RedshiftDataProduct>>;

/// A data product waiting for an environment: the environment's name, and the data product.
type EnvironmentWaiter = (String, ObjectRef<RedshiftDataProduct>);

struct Watch {
    object: ObjectRef<RedshiftDataProduct>,
    expected: Expected,
}

/// Per listing, the settled data products that follow their data source in it.
#[derive(Default)]
pub struct Wakeups {
    watching: Mutex<HashMap<ListingKey, HashMap<String, Watch>>>,
    /// Per listing, the data products waiting for the next one to be taken.
    next: Mutex<HashMap<ListingKey, HashMap<String, ObjectRef<RedshiftDataProduct>>>>,
    /// The newest listing already looked through, per key.
    checked: Mutex<HashMap<ListingKey, Instant>>,
    /// Per project, the data products waiting for one of its environments to settle: by
    /// caller, the environment's name and the data product.
    environments: Mutex<HashMap<ProjectKey, HashMap<String, EnvironmentWaiter>>>,
    /// The data products whose pass is under way: a wake would only bring another pass right
    /// after it, which finds nothing new (the pass under way decides when it comes next).
    passing: Mutex<HashSet<String>>,
    /// One channel per controller: its scope (a namespace, or `None` for all).
    routes: Mutex<Vec<(Option<String>, Waker)>>,
}

impl Wakeups {
    /// The wakes for the data products of `scope` (a namespace, or all of them).
    pub fn subscribe(&self, scope: Option<String>) -> mpsc::UnboundedReceiver<ObjectRef<RedshiftDataProduct>> {
        let (send, receive) = mpsc::unbounded();
        self.routes.lock().unwrap_or_else(PoisonError::into_inner).push((scope, send));
        receive
    }

    /// `caller` (a data product, `object`) found its data source unchanged in the listing under
    /// `key`: wake it when a later listing shows it moved.
    pub fn watch(&self, key: &ListingKey, caller: &str, object: ObjectRef<RedshiftDataProduct>, expected: Expected) {
        let mut watching = self.watching.lock().unwrap_or_else(PoisonError::into_inner);
        watching.entry(key.clone()).or_default().insert(caller.to_string(), Watch { object, expected });
    }

    /// `caller` (a data product, `object`) waits for the next listing under `key`: wake it when
    /// one is taken, whatever it shows.
    pub fn at_next_listing(&self, key: &ListingKey, caller: &str, object: ObjectRef<RedshiftDataProduct>) {
        let mut next = self.next.lock().unwrap_or_else(PoisonError::into_inner);
        next.entry(key.clone()).or_default().insert(caller.to_string(), object);
    }

    /// `caller` (a data product, `object`) waits for the environment `name` of `project` to
    /// settle: wake it when a listing of the project's environments shows it settled.
    pub fn await_environment(
        &self,
        project: &ProjectKey,
        name: &str,
        caller: &str,
        object: ObjectRef<RedshiftDataProduct>,
    ) {
        let mut environments = self.environments.lock().unwrap_or_else(PoisonError::into_inner);
        environments.entry(project.clone()).or_default().insert(caller.to_string(), (name.to_string(), object));
    }

    /// The environments of `project` were just listed for `reader`: wakes every other data
    /// product waiting for one that has settled in it (ACTIVE, or failed).
    pub fn environments_listed(&self, project: &ProjectKey, listing: &[(String, EnvironmentInfo)], reader: &str) {
        let settled = |name: &str| listing.iter().any(|(n, env)| n == name && !env.status.is_settling());
        let woken: Vec<ObjectRef<RedshiftDataProduct>> = {
            let mut environments = self.environments.lock().unwrap_or_else(PoisonError::into_inner);
            let Some(by_caller) = environments.get_mut(project) else { return };
            let done: Vec<String> =
                by_caller.iter().filter(|(_, (name, _))| settled(name)).map(|(caller, _)| caller.clone()).collect();
            // The reader sees it for itself.
            done.iter()
                .filter_map(|caller| by_caller.remove(caller).filter(|_| caller != reader && !self.busy(caller)))
                .map(|(_, object)| object)
                .collect()
        };
        for object in woken {
            tracing::debug!(namespace = object.namespace, name = object.name, "its environment settled");
            self.wake(object);
        }
    }

    /// `caller` is not settled (or is gone): its own passes follow its data source.
    pub fn forget(&self, caller: &str) {
        let mut watching = self.watching.lock().unwrap_or_else(PoisonError::into_inner);
        for by_caller in watching.values_mut() {
            by_caller.remove(caller);
        }
        watching.retain(|_, by_caller| !by_caller.is_empty());
        drop(watching);
        let mut next = self.next.lock().unwrap_or_else(PoisonError::into_inner);
        for by_caller in next.values_mut() {
            by_caller.remove(caller);
        }
        next.retain(|_, by_caller| !by_caller.is_empty());
        drop(next);
        let mut environments = self.environments.lock().unwrap_or_else(PoisonError::into_inner);
        for by_caller in environments.values_mut() {
            by_caller.remove(caller);
        }
        environments.retain(|_, by_caller| !by_caller.is_empty());
    }

    /// `listing` was just read under `key` for `reader`: wakes every other data product whose
    /// data source moved in it (once; it watches again when settled again). Each listing is
    /// looked through once however many passes read it.
    pub fn look_through(&self, key: &ListingKey, listing: &Snapshot, reader: &str) {
        {
            let mut checked = self.checked.lock().unwrap_or_else(PoisonError::into_inner);
            if checked.get(key).is_some_and(|at| *at >= listing.taken) {
                return;
            }
            checked.insert(key.clone(), listing.taken);
        }
        let waiting = self.next.lock().unwrap_or_else(PoisonError::into_inner).remove(key).unwrap_or_default();
        for (_, object) in waiting.into_iter().filter(|(caller, _)| caller != reader && !self.busy(caller)) {
            tracing::debug!(namespace = object.namespace, name = object.name, "the project's next listing is taken");
            self.wake(object);
        }
        let woken: Vec<ObjectRef<RedshiftDataProduct>> = {
            let mut watching = self.watching.lock().unwrap_or_else(PoisonError::into_inner);
            let Some(by_caller) = watching.get_mut(key) else { return };
            let moved: Vec<String> = by_caller
                .iter()
                .filter(|(caller, w)| caller.as_str() != reader && w.expected.moved_in(listing))
                .map(|(caller, _)| caller.clone())
                .collect();
            // One whose pass is under way sees for itself; it watches again if it must.
            moved
                .iter()
                .filter_map(|caller| by_caller.remove(caller).filter(|_| !self.busy(caller)))
                .map(|w| w.object)
                .collect()
        };
        for object in woken {
            tracing::info!(
                namespace = object.namespace,
                name = object.name,
                "its data source moved in the project's listing; reconciling now"
            );
            self.wake(object);
        }
    }

    /// Wakes each of `objects` (by caller) but `reader` and those whose pass is under way.
    pub fn wake_each(&self, objects: Vec<(String, ObjectRef<RedshiftDataProduct>)>, reader: &str) {
        for (caller, object) in objects.into_iter().filter(|(caller, _)| caller != reader && !self.busy(caller)) {
            tracing::debug!(namespace = object.namespace, name = object.name, %caller, "woken");
            self.wake(object);
        }
    }

    /// `caller`'s pass starts; it is not woken until the pass is over (the guard dropped).
    pub fn passing<'a>(&'a self, caller: &'a str) -> Passing<'a> {
        self.passing.lock().unwrap_or_else(PoisonError::into_inner).insert(caller.to_string());
        Passing { wakeups: self, caller }
    }

    fn busy(&self, caller: &str) -> bool {
        self.passing.lock().unwrap_or_else(PoisonError::into_inner).contains(caller)
    }

    fn wake(&self, object: ObjectRef<RedshiftDataProduct>) {
        let mut routes = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
        routes.retain(|(_, send)| !send.is_closed());
        let route = routes
            .iter()
            .find(|(scope, _)| scope.is_some() && *scope == object.namespace)
            .or_else(|| routes.iter().find(|(scope, _)| scope.is_none()));
        if let Some((_, send)) = route {
            let _ = send.unbounded_send(object);
        }
    }

    /// How many data products watch listings now (for tests and metrics).
    pub fn watching(&self) -> usize {
        self.watching.lock().unwrap_or_else(PoisonError::into_inner).values().map(HashMap::len).sum()
    }
}

/// A pass under way ([`Wakeups::passing`]).
pub struct Passing<'a> {
    wakeups: &'a Wakeups,
    caller: &'a str,
}

impl Drop for Passing<'_> {
    fn drop(&mut self) {
        self.wakeups.passing.lock().unwrap_or_else(PoisonError::into_inner).remove(self.caller);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::fleet::keys::ConnectionId;
    use crate::crd::ConnectionKind;

    fn key(project: &str) -> ListingKey {
        ListingKey {
            connection: ConnectionId { kind: ConnectionKind::DataZoneConnection, name: "central".into() },
            domain: "dzd".into(),
            project: project.into(),
        }
    }

    fn summary(id: &str, updated: &str) -> DataSourceSummary {
        DataSourceSummary {
            connection_id: None,
            id: id.into(),
            name: id.into(),
            status: DataSourceStatus::Ready,
            environment_id: Some("env".into()),
            description: None,
            updated_at: Some(updated.into()),
            last_run_status: Some(RunStatus::Success),
            last_run_error: None,
        }
    }

    fn expected(id: &str, updated: &str) -> Expected {
        Expected {
            data_source_id: id.into(),
            status: DataSourceStatus::Ready,
            updated_at: Some(updated.into()),
            last_run: Some(RunStatus::Success),
            environment_id: Some("env".into()),
            run_ended_at: None,
        }
    }

    fn listing(items: Vec<DataSourceSummary>) -> Snapshot {
        Snapshot::new(Instant::now(), items)
    }

    fn object(ns: &str, name: &str) -> ObjectRef<RedshiftDataProduct> {
        ObjectRef::new(name).within(ns)
    }

    #[test]
    fn what_counts_as_moved() {
        let e = expected("ds1", "t1");
        let cases: Vec<(&str, Vec<DataSourceSummary>, bool)> = vec![
            ("as recorded", vec![summary("ds1", "t1")], false),
            ("edited: updatedAt moved", vec![summary("ds1", "t2")], true),
            ("deleted: missing", vec![summary("ds2", "t1")], true),
            (
                "failed",
                vec![DataSourceSummary { status: DataSourceStatus::FailedUpdate, ..summary("ds1", "t1") }],
                true,
            ),
            (
                "another run",
                vec![DataSourceSummary { last_run_status: Some(RunStatus::Running), ..summary("ds1", "t1") }],
                true,
            ),
            (
                "moved to another environment",
                vec![DataSourceSummary { environment_id: Some("env2".into()), ..summary("ds1", "t1") }],
                true,
            ),
            ("no updatedAt to compare", vec![DataSourceSummary { updated_at: None, ..summary("ds1", "t1") }], true),
        ];
        for (case, items, moved) in cases {
            assert_eq!(e.moved_in(&listing(items)), moved, "{case}");
        }
    }

    #[test]
    fn a_fresh_listing_wakes_whoever_moved_once_and_in_its_own_scope() {
        let w = Wakeups::default();
        let mut team_a = w.subscribe(Some("team-a".into()));
        let mut everyone = w.subscribe(None);
        w.watch(&key("sales"), "uid-1", object("team-a", "one"), expected("ds1", "t1"));
        w.watch(&key("sales"), "uid-2", object("team-b", "two"), expected("ds2", "t1"));
        w.watch(&key("sales"), "uid-3", object("team-a", "three"), expected("ds3", "t1"));
        w.watch(&key("hr"), "uid-4", object("team-a", "four"), expected("ds4", "t1"));
        assert_eq!(w.watching(), 4);

        // ds1 edited, ds2 deleted, ds3 as it was; uid-3 reads the listing itself.
        let fresh = listing(vec![summary("ds1", "t2"), summary("ds3", "t1")]);
        w.look_through(&key("sales"), &fresh, "uid-3");
        assert_eq!(team_a.try_recv().ok().map(|o| o.name), Some("one".to_string()));
        assert!(team_a.try_recv().is_err(), "nothing else for team-a");
        assert_eq!(everyone.try_recv().ok().map(|o| o.name), Some("two".to_string()), "no scope of its own");
        assert!(everyone.try_recv().is_err());
        assert_eq!(w.watching(), 2, "woken ones stop watching until settled again");

        // The same listing read again wakes nobody; nor does another project's.
        w.watch(&key("sales"), "uid-1", object("team-a", "one"), expected("ds1", "t1"));
        w.look_through(&key("sales"), &fresh, "uid-9");
        assert!(team_a.try_recv().is_err(), "a listing is looked through once");
        w.look_through(&key("hr"), &listing(vec![summary("ds4", "t1")]), "uid-9");
        assert!(team_a.try_recv().is_err());

        w.forget("uid-1");
        w.forget("uid-3");
        w.forget("uid-4");
        assert_eq!(w.watching(), 0, "deleted or busy data products are forgotten");
    }

    #[test]
    fn those_waiting_for_the_next_listing_are_woken_by_it_whatever_it_shows() {
        let w = Wakeups::default();
        let mut all = w.subscribe(None);
        w.at_next_listing(&key("sales"), "uid-1", object("ns", "one"));
        w.at_next_listing(&key("sales"), "uid-2", object("ns", "two"));
        w.at_next_listing(&key("hr"), "uid-3", object("ns", "three"));
        w.forget("uid-2");
        w.look_through(&key("sales"), &listing(vec![]), "uid-9");
        assert_eq!(all.try_recv().ok().map(|o| o.name), Some("one".to_string()));
        assert!(all.try_recv().is_err(), "a forgotten one and another project's are not woken");
        w.look_through(&key("sales"), &listing(vec![]), "uid-9");
        assert!(all.try_recv().is_err(), "woken once");
    }

    #[test]
    fn a_listing_that_shows_an_environment_settled_wakes_those_waiting_for_it() {
        use crate::datazone::EnvironmentStatus;
        let w = Wakeups::default();
        let mut all = w.subscribe(None);
        let project = ProjectKey { domain: "dzd".into(), project: "sales".into() };
        let env = |status| EnvironmentInfo { id: "env".into(), status, failure: None };
        w.await_environment(&project, "dwh-sales", "uid-1", object("ns", "one"));
        w.await_environment(&project, "dwh-sales", "uid-2", object("ns", "two"));
        w.await_environment(&project, "dwh-hr", "uid-3", object("ns", "three"));
        w.await_environment(&project, "dwh-sales", "uid-4", object("ns", "four"));
        w.forget("uid-4");

        w.environments_listed(&project, &[("dwh-sales".into(), env(EnvironmentStatus::Creating))], "uid-9");
        assert!(all.try_recv().is_err(), "still creating: nobody is woken");

        let listing = [
            ("dwh-sales".to_string(), env(EnvironmentStatus::Active)),
            ("dwh-hr".to_string(), env(EnvironmentStatus::Creating)),
        ];
        w.environments_listed(&project, &listing, "uid-1");
        assert_eq!(all.try_recv().ok().map(|o| o.name), Some("two".to_string()));
        assert!(all.try_recv().is_err(), "not the reader, the one still creating, nor a forgotten one");
        w.environments_listed(&project, &listing, "uid-9");
        assert!(all.try_recv().is_err(), "woken once; the reader saw it for itself and waits no more");

        let other = ProjectKey { domain: "dzd".into(), project: "hr".into() };
        w.environments_listed(&other, &[("dwh-hr".into(), env(EnvironmentStatus::Active))], "uid-9");
        assert!(all.try_recv().is_err(), "another project's listing");
        w.environments_listed(&project, &[("dwh-hr".into(), env(EnvironmentStatus::CreateFailed))], "uid-9");
        assert_eq!(all.try_recv().ok().map(|o| o.name), Some("three".to_string()), "a failed one has settled too");
    }

    #[test]
    fn the_reader_itself_is_not_woken() {
        let w = Wakeups::default();
        let mut all = w.subscribe(None);
        w.watch(&key("sales"), "uid-1", object("ns", "one"), expected("ds1", "t1"));
        w.look_through(&key("sales"), &listing(vec![summary("ds1", "t2")]), "uid-1");
        assert!(all.try_recv().is_err(), "its own pass is already looking at it");
    }

    #[test]
    fn a_data_product_whose_pass_is_under_way_is_not_woken_until_it_is_over() {
        let w = Wakeups::default();
        let mut all = w.subscribe(None);
        w.watch(&key("sales"), "uid-1", object("ns", "one"), expected("ds1", "t1"));
        w.at_next_listing(&key("sales"), "uid-2", object("ns", "two"));
        let passing = w.passing("uid-1");
        let passing_too = w.passing("uid-2");
        w.look_through(&key("sales"), &listing(vec![summary("ds1", "t2")]), "uid-9");
        assert!(all.try_recv().is_err(), "a wake would only repeat the pass under way");
        assert_eq!(w.watching(), 0, "its pass watches again if it must");
        drop((passing, passing_too));
        w.watch(&key("sales"), "uid-1", object("ns", "one"), expected("ds1", "t1"));
        w.look_through(&key("sales"), &listing(vec![summary("ds1", "t3")]), "uid-9");
        assert_eq!(all.try_recv().ok().map(|o| o.name), Some("one".to_string()), "the pass is over");
    }
}
