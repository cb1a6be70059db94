//! An in-process [`Backend`] for the controller's tests: DataZone state a test sets up directly,
//! every call recorded with the ID or name it acted on, and errors injected per operation. It
//! keeps DataZone's rules the controller relies on (unique data source names per project, a
//! client token returns the same object, one active run per data source, 404 on a missing data
//! source); the wire protocols and everything else are the emulator's job, and the end-to-end
//! tests run the SDK against it.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::catalog::{AssetInfo, Form, GlossaryInfo, TermInfo};
use super::products::{ProductInfo, ProductRevision};
use super::subscriptions::{RequestInfo, SubscriptionInfo};
use super::{
    ActivityInfo, AssetOutcome, Backend, Binding, BlueprintEnablement, ConnectionInfo, ConnectionPatch, ConnectionSpec,
    DataSourceInfo, DataSourceStatus, DataSourceSummary, DataZone, DzError, EnvironmentInfo, EnvironmentStatus,
    ErrorClass, Generation, ObjectKind, Producer, ProfileSpec, RunInfo, RunStatus, SchemaFilter, SessionKey,
    SourceConfig, Storage,
};

pub const ACCOUNT: &str = "222222222222";
pub const DOMAIN: &str = "dzd_fake";
pub const PROJECT: &str = "prj_sales";
pub const BLUEPRINT: &str = "bp_dwh";
/// A V2 project's Tooling environment.
pub const TOOLING: &str = "env-tooling";

/// A data source another tool made (the reference Lambda, a person), for the tests of adoption:
/// `id` (named `<id>-name`), of `kind` (a configuration only when REDSHIFT: all of schema
/// `public` in `database` of `storage`, not published), in `project`, in environment `env-lambda`.
pub fn made_elsewhere(
    id: &str,
    project: &str,
    kind: &str,
    storage: Storage,
    database: &str,
    description: Option<&str>,
) -> DataSourceInfo {
    let config = SourceConfig {
        storage,
        database: database.into(),
        secret_arn: "arn:secret".into(),
        filters: vec![SchemaFilter { schema: "public".into(), includes: ["*".to_string()].into() }],
        publish_on_import: false,
        business_name_generation: false,
        schedule: None,
        asset_forms: Vec::new(),
    };
    DataSourceInfo {
        id: id.into(),
        name: format!("{id}-name"),
        status: DataSourceStatus::Ready,
        environment_id: Some("env-lambda".into()),
        connection_id: None,
        description: description.map(str::to_string),
        config: (kind == "REDSHIFT").then_some(config),
        error: None,
        updated_at: Some("2026-11-01T09:00:00Z".into()),
        project_id: Some(project.into()),
        kind: Some(kind.into()),
    }
}

#[derive(Clone, Debug)]
pub struct Environment {
    pub info: EnvironmentInfo,
    pub name: String,
    pub project: String,
}

#[derive(Clone, Debug)]
pub struct Source {
    pub info: DataSourceInfo,
    pub project: String,
    pub token: String,
    pub last_run: Option<String>,
    /// Shown in the project listing; `false` plays one created after the listing was taken.
    pub listed: bool,
}

#[derive(Clone, Debug)]
pub struct Connection {
    pub info: ConnectionInfo,
    pub spec: ConnectionSpec,
    pub project: String,
}

/// What the fake DataZone holds. Tests change it between passes to play the service's side.
#[derive(Debug)]
pub struct World {
    /// Domain names → IDs.
    pub domains: BTreeMap<String, String>,
    /// Project names → IDs (one domain).
    pub projects: BTreeMap<String, String>,
    /// The domain's generation.
    pub generation: Generation,
    /// A V2 project's Tooling environment (`None`: the project has none).
    pub project_environment: Option<String>,
    pub connections: Vec<Connection>,
    pub blueprint_regions: Option<Vec<String>>,
    /// Profile name → ID.
    pub profiles: BTreeMap<String, String>,
    pub environments: Vec<Environment>,
    pub data_sources: Vec<Source>,
    pub runs: BTreeMap<String, RunInfo>,
    pub activities: HashMap<String, Vec<ActivityInfo>>,
    /// Schema → its tables and views.
    pub catalog: BTreeMap<String, Vec<(String, ObjectKind)>>,
    /// Status a new environment has (CREATING; a test flips it).
    pub new_environment_status: EnvironmentStatus,
    /// Every call, in order: `Operation target`.
    pub calls: Vec<String>,
    /// Sessions assumed and not dropped.
    pub sessions: std::collections::HashSet<SessionKey>,
    /// The catalog: assets, glossaries, listings (its calls: [`super::fake_catalog`]).
    pub catalog_state: CatalogState,
    /// Whether the account's pace is saturated (a test sets it: the fake has no pace).
    pub saturated: bool,
    failures: HashMap<&'static str, VecDeque<DzError>>,
    next_id: u32,
    /// Changes so far, and the time they count from.
    clock: u32,
    epoch: jiff::Timestamp,
}

impl Default for World {
    fn default() -> Self {
        Self {
            domains: [("corp".to_string(), DOMAIN.to_string())].into(),
            projects: [("sales".to_string(), PROJECT.to_string())].into(),
            generation: Generation::V1,
            project_environment: Some(TOOLING.to_string()),
            connections: Vec::new(),
            blueprint_regions: None,
            profiles: BTreeMap::new(),
            environments: Vec::new(),
            data_sources: Vec::new(),
            runs: BTreeMap::new(),
            activities: HashMap::new(),
            catalog: BTreeMap::new(),
            new_environment_status: EnvironmentStatus::Creating,
            calls: Vec::new(),
            sessions: Default::default(),
            catalog_state: Default::default(),
            saturated: false,
            failures: HashMap::new(),
            next_id: 0,
            clock: 0,
            epoch: jiff::Timestamp::now().round(jiff::Unit::Second).unwrap_or_else(|_| jiff::Timestamp::now()),
        }
    }
}

impl World {
    fn id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}-{}", self.next_id)
    }

    pub fn data_source(&mut self, id: &str) -> Option<&mut Source> {
        self.data_sources.iter_mut().find(|d| d.info.id == id)
    }

    /// The next `updatedAt`: every change of a data source moves it, as in DataZone, a second
    /// after the last; in DataZone's time, which is about the operator's (a run's end, say, is
    /// what a retry's wait counts from).
    fn tick(&mut self) -> Option<String> {
        self.clock += 1;
        let at = self.epoch + jiff::SignedDuration::from_secs(i64::from(self.clock));
        Some(at.to_string())
    }

    /// Changes a data source as DataZone (or someone behind the operator's back) would, moving
    /// its `updatedAt`.
    pub fn edit(&mut self, id: &str, change: impl FnOnce(&mut DataSourceInfo)) {
        let at = self.tick();
        if let Some(d) = self.data_source(id) {
            change(&mut d.info);
            d.info.updated_at = at;
        }
    }

    /// Ends a run with `status` and one activity per `(name, dataAssetStatus)`.
    pub fn finish_run(&mut self, run: &str, status: RunStatus, activities: &[(&str, &str)]) {
        let items: Vec<ActivityInfo> = activities
            .iter()
            .map(|(name, word)| ActivityInfo {
                database: "sales".into(),
                name: name.to_string(),
                outcome: AssetOutcome::of(word),
                status: word.to_string(),
                asset_id: AssetOutcome::of(word).is_imported().then(|| format!("asset-{name}")),
                error: None,
            })
            .collect();
        // Assets a run creates get the data source's forms, as in DataZone.
        let source = self.data_sources.iter().find(|d| d.last_run.as_deref() == Some(run));
        let (forms, listed) = source
            .and_then(|d| d.info.config.as_ref())
            .map(|c| (c.asset_forms.clone(), c.publish_on_import))
            .unwrap_or_default();
        for a in &items {
            if let Some(id) = &a.asset_id {
                self.catalog_state.import(id, &a.name, a.status == "SUCCEEDED_CREATED", &forms, listed);
            }
        }
        self.activities.insert(run.to_string(), items);
        // The run's end moves its data source's `updatedAt` (docs/datazone-semantics.md §4).
        let at = self.tick();
        if let Some(r) = self.runs.get_mut(run) {
            r.status = status;
            r.stopped_at = at.clone();
        }
        for d in self.data_sources.iter_mut().filter(|d| d.last_run.as_deref() == Some(run)) {
            d.info.status = DataSourceStatus::Ready;
            d.info.updated_at = at.clone();
        }
    }
}

/// A handle on one shared [`World`]; cheap to clone, as SDK clients are.
#[derive(Clone, Default)]
pub struct Fake(Arc<Mutex<World>>);

impl Fake {
    pub fn world(&self) -> MutexGuard<'_, World> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The calls made since the last look, and forgets them.
    pub fn take_calls(&self) -> Vec<String> {
        std::mem::take(&mut self.world().calls)
    }

    /// The next call of `operation` fails with `error` (then calls go through again).
    pub fn fail_next(&self, operation: &'static str, class: ErrorClass, code: &str, message: &str) {
        let error = DzError::new(class, operation, code, message);
        self.world().failures.entry(operation).or_default().push_back(error);
    }

    /// Records the call and answers an injected failure, if one is due.
    pub(super) fn call(&self, operation: &'static str, target: &str) -> Result<MutexGuard<'_, World>, DzError> {
        let mut w = self.world();
        w.calls.push(if target.is_empty() { operation.to_string() } else { format!("{operation} {target}") });
        match w.failures.get_mut(operation).and_then(VecDeque::pop_front) {
            Some(e) => Err(e),
            None => Ok(w),
        }
    }
}

pub(super) fn not_found(operation: &'static str, what: &str) -> DzError {
    DzError::new(ErrorClass::Terminal, operation, "ResourceNotFoundException", format!("{what} not found"))
}

impl Backend for Fake {
    type DataZone = Fake;
    type Producer = Fake;

    async fn check_role(&self, session: &SessionKey) -> Result<String, DzError> {
        let mut w = self.call("AssumeRole", &session.role_arn)?;
        w.sessions.insert(session.clone());
        let role = session.role_arn.rsplit('/').next().unwrap_or_default();
        Ok(format!("arn:aws:sts::111111111111:assumed-role/{role}/{}", super::session::session_name(session)))
    }

    fn project(&self, _: &SessionKey) -> Fake {
        self.clone()
    }

    fn producer(&self, _: &str) -> Fake {
        self.clone()
    }

    fn drop_session(&self, session: &SessionKey) {
        self.world().sessions.remove(session);
    }
}

impl DataZone for Fake {
    fn saturated(&self) -> bool {
        self.world().saturated
    }

    fn saturated_for(&self, _: &str) -> bool {
        self.world().saturated
    }

    async fn find_domain(&self, name: &str) -> Result<Option<(String, Generation)>, DzError> {
        let w = self.call("ListDomains", "")?;
        Ok(w.domains.get(name).map(|id| (id.clone(), w.generation)))
    }

    async fn get_domain(&self, id: &str) -> Result<Generation, DzError> {
        let w = self.call("GetDomain", id)?;
        if w.domains.values().any(|d| d == id) {
            Ok(w.generation)
        } else {
            // A missing domain answers 403, like a foreign one (docs/datazone-semantics.md §1).
            Err(DzError::new(ErrorClass::Terminal, "GetDomain", "AccessDeniedException", "not allowed"))
        }
    }

    async fn find_project(&self, _: &str, name_or_id: &str) -> Result<Option<String>, DzError> {
        let w = self.call("ListProjects", name_or_id)?;
        Ok(w.projects.get(name_or_id).cloned().or_else(|| w.projects.values().find(|id| *id == name_or_id).cloned()))
    }

    async fn list_projects(&self, _: &str) -> Result<Vec<String>, DzError> {
        Ok(self.call("ListProjects", "")?.projects.values().cloned().collect())
    }

    async fn find_profile(&self, _: &str, _: &str, name: &str) -> Result<Option<String>, DzError> {
        Ok(self.call("ListEnvironmentProfiles", name)?.profiles.get(name).cloned())
    }

    async fn create_profile(&self, _: &str, spec: &ProfileSpec) -> Result<String, DzError> {
        let mut w = self.call("CreateEnvironmentProfile", &spec.name)?;
        let id = w.id("profile");
        w.profiles.insert(spec.name.clone(), id.clone());
        Ok(id)
    }

    async fn find_environment(&self, _: &str, project: &str, name: &str) -> Result<Option<EnvironmentInfo>, DzError> {
        let w = self.call("ListEnvironments", name)?;
        Ok(w.environments.iter().find(|e| e.name == name && e.project == project).map(|e| e.info.clone()))
    }

    async fn list_environments(&self, _: &str, project: &str) -> Result<Vec<(String, EnvironmentInfo)>, DzError> {
        let w = self.call("ListEnvironments", "")?;
        let listed = |e: &Environment| (e.name.clone(), EnvironmentInfo { failure: None, ..e.info.clone() });
        Ok(w.environments.iter().filter(|e| e.project == project).map(listed).collect())
    }

    async fn get_environment(&self, _: &str, id: &str) -> Result<EnvironmentInfo, DzError> {
        let w = self.call("GetEnvironment", id)?;
        w.environments
            .iter()
            .find(|e| e.info.id == id)
            .map(|e| e.info.clone())
            .ok_or_else(|| not_found("GetEnvironment", id))
    }

    async fn create_environment(
        &self,
        _: &str,
        project: &str,
        _: &str,
        name: &str,
        _: &str,
    ) -> Result<EnvironmentInfo, DzError> {
        let mut w = self.call("CreateEnvironment", name)?;
        let info = EnvironmentInfo { id: w.id("env"), status: w.new_environment_status.clone(), failure: None };
        w.environments.push(Environment { info: info.clone(), name: name.to_string(), project: project.to_string() });
        Ok(info)
    }

    async fn project_environment(&self, _: &str, _: &str) -> Result<Option<String>, DzError> {
        Ok(self.call("ListEnvironments", "")?.project_environment.clone())
    }

    async fn find_connection(&self, _: &str, project: &str, name: &str) -> Result<Option<ConnectionInfo>, DzError> {
        let found = {
            let w = self.call("ListConnections", name)?;
            w.connections.iter().find(|c| c.info.name == name && c.project == project).map(|c| c.info.clone())
        };
        // The summary has no description: a found one is read in full, as the SDK does.
        match found {
            Some(c) => {
                drop(self.call("GetConnection", &c.id)?);
                Ok(Some(c))
            }
            None => Ok(None),
        }
    }

    async fn create_connection(&self, _: &str, spec: &ConnectionSpec) -> Result<ConnectionInfo, DzError> {
        let mut w = self.call("CreateConnection", &spec.name)?;
        if let Some(same) = w.connections.iter().find(|c| c.spec.client_token == spec.client_token) {
            return Ok(same.info.clone());
        }
        if w.connections.iter().any(|c| c.info.name == spec.name) {
            let message = format!("a connection named {} already exists", spec.name);
            return Err(DzError::new(ErrorClass::Terminal, "CreateConnection", "ConflictException", message));
        }
        let info = ConnectionInfo {
            id: w.id("conn"),
            name: spec.name.clone(),
            description: Some(spec.description.clone()),
            status: Some("READY".into()),
            secret_arn: Some(spec.secret_arn.clone()),
            lineage: spec.lineage.clone(),
        };
        // The fake's projects are found by their Tooling environment.
        let project = PROJECT.to_string();
        w.connections.push(Connection { info: info.clone(), spec: spec.clone(), project });
        Ok(info)
    }

    async fn update_connection(&self, _: &str, id: &str, patch: &ConnectionPatch) -> Result<(), DzError> {
        let mut w = self.call("UpdateConnection", id)?;
        let c = w.connections.iter_mut().find(|c| c.info.id == id).ok_or_else(|| not_found("UpdateConnection", id))?;
        if let Some(secret) = &patch.secret_arn {
            c.info.secret_arn = Some(secret.clone());
        }
        if let Some(lineage) = &patch.lineage {
            c.info.lineage = Some(lineage.clone());
        }
        Ok(())
    }

    async fn find_data_source(&self, _: &str, project: &str, name: &str) -> Result<Option<String>, DzError> {
        let w = self.call("ListDataSources", name)?;
        Ok(w.data_sources.iter().find(|d| d.info.name == name && d.project == project).map(|d| d.info.id.clone()))
    }

    async fn list_data_sources(&self, _: &str, project: &str) -> Result<Vec<DataSourceSummary>, DzError> {
        let w = self.call("ListDataSources", "")?;
        Ok(w.data_sources
            .iter()
            .filter(|d| d.project == project && d.listed)
            .map(|d| {
                let run = d.last_run.as_ref().and_then(|r| w.runs.get(r));
                DataSourceSummary {
                    id: d.info.id.clone(),
                    name: d.info.name.clone(),
                    status: d.info.status.clone(),
                    environment_id: d.info.environment_id.clone(),
                    connection_id: d.info.connection_id.clone(),
                    description: d.info.description.clone(),
                    last_run_status: run.map(|r| r.status.clone()),
                    last_run_error: run.and_then(|r| r.error.clone()),
                    updated_at: d.info.updated_at.clone(),
                }
            })
            .collect())
    }

    async fn get_data_source(&self, _: &str, id: &str) -> Result<Option<DataSourceInfo>, DzError> {
        let w = self.call("GetDataSource", id)?;
        Ok(w.data_sources.iter().find(|d| d.info.id == id).map(|d| d.info.clone()))
    }

    async fn create_data_source(
        &self,
        _: &str,
        project: &str,
        binding: &Binding,
        name: &str,
        description: &str,
        config: &SourceConfig,
        client_token: &str,
    ) -> Result<DataSourceInfo, DzError> {
        let mut w = self.call("CreateDataSource", name)?;
        let (environment_id, connection_id) = match binding {
            Binding::Environment(id) => (id.clone(), None),
            Binding::Connection(id) => (TOOLING.to_string(), Some(id.clone())),
        };
        if let Some(same) = w.data_sources.iter().find(|d| d.token == client_token) {
            return Ok(same.info.clone());
        }
        if w.data_sources.iter().any(|d| d.info.name == name && d.project == project) {
            let message = "DataSource name must be unique for a given project.";
            return Err(DzError::new(ErrorClass::Terminal, "CreateDataSource", "ValidationException", message));
        }
        let info = DataSourceInfo {
            id: w.id("ds"),
            name: name.to_string(),
            status: DataSourceStatus::Creating,
            environment_id: Some(environment_id),
            connection_id,
            description: Some(description.to_string()),
            config: Some(config.clone()),
            error: None,
            updated_at: w.tick(),
            project_id: Some(project.to_string()),
            kind: Some("REDSHIFT".into()),
        };
        let token = client_token.to_string();
        let source = Source { info: info.clone(), project: project.to_string(), token, last_run: None, listed: true };
        w.data_sources.push(source);
        Ok(info)
    }

    async fn update_data_source(
        &self,
        _: &str,
        id: &str,
        config: Option<&SourceConfig>,
        description: Option<&str>,
    ) -> Result<(), DzError> {
        let mut w = self.call("UpdateDataSource", id)?;
        w.data_source(id).ok_or_else(|| not_found("UpdateDataSource", id))?;
        w.edit(id, |info| {
            if let Some(config) = config {
                info.config = Some(config.clone());
            }
            if let Some(description) = description {
                info.description = Some(description.to_string());
            }
            info.status = DataSourceStatus::Updating;
        });
        Ok(())
    }

    async fn delete_data_source(&self, _: &str, id: &str) -> Result<(), DzError> {
        self.call("DeleteDataSource", id)?.data_sources.retain(|d| d.info.id != id);
        Ok(())
    }

    async fn start_run(&self, _: &str, data_source: &str, client_token: &str) -> Result<RunInfo, DzError> {
        let mut w = self.call("StartDataSourceRun", data_source)?;
        let run_id = format!("run-{}", crate::naming::short_hash(client_token));
        if let Some(same) = w.runs.get(&run_id) {
            return Ok(same.clone());
        }
        let active =
            w.data_source(data_source).ok_or_else(|| not_found("StartDataSourceRun", data_source))?.last_run.clone();
        if active.and_then(|r| w.runs.get(&r)).is_some_and(|r| r.status.is_active()) {
            let message = "a run is already in progress";
            return Err(DzError::new(ErrorClass::Retryable, "StartDataSourceRun", "ConflictException", message));
        }
        let run = RunInfo {
            started_at: Some("2026-12-01T09:00:00Z".into()),
            ..RunInfo::bare(&run_id, RunStatus::Requested, None)
        };
        w.runs.insert(run_id.clone(), run.clone());
        if let Some(ds) = w.data_source(data_source) {
            ds.last_run = Some(run_id);
        }
        w.edit(data_source, |info| info.status = DataSourceStatus::Running);
        Ok(run)
    }

    async fn get_run(&self, _: &str, run: &str) -> Result<RunInfo, DzError> {
        let w = self.call("GetDataSourceRun", run)?;
        w.runs.get(run).cloned().ok_or_else(|| not_found("GetDataSourceRun", run))
    }

    async fn list_activities(&self, _: &str, run: &str) -> Result<Vec<ActivityInfo>, DzError> {
        Ok(self.call("ListDataSourceRunActivities", run)?.activities.get(run).cloned().unwrap_or_default())
    }
}

impl Producer for Fake {
    async fn account(&self) -> Result<String, DzError> {
        drop(self.call("GetCallerIdentity", "")?);
        Ok(ACCOUNT.to_string())
    }

    async fn find_blueprint(&self, _: &str, name: &str) -> Result<Option<String>, DzError> {
        drop(self.call("ListEnvironmentBlueprints", "")?);
        Ok((name == "DefaultDataWarehouse").then(|| BLUEPRINT.to_string()))
    }

    async fn blueprint_regions(&self, _: &str, blueprint: &str) -> Result<Option<Vec<String>>, DzError> {
        Ok(self.call("GetEnvironmentBlueprintConfiguration", blueprint)?.blueprint_regions.clone())
    }

    async fn enable_blueprint(&self, _: &str, blueprint: &str, enable: &BlueprintEnablement) -> Result<(), DzError> {
        self.call("PutEnvironmentBlueprintConfiguration", blueprint)?.blueprint_regions = Some(enable.regions.clone());
        Ok(())
    }

    async fn list_objects(
        &self,
        _: &super::Storage,
        _: &str,
        schema: &str,
        _: &str,
    ) -> Result<Vec<(String, ObjectKind)>, DzError> {
        Ok(self.call("ListTables", schema)?.catalog.get(schema).cloned().unwrap_or_default())
    }
}

/// The fake's catalog: what its catalog calls ([`super::fake_catalog`]) read and write.
#[derive(Debug, Default)]
pub struct CatalogState {
    pub assets: BTreeMap<String, AssetInfo>,
    /// Asset → its listing's revisions: the asset revision each publishes.
    pub listings: BTreeMap<String, Vec<String>>,
    pub glossaries: Vec<GlossaryInfo>,
    pub terms: Vec<TermInfo>,
    /// Metadata generation runs: (asset, types).
    pub generation_runs: BTreeMap<String, (String, Vec<String>)>,
    /// Data products by ID ([`super::fake_products`]).
    pub data_products: BTreeMap<String, FakeProduct>,
    /// Client token → what it made.
    pub(super) tokens: BTreeMap<String, String>,
    /// Subscription requests and subscriptions ([`super::fake_subscriptions`]).
    pub subscriptions: FakeSubscriptions,
    next: u32,
}

/// A data product the fake holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakeProduct {
    pub id: String,
    pub project_id: String,
    /// Revision 1 first; each as it was stated (its client token aside).
    pub revisions: Vec<ProductRevision>,
    pub listing: Option<FakeListing>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakeListing {
    pub id: String,
    /// The product revision each listing revision shows.
    pub shows: Vec<String>,
    pub active: bool,
}

impl FakeProduct {
    pub fn latest(&self) -> &ProductRevision {
        self.revisions.last().expect("a data product has a revision")
    }

    pub(super) fn info(&self, number: usize) -> ProductInfo {
        let r = &self.revisions[number - 1];
        ProductInfo {
            id: self.id.clone(),
            revision: number.to_string(),
            name: r.name.clone(),
            description: r.description.clone(),
            project_id: self.project_id.clone(),
            items: r.items.iter().map(|i| i.asset_id.clone()).collect(),
        }
    }
}

/// Every asset type's own form, kept on every revision.
pub const TECHNICAL_FORM: &str = "RedshiftTableForm";

impl CatalogState {
    pub(super) fn id(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}-{}", self.next)
    }

    /// A run's asset: a created one starts at revision 1 with the data source's forms; one seen
    /// again keeps what it has.
    pub fn import(&mut self, id: &str, name: &str, created: bool, forms: &[Form], listed: bool) {
        if self.assets.contains_key(id) && !created {
            return;
        }
        let technical = Form {
            name: TECHNICAL_FORM.into(),
            type_identifier: "amazon.datazone.RedshiftTableFormType".into(),
            type_revision: Some("1".into()),
            content: format!(r#"{{"tableName":"{name}"}}"#),
        };
        let forms = std::iter::once(technical).chain(forms.iter().cloned()).collect();
        let asset = AssetInfo {
            id: id.into(),
            name: name.into(),
            revision: "1".into(),
            description: None,
            glossary_terms: Vec::new(),
            forms,
            listed,
        };
        if listed {
            self.listings.insert(id.into(), vec!["1".into()]);
        }
        self.assets.insert(id.into(), asset);
    }

    /// A glossary with its terms, made as another tool would.
    pub fn add_glossary(&mut self, name: &str, terms: &[&str]) -> String {
        let id = self.id("glossary");
        self.glossaries.push(GlossaryInfo {
            id: id.clone(),
            name: name.into(),
            project_id: super::fake::PROJECT.into(),
            description: None,
            enabled: true,
        });
        for t in terms {
            let term = self.id("term");
            self.terms.push(TermInfo {
                id: term,
                name: t.to_string(),
                glossary_id: id.clone(),
                short_description: None,
                long_description: None,
                enabled: true,
            });
        }
        id
    }

    /// The ID of the term of this name.
    pub fn term_id(&self, name: &str) -> String {
        self.terms.iter().find(|t| t.name == name).map(|t| t.id.clone()).unwrap_or_default()
    }
}

/// The fake's subscription requests and subscriptions ([`super::fake_subscriptions`]): a test
/// files requests as a consumer would.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FakeSubscriptions {
    pub requests: Vec<RequestInfo>,
    /// Request ID → the decision comment.
    pub comments: std::collections::BTreeMap<String, String>,
    pub subscriptions: Vec<SubscriptionInfo>,
    /// The consumer's side ([`super::fake_consumer`]): what other teams published.
    pub catalog: Vec<super::consumer::ListingInfo>,
    /// Subscription ID → its grants.
    pub grants: std::collections::BTreeMap<String, Vec<super::consumer::GrantInfo>>,
    /// Projects the consumer's role is not a member of.
    pub not_member: std::collections::BTreeSet<String>,
    /// Client token → the request it filed.
    pub tokens: std::collections::BTreeMap<String, String>,
    /// Subscription targets made with CreateSubscriptionTarget: (environment, ID, name).
    pub targets: Vec<(String, String, String)>,
    next: u32,
}

impl FakeSubscriptions {
    /// A consumer project asks for the listing of `entity` (an asset or data product ID);
    /// answers the request's ID.
    pub fn file(&mut self, entity: &str, project_id: &str, project_name: &str) -> String {
        self.next += 1;
        let id = format!("sr-{}", self.next);
        self.requests.push(RequestInfo {
            id: id.clone(),
            listing_id: format!("listing-of-{entity}"),
            entity_id: Some(entity.into()),
            project_id: project_id.into(),
            project_name: Some(project_name.into()),
            status: "PENDING".into(),
            created_at: Some(jiff::Timestamp::now().to_string()),
        });
        id
    }

    /// `project` subscribes to the listing of `entity` (a request filed and accepted); answers the
    /// subscription's ID.
    pub fn subscribe(&mut self, entity: &str, project_id: &str, project_name: &str) -> String {
        let request = self.file(entity, project_id, project_name);
        let _ = self.decide("AcceptSubscriptionRequest", &request, "by a person", "ACCEPTED");
        self.subscriptions.last().map(|s| s.id.clone()).unwrap_or_default()
    }

    /// Whether the listing of `entity` has an APPROVED subscription.
    pub fn subscribed(&self, entity: &str) -> bool {
        self.subscriptions.iter().any(|s| s.status == "APPROVED" && s.entity_id.as_deref() == Some(entity))
    }

    pub fn decide(&mut self, operation: &'static str, id: &str, comment: &str, to: &str) -> Result<(), DzError> {
        let Some(request) = self.requests.iter_mut().find(|r| r.id == id) else {
            return Err(DzError::new(ErrorClass::Terminal, operation, "ResourceNotFoundException", id.to_string()));
        };
        if request.status != "PENDING" {
            let message = format!("subscription request {id} is {}", request.status);
            return Err(DzError::new(ErrorClass::Terminal, operation, "ConflictException", message));
        }
        request.status = to.into();
        self.comments.insert(id.into(), comment.into());
        if to == "ACCEPTED" {
            let request = request.clone();
            self.next += 1;
            self.subscriptions.push(SubscriptionInfo {
                id: format!("sub-{}", self.next),
                listing_id: request.listing_id,
                entity_id: request.entity_id,
                project_id: request.project_id,
                project_name: request.project_name,
                status: "APPROVED".into(),
            });
        }
        Ok(())
    }
}
