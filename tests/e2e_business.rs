//! Business metadata end to end: the operator binary against the real API server (`make e2e`)
//! and the emulator. A glossary declared in Git gets its terms; a data product with two forms,
//! three glossary terms and descriptions on two tables becomes Ready with every asset carrying
//! the forms and exactly those two the terms and descriptions, each published in its new
//! revision; a resync makes no asset call; one description edited makes one revision and one
//! publication; an unknown term is a condition naming it.

mod common;

use std::time::Duration;

use common::eventually;
use common::world::{World, by_operation, condition, count, datazone_calls, delta, world};
use datazone_operator::crd::{DataZoneGlossary, RedshiftDataProduct};
use datazone_operator::datazone::{Backend, Catalog};
use kube::Api;
use kube::api::{Patch, PatchParams};
use serde_json::{Value, json};

/// The calls a data product makes for its assets' business metadata (a glossary reads its own
/// terms at its resyncs: two Searches, not counted here).
const ASSET_CALLS: [&str; 3] = ["GetAsset", "CreateAssetRevision", "CreateListingChangeSet"];

fn glossary(w: &World, terms: &[&str]) -> DataZoneGlossary {
    let terms: Vec<Value> =
        terms.iter().map(|t| json!({"name": t, "shortDescription": format!("what {t} means")})).collect();
    serde_json::from_value(json!({
        "apiVersion": "dataproducts.dev/v1alpha1", "kind": "DataZoneGlossary",
        "metadata": {"name": "sales-terms", "namespace": w.ns},
        "spec": {
            "connectionRef": {"kind": "ClusterDataZoneConnection", "name": w.connection},
            "project": "sales", "name": "Sales", "terms": terms,
        }
    }))
    .unwrap()
}

/// The data product: two forms for every asset, descriptions and three terms on two tables.
fn described(w: &World, orders_description: &str, customer_terms: &[&str]) -> RedshiftDataProduct {
    let mut p = serde_json::to_value(w.product("described", "sales", "sales", "public", &[])).unwrap();
    p["spec"]["metadataForms"] = json!([
        {"formName": "ownership", "typeName": "OwnershipFormType", "content": {"owner": "sales-analytics"}},
        {"formName": "quality", "typeName": "QualityFormType", "content": {"tier": 1}},
    ]);
    p["spec"]["schemas"] = json!([{
        "name": "public",
        "views": ["v_orders"],
        "assets": [
            {"name": "customers", "description": "Everyone who bought", "glossaryTerms": customer_terms},
            {"name": "orders", "description": orders_description, "glossaryTerms": ["Sales/Revenue"]},
        ],
    }]);
    serde_json::from_value(p).unwrap()
}

async fn apply_glossary(w: &World, g: &DataZoneGlossary) -> DataZoneGlossary {
    let api: Api<DataZoneGlossary> = Api::namespaced(w.client.clone(), &w.ns);
    api.patch("sales-terms", &PatchParams::apply("e2e").force(), &Patch::Apply(g)).await.unwrap();
    eventually(Duration::from_secs(60), || async {
        let g = api.get("sales-terms").await.map_err(|e| e.to_string())?;
        let ready = g.status.as_ref().and_then(|s| s.conditions.iter().find(|c| c.type_ == "Ready"));
        match ready {
            Some(c) if format!("{:?}", c.status) == "True" => Ok(g),
            other => Err(format!("glossary: {other:?}")),
        }
    })
    .await
}

fn asset_calls(calls: &Value) -> u64 {
    ASSET_CALLS.iter().map(|op| count(calls, &format!("datazone:{op}"))).sum()
}

#[tokio::test]
#[ignore = "needs a real API server: make e2e"]
async fn declared_business_metadata_reaches_the_catalog_once() {
    let w = world("business", "optional").await;
    let g = apply_glossary(&w, &glossary(&w, &["Customer", "PII", "Revenue"])).await;
    let status = g.status.clone().unwrap();
    assert_eq!(status.term_count, Some(3), "the glossary from Git has its terms");
    let before = w.calls().await;

    w.apply(&described(&w, "Every order", &["Customer", "PII"])).await;
    let ready = w.all_ready(&["described".to_string()]).await;
    let s = ready[0].status.clone().unwrap();
    let publish = delta(&before, &w.calls().await);
    println!(
        "budget business metadata: one data product, 3 assets (2 described): {} DataZone calls: {}",
        datazone_calls(&publish),
        by_operation(&publish)
    );
    assert_eq!(
        count(&publish, "datazone:CreateAssetRevision"),
        2,
        "one revision per described asset, none for the view"
    );
    assert_eq!(count(&publish, "datazone:CreateListingChangeSet"), 2, "one publication per revision");
    assert_eq!(condition(&ready[0], "MetadataApplied").map(|c| c.0), Some("True".into()));

    // What the catalog shows, read through the operator's own SDK layer.
    let clients = common::aws::clients(&w.emulator.endpoint(), 50.0).await;
    let dz = clients.project(&common::aws::registration("Test/readback", "test", "optional"));
    let domain = s.domain_id.clone().unwrap();
    let state = w.state().await;
    let terms: Vec<String> = ["Customer", "PII", "Revenue"]
        .iter()
        .map(|name| {
            let t = state["glossaryTerms"].as_array().unwrap().iter().find(|t| t["name"] == *name).expect("a term");
            t["id"].as_str().unwrap().to_string()
        })
        .collect();
    for a in &s.assets {
        let id = a.asset_id.clone().unwrap();
        let asset = dz.get_asset(&domain, &id).await.unwrap();
        let forms: Vec<&str> = asset.forms.iter().map(|f| f.name.as_str()).collect();
        assert!(forms.contains(&"ownership") && forms.contains(&"quality"), "{}: {forms:?}", a.name);
        let (description, mut on) = (asset.description.clone(), asset.glossary_terms.clone());
        on.sort();
        match a.name.as_str() {
            "customers" => {
                let mut want = vec![terms[0].clone(), terms[1].clone()];
                want.sort();
                assert_eq!((description.as_deref(), on), (Some("Everyone who bought"), want));
            }
            "orders" => assert_eq!((description.as_deref(), on), (Some("Every order"), vec![terms[2].clone()])),
            _ => assert_eq!((description, on), (None, vec![]), "{}: nothing declared", a.name),
        }
        // Published in the revision it has now.
        let listing = state["listings"].as_array().unwrap().iter().find(|l| l["assetId"] == id).expect("listed");
        let last = listing["revisions"].as_array().unwrap().last().unwrap();
        assert_eq!(last["assetRevision"].as_str(), Some(asset.revision.as_str()), "{}: {listing}", a.name);
    }

    // A resync: no asset call at all.
    let before = w.calls().await;
    w.resyncs(2).await;
    let resync = delta(&before, &w.calls().await);
    assert_eq!(asset_calls(&resync), 0, "a resync makes no asset call: {}", by_operation(&resync));

    // One table's description edited: one revision, one publication, no run.
    let before = w.calls().await;
    w.apply(&described(&w, "Every order, net of returns", &["Customer", "PII"])).await;
    eventually(Duration::from_secs(60), || async {
        let p = w.products().get("described").await.map_err(|e| e.to_string())?;
        let s = p.status.clone().unwrap_or_default();
        let current = s.observed_generation == p.metadata.generation;
        let applied = condition(&p, "MetadataApplied").is_some_and(|c| c.0 == "True");
        if current && applied { Ok(()) } else { Err(format!("{:?}", condition(&p, "MetadataApplied"))) }
    })
    .await;
    let edit = delta(&before, &w.calls().await);
    assert_eq!(count(&edit, "datazone:CreateAssetRevision"), 1, "{}", by_operation(&edit));
    assert_eq!(count(&edit, "datazone:CreateListingChangeSet"), 1, "{}", by_operation(&edit));
    assert_eq!(count(&edit, "datazone:StartDataSourceRun"), 0, "a description is no reason for a run");
    let orders = s.assets.iter().find(|a| a.name == "orders").and_then(|a| a.asset_id.clone()).unwrap();
    assert_eq!(
        dz.get_asset(&domain, &orders).await.unwrap().description.as_deref(),
        Some("Every order, net of returns")
    );

    // A term nobody declared: a condition naming it.
    w.apply(&described(&w, "Every order, net of returns", &["Customer", "Churned"])).await;
    let refused = w.condition_is("described", "MetadataApplied", "False", "UnknownGlossaryTerm").await;
    let (_, _, message) = condition(&refused, "MetadataApplied").unwrap();
    assert!(message.contains("Churned") && message.contains("customers"), "{message}");
}

#[tokio::test]
#[ignore = "needs a real API server: make e2e"]
async fn suggestions_are_asked_for_once_per_asset_and_never_accepted() {
    let w = world("suggest", "optional").await;
    let mut p = w.product("suggested", "sales", "sales", "public", &["orders", "customers"]);
    p.spec.publishing =
        serde_json::from_value(json!({"generateMetadata": ["BUSINESS_DESCRIPTIONS", "BUSINESS_NAMES"]})).unwrap();
    w.apply(&p).await;
    w.all_ready(&["suggested".to_string()]).await;
    let runs = |state: &Value| state["metadataGenerationRuns"].as_array().cloned().unwrap_or_default();
    let state = w.state().await;
    assert_eq!(runs(&state).len(), 2, "one run per asset: {:#?}", runs(&state));
    for r in runs(&state) {
        assert_eq!(r["types"], json!(["BUSINESS_DESCRIPTIONS", "BUSINESS_NAMES"]), "{r}");
    }
    let before = w.calls().await;
    w.resyncs(2).await;
    let resync = delta(&before, &w.calls().await);
    assert_eq!(count(&resync, "datazone:StartMetadataGenerationRun"), 0, "asked once: {}", by_operation(&resync));
    let assets = w.state().await["assets"].as_array().cloned().unwrap_or_default();
    assert!(
        assets.iter().all(|a| a["revision"] == "2" || a["revision"] == "1"),
        "nothing accepted by the operator: {assets:#?}"
    );
}
