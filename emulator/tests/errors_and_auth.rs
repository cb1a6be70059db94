//! Every error class arrives as the SDK's typed error; bad signatures, unknown keys and wrong
//! ExternalIds are refused; pagination walks real tokens.

mod common;

use aws_sdk_datazone::operation::create_environment_profile::CreateEnvironmentProfileError;
use aws_sdk_datazone::operation::get_data_source::GetDataSourceError;
use aws_sdk_datazone::operation::get_domain::GetDomainError;
use aws_sdk_datazone::types::DataSourceRunStatus;
use common::*;

#[tokio::test]
async fn unknown_and_foreign_domains_are_403_access_denied() {
    let emulator = start(fast()).await;
    let producer = datazone(&emulator, PRODUCER).await;
    let err = producer.get_domain().identifier("dzd_doesnotexist01").send().await.unwrap_err();
    assert!(matches!(err.as_service_error(), Some(GetDomainError::AccessDeniedException(_))), "{err:?}");
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(403));
    // The producer account is associated: it sees the domains (the V1 one and unified-mesh).
    let listed = producer.list_domains().send().await.unwrap();
    let mut names: Vec<&str> = listed.items().iter().map(|d| d.name()).collect();
    names.sort();
    assert_eq!(names, ["corp-mesh", "unified-mesh"]);
    assert!(listed.items().iter().any(|d| d.id() == DOMAIN));
    emulator.shutdown().await;
}

#[tokio::test]
async fn non_members_are_refused_with_access_denied() {
    let emulator = start(fast()).await;
    // The producer's own principal is not a member of the project; only the assumed role is.
    let producer = datazone(&emulator, PRODUCER).await;
    let governance = datazone(&emulator, GOVERNANCE).await;
    let project =
        governance.list_projects().domain_identifier(DOMAIN).send().await.unwrap().items()[0].id().to_string();
    let blueprint = producer.list_environment_blueprints().domain_identifier(DOMAIN).send().await.unwrap().items()[0]
        .id()
        .to_string();
    let err = producer
        .create_environment_profile()
        .domain_identifier(DOMAIN)
        .name("p")
        .environment_blueprint_identifier(blueprint)
        .project_identifier(project)
        .aws_account_id("222222222222")
        .aws_account_region(REGION)
        .send()
        .await
        .unwrap_err();
    match err.as_service_error() {
        Some(CreateEnvironmentProfileError::AccessDeniedException(e)) => {
            assert_eq!(e.message(), "User is not permitted to perform operation: CreateEnvironmentProfile")
        }
        other => panic!("expected AccessDeniedException, got {other:?}"),
    }
    emulator.shutdown().await;
}

#[tokio::test]
async fn validation_not_found_conflict_and_quota() {
    let mut lifecycle = fast();
    lifecycle.runs_per_day = 2;
    lifecycle.run_duration = std::time::Duration::from_millis(300);
    let emulator = start(lifecycle).await;
    let role = as_role(&emulator).await;
    let project =
        role.list_projects().domain_identifier(DOMAIN).name("sales").send().await.unwrap().items()[0].id().to_string();

    // Validation: a name of the wrong shape.
    let err = role.create_project().domain_identifier(DOMAIN).name("bad/name").send().await.unwrap_err();
    assert_eq!(code(&err), "ValidationException");
    // Not found.
    let err = role.get_data_source().domain_identifier(DOMAIN).identifier("nosuchsource0").send().await.unwrap_err();
    assert!(matches!(err.as_service_error(), Some(GetDataSourceError::ResourceNotFoundException(_))));

    // Environment names conflict within the project; data source names are a ValidationException.
    let (_, env_id) = active_environment(&emulator.endpoint(), "sales").await;
    let profile = role.get_environment().domain_identifier(DOMAIN).identifier(&env_id).send().await.unwrap();
    let err = role
        .create_environment()
        .domain_identifier(DOMAIN)
        .project_identifier(&project)
        .name(profile.name())
        .environment_profile_identifier(profile.environment_profile_id())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ConflictException");
    let err = redshift_data_source(
        &role,
        &project,
        &env_id,
        "prod-dwh-sales-default-datasource",
        filter_config("sales", "public", vec![include("*")]),
    )
    .send()
    .await
    .unwrap_err();
    assert_eq!(code(&err), "ValidationException");
    assert!(format!("{err:?}").contains("DataSource name must be unique for a given project."));

    // A second run while one is active conflicts; the daily quota is a 402.
    let ds =
        redshift_data_source(&role, &project, &env_id, "runs", filter_config("sales", "public", vec![include("*")]))
            .send()
            .await
            .unwrap();
    let ds_id = ds.id().to_string();
    role.start_data_source_run().domain_identifier(DOMAIN).data_source_identifier(&ds_id).send().await.unwrap();
    let err =
        role.start_data_source_run().domain_identifier(DOMAIN).data_source_identifier(&ds_id).send().await.unwrap_err();
    assert_eq!(code(&err), "ConflictException");
    let wait_idle = || async {
        eventually("run done", || async {
            let ds = role.get_data_source().domain_identifier(DOMAIN).identifier(&ds_id).send().await.unwrap();
            (ds.status().map(|s| s.as_str()) == Some("READY")).then_some(())
        })
        .await
    };
    wait_idle().await;
    role.start_data_source_run().domain_identifier(DOMAIN).data_source_identifier(&ds_id).send().await.unwrap();
    wait_idle().await;
    let err =
        role.start_data_source_run().domain_identifier(DOMAIN).data_source_identifier(&ds_id).send().await.unwrap_err();
    assert_eq!(code(&err), "ServiceQuotaExceededException");
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(402));
    let runs =
        role.list_data_source_runs().domain_identifier(DOMAIN).data_source_identifier(&ds_id).send().await.unwrap();
    assert_eq!(runs.items().len(), 2);
    assert!(runs.items().iter().all(|r| r.status() == &DataSourceRunStatus::Success));
    emulator.shutdown().await;
}

#[tokio::test]
async fn environment_without_an_enabled_blueprint_fails_to_create() {
    use aws_sdk_datazone::types::EnvironmentParameter;
    let emulator = start(fast()).await;
    let role = as_role(&emulator).await;
    let project =
        role.list_projects().domain_identifier(DOMAIN).name("sales").send().await.unwrap().items()[0].id().to_string();
    let bp = role
        .list_environment_blueprints()
        .domain_identifier(DOMAIN)
        .name("DefaultDataWarehouse")
        .send()
        .await
        .unwrap()
        .items()[0]
        .id()
        .to_string();
    let profile = role
        .create_environment_profile()
        .domain_identifier(DOMAIN)
        .name("not-enabled")
        .environment_blueprint_identifier(bp)
        .project_identifier(&project)
        .aws_account_id("222222222222")
        .aws_account_region(REGION)
        .user_parameters(EnvironmentParameter::builder().name("clusterName").value("prod-dwh").build())
        .send()
        .await
        .unwrap();
    let env = role
        .create_environment()
        .domain_identifier(DOMAIN)
        .project_identifier(&project)
        .name("e")
        .environment_profile_identifier(profile.id())
        .send()
        .await
        .unwrap();
    let id = env.id().unwrap().to_string();
    let failed = eventually("settled", || async {
        let e = role.get_environment().domain_identifier(DOMAIN).identifier(&id).send().await.unwrap();
        (e.status().map(|s| s.as_str()) != Some("CREATING")).then_some(e)
    })
    .await;
    assert_eq!(failed.status().map(|s| s.as_str()), Some("CREATE_FAILED"));
    let reason = failed.last_deployment().and_then(|d| d.failure_reason()).map(|r| r.message().to_string());
    assert_eq!(reason.as_deref(), Some("Environment blueprint configuration needs to enable atleast one region"));
    emulator.shutdown().await;
}

#[tokio::test]
async fn pagination_walks_every_page_with_real_tokens() {
    let emulator = start(fast()).await;
    let admin = datazone(&emulator, GOVERNANCE).await;
    for i in 0..11 {
        admin.create_project().domain_identifier(DOMAIN).name(format!("p{i:02}")).send().await.unwrap();
    }
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = admin
            .list_projects()
            .domain_identifier(DOMAIN)
            .max_results(5)
            .set_next_token(token.clone())
            .send()
            .await
            .unwrap();
        pages += 1;
        names.extend(page.items().iter().map(|p| p.name().to_string()));
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(pages, 3, "12 projects in pages of 5");
    assert_eq!(names.len(), 12);
    // The SDK paginator agrees.
    let all: Vec<_> = admin
        .list_projects()
        .domain_identifier(DOMAIN)
        .max_results(4)
        .into_paginator()
        .items()
        .send()
        .collect::<Vec<_>>()
        .await;
    assert_eq!(all.len(), 12);
    // A token from another listing is refused.
    let first = admin.list_projects().domain_identifier(DOMAIN).max_results(5).send().await.unwrap();
    let err = admin
        .list_environment_blueprints()
        .domain_identifier(DOMAIN)
        .set_next_token(first.next_token().map(str::to_string))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ValidationException");
    emulator.shutdown().await;
}

#[tokio::test]
async fn bad_signatures_unknown_keys_and_missing_tokens_are_refused() {
    let emulator = start(fast()).await;
    let wrong_secret = datazone(&emulator, (PRODUCER.0, "not-the-secret")).await;
    let err = wrong_secret.list_domains().send().await.unwrap_err();
    assert_eq!(code(&err), "InvalidSignatureException");
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(403));
    let unknown = datazone(&emulator, ("AKIAUNKNOWN000000001", "x")).await;
    assert_eq!(code(&unknown.list_domains().send().await.unwrap_err()), "UnrecognizedClientException");

    // An unsigned request.
    let (status, _) = control_like_unsigned(&emulator).await;
    assert_eq!(status, 403);
    emulator.shutdown().await;
}

async fn control_like_unsigned(emulator: &datazone_emulator::Emulator) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(emulator.addr).await.unwrap();
    stream.write_all(b"GET /v2/domains HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let status = response.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    assert!(response.to_lowercase().contains("x-amzn-errortype: missingauthenticationtokenexception"), "{response}");
    (status, response)
}

#[tokio::test]
async fn a_domain_holds_at_most_its_quota_of_environments() {
    use aws_sdk_datazone::types::EnvironmentParameter;
    use datazone_emulator::Lifecycle;
    let emulator = start(Lifecycle { environments_per_domain: 1, ..fast() }).await;
    let endpoint = emulator.endpoint();
    let (project, _) = active_environment(&endpoint, "sales").await;
    let role = as_role(&emulator).await;
    let profiles = role.list_environment_profiles().domain_identifier(DOMAIN).project_identifier(&project).send().await;
    let profile = profiles.unwrap().items()[0].id().to_string();
    let parameter = EnvironmentParameter::builder().name("dbName").value("marketing").build();
    let err = role
        .create_environment()
        .domain_identifier(DOMAIN)
        .project_identifier(&project)
        .name("prod-dwh-marketing")
        .environment_profile_identifier(&profile)
        .user_parameters(parameter)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ServiceQuotaExceededException");
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(402));
    let message = err.as_service_error().and_then(|e| e.meta().message()).unwrap_or_default().to_string();
    assert!(message.contains(&format!("Domain {DOMAIN} has reached the limit of 1 environments")), "{message}");
    let listed = role.list_environments().domain_identifier(DOMAIN).project_identifier(&project).send().await.unwrap();
    assert_eq!(listed.items().len(), 1, "nothing made past the quota");
    emulator.shutdown().await;
}
