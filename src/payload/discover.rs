//! `import-payload --discover`: which data source of the project each imported dataset already
//! has (the reference Lambda's, or one made by hand), so its manifest adopts it instead of
//! creating a second one. The match is pure ([`candidates`]); the lookup makes read-only calls.

use std::collections::BTreeSet;

use crate::controller::decide::desired;
use crate::crd::patterns as p;
use crate::crd::{Adoption, RedshiftDataProduct};
use crate::datazone::sdk::{Clients, base_config};
use crate::datazone::{Backend, DataSourceInfo, DataZone, DzError, SessionKey};
use crate::metrics::Metrics;

/// What the project holds for one dataset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    /// No data source reads its cluster and database: the operator will create one.
    Nothing,
    /// Exactly one reads its cluster, database and schemas: adopted by ID.
    One { id: String, name: String },
    /// Several read its cluster, database and schemas: a person picks (listed in a comment).
    Several(Vec<(String, String)>),
    /// Some read its cluster and database, none exactly its schemas (an environment's default
    /// data source reads the whole database): listed in a comment, not adopted.
    Related(Vec<(String, String)>),
}

/// The REDSHIFT data sources among `sources` that the operator does not manage already (those the
/// adoption checks would take) and that read `product`'s cluster or workgroup and database; the
/// one to adopt is the one whose filters name exactly the product's schemas. A Data Warehouse
/// environment comes with a default data source of its own (docs/datazone-semantics.md §3): it
/// reads the same database, but not by schema, so it is listed, never chosen.
pub fn candidates(product: &RedshiftDataProduct, sources: &[DataSourceInfo]) -> Found {
    let storage = desired::storage(&product.spec);
    let schemas: BTreeSet<&str> = product.spec.schemas.iter().map(|s| s.name.as_str()).collect();
    let mut related = Vec::new();
    let mut exact = Vec::new();
    for d in
        sources.iter().filter(|d| d.kind.as_deref() == Some("REDSHIFT") && !desired::is_ours(d.description.as_deref()))
    {
        let Some(c) =
            d.config.as_ref().filter(|c| c.storage == storage && c.database == product.spec.redshift.database)
        else {
            continue;
        };
        let named: BTreeSet<&str> = c.filters.iter().map(|f| f.schema.as_str()).collect();
        let entry = (d.id.clone(), d.name.clone());
        if named == schemas { exact.push(entry) } else { related.push(entry) }
    }
    exact.sort();
    related.sort();
    match (exact.len(), related.is_empty()) {
        (1, _) => {
            let (id, name) = exact.remove(0);
            Found::One { id, name }
        }
        (0, true) => Found::Nothing,
        (0, false) => Found::Related(related),
        _ => Found::Several(exact),
    }
}

/// Every data source of the project, read in full (a listing has no type or configuration).
pub async fn project_data_sources<D: DataZone>(
    dz: &D,
    domain: &str,
    project: &str,
) -> Result<Vec<DataSourceInfo>, DzError> {
    let mut all = Vec::new();
    for summary in dz.list_data_sources(domain, project).await? {
        if let Some(ds) = dz.get_data_source(domain, &summary.id).await? {
            all.push(ds);
        }
    }
    Ok(all)
}

/// Where to look: the connection's settings, as flags.
pub struct Reach {
    pub region: String,
    /// A domain name, or an ID (`dzd_…`).
    pub domain: String,
    pub role_arn: String,
    pub external_id: Option<String>,
}

/// What the project (`project`: name or ID) holds for each of `products`, in order.
pub async fn discover(reach: &Reach, project: &str, products: &[RedshiftDataProduct]) -> Result<Vec<Found>, String> {
    let metrics = Metrics::new().map_err(|e| e.to_string())?;
    let clients = Clients::new(base_config().await, metrics, 20.0);
    let session = SessionKey {
        connection: "import-payload/discover".into(),
        role_arn: reach.role_arn.clone(),
        external_id: reach.external_id.clone(),
        region: reach.region.clone(),
        namespace: "import-payload".into(),
    };
    let dz = clients.project(&session);
    let failed = |e: DzError| format!("DataZone: {e}");
    let domain = if p::is_match(p::DOMAIN_ID, &reach.domain) {
        reach.domain.clone()
    } else {
        dz.find_domain(&reach.domain)
            .await
            .map_err(failed)?
            .map(|(id, _)| id)
            .ok_or(format!("no DataZone domain named {}", reach.domain))?
    };
    let project_id = dz
        .find_project(&domain, project)
        .await
        .map_err(failed)?
        .ok_or(format!("no project {project} in the domain"))?;
    let sources = project_data_sources(&dz, &domain, &project_id).await.map_err(failed)?;
    Ok(products.iter().map(|p| candidates(p, &sources)).collect())
}

/// Writes what was found into the manifest: `spec.adopt` for one; for several, the comment to
/// print above it.
pub fn apply(product: &mut RedshiftDataProduct, found: &Found) -> Option<String> {
    match found {
        Found::Nothing => None,
        Found::One { id, .. } => {
            product.spec.adopt = Some(Adoption { data_source_id: Some(id.clone()), data_source_name: None });
            None
        }
        Found::Several(all) | Found::Related(all) => {
            let list: Vec<String> = all.iter().map(|(id, name)| format!("{id} ({name})")).collect();
            let what = if matches!(found, Found::Several(_)) {
                "several data sources read this cluster, database and these schemas"
            } else {
                "no data source reads exactly these schemas, but these read this cluster and database"
            };
            Some(format!("{what}; to adopt one, set spec.adopt.dataSourceId to one of: {}", list.join(", ")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datazone::Storage;
    use crate::datazone::fake::made_elsewhere;

    fn source(id: &str, kind: &str, cluster: &str, database: &str, description: Option<&str>) -> DataSourceInfo {
        made_elsewhere(id, "prj", kind, Storage::Cluster(cluster.into()), database, description)
    }

    #[test]
    fn one_match_is_adopted_several_are_listed_none_is_left_alone() {
        let product: RedshiftDataProduct = serde_json::from_value(serde_json::json!({
            "apiVersion": "dataproducts.dev/v1alpha1", "kind": "RedshiftDataProduct", "metadata": {"name": "sales"},
            "spec": {"connectionRef": {"name": "c"}, "project": "sales",
                     "redshift": {"clusterName": "prod-dwh", "database": "sales", "credentialsSecretArn": "arn:x"},
                     "schemas": [{"name": "public", "addAllTables": true}]}
        }))
        .unwrap();
        let ours = desired::description("prod-eks", "team", "other", "uid-1");
        let noise = [
            source("other-db", "REDSHIFT", "prod-dwh", "finance", None),
            source("other-cluster", "REDSHIFT", "dev-dwh", "sales", None),
            source("managed", "REDSHIFT", "prod-dwh", "sales", Some(&ours)),
        ];
        assert_eq!(candidates(&product, &noise), Found::Nothing);
        let mut one = noise.to_vec();
        one.push(source("lambda", "REDSHIFT", "prod-dwh", "sales", Some("made by the Lambda")));
        let found = candidates(&product, &one);
        assert_eq!(found, Found::One { id: "lambda".into(), name: "lambda-name".into() });
        let mut adopted = product.clone();
        assert_eq!(apply(&mut adopted, &found), None);
        assert_eq!(adopted.spec.adopt.and_then(|a| a.data_source_id).as_deref(), Some("lambda"));
        let mut several = one.clone();
        several.push(source("by-hand", "REDSHIFT", "prod-dwh", "sales", None));
        let found = candidates(&product, &several);
        let comment = apply(&mut product.clone(), &found).expect("a comment");
        assert!(comment.starts_with("several data sources"), "{comment}");
        assert!(comment.contains("by-hand (by-hand-name), lambda (lambda-name)"), "{comment}");
        // An environment's default data source reads the whole database: listed, not adopted.
        let mut default = source("default", "REDSHIFT", "prod-dwh", "sales", None);
        default.config.as_mut().unwrap().filters.clear();
        assert_eq!(
            candidates(&product, &[default.clone()]),
            Found::Related(vec![("default".into(), "default-name".into())])
        );
        assert_eq!(
            candidates(&product, &[default, one[3].clone()]),
            Found::One { id: "lambda".into(), name: "lambda-name".into() },
            "the Lambda's, by its schemas, beside its environment's default"
        );
    }
}
