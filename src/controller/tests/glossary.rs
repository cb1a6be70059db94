//! DataZoneGlossary: the glossary and its terms are made once (client tokens), descriptions
//! follow the spec, a name another project has is a clear condition, and a term it makes is at
//! once usable by a data product of the domain.

use std::sync::Arc;

use serde_json::json;

use super::business::{described, first_run};
use super::{Harness, NS, condition, message, strings};
use crate::controller::glossary;
use crate::crd::DataZoneGlossary;
use crate::crd::conditions::{self, ConditionStatus, READY};

fn glossary(h: &Harness, edit: impl FnOnce(&mut serde_json::Value)) -> DataZoneGlossary {
    let mut object = json!({
        "apiVersion": "dataproducts.dev/v1alpha1", "kind": "DataZoneGlossary",
        "metadata": {"name": "sales-terms", "namespace": NS, "uid": "uid-glossary", "generation": 1},
        "spec": {
            "connectionRef": {"kind": "DataZoneConnection", "name": "central"},
            "project": "sales",
            "name": "Sales",
            "description": "What sales means by its words",
            "terms": [
                {"name": "Customer", "shortDescription": "Someone who bought"},
                {"name": "Revenue", "shortDescription": "Net of returns"},
            ],
        }
    });
    edit(&mut object);
    h.api.put(
        &format!("/apis/dataproducts.dev/v1alpha1/namespaces/{NS}/datazoneglossaries/sales-terms"),
        object.clone(),
    );
    serde_json::from_value(object).expect("a valid glossary")
}

/// One pass; the glossary with the status it wrote, and the DataZone calls.
async fn pass(h: &Harness, g: &mut DataZoneGlossary) -> Vec<String> {
    glossary::reconcile::reconcile(Arc::new(g.clone()), h.ctx.clone()).await.expect("the pass succeeded");
    for r in h.api.take() {
        if r.method == "PATCH" && r.path.ends_with("/status") {
            g.status = serde_json::from_value(r.body["status"].clone()).expect("a status the CRD accepts");
        }
    }
    h.dz.take_calls()
}

fn ready(g: &DataZoneGlossary) -> (ConditionStatus, String, String) {
    let c = conditions::find(&g.status.as_ref().expect("status").conditions, READY).expect("Ready");
    (c.status, c.reason.clone(), c.message.clone())
}

#[tokio::test]
async fn a_glossary_and_its_terms_are_made_once_and_follow_the_spec() {
    let h = Harness::new();
    let mut g = glossary(&h, |_| {});
    let calls = pass(&h, &mut g).await;
    assert_eq!(
        calls[3..],
        strings(&[
            "Search GLOSSARY",
            "CreateGlossary Sales",
            "Search GLOSSARY_TERM",
            "CreateGlossaryTerm Customer",
            "CreateGlossaryTerm Revenue"
        ]),
        "{calls:?}"
    );
    assert_eq!(ready(&g).0, ConditionStatus::True, "{:?}", ready(&g));
    let status = g.status.clone().unwrap_or_default();
    assert_eq!((status.term_count, status.terms.len()), (Some(2), 2));

    let calls = pass(&h, &mut g).await;
    assert_eq!(calls, strings(&["Search GLOSSARY", "Search GLOSSARY_TERM"]), "nothing to change: reads only");

    let mut next = glossary(&h, |o| {
        o["spec"]["terms"][1]["shortDescription"] = json!("Gross, before returns");
        o["spec"]["terms"].as_array_mut().unwrap().push(json!({"name": "PII"}));
    });
    next.status = g.status.clone();
    let calls = pass(&h, &mut next).await;
    let revenue = next.status.as_ref().unwrap().terms.iter().find(|t| t.name == "Revenue").unwrap().id.clone();
    assert_eq!(
        calls,
        [
            "Search GLOSSARY".to_string(),
            "Search GLOSSARY_TERM".into(),
            format!("UpdateGlossaryTerm {revenue}"),
            "CreateGlossaryTerm PII".into()
        ]
    );
    let world = h.dz.world();
    assert_eq!(world.catalog_state.glossaries.len(), 1, "one glossary");
    assert_eq!(world.catalog_state.terms.len(), 3);
}

#[tokio::test]
async fn a_name_another_project_has_is_a_condition() {
    let h = Harness::new();
    {
        let mut w = h.dz.world();
        w.catalog_state.add_glossary("Sales", &[]);
        // Another project's glossary: this project's search does not see it.
        w.catalog_state.glossaries[0].project_id = "prj_other".into();
    }
    let mut g = glossary(&h, |_| {});
    pass(&h, &mut g).await;
    let (status, reason, message) = ready(&g);
    assert_eq!((status, reason.as_str()), (ConditionStatus::False, "GlossaryNameTaken"));
    assert!(message.contains("spec.name"), "{message}");
}

#[tokio::test]
async fn a_term_made_from_git_is_usable_by_a_data_product_at_once() {
    let h = Harness::new();
    let mut p = h.product("orders", described);
    first_run(&h, &mut p).await;
    h.pass(&mut p).await;
    assert_eq!(
        condition(&p, crate::crd::conditions::METADATA_APPLIED).map(|c| c.1),
        Some("UnknownGlossaryTerm".into())
    );
    let mut g =
        glossary(&h, |o| o["spec"]["terms"] = json!([{"name": "Customer"}, {"name": "PII"}, {"name": "Revenue"}]));
    pass(&h, &mut g).await;
    h.pass(&mut p).await;
    assert_eq!(
        condition(&p, crate::crd::conditions::METADATA_APPLIED).map(|c| c.1),
        Some("Applied".into()),
        "{}",
        message(&p, crate::crd::conditions::METADATA_APPLIED)
    );
}
