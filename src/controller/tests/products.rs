//! DataZone data products (`spec.dataProduct`): made and published after the run that imports the
//! assets, revised once when the assets or the spec change, republished when a person took them
//! out of the catalog, never touched when the name is another's, deleted before the data source.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde_json::json;

use super::business::{first_run, first_run_of};
use super::{Harness, condition, is, message, strings};
use crate::crd::conditions::{ConditionStatus::False, ConditionStatus::True, PRODUCT_LISTED, READY};
use crate::crd::{CatalogProductStatus, RECONCILE_REQUESTED_AT, RedshiftDataProduct};
use crate::datazone::fake::FakeProduct;
use crate::datazone::{ProductRevision, RunStatus};

fn as_product(v: &mut serde_json::Value) {
    v["spec"]["dataProduct"] = json!({"description": "Orders of the EU shops"});
}

fn entry(p: &RedshiftDataProduct) -> CatalogProductStatus {
    p.status.as_ref().and_then(|s| s.data_products.first().cloned()).expect("a data product in status")
}

/// The fake's data product `id`.
fn product(h: &Harness, id: &str) -> FakeProduct {
    h.dz.world().catalog_state.data_products.get(id).cloned().expect("the data product")
}

fn items(r: &ProductRevision) -> Vec<String> {
    r.items.iter().map(|i| i.asset_id.clone()).collect()
}

/// The data product calls of a pass.
fn product_calls(calls: &[String]) -> Vec<String> {
    let ops = ["CreateDataProduct", "CreateDataProductRevision", "CreateListingChangeSet", "DeleteDataProduct"];
    let product_search = |c: &String| c == "Search DATA_PRODUCT" || c == "SearchListings DATA_PRODUCT";
    calls
        .iter()
        .filter(|c| ops.contains(&c.split(' ').next().unwrap_or_default()) || product_search(c))
        .cloned()
        .collect()
}

#[tokio::test]
async fn after_the_run_the_data_product_is_made_with_its_assets_and_published_then_costs_nothing() {
    let h = Harness::new();
    let mut p = h.product("orders", as_product);
    first_run(&h, &mut p).await;
    let pass = h.pass(&mut p).await;
    assert_eq!(
        product_calls(&pass.calls),
        strings(&["CreateDataProduct orders", "CreateListingChangeSet dp-1"]),
        "made and published in the same pass (nothing listed yet: no view of the catalog needed)"
    );
    assert_eq!(condition(&p, PRODUCT_LISTED), is(True, "Listed"), "{}", message(&p, PRODUCT_LISTED));
    assert_eq!(message(&p, PRODUCT_LISTED), "data product orders (3 assets, revision 1) is listed in the catalog");
    assert_eq!(condition(&p, READY), is(True, "Published"));
    for event in ["DataProductCreated", "DataProductPublished"] {
        assert!(pass.events.contains(&event.to_string()), "{event}: {:?}", pass.events);
    }
    let e = entry(&p);
    assert_eq!(
        (e.id.as_deref(), e.revision.as_deref(), e.items, e.listing_status.as_deref()),
        (Some("dp-1"), Some("1"), 3, Some("ACTIVE"))
    );
    let dp = product(&h, "dp-1");
    assert_eq!(items(dp.latest()), ["asset-customers", "asset-orders", "asset-v_orders"]);
    let description = dp.latest().description.clone().unwrap_or_default();
    assert!(description.starts_with("Orders of the EU shops\n\n"), "{description}");
    assert!(description.contains("managed-by=datazone-operator"), "marked as the operator's: {description}");
    assert_eq!(dp.listing.as_ref().map(|l| (l.shows.clone(), l.active)), Some((strings(&["1"]), true)));

    let mut calls = Vec::new();
    for _ in 0..3 {
        calls.extend(product_calls(&h.pass(&mut p).await.calls));
        assert_eq!(condition(&p, PRODUCT_LISTED), is(True, "Listed"));
    }
    assert_eq!(calls, strings(&["SearchListings DATA_PRODUCT"]), "resyncs write nothing; one shared view a resync");
}

#[tokio::test]
async fn a_new_table_of_a_later_run_is_one_revision_with_every_asset_published() {
    let h = Harness::new();
    let mut p = h.product("orders", as_product);
    first_run(&h, &mut p).await;
    h.pass(&mut p).await;
    // A new run (asked for), which finds a fourth table.
    p.metadata.annotations = Some([(RECONCILE_REQUESTED_AT.to_string(), "t1".to_string())].into());
    let pass = h.pass(&mut p).await;
    assert!(pass.calls.iter().any(|c| c.starts_with("StartDataSourceRun")), "{:?}", pass.calls);
    let run = p.status.as_ref().and_then(|s| s.last_run.clone()).expect("a run").id;
    let four = [
        ("orders", "SUCCEEDED_UPDATED"),
        ("customers", "SUCCEEDED_UPDATED"),
        ("v_orders", "SUCCEEDED_UPDATED"),
        ("returns", "SUCCEEDED_CREATED"),
    ];
    h.dz.world().finish_run(&run, RunStatus::Success, &four);
    let mut made = Vec::new();
    for _ in 0..3 {
        made.extend(product_calls(&h.pass(&mut p).await.calls));
    }
    assert_eq!(
        made.iter().filter(|c| !c.starts_with("SearchListings")).cloned().collect::<Vec<_>>(),
        strings(&["CreateDataProductRevision dp-1", "CreateListingChangeSet dp-1"]),
        "exactly one revision, published"
    );
    let dp = product(&h, "dp-1");
    assert_eq!(items(dp.latest()), ["asset-customers", "asset-orders", "asset-returns", "asset-v_orders"]);
    assert_eq!(dp.listing.as_ref().map(|l| l.shows.clone()), Some(strings(&["1", "2"])));
    assert_eq!((entry(&p).revision.as_deref(), entry(&p).items), (Some("2"), 4));
}

#[tokio::test]
async fn a_description_edited_in_git_is_one_revision_and_no_run() {
    let h = Harness::new();
    let mut p = h.product("orders", as_product);
    first_run(&h, &mut p).await;
    h.pass(&mut p).await;
    let mut next = h.product("orders", |v| v["spec"]["dataProduct"] = json!({"description": "Orders, net of returns"}));
    next.status = p.status.clone();
    next.metadata.generation = Some(2);
    let pass = h.pass(&mut next).await;
    assert_eq!(
        product_calls(&pass.calls),
        strings(&["SearchListings DATA_PRODUCT", "CreateDataProductRevision dp-1", "CreateListingChangeSet dp-1"]),
        "{:?}",
        pass.calls
    );
    assert!(!pass.calls.iter().any(|c| c.starts_with("StartDataSourceRun")), "no run: {:?}", pass.calls);
    let description = product(&h, "dp-1").latest().description.clone().unwrap_or_default();
    assert!(description.starts_with("Orders, net of returns"), "{description}");
    assert_eq!(entry(&next).generation, Some(2));
    let pass = h.pass(&mut next).await;
    assert!(product_calls(&pass.calls).is_empty(), "{:?}", pass.calls);
}

#[tokio::test(start_paused = true)]
async fn unpublished_or_republished_by_a_person_is_put_back_within_a_resync() {
    let resync = std::time::Duration::from_secs(60);
    let h = Harness::paused(resync);
    let mut p = h.product("orders", as_product);
    first_run(&h, &mut p).await;
    h.pass(&mut p).await;
    // Published a while ago (wall time: the paused clock moves only tokio's).
    let backdate = |p: &mut RedshiftDataProduct| {
        if let Some(e) = p.status.as_mut().and_then(|s| s.data_products.first_mut()) {
            e.listed_at = Some("2026-01-01T00:00:00Z".into());
        }
    };
    backdate(&mut p);
    // Someone unpublishes it in the portal.
    h.dz.world().catalog_state.data_products.get_mut("dp-1").and_then(|d| d.listing.as_mut()).expect("listed").active =
        false;
    tokio::time::sleep(resync + std::time::Duration::from_secs(2)).await;
    let pass = h.pass(&mut p).await;
    assert_eq!(
        product_calls(&pass.calls),
        strings(&["SearchListings DATA_PRODUCT", "CreateListingChangeSet dp-1"]),
        "{:?}",
        pass.calls
    );
    assert!(pass.events.contains(&"DataProductRepaired".to_string()), "{:?}", pass.events);
    assert!(product(&h, "dp-1").listing.is_some_and(|l| l.active));

    // Someone publishes a revision of their own.
    backdate(&mut p);
    {
        let mut w = h.dz.world();
        let dp = w.catalog_state.data_products.get_mut("dp-1").expect("dp");
        let mut theirs = dp.latest().clone();
        theirs.items.pop();
        dp.revisions.push(theirs);
        dp.listing.as_mut().expect("listed").shows.push("2".into());
    }
    tokio::time::sleep(resync + std::time::Duration::from_secs(2)).await;
    let pass = h.pass(&mut p).await;
    assert_eq!(
        product_calls(&pass.calls),
        strings(&["SearchListings DATA_PRODUCT", "CreateDataProductRevision dp-1", "CreateListingChangeSet dp-1"]),
        "{:?}",
        pass.calls
    );
    let dp = product(&h, "dp-1");
    assert_eq!(items(dp.latest()).len(), 3, "the spec's items again");
    assert_eq!(dp.listing.map(|l| l.shows.last().cloned()), Some(Some("3".to_string())));
}

#[tokio::test]
async fn a_name_another_made_is_a_condition_naming_it_and_nothing_changes() {
    let h = Harness::new();
    let theirs = ProductRevision {
        name: "orders".into(),
        description: Some("The finance team's orders".into()),
        glossary_terms: vec![],
        forms: vec![],
        items: vec![],
        client_token: "theirs".into(),
    };
    h.dz.world().catalog_state.data_products.insert(
        "dp-theirs".into(),
        FakeProduct {
            id: "dp-theirs".into(),
            project_id: crate::datazone::fake::PROJECT.into(),
            revisions: vec![theirs.clone()],
            listing: None,
        },
    );
    let mut p = h.product("orders", as_product);
    first_run(&h, &mut p).await;
    let pass = h.pass(&mut p).await;
    assert_eq!(product_calls(&pass.calls), strings(&["CreateDataProduct orders", "Search DATA_PRODUCT"]));
    assert_eq!(condition(&p, PRODUCT_LISTED), is(False, "NameTaken"));
    assert!(
        message(&p, PRODUCT_LISTED)
            .contains("orders: DataZone has a data product of that name this resource did not make")
    );
    assert_eq!(condition(&p, "Stalled").map(|c| c.0), Some(True), "a person must act");
    assert_eq!(product(&h, "dp-theirs").revisions, [theirs], "theirs is untouched");
    assert_eq!(h.dz.world().catalog_state.data_products.len(), 1);
}

#[tokio::test]
async fn one_made_before_a_lost_answer_is_found_by_its_mark_and_taken_on() {
    let h = Harness::new();
    let mut p = h.product("orders", as_product);
    first_run(&h, &mut p).await;
    // Made by this resource (its mark), its answer lost: another token, as after a restart.
    let mine = ProductRevision {
        name: "orders".into(),
        description: Some(crate::controller::decide::products::description(
            None,
            &crate::controller::decide::products::Owner { namespace: super::NS, name: "orders", uid: "uid-orders" },
        )),
        glossary_terms: vec![],
        forms: vec![],
        items: vec![],
        client_token: "lost".into(),
    };
    h.dz.world().catalog_state.data_products.insert(
        "dp-mine".into(),
        FakeProduct {
            id: "dp-mine".into(),
            project_id: crate::datazone::fake::PROJECT.into(),
            revisions: vec![mine],
            listing: None,
        },
    );
    let mut calls = Vec::new();
    for _ in 0..2 {
        calls.extend(product_calls(&h.pass(&mut p).await.calls));
    }
    assert_eq!(
        calls,
        strings(&[
            "CreateDataProduct orders",
            "Search DATA_PRODUCT",
            "CreateDataProductRevision dp-mine",
            "CreateListingChangeSet dp-mine",
            // The next pass: listed now, the catalog's view confirms it.
            "SearchListings DATA_PRODUCT",
        ])
    );
    assert_eq!(h.dz.world().catalog_state.data_products.len(), 1, "no second one");
    assert_eq!(items(product(&h, "dp-mine").latest()).len(), 3);
    assert_eq!(condition(&p, PRODUCT_LISTED), is(True, "Listed"));
}

#[tokio::test]
async fn per_schema_and_groups_make_one_data_product_each_and_a_missing_item_is_named() {
    let h = Harness::new();
    let mut p = h.product("orders", |v| {
        v["spec"]["schemas"] = json!([
            {"name": "public", "tables": ["orders", "customers"]},
            {"name": "raw", "tables": ["events"]}
        ]);
        v["spec"]["dataProduct"] = json!({"groups": [
            {"name": "Orders", "items": [{"schema": "public", "name": "orders"}, {"schema": "raw", "name": "events"}]},
            {"name": "Customers", "items": [{"schema": "public", "name": "customers"}, {"schema": "public", "name": "gone"}]}
        ]});
    });
    first_run_of(&h, &mut p, &strings(&["orders", "customers", "events"])).await;
    h.pass(&mut p).await;
    let names: Vec<(String, i64)> =
        p.status.as_ref().expect("status").data_products.iter().map(|e| (e.name.clone(), e.items)).collect();
    assert_eq!(names, [("Customers".to_string(), 1), ("Orders".to_string(), 2)]);
    assert_eq!(condition(&p, PRODUCT_LISTED), is(False, "Incomplete"));
    assert_eq!(message(&p, PRODUCT_LISTED), "Customers: not among the run's assets: public.gone");
    assert_eq!(h.dz.world().catalog_state.data_products.len(), 2);
    // Still so at the next pass (looked at again, nothing written).
    let pass = h.pass(&mut p).await;
    assert_eq!(condition(&p, PRODUCT_LISTED), is(False, "Incomplete"));
    let written: Vec<String> =
        product_calls(&pass.calls).into_iter().filter(|c| !c.starts_with("SearchListings")).collect();
    assert!(written.is_empty(), "{written:?}");
}

#[tokio::test]
async fn a_failed_creation_is_made_on_the_next_pass_not_taken_for_an_empty_one() {
    let h = Harness::new();
    let mut p = h.product("orders", as_product);
    first_run(&h, &mut p).await;
    h.dz.fail_next("CreateDataProduct", crate::datazone::ErrorClass::Retryable, "InternalServerException", "try again");
    let pass = h.pass(&mut p).await;
    assert_eq!(product_calls(&pass.calls), strings(&["CreateDataProduct orders"]));
    assert_eq!(condition(&p, PRODUCT_LISTED).map(|c| c.0), Some(False));
    // The entry the refused pass left (no ID, no item) is not one written for this run.
    let pass = h.pass(&mut p).await;
    assert_eq!(
        product_calls(&pass.calls),
        strings(&["CreateDataProduct orders", "CreateListingChangeSet dp-1"]),
        "made and published on the next pass"
    );
    assert_eq!(condition(&p, PRODUCT_LISTED), is(True, "Listed"), "{}", message(&p, PRODUCT_LISTED));
    assert_eq!(entry(&p).listing_status.as_deref(), Some("ACTIVE"));
}

#[tokio::test]
async fn what_a_failed_call_left_undone_is_done_next_and_what_was_made_is_kept() {
    let h = Harness::new();
    let mut p = h.product("orders", |v| {
        v["spec"]["dataProduct"] = json!({"groups": [
            {"name": "A", "items": [{"schema": "public", "name": "orders"}]},
            {"name": "B", "items": [{"schema": "public", "name": "customers"}]}
        ]});
    });
    first_run(&h, &mut p).await;
    h.dz.fail_next(
        "CreateListingChangeSet",
        crate::datazone::ErrorClass::Retryable,
        "InternalServerException",
        "try again",
    );
    let pass = h.pass(&mut p).await;
    assert!(pass.result.is_ok(), "a failed pass comes back: {:?}", pass.result);
    assert_eq!(product_calls(&pass.calls), strings(&["CreateDataProduct A", "CreateListingChangeSet dp-1"]));
    let a = entry(&p);
    assert_eq!(
        (a.name.as_str(), a.id.as_deref(), a.listing_status.as_deref()),
        ("A", Some("dp-1"), None),
        "made, kept"
    );
    let pass = h.pass(&mut p).await;
    assert_eq!(
        product_calls(&pass.calls),
        strings(&["CreateListingChangeSet dp-1", "CreateDataProduct B", "CreateListingChangeSet dp-2"]),
        "A is published, not made again; B is made"
    );
    assert_eq!(condition(&p, PRODUCT_LISTED), is(True, "Listed"));
    assert_eq!(h.dz.world().catalog_state.data_products.len(), 2);
}

#[tokio::test]
async fn delete_takes_the_data_products_out_before_the_data_source_and_retain_leaves_them() {
    for (policy, left) in [("Delete", 0), ("Retain", 1)] {
        let h = Harness::new();
        let mut p = h.product("orders", |v| {
            as_product(v);
            v["spec"]["deletionPolicy"] = json!(policy);
        });
        first_run(&h, &mut p).await;
        h.pass(&mut p).await;
        p.metadata.deletion_timestamp = Some(Time(jiff::Timestamp::now()));
        let pass = h.pass(&mut p).await;
        assert!(pass.finalizer_removed, "{policy}");
        assert_eq!(h.dz.world().catalog_state.data_products.len(), left, "{policy}");
        if policy == "Delete" {
            let ds = p.status.as_ref().and_then(|s| s.data_source_id.clone()).expect("a data source");
            let order: Vec<String> = pass.calls.iter().filter(|c| !c.starts_with("GetDataSource")).cloned().collect();
            assert_eq!(
                order,
                [
                    "CreateListingChangeSet dp-1".to_string(),
                    "DeleteDataProduct dp-1".into(),
                    format!("DeleteDataSource {ds}")
                ],
                "unpublished and deleted, then the data source"
            );
            assert_eq!(pass.events, strings(&["DataProductDeleted", "DataSourceDeleted"]));
        }
    }
}

#[tokio::test]
async fn adopt_takes_over_a_data_product_made_in_the_portal_and_marks_it() {
    let h = Harness::new();
    let theirs = ProductRevision {
        name: "orders".into(),
        description: Some("Made in the portal".into()),
        glossary_terms: vec![],
        forms: vec![],
        items: vec![],
        client_token: "portal".into(),
    };
    h.dz.world().catalog_state.data_products.insert(
        "dp-portal".into(),
        FakeProduct {
            id: "dp-portal".into(),
            project_id: crate::datazone::fake::PROJECT.into(),
            revisions: vec![theirs],
            listing: None,
        },
    );
    let mut p = h.product("orders", |v| v["spec"]["dataProduct"] = json!({"adopt": true}));
    first_run(&h, &mut p).await;
    let pass = h.pass(&mut p).await;
    assert_eq!(
        product_calls(&pass.calls),
        strings(&[
            "CreateDataProduct orders",
            "Search DATA_PRODUCT",
            "CreateDataProductRevision dp-portal",
            "CreateListingChangeSet dp-portal"
        ])
    );
    assert!(pass.events.contains(&"DataProductAdopted".to_string()), "{:?}", pass.events);
    assert_eq!(condition(&p, PRODUCT_LISTED), is(True, "Listed"));
    let dp = product(&h, "dp-portal");
    assert_eq!(items(dp.latest()).len(), 3, "brought to the spec");
    let description = dp.latest().description.clone().unwrap_or_default();
    assert!(
        crate::controller::decide::products::is_ours(Some(&description), "uid-orders"),
        "marked as this resource's: {description}"
    );
    assert_eq!(h.dz.world().catalog_state.data_products.len(), 1, "no second one");
}
