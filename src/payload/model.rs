//! The registration payload of the reference architecture (one entry per dataset), as the
//! reference Lambda receives it:
//!
//! ```json
//! {"source": "redshift-user-initiated",
//!  "detail-type": "Amazon Redshift dataset registration in Amazon DataZone",
//!  "datasets": [{"clusterName": "c1", "dbName": "db1",
//!    "schemas": [{"schemaName": "s1", "addAllTables": false, "addAllViews": false,
//!                 "tables": ["t1", "t2"], "views": ["v1"]}]}]}
//! ```

use serde::Serialize;

/// A whole payload.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct Payload {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(rename = "detail-type", skip_serializing_if = "Option::is_none")]
    pub detail_type: Option<String>,
    pub datasets: Vec<Dataset>,
}

/// One dataset: a cluster, a database and the schemas to publish from it.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Dataset {
    pub cluster_name: String,
    pub db_name: String,
    pub schemas: Vec<PayloadSchema>,
}

/// One schema of a dataset.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PayloadSchema {
    pub schema_name: String,
    pub add_all_tables: bool,
    pub add_all_views: bool,
    pub tables: Vec<String>,
    pub views: Vec<String>,
}
