//! Business metadata: the data product's forms reach every asset (by the data source, at import),
//! descriptions and glossary terms reach the assets that declare them (one revision and one
//! publication each), an unchanged asset costs nothing, an unknown term is a condition naming it.

use serde_json::json;

use super::{Harness, condition, is, message, strings};
use crate::crd::RedshiftDataProduct;
use crate::crd::conditions::{ConditionStatus::False, ConditionStatus::True, METADATA_APPLIED, READY};
use crate::datazone::{AssetInfo, DataSourceStatus, EnvironmentStatus, RunStatus};

/// Two forms for every asset; a description and terms on `customers` and `orders`.
pub(super) fn described(p: &mut serde_json::Value) {
    p["spec"]["metadataForms"] = json!([
        {"formName": "ownership", "typeName": "OwnershipFormType", "content": {"owner": "sales-team"}},
        {"formName": "quality", "typeName": "QualityFormType", "content": {"tier": 1}},
    ]);
    p["spec"]["schemas"] = json!([{
        "name": "public",
        "views": ["v_orders"],
        "assets": [
            {"name": "customers", "description": "Everyone who bought", "glossaryTerms": ["Customer", "PII"]},
            {"name": "orders", "description": "Every order", "glossaryTerms": ["Sales/Revenue"]},
        ],
    }]);
}

fn status(p: &RedshiftDataProduct) -> crate::crd::RedshiftDataProductStatus {
    p.status.clone().unwrap_or_default()
}

/// Passes until `p`'s first run is started, settling what DataZone would settle; then ends the
/// run with the reference shape's objects created.
pub(super) async fn first_run(h: &Harness, p: &mut RedshiftDataProduct) -> String {
    first_run_of(h, p, &["orders", "customers", "v_orders"].map(String::from)).await
}

fn asset(h: &Harness, id: &str) -> AssetInfo {
    h.dz.world().catalog_state.assets.get(id).cloned().expect("asset")
}

fn count(calls: &[String], operation: &str) -> usize {
    calls.iter().filter(|c| c.split(' ').next() == Some(operation)).count()
}

#[tokio::test]
async fn declared_metadata_reaches_the_assets_once_and_an_unchanged_asset_costs_nothing() {
    let h = Harness::new();
    h.dz.world().catalog_state.add_glossary("Sales", &["Customer", "PII", "Revenue"]);
    let mut p = h.product("orders", described);
    first_run(&h, &mut p).await;
    let pass = h.pass(&mut p).await;
    let (customers, orders) = ("asset-customers", "asset-orders");
    assert_eq!(
        pass.calls[2..],
        strings(&[
            "Search GLOSSARY_TERM",
            "Search GLOSSARY",
            "GetAsset asset-customers",
            "CreateAssetRevision asset-customers",
            "CreateListingChangeSet asset-customers",
            "GetAsset asset-orders",
            "CreateAssetRevision asset-orders",
            "CreateListingChangeSet asset-orders",
        ]),
        "the view has the forms from its import: no call; the run's assets come from status, not another read"
    );
    assert_eq!(condition(&p, METADATA_APPLIED), is(True, "Applied"), "{}", message(&p, METADATA_APPLIED));
    assert_eq!(condition(&p, READY), is(True, "Published"));
    assert!(pass.events.contains(&"MetadataWritten".to_string()), "{:?}", pass.events);

    let term = |name: &str| h.dz.world().catalog_state.term_id(name);
    for id in [customers, orders, "asset-v_orders"] {
        let forms: Vec<String> = asset(&h, id).forms.iter().map(|f| f.name.clone()).collect();
        assert_eq!(forms, ["RedshiftTableForm", "ownership", "quality"], "{id}");
    }
    let c = asset(&h, customers);
    assert_eq!(
        (c.description.as_deref(), c.glossary_terms.clone()),
        (Some("Everyone who bought"), vec![term("Customer"), term("PII")])
    );
    assert_eq!(asset(&h, orders).glossary_terms, [term("Revenue")]);
    assert_eq!((asset(&h, "asset-v_orders").description, asset(&h, "asset-v_orders").revision), (None, "1".into()));
    assert_eq!(h.dz.world().catalog_state.listings[customers], ["1", "2"], "the new revision is published");
    let recorded: Vec<(String, Option<String>)> =
        status(&p).asset_metadata.iter().map(|e| (e.name.clone(), e.revision.clone())).collect();
    assert_eq!(recorded, [("customers".into(), Some("2".into())), ("orders".into(), Some("2".into()))]);
    let forms = status(&p).asset_forms.expect("the forms every other asset carries");
    assert_eq!((forms.forms, forms.moving_to), (vec!["ownership".to_string(), "quality".into()], None));

    for _ in 0..3 {
        let pass = h.pass(&mut p).await;
        let catalog = ["GetAsset", "CreateAssetRevision", "CreateListingChangeSet", "Search"];
        assert!(catalog.iter().all(|op| count(&pass.calls, op) == 0), "a resync makes no asset call: {:?}", pass.calls);
    }

    // One description edited: one revision, one publication, no run.
    let mut next = h.product("orders", |v| {
        described(v);
        v["spec"]["schemas"][0]["assets"][1]["description"] = json!("Every order, net of returns");
    });
    next.status = p.status.clone();
    next.metadata.generation = Some(2);
    let pass = h.pass(&mut next).await;
    assert_eq!(count(&pass.calls, "CreateAssetRevision"), 1, "{:?}", pass.calls);
    assert_eq!(count(&pass.calls, "CreateListingChangeSet"), 1, "{:?}", pass.calls);
    assert_eq!(count(&pass.calls, "StartDataSourceRun"), 0, "a description is no reason for a run: {:?}", pass.calls);
    assert_eq!(asset(&h, orders).description.as_deref(), Some("Every order, net of returns"));
    assert_eq!(asset(&h, orders).glossary_terms, [term("Revenue")], "the terms stay");
    assert_eq!(condition(&next, READY), is(True, "Published"));
}

#[tokio::test]
async fn an_unknown_term_is_a_condition_naming_it_and_the_other_assets_are_written() {
    let h = Harness::new();
    h.dz.world().catalog_state.add_glossary("Sales", &["Customer", "PII"]);
    let mut p = h.product("orders", described);
    first_run(&h, &mut p).await;
    let pass = h.pass(&mut p).await;
    assert!(pass.result.is_ok(), "not a failed pass: {:?}", pass.result);
    assert_eq!(condition(&p, METADATA_APPLIED), is(False, "UnknownGlossaryTerm"));
    let said = message(&p, METADATA_APPLIED);
    assert!(said.contains(r#"orders: "Sales/Revenue""#), "{said}");
    assert_eq!(condition(&p, READY), is(False, "UnknownGlossaryTerm"));
    assert_eq!(count(&pass.calls, "CreateAssetRevision"), 1, "customers is written: {:?}", pass.calls);

    // The term arrives (a DataZoneGlossary, a person): the next pass looks again and writes it.
    h.dz.world().catalog_state.add_glossary("Sales", &["Revenue"]);
    let pass = h.pass(&mut p).await;
    assert_eq!(count(&pass.calls, "CreateAssetRevision"), 1, "{:?}", pass.calls);
    assert_eq!(condition(&p, METADATA_APPLIED), is(True, "Applied"), "{}", message(&p, METADATA_APPLIED));
}

#[tokio::test]
async fn forms_declared_later_are_written_onto_every_asset_imported_before() {
    let h = Harness::new();
    let mut p = h.product("orders", |_| {});
    first_run(&h, &mut p).await;
    let pass = h.pass(&mut p).await;
    assert_eq!(condition(&p, METADATA_APPLIED), is(True, "NothingDeclared"));
    assert_eq!(count(&pass.calls, "GetAsset"), 0);

    let mut next = h.product("orders", |v| {
        v["spec"]["metadataForms"] =
            json!([{"formName": "ownership", "typeName": "OwnershipFormType", "content": {"owner": "sales"}}]);
    });
    next.status = p.status.clone();
    next.metadata.generation = Some(2);
    // The data source takes the forms (for assets imported from now on), and runs again.
    let mut started = None;
    for _ in 0..4 {
        let pass = h.pass(&mut next).await;
        let ds = status(&next).data_source_id.unwrap_or_default();
        h.dz.world().edit(&ds, |d| d.status = DataSourceStatus::Ready);
        if count(&pass.calls, "StartDataSourceRun") == 1 {
            started = status(&next).last_run.map(|r| r.id);
            break;
        }
    }
    let run = started.expect("a run for the new configuration");
    let forms = h.dz.world().data_sources[0].info.config.clone().map(|c| c.asset_forms.len());
    assert_eq!(forms, Some(1), "the data source carries the forms");
    let unchanged = [("orders", "UNCHANGED"), ("customers", "UNCHANGED"), ("v_orders", "UNCHANGED")];
    h.dz.world().finish_run(&run, RunStatus::Success, &unchanged);
    let pass = h.pass(&mut next).await;
    assert_eq!(count(&pass.calls, "CreateAssetRevision"), 3, "assets imported before get the forms: {:?}", pass.calls);
    for id in ["asset-orders", "asset-customers", "asset-v_orders"] {
        assert!(asset(&h, id).forms.iter().any(|f| f.name == "ownership"), "{id}");
    }
    assert_eq!(condition(&next, METADATA_APPLIED), is(True, "Applied"));
}

#[tokio::test]
async fn suggestions_are_asked_for_once_per_asset() {
    let h = Harness::new();
    let mut p =
        h.product("orders", |v| v["spec"]["publishing"] = json!({"generateMetadata": ["BUSINESS_DESCRIPTIONS"]}));
    first_run(&h, &mut p).await;
    let pass = h.pass(&mut p).await;
    assert_eq!(count(&pass.calls, "StartMetadataGenerationRun"), 3, "{:?}", pass.calls);
    assert_eq!(count(&pass.calls, "CreateAssetRevision"), 0, "suggestions are not accepted by the operator");
    let g = status(&p).metadata_generation.expect("recorded");
    assert_eq!((g.complete, g.started), (true, 3), "every asset had its run");
    assert!(status(&p).asset_metadata.is_empty(), "no entry per asset for it");
    let pass = h.pass(&mut p).await;
    assert_eq!(count(&pass.calls, "StartMetadataGenerationRun"), 0, "once: {:?}", pass.calls);
    assert_eq!(condition(&p, METADATA_APPLIED), is(True, "Applied"));
}

/// Passes until MetadataApplied is True for the current generation (at most `n`), settling data
/// sources and ending runs with every object UNCHANGED; the calls made.
async fn until_applied(h: &Harness, p: &mut RedshiftDataProduct, objects: &[String], n: usize) -> Vec<String> {
    let mut calls = Vec::new();
    for _ in 0..n {
        calls.extend(h.pass(p).await.calls);
        let ds = status(p).data_source_id.unwrap_or_default();
        h.dz.world().edit(&ds, |d| d.status = DataSourceStatus::Ready);
        if let Some(run) = status(p).last_run.filter(|r| r.status == "REQUESTED") {
            let unchanged: Vec<(&str, &str)> = objects.iter().map(|o| (o.as_str(), "UNCHANGED")).collect();
            h.dz.world().finish_run(&run.id, RunStatus::Success, &unchanged);
        }
        let current = p.status.as_ref().and_then(|s| crate::crd::conditions::find(&s.conditions, METADATA_APPLIED));
        if current.is_some_and(|c| c.observed_generation == p.metadata.generation && c.reason == "Applied") {
            return calls;
        }
    }
    panic!("not Applied after {n} passes: {}", message(p, METADATA_APPLIED));
}

fn next_generation(
    h: &Harness,
    p: &RedshiftDataProduct,
    edit: impl FnOnce(&mut serde_json::Value),
) -> RedshiftDataProduct {
    let mut next = h.product("orders", edit);
    next.status = p.status.clone();
    next.metadata.generation = p.metadata.generation.map(|g| g + 1);
    next
}

#[tokio::test]
async fn forms_reach_every_asset_of_a_data_product_beyond_what_status_lists() {
    let h = Harness::new();
    let tables: Vec<String> = (0..150).map(|i| format!("t{i:03}")).collect();
    let spec = |v: &mut serde_json::Value| {
        v["spec"]["schemas"] =
            json!([{"name": "public", "tables": (0..150).map(|i| format!("t{i:03}")).collect::<Vec<_>>()}])
    };
    let mut p = h.product("orders", spec);
    let run = first_run_of(&h, &mut p, &tables).await;
    assert!(!run.is_empty());
    h.pass(&mut p).await;
    assert_eq!(status(&p).assets.len(), 100, "status lists 100 of the 150 assets");

    let mut next = next_generation(&h, &p, |v| {
        spec(v);
        v["spec"]["metadataForms"] =
            json!([{"formName": "ownership", "typeName": "OwnershipFormType", "content": {"owner": "sales"}}]);
    });
    let calls = until_applied(&h, &mut next, &tables, 20).await;
    assert_eq!(count(&calls, "CreateAssetRevision"), 150, "every asset once");
    let world = h.dz.world();
    let without: Vec<&String> = world
        .catalog_state
        .assets
        .iter()
        .filter(|(_, a)| !a.forms.iter().any(|f| f.name == "ownership"))
        .map(|(id, _)| id)
        .collect();
    assert!(without.is_empty(), "assets without the form: {without:?}");
    let s = status(&next);
    assert!(s.asset_metadata.is_empty(), "no entry per asset: status stays small");
    assert_eq!(s.asset_forms.map(|f| f.forms), Some(vec!["ownership".to_string()]));
}

/// Passes until `p`'s first run is started, settling what DataZone would settle; then ends the
/// run with every one of `objects` created.
pub(super) async fn first_run_of(h: &Harness, p: &mut RedshiftDataProduct, objects: &[String]) -> String {
    for _ in 0..10 {
        h.pass(p).await;
        {
            let mut w = h.dz.world();
            for e in w.environments.iter_mut() {
                e.info.status = EnvironmentStatus::Active;
            }
            let ids: Vec<String> = w.data_sources.iter().map(|d| d.info.id.clone()).collect();
            for id in ids {
                w.edit(&id, |d| d.status = DataSourceStatus::Ready);
            }
        }
        if let Some(run) = status(p).last_run {
            let created: Vec<(&str, &str)> = objects.iter().map(|o| (o.as_str(), "SUCCEEDED_CREATED")).collect();
            h.dz.world().finish_run(&run.id, RunStatus::Success, &created);
            return run.id;
        }
    }
    panic!("no run started");
}

#[tokio::test]
async fn one_asset_datazone_refuses_does_not_hold_the_others_back() {
    let h = Harness::new();
    h.dz.world().catalog_state.add_glossary("Sales", &["Customer", "PII", "Revenue"]);
    let mut p = h.product("orders", described);
    first_run(&h, &mut p).await;
    h.dz.fail_next(
        "CreateAssetRevision",
        crate::datazone::ErrorClass::Terminal,
        "ValidationException",
        "member owner is required",
    );
    let pass = h.pass(&mut p).await;
    assert!(pass.result.is_ok(), "{:?}", pass.result);
    assert_eq!(count(&pass.calls, "CreateAssetRevision"), 2, "the second asset is written: {:?}", pass.calls);
    assert_eq!(condition(&p, METADATA_APPLIED), is(False, "MetadataRefused"));
    assert!(message(&p, METADATA_APPLIED).contains("customers: ValidationException: member owner is required"));
    let recorded: Vec<String> = status(&p).asset_metadata.iter().map(|e| e.name.clone()).collect();
    assert_eq!(recorded, ["orders"], "what was written is recorded");
}

#[tokio::test]
async fn a_description_written_back_is_a_new_revision_and_a_form_taken_out_comes_off() {
    let h = Harness::new();
    h.dz.world().catalog_state.add_glossary("Sales", &["Customer", "PII", "Revenue"]);
    let mut p = h.product("orders", described);
    first_run(&h, &mut p).await;
    h.pass(&mut p).await;
    let objects: Vec<String> = ["orders", "customers", "v_orders"].map(String::from).to_vec();
    let with = |description: &'static str| {
        move |v: &mut serde_json::Value| {
            described(v);
            v["spec"]["schemas"][0]["assets"][1]["description"] = json!(description);
        }
    };
    for (i, text) in ["B", "Every order", "B"].into_iter().enumerate() {
        let mut next = next_generation(&h, &p, with(text));
        next.metadata.generation = Some(2 + i as i64);
        until_applied(&h, &mut next, &objects, 5).await;
        assert_eq!(asset(&h, "asset-orders").description.as_deref(), Some(text), "written back: {text}");
        p = next;
    }
    assert_eq!(asset(&h, "asset-orders").revision, "5", "one revision each (A → B → A → B)");

    // One of the data product's two forms taken out of the spec: it comes off every asset.
    let mut next = next_generation(&h, &p, |v| {
        with("B")(v);
        v["spec"]["metadataForms"].as_array_mut().unwrap().pop();
    });
    until_applied(&h, &mut next, &objects, 5).await;
    for id in ["asset-orders", "asset-customers", "asset-v_orders"] {
        let forms: Vec<String> = asset(&h, id).forms.iter().map(|f| f.name.clone()).collect();
        assert_eq!(forms, ["RedshiftTableForm", "ownership"], "{id}");
    }
}

#[tokio::test]
async fn a_form_datazone_would_refuse_is_named_before_the_data_source_is_made() {
    let h = Harness::new();
    let big = "x".repeat(300_001);
    let mut p = h.product("orders", |v| {
        v["spec"]["metadataForms"] =
            json!([{"formName": "notes", "typeName": "NotesFormType", "content": {"text": big}}]);
    });
    let pass = h.pass(&mut p).await;
    assert!(!pass.calls.iter().any(|c| c.starts_with("Create")), "{:?}", pass.calls);
    assert_eq!(condition(&p, METADATA_APPLIED), is(False, "InvalidMetadataForm"));
    assert!(message(&p, METADATA_APPLIED).contains("over 300,000 characters"));
    assert_eq!(condition(&p, READY).map(|c| c.1), Some("InvalidMetadataForm".into()));
}
