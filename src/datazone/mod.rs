//! The AWS side of the operator: the calls the controller makes, behind narrow traits
//! ([`DataZone`] for one data product's project-scoped calls, [`Producer`] for the producer
//! account's own calls, [`Backend`] for the sessions that make them), with plain types and
//! parsed statuses so the decision logic never sees the SDK. [`sdk`] implements them over the
//! AWS SDK; the controller's tests drive them with an in-process fake.

pub mod catalog;
pub mod consumer;
pub mod error;
#[cfg(test)]
pub mod fake;
#[cfg(test)]
pub mod fake_catalog;
#[cfg(test)]
pub mod fake_consumer;
#[cfg(test)]
pub mod fake_products;
#[cfg(test)]
pub mod fake_subscriptions;
pub mod pace;
pub mod products;
pub mod sdk;
mod sdk_catalog;
mod sdk_consumer;
mod sdk_convert;
mod sdk_producer;
mod sdk_products;
mod sdk_subscriptions;
pub mod session;
pub mod status;
pub mod subscriptions;
pub mod telemetry;

pub use catalog::{AssetInfo, AssetRevision, Catalog, Form, GlossaryInfo, TermInfo, TermSpec};
pub use consumer::{Consumer, GrantInfo, ListingInfo, ListingKind, OwnRequest, TargetSpec};
pub use error::{DzError, ErrorClass};
pub use products::{ListingChange, ProductInfo, ProductItem, ProductListing, ProductRevision, Products};
pub use status::{AssetOutcome, DataSourceStatus, EnvironmentStatus, ObjectKind, RunStatus};
pub use subscriptions::{RequestInfo, SubscriptionInfo, Subscriptions};

use std::collections::BTreeSet;

/// A Redshift data source configuration the operator wants, or DataZone reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceConfig {
    /// `Cluster(name)` or `Workgroup(name)`.
    pub storage: Storage,
    pub database: String,
    pub secret_arn: String,
    /// Per schema, the exact INCLUDE expressions (sorted, unique).
    pub filters: Vec<SchemaFilter>,
    pub publish_on_import: bool,
    pub business_name_generation: bool,
    pub schedule: Option<(String, Option<String>)>,
    /// Metadata forms DataZone attaches to the assets it imports (`assetFormsInput`).
    pub asset_forms: Vec<Form>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Storage {
    Cluster(String),
    Workgroup(String),
}

impl Storage {
    pub fn name(&self) -> &str {
        match self {
            Storage::Cluster(n) | Storage::Workgroup(n) => n,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SchemaFilter {
    pub schema: String,
    pub includes: BTreeSet<String>,
}

/// The generation of a DataZone domain (`GetDomain.domainVersion`): V1 publishes through
/// environments made from the DefaultDataWarehouse blueprint, V2 (Amazon SageMaker Unified Studio)
/// through connections (docs/datazone-semantics.md §12).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Generation {
    #[default]
    V1,
    V2,
}

impl Generation {
    /// DataZone's word; anything but `V2` is the first generation (an older answer has none).
    pub fn parse(word: Option<&str>) -> Self {
        if word == Some("V2") { Generation::V2 } else { Generation::V1 }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Generation::V1 => "V1",
            Generation::V2 => "V2",
        }
    }
}

/// What a data source is bound to: an environment (V1) or a connection (V2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Binding {
    Environment(String),
    Connection(String),
}

/// Redshift lineage collected through a V2 connection (`lineageSync`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lineage {
    pub enabled: bool,
    /// A `cron(...)` expression; DataZone's default when `None`.
    pub schedule: Option<String>,
}

/// What creating a V2 Redshift connection binds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionSpec {
    pub name: String,
    pub description: String,
    /// The project's environment the connection is made in.
    pub environment: String,
    pub account: String,
    pub region: String,
    pub storage: Storage,
    pub database: String,
    pub secret_arn: String,
    pub lineage: Option<Lineage>,
    pub client_token: String,
}

/// A Redshift connection as DataZone reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionInfo {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    /// `READY`, `CREATING`, `UPDATING`, `CREATE_FAILED`, … (`None`: not said).
    pub status: Option<String>,
    /// The Secrets Manager secret its data sources read with (`None`: another kind of credentials).
    pub secret_arn: Option<String>,
    pub lineage: Option<Lineage>,
}

impl ConnectionInfo {
    /// Usable for data sources: READY, UPDATING (a change being applied), or no status said.
    pub fn is_ready(&self) -> bool {
        matches!(self.status.as_deref(), None | Some("READY" | "UPDATING"))
    }

    /// Failed for good: a person must look.
    pub fn is_failed(&self) -> bool {
        self.status.as_deref().is_some_and(|s| s.ends_with("_FAILED"))
    }

    /// Deleted: as good as not there.
    pub fn is_deleted(&self) -> bool {
        self.status.as_deref() == Some("DELETED")
    }
}

/// What the operator changes on a shared connection (what is `None` stays).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnectionPatch {
    pub secret_arn: Option<String>,
    pub lineage: Option<Lineage>,
}

/// A data source as DataZone reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataSourceInfo {
    pub id: String,
    pub name: String,
    pub status: DataSourceStatus,
    pub environment_id: Option<String>,
    /// Its V2 connection, if it was made through one.
    pub connection_id: Option<String>,
    pub description: Option<String>,
    pub config: Option<SourceConfig>,
    pub error: Option<String>,
    /// When DataZone last changed it (RFC 3339): moves with every change, ours or not.
    pub updated_at: Option<String>,
    /// Its project (a full read says; a listing item is of the listed project).
    pub project_id: Option<String>,
    /// Its type (`REDSHIFT`, `GLUE`, …), when DataZone said.
    pub kind: Option<String>,
}

/// One item of a project's data source listing: no configuration, but the status and the last
/// run's outcome, which is all a data product needs while its data source or run settles.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataSourceSummary {
    pub id: String,
    pub name: String,
    pub status: DataSourceStatus,
    pub environment_id: Option<String>,
    pub connection_id: Option<String>,
    pub description: Option<String>,
    pub last_run_status: Option<RunStatus>,
    pub last_run_error: Option<String>,
    pub updated_at: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvironmentInfo {
    pub id: String,
    pub status: EnvironmentStatus,
    pub failure: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunInfo {
    pub id: String,
    pub status: RunStatus,
    pub started_at: Option<String>,
    pub stopped_at: Option<String>,
    pub added: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub skipped: i64,
    pub failed: i64,
    pub error: Option<String>,
}

impl RunInfo {
    /// A run known only by its ID and status (no times, no statistics yet).
    pub fn bare(id: &str, status: RunStatus, error: Option<String>) -> Self {
        Self {
            id: id.to_string(),
            status,
            started_at: None,
            stopped_at: None,
            added: 0,
            updated: 0,
            unchanged: 0,
            skipped: 0,
            failed: 0,
            error,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActivityInfo {
    pub database: String,
    pub name: String,
    pub outcome: AssetOutcome,
    /// DataZone's word for it (`dataAssetStatus`), as status shows it.
    pub status: String,
    pub asset_id: Option<String>,
    pub error: Option<String>,
}

/// What creating an environment profile binds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileSpec {
    pub name: String,
    pub project_id: String,
    pub blueprint_id: String,
    pub account: String,
    pub region: String,
    pub storage: Storage,
    pub secret_arn: String,
}

/// Project-scoped DataZone calls, made as the connection's role.
pub trait DataZone: Send + Sync {
    /// Whether calls as this client's account have queued at its pace for a while
    /// ([`pace::Pace::saturated`]): a call that only looks then postpones one that makes progress.
    fn saturated(&self) -> bool;
    /// Whether calls of `operation` as this client's account have queued at that operation's own
    /// pace for a while: DataZone's quotas are per API (docs/datazone-semantics.md §8), so a call
    /// of it postpones only other calls of it.
    fn saturated_for(&self, operation: &str) -> bool;
    /// The domain of this name: its ID and generation.
    fn find_domain(&self, name: &str) -> impl Future<Output = Result<Option<(String, Generation)>, DzError>> + Send;
    /// The domain's generation (a missing domain answers 403, as a foreign one).
    fn get_domain(&self, id: &str) -> impl Future<Output = Result<Generation, DzError>> + Send;
    fn find_project(
        &self,
        domain: &str,
        name_or_id: &str,
    ) -> impl Future<Output = Result<Option<String>, DzError>> + Send;
    /// The IDs of the domain's projects this caller can list (all pages).
    fn list_projects(&self, domain: &str) -> impl Future<Output = Result<Vec<String>, DzError>> + Send;
    fn find_profile(
        &self,
        domain: &str,
        project: &str,
        name: &str,
    ) -> impl Future<Output = Result<Option<String>, DzError>> + Send;
    fn create_profile(&self, domain: &str, spec: &ProfileSpec) -> impl Future<Output = Result<String, DzError>> + Send;
    fn find_environment(
        &self,
        domain: &str,
        project: &str,
        name: &str,
    ) -> impl Future<Output = Result<Option<EnvironmentInfo>, DzError>> + Send;
    fn get_environment(&self, domain: &str, id: &str) -> impl Future<Output = Result<EnvironmentInfo, DzError>> + Send;
    /// Every environment of the project, by name (all pages; no failure reasons).
    fn list_environments(
        &self,
        domain: &str,
        project: &str,
    ) -> impl Future<Output = Result<Vec<(String, EnvironmentInfo)>, DzError>> + Send;
    fn create_environment(
        &self,
        domain: &str,
        project: &str,
        profile: &str,
        name: &str,
        database: &str,
    ) -> impl Future<Output = Result<EnvironmentInfo, DzError>> + Send;
    /// The project's environment V2 connections are made in (its `Tooling` environment, ACTIVE).
    fn project_environment(
        &self,
        domain: &str,
        project: &str,
    ) -> impl Future<Output = Result<Option<String>, DzError>> + Send;
    /// The project's Redshift connection of this name.
    fn find_connection(
        &self,
        domain: &str,
        project: &str,
        name: &str,
    ) -> impl Future<Output = Result<Option<ConnectionInfo>, DzError>> + Send;
    fn create_connection(
        &self,
        domain: &str,
        spec: &ConnectionSpec,
    ) -> impl Future<Output = Result<ConnectionInfo, DzError>> + Send;
    /// Sets the connection's credentials secret and/or `lineageSync`.
    fn update_connection(
        &self,
        domain: &str,
        id: &str,
        patch: &ConnectionPatch,
    ) -> impl Future<Output = Result<(), DzError>> + Send;
    fn find_data_source(
        &self,
        domain: &str,
        project: &str,
        name: &str,
    ) -> impl Future<Output = Result<Option<String>, DzError>> + Send;
    /// Every data source of the project (all pages).
    fn list_data_sources(
        &self,
        domain: &str,
        project: &str,
    ) -> impl Future<Output = Result<Vec<DataSourceSummary>, DzError>> + Send;
    fn get_data_source(
        &self,
        domain: &str,
        id: &str,
    ) -> impl Future<Output = Result<Option<DataSourceInfo>, DzError>> + Send;
    #[allow(clippy::too_many_arguments)]
    fn create_data_source(
        &self,
        domain: &str,
        project: &str,
        binding: &Binding,
        name: &str,
        description: &str,
        config: &SourceConfig,
        client_token: &str,
    ) -> impl Future<Output = Result<DataSourceInfo, DzError>> + Send;
    /// Brings the data source to `config` and/or `description` (what is `None` stays).
    fn update_data_source(
        &self,
        domain: &str,
        id: &str,
        config: Option<&SourceConfig>,
        description: Option<&str>,
    ) -> impl Future<Output = Result<(), DzError>> + Send;
    fn delete_data_source(&self, domain: &str, id: &str) -> impl Future<Output = Result<(), DzError>> + Send;
    fn start_run(
        &self,
        domain: &str,
        data_source: &str,
        client_token: &str,
    ) -> impl Future<Output = Result<RunInfo, DzError>> + Send;
    fn get_run(&self, domain: &str, run: &str) -> impl Future<Output = Result<RunInfo, DzError>> + Send;
    fn list_activities(
        &self,
        domain: &str,
        run: &str,
    ) -> impl Future<Output = Result<Vec<ActivityInfo>, DzError>> + Send;
}

/// The producer account's own calls, with the pod's default credentials.
pub trait Producer: Send + Sync {
    /// The account the operator's credentials belong to.
    fn account(&self) -> impl Future<Output = Result<String, DzError>> + Send;
    fn find_blueprint(&self, domain: &str, name: &str) -> impl Future<Output = Result<Option<String>, DzError>> + Send;
    /// The regions the blueprint is enabled in for this account (`None`: not configured).
    fn blueprint_regions(
        &self,
        domain: &str,
        blueprint: &str,
    ) -> impl Future<Output = Result<Option<Vec<String>>, DzError>> + Send;
    fn enable_blueprint(
        &self,
        domain: &str,
        blueprint: &str,
        enable: &BlueprintEnablement,
    ) -> impl Future<Output = Result<(), DzError>> + Send;
    /// Names and kinds of a schema's tables and views.
    fn list_objects(
        &self,
        storage: &Storage,
        database: &str,
        schema: &str,
        secret_arn: &str,
    ) -> impl Future<Output = Result<Vec<(String, ObjectKind)>, DzError>> + Send;
}

/// What a project-scoped session is keyed by: the tenancy unit, a connection used from one
/// namespace (session tags name both), and the role and region it assumes. One per
/// (connection, namespace), never one per data product.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SessionKey {
    /// `Kind/name` of the connection.
    pub connection: String,
    pub role_arn: String,
    pub external_id: Option<String>,
    pub region: String,
    pub namespace: String,
}

/// Where the controller's AWS calls go: sessions as a connection's role, and the producer
/// account's own clients. The context holds one; production uses [`sdk::Clients`].
pub trait Backend: Send + Sync + 'static {
    type DataZone: DataZone + Catalog + Consumer + Products + Subscriptions + Clone + 'static;
    type Producer: Producer + Clone + 'static;
    /// Assumes the role once, explicitly, for a clear error when it cannot be assumed; answers
    /// the assumed-role ARN.
    fn check_role(&self, session: &SessionKey) -> impl Future<Output = Result<String, DzError>> + Send;
    /// Project-scoped calls, acting as the session's role.
    fn project(&self, session: &SessionKey) -> Self::DataZone;
    /// The producer account's own calls in `region`.
    fn producer(&self, region: &str) -> Self::Producer;
    /// Drops a session nothing uses any more.
    fn drop_session(&self, session: &SessionKey);
    /// Whether calls of some account have queued at one of its paces for a while (a fleet
    /// publishing; [`pace::Pace::saturated`]).
    fn saturated(&self) -> bool {
        false
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlueprintEnablement {
    pub regions: Vec<String>,
    pub provisioning_role_arn: String,
    pub manage_access_role_arn: String,
    pub regional_parameters: std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>,
}
