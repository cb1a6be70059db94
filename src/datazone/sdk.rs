//! [`DataZone`] and [`Producer`] over the AWS SDK. Endpoints, region and credentials come from
//! the standard configuration chain (`AWS_ENDPOINT_URL`, IRSA, Pod Identity…); project-scoped
//! clients assume the connection's role with session tags naming the data product.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_datazone::types as dz;
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_datazone::config::{IdentityCache, StalledStreamProtectionConfig};

use crate::metrics::Metrics;

use super::pace::connector::{PacedHttpClient, Pacer, Pacers, TagOperation};
use super::sdk_convert::{
    connection_info, error_detail, forms_input, lineage_input, recommendation, redshift_input, required_id, run_error,
    run_info, schedule, sdk_error, source_config, status_or_none, time,
};
use super::sdk_producer::SdkProducer;
use super::session::Session;
use super::telemetry::CallMetrics;
use super::{
    ActivityInfo, AssetOutcome, Backend, Binding, ConnectionInfo, ConnectionPatch, ConnectionSpec, DataSourceInfo,
    DataSourceStatus, DataSourceSummary, DataZone, DzError, EnvironmentInfo, EnvironmentStatus, Generation,
    ProfileSpec, RunInfo, RunStatus, SessionKey, SourceConfig, Storage,
};

/// The environment configuration V2 projects make connections in [inferred: the project
/// profiles' tooling environment] (docs/datazone-semantics.md §12).
pub const PROJECT_ENVIRONMENT: &str = "Tooling";

/// The AWS configuration the operator starts from, with one shared HTTPS client (rustls on ring).
/// Standard retries (`AWS_RETRY_MODE=adaptive` is honoured; docs/datazone-semantics.md §8 says
/// why it is not the default).
pub async fn base_config() -> SdkConfig {
    let http = aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https();
    aws_config::defaults(BehaviorVersion::latest()).http_client(http).load().await
}

/// Builds clients and keeps one assumed-role session (with its DataZone client) per
/// [`SessionKey`].
#[derive(Clone)]
pub struct Clients {
    base: SdkConfig,
    sessions: Arc<Mutex<HashMap<SessionKey, (Session, SdkDataZone)>>>,
    metrics: CallMetrics,
    pacers: Pacers,
}

impl Clients {
    /// Clients whose project-scoped DataZone calls are paced per (account, region), starting at
    /// `pace` calls a second ([`super::pace`]).
    pub fn new(base: SdkConfig, metrics: Metrics, pace: f64) -> Self {
        let pacers = Pacers::new(pace, metrics.aws_pace.clone());
        Self { base, sessions: Arc::default(), metrics: CallMetrics { metrics }, pacers }
    }

    fn regional(&self, region: &str) -> SdkConfig {
        self.base.to_builder().region(Region::new(region.to_string())).build()
    }

    fn sts(&self, config: &SdkConfig) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::config::Builder::from(config).interceptor(self.metrics.clone()).build(),
        )
    }

    /// The session for `key`, made on first use.
    fn session(&self, key: &SessionKey) -> (Session, SdkDataZone) {
        let mut sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(found) = sessions.get(key) {
            return found.clone();
        }
        let regional = self.regional(&key.region);
        let session = Session::new(key.clone(), self.sts(&regional));
        // The session holds the credentials itself; a second cache in front of it would only
        // be one more place to evict from.
        let mut config = aws_sdk_datazone::config::Builder::from(&regional)
            .credentials_provider(SharedCredentialsProvider::new(session.clone()))
            .identity_cache(IdentityCache::no_cache())
            .interceptor(self.metrics.clone());
        // Every session calling as one account shares that account's paces (one per operation). A request waiting
        // for its slot has not started to upload: the SDK's stalled-upload check (1 byte a second
        // after a grace period) would take the wait for a stall and fail it; downloads stay
        // watched.
        let mut paced = None;
        if let Some(http) = regional.http_client() {
            let pacer = self.pacers.get(account_of(&key.role_arn), &key.region);
            paced = Some(pacer.clone());
            config = config
                .interceptor(TagOperation)
                .http_client(PacedHttpClient::shared(http, pacer))
                .stalled_stream_protection(
                    StalledStreamProtectionConfig::enabled().upload_enabled(false).download_enabled(true).build(),
                );
        }
        let client = SdkDataZone { client: aws_sdk_datazone::Client::from_conf(config.build()), pacer: paced };
        sessions.insert(key.clone(), (session.clone(), client.clone()));
        self.metrics.metrics.aws_sessions.set(sessions.len() as i64);
        (session, client)
    }
}

/// The account of an IAM role ARN (`arn:aws:iam::111111111111:role/name`).
fn account_of(role_arn: &str) -> &str {
    role_arn.split(':').nth(4).unwrap_or_default()
}

impl Backend for Clients {
    type DataZone = SdkDataZone;
    type Producer = SdkProducer;

    async fn check_role(&self, key: &SessionKey) -> Result<String, DzError> {
        let (session, _) = self.session(key);
        session.assumed().await.map(|(_, arn)| arn)
    }

    fn project(&self, key: &SessionKey) -> SdkDataZone {
        self.session(key).1
    }

    fn producer(&self, region: &str) -> SdkProducer {
        let config = self.regional(region);
        SdkProducer {
            datazone: aws_sdk_datazone::Client::from_conf(
                aws_sdk_datazone::config::Builder::from(&config).interceptor(self.metrics.clone()).build(),
            ),
            sts: self.sts(&config),
            redshift: aws_sdk_redshiftdata::Client::from_conf(
                aws_sdk_redshiftdata::config::Builder::from(&config).interceptor(self.metrics.clone()).build(),
            ),
        }
    }

    fn drop_session(&self, key: &SessionKey) {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner).remove(key);
    }

    fn saturated(&self) -> bool {
        self.pacers.any_saturated()
    }
}

#[derive(Clone)]
pub struct SdkDataZone {
    client: aws_sdk_datazone::Client,
    /// The account's pace its calls wait for.
    pacer: Option<Arc<Pacer>>,
}

impl SdkDataZone {
    pub(super) fn client(&self) -> &aws_sdk_datazone::Client {
        &self.client
    }

    /// Every environment of the project (all pages).
    async fn environments(&self, domain: &str, project: &str) -> Result<Vec<dz::EnvironmentSummary>, DzError> {
        self.client
            .list_environments()
            .domain_identifier(domain)
            .project_identifier(project)
            .into_paginator()
            .page_size(50)
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| sdk_error("ListEnvironments", e))
    }
}

impl DataZone for SdkDataZone {
    fn saturated(&self) -> bool {
        self.pacer.as_ref().is_some_and(|p| p.saturated())
    }

    fn saturated_for(&self, operation: &str) -> bool {
        self.pacer.as_ref().is_some_and(|p| p.saturated_for(operation))
    }

    async fn find_domain(&self, name: &str) -> Result<Option<(String, Generation)>, DzError> {
        let mut token = None;
        loop {
            let page = self
                .client
                .list_domains()
                .max_results(25)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| sdk_error("ListDomains", e))?;
            if let Some(d) = page.items().iter().find(|d| d.name() == name) {
                let generation = Generation::parse(d.domain_version().map(|v| v.as_str()));
                return Ok(Some((d.id().to_string(), generation)));
            }
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                return Ok(None);
            }
        }
    }

    async fn get_domain(&self, id: &str) -> Result<Generation, DzError> {
        let out = self.client.get_domain().identifier(id).send().await.map_err(|e| sdk_error("GetDomain", e))?;
        Ok(Generation::parse(out.domain_version().map(|v| v.as_str())))
    }

    async fn find_project(&self, domain: &str, name_or_id: &str) -> Result<Option<String>, DzError> {
        let found = self
            .client
            .list_projects()
            .domain_identifier(domain)
            .name(name_or_id)
            .send()
            .await
            .map_err(|e| sdk_error("ListProjects", e))?;
        if let Some(p) = found.items().iter().find(|p| p.name() == name_or_id) {
            return Ok(Some(p.id().to_string()));
        }
        // Not a name: perhaps an ID.
        match self.client.get_project().domain_identifier(domain).identifier(name_or_id).send().await {
            Ok(p) => Ok(Some(p.id().to_string())),
            Err(e) => {
                let e = sdk_error("GetProject", e);
                if e.is_not_found() || e.code == "ValidationException" { Ok(None) } else { Err(e) }
            }
        }
    }

    async fn list_projects(&self, domain: &str) -> Result<Vec<String>, DzError> {
        let projects: Vec<dz::ProjectSummary> = self
            .client
            .list_projects()
            .domain_identifier(domain)
            .into_paginator()
            .page_size(50)
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| sdk_error("ListProjects", e))?;
        Ok(projects.iter().map(|p| p.id().to_string()).collect())
    }

    async fn find_profile(&self, domain: &str, project: &str, name: &str) -> Result<Option<String>, DzError> {
        let found = self
            .client
            .list_environment_profiles()
            .domain_identifier(domain)
            .project_identifier(project)
            .name(name)
            .send()
            .await
            .map_err(|e| sdk_error("ListEnvironmentProfiles", e))?;
        Ok(found.items().iter().find(|p| p.name() == name).map(|p| p.id().to_string()))
    }

    async fn create_profile(&self, domain: &str, spec: &ProfileSpec) -> Result<String, DzError> {
        let parameter = |n: &str, v: &str| dz::EnvironmentParameter::builder().name(n).value(v).build();
        let storage = match &spec.storage {
            Storage::Cluster(n) => parameter("clusterName", n),
            Storage::Workgroup(n) => parameter("workgroupName", n),
        };
        let out = self
            .client
            .create_environment_profile()
            .domain_identifier(domain)
            .name(&spec.name)
            .description("Managed by datazone-operator")
            .environment_blueprint_identifier(&spec.blueprint_id)
            .project_identifier(&spec.project_id)
            .aws_account_id(&spec.account)
            .aws_account_region(&spec.region)
            .user_parameters(storage)
            .user_parameters(parameter("dataAccessSecretsArn", &spec.secret_arn))
            .send()
            .await
            .map_err(|e| sdk_error("CreateEnvironmentProfile", e))?;
        Ok(out.id().to_string())
    }

    async fn find_environment(
        &self,
        domain: &str,
        project: &str,
        name: &str,
    ) -> Result<Option<EnvironmentInfo>, DzError> {
        let found = self
            .client
            .list_environments()
            .domain_identifier(domain)
            .project_identifier(project)
            .name(name)
            .send()
            .await
            .map_err(|e| sdk_error("ListEnvironments", e))?;
        let Some(e) = found.items().iter().find(|e| e.name() == name) else { return Ok(None) };
        Ok(Some(EnvironmentInfo {
            id: required_id("ListEnvironments", e.id())?,
            status: status_or_none(e.status().map(|s| s.as_str()), EnvironmentStatus::parse),
            failure: None,
        }))
    }

    async fn list_environments(&self, domain: &str, project: &str) -> Result<Vec<(String, EnvironmentInfo)>, DzError> {
        let items = self.environments(domain, project).await?;
        // `id` is optional in the model's summary: one without it cannot be ours, nor worked in,
        // and must not make the project's listing unreadable for every data product.
        Ok(items
            .iter()
            .filter_map(|e| {
                let id = e.id()?.to_string();
                let status = status_or_none(e.status().map(|s| s.as_str()), EnvironmentStatus::parse);
                Some((e.name().to_string(), EnvironmentInfo { id, status, failure: None }))
            })
            .collect())
    }

    async fn get_environment(&self, domain: &str, id: &str) -> Result<EnvironmentInfo, DzError> {
        let e = self
            .client
            .get_environment()
            .domain_identifier(domain)
            .identifier(id)
            .send()
            .await
            .map_err(|e| sdk_error("GetEnvironment", e))?;
        Ok(EnvironmentInfo {
            id: e.id().unwrap_or(id).to_string(),
            status: status_or_none(e.status().map(|s| s.as_str()), EnvironmentStatus::parse),
            failure: e.last_deployment().and_then(|d| d.failure_reason()).map(|r| r.message().to_string()),
        })
    }

    async fn create_environment(
        &self,
        domain: &str,
        project: &str,
        profile: &str,
        name: &str,
        database: &str,
    ) -> Result<EnvironmentInfo, DzError> {
        let out = self
            .client
            .create_environment()
            .domain_identifier(domain)
            .project_identifier(project)
            .environment_profile_identifier(profile)
            .name(name)
            .description("Managed by datazone-operator")
            .user_parameters(dz::EnvironmentParameter::builder().name("dbName").value(database).build())
            .send()
            .await
            .map_err(|e| sdk_error("CreateEnvironment", e))?;
        Ok(EnvironmentInfo {
            id: required_id("CreateEnvironment", out.id())?,
            status: status_or_none(out.status().map(|s| s.as_str()), EnvironmentStatus::parse),
            failure: None,
        })
    }

    async fn project_environment(&self, domain: &str, project: &str) -> Result<Option<String>, DzError> {
        let items = self.environments(domain, project).await?;
        Ok(items
            .iter()
            .filter(|e| e.status() == Some(&dz::EnvironmentStatus::Active))
            .find(|e| e.environment_configuration_name().unwrap_or(e.name()) == PROJECT_ENVIRONMENT)
            .and_then(|e| e.id().map(str::to_string)))
    }

    async fn find_connection(
        &self,
        domain: &str,
        project: &str,
        name: &str,
    ) -> Result<Option<ConnectionInfo>, DzError> {
        let found = self
            .client
            .list_connections()
            .domain_identifier(domain)
            .project_identifier(project)
            .r#type(dz::ConnectionType::Redshift)
            .name(name)
            .send()
            .await
            .map_err(|e| sdk_error("ListConnections", e))?;
        // The summary has no description: the connection is read for its ownership mark.
        let Some(c) = found.items().iter().find(|c| c.name() == name) else { return Ok(None) };
        let out = self
            .client
            .get_connection()
            .domain_identifier(domain)
            .identifier(c.connection_id())
            .send()
            .await
            .map_err(|e| sdk_error("GetConnection", e))?;
        Ok(Some(connection_info(out.connection_id(), out.name(), out.description(), out.props())))
    }

    async fn create_connection(&self, domain: &str, spec: &ConnectionSpec) -> Result<ConnectionInfo, DzError> {
        let storage = match &spec.storage {
            Storage::Cluster(n) => dz::RedshiftStorageProperties::ClusterName(n.clone()),
            Storage::Workgroup(n) => dz::RedshiftStorageProperties::WorkgroupName(n.clone()),
        };
        let mut props = dz::RedshiftPropertiesInput::builder()
            .storage(storage)
            .database_name(&spec.database)
            .credentials(dz::RedshiftCredentials::SecretArn(spec.secret_arn.clone()));
        if let Some(lineage) = &spec.lineage {
            props = props.lineage_sync(lineage_input(lineage));
        }
        let location = dz::AwsLocation::builder().aws_account_id(&spec.account).aws_region(&spec.region).build();
        let out = self
            .client
            .create_connection()
            .domain_identifier(domain)
            .environment_identifier(&spec.environment)
            .name(&spec.name)
            .description(&spec.description)
            .scope(dz::ConnectionScope::Project)
            .aws_location(location)
            .props(dz::ConnectionPropertiesInput::RedshiftProperties(props.build()))
            .client_token(&spec.client_token)
            .send()
            .await
            .map_err(|e| sdk_error("CreateConnection", e))?;
        Ok(connection_info(out.connection_id(), out.name(), out.description(), out.props()))
    }

    async fn update_connection(&self, domain: &str, id: &str, patch: &ConnectionPatch) -> Result<(), DzError> {
        let mut props = dz::RedshiftPropertiesPatch::builder();
        if let Some(secret) = &patch.secret_arn {
            props = props.credentials(dz::RedshiftCredentials::SecretArn(secret.clone()));
        }
        if let Some(lineage) = &patch.lineage {
            props = props.lineage_sync(lineage_input(lineage));
        }
        self.client
            .update_connection()
            .domain_identifier(domain)
            .identifier(id)
            .props(dz::ConnectionPropertiesPatch::RedshiftProperties(props.build()))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| sdk_error("UpdateConnection", e))
    }

    async fn find_data_source(&self, domain: &str, project: &str, name: &str) -> Result<Option<String>, DzError> {
        let found = self
            .client
            .list_data_sources()
            .domain_identifier(domain)
            .project_identifier(project)
            .name(name)
            .send()
            .await
            .map_err(|e| sdk_error("ListDataSources", e))?;
        Ok(found.items().iter().find(|d| d.name() == name).map(|d| d.data_source_id().to_string()))
    }

    async fn list_data_sources(&self, domain: &str, project: &str) -> Result<Vec<DataSourceSummary>, DzError> {
        let items = self
            .client
            .list_data_sources()
            .domain_identifier(domain)
            .project_identifier(project)
            .into_paginator()
            .page_size(50)
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| sdk_error("ListDataSources", e))?;
        Ok(items
            .iter()
            .map(|d| DataSourceSummary {
                id: d.data_source_id().to_string(),
                name: d.name().to_string(),
                status: DataSourceStatus::parse(d.status().as_str()),
                environment_id: d.environment_id().map(str::to_string),
                connection_id: d.connection_id().map(str::to_string),
                description: d.description().map(str::to_string),
                last_run_status: d.last_run_status().map(|s| RunStatus::parse(s.as_str())),
                last_run_error: d.last_run_error_message().map(run_error),
                updated_at: time(d.updated_at()),
            })
            .collect())
    }

    async fn get_data_source(&self, domain: &str, id: &str) -> Result<Option<DataSourceInfo>, DzError> {
        match self.client.get_data_source().domain_identifier(domain).identifier(id).send().await {
            Ok(out) => Ok(Some(DataSourceInfo {
                id: out.id().to_string(),
                name: out.name().to_string(),
                status: status_or_none(out.status().map(|s| s.as_str()), DataSourceStatus::parse),
                environment_id: out.environment_id().map(str::to_string),
                connection_id: out.connection_id().map(str::to_string),
                description: out.description().map(str::to_string),
                config: source_config(&out),
                error: out.error_message().map(error_detail),
                updated_at: time(out.updated_at()),
                project_id: Some(out.project_id().to_string()),
                kind: out.r#type().map(str::to_string),
            })),
            Err(e) => {
                let e = sdk_error("GetDataSource", e);
                if e.is_not_found() { Ok(None) } else { Err(e) }
            }
        }
    }

    async fn create_data_source(
        &self,
        domain: &str,
        project: &str,
        binding: &Binding,
        name: &str,
        description: &str,
        config: &SourceConfig,
        client_token: &str,
    ) -> Result<DataSourceInfo, DzError> {
        let create = self.client.create_data_source().domain_identifier(domain).project_identifier(project);
        let create = match binding {
            Binding::Environment(id) => create.environment_identifier(id),
            Binding::Connection(id) => create.connection_identifier(id),
        };
        let out = create
            .name(name)
            .description(description)
            .r#type("REDSHIFT")
            .configuration(redshift_input(config))
            .publish_on_import(config.publish_on_import)
            .recommendation(recommendation(config))
            .set_schedule(schedule(config))
            .set_asset_forms_input((!config.asset_forms.is_empty()).then(|| forms_input(&config.asset_forms)))
            .client_token(client_token)
            .send()
            .await
            .map_err(|e| sdk_error("CreateDataSource", e))?;
        Ok(DataSourceInfo {
            id: out.id().to_string(),
            name: out.name().to_string(),
            status: status_or_none(out.status().map(|s| s.as_str()), DataSourceStatus::parse),
            environment_id: out.environment_id().map(str::to_string),
            connection_id: out.connection_id().map(str::to_string),
            description: out.description().map(str::to_string),
            config: Some(config.clone()),
            error: None,
            updated_at: time(out.updated_at()),
            project_id: Some(project.to_string()),
            kind: Some("REDSHIFT".into()),
        })
    }

    async fn update_data_source(
        &self,
        domain: &str,
        id: &str,
        config: Option<&SourceConfig>,
        description: Option<&str>,
    ) -> Result<(), DzError> {
        let mut update = self.client.update_data_source().domain_identifier(domain).identifier(id);
        if let Some(config) = config {
            update = update
                .configuration(redshift_input(config))
                .publish_on_import(config.publish_on_import)
                .recommendation(recommendation(config))
                .set_schedule(schedule(config))
                // An empty list takes off forms the data source had.
                .set_asset_forms_input(Some(forms_input(&config.asset_forms)));
        }
        update
            .set_description(description.map(str::to_string))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| sdk_error("UpdateDataSource", e))
    }

    async fn delete_data_source(&self, domain: &str, id: &str) -> Result<(), DzError> {
        match self.client.delete_data_source().domain_identifier(domain).identifier(id).send().await {
            Ok(_) => Ok(()),
            Err(e) => {
                let e = sdk_error("DeleteDataSource", e);
                // Already gone is success.
                if e.is_not_found() { Ok(()) } else { Err(e) }
            }
        }
    }

    async fn start_run(&self, domain: &str, data_source: &str, client_token: &str) -> Result<RunInfo, DzError> {
        let r = self
            .client
            .start_data_source_run()
            .domain_identifier(domain)
            .data_source_identifier(data_source)
            .client_token(client_token)
            .send()
            .await
            .map_err(|e| sdk_error("StartDataSourceRun", e))?;
        Ok(run_info(
            r.id(),
            r.status(),
            r.started_at(),
            r.stopped_at(),
            r.run_statistics_for_assets(),
            r.error_message(),
        ))
    }

    async fn get_run(&self, domain: &str, run: &str) -> Result<RunInfo, DzError> {
        let r = self
            .client
            .get_data_source_run()
            .domain_identifier(domain)
            .identifier(run)
            .send()
            .await
            .map_err(|e| sdk_error("GetDataSourceRun", e))?;
        Ok(run_info(
            r.id(),
            r.status(),
            r.started_at(),
            r.stopped_at(),
            r.run_statistics_for_assets(),
            r.error_message(),
        ))
    }

    async fn list_activities(&self, domain: &str, run: &str) -> Result<Vec<ActivityInfo>, DzError> {
        let items = self
            .client
            .list_data_source_run_activities()
            .domain_identifier(domain)
            .identifier(run)
            .into_paginator()
            .page_size(50)
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| sdk_error("ListDataSourceRunActivities", e))?;
        Ok(items
            .iter()
            .map(|a| ActivityInfo {
                database: a.database().to_string(),
                name: a.technical_name().to_string(),
                outcome: AssetOutcome::of(a.data_asset_status().as_str()),
                status: a.data_asset_status().as_str().to_string(),
                asset_id: a.data_asset_id().map(str::to_string),
                error: a.error_message().map(error_detail),
            })
            .collect())
    }
}
