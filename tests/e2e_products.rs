//! Data products in the catalog end to end: the operator binary against the real API server
//! (`make e2e`) and the emulator over the SDK. The reference payload, each database declared as a
//! DataZone data product: three data products, each with exactly its three assets as items,
//! published; `kubectl get` shows the product; a table added under `addAllTables` makes exactly
//! one revision with four items after the next run; a resync makes no data product call; a
//! description edited in Git makes one revision; one unpublished behind the operator's back is
//! published again within a resync; deleting with Delete leaves no data product and then no data
//! source, with Retain the product stays published. And one data product in a V2 domain.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::eventually;
use common::world::{V2_DOMAIN, World, by_operation, count, delta, ours, reference_assets, world, world_in};
use datazone_operator::crd::RedshiftDataProduct;
use datazone_operator::datazone::{Backend, Products};
use kube::api::{DeleteParams, Patch, PatchParams};
use serde_json::{Value, json};

/// The data product calls, as the emulator counts them (publication and unpublication included).
const PRODUCT_CALLS: [&str; 4] =
    ["CreateDataProduct", "CreateDataProductRevision", "DeleteDataProduct", "CreateListingChangeSet"];

fn product_calls(calls: &Value) -> u64 {
    PRODUCT_CALLS.iter().map(|op| count(calls, &format!("datazone:{op}"))).sum()
}

async fn declare(w: &World, name: &str, data_product: Value) {
    let patch = json!({"spec": {"dataProduct": data_product}});
    w.products().patch(name, &PatchParams::default(), &Patch::Merge(&patch)).await.unwrap();
}

/// The emulator's data products, by name: (revision, published, item asset names).
fn catalog(state: &Value) -> Vec<(String, String, bool, BTreeSet<String>)> {
    let asset_name = |id: &Value| {
        let assets = state["assets"].as_array().unwrap();
        assets.iter().find(|a| a["id"] == *id).map(|a| a["name"].as_str().unwrap().to_string()).unwrap_or_default()
    };
    let mut out: Vec<_> = state["dataProducts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let items = p["items"].as_array().unwrap().iter().map(asset_name).collect();
            (
                p["name"].as_str().unwrap().to_string(),
                p["revision"].as_str().unwrap().to_string(),
                p["published"] == true,
                items,
            )
        })
        .collect();
    out.sort();
    out
}

async fn listed(w: &World, name: &str, revision: &str) -> RedshiftDataProduct {
    eventually(Duration::from_secs(60), || async {
        let p = w.products().get(name).await.map_err(|e| e.to_string())?;
        let s = p.status.clone().unwrap_or_default();
        let listed = s.conditions.iter().any(|c| c.type_ == "ProductListed" && format!("{:?}", c.status) == "True");
        let at = s.data_products.first().and_then(|e| e.revision.clone());
        let current = s.observed_generation == p.metadata.generation;
        if listed && current && at.as_deref() == Some(revision) {
            Ok(p)
        } else {
            Err(format!("{name}: revision {at:?}, {:?}", s.conditions.iter().find(|c| c.type_ == "ProductListed")))
        }
    })
    .await
}

#[tokio::test]
#[ignore = "needs a real API server: make e2e"]
async fn the_reference_payload_as_three_data_products_kept_true_to_git() {
    let w = world("products", "optional").await;
    let names = w.import("examples/payloads/three-databases.json").await;
    for name in &names {
        declare(&w, name, json!({})).await;
    }
    let before = w.calls().await;
    w.all_ready(&names).await;
    let publish = delta(&before, &w.calls().await);
    println!("budget data products: 3 data products of 3 assets: {}", by_operation(&publish));
    assert_eq!(count(&publish, "datazone:CreateDataProduct"), 3, "{}", by_operation(&publish));

    // Three data products, each exactly its database's assets, published.
    let state = w.state().await;
    let want: Vec<_> = {
        let mut v: Vec<_> = reference_assets()
            .into_iter()
            .map(|(db, assets)| {
                let name = names.iter().find(|n| n.ends_with(&db)).unwrap().clone();
                (name, "1".to_string(), true, assets)
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(catalog(&state), want);

    // Read back through the operator's own SDK layer: the catalog's view of the project.
    let p = w.products().get(&names[0]).await.unwrap();
    let s = p.status.clone().unwrap();
    let clients = common::aws::clients(&w.emulator.endpoint(), 50.0).await;
    let dz = clients.project(&common::aws::registration("Test/readback", "test", "optional"));
    let listings = dz.data_product_listings(s.domain_id.as_deref().unwrap(), s.project_id.as_deref().unwrap()).await;
    let listings = listings.unwrap();
    assert_eq!(listings.len(), 3, "{listings:?}");
    assert!(listings.iter().all(|l| l.items == 3 && l.product_revision == "1"), "{listings:?}");
    let entry = s.data_products[0].clone();
    assert_eq!((entry.items, entry.listing_status.as_deref()), (3, Some("ACTIVE")));

    // `kubectl get` shows the product.
    let table = common::run_tool("kubectl", &["get", "rdp", &names[0], "-n", &w.ns]);
    assert!(table.lines().next().unwrap_or_default().contains("PRODUCT"), "{table}");
    assert!(table.contains(&names[0]), "{table}");

    // A resync: no data product call.
    let before = w.calls().await;
    w.resyncs(2).await;
    let resync = delta(&before, &w.calls().await);
    assert_eq!(product_calls(&resync), 0, "{}", by_operation(&resync));

    // `plan`: nothing to change, then a table added to the spec revises the data product.
    let sales = names.iter().find(|n| n.ends_with("sales")).unwrap().clone();
    let (code, out) = w.plan(&["--all"]).await;
    assert_eq!(code, 0, "nothing would change: {out}");
    let mut edited = w.products().get(&sales).await.unwrap();
    edited.spec.schemas[0].tables.push("refunds".into());
    edited.metadata.managed_fields = None;
    let file = std::env::temp_dir().join(format!("{}.plan.yaml", w.ns));
    std::fs::write(&file, serde_json::to_string(&edited).unwrap()).unwrap();
    let (code, out) = w.plan(&["-f", file.to_str().unwrap()]).await;
    assert_eq!(code, 2, "a change: {out}");
    assert!(out.contains(&format!("+ revise data product {sales} (adds refunds) and publish it")), "{out}");

    // A table added to the Redshift catalog of an addAllTables schema: after the next run, one
    // revision with four items, published.
    let finance = names.iter().find(|n| n.ends_with("finance")).unwrap().clone();
    {
        let mut state = w.emulator.shared.lock_state();
        let db = state.catalog.iter_mut().flat_map(|c| c.databases.iter_mut()).find(|d| d.name == "finance");
        let schema = db.unwrap().schemas.iter_mut().find(|s| !s.tables.is_empty()).unwrap();
        schema.tables.push("budgets".into());
    }
    let before = w.calls().await;
    let annotate = json!({"metadata": {"annotations": {"dataproducts.dev/reconcile-requested-at": "budgets"}}});
    w.products().patch(&finance, &PatchParams::default(), &Patch::Merge(&annotate)).await.unwrap();
    let p = listed(&w, &finance, "2").await;
    let added = delta(&before, &w.calls().await);
    assert_eq!(count(&added, "datazone:CreateDataProductRevision"), 1, "{}", by_operation(&added));
    assert_eq!(p.status.unwrap().data_products[0].items, 4);
    let state = w.state().await;
    let row = catalog(&state).into_iter().find(|r| r.0 == finance).unwrap();
    assert_eq!((row.1.as_str(), row.2, row.3.len()), ("2", true, 4), "{row:?}");
    assert!(row.3.contains("budgets"), "{row:?}");

    // A description edited in Git: one revision.
    let before = w.calls().await;
    declare(&w, &sales, json!({"description": "Every order of the EU shops"})).await;
    listed(&w, &sales, "2").await;
    let edited = delta(&before, &w.calls().await);
    assert_eq!(count(&edited, "datazone:CreateDataProductRevision"), 1, "{}", by_operation(&edited));
    assert_eq!(count(&edited, "datazone:StartDataSourceRun"), 0, "no run for a description");

    // Unpublished behind the operator's back: published again within a resync.
    let marketing = names.iter().find(|n| n.ends_with("marketing")).unwrap().clone();
    let id = w.products().get(&marketing).await.unwrap().status.unwrap().data_products[0].id.clone().unwrap();
    let domain = s.domain_id.clone().unwrap();
    let admin = clients.project(&common::aws::registration("Test/portal", "portal", "optional"));
    admin.change_data_product_listing(&domain, &id, None, false, "portal-unpublish").await.unwrap();
    let started = std::time::Instant::now();
    eventually(Duration::from_secs(30), || async {
        let state = w.state().await;
        let row = catalog(&state).into_iter().find(|r| r.0 == marketing).unwrap();
        if row.2 { Ok(()) } else { Err(format!("{row:?}")) }
    })
    .await;
    println!("republished {:.1}s after it was unpublished (resync 4 s)", started.elapsed().as_secs_f64());

    // Deleting: with Delete no data product, then no data source; with Retain it stays published.
    let retain = json!({"spec": {"deletionPolicy": "Retain"}});
    w.products().patch(&marketing, &PatchParams::default(), &Patch::Merge(&retain)).await.unwrap();
    for name in [&finance, &marketing] {
        w.products().delete(name, &DeleteParams::default()).await.unwrap();
        w.gone(name).await;
    }
    let state = w.state().await;
    let left: Vec<String> = catalog(&state).into_iter().filter(|r| r.2).map(|r| r.0).collect();
    assert!(left.contains(&marketing) && !left.contains(&finance), "{left:?}");
    assert!(catalog(&state).iter().all(|r| r.0 != finance), "the finance data product is deleted");
    let sources: Vec<String> =
        ours(&state).iter().map(|d| d["name"].as_str().unwrap_or_default().to_string()).collect();
    assert!(!sources.iter().any(|n| n.ends_with("finance")), "and then its data source: {sources:?}");
    assert!(sources.iter().any(|n| n.ends_with("marketing")), "Retain keeps the data source: {sources:?}");
}

#[tokio::test]
#[ignore = "needs a real API server: make e2e"]
async fn a_data_product_in_a_v2_domain() {
    let w = world_in("dpv2", "optional", V2_DOMAIN).await;
    let mut p =
        serde_json::to_value(w.product("orders", "analytics", "sales", "public", &["orders", "customers"])).unwrap();
    p["spec"]["dataProduct"] = json!({"description": "Orders in Unified Studio"});
    w.apply(&serde_json::from_value(p).unwrap()).await;
    let ready = w.all_ready(&["orders".to_string()]).await;
    let s = ready[0].status.clone().unwrap();
    assert_eq!(s.domain_version.as_deref(), Some("V2"));
    assert_eq!((s.data_products[0].items, s.data_products[0].listing_status.as_deref()), (2, Some("ACTIVE")));
    let state = w.state().await;
    let rows = catalog(&state);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!((rows[0].2, rows[0].3.clone()), (true, ["customers", "orders"].iter().map(|s| s.to_string()).collect()));
}
