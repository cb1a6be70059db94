//! Second-generation (V2, Amazon SageMaker Unified Studio) domains through the real SDK: the
//! domain version, project profiles and the Tooling environment, the V1-only operations refused,
//! and Redshift connections with the data sources and runs that read through them.

mod common;

use aws_sdk_datazone::operation::get_data_source_run::GetDataSourceRunOutput;
use aws_sdk_datazone::types::{
    ConnectionPropertiesInput, ConnectionPropertiesPatch, ConnectionScope, ConnectionType,
    DataSourceConfigurationInput, DataSourceErrorType, DataSourceRunStatus, DomainVersion, EnvironmentStatus,
    LineageImportStatus, LineageSyncSchedule, Protocol, RedshiftClusterStorage, RedshiftCredentials,
    RedshiftLineageSyncConfigurationInput, RedshiftPropertiesInput, RedshiftPropertiesOutput, RedshiftPropertiesPatch,
    RedshiftRunConfigurationInput, RedshiftStorage, RedshiftStorageProperties, RelationalFilterConfiguration,
    UsernamePassword,
};
use common::*;

const UNKNOWN_SECRET: &str = "arn:aws:secretsmanager:eu-central-1:222222222222:secret:nobody-knows-XyZ";

/// The ID of the V2 project's Tooling environment.
async fn tooling(client: &aws_sdk_datazone::Client) -> String {
    let envs =
        client.list_environments().domain_identifier(V2_DOMAIN).project_identifier(V2_PROJECT).send().await.unwrap();
    envs.items().iter().find(|e| e.name() == "Tooling").and_then(|e| e.id()).expect("a Tooling environment").into()
}

fn redshift(credentials: RedshiftCredentials) -> ConnectionPropertiesInput {
    ConnectionPropertiesInput::RedshiftProperties(
        RedshiftPropertiesInput::builder()
            .storage(RedshiftStorageProperties::ClusterName("prod-dwh".into()))
            .database_name("sales")
            .credentials(credentials)
            .build(),
    )
}

/// A connection `name` on prod-dwh's `sales` database in the Tooling environment.
async fn connection(
    role: &aws_sdk_datazone::Client,
    env: &str,
    name: &str,
    credentials: RedshiftCredentials,
) -> String {
    role.create_connection()
        .domain_identifier(V2_DOMAIN)
        .environment_identifier(env)
        .name(name)
        .props(redshift(credentials))
        .send()
        .await
        .unwrap()
        .connection_id()
        .to_string()
}

/// Filters on `sales.public`, `orders` and `v_orders`; storage and secret from the connection.
fn by_connection_config() -> DataSourceConfigurationInput {
    DataSourceConfigurationInput::RedshiftRunConfiguration(
        RedshiftRunConfigurationInput::builder()
            .relational_filter_configurations(
                RelationalFilterConfiguration::builder()
                    .database_name("sales")
                    .schema_name("public")
                    .filter_expressions(include("orders"))
                    .filter_expressions(include("v_orders"))
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap(),
    )
}

async fn data_source(role: &aws_sdk_datazone::Client, connection: &str, name: &str) -> String {
    role.create_data_source()
        .domain_identifier(V2_DOMAIN)
        .project_identifier(V2_PROJECT)
        .connection_identifier(connection)
        .name(name)
        .r#type("REDSHIFT")
        .configuration(by_connection_config())
        .send()
        .await
        .unwrap()
        .id()
        .to_string()
}

async fn run_to_end_v2(role: &aws_sdk_datazone::Client, ds_id: &str) -> GetDataSourceRunOutput {
    let run =
        role.start_data_source_run().domain_identifier(V2_DOMAIN).data_source_identifier(ds_id).send().await.unwrap();
    let run_id = run.id().to_string();
    eventually("run finished", || async {
        let r = role.get_data_source_run().domain_identifier(V2_DOMAIN).identifier(&run_id).send().await.unwrap();
        (r.status() != &DataSourceRunStatus::Running).then_some(r)
    })
    .await
}

fn redshift_props(props: Option<&aws_sdk_datazone::types::ConnectionPropertiesOutput>) -> &RedshiftPropertiesOutput {
    props.expect("props").as_redshift_properties().expect("redshiftProperties")
}

#[tokio::test]
async fn domain_versions_project_profiles_and_the_tooling_environment() {
    let emulator = start_v2(fast()).await;
    let admin = datazone(&emulator, GOVERNANCE).await;
    let v2 = admin.get_domain().identifier(V2_DOMAIN).send().await.unwrap();
    assert_eq!(v2.domain_version(), Some(&DomainVersion::V2));
    let root = v2.root_domain_unit_id().expect("rootDomainUnitId");
    assert!(root.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-".contains(&b)), "{root}");
    let v1 = admin.get_domain().identifier(DOMAIN).send().await.unwrap();
    assert_eq!(v1.domain_version(), Some(&DomainVersion::V1));
    let listed = admin.list_domains().send().await.unwrap();
    let versions: Vec<(&str, Option<&DomainVersion>, &str)> =
        listed.items().iter().map(|d| (d.name(), d.domain_version(), d.managed_account_id())).collect();
    assert!(versions.contains(&("unified-mesh", Some(&DomainVersion::V2), "111111111111")), "{versions:?}");
    assert!(versions.contains(&("corp-mesh", Some(&DomainVersion::V1), "111111111111")), "{versions:?}");

    let role = as_role(&emulator).await;
    let project = role.get_project().domain_identifier(V2_DOMAIN).identifier(V2_PROJECT).send().await.unwrap();
    assert_eq!(project.project_profile_id(), Some("pp_analytics"));
    let envs =
        role.list_environments().domain_identifier(V2_DOMAIN).project_identifier(V2_PROJECT).send().await.unwrap();
    assert_eq!(envs.items().len(), 1, "{envs:?}");
    let summary = &envs.items()[0];
    assert_eq!((summary.name(), summary.status()), ("Tooling", Some(&EnvironmentStatus::Active)));
    assert_eq!((summary.provider(), summary.environment_profile_id()), ("Amazon SageMaker", ""));
    assert_eq!(summary.environment_configuration_name(), Some("Tooling"));
    assert_eq!((summary.aws_account_id(), summary.aws_account_region()), (Some("222222222222"), Some(REGION)));
    let env =
        role.get_environment().domain_identifier(V2_DOMAIN).identifier(summary.id().unwrap()).send().await.unwrap();
    assert!(env.environment_configuration_id().is_some_and(|id| !id.is_empty()));
    assert_eq!(env.environment_configuration_name(), Some("Tooling"));
    let sources =
        role.list_data_sources().domain_identifier(V2_DOMAIN).project_identifier(V2_PROJECT).send().await.unwrap();
    assert!(sources.items().is_empty(), "no default data source for a Tooling environment");

    // The managed blueprints of a V2 domain; the Data Warehouse one is not among them.
    let blueprints = admin.list_environment_blueprints().domain_identifier(V2_DOMAIN).send().await.unwrap();
    let mut names: Vec<&str> = blueprints.items().iter().map(|b| b.name()).collect();
    names.sort();
    assert_eq!(names, ["RedshiftServerless", "Tooling"]);

    // A project made in a V2 domain gets a profile and its Tooling environment too.
    let made = admin.create_project().domain_identifier(V2_DOMAIN).name("ml").send().await.unwrap();
    assert!(made.project_profile_id().is_some());
    let made_envs =
        admin.list_environments().domain_identifier(V2_DOMAIN).project_identifier(made.id()).send().await.unwrap();
    assert_eq!(
        made_envs.items().iter().map(|e| (e.name(), e.aws_account_id())).collect::<Vec<_>>(),
        [("Tooling", Some("111111111111"))]
    );
    let v1_project = admin.create_project().domain_identifier(DOMAIN).name("plain").send().await.unwrap();
    assert_eq!(v1_project.project_profile_id(), None);

    // Environment profiles and blueprint-made environments are V1 only.
    let profile = role
        .create_environment_profile()
        .domain_identifier(V2_DOMAIN)
        .name("dwh")
        .environment_blueprint_identifier(blueprints.items()[0].id())
        .project_identifier(V2_PROJECT)
        .aws_account_id("222222222222")
        .aws_account_region(REGION)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&profile), "ValidationException");
    let env = role
        .create_environment()
        .domain_identifier(V2_DOMAIN)
        .project_identifier(V2_PROJECT)
        .name("more")
        .environment_blueprint_identifier(blueprints.items()[0].id())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&env), "ValidationException");
    assert!(format!("{:?}", env.as_service_error()).contains("only valid for V1 domains"), "{env:?}");
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_connection_from_creation_to_deletion() {
    let emulator = start_v2(fast()).await;
    let role = as_role(&emulator).await;
    let env = tooling(&role).await;
    let root = role.get_domain().identifier(V2_DOMAIN).send().await.unwrap().root_domain_unit_id().unwrap().to_string();

    let created = role
        .create_connection()
        .domain_identifier(V2_DOMAIN)
        .environment_identifier(&env)
        .name("warehouse")
        .description("prod-dwh for analytics")
        .props(redshift(RedshiftCredentials::SecretArn(SECRET.into())))
        .send()
        .await
        .unwrap();
    let id = created.connection_id().to_string();
    assert_eq!((created.domain_id(), created.domain_unit_id()), (V2_DOMAIN, root.as_str()));
    assert_eq!((created.r#type(), created.scope()), (&ConnectionType::Redshift, Some(&ConnectionScope::Project)));
    assert_eq!((created.project_id(), created.environment_id()), (Some(V2_PROJECT), Some(env.as_str())));
    let endpoint = &created.physical_endpoints()[0];
    let host = endpoint.host().unwrap();
    assert!(host.starts_with("prod-dwh.") && host.ends_with(".eu-central-1.redshift.amazonaws.com"), "{host}");
    assert_eq!((endpoint.port(), endpoint.protocol()), (Some(5439), Some(&Protocol::Jdbc)));
    let location = endpoint.aws_location().unwrap();
    assert_eq!((location.aws_account_id(), location.aws_region()), (Some("222222222222"), Some(REGION)));
    let props = redshift_props(created.props());
    assert_eq!(props.storage(), Some(&RedshiftStorageProperties::ClusterName("prod-dwh".into())));
    assert_eq!(props.credentials(), Some(&RedshiftCredentials::SecretArn(SECRET.into())));
    assert_eq!(props.jdbc_url(), Some(format!("jdbc:redshift://{host}:5439/sales").as_str()));

    let got = role.get_connection().domain_identifier(V2_DOMAIN).identifier(&id).send().await.unwrap();
    assert_eq!((got.name(), got.description()), ("warehouse", Some("prod-dwh for analytics")));
    assert_eq!(redshift_props(got.props()).database_name(), Some("sales"));
    for listing in [
        role.list_connections().domain_identifier(V2_DOMAIN).project_identifier(V2_PROJECT),
        role.list_connections().domain_identifier(V2_DOMAIN).r#type(ConnectionType::Redshift),
        role.list_connections().domain_identifier(V2_DOMAIN).name("warehouse"),
    ] {
        let items = listing.send().await.unwrap();
        assert_eq!(items.items().iter().map(|c| c.connection_id()).collect::<Vec<_>>(), [id.as_str()]);
    }
    let none = role.list_connections().domain_identifier(V2_DOMAIN).name("elsewhere").send().await.unwrap();
    assert!(none.items().is_empty());

    // Lineage on: read back with its schedule and a job.
    let lineage = RedshiftLineageSyncConfigurationInput::builder()
        .enabled(true)
        .schedule(LineageSyncSchedule::builder().schedule("cron(0 12 * * ? *)").build())
        .build();
    role.update_connection()
        .domain_identifier(V2_DOMAIN)
        .identifier(&id)
        .props(ConnectionPropertiesPatch::RedshiftProperties(
            RedshiftPropertiesPatch::builder().lineage_sync(lineage).build(),
        ))
        .send()
        .await
        .unwrap();
    let got = role.get_connection().domain_identifier(V2_DOMAIN).identifier(&id).send().await.unwrap();
    let sync = redshift_props(got.props()).lineage_sync().expect("lineageSync");
    assert_eq!(sync.enabled(), Some(true));
    assert_eq!(sync.schedule().and_then(|s| s.schedule()), Some("cron(0 12 * * ? *)"));
    assert!(sync.lineage_job_id().is_some_and(|j| !j.is_empty()));
    assert_eq!(redshift_props(got.props()).storage(), Some(&RedshiftStorageProperties::ClusterName("prod-dwh".into())));

    // A data source through the connection: its environment, storage and secret.
    let ds_id = data_source(&role, &id, "analytics-sales").await;
    let ds = role.get_data_source().domain_identifier(V2_DOMAIN).identifier(&ds_id).send().await.unwrap();
    assert_eq!((ds.connection_id(), ds.environment_id()), (Some(id.as_str()), Some(env.as_str())));
    let config = ds.configuration().unwrap().as_redshift_run_configuration().unwrap();
    assert_eq!(
        config.redshift_storage(),
        Some(&RedshiftStorage::RedshiftClusterSource(
            RedshiftClusterStorage::builder().cluster_name("prod-dwh").build().unwrap()
        ))
    );
    assert_eq!(config.redshift_credential_configuration().map(|c| c.secret_manager_arn()), Some(SECRET));
    let by_connection = role
        .list_data_sources()
        .domain_identifier(V2_DOMAIN)
        .project_identifier(V2_PROJECT)
        .connection_identifier(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(by_connection.items().iter().map(|d| d.connection_id()).collect::<Vec<_>>(), [Some(id.as_str())]);

    let run = run_to_end_v2(&role, &ds_id).await;
    assert_eq!(run.status(), &DataSourceRunStatus::Success, "{run:?}");
    assert_eq!(run.run_statistics_for_assets().and_then(|s| s.added()), Some(2));
    assert_eq!(run.lineage_summary().and_then(|l| l.import_status()), Some(&LineageImportStatus::Success));
    let runs = role.list_data_source_runs().domain_identifier(V2_DOMAIN).data_source_identifier(&ds_id).send().await;
    let runs = runs.unwrap();
    assert_eq!(runs.items()[0].lineage_summary().and_then(|l| l.import_status()), Some(&LineageImportStatus::Success));
    let state = control(&emulator, "GET", "/_emulator/state", None).await.1;
    let mut imported: Vec<&str> = state["assets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["dataSourceId"] == ds_id.as_str())
        .map(|a| a["externalIdentifier"].as_str().unwrap())
        .collect();
    imported.sort();
    assert_eq!(
        imported,
        [
            "arn:aws:redshift:eu-central-1:222222222222:table/prod-dwh/sales/public/orders",
            "arn:aws:redshift:eu-central-1:222222222222:table/prod-dwh/sales/public/v_orders",
        ]
    );
    assert_eq!(state["connections"][0]["connectionId"], id.as_str());

    // The connection stays while a data source reads through it.
    let in_use = role.delete_connection().domain_identifier(V2_DOMAIN).identifier(&id).send().await.unwrap_err();
    assert_eq!(code(&in_use), "ConflictException");
    role.delete_data_source().domain_identifier(V2_DOMAIN).identifier(&ds_id).send().await.unwrap();
    let deleted = role.delete_connection().domain_identifier(V2_DOMAIN).identifier(&id).send().await.unwrap();
    assert_eq!(deleted.status(), Some("DELETED"));
    let gone = role.get_connection().domain_identifier(V2_DOMAIN).identifier(&id).send().await.unwrap_err();
    assert_eq!(code(&gone), "ResourceNotFoundException");
    emulator.shutdown().await;
}

#[tokio::test]
async fn connection_rules_and_the_v1_boundary() {
    let emulator = start_v2(fast()).await;
    let role = as_role(&emulator).await;
    let env = tooling(&role).await;
    let secret = || RedshiftCredentials::SecretArn(SECRET.into());
    // The connection "warehouse" as `who`, with `token`.
    let warehouse = |who: &aws_sdk_datazone::Client, token: Option<&str>| {
        who.create_connection()
            .domain_identifier(V2_DOMAIN)
            .environment_identifier(&env)
            .name("warehouse")
            .props(redshift(secret()))
            .set_client_token(token.map(str::to_string))
            .send()
    };
    let first = warehouse(&role, Some("token-1")).await.unwrap();
    let again = warehouse(&role, Some("token-1")).await.unwrap();
    assert_eq!(first.connection_id(), again.connection_id(), "the same token gives the same connection");
    let duplicate = warehouse(&role, None).await.unwrap_err();
    assert_eq!(code(&duplicate), "ConflictException");
    let not_emulated = role
        .create_connection()
        .domain_identifier(V2_DOMAIN)
        .environment_identifier(&env)
        .name("athena")
        .props(ConnectionPropertiesInput::AthenaProperties(
            aws_sdk_datazone::types::AthenaPropertiesInput::builder().workgroup_name("primary").build(),
        ))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&not_emulated), "ValidationException");
    // Not a member of the project: the producer account's own principal.
    let producer = datazone(&emulator, PRODUCER).await;
    let outsider = warehouse(&producer, None).await.unwrap_err();
    assert_eq!(code(&outsider), "AccessDeniedException");

    // A storage other than the connection's is refused; a V2 data source needs a connection.
    let other_storage = DataSourceConfigurationInput::RedshiftRunConfiguration(
        RedshiftRunConfigurationInput::builder()
            .relational_filter_configurations(
                RelationalFilterConfiguration::builder().database_name("sales").build().unwrap(),
            )
            .redshift_storage(RedshiftStorage::RedshiftClusterSource(
                RedshiftClusterStorage::builder().cluster_name("other-dwh").build().unwrap(),
            ))
            .build()
            .unwrap(),
    );
    let mismatch = role
        .create_data_source()
        .domain_identifier(V2_DOMAIN)
        .project_identifier(V2_PROJECT)
        .connection_identifier(first.connection_id())
        .name("mismatch")
        .r#type("REDSHIFT")
        .configuration(other_storage)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&mismatch), "ValidationException");
    let without = role
        .create_data_source()
        .domain_identifier(V2_DOMAIN)
        .project_identifier(V2_PROJECT)
        .environment_identifier(&env)
        .name("no-connection")
        .r#type("REDSHIFT")
        .configuration(by_connection_config())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&without), "ValidationException");

    // V1: no connections, no connectionIdentifier.
    let (project, v1_env) = active_environment(&emulator.endpoint(), "sales").await;
    let v1 = role
        .create_connection()
        .domain_identifier(DOMAIN)
        .environment_identifier(&v1_env)
        .name("warehouse")
        .props(redshift(secret()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&v1), "ValidationException");
    assert!(format!("{:?}", v1.as_service_error()).contains("only supported in V2 domains"), "{v1:?}");
    let v1_ds = redshift_data_source(&role, &project, &v1_env, "through", filter_config("sales", "public", vec![]))
        .connection_identifier(first.connection_id())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&v1_ds), "ValidationException");
    let v1_listing = role.list_connections().domain_identifier(DOMAIN).send().await.unwrap();
    assert!(v1_listing.items().is_empty());
    emulator.shutdown().await;
}

#[tokio::test]
async fn runs_read_through_the_connection_credentials() {
    let emulator = start_v2(fast()).await;
    let role = as_role(&emulator).await;
    let env = tooling(&role).await;

    // A secret DataZone cannot read fails the run.
    let unknown =
        connection(&role, &env, "unknown-secret", RedshiftCredentials::SecretArn(UNKNOWN_SECRET.into())).await;
    let ds = data_source(&role, &unknown, "through-unknown").await;
    let run = run_to_end_v2(&role, &ds).await;
    assert_eq!(run.status(), &DataSourceRunStatus::Failed);
    assert_eq!(run.error_message().map(|e| e.error_type()), Some(&DataSourceErrorType::AccessDeniedException));
    assert!(run.lineage_summary().is_none(), "no lineage without lineage sync");

    // A username and password is readable, and never echoed.
    let password = UsernamePassword::builder().username("loader").password("s3cret").build().unwrap();
    let with_password = connection(&role, &env, "password", RedshiftCredentials::UsernamePassword(password)).await;
    let got = role.get_connection().domain_identifier(V2_DOMAIN).identifier(&with_password).send().await.unwrap();
    assert_eq!(redshift_props(got.props()).credentials(), None);
    let ds = data_source(&role, &with_password, "through-password").await;
    let got_ds = role.get_data_source().domain_identifier(V2_DOMAIN).identifier(&ds).send().await.unwrap();
    let config = got_ds.configuration().unwrap().as_redshift_run_configuration().unwrap();
    assert!(config.redshift_credential_configuration().is_none(), "no secret to name");
    let run = run_to_end_v2(&role, &ds).await;
    assert_eq!(run.status(), &DataSourceRunStatus::Success, "{run:?}");
    assert_eq!(run.run_statistics_for_assets().and_then(|s| s.added()), Some(2));

    // A filter on a database other than the connection's cannot be read.
    let finance = DataSourceConfigurationInput::RedshiftRunConfiguration(
        RedshiftRunConfigurationInput::builder()
            .relational_filter_configurations(
                RelationalFilterConfiguration::builder().database_name("finance").build().unwrap(),
            )
            .build()
            .unwrap(),
    );
    let other_db = role
        .create_data_source()
        .domain_identifier(V2_DOMAIN)
        .project_identifier(V2_PROJECT)
        .connection_identifier(&with_password)
        .name("other-database")
        .r#type("REDSHIFT")
        .configuration(finance)
        .send()
        .await
        .unwrap()
        .id()
        .to_string();
    let run = run_to_end_v2(&role, &other_db).await;
    assert_eq!(run.error_message().map(|e| e.error_type()), Some(&DataSourceErrorType::ValidationException));
    emulator.shutdown().await;
}
