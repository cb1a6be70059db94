//! Shared by the emulator's integration tests: an emulator on a free port loaded with the
//! example fixture, and real AWS SDK clients pointed at it.
#![allow(dead_code)]

pub mod oidc;
pub mod rng;
pub mod shapes;

use std::path::Path;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_sdk_datazone::operation::get_data_source_run::GetDataSourceRunOutput;
use aws_sdk_datazone::types::{
    DataSourceConfigurationInput, DataSourceRunStatus, EnvironmentParameter, EnvironmentStatus, FilterExpression,
    FilterExpressionType, RedshiftClusterStorage, RedshiftCredentialConfiguration, RedshiftRunConfigurationInput,
    RedshiftStorage, RelationalFilterConfiguration,
};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use datazone_emulator::{Emulator, EmulatorConfig, Fixture, Lifecycle};

pub const REGION: &str = "eu-central-1";
pub const DOMAIN: &str = "dzd_0123456789abcd";
pub const PRODUCER: (&str, &str) = ("AKIAPRODUCER00000001", "producer-secret");
pub const GOVERNANCE: (&str, &str) = ("AKIAGOVERNANCE000001", "governance-secret");
pub const ROLE: &str = "arn:aws:iam::111111111111:role/dz-registration";
pub const SECRET: &str = "arn:aws:secretsmanager:eu-central-1:222222222222:secret:dz-redshift-AbCdEf";

pub fn fixture() -> Fixture {
    Fixture::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/emulator/fixture.yaml"))
        .expect("example fixture")
}

/// The example fixture's second-generation (V2) domain `unified-mesh`, by the ID [`v2_fixture`]
/// gives it.
pub const V2_DOMAIN: &str = "dzd_unified0000001";
/// Its project `analytics`, whose Tooling environment is in the producer account (where the
/// example catalog's Redshift is) and of which the registration role is a member.
pub const V2_PROJECT: &str = "analytics0000001";

/// The example fixture with fixed IDs (and a project profile) for its V2 domain and project.
pub fn v2_fixture() -> Fixture {
    let mut fixture = fixture();
    let domain = fixture.domains.iter_mut().find(|d| d.name == "unified-mesh").expect("the example's V2 domain");
    assert_eq!(domain.version.as_deref(), Some("V2"));
    domain.id = Some(V2_DOMAIN.into());
    let project = domain.projects.iter_mut().find(|p| p.name == "analytics").expect("its project analytics");
    project.id = Some(V2_PROJECT.into());
    project.project_profile_id = Some("pp_analytics".into());
    fixture.validate().expect("the V2 fixture is valid");
    fixture
}

pub async fn start_v2(lifecycle: Lifecycle) -> Emulator {
    start_with(EmulatorConfig { fixture: v2_fixture(), lifecycle, rate_limit: None }).await
}

pub fn fast() -> Lifecycle {
    Lifecycle {
        environment_ready_after: Duration::from_millis(50),
        run_duration: Duration::from_millis(50),
        runs_per_day: 25,
        grant_duration: Duration::from_millis(50),
        ..Lifecycle::default()
    }
}

pub async fn start(lifecycle: Lifecycle) -> Emulator {
    start_with(EmulatorConfig { fixture: fixture(), lifecycle, rate_limit: None }).await
}

/// An emulator whose every DataZone answer is held against botocore's model ([`shapes`]): one
/// that breaks it fails the call that got it.
pub async fn start_with(config: EmulatorConfig) -> Emulator {
    let emulator = Emulator::start("127.0.0.1:0".parse().unwrap(), config).await.expect("emulator starts");
    let model = shapes::Model::load();
    emulator.check_answers(Box::new(move |operation, body| model.check(operation, body)));
    emulator
}

/// An SDK configuration for `key`, retries off so every error reaches the test.
pub async fn sdk(emulator: &Emulator, key: (&str, &str), token: Option<String>) -> SdkConfig {
    sdk_at(&emulator.endpoint(), key, token).await
}

/// The same for an emulator at `endpoint` (the benchmark runs the binary).
pub async fn sdk_at(endpoint: &str, (access_key, secret): (&str, &str), token: Option<String>) -> SdkConfig {
    let http = aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https();
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new(access_key, secret, token, None, "test"))
        .endpoint_url(endpoint)
        .http_client(http)
        .retry_config(RetryConfig::disabled())
        .load()
        .await
}

pub async fn datazone(emulator: &Emulator, key: (&str, &str)) -> aws_sdk_datazone::Client {
    aws_sdk_datazone::Client::new(&sdk(emulator, key, None).await)
}

/// A DataZone client acting as the registration role (AssumeRole from the producer account).
pub async fn as_role(emulator: &Emulator) -> aws_sdk_datazone::Client {
    as_role_at(&emulator.endpoint()).await
}

pub async fn as_role_at(endpoint: &str) -> aws_sdk_datazone::Client {
    let sts = aws_sdk_sts::Client::new(&sdk_at(endpoint, PRODUCER, None).await);
    let out = sts
        .assume_role()
        .role_arn(ROLE)
        .role_session_name("test-session")
        .external_id("optional")
        .send()
        .await
        .expect("AssumeRole");
    let c = out.credentials().expect("credentials");
    let config =
        sdk_at(endpoint, (c.access_key_id(), c.secret_access_key()), Some(c.session_token().to_string())).await;
    aws_sdk_datazone::Client::new(&config)
}

pub fn include(expression: &str) -> FilterExpression {
    FilterExpression::builder().r#type(FilterExpressionType::Include).expression(expression).build().unwrap()
}

pub fn exclude(expression: &str) -> FilterExpression {
    FilterExpression::builder().r#type(FilterExpressionType::Exclude).expression(expression).build().unwrap()
}

/// A Redshift data source configuration on prod-dwh: one schema of `database`, `expressions`.
pub fn filter_config(database: &str, schema: &str, expressions: Vec<FilterExpression>) -> DataSourceConfigurationInput {
    DataSourceConfigurationInput::RedshiftRunConfiguration(
        RedshiftRunConfigurationInput::builder()
            .relational_filter_configurations(
                RelationalFilterConfiguration::builder()
                    .database_name(database)
                    .schema_name(schema)
                    .set_filter_expressions(Some(expressions))
                    .build()
                    .unwrap(),
            )
            .redshift_credential_configuration(
                RedshiftCredentialConfiguration::builder().secret_manager_arn(SECRET).build().unwrap(),
            )
            .redshift_storage(RedshiftStorage::RedshiftClusterSource(
                RedshiftClusterStorage::builder().cluster_name("prod-dwh").build().unwrap(),
            ))
            .build()
            .unwrap(),
    )
}

/// A CreateDataSource request for a Redshift data source `name` in the project's environment,
/// ready to send or to extend (client token, publishOnImport).
pub fn redshift_data_source(
    role: &aws_sdk_datazone::Client,
    project: &str,
    environment: &str,
    name: &str,
    config: DataSourceConfigurationInput,
) -> aws_sdk_datazone::operation::create_data_source::builders::CreateDataSourceFluentBuilder {
    role.create_data_source()
        .domain_identifier(DOMAIN)
        .project_identifier(project)
        .environment_identifier(environment)
        .name(name)
        .r#type("REDSHIFT")
        .configuration(config)
}

/// The DefaultDataWarehouse blueprint's ID, enabled for the producer account in the region.
pub async fn enable_warehouse(endpoint: &str) -> String {
    let producer = aws_sdk_datazone::Client::new(&sdk_at(endpoint, PRODUCER, None).await);
    let blueprints = producer
        .list_environment_blueprints()
        .domain_identifier(DOMAIN)
        .name("DefaultDataWarehouse")
        .send()
        .await
        .unwrap();
    let warehouse = blueprints.items()[0].id().to_string();
    producer
        .put_environment_blueprint_configuration()
        .domain_identifier(DOMAIN)
        .environment_blueprint_identifier(&warehouse)
        .enabled_regions(REGION)
        .provisioning_role_arn("arn:aws:iam::222222222222:role/DataZoneProvisioning-111111111111")
        .manage_access_role_arn("arn:aws:iam::222222222222:role/DzRedshiftAccess-eu-central-1-corp-mesh")
        .send()
        .await
        .unwrap();
    warehouse
}

pub async fn sales_project(role: &aws_sdk_datazone::Client) -> String {
    role.list_projects().domain_identifier(DOMAIN).name("sales").send().await.unwrap().items()[0].id().to_string()
}

/// The reference flow up to an ACTIVE environment `prod-dwh-<database>`: blueprint enabled by the
/// producer, profile and environment by the role. Returns (project ID, environment ID).
pub async fn active_environment(endpoint: &str, database: &str) -> (String, String) {
    let warehouse = enable_warehouse(endpoint).await;
    let role = as_role_at(endpoint).await;
    let project = sales_project(&role).await;
    let parameter = |n: &str, v: &str| EnvironmentParameter::builder().name(n).value(v).build();
    let profile = role
        .create_environment_profile()
        .domain_identifier(DOMAIN)
        .name(format!("dwh-222222222222-prod-dwh-{database}"))
        .environment_blueprint_identifier(&warehouse)
        .project_identifier(&project)
        .aws_account_id("222222222222")
        .aws_account_region(REGION)
        .user_parameters(parameter("clusterName", "prod-dwh"))
        .user_parameters(parameter("dataAccessSecretsArn", SECRET))
        .send()
        .await
        .unwrap();
    let created = role
        .create_environment()
        .domain_identifier(DOMAIN)
        .project_identifier(&project)
        .name(format!("prod-dwh-{database}"))
        .environment_profile_identifier(profile.id())
        .user_parameters(parameter("dbName", database))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), Some(&EnvironmentStatus::Creating), "CreateEnvironment answers before ACTIVE");
    let env_id = created.id().unwrap().to_string();
    eventually("environment ACTIVE", || async {
        let e = role.get_environment().domain_identifier(DOMAIN).identifier(&env_id).send().await.unwrap();
        (e.status() == Some(&EnvironmentStatus::Active)).then_some(())
    })
    .await;
    (project, env_id)
}

/// Starts a run of the data source and waits until it is no longer RUNNING.
pub async fn run_to_end(role: &aws_sdk_datazone::Client, ds_id: &str) -> GetDataSourceRunOutput {
    let run =
        role.start_data_source_run().domain_identifier(DOMAIN).data_source_identifier(ds_id).send().await.unwrap();
    let run_id = run.id().to_string();
    eventually("run finished", || async {
        let r = role.get_data_source_run().domain_identifier(DOMAIN).identifier(&run_id).send().await.unwrap();
        (r.status() != &DataSourceRunStatus::Running).then_some(r)
    })
    .await
}

/// The service error code of an SDK error.
pub fn code<E, R>(e: &aws_sdk_datazone::error::SdkError<E, R>) -> String
where
    E: aws_sdk_datazone::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    match e.as_service_error() {
        Some(s) => s.code().unwrap_or("no code").to_string(),
        None => format!("not a service error: {e:?}"),
    }
}

/// Polls `check` every 20 ms until it returns `Some` or 10 s pass.
pub async fn eventually<T, F: Future<Output = Option<T>>>(what: &str, mut check: impl FnMut() -> F) -> T {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(std::time::Instant::now() < deadline, "{what}: not within 10 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A plain HTTP request to the control API; returns (status, JSON body).
pub async fn control(
    emulator: &Emulator,
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(emulator.addr).await.unwrap();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: emulator\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let status = response.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let json = response
        .split("\r\n\r\n")
        .nth(1)
        .map(|b| serde_json::from_str(b).unwrap_or(serde_json::Value::Null))
        .unwrap_or_default();
    (status, json)
}
