//! `RedshiftDataProduct`: one dataset of the reference payload, i.e. one DataZone data source.

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::access::{AccessPolicy, AccessStatus};
use super::asset::AssetKind;
use super::business::{AssetDetails, MetadataForm, MetadataGeneration};
use super::catalog_product::{CatalogProduct, CatalogProductStatus};
use super::conditions::Condition;
use super::patterns as p;
use super::schedule::Schedule;

/// A set of Amazon Redshift tables and views to publish into an Amazon DataZone project, from one
/// cluster (or serverless workgroup) and database. The operator creates and runs one DataZone
/// data source for it and records every DataZone ID and run outcome in status.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "dataproducts.dev",
    version = "v1alpha1",
    kind = "RedshiftDataProduct",
    plural = "redshiftdataproducts",
    shortname = "rdp",
    category = "dataproducts",
    namespaced,
    cel,
    status = "RedshiftDataProductStatus",
    doc = "Redshift tables and views published into an Amazon DataZone project through one data source.",
    printcolumn(name = "Ready", type_ = "string", json_path = ".status.conditions[?(@.type==\"Ready\")].status"),
    printcolumn(name = "Reason", type_ = "string", json_path = ".status.conditions[?(@.type==\"Ready\")].reason"),
    printcolumn(name = "Cluster", type_ = "string", json_path = ".spec.redshift.clusterName"),
    printcolumn(name = "Workgroup", type_ = "string", json_path = ".spec.redshift.workgroupName", priority = 1),
    printcolumn(name = "Database", type_ = "string", json_path = ".spec.redshift.database"),
    printcolumn(name = "DataSource", type_ = "string", json_path = ".status.dataSourceId"),
    printcolumn(name = "Connection", type_ = "string", json_path = ".status.connectionId", priority = 1),
    printcolumn(name = "Last Run", type_ = "string", json_path = ".status.lastRun.status"),
    printcolumn(name = "Assets", type_ = "integer", json_path = ".status.publishedAssetCount"),
    printcolumn(name = "Product", type_ = "string", json_path = ".status.dataProducts[*].name"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[x_kube(
    validation = Rule::new("size(self.schemas) > 0").message("spec.schemas: at least one schema is required"),
    validation = Rule::new("self.project == oldSelf.project").message("spec.project is immutable: the data source belongs to its project; create a new RedshiftDataProduct to publish into another project"),
    validation = Rule::new("self.connectionRef == oldSelf.connectionRef").message("spec.connectionRef is immutable: it decides the DataZone domain; create a new RedshiftDataProduct to publish through another connection"),
    validation = Rule::new("has(self.adopt) == has(oldSelf.adopt) && (!has(self.adopt) || self.adopt == oldSelf.adopt)").message("spec.adopt is immutable: a data product adopts a data source when it is created; create a new RedshiftDataProduct to adopt another one"),
    validation = Rule::new("!has(self.dataProduct) || !has(self.dataProduct.groups) || self.dataProduct.groups.all(g, g.items.all(i, self.schemas.exists(s, s.name == i.schema)))").message("spec.dataProduct.groups: every item's schema must be one of spec.schemas")
)]
#[serde(rename_all = "camelCase")]
pub struct RedshiftDataProductSpec {
    /// The DataZoneConnection (same namespace) or ClusterDataZoneConnection that says which
    /// DataZone domain to publish into and which role to assume for it. Immutable.
    pub connection_ref: ConnectionRef,

    /// The DataZone project that owns the data source and its assets: its name, or its ID.
    /// The connection's role must be a member (contributor) of this project. Immutable.
    #[schemars(length(min = 1, max = p::PROJECT_NAME_MAX), pattern(p::PROJECT_NAME_OR_ID))]
    pub project: String,

    /// Where the tables and views live: a provisioned cluster or a serverless workgroup, the
    /// database, and the Secrets Manager secret DataZone reads them with.
    pub redshift: RedshiftSource,

    /// The schemas to publish from, each with the tables and views it contributes.
    /// Schema names are unique.
    #[schemars(length(max = 100))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["name".into()]))]
    pub schemas: Vec<SchemaSelection>,

    /// How imported assets are published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publishing: Option<Publishing>,

    /// Metadata forms for every asset of the data product (DataZone's `assetFormsInput`: an
    /// asset gets them when it is imported; the operator writes them onto assets imported
    /// before). Form names are unique; with an asset's own forms, at most 10 per asset.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = p::FORMS_MAX))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["formName".into()]))]
    pub metadata_forms: Vec<MetadataForm>,

    /// An optional DataZone-side schedule for data source runs, in addition to the runs the
    /// operator starts on create, on spec change and on request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<Schedule>,

    /// What happens to the DataZone data source when this resource is deleted: Retain (the
    /// default) leaves it and its assets in DataZone (an adopted one without the operator's
    /// mark); Delete removes the data products and the data source; Retire unpublishes, waits for
    /// the subscribers to leave (or revokes them, `retirement`), then deletes the data products,
    /// the assets and the data source.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,

    /// How `deletionPolicy: Retire` treats subscribers: left out, it waits until none is left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retirement: Option<Retirement>,

    /// An existing DataZone data source to take over instead of creating one: a migration from
    /// a script, a Lambda or the portal, without a second data source for the same tables. It
    /// must be in this project, of type REDSHIFT, and read this cluster or workgroup and
    /// database, and no other data product may have adopted it; the operator then marks it as
    /// its own, brings its filters, publishing and schedule to this spec, and runs it. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adopt: Option<Adoption>,

    /// Redshift lineage (V2 domains only): sets `lineageSync` on the Redshift connection the data
    /// source is made through, so DataZone collects the lineage of this cluster or workgroup and
    /// database. The connection is shared by every data product of the same project, cluster or
    /// workgroup and database: it is set only to what those that say agree on (a disagreement is
    /// shown as ConnectionReady reason LineageConflict); left out, the connection's lineage stays
    /// as it is. Refused in a V1 domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lineage: Option<LineageSpec>,

    /// The assets as DataZone data products: what a consumer finds, reads about and subscribes
    /// to as one. `dataProduct: {}` makes one data product of every asset, named after this
    /// resource; `per: Schema` one per schema; `groups` declared ones. Whether the assets are also
    /// listed on their own is `publishing.publishOnImport` (false: only through the data product).
    /// Left out, the assets are published on their own only, as before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_product: Option<CatalogProduct>,

    /// Who gets access without a person deciding: the subscription requests to this resource's
    /// listings (its data products' and its assets' own) are answered by the first rule that
    /// names the requesting project, with a comment naming the rule and this resource. A request
    /// no rule names waits for a person. Approve rules must be allowed by the connection's
    /// `autoApproval`. Left out, every request waits for a person, as before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<AccessPolicy>,
}

/// `lineageSync` of a V2 Redshift connection.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LineageSpec {
    /// Collect lineage.
    pub enabled: bool,
    /// When DataZone syncs lineage, as `cron(...)` (DataZone's LineageSyncSchedule); left out,
    /// any schedule the connection has will do (DataZone's default for a connection made with it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 256), pattern(p::CRON))]
    pub schedule: Option<String>,
}

/// The data source to adopt: by ID, or by name within the project (exactly one).
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[x_kube(validation = Rule::new("has(self.dataSourceId) != has(self.dataSourceName)").message("spec.adopt: set exactly one of dataSourceId or dataSourceName"))]
#[serde(rename_all = "camelCase")]
pub struct Adoption {
    /// The data source's ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(p::RESOURCE_ID))]
    pub data_source_id: Option<String>,

    /// The data source's name in the data product's project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = p::DATA_SOURCE_NAME_MAX))]
    pub data_source_name: Option<String>,
}

/// Which connection kind a data product refers to.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
pub enum ConnectionKind {
    #[default]
    DataZoneConnection,
    ClusterDataZoneConnection,
}

impl ConnectionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionKind::DataZoneConnection => "DataZoneConnection",
            ConnectionKind::ClusterDataZoneConnection => "ClusterDataZoneConnection",
        }
    }
}

/// A reference to a DataZoneConnection or ClusterDataZoneConnection.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionRef {
    /// DataZoneConnection (in the data product's namespace, the default) or
    /// ClusterDataZoneConnection (cluster-scoped, shared by the namespaces it admits).
    #[serde(default)]
    pub kind: ConnectionKind,
    /// Name of the connection object.
    #[schemars(length(min = 1, max = 253), pattern(p::DNS_SUBDOMAIN))]
    pub name: String,
}

/// The Redshift side of the data source.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[x_kube(
    validation = Rule::new("has(self.clusterName) != has(self.workgroupName)").message("exactly one of clusterName (provisioned cluster) or workgroupName (Redshift Serverless) must be set"),
    validation = Rule::new("(has(self.clusterName) ? self.clusterName : '') == (has(oldSelf.clusterName) ? oldSelf.clusterName : '') && (has(self.workgroupName) ? self.workgroupName : '') == (has(oldSelf.workgroupName) ? oldSelf.workgroupName : '') && self.database == oldSelf.database").message("the Redshift cluster, workgroup and database are immutable: they decide the DataZone environment; create a new RedshiftDataProduct to publish from another one")
)]
#[serde(rename_all = "camelCase")]
pub struct RedshiftSource {
    /// Name of the provisioned Redshift cluster (exactly one of clusterName or workgroupName).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = p::CLUSTER_NAME_MAX), pattern(p::CLUSTER_NAME))]
    pub cluster_name: Option<String>,

    /// Name of the Redshift Serverless workgroup (exactly one of clusterName or workgroupName).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 3, max = 64), pattern(p::WORKGROUP_NAME))]
    pub workgroup_name: Option<String>,

    /// The Redshift database holding the schemas.
    #[schemars(length(min = 1, max = p::DATABASE_OR_SCHEMA_MAX))]
    pub database: String,

    /// ARN of the AWS Secrets Manager secret with the Redshift credentials DataZone uses
    /// (tagged for the DataZone domain and project, see the DataZone documentation). The
    /// reference architecture keeps this ARN in an SSM parameter.
    #[schemars(length(min = 1, max = p::SECRETS_MANAGER_ARN_MAX), pattern(p::SECRETS_MANAGER_ARN))]
    pub credentials_secret_arn: String,
}

/// One Redshift schema and what it contributes: all tables and/or all views, plus individually
/// listed ones. `addAllTables` publishes every table of the schema (tables created later too);
/// `tables` lists individual tables in addition; likewise for views.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[x_kube(validation = Rule::new(
    "(has(self.addAllTables) && self.addAllTables) || (has(self.addAllViews) && self.addAllViews) || (has(self.tables) && size(self.tables) > 0) || (has(self.views) && size(self.views) > 0) || (has(self.assets) && size(self.assets) > 0)"
).message("the schema selects nothing: set addAllTables or addAllViews, or list tables, views or assets"))]
#[serde(rename_all = "camelCase")]
pub struct SchemaSelection {
    /// The Redshift schema name.
    #[schemars(length(min = 1, max = p::DATABASE_OR_SCHEMA_MAX))]
    pub name: String,

    /// Publish every table of the schema, including tables created later.
    #[serde(default)]
    pub add_all_tables: bool,

    /// Publish every view of the schema, including views created later.
    #[serde(default)]
    pub add_all_views: bool,

    /// Individual tables to publish. Names are unique, non-empty and contain no `*`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 1000), inner(length(min = 1, max = p::OBJECT_NAME_MAX), pattern(p::OBJECT_NAME)))]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub tables: Vec<String>,

    /// Individual views to publish. Names are unique, non-empty and contain no `*`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 1000), inner(length(min = 1, max = p::OBJECT_NAME_MAX), pattern(p::OBJECT_NAME)))]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub views: Vec<String>,

    /// Tables and views with business metadata (description, glossary terms, forms), each
    /// published as if listed in `tables` or `views`. Names are unique.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 1000))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["name".into()]))]
    pub assets: Vec<AssetDetails>,
}

impl SchemaSelection {
    /// Whether the schema selects anything at all (the admission rule, for callers that build
    /// selections outside the API server).
    pub fn selects_something(&self) -> bool {
        self.add_all_tables
            || self.add_all_views
            || !self.tables.is_empty()
            || !self.views.is_empty()
            || !self.assets.is_empty()
    }

    /// The tables the schema lists by name: `tables` and the table entries of `assets`.
    pub fn listed_tables(&self) -> impl Iterator<Item = &String> {
        self.tables.iter().chain(self.assets.iter().filter(|a| a.kind == AssetKind::Table).map(|a| &a.name))
    }

    /// The views the schema lists by name: `views` and the view entries of `assets`.
    pub fn listed_views(&self) -> impl Iterator<Item = &String> {
        self.views.iter().chain(self.assets.iter().filter(|a| a.kind == AssetKind::View).map(|a| &a.name))
    }
}

fn default_true() -> bool {
    true
}

/// Publishing options of the data source.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Publishing {
    /// Publish imported assets to the catalog (true, the default) or keep them in the
    /// project's inventory only (false).
    #[serde(default = "default_true")]
    pub publish_on_import: bool,
    /// Let DataZone generate business names for the imported assets.
    #[serde(default)]
    pub business_name_generation: bool,
    /// Ask DataZone for suggestions (a metadata generation run) for each asset once it is
    /// imported: BUSINESS_DESCRIPTIONS, BUSINESS_NAMES, BUSINESS_GLOSSARY_ASSOCIATIONS (at most 2,
    /// DataZone's limit per run). Accepting them stays a person's act in the portal.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 2))]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub generate_metadata: Vec<MetadataGeneration>,
}

impl Default for Publishing {
    fn default() -> Self {
        Self { publish_on_import: true, business_name_generation: false, generate_metadata: Vec::new() }
    }
}

/// What deleting the resource does to the DataZone data source.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum DeletionPolicy {
    /// Leave the data source and its assets in DataZone.
    #[default]
    Retain,
    /// Delete the data products and the data source (its published assets stay in the catalog,
    /// as DataZone does).
    Delete,
    /// Retire it all, respecting subscribers: take the listings out of the catalog (no new
    /// subscriptions), wait until no project subscribes (or revoke, `spec.retirement`), then
    /// delete the data products, the assets and the data source, in that order.
    Retire,
}

/// How `deletionPolicy: Retire` treats the subscribers it finds.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Retirement {
    /// Revoke the subscriptions instead of waiting for the subscribers to leave.
    #[serde(default)]
    pub revoke_subscriptions: bool,
    /// With revokeSubscriptions: the subscribers keep the permissions they were granted.
    #[serde(default)]
    pub retain_permissions: bool,
}

/// Observed state, written only by the operator.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RedshiftDataProductStatus {
    /// The metadata.generation the status was last computed for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,

    /// Ready (the summary) plus one condition per phase: ConnectionResolved, BlueprintEnabled,
    /// EnvironmentReady, DataSourceReady, Published; while not Ready, Reconciling (the operator
    /// is on it) or Stalled (a person must act), as kstatus and Flux read them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,

    /// DataZone domain ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain_id: Option<String>,
    /// DataZone project ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    /// ID of the DefaultDataWarehouse environment blueprint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blueprint_id: Option<String>,
    /// ID of the (shared) environment profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment_profile_id: Option<String>,
    /// ID of the (shared) Data Warehouse environment (V1), or of the project's environment the
    /// connection belongs to (V2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment_id: Option<String>,
    /// The domain's generation (`V1` or `V2`): which phases the conditions show.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain_version: Option<String>,
    /// ID of the (shared) Redshift connection the data source is made through (V2 domains).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_id: Option<String>,
    /// ID of the data source this resource owns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_source_id: Option<String>,
    /// Name of the data source in DataZone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_source_name: Option<String>,
    /// When DataZone last changed the data source (its `updatedAt`), as the operator last read
    /// it: a resync reads the project's data source listing and reads this data source itself
    /// only when that moved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_source_updated_at: Option<String>,

    /// The most recent data source run the operator started or observed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run: Option<RunSummary>,

    /// Number of assets of this data source published in the catalog.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_asset_count: Option<i64>,

    /// Per-asset outcome of the last run; capped, failed ones first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assets: Vec<AssetStatus>,

    /// Failed runs in a row (reset by a successful run); retries stop after 3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consecutive_run_failures: Option<i64>,

    /// The last value of the `dataproducts.dev/reconcile-requested-at` annotation acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reconcile_at: Option<String>,

    /// The adopted data source's description before the operator marked it (empty when it had
    /// none): given back when the data product is deleted with deletionPolicy Retain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adopted_description: Option<String>,

    /// The tables and views with business metadata of their own (`schemas[].assets`) as the
    /// operator last wrote them, so an unchanged one costs no call.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub asset_metadata: Vec<AssetMetadataStatus>,

    /// The data product's `metadataForms` every other asset carries, and a change of them on its
    /// way through the assets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_forms: Option<AssetFormsStatus>,

    /// How far the metadata generation runs `publishing.generateMetadata` asks for have got.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_generation: Option<MetadataGenerationStatus>,

    /// The data source run, and the metadata.generation, the business metadata was last brought
    /// up to date with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_run_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_observed_generation: Option<i64>,

    /// The DataZone data products made of the assets (`spec.dataProduct`), as last revised and
    /// published.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data_products: Vec<CatalogProductStatus>,

    /// Who subscribes to the resource's listings and what its access policy decided (shown
    /// when `spec.access` is set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<AccessStatus>,
}

impl RedshiftDataProductStatus {
    /// The DataZone asset IDs of the imported tables and views.
    pub fn asset_ids(&self) -> impl Iterator<Item = &str> {
        self.assets.iter().filter_map(|a| a.asset_id.as_deref())
    }

    /// The IDs of the DataZone data products made of them.
    pub fn product_ids(&self) -> impl Iterator<Item = &str> {
        self.data_products.iter().filter_map(|d| d.id.as_deref())
    }

    /// What the resource lists in the catalog, by the IDs behind its listings (the entities a
    /// subscription request or subscription names): its assets and its data products.
    pub fn listed_ids(&self) -> std::collections::BTreeSet<&str> {
        self.asset_ids().chain(self.product_ids()).collect()
    }
}

/// One asset's business metadata as the operator last wrote it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssetMetadataStatus {
    /// Redshift schema.
    pub schema: String,
    /// Table or view name.
    pub name: String,
    /// DataZone asset ID.
    pub asset_id: String,
    /// The asset revision the operator wrote (none: what its import gave it was already right).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// The listing revision the operator published that asset revision in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listing_revision: Option<String>,
    /// Fingerprint of the declared metadata the asset has (description, terms, forms).
    pub metadata_hash: String,
    /// The forms the operator wrote on the asset (to take off when no longer declared).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forms: Vec<String>,
}

/// The data product's forms on the assets without metadata of their own.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssetFormsStatus {
    /// Fingerprint of the forms every such asset carries.
    pub hash: String,
    /// Their names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forms: Vec<String>,
    /// Forms the spec asks for now, being written asset by asset (in name order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moving_to: Option<AssetFormsMove>,
}

/// A change of the data product's forms on its way through the assets.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssetFormsMove {
    pub hash: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forms: Vec<String>,
    /// The last asset (by name) that carries them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub through: Option<String>,
}

/// Metadata generation runs asked for the data product's assets.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MetadataGenerationStatus {
    /// The types asked for.
    pub types: Vec<String>,
    /// The last asset (by name) a run was started for, while the assets there were are swept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub through: Option<String>,
    /// Every asset there was has had its run; from now on, the assets a run creates.
    #[serde(default)]
    pub complete: bool,
    /// Runs started.
    #[serde(default)]
    pub started: i64,
}

/// Outcome of one data source run.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunSummary {
    /// DataZone data source run ID.
    pub id: String,
    /// REQUESTED, RUNNING, SUCCESS, PARTIALLY_SUCCEEDED or FAILED.
    pub status: String,
    /// When the run started (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// When the run stopped (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_at: Option<String>,
    /// The metadata.generation the run was started for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<i64>,
    /// Asset counts of the run.
    #[serde(default)]
    pub assets: AssetCounts,
    /// The run's error, when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// Why the operator started the run: Initial, ConfigChanged, Requested or Retry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Fingerprint of the data source configuration and catalog the run was started for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_hash: Option<String>,
}

/// Asset counts of a run, as DataZone reports them.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssetCounts {
    #[serde(default)]
    pub added: i64,
    #[serde(default)]
    pub updated: i64,
    #[serde(default)]
    pub unchanged: i64,
    #[serde(default)]
    pub skipped: i64,
    #[serde(default)]
    pub failed: i64,
}

/// One imported table or view.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssetStatus {
    /// Redshift schema.
    pub schema: String,
    /// Table or view name.
    pub name: String,
    /// TABLE or VIEW.
    pub kind: AssetKind,
    /// DataZone asset ID, once imported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_id: Option<String>,
    /// The run activity status, e.g. SUCCEEDED_CREATED, UNCHANGED, FAILED.
    pub status: String,
}
