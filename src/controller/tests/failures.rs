//! Passes that stop short: terminal errors (a clear reason, Stalled, no hot loop), retryable
//! ones (per-object backoff), throttling (every data product of the connection held back), the
//! run quota, a connection that does not admit the namespace, and a create that loses a race.

use std::time::Duration;

use kube::runtime::controller::Action;
use serde_json::json;

use super::steps::published;
use super::{Harness, condition, is, message, strings};
use crate::controller::decide::pass::{QUOTA_RETRY, TERMINAL_RETRY};
use crate::crd::conditions::{
    CONNECTION_RESOLVED, ConditionStatus::False, ConditionStatus::True, DATA_SOURCE_READY, PUBLISHED, READY,
    RECONCILING, STALLED,
};
use crate::crd::{RECONCILE_REQUESTED_AT, RedshiftDataProduct};
use crate::datazone::fake::Source;
use crate::datazone::{DataSourceInfo, DataSourceStatus, ErrorClass};

fn requeue_within(pass: &super::Pass, low: Duration, high: Duration) {
    let after = super::requeue_after(&pass.requeue());
    assert!(after.is_some_and(|d| d >= low && d <= high), "requeue {after:?} not within {low:?}..={high:?}");
}

#[tokio::test]
async fn an_unknown_project_is_terminal_and_named() {
    let h = Harness::new();
    let mut p = h.product("orders", |o| o["spec"]["project"] = json!("nope"));
    let pass = h.pass(&mut p).await;
    assert_eq!(
        pass.calls,
        strings(&["AssumeRole arn:aws:iam::111111111111:role/dz-registration", "ListDomains", "ListProjects nope"])
    );
    assert_eq!(condition(&p, CONNECTION_RESOLVED), is(False, "ProjectNotFound"));
    assert!(message(&p, CONNECTION_RESOLVED).contains("no DataZone project nope in domain dzd_fake"));
    assert_eq!(condition(&p, STALLED), is(True, "ProjectNotFound"));
    assert_eq!(condition(&p, READY), is(False, "ProjectNotFound"));
    assert_eq!(pass.events, strings(&["ConnectionResolvedFalse", "ReadyFalse"]));
    assert_eq!(pass.requeue(), Action::requeue(TERMINAL_RETRY));
}

#[tokio::test]
async fn a_role_that_cannot_be_assumed_is_terminal() {
    let h = Harness::new();
    h.dz.fail_next("AssumeRole", ErrorClass::Terminal, "AccessDenied", "not trusted");
    let mut p = h.product("orders", |_| {});
    let pass = h.pass(&mut p).await;
    assert_eq!(pass.calls, strings(&["AssumeRole arn:aws:iam::111111111111:role/dz-registration"]));
    assert_eq!(condition(&p, CONNECTION_RESOLVED), is(False, "RoleNotAssumable"));
    assert!(message(&p, CONNECTION_RESOLVED).contains("not trusted"));
    assert_eq!(pass.requeue(), Action::requeue(TERMINAL_RETRY));
}

#[tokio::test]
async fn a_missing_connection_makes_no_cloud_call() {
    let h = Harness::new();
    let mut p = h.product("orders", |o| o["spec"]["connectionRef"]["name"] = json!("missing"));
    let pass = h.pass(&mut p).await;
    assert!(pass.calls.is_empty(), "{:?}", pass.calls);
    assert_eq!(condition(&p, CONNECTION_RESOLVED), is(False, "ConnectionNotFound"));
    assert_eq!(message(&p, CONNECTION_RESOLVED), "DataZoneConnection team-sales/missing does not exist");
    assert_eq!(pass.requeue(), Action::requeue(TERMINAL_RETRY));
}

#[tokio::test]
async fn a_cluster_connection_admits_only_the_namespaces_it_selects() {
    let cluster_ref = |o: &mut serde_json::Value| {
        o["spec"]["connectionRef"] = json!({"kind": "ClusterDataZoneConnection", "name": "corp-mesh"})
    };
    let h = Harness::new().with_cluster_connection(Some(json!({"team": "ops"})));
    let mut p = h.product("orders", cluster_ref);
    let pass = h.pass(&mut p).await;
    assert!(pass.calls.is_empty(), "a refused namespace gets no cloud call: {:?}", pass.calls);
    assert_eq!(condition(&p, CONNECTION_RESOLVED), is(False, "ConnectionNotAllowed"));
    assert_eq!(condition(&p, STALLED), is(True, "ConnectionNotAllowed"));

    let h = Harness::new().with_cluster_connection(Some(json!({"team": "sales"})));
    let mut p = h.product("orders", cluster_ref);
    h.pass(&mut p).await;
    assert_eq!(condition(&p, CONNECTION_RESOLVED), is(True, "Resolved"));

    // A namespace the watch has not brought yet is retried soon, not refused for ten minutes.
    let h = Harness::new().with_cluster_connection(None);
    let mut p = h.product("orders", cluster_ref);
    let pass = h.pass(&mut p).await;
    assert!(pass.calls.is_empty(), "{:?}", pass.calls);
    assert_eq!(condition(&p, CONNECTION_RESOLVED), is(False, "NamespaceUnknown"));
    requeue_within(&pass, Duration::from_millis(1600), Duration::from_millis(2400));
}

#[tokio::test]
async fn a_connection_deleted_later_is_reported_from_the_watch() {
    let h = Harness::new();
    let (mut p, _) = published(&h).await;
    let h = h.without_connection();
    let pass = h.pass(&mut p).await;
    assert!(pass.calls.is_empty(), "the connection is read from the watch, not the cloud: {:?}", pass.calls);
    assert_eq!(condition(&p, CONNECTION_RESOLVED), is(False, "ConnectionNotFound"));
    assert!(pass.reads.is_empty(), "no API server read per pass: {:?}", pass.reads);
}

#[tokio::test]
async fn server_errors_back_off_per_object_and_success_resets_it() {
    let h = Harness::new();
    let (mut p, ds) = published(&h).await;
    // Its status records no updatedAt (written by an older version, say): read in full.
    forget_updated_at(&mut p);
    for (n, (low, high)) in [(1600, 2400), (3200, 4800)].into_iter().enumerate() {
        h.dz.fail_next("GetDataSource", ErrorClass::Retryable, "InternalServerException", "try later");
        let pass = h.pass(&mut p).await;
        assert_eq!(pass.calls, [format!("GetDataSource {ds}")]);
        requeue_within(&pass, Duration::from_millis(low), Duration::from_millis(high));
        assert_eq!(condition(&p, DATA_SOURCE_READY), is(False, "ServiceUnavailable"), "failure {n}");
        assert_eq!(condition(&p, RECONCILING), is(True, "ServiceUnavailable"), "retried, not stalled");
    }
    let pass = h.pass(&mut p).await;
    assert_eq!(condition(&p, READY), is(True, "Published"));
    super::assert_resync(&h, &pass);
    // After a success the backoff starts over.
    h.dz.fail_next("GetDataSource", ErrorClass::Retryable, "InternalServerException", "again");
    forget_updated_at(&mut p);
    let pass = h.pass(&mut p).await;
    assert_eq!(pass.calls, [format!("GetDataSource {ds}")]);
    requeue_within(&pass, Duration::from_millis(1600), Duration::from_millis(2400));
}

#[tokio::test]
async fn throttling_backs_off_the_data_product_refused_and_holds_back_no_other() {
    let h = Harness::new();
    let (mut p, ds) = published(&h).await;
    forget_updated_at(&mut p);
    let mut other = h.product("customers", |_| {});
    h.dz.fail_next("GetDataSource", ErrorClass::Throttled, "ThrottlingException", "Rate exceeded");
    let pass = h.pass(&mut p).await;
    assert_eq!(pass.calls, [format!("GetDataSource {ds}")]);
    assert_eq!(condition(&p, DATA_SOURCE_READY), is(False, "Throttled"));
    requeue_within(&pass, Duration::from_millis(1600), Duration::from_millis(2400));
    // Throttled again and again, it comes back as soon: the pace slows its calls, not a backoff.
    for _ in 0..4 {
        forget_updated_at(&mut p);
        h.dz.fail_next("GetDataSource", ErrorClass::Throttled, "ThrottlingException", "Rate exceeded");
        let pass = h.pass(&mut p).await;
        requeue_within(&pass, Duration::from_millis(1600), Duration::from_millis(2400));
    }
    // The calls are paced per operation; the next data product goes on with its own.
    let pass = h.pass(&mut other).await;
    assert!(!pass.calls.is_empty(), "the other data product makes its calls");
    assert!(pass.wrote_status, "and records them");
}

#[tokio::test]
async fn an_exhausted_run_quota_is_a_condition_retried_in_an_hour() {
    let h = Harness::new();
    let (mut p, ds) = published(&h).await;
    p.metadata.annotations = Some([(RECONCILE_REQUESTED_AT.to_string(), "t1".to_string())].into());
    h.dz.fail_next("StartDataSourceRun", ErrorClass::Terminal, "ServiceQuotaExceededException", "25 runs a day");
    let pass = h.pass(&mut p).await;
    assert_eq!(pass.calls, [format!("StartDataSourceRun {ds}")]);
    assert_eq!(condition(&p, PUBLISHED), is(False, "RunQuotaExceeded"));
    assert!(message(&p, PUBLISHED).contains("25 runs a day"));
    assert_eq!(condition(&p, STALLED), is(True, "RunQuotaExceeded"));
    assert_eq!(pass.requeue(), Action::requeue(QUOTA_RETRY));
}

#[tokio::test]
async fn a_data_source_deleted_just_before_its_run_starts_is_made_again_on_the_next_pass() {
    let h = Harness::new();
    let (mut p, ds) = published(&h).await;
    p.metadata.annotations = Some([(RECONCILE_REQUESTED_AT.to_string(), "t1".to_string())].into());
    // Deleted after the pass's look: the start is what finds out.
    h.dz.fail_next("StartDataSourceRun", ErrorClass::Terminal, "ResourceNotFoundException", "Data source not found");
    h.dz.world().data_sources.clear();
    let pass = h.pass(&mut p).await;
    assert_eq!(pass.calls, [format!("StartDataSourceRun {ds}")]);
    assert!(pass.events.contains(&"DataSourceMissing".to_string()), "{:?}", pass.events);
    assert_eq!(condition(&p, PUBLISHED), is(False, "DataSourceMissing"));
    assert_eq!(p.status.as_ref().and_then(|s| s.data_source_id.clone()), None, "status forgets it");
    requeue_within(&pass, Duration::ZERO, Duration::from_secs(60));
    let pass = h.pass(&mut p).await;
    assert!(
        pass.calls.iter().any(|c| c.starts_with("CreateDataSource")),
        "made again at once, not started again on the old ID: {:?}",
        pass.calls
    );
    assert!(!pass.calls.contains(&format!("StartDataSourceRun {ds}")), "{:?}", pass.calls);
}

#[tokio::test]
async fn a_create_that_loses_a_race_takes_over_only_its_own() {
    for (ours, wanted) in [(true, "StartDataSourceRun"), (false, "NameTaken")] {
        let h = Harness::new();
        let mut p = h.product("orders", |_| {});
        for _ in 0..3 {
            h.pass(&mut p).await;
        }
        h.dz.world().environments[0].info.status = crate::datazone::EnvironmentStatus::Active;
        // Created by a concurrent writer after the listing was taken.
        let description = if ours { "x; managed-by=datazone-operator" } else { "by hand" };
        h.dz.world().data_sources.push(Source {
            info: DataSourceInfo {
                connection_id: None,
                id: "ds-race".into(),
                name: "prod-eks-team-sales-orders".into(),
                status: DataSourceStatus::Ready,
                environment_id: p.status.as_ref().and_then(|s| s.environment_id.clone()),
                description: Some(description.into()),
                config: None,
                error: None,
                updated_at: Some("2026-12-01T09:00:00Z".into()),
                project_id: Some(crate::datazone::fake::PROJECT.into()),
                kind: Some("REDSHIFT".into()),
            },
            project: crate::datazone::fake::PROJECT.into(),
            token: "someone else's".into(),
            last_run: None,
            listed: false,
        });
        let pass = h.pass(&mut p).await;
        let tail: Vec<String> = pass.calls.iter().rev().take(2).rev().cloned().collect();
        assert_eq!(
            tail,
            strings(&["CreateDataSource prod-eks-team-sales-orders", "ListDataSources prod-eks-team-sales-orders"])
        );
        assert_eq!(pass.events, strings(&["DataSourceFound"]));
        assert_eq!(condition(&p, DATA_SOURCE_READY), is(False, "Found"));
        assert_eq!(p.status.as_ref().and_then(|s| s.data_source_id.as_deref()), Some("ds-race"));

        let pass = h.pass(&mut p).await;
        if ours {
            // Its configuration is put to the spec first.
            assert_eq!(pass.calls, strings(&["GetDataSource ds-race", "UpdateDataSource ds-race"]));
        } else {
            assert_eq!(pass.calls, strings(&["GetDataSource ds-race"]));
            assert_eq!(condition(&p, DATA_SOURCE_READY), is(False, wanted));
        }
    }
}

/// A status that records no `updatedAt` of its data source: its next pass reads it in full.
fn forget_updated_at(p: &mut RedshiftDataProduct) {
    if let Some(s) = p.status.as_mut() {
        s.data_source_updated_at = None;
    }
}

#[tokio::test(start_paused = true)]
async fn the_first_pass_through_after_an_outage_wakes_the_data_products_backing_off() {
    use crate::controller::fleet::recovery::DOWN;
    let resync = Duration::from_millis(20);
    let h = Harness::paused(resync);
    let mut woken = h.ctx.wakeups.subscribe(None);
    let (mut orders, _) = published(&h).await;
    let mut customers = h.product("customers", |p| {
        p["spec"]["schemas"] = json!([{"name": "public", "tables": ["customers"]}]);
    });
    super::steps::settle(&h, &mut customers).await;
    let fail = || h.dz.fail_next("ListDataSources", ErrorClass::Retryable, "InternalServerException", "down");

    // One data product fails while the other goes through: its own trouble, nobody woken.
    tokio::time::sleep(resync).await;
    fail();
    assert!(h.pass(&mut customers).await.calls.contains(&"ListDataSources".to_string()));
    assert_eq!(condition(&customers, DATA_SOURCE_READY).map(|c| c.0), Some(False));
    h.pass(&mut orders).await;
    assert!(woken.try_recv().is_err(), "one failure among passes going through is no outage");

    // DataZone down: both fail, then nothing goes through for longer than DOWN.
    tokio::time::sleep(resync).await;
    for p in [&mut orders, &mut customers] {
        fail();
        h.pass(p).await;
        assert_eq!(condition(p, DATA_SOURCE_READY).map(|c| c.0), Some(False));
    }
    tokio::time::sleep(DOWN + Duration::from_secs(1)).await;
    // Back: the first pass through wakes the other instead of leaving it to its backoff.
    let pass = h.pass(&mut orders).await;
    assert!(pass.result.is_ok(), "{:?}", pass.result);
    assert_eq!(condition(&orders, DATA_SOURCE_READY).map(|c| c.0), Some(True));
    let wake = woken.try_recv().expect("customers woken");
    assert_eq!(wake.name, "customers");
    assert!(woken.try_recv().is_err(), "woken once");
}
