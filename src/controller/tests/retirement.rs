//! `deletionPolicy: Retire`: the listings leave the catalog first; a subscriber holds the
//! finalizer with a condition naming it until it leaves (or the spec says to revoke); then the
//! data products, the assets and the data source are deleted in that order; a pass cut short is
//! finished by the next.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde_json::json;

use super::business::first_run;
use super::{Harness, condition, is, message};
use crate::crd::RedshiftDataProduct;
use crate::crd::conditions::{ConditionStatus::False, READY};

fn retiring(v: &mut serde_json::Value) {
    v["spec"]["dataProduct"] = json!({});
    v["spec"]["deletionPolicy"] = json!("Retire");
}

/// Published as a data product: its ID.
async fn listed(h: &Harness, p: &mut RedshiftDataProduct) -> String {
    first_run(h, p).await;
    h.pass(p).await;
    p.status.clone().unwrap_or_default().data_products.first().and_then(|d| d.id.clone()).expect("made")
}

fn deleting(p: &mut RedshiftDataProduct) {
    p.metadata.deletion_timestamp = Some(Time(jiff::Timestamp::now()));
}

/// The calls that change something.
fn changes(calls: &[String]) -> Vec<String> {
    let reads = ["List", "Get", "Search", "AssumeRole"];
    calls.iter().filter(|c| !reads.iter().any(|r| c.starts_with(r))).cloned().collect()
}

#[tokio::test]
async fn a_subscriber_holds_the_retirement_until_it_leaves_then_everything_goes_in_order() {
    let h = Harness::new();
    let mut p = h.product("orders", retiring);
    let product = listed(&h, &mut p).await;
    let subscription = h.dz.world().catalog_state.subscriptions.subscribe(&product, "prj_mkt", "marketing");
    deleting(&mut p);
    let pass = h.pass(&mut p).await;
    assert_eq!(
        changes(&pass.calls),
        [
            format!("CreateListingChangeSet {product}"),
            "CreateListingChangeSet UNPUBLISH asset-customers".to_string(),
            "CreateListingChangeSet UNPUBLISH asset-orders".to_string(),
            "CreateListingChangeSet UNPUBLISH asset-v_orders".to_string(),
        ],
        "out of the catalog first, nothing deleted"
    );
    assert!(!pass.finalizer_removed, "the subscriber holds it");
    assert_eq!(condition(&p, READY), is(False, "Subscribed"));
    assert!(message(&p, READY).contains("project marketing still subscribes"), "{}", message(&p, READY));
    assert!(h.dz.world().catalog_state.data_products.contains_key(&product));

    // Still subscribed: the next pass deletes nothing either.
    let pass = h.pass(&mut p).await;
    assert_eq!(changes(&pass.calls), Vec::<String>::new(), "no delete, and no unpublish again");
    assert!(pass.calls.iter().any(|c| c.starts_with("ListSubscriptions")), "{:?}", pass.calls);

    // The subscriber leaves: the data product, then the assets, then the data source.
    h.dz.world().catalog_state.subscriptions.subscriptions.iter_mut().for_each(|s| s.status = "CANCELLED".into());
    let pass = h.pass(&mut p).await;
    let deletes: Vec<String> = pass.calls.iter().filter(|c| c.starts_with("Delete")).cloned().collect();
    let ds = p.status.clone().unwrap_or_default().data_source_id.unwrap_or_default();
    assert_eq!(
        deletes,
        [
            format!("DeleteDataProduct {product}"),
            "DeleteAsset asset-customers".to_string(),
            "DeleteAsset asset-orders".to_string(),
            "DeleteAsset asset-v_orders".to_string(),
            format!("DeleteDataSource {ds}"),
        ]
    );
    assert!(pass.finalizer_removed);
    let w = h.dz.world();
    assert!(w.catalog_state.data_products.is_empty() && w.catalog_state.assets.is_empty() && w.data_sources.is_empty());
    drop(w);
    assert_ne!(subscription, "");
}

#[tokio::test]
async fn with_revoke_subscriptions_the_operator_revokes_and_retires() {
    let h = Harness::new();
    let mut p = h.product("orders", |v| {
        retiring(v);
        v["spec"]["retirement"] = json!({"revokeSubscriptions": true});
    });
    let product = listed(&h, &mut p).await;
    let subscription = h.dz.world().catalog_state.subscriptions.subscribe("asset-orders", "prj_mkt", "marketing");
    deleting(&mut p);
    let pass = h.pass(&mut p).await;
    assert!(pass.calls.contains(&format!("RevokeSubscription {subscription}")), "{:?}", pass.calls);
    assert!(pass.events.contains(&"SubscriptionRevoked".to_string()), "{:?}", pass.events);
    assert!(pass.calls.contains(&format!("DeleteDataProduct {product}")), "{:?}", pass.calls);
    assert!(pass.finalizer_removed);
}

#[tokio::test]
async fn a_retirement_cut_short_is_finished_by_the_next_pass() {
    let h = Harness::new();
    let mut p = h.product("orders", retiring);
    let product = listed(&h, &mut p).await;
    deleting(&mut p);
    // DataZone fails an asset's deletion once: the pass stops there, the finalizer stays.
    h.dz.fail_next("DeleteAsset", crate::datazone::ErrorClass::Retryable, "InternalServerException", "boom");
    let pass = h.pass(&mut p).await;
    assert!(!pass.finalizer_removed);
    assert!(pass.calls.contains(&format!("DeleteDataProduct {product}")), "{:?}", pass.calls);
    // The next pass: already unpublished and already deleted are fine; the rest goes.
    let pass = h.pass(&mut p).await;
    assert!(pass.finalizer_removed, "{:?} {:?}", pass.calls, pass.result);
    let w = h.dz.world();
    assert!(w.catalog_state.assets.is_empty() && w.data_sources.is_empty());
}
