//! The rest of the emulated operations, through the real SDK: domain and project set-up,
//! memberships, blueprint details, profile / environment / data source updates and deletes.

mod common;

use aws_sdk_datazone::types::{EnvironmentParameter, Member, UserDesignation};
use common::*;

#[tokio::test]
async fn domains_projects_and_memberships() {
    let emulator = start(fast()).await;
    let admin = datazone(&emulator, GOVERNANCE).await;
    let created = admin.create_domain().name("second-mesh").send().await.unwrap();
    assert!(created.id().starts_with("dzd_"));
    let got = admin.get_domain().identifier(created.id()).send().await.unwrap();
    assert_eq!(got.name(), Some("second-mesh"));
    assert_eq!(got.arn(), Some(format!("arn:aws:datazone:eu-central-1:111111111111:domain/{}", created.id()).as_str()));
    let dup = admin.create_domain().name("second-mesh").send().await.unwrap_err();
    assert_eq!(code(&dup), "ConflictException");
    // The producer account is not associated with the new domain.
    let producer = datazone(&emulator, PRODUCER).await;
    assert_eq!(
        code(&producer.get_domain().identifier(created.id()).send().await.unwrap_err()),
        "AccessDeniedException"
    );

    let project = admin
        .create_project()
        .domain_identifier(DOMAIN)
        .name("marketing")
        .description("campaigns")
        .send()
        .await
        .unwrap();
    let fetched = admin.get_project().domain_identifier(DOMAIN).identifier(project.id()).send().await.unwrap();
    assert_eq!((fetched.name(), fetched.description()), ("marketing", Some("campaigns")));

    // Only the owner or a domain admin adds members; the role then works in the project.
    let role = as_role(&emulator).await;
    let denied = role
        .create_project_membership()
        .domain_identifier(DOMAIN)
        .project_identifier(project.id())
        .member(Member::UserIdentifier(ROLE.into()))
        .designation(UserDesignation::ProjectContributor)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&denied), "AccessDeniedException");
    admin
        .create_project_membership()
        .domain_identifier(DOMAIN)
        .project_identifier(project.id())
        .member(Member::UserIdentifier(ROLE.into()))
        .designation(UserDesignation::ProjectContributor)
        .send()
        .await
        .unwrap();
    let members = role
        .list_project_memberships()
        .domain_identifier(DOMAIN)
        .project_identifier(project.id())
        .send()
        .await
        .unwrap();
    let designations: Vec<(String, String)> = members
        .members()
        .iter()
        .map(|m| (format!("{:?}", m.member_details()), m.designation().as_str().to_string()))
        .collect();
    assert!(designations.iter().any(|(who, d)| who.contains(ROLE) && d == "PROJECT_CONTRIBUTOR"), "{designations:?}");
    assert!(designations.iter().any(|(who, d)| who.contains("user/admin") && d == "PROJECT_OWNER"), "{designations:?}");
    emulator.shutdown().await;
}

#[tokio::test]
async fn profiles_environments_and_data_sources_update_and_delete() {
    let emulator = start(fast()).await;
    let producer = datazone(&emulator, PRODUCER).await;
    let bp = producer
        .list_environment_blueprints()
        .domain_identifier(DOMAIN)
        .name("DefaultDataWarehouse")
        .send()
        .await
        .unwrap()
        .items()[0]
        .id()
        .to_string();
    let details = producer.get_environment_blueprint().domain_identifier(DOMAIN).identifier(&bp).send().await.unwrap();
    let keys: Vec<&str> = details.user_parameters().iter().map(|p| p.key_name()).collect();
    assert!(keys.contains(&"dbName") && keys.contains(&"dataAccessSecretsArn"), "{keys:?}");
    producer
        .put_environment_blueprint_configuration()
        .domain_identifier(DOMAIN)
        .environment_blueprint_identifier(&bp)
        .enabled_regions(REGION)
        .send()
        .await
        .unwrap();
    let configs = producer.list_environment_blueprint_configurations().domain_identifier(DOMAIN).send().await.unwrap();
    assert_eq!(configs.items().len(), 1);
    // Another account's configurations are its own.
    let others = datazone(&emulator, GOVERNANCE)
        .await
        .list_environment_blueprint_configurations()
        .domain_identifier(DOMAIN)
        .send()
        .await
        .unwrap();
    assert!(others.items().is_empty());

    let role = as_role(&emulator).await;
    let project =
        role.list_projects().domain_identifier(DOMAIN).name("sales").send().await.unwrap().items()[0].id().to_string();
    let p = |n: &str, v: &str| EnvironmentParameter::builder().name(n).value(v).build();
    let profile = role
        .create_environment_profile()
        .domain_identifier(DOMAIN)
        .name("dwh-sales")
        .environment_blueprint_identifier(&bp)
        .project_identifier(&project)
        .aws_account_id("222222222222")
        .aws_account_region(REGION)
        .user_parameters(p("clusterName", "prod-dwh"))
        .user_parameters(p("dataAccessSecretsArn", SECRET))
        .user_parameters(p("dbName", "sales"))
        .send()
        .await
        .unwrap();
    let bad_param = role
        .create_environment_profile()
        .domain_identifier(DOMAIN)
        .name("bad")
        .environment_blueprint_identifier(&bp)
        .project_identifier(&project)
        .aws_account_id("222222222222")
        .aws_account_region(REGION)
        .user_parameters(p("nope", "x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&bad_param), "ValidationException");
    let listed = role.list_environment_profiles().domain_identifier(DOMAIN).name("dwh-sales").send().await.unwrap();
    assert_eq!(listed.items().iter().map(|p| p.id()).collect::<Vec<_>>(), [profile.id()]);
    let fetched =
        role.get_environment_profile().domain_identifier(DOMAIN).identifier(profile.id()).send().await.unwrap();
    assert_eq!(fetched.aws_account_id(), Some("222222222222"));

    let env = role
        .create_environment()
        .domain_identifier(DOMAIN)
        .project_identifier(&project)
        .name("prod-dwh-sales")
        .environment_profile_identifier(profile.id())
        .send()
        .await
        .unwrap();
    let env_id = env.id().unwrap().to_string();
    eventually("ACTIVE", || async {
        let e = role.get_environment().domain_identifier(DOMAIN).identifier(&env_id).send().await.unwrap();
        (e.status().map(|s| s.as_str()) == Some("ACTIVE")).then_some(())
    })
    .await;
    let envs = role
        .list_environments()
        .domain_identifier(DOMAIN)
        .project_identifier(&project)
        .name("prod-dwh-sales")
        .send()
        .await
        .unwrap();
    assert_eq!(envs.items().len(), 1);
    let in_use =
        role.delete_environment_profile().domain_identifier(DOMAIN).identifier(profile.id()).send().await.unwrap_err();
    assert_eq!(code(&in_use), "ConflictException");

    let ds = redshift_data_source(
        &role,
        &project,
        &env_id,
        "orders",
        filter_config("sales", "public", vec![include("orders")]),
    )
    .send()
    .await
    .unwrap();
    let other = redshift_data_source(
        &role,
        &project,
        &env_id,
        "reporting",
        filter_config("sales", "reporting", vec![include("*")]),
    )
    .send()
    .await
    .unwrap();
    let updated = role
        .update_data_source()
        .domain_identifier(DOMAIN)
        .identifier(ds.id())
        .configuration(filter_config("sales", "public", vec![include("customers")]))
        .publish_on_import(true)
        .send()
        .await
        .unwrap();
    assert_eq!(updated.status().map(|s| s.as_str()), Some("UPDATING"));
    let after = role.get_data_source().domain_identifier(DOMAIN).identifier(ds.id()).send().await.unwrap();
    assert_eq!(after.status().map(|s| s.as_str()), Some("READY"));
    assert_eq!(after.publish_on_import(), Some(true));
    let expression = format!("{:?}", after.configuration());
    assert!(expression.contains("customers") && !expression.contains("\"orders\""), "{expression}");
    let rename = role
        .update_data_source()
        .domain_identifier(DOMAIN)
        .identifier(ds.id())
        .name("reporting")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&rename), "ValidationException", "names stay unique per project");

    // An environment with data sources cannot be deleted.
    let busy = role.delete_environment().domain_identifier(DOMAIN).identifier(&env_id).send().await.unwrap_err();
    assert_eq!(code(&busy), "ConflictException");
    for id in [ds.id(), other.id()] {
        let deleted = role.delete_data_source().domain_identifier(DOMAIN).identifier(id).send().await.unwrap();
        assert_eq!(deleted.status().map(|s| s.as_str()), Some("DELETING"));
        let gone = role.get_data_source().domain_identifier(DOMAIN).identifier(id).send().await.unwrap_err();
        assert_eq!(code(&gone), "ResourceNotFoundException");
    }
    role.delete_environment().domain_identifier(DOMAIN).identifier(&env_id).send().await.unwrap();
    let deleted = role.get_environment().domain_identifier(DOMAIN).identifier(&env_id).send().await.unwrap();
    assert_eq!(deleted.status().map(|s| s.as_str()), Some("DELETED"));
    let again = role.delete_environment().domain_identifier(DOMAIN).identifier(&env_id).send().await.unwrap_err();
    assert_eq!(code(&again), "ValidationException");
    // A DELETED environment still holds its name.
    let reuse = role
        .create_environment()
        .domain_identifier(DOMAIN)
        .project_identifier(&project)
        .name("prod-dwh-sales")
        .environment_profile_identifier(profile.id())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&reuse), "ConflictException");
    role.delete_environment_profile().domain_identifier(DOMAIN).identifier(profile.id()).send().await.unwrap();
    let gone =
        role.get_environment_profile().domain_identifier(DOMAIN).identifier(profile.id()).send().await.unwrap_err();
    assert_eq!(code(&gone), "ResourceNotFoundException");
    emulator.shutdown().await;
}
