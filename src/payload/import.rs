//! Payload → `RedshiftDataProduct` manifests, and back (so nothing of a payload is lost: the
//! inverse mapping reproduces it exactly).

use std::collections::{BTreeMap, BTreeSet};

use super::model::{Dataset, Payload, PayloadSchema};
use crate::crd::{
    CatalogProduct, ConnectionKind, ConnectionRef, DeletionPolicy, RedshiftDataProduct, RedshiftDataProductSpec,
    RedshiftSource, SchemaSelection,
};
use crate::naming::{dns1123_label, with_suffix};

/// Annotation keeping the payload's `source`.
pub const SOURCE_ANNOTATION: &str = "dataproducts.dev/payload-source";
/// Annotation keeping the payload's `detail-type`.
pub const DETAIL_TYPE_ANNOTATION: &str = "dataproducts.dev/payload-detail-type";

/// Longest generated name: a label value fits, and so does the data source name derived from it.
const NAME_MAX: usize = 63;

/// What the payload does not say and the user must: where to publish, with which credentials.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    pub connection: String,
    pub connection_kind: ConnectionKind,
    pub project: String,
    pub credentials_secret_arn: String,
    pub namespace: Option<String>,
    pub deletion_policy: DeletionPolicy,
    /// Each dataset also a DataZone data product of all its assets.
    pub data_product: bool,
}

/// One `RedshiftDataProduct` per dataset, in payload order, named `<cluster>-<database>`
/// (DNS-1123); later datasets whose name is taken get `-2`, `-3`, ….
pub fn import(payload: &Payload, options: &ImportOptions) -> Vec<RedshiftDataProduct> {
    let mut taken = BTreeSet::new();
    payload
        .datasets
        .iter()
        .map(|dataset| {
            let name = unique_name(&dataset.cluster_name, &dataset.db_name, &mut taken);
            product(payload, dataset, name, options)
        })
        .collect()
}

fn unique_name(cluster: &str, database: &str, taken: &mut BTreeSet<String>) -> String {
    let base = dns1123_label(&format!("{cluster}-{database}"), NAME_MAX);
    let name = std::iter::once(base.clone())
        .chain((2..).map(|n| with_suffix(&base, n, NAME_MAX)))
        .find(|candidate| !taken.contains(candidate))
        .unwrap_or(base);
    taken.insert(name.clone());
    name
}

fn product(payload: &Payload, dataset: &Dataset, name: String, options: &ImportOptions) -> RedshiftDataProduct {
    let annotations: BTreeMap<String, String> =
        [(SOURCE_ANNOTATION, payload.source.as_ref()), (DETAIL_TYPE_ANNOTATION, payload.detail_type.as_ref())]
            .into_iter()
            .filter_map(|(key, value)| value.map(|v| (key.to_string(), v.clone())))
            .collect();
    let spec = RedshiftDataProductSpec {
        lineage: None,
        // The Lambda left every request to a person.
        access: None,
        retirement: None,
        connection_ref: ConnectionRef { kind: options.connection_kind, name: options.connection.clone() },
        project: options.project.clone(),
        redshift: RedshiftSource {
            cluster_name: Some(dataset.cluster_name.clone()),
            workgroup_name: None,
            database: dataset.db_name.clone(),
            credentials_secret_arn: options.credentials_secret_arn.clone(),
        },
        schemas: dataset.schemas.iter().map(schema_selection).collect(),
        publishing: None,
        metadata_forms: Vec::new(),
        schedule: None,
        deletion_policy: options.deletion_policy,
        adopt: None,
        // The Lambda published the assets on their own; `--data-product` also groups them.
        data_product: options.data_product.then(CatalogProduct::default),
    };
    let mut product = RedshiftDataProduct::new(&name, spec);
    product.metadata.namespace = options.namespace.clone();
    product.metadata.annotations = (!annotations.is_empty()).then_some(annotations);
    product
}

fn schema_selection(schema: &PayloadSchema) -> SchemaSelection {
    SchemaSelection {
        name: schema.schema_name.clone(),
        add_all_tables: schema.add_all_tables,
        add_all_views: schema.add_all_views,
        tables: schema.tables.clone(),
        views: schema.views.clone(),
        assets: Vec::new(),
    }
}

/// The dataset a data product stands for (`None` for a serverless workgroup, which the
/// reference payload cannot express). The inverse of [`import`] for one dataset.
pub fn dataset_of(product: &RedshiftDataProduct) -> Option<Dataset> {
    let spec = &product.spec;
    Some(Dataset {
        cluster_name: spec.redshift.cluster_name.clone()?,
        db_name: spec.redshift.database.clone(),
        schemas: spec
            .schemas
            .iter()
            .map(|s| PayloadSchema {
                schema_name: s.name.clone(),
                add_all_tables: s.add_all_tables,
                add_all_views: s.add_all_views,
                tables: s.listed_tables().cloned().collect(),
                views: s.listed_views().cloned().collect(),
            })
            .collect(),
    })
}

/// The payload a set of imported data products stands for, annotations included.
pub fn payload_of(products: &[RedshiftDataProduct]) -> Option<Payload> {
    let annotation =
        |key: &str| products.first().and_then(|p| p.metadata.annotations.as_ref()).and_then(|a| a.get(key)).cloned();
    Some(Payload {
        source: annotation(SOURCE_ANNOTATION),
        detail_type: annotation(DETAIL_TYPE_ANNOTATION),
        datasets: products.iter().map(dataset_of).collect::<Option<Vec<_>>>()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload::parse_payload;

    fn options() -> ImportOptions {
        ImportOptions {
            connection: "central".into(),
            connection_kind: ConnectionKind::ClusterDataZoneConnection,
            project: "sales".into(),
            credentials_secret_arn: "arn:aws:secretsmanager:eu-central-1:222222222222:secret:dz-redshift-AbCdEf".into(),
            namespace: Some("team-sales".into()),
            deletion_policy: DeletionPolicy::Delete,
            data_product: false,
        }
    }

    fn names(json: &str) -> Vec<String> {
        import(&parse_payload(json).unwrap(), &options()).into_iter().map(|p| p.metadata.name.unwrap()).collect()
    }

    #[test]
    fn names_derive_from_cluster_and_database() {
        let json = r#"{"datasets": [
            {"clusterName": "prod-dwh", "dbName": "Sales_EU", "schemas": [{"schemaName": "s", "addAllTables": true}]},
            {"clusterName": "prod-dwh", "dbName": "marketing", "schemas": [{"schemaName": "s", "addAllTables": true}]}]}"#;
        assert_eq!(names(json), ["prod-dwh-sales-eu", "prod-dwh-marketing"]);
    }

    #[test]
    fn colliding_names_are_disambiguated_in_order() {
        let json = r#"{"datasets": [
            {"clusterName": "prod-dwh", "dbName": "sales", "schemas": [{"schemaName": "a", "addAllTables": true}]},
            {"clusterName": "prod-dwh", "dbName": "sales", "schemas": [{"schemaName": "b", "addAllTables": true}]},
            {"clusterName": "prod-dwh", "dbName": "SALES", "schemas": [{"schemaName": "c", "addAllTables": true}]}]}"#;
        assert_eq!(names(json), ["prod-dwh-sales", "prod-dwh-sales-2", "prod-dwh-sales-3"]);
    }

    #[test]
    fn data_product_makes_each_dataset_one_datazone_data_product_and_is_off_by_default() {
        let json = r#"{"datasets": [
            {"clusterName": "prod-dwh", "dbName": "sales", "schemas": [{"schemaName": "public", "tables": ["orders"]}]}]}"#;
        let parsed = parse_payload(json).unwrap();
        assert_eq!(import(&parsed, &options())[0].spec.data_product, None, "as the Lambda did");
        let grouped = import(&parsed, &ImportOptions { data_product: true, ..options() });
        let spec = serde_json::to_value(&grouped[0].spec).unwrap();
        assert_eq!(spec["dataProduct"], serde_json::json!({}), "the one line: `dataProduct: {{}}`");
    }

    #[test]
    fn options_land_in_every_product() {
        let json = r#"{"source": "redshift-user-initiated", "datasets": [
            {"clusterName": "prod-dwh", "dbName": "sales", "schemas": [{"schemaName": "public", "tables": ["orders"]}]}]}"#;
        let products = import(&parse_payload(json).unwrap(), &options());
        let p = &products[0];
        assert_eq!(p.metadata.namespace.as_deref(), Some("team-sales"));
        assert_eq!(p.spec.connection_ref.kind, ConnectionKind::ClusterDataZoneConnection);
        assert_eq!(p.spec.connection_ref.name, "central");
        assert_eq!(p.spec.project, "sales");
        assert_eq!(p.spec.deletion_policy, DeletionPolicy::Delete);
        assert_eq!(p.spec.redshift.cluster_name.as_deref(), Some("prod-dwh"));
        let annotations = p.metadata.annotations.as_ref().unwrap();
        assert_eq!(annotations.get(SOURCE_ANNOTATION).map(String::as_str), Some("redshift-user-initiated"));
        assert!(!annotations.contains_key(DETAIL_TYPE_ANNOTATION), "absent keys stay absent");
    }
}
