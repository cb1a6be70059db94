//! Deleting a data product: the policy decides what happens in DataZone; the finalizer comes off
//! in the end, and a stuck delete says why in an Event.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::steps::published;
use super::{Harness, strings};
use crate::crd::RedshiftDataProduct;

fn deleting(p: &mut RedshiftDataProduct, seconds_ago: i64) {
    let at = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(seconds_ago);
    p.metadata.deletion_timestamp = Some(Time(at));
}

#[tokio::test]
async fn delete_removes_our_data_source_and_the_finalizer() {
    let h = Harness::new();
    let (mut p, ds) = published(&h).await;
    deleting(&mut p, 0);
    let pass = h.pass(&mut p).await;
    assert_eq!(pass.calls, [format!("GetDataSource {ds}"), format!("DeleteDataSource {ds}")]);
    assert_eq!(pass.events, strings(&["DataSourceDeleted"]));
    assert!(pass.finalizer_removed);
    assert!(h.dz.world().data_sources.is_empty());

    // Deleted again (say, after a crash before the finalizer came off): already gone is fine.
    let pass = h.pass(&mut p).await;
    assert_eq!(pass.calls, [format!("GetDataSource {ds}")]);
    assert_eq!(pass.events, strings(&["DataSourceGone"]));
    assert!(pass.finalizer_removed);
}

#[tokio::test]
async fn retain_leaves_datazone_untouched() {
    let h = Harness::new();
    let (mut p, _) = published(&h).await;
    p.spec.deletion_policy = crate::crd::DeletionPolicy::Retain;
    deleting(&mut p, 0);
    let pass = h.pass(&mut p).await;
    assert!(pass.calls.is_empty(), "{:?}", pass.calls);
    assert_eq!(pass.events, strings(&["Retained"]));
    assert!(pass.finalizer_removed);
    assert_eq!(h.dz.world().data_sources.len(), 1);
}

#[tokio::test]
async fn a_data_source_known_only_by_name_is_found_and_deleted() {
    let h = Harness::new();
    let (mut p, ds) = published(&h).await;
    // As after a crash between the create and the status write.
    if let Some(s) = p.status.as_mut() {
        s.data_source_id = None;
    }
    deleting(&mut p, 0);
    let pass = h.pass(&mut p).await;
    assert_eq!(
        pass.calls,
        [
            "ListDataSources prod-eks-team-sales-orders".to_string(),
            format!("GetDataSource {ds}"),
            format!("DeleteDataSource {ds}")
        ]
    );
    assert!(pass.finalizer_removed);
}

#[tokio::test]
async fn a_data_source_that_is_not_ours_is_never_deleted_and_the_finalizer_comes_off_in_the_end() {
    let h = Harness::new();
    let (mut p, ds) = published(&h).await;
    h.dz.world().edit(&ds, |d| d.description = Some("made by hand".into()));
    deleting(&mut p, 0);
    let pass = h.pass(&mut p).await;
    assert_eq!(pass.calls, [format!("GetDataSource {ds}")], "no DeleteDataSource");
    assert_eq!(pass.events, strings(&["DeleteFailed"]));
    assert!(!pass.finalizer_removed, "retried with backoff first");
    let error = pass.result.expect_err("the cleanup failed");
    assert!(error.contains("was not created by this operator"), "{error}");

    deleting(&mut p, 11 * 60);
    let pass = h.pass(&mut p).await;
    assert_eq!(pass.events, strings(&["DataSourceLeftBehind"]));
    assert!(pass.finalizer_removed, "after ten minutes the object is let go");
    assert_eq!(h.dz.world().data_sources.len(), 1);
}
