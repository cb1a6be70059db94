//! One pass per step, in the order a first publish takes them, then the steady state and the
//! steps that follow a change: drift, a deleted data source, a requested run, a failed run.

use std::time::Duration;

use kube::runtime::controller::Action;

use super::{Harness, RESYNC, assert_resync, condition, is, message, strings};
use crate::controller::decide::pass::TERMINAL_RETRY;
use crate::crd::conditions::{
    BLUEPRINT_ENABLED, CONNECTION_RESOLVED, ConditionStatus::False, ConditionStatus::True, DATA_SOURCE_READY,
    ENVIRONMENT_READY, PUBLISHED, READY, RECONCILING, STALLED,
};
use crate::crd::{RECONCILE_REQUESTED_AT, RedshiftDataProduct};
use crate::datazone::{DataSourceStatus, EnvironmentStatus, RunStatus};

const PROFILE: &str = "dwh-222222222222-eu-central-1-prod-dwh";
const ENVIRONMENT: &str = "dwh-222222222222-eu-central-1-prod-dwh-sales";
const DATA_SOURCE: &str = "prod-eks-team-sales-orders";

fn poll() -> Action {
    Action::requeue(Duration::ZERO)
}

/// Walks `orders` from nothing to Published and returns it with its data source ID.
/// A resync shorter than the sessions and cached lookups last, so that waiting for the next
/// listing renews nothing else.
const MINUTE: Duration = Duration::from_secs(60);

/// On the paused clock: the project's listing a settled data product takes at its word (a resync
/// old at most) has aged out, so its next pass lists again.
pub async fn next_listing(h: &Harness) {
    tokio::time::sleep(h.ctx.resync).await;
}

pub async fn published(h: &Harness) -> (RedshiftDataProduct, String) {
    let mut p = h.product("orders", |_| {});
    let pass = h.pass(&mut p).await;
    assert_eq!(
        pass.calls,
        strings(&[
            "AssumeRole arn:aws:iam::111111111111:role/dz-registration",
            "ListDomains",
            "ListProjects sales",
            "GetCallerIdentity",
            "ListEnvironmentBlueprints",
            "GetEnvironmentBlueprintConfiguration bp_dwh",
            "PutEnvironmentBlueprintConfiguration bp_dwh",
        ]),
        "EnableBlueprint"
    );
    assert_eq!(h.dz.world().blueprint_regions, Some(strings(&["eu-central-1"])));
    assert_eq!(pass.events, strings(&["BlueprintEnabled"]));
    assert_eq!(pass.requeue(), Action::requeue(Duration::from_millis(200)));
    assert_eq!(condition(&p, CONNECTION_RESOLVED), is(True, "Resolved"));
    assert_eq!(condition(&p, BLUEPRINT_ENABLED), is(True, "Enabled"));
    assert_eq!(condition(&p, READY), is(False, "Progressing"));
    assert_eq!(condition(&p, RECONCILING), is(True, "Progressing"));
    let status = p.status.clone().unwrap_or_default();
    assert_eq!((status.domain_id.as_deref(), status.project_id.as_deref()), (Some("dzd_fake"), Some("prj_sales")));

    let pass = h.pass(&mut p).await;
    let find_profile = format!("ListEnvironmentProfiles {PROFILE}");
    assert_eq!(
        pass.calls,
        [find_profile, format!("CreateEnvironmentProfile {PROFILE}")],
        "CreateProfile: the shared lookups are cached; no second look under a lock nobody held"
    );
    assert_eq!(pass.events, strings(&["EnvironmentProfileCreated"]));
    assert_eq!(p.status.as_ref().and_then(|s| s.blueprint_id.as_deref()), Some("bp_dwh"));

    let pass = h.pass(&mut p).await;
    assert_eq!(
        pass.calls,
        [format!("CreateEnvironment {ENVIRONMENT}")],
        "CreateEnvironment: the profile this process just created has no environments to list, and no second \
         look under the lock: names are unique, a conflict would find it"
    );
    assert_eq!(pass.events, strings(&["EnvironmentCreated"]));
    assert_eq!(pass.requeue(), poll());
    let env = p.status.as_ref().and_then(|s| s.environment_id.clone()).expect("environment in status");
    assert!(p.status.as_ref().is_some_and(|s| s.environment_profile_id.is_some()));

    let pass = h.pass(&mut p).await;
    assert_eq!(
        pass.calls,
        strings(&["ListEnvironments"]),
        "WaitEnvironment: one listing of the project serves every waiter"
    );
    assert_eq!(condition(&p, ENVIRONMENT_READY), is(False, "Creating"));
    assert_eq!(message(&p, ENVIRONMENT_READY), format!("environment {env} is CREATING"));
    assert!(pass.events.is_empty(), "no transition, no Event: {:?}", pass.events);

    h.dz.world().environments[0].info.status = EnvironmentStatus::Active;
    let pass = h.pass(&mut p).await;
    assert_eq!(
        pass.calls,
        ["ListEnvironments".to_string(), format!("CreateDataSource {DATA_SOURCE}")],
        "CreateDataSource: no look of its own first (unique names and the client token make it safe)"
    );
    assert_eq!(pass.events, strings(&["DataSourceCreated"]));
    assert_eq!(condition(&p, ENVIRONMENT_READY), is(True, "Active"));
    let ds = p.status.as_ref().and_then(|s| s.data_source_id.clone()).expect("data source in status");
    let created = h.dz.world().data_source(&ds).map(|d| d.token.clone());
    assert_eq!(created.as_deref(), Some("uid-orders-1"), "the client token derives from the UID and generation");

    let pass = h.pass(&mut p).await;
    assert_eq!(pass.calls, strings(&["ListDataSources"]), "WaitDataSource: followed in the shared listing");
    assert_eq!(condition(&p, DATA_SOURCE_READY), is(False, "Settling"));

    h.dz.world().edit(&ds, |d| d.status = DataSourceStatus::Ready);
    let pass = h.pass(&mut p).await;
    assert_eq!(pass.calls, ["ListDataSources".to_string(), format!("StartDataSourceRun {ds}")], "StartRun");
    assert_eq!(pass.events, strings(&["RunStarted"]));
    assert_eq!(condition(&p, DATA_SOURCE_READY), is(True, "Ready"));
    let run = p.status.as_ref().and_then(|s| s.last_run.clone()).expect("run in status");
    assert_eq!((run.status.as_str(), run.reason.as_deref(), run.generation), ("REQUESTED", Some("Initial"), Some(1)));

    let pass = h.pass(&mut p).await;
    assert_eq!(pass.calls, strings(&["ListDataSources"]), "WaitRun: the run followed in the listing");
    assert_eq!(condition(&p, PUBLISHED), is(False, "Running"));

    let done = [("orders", "SUCCEEDED_CREATED"), ("customers", "SUCCEEDED_CREATED"), ("v_orders", "SUCCEEDED_CREATED")];
    h.dz.world().finish_run(&run.id, RunStatus::Success, &done);
    let pass = h.pass(&mut p).await;
    assert_eq!(
        pass.calls,
        ["ListDataSources".to_string(), format!("ListDataSourceRunActivities {}", run.id)],
        "the run's end seen in the listing; its outcome from the activities, no GetDataSourceRun"
    );
    assert_eq!(pass.events, strings(&["RunSucceeded", "Ready"]));
    super::assert_resync(h, &pass);
    assert_eq!(condition(&p, READY), is(True, "Published"));
    assert_eq!(message(&p, READY), "3 assets published");
    assert_eq!(condition(&p, RECONCILING), None);
    let status = p.status.clone().unwrap_or_default();
    let last = status.last_run.clone().unwrap_or_default();
    assert_eq!((last.status.as_str(), last.assets.added), ("SUCCESS", 3));
    assert!(last.stopped_at.is_some(), "a run seen over in the listing gets the pass's time");
    let assets: Vec<(&str, &str, Option<&str>)> =
        status.assets.iter().map(|a| (a.schema.as_str(), a.name.as_str(), a.asset_id.as_deref())).collect();
    assert_eq!(
        assets,
        [
            ("public", "customers", Some("asset-customers")),
            ("public", "orders", Some("asset-orders")),
            ("public", "v_orders", Some("asset-v_orders"))
        ]
    );
    (p, ds)
}

#[tokio::test]
async fn a_first_publish_takes_every_step_and_the_steady_state_reads_only_the_listing() {
    let h = Harness::new();
    let (mut p, ds) = published(&h).await;
    let recorded = p.status.as_ref().and_then(|s| s.data_source_updated_at.clone());
    let now = h.dz.world().data_source(&ds).and_then(|d| d.info.updated_at.clone());
    assert!(recorded.is_some(), "the run's end recorded the data source as the listing showed it");
    assert_eq!(recorded, now, "the updatedAt the run moved it to, not the one read before the run");
    for _ in 0..3 {
        let pass = h.pass(&mut p).await;
        assert!(pass.calls.is_empty(), "unchanged in the project's listing (still fresh): {:?}", pass.calls);
        super::assert_resync(&h, &pass);
        assert!(!pass.wrote_status && pass.events.is_empty(), "nothing changed, nothing written");
        assert!(pass.reads.is_empty(), "connections come from the watches: {:?}", pass.reads);
    }
}

#[tokio::test(start_paused = true)]
async fn a_resync_reads_one_listing_and_only_what_moved_in_it() {
    // A short resync, so the listing is out of date by the next pass.
    let resync = Duration::from_millis(20);
    let h = Harness::paused(resync);
    let (mut p, ds) = published(&h).await;
    let next = || tokio::time::sleep(resync);
    next().await;
    let pass = h.pass(&mut p).await;
    assert_eq!(
        pass.calls,
        strings(&["ListDataSources"]),
        "the first resync: the run moved updatedAt, and status has it from the listing that showed the run over"
    );
    assert_eq!(condition(&p, READY), is(True, "Published"));
    next().await;
    let pass = h.pass(&mut p).await;
    assert_eq!(pass.calls, strings(&["ListDataSources"]), "the steady state: the project's listing");

    // Restarted: the first pass takes the new process's first listing at its word too.
    let restarted = h.restarted();
    let pass = restarted.pass(&mut p).await;
    assert!(
        !pass.calls.iter().any(|c| c.starts_with("GetDataSource ")),
        "no full read after a restart: {:?}",
        pass.calls
    );
    assert!(pass.calls.contains(&"ListDataSources".to_string()), "{:?}", pass.calls);
    assert_eq!(condition(&p, READY), is(True, "Published"));

    // Edited behind the operator's back: updatedAt moved, so it is read and put back.
    h.dz.world().edit(&ds, |d| d.config.as_mut().expect("configured").publish_on_import = false);
    next().await;
    let pass = h.pass(&mut p).await;
    assert_eq!(
        pass.calls,
        ["ListDataSources".to_string(), format!("GetDataSource {ds}"), format!("UpdateDataSource {ds}")],
        "drift found within one resync"
    );
    h.dz.world().edit(&ds, |d| d.status = DataSourceStatus::Ready);
    h.pass(&mut p).await;
    h.pass(&mut p).await;
    next().await;
    let pass = h.pass(&mut p).await;
    assert_eq!(pass.calls, strings(&["ListDataSources"]), "settled again: {:?}", pass.calls);

    // Deleted behind its back: missing from the listing, read, recreated.
    h.dz.world().data_sources.clear();
    next().await;
    let pass = h.pass(&mut p).await;
    assert_eq!(pass.calls[..2], ["ListDataSources".to_string(), format!("GetDataSource {ds}")]);
    assert!(pass.calls.last().is_some_and(|c| c.starts_with("CreateDataSource")), "{:?}", pass.calls);
    assert!(pass.events.contains(&"DataSourceMissing".to_string()), "{:?}", pass.events);
}

#[tokio::test(start_paused = true)]
async fn a_resync_waits_while_the_pace_is_saturated_and_a_requested_run_does_not() {
    let resync = Duration::from_millis(20);
    let h = Harness::paused(resync);
    let (mut p, ds) = published(&h).await;
    // Edited behind the operator's back while a fleet keeps the account's pace busy.
    h.dz.world().edit(&ds, |d| d.config.as_mut().expect("configured").publish_on_import = false);
    h.dz.world().saturated = true;
    let before = p.status.clone();
    for _ in 0..3 {
        tokio::time::sleep(resync).await;
        let pass = h.pass(&mut p).await;
        assert_eq!(pass.calls, strings(&[]), "a resync makes no call while DataZone calls queue");
        assert_resync(&h, &pass);
    }
    assert_eq!(p.status, before, "status is left as it was");

    // The work drains: the next resync finds the edit and puts it back.
    h.dz.world().saturated = false;
    tokio::time::sleep(resync).await;
    let pass = h.pass(&mut p).await;
    assert_eq!(
        pass.calls,
        ["ListDataSources".to_string(), format!("GetDataSource {ds}"), format!("UpdateDataSource {ds}")],
        "the drift is repaired at the first resync once the pace is no longer saturated"
    );
    h.dz.world().edit(&ds, |d| d.status = DataSourceStatus::Ready);
    for _ in 0..3 {
        h.pass(&mut p).await;
        tokio::time::sleep(resync).await;
    }

    // A run asked for is no resync: it goes, however busy the pace.
    h.dz.world().saturated = true;
    assert_eq!(h.pass(&mut p).await.calls, strings(&[]), "settled again, and held back");
    p.metadata.annotations = Some([(RECONCILE_REQUESTED_AT.to_string(), "2026-12-06T12:00:00Z".to_string())].into());
    let pass = h.pass(&mut p).await;
    assert!(pass.calls.iter().any(|c| c.starts_with("StartDataSourceRun")), "{:?}", pass.calls);
}

#[tokio::test(start_paused = true)]
async fn a_resync_held_back_for_half_an_hour_goes_however_busy_the_pace() {
    let resync = Duration::from_millis(20);
    let h = Harness::paused(resync);
    let (mut p, _) = published(&h).await;
    h.dz.world().saturated = true;
    tokio::time::sleep(resync).await;
    assert_eq!(h.pass(&mut p).await.calls, strings(&[]), "held back");
    tokio::time::sleep(crate::controller::fleet::held_resyncs::HELD_AT_MOST).await;
    let pass = h.pass(&mut p).await;
    assert!(pass.calls.contains(&"ListDataSources".to_string()), "it looks after all: {:?}", pass.calls);
    tokio::time::sleep(resync).await;
    assert_eq!(h.pass(&mut p).await.calls, strings(&[]), "and is held back again from then on");
}

/// DataZone goes along: environments become ACTIVE, data sources being created READY.
fn settle_shared_objects(h: &Harness) {
    let mut world = h.dz.world();
    world.environments.iter_mut().for_each(|e| e.info.status = EnvironmentStatus::Active);
    let creating: Vec<String> = world
        .data_sources
        .iter()
        .filter(|d| d.info.status == DataSourceStatus::Creating)
        .map(|d| d.info.id.clone())
        .collect();
    creating.iter().for_each(|ds| world.edit(ds, |d| d.status = DataSourceStatus::Ready));
}

/// Passes over `p` until it is Ready and its data source's `updatedAt` recorded, as DataZone
/// would go along: its data source becomes READY, its runs succeed.
pub(super) async fn settle(h: &Harness, p: &mut RedshiftDataProduct) -> String {
    for _ in 0..20 {
        h.pass(p).await;
        let status = p.status.clone().unwrap_or_default();
        if condition(p, READY) == is(True, "Published") && status.data_source_updated_at.is_some() {
            return status.data_source_id.expect("data source in status");
        }
        settle_shared_objects(h);
        let mut world = h.dz.world();
        let active: Vec<String> =
            world.runs.iter().filter(|(_, r)| !r.status.is_terminal()).map(|(id, _)| id.clone()).collect();
        for run in active {
            world.finish_run(&run, RunStatus::Success, &[("customers", "SUCCEEDED_CREATED")]);
        }
    }
    panic!("{} never settled: {:?}", p.metadata.name.as_deref().unwrap_or_default(), p.status);
}

#[tokio::test(start_paused = true)]
async fn drift_in_a_listing_another_data_product_took_wakes_its_owner_at_once() {
    let resync = Duration::from_millis(20);
    let h = Harness::paused(resync);
    let mut woken = h.ctx.wakeups.subscribe(None);
    let (mut orders, ds) = published(&h).await;
    let mut customers = h.product("customers", |p| {
        p["spec"]["schemas"] = serde_json::json!([{"name": "public", "tables": ["customers"]}]);
    });
    let customers_ds = settle(&h, &mut customers).await;
    h.pass(&mut orders).await;
    let next = || tokio::time::sleep(resync);
    next().await;
    assert_eq!(h.pass(&mut orders).await.calls, strings(&["ListDataSources"]), "orders: settled, in the listing");
    assert!(woken.try_recv().is_err(), "nothing moved, nobody woken");

    // Edited behind the operator's back; the next listing, taken at customers' resync, shows it.
    h.dz.world().edit(&ds, |d| d.config.as_mut().expect("configured").publish_on_import = false);
    next().await;
    assert_eq!(h.pass(&mut customers).await.calls, strings(&["ListDataSources"]));
    let wake = woken.try_recv().expect("orders woken");
    assert_eq!((wake.name.as_str(), wake.namespace.as_deref()), ("orders", Some(super::NS)));
    assert!(woken.try_recv().is_err(), "only the one that moved");
    let pass = h.pass(&mut orders).await;
    assert_eq!(
        pass.calls[pass.calls.len() - 2..],
        [format!("GetDataSource {ds}"), format!("UpdateDataSource {ds}")],
        "the woken pass reads it and puts it back: {:?}",
        pass.calls
    );

    // Deleted behind its back: missing from the next listing, whoever takes it.
    h.dz.world().data_sources.retain(|d| d.info.id != customers_ds);
    next().await;
    h.pass(&mut orders).await;
    let wake = woken.try_recv().expect("customers woken");
    assert_eq!(wake.name, "customers");
    assert_eq!(h.ctx.wakeups.watching(), 1, "orders follows its update in the listing; customers, woken, stopped");
}

#[tokio::test]
async fn a_run_seen_over_in_a_listing_wakes_the_data_product_waiting_for_it() {
    let h = Harness::new();
    let mut woken = h.ctx.wakeups.subscribe(None);
    let mut orders = h.product("orders", |_| {});
    let mut customers = h.product("customers", |p| {
        p["spec"]["schemas"] = serde_json::json!([{"name": "public", "tables": ["customers"]}]);
    });
    // Both as far as waiting for their first run.
    for _ in 0..12 {
        for p in [&mut orders, &mut customers] {
            h.pass(p).await;
            settle_shared_objects(&h);
        }
    }
    let run = |p: &RedshiftDataProduct| p.status.as_ref().and_then(|s| s.last_run.clone()).expect("a run");
    assert_eq!(condition(&orders, PUBLISHED), is(False, "Running"));
    assert_eq!(condition(&customers, PUBLISHED), is(False, "Running"));
    // (Each woke the other while they were being set up; that is over.)
    while woken.try_recv().is_ok() {}
    h.pass(&mut orders).await;
    h.pass(&mut customers).await;
    assert!(woken.try_recv().is_err(), "nothing moved since they looked");

    let done = [("orders", "SUCCEEDED_CREATED"), ("customers", "SUCCEEDED_CREATED"), ("v_orders", "SUCCEEDED_CREATED")];
    h.dz.world().finish_run(&run(&orders).id, RunStatus::Success, &done);
    assert_eq!(h.pass(&mut customers).await.calls, strings(&["ListDataSources"]), "customers still waits");
    let wake = woken.try_recv().expect("orders woken by the listing customers took");
    assert_eq!(wake.name, "orders");
    assert!(woken.try_recv().is_err());
    let pass = h.pass(&mut orders).await;
    assert_eq!(pass.events, strings(&["RunSucceeded", "Ready"]), "{:?}", pass.calls);
}

/// Passes over `p` (DataZone going along) until it has created its data source.
async fn until_created(h: &Harness, p: &mut RedshiftDataProduct) -> String {
    for _ in 0..40 {
        h.pass(p).await;
        if let Some(ds) = p.status.as_ref().and_then(|s| s.data_source_id.clone()) {
            return ds;
        }
        h.dz.world().environments.iter_mut().for_each(|e| e.info.status = EnvironmentStatus::Active);
        // A just-created environment is trusted for a poll.
        tokio::time::sleep(h.ctx.poll / 4).await;
    }
    panic!("no data source created: {:?}", p.status);
}

#[tokio::test]
async fn a_data_product_that_wrote_after_the_latest_listing_waits_for_the_next_one() {
    let poll = Duration::from_millis(800);
    let h = Harness::with_timing(super::RESYNC, poll);
    let mut woken = h.ctx.wakeups.subscribe(None);
    let mut orders = h.product("orders", |_| {});
    let mut customers = h.product("customers", |p| {
        p["spec"]["schemas"] = serde_json::json!([{"name": "public", "tables": ["customers"]}]);
    });
    until_created(&h, &mut orders).await;
    assert_eq!(h.pass(&mut orders).await.calls, strings(&["ListDataSources"]), "orders follows its data source");
    until_created(&h, &mut customers).await;

    // customers wrote after that listing, which is younger than the project's listings come:
    // it waits for the next one instead of listing the project again.
    let pass = h.pass(&mut customers).await;
    assert!(pass.calls.is_empty(), "no call while the next listing is to come: {:?}", pass.calls);
    let back = super::requeue_after(&pass.requeue());
    assert!(back.is_some_and(|d| d > Duration::ZERO && d < poll), "back when the next listing is due: {back:?}");
    assert_eq!(condition(&customers, DATA_SOURCE_READY), is(False, "Settling"));
    assert!(
        message(&customers, DATA_SOURCE_READY).contains("next listing"),
        "{}",
        message(&customers, DATA_SOURCE_READY)
    );
    assert!(woken.try_recv().is_err());

    // The next listing, whoever takes it, wakes it; its pass reads that listing, not its own.
    tokio::time::sleep(poll).await;
    assert_eq!(h.pass(&mut orders).await.calls, strings(&["ListDataSources"]));
    assert_eq!(woken.try_recv().ok().map(|o| o.name), Some("customers".to_string()));
    let pass = h.pass(&mut customers).await;
    assert!(!pass.calls.contains(&"ListDataSources".to_string()), "{:?}", pass.calls);
}

#[tokio::test(start_paused = true)]
async fn a_settled_data_product_reads_its_data_source_in_full_once_a_day_in_its_own_slot() {
    let h = Harness::paused(RESYNC);
    let (mut p, ds) = published(&h).await;
    // An edit the listing cannot show: made before the listing that recorded the run's end.
    let day = crate::controller::fleet::full_reads::FULL_READ_EVERY;
    let (mut full, mut listed) = (0, 0);
    let resyncs = day.as_secs() / RESYNC.as_secs() + 1;
    for _ in 0..resyncs {
        next_listing(&h).await;
        let pass = h.pass(&mut p).await;
        full += pass.calls.iter().filter(|c| **c == format!("GetDataSource {ds}")).count();
        listed += pass.calls.iter().filter(|c| *c == "ListDataSources").count();
        assert_eq!(condition(&p, READY), is(True, "Published"));
    }
    assert_eq!(full, 1, "one full read in a day of {resyncs} resyncs, in this data product's slot");
    assert_eq!(listed, resyncs as usize - full, "every other resync takes the project's listing");
}

#[tokio::test(start_paused = true)]
async fn a_data_source_it_wrote_is_read_in_full_a_day_after_the_write_not_before() {
    let h = Harness::paused(RESYNC);
    let (mut p, ds) = published(&h).await;
    // Its slot in the day may pass while a fleet of thousands publishes; the configuration it
    // wrote is as good as a full read, so its first resyncs take the listing's word.
    let day = crate::controller::fleet::full_reads::FULL_READ_EVERY;
    let hour = Duration::from_secs(3600);
    tokio::time::advance(day - hour).await;
    next_listing(&h).await;
    let pass = h.pass(&mut p).await;
    assert!(!pass.calls.contains(&format!("GetDataSource {ds}")), "within a day of its write: {:?}", pass.calls);
    tokio::time::advance(hour).await;
    next_listing(&h).await;
    let pass = h.pass(&mut p).await;
    assert!(pass.calls.contains(&format!("GetDataSource {ds}")), "a day after it: {:?}", pass.calls);
}

#[tokio::test(start_paused = true)]
async fn a_run_end_seen_by_reading_the_run_is_taken_from_the_listing_not_read_in_full() {
    let h = Harness::paused(RESYNC);
    let (mut p, ds) = published(&h).await;
    // As a data product in a project of thousands has it: its run's end read from the run itself
    // (no listing for a few), so status records the run's `stoppedAt` and the `updatedAt` from
    // before the run (any time before it), which the run's end moved.
    let moved = h.dz.world().data_source(&ds).and_then(|d| d.info.updated_at.clone());
    let status = p.status.as_mut().expect("status");
    status.data_source_updated_at = Some("2026-12-01T09:59:00Z".into());
    status.last_run.as_mut().expect("a run").stopped_at = moved.clone();
    next_listing(&h).await;
    let pass = h.pass(&mut p).await;
    assert!(pass.calls.contains(&"ListDataSources".to_string()), "{:?}", pass.calls);
    assert!(!pass.calls.contains(&format!("GetDataSource {ds}")), "moved by its run only: no full read");
    assert_eq!(p.status.as_ref().and_then(|s| s.data_source_updated_at.clone()), moved, "recorded");
    assert_eq!(condition(&p, READY), is(True, "Published"));

    // Nothing recorded at all (its data source seen made in a listing too): the run's end alone does
    // not bound it, as a failed run's or one seen while its data source was not READY is the pass's
    // time, not DataZone's. Read in full.
    let status = p.status.as_mut().expect("status");
    status.data_source_updated_at = None;
    next_listing(&h).await;
    let pass = h.pass(&mut p).await;
    assert!(pass.calls.contains(&format!("GetDataSource {ds}")), "nothing recorded: {:?}", pass.calls);
    assert_eq!(p.status.as_ref().and_then(|s| s.data_source_updated_at.clone()), moved, "recorded");

    // An edit after the run's end moves it later than that: read in full.
    let status = p.status.as_mut().expect("status");
    status.data_source_updated_at = Some("2026-12-01T09:59:00Z".into());
    h.dz.world().edit(&ds, |d| d.description = Some("edited by hand".into()));
    next_listing(&h).await;
    let pass = h.pass(&mut p).await;
    assert!(pass.calls.contains(&format!("GetDataSource {ds}")), "{:?}", pass.calls);
}

#[tokio::test(start_paused = true)]
async fn drift_is_put_back_with_one_update_and_no_run() {
    let h = Harness::paused(MINUTE);
    let (mut p, ds) = published(&h).await;
    h.dz.world().edit(&ds, |d| d.config.as_mut().expect("configured").publish_on_import = false);
    next_listing(&h).await;
    let pass = h.pass(&mut p).await;
    assert_eq!(
        pass.calls,
        ["ListDataSources".to_string(), format!("GetDataSource {ds}"), format!("UpdateDataSource {ds}")],
        "the edit moved updatedAt in the next listing: read in full, then UpdateDataSource"
    );
    assert_eq!(pass.events, strings(&["DataSourceUpdated", "ReadyFalse", "DataSourceReadyFalse"]));
    assert_eq!(condition(&p, DATA_SOURCE_READY), is(False, "Updating"));
    assert!(h.dz.world().data_source(&ds).and_then(|d| d.info.config.as_ref()).is_some_and(|c| c.publish_on_import));

    h.dz.world().edit(&ds, |d| d.status = DataSourceStatus::Ready);
    let pass = h.pass(&mut p).await;
    assert_eq!(pass.calls, strings(&["ListDataSources"]), "the update followed in the listing");
    assert_eq!(condition(&p, READY), is(True, "Published"), "the same configuration needs no new run");
}

#[tokio::test]
async fn a_spec_change_updates_the_data_source_and_runs_it_again() {
    let h = Harness::new();
    let (mut p, ds) = published(&h).await;
    p.spec.schemas[0].tables.push("returns".into());
    p.metadata.generation = Some(2);
    let pass = h.pass(&mut p).await;
    assert_eq!(pass.calls, [format!("GetDataSource {ds}"), format!("UpdateDataSource {ds}")]);
    assert_eq!(condition(&p, READY), is(False, "Updating"));

    h.dz.world().edit(&ds, |d| d.status = DataSourceStatus::Ready);
    let pass = h.pass(&mut p).await;
    assert_eq!(pass.calls, ["ListDataSources".to_string(), format!("StartDataSourceRun {ds}")]);
    let run = p.status.as_ref().and_then(|s| s.last_run.clone()).unwrap_or_default();
    assert_eq!((run.reason.as_deref(), run.generation), (Some("ConfigChanged"), Some(2)));
}

#[tokio::test(start_paused = true)]
async fn a_data_source_deleted_outside_is_recreated() {
    let h = Harness::paused(MINUTE);
    let (mut p, ds) = published(&h).await;
    h.dz.world().data_sources.clear();
    next_listing(&h).await;
    let pass = h.pass(&mut p).await;
    assert_eq!(
        pass.calls,
        [
            "ListDataSources".to_string(),
            format!("GetDataSource {ds}"),
            "GetEnvironmentBlueprintConfiguration bp_dwh".into(),
            "ListEnvironmentProfiles dwh-222222222222-eu-central-1-prod-dwh".into(),
            "ListEnvironments".into(),
            format!("CreateDataSource {DATA_SOURCE}")
        ],
        "a resync on, the shared objects (trusted for a resync) are looked up again; created again at once (a taken name would be found then)"
    );
    assert_eq!(
        pass.events,
        strings(&["DataSourceMissing", "DataSourceRecreated", "ReadyFalse", "DataSourceReadyFalse"])
    );
    let status = p.status.clone().unwrap_or_default();
    assert_ne!(status.data_source_id.as_deref(), Some(ds.as_str()));
    assert_eq!(status.last_run, None, "a new data source has no runs yet");
}

#[tokio::test]
async fn the_reconcile_request_annotation_starts_one_run_and_is_echoed() {
    let h = Harness::new();
    let (mut p, ds) = published(&h).await;
    p.metadata.annotations = Some([(RECONCILE_REQUESTED_AT.to_string(), "2026-12-01T12:00:00Z".to_string())].into());
    let pass = h.pass(&mut p).await;
    assert_eq!(pass.calls, [format!("StartDataSourceRun {ds}")], "unchanged in the listing: no read first");
    let status = p.status.clone().unwrap_or_default();
    assert_eq!(status.last_handled_reconcile_at.as_deref(), Some("2026-12-01T12:00:00Z"));
    assert_eq!(status.last_run.as_ref().and_then(|r| r.reason.as_deref()), Some("Requested"));
    let run = status.last_run.unwrap_or_default().id;
    h.dz.world().finish_run(&run, RunStatus::Success, &[("orders", "UNCHANGED")]);
    h.pass(&mut p).await;
    let pass = h.pass(&mut p).await;
    assert!(pass.calls.is_empty(), "handled once, not again: {:?}", pass.calls);
}

#[tokio::test]
async fn a_partly_failed_run_names_its_objects_retries_then_gives_up() {
    let h = Harness::new();
    let (mut p, ds) = published(&h).await;
    p.metadata.annotations = Some([(RECONCILE_REQUESTED_AT.to_string(), "t1".to_string())].into());
    h.pass(&mut p).await;
    let run = p.status.as_ref().and_then(|s| s.last_run.clone()).unwrap_or_default().id;
    h.dz.world().finish_run(&run, RunStatus::PartiallySucceeded, &[("orders", "UNCHANGED"), ("gone", "FAILED")]);
    let pass = h.pass(&mut p).await;
    assert_eq!(pass.events, strings(&["RunFailed"]), "Published was already False while the run ran");
    assert_eq!(condition(&p, PUBLISHED), is(False, "PartiallySucceeded"));
    assert!(message(&p, PUBLISHED).contains("failed: gone"), "{}", message(&p, PUBLISHED));
    assert_eq!(condition(&p, STALLED), is(True, "PartiallySucceeded"));
    assert_eq!(pass.requeue(), Action::requeue(Duration::from_secs(120)), "looked at again when the retry is due");
    let status = p.status.clone().unwrap_or_default();
    assert_eq!(status.consecutive_run_failures, Some(1));
    assert_eq!(status.assets.first().map(|a| a.name.as_str()), Some("gone"), "failed objects first");

    // The retry is not due yet: nothing is started.
    let pass = h.pass(&mut p).await;
    assert!(pass.calls.is_empty(), "{:?}", pass.calls);

    // Its backoff has passed: a retry run.
    if let Some(r) = p.status.as_mut().and_then(|s| s.last_run.as_mut()) {
        r.stopped_at = Some("2020-01-01T00:00:00Z".into());
    }
    let pass = h.pass(&mut p).await;
    assert_eq!(pass.calls, [format!("StartDataSourceRun {ds}")], "StartRun(Retry), unchanged in the fresh listing");
    let retry = p.status.as_ref().and_then(|s| s.last_run.clone()).unwrap_or_default();
    assert_eq!(retry.reason.as_deref(), Some("Retry"));
    assert_ne!(retry.id, run, "a retry has a token of its own");

    // Three failures in a row: given up until a person acts.
    h.dz.world().finish_run(&retry.id, RunStatus::Failed, &[("gone", "FAILED")]);
    h.pass(&mut p).await;
    if let Some(s) = p.status.as_mut() {
        s.consecutive_run_failures = Some(3);
        if let Some(r) = s.last_run.as_mut() {
            r.stopped_at = Some("2020-01-01T00:00:00Z".into());
        }
    }
    let pass = h.pass(&mut p).await;
    assert_eq!(pass.calls, [format!("GetDataSource {ds}")], "RunGaveUp: no run");
    assert_eq!(condition(&p, PUBLISHED), is(False, "RunFailed"));
    assert!(message(&p, PUBLISHED).contains(RECONCILE_REQUESTED_AT), "{}", message(&p, PUBLISHED));
    super::assert_resync(&h, &pass);
}

#[tokio::test(start_paused = true)]
async fn a_data_source_of_our_name_made_by_someone_else_is_left_alone() {
    let h = Harness::paused(MINUTE);
    let (mut p, ds) = published(&h).await;
    h.dz.world().edit(&ds, |d| d.description = Some("made by hand".into()));
    next_listing(&h).await;
    let pass = h.pass(&mut p).await;
    assert_eq!(pass.calls, ["ListDataSources".to_string(), format!("GetDataSource {ds}")], "NotOurs: no mutating call");
    assert_eq!(condition(&p, DATA_SOURCE_READY), is(False, "NameTaken"));
    assert_eq!(condition(&p, STALLED), is(True, "NameTaken"));
    assert_eq!(pass.requeue(), Action::requeue(TERMINAL_RETRY));
}

#[tokio::test]
async fn failed_environments_and_data_sources_stall_with_their_reason() {
    let h = Harness::new();
    h.dz.world().new_environment_status = EnvironmentStatus::CreateFailed;
    let mut p = h.product("orders", |_| {});
    for _ in 0..3 {
        h.pass(&mut p).await;
    }
    h.dz.world().environments[0].info.failure = Some("the VPC has no subnets".into());
    let pass = h.pass(&mut p).await;
    assert_eq!(condition(&p, ENVIRONMENT_READY), is(False, "EnvironmentFailed"));
    assert_eq!(message(&p, ENVIRONMENT_READY), "the VPC has no subnets");
    assert_eq!(condition(&p, STALLED), is(True, "EnvironmentFailed"));
    assert_eq!(pass.requeue(), Action::requeue(TERMINAL_RETRY));

    h.dz.world().environments[0].info.status = EnvironmentStatus::Active;
    h.pass(&mut p).await;
    let ds = p.status.as_ref().and_then(|s| s.data_source_id.clone()).expect("created");
    {
        h.dz.world().edit(&ds, |d| {
            d.status = DataSourceStatus::FailedCreation;
            d.error = Some("secret not readable".into());
        });
    }
    let pass = h.pass(&mut p).await;
    assert_eq!(
        pass.calls,
        strings(&["ListDataSources", &format!("GetDataSource {ds}")]),
        "a failed one is read for its error"
    );
    assert_eq!(condition(&p, DATA_SOURCE_READY), is(False, "DataSourceFailed"));
    assert_eq!(message(&p, DATA_SOURCE_READY), "secret not readable");
    assert_eq!(pass.requeue(), Action::requeue(TERMINAL_RETRY));
}

/// `--concurrency` bounds the passes under way in all, not per watched scope: a pass waits
/// while the others hold every slot, and goes on when one is free.
#[tokio::test]
async fn a_pass_waits_while_every_slot_is_taken() {
    let h = Harness::new();
    let mut p = h.product("orders", |_| {});
    let taken = h.ctx.passes.enter(0).await;
    let waiting = tokio::time::timeout(Duration::from_millis(200), h.pass(&mut p)).await;
    assert!(waiting.is_err(), "no slot, no pass");
    assert!(h.dz.take_calls().is_empty(), "nothing called DataZone");
    drop(taken);
    let pass = h.pass(&mut p).await;
    assert!(pass.calls.iter().any(|c| c.starts_with("ListDomains")), "{:?}", pass.calls);
}

#[tokio::test]
async fn a_connection_without_producer_roles_stalls_a_v1_data_product_before_enabling_anything() {
    let h = Harness::new().with_connection(|spec| {
        spec.as_object_mut().map(|o| o.remove("producer"));
    });
    let mut p = h.product("orders", |_| {});
    let pass = h.pass(&mut p).await;
    assert!(!pass.calls.iter().any(|c| c.starts_with("PutEnvironmentBlueprintConfiguration")), "{:?}", pass.calls);
    assert_eq!(condition(&p, BLUEPRINT_ENABLED), is(False, "NoProducerRoles"));
    assert_eq!(condition(&p, STALLED), is(True, "NoProducerRoles"));
    assert!(message(&p, BLUEPRINT_ENABLED).contains("names no producer roles (spec.producer)"));
}

#[tokio::test]
async fn the_domains_last_environment_taken_stalls_the_data_product_naming_the_quota_without_a_retry_loop() {
    use crate::datazone::ErrorClass;
    let h = Harness::new();
    let mut p = h.product("orders", |_| {});
    h.pass(&mut p).await; // enables the blueprint
    h.pass(&mut p).await; // the profile
    h.dz.fail_next(
        "CreateEnvironment",
        ErrorClass::Terminal,
        "ServiceQuotaExceededException",
        "Domain dzd_fake has reached the limit of 500 environments per domain",
    );
    let pass = h.pass(&mut p).await;
    assert_eq!(condition(&p, ENVIRONMENT_READY), is(False, "EnvironmentQuotaExceeded"));
    assert_eq!(condition(&p, STALLED), is(True, "EnvironmentQuotaExceeded"));
    let said = message(&p, ENVIRONMENT_READY);
    assert!(said.contains("domain dzd_fake holds as many environments as DataZone allows"), "{said}");
    assert_eq!(pass.requeue(), Action::requeue(TERMINAL_RETRY), "looked at again in ten minutes, not retried");
    // Another data product of the domain that needs an environment of its own (another database)
    // is told the same without asking DataZone: a plant of a thousand does not ask a thousand times.
    let mut other = h.product("campaigns", |v| v["spec"]["redshift"]["database"] = serde_json::json!("marketing"));
    let mut creates = 0;
    for _ in 0..3 {
        let pass = h.pass(&mut other).await;
        creates += pass.calls.iter().filter(|c| c.split(' ').next() == Some("CreateEnvironment")).count();
    }
    assert_eq!(condition(&other, ENVIRONMENT_READY), is(False, "EnvironmentQuotaExceeded"));
    assert_eq!(creates, 0, "the domain's refusal is remembered for ten minutes");
}
