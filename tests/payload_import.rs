//! The reference payloads import into manifests that carry everything they said: reading the
//! printed YAML back and mapping it to a payload gives the original JSON, key for key.

use datazone_operator::crd::{ConnectionKind, DeletionPolicy, RedshiftDataProduct};
use datazone_operator::payload::{ImportOptions, import, parse_payload, payload_of, render_manifests};

fn options() -> ImportOptions {
    ImportOptions {
        connection: "corp-mesh".into(),
        connection_kind: ConnectionKind::ClusterDataZoneConnection,
        project: "sales".into(),
        credentials_secret_arn: "arn:aws:secretsmanager:eu-central-1:222222222222:secret:dz-redshift-AbCdEf".into(),
        namespace: Some("team-sales".into()),
        deletion_policy: DeletionPolicy::Retain,
        data_product: false,
    }
}

fn round_trip(file: &str, expected_names: &[&str]) {
    let path = format!("{}/examples/payloads/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    let original: serde_json::Value = serde_json::from_str(&text).unwrap();

    let products = import(&parse_payload(&text).unwrap(), &options());
    let yaml = render_manifests(&products).unwrap();
    let read_back: Vec<RedshiftDataProduct> = serde_saphyr::from_str_multiple(&yaml).unwrap();

    let names: Vec<_> = read_back.iter().map(|p| p.metadata.name.clone().unwrap()).collect();
    assert_eq!(names, expected_names, "one manifest per dataset, in payload order");
    for product in &read_back {
        assert_eq!(product.metadata.namespace.as_deref(), Some("team-sales"));
        product.validate_cel().unwrap();
    }
    let payload = serde_json::to_value(payload_of(&read_back).unwrap()).unwrap();
    assert_eq!(payload, original, "{file}: the manifests must say everything the payload said");
}

#[test]
fn reference_payload_with_three_databases_round_trips() {
    round_trip("three-databases.json", &["prod-dwh-sales", "prod-dwh-marketing", "prod-dwh-finance"]);
}

#[test]
fn reference_payload_with_two_schemas_round_trips() {
    round_trip("two-schemas.json", &["prod-dwh-sales"]);
}
