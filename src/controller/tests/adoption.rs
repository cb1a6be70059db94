//! Adopting a data source made before the operator (by the reference Lambda, or by hand): taken
//! over in its own environment with one update, never a second data source; refused, with the
//! check that failed and nothing changed, when it is not the data product's to take.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde_json::{Value, json};

use super::{Harness, condition, is, strings};
use crate::controller::decide::desired;
use crate::crd::RedshiftDataProduct;
use crate::crd::conditions::{ConditionStatus::False, ConditionStatus::True, DATA_SOURCE_READY, READY, STALLED};
use crate::datazone::fake::{PROJECT, Source, made_elsewhere};
use crate::datazone::{DataSourceInfo, DataSourceStatus, RunStatus, Storage};

const LAMBDA_DS: &str = "ds-lambda";
const LAMBDA_NAME: &str = "sales-dwh-orders";

fn lambda_made(project: &str, kind: &str, storage: Storage, database: &str, description: Option<&str>) -> Source {
    let info = DataSourceInfo {
        name: LAMBDA_NAME.into(),
        ..made_elsewhere(LAMBDA_DS, project, kind, storage, database, description)
    };
    Source { info, project: project.into(), token: "the Lambda's".into(), last_run: None, listed: true }
}

fn the_lambdas() -> Source {
    lambda_made(PROJECT, "REDSHIFT", Storage::Cluster("prod-dwh".into()), "sales", Some("made by the Lambda"))
}

fn adopting(h: &Harness, by: Value) -> RedshiftDataProduct {
    h.product("orders", |o| {
        o["spec"]["adopt"] = by;
        o["spec"]["deletionPolicy"] = json!("Retain");
    })
}

fn mutating(calls: &[String]) -> Vec<&String> {
    calls.iter().filter(|c| ["Create", "Update", "Delete", "Start", "Put"].iter().any(|m| c.starts_with(m))).collect()
}

#[tokio::test]
async fn a_lambda_made_data_source_is_adopted_in_its_environment_with_one_update() {
    let h = Harness::new();
    h.dz.world().data_sources.push(the_lambdas());
    let mut p = adopting(&h, json!({"dataSourceName": LAMBDA_NAME}));

    let pass = h.pass(&mut p).await;
    assert_eq!(
        mutating(&pass.calls),
        [&format!("UpdateDataSource {LAMBDA_DS}")],
        "one update, no profile, environment or data source of its own: {:?}",
        pass.calls
    );
    assert_eq!(pass.events, strings(&["DataSourceAdopted"]));
    let status = p.status.clone().unwrap_or_default();
    assert_eq!(status.data_source_id.as_deref(), Some(LAMBDA_DS));
    assert_eq!(status.data_source_name.as_deref(), Some(LAMBDA_NAME), "its name stays");
    assert_eq!(status.environment_id.as_deref(), Some("env-lambda"), "its environment stays");
    assert_eq!(status.adopted_description.as_deref(), Some("made by the Lambda"));
    let adopted = h.dz.world().data_source(LAMBDA_DS).map(|d| d.info.clone()).expect("still there");
    assert!(desired::is_ours(adopted.description.as_deref()), "marked: {:?}", adopted.description);
    assert!(adopted.config.is_some_and(|c| c.publish_on_import), "brought to the spec");

    // From here on it is the data product's own: a run, and Ready.
    h.dz.world().edit(LAMBDA_DS, |d| d.status = DataSourceStatus::Ready);
    let pass = h.pass(&mut p).await;
    assert_eq!(mutating(&pass.calls), [&format!("StartDataSourceRun {LAMBDA_DS}")], "{:?}", pass.calls);
    let run = p.status.as_ref().and_then(|s| s.last_run.clone()).expect("a run");
    let done = [("orders", "SUCCEEDED_UPDATED"), ("customers", "SUCCEEDED_UPDATED"), ("v_orders", "SUCCEEDED_UPDATED")];
    h.dz.world().finish_run(&run.id, RunStatus::Success, &done);
    h.pass(&mut p).await;
    assert_eq!(condition(&p, READY), is(True, "Published"));
    assert_eq!(h.dz.world().data_sources.len(), 1, "no second data source");

    // Deleted with Retain: it goes back as it was found, without the operator's mark.
    p.metadata.deletion_timestamp = Some(Time(jiff::Timestamp::now()));
    let pass = h.pass(&mut p).await;
    assert_eq!(pass.events, strings(&["DataSourceReleased"]));
    assert!(pass.finalizer_removed);
    let released = h.dz.world().data_source(LAMBDA_DS).map(|d| d.info.description.clone());
    assert_eq!(released, Some(Some("made by the Lambda".to_string())));
}

#[tokio::test]
async fn an_adoption_whose_status_write_was_lost_is_recognised() {
    let h = Harness::new();
    h.dz.world().data_sources.push(the_lambdas());
    let mut p = adopting(&h, json!({"dataSourceId": LAMBDA_DS}));
    h.pass(&mut p).await;
    p.status = None;
    let pass = h.pass(&mut p).await;
    assert!(!pass.calls.iter().any(|c| c.starts_with("Create")), "{:?}", pass.calls);
    assert_eq!(p.status.as_ref().and_then(|s| s.data_source_id.as_deref()), Some(LAMBDA_DS));
    assert_eq!(h.dz.world().data_sources.len(), 1);
}

#[tokio::test]
async fn refused_adoptions_say_which_check_failed_and_change_nothing() {
    let c = || Storage::Cluster("prod-dwh".into());
    let taken = desired::description("prod-eks", "team-sales", "other", "uid-other");
    let cases = [
        (lambda_made("prj_other", "REDSHIFT", c(), "sales", None), "AdoptionOtherProject"),
        (lambda_made(PROJECT, "GLUE", c(), "sales", None), "AdoptionNotRedshift"),
        (lambda_made(PROJECT, "REDSHIFT", Storage::Cluster("other-dwh".into()), "sales", None), "AdoptionOtherStorage"),
        (lambda_made(PROJECT, "REDSHIFT", c(), "finance", None), "AdoptionOtherDatabase"),
        (lambda_made(PROJECT, "REDSHIFT", c(), "sales", Some(&taken)), "AdoptionTaken"),
    ];
    for (found, reason) in cases {
        let h = Harness::new();
        let before = found.info.clone();
        h.dz.world().data_sources.push(found);
        let mut p = adopting(&h, json!({"dataSourceId": LAMBDA_DS}));
        let pass = h.pass(&mut p).await;
        assert!(mutating(&pass.calls).is_empty(), "{reason}: {:?}", pass.calls);
        assert_eq!(condition(&p, DATA_SOURCE_READY), is(False, reason));
        assert_eq!(condition(&p, READY).map(|c| c.0), Some(False));
        assert!(condition(&p, STALLED).is_some(), "{reason}: a person must act");
        assert!(pass.events.contains(&"DataSourceReadyFalse".to_string()), "{reason}: {:?}", pass.events);
        let after = h.dz.world().data_source(LAMBDA_DS).map(|d| d.info.clone());
        assert_eq!(after, Some(before), "{reason}: the data source is as it was");
        assert_eq!(h.dz.world().data_sources.len(), 1);
    }

    let h = Harness::new();
    let mut p = adopting(&h, json!({"dataSourceName": "no-such-thing"}));
    h.pass(&mut p).await;
    assert_eq!(condition(&p, DATA_SOURCE_READY), is(False, "AdoptionNotFound"));
    assert!(h.dz.world().data_sources.is_empty(), "nothing created instead");
}
