//! The manifests in `examples/` are typed, complete and pass the CRDs' CEL rules.

use std::path::{Path, PathBuf};

use datazone_operator::crd::{
    ClusterDataZoneConnection, DataZoneConnection, DataZoneGlossary, DataZoneSubscription, RedshiftDataProduct,
};
use serde::de::DeserializeOwned;

fn yaml_files(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join(dir);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    files
}

/// Parses `path` as `T` and checks that the typed object says everything the file says (no
/// misspelt field silently ignored).
fn typed<T: DeserializeOwned + serde::Serialize>(path: &Path) -> T {
    let text = std::fs::read_to_string(path).unwrap();
    let object: T = serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let raw: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
    let typed = serde_json::to_value(&object).unwrap();
    assert_subset(&raw, &typed, &path.display().to_string());
    object
}

fn assert_subset(raw: &serde_json::Value, typed: &serde_json::Value, at: &str) {
    match (raw, typed) {
        (serde_json::Value::Object(r), serde_json::Value::Object(t)) => {
            for (key, value) in r {
                match t.get(key) {
                    Some(got) => assert_subset(value, got, &format!("{at}.{key}")),
                    // Empty lists are left out when serializing; anything else missing was dropped.
                    None if value.as_array().is_some_and(Vec::is_empty) => {}
                    None => panic!("{at}.{key} is not a field of the API"),
                }
            }
        }
        (serde_json::Value::Array(r), serde_json::Value::Array(t)) => {
            assert_eq!(r.len(), t.len(), "{at}");
            for (i, (rv, tv)) in r.iter().zip(t).enumerate() {
                assert_subset(rv, tv, &format!("{at}[{i}]"));
            }
        }
        (r, t) => assert_eq!(r, t, "{at}"),
    }
}

#[test]
fn data_product_examples_are_valid() {
    let files = yaml_files("dataproducts");
    assert!(files.len() >= 4, "one example per payload pattern plus serverless");
    for path in files {
        let product: RedshiftDataProduct = typed(&path);
        product.validate_cel().unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}

#[test]
fn connection_examples_are_valid() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/connections");
    let namespaced: DataZoneConnection = typed(&dir.join("datazone-connection.yaml"));
    namespaced.validate_cel().unwrap();
    let cluster: ClusterDataZoneConnection = typed(&dir.join("cluster-datazone-connection.yaml"));
    cluster.validate_cel().unwrap();
}

#[test]
fn glossary_examples_are_valid() {
    for path in yaml_files("glossaries") {
        let g: DataZoneGlossary = typed(&path);
        assert!(!g.spec.terms.is_empty(), "{}", path.display());
    }
}

#[test]
fn subscription_examples_are_valid() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/subscriptions");
    let connection: DataZoneConnection = typed(&dir.join("analytics-connection.yaml"));
    assert!(connection.spec.connection.producer.is_none(), "a consumer's connection names no producer roles");
    let s: DataZoneSubscription = typed(&dir.join("orders-for-reports.yaml"));
    s.validate_cel().unwrap();
    assert_eq!(s.spec.connection_ref.name, connection.metadata.name.unwrap_or_default());
}

#[test]
fn every_pattern_of_the_reference_payload_has_an_example() {
    let products: Vec<RedshiftDataProduct> = yaml_files("dataproducts").iter().map(|p| typed(p)).collect();
    let has = |f: &dyn Fn(&datazone_operator::crd::SchemaSelection) -> bool| {
        products.iter().any(|p| p.spec.schemas.iter().any(f))
    };
    assert!(
        has(&|s| !s.add_all_tables && !s.add_all_views && !s.tables.is_empty() && !s.views.is_empty()),
        "explicit tables and views"
    );
    assert!(has(&|s| s.add_all_tables && s.add_all_views), "all tables and all views");
    assert!(has(&|s| s.add_all_tables && !s.add_all_views && !s.views.is_empty()), "all tables plus named views");
    assert!(products.iter().any(|p| p.spec.redshift.workgroup_name.is_some()), "a serverless workgroup");
}
