//! The reference architecture's flow through the real AWS SDK clients: blueprint → profile →
//! environment → data source → run → published assets, with exactly the filtered objects.

mod common;

use std::collections::BTreeSet;

use aws_sdk_datazone::types::{
    DataSourceConfigurationInput, DataSourceRunStatus, InventorySearchScope, RedshiftCredentialConfiguration,
    RedshiftRunConfigurationInput, RelationalFilterConfiguration, SearchInventoryResultItem,
};
use common::*;

#[tokio::test]
async fn reference_flow_publishes_exactly_the_filtered_tables_and_views() {
    let emulator = start(fast()).await;
    let (project, env_id) = active_environment(&emulator.endpoint(), "sales").await;
    let role = as_role(&emulator).await;

    // DataZone adds a default data source to a Data Warehouse environment.
    let existing =
        role.list_data_sources().domain_identifier(DOMAIN).project_identifier(&project).send().await.unwrap();
    assert_eq!(existing.items().len(), 1);
    assert_eq!(existing.items()[0].name(), "prod-dwh-sales-default-datasource");

    let created = redshift_data_source(
        &role,
        &project,
        &env_id,
        "prod-dwh-team-sales-sales-orders",
        filter_config("sales", "public", vec![include("orders"), include("customers"), include("v_orders")]),
    )
    .publish_on_import(true)
    .client_token("uid-1234")
    .send()
    .await
    .unwrap();
    let ds_id = created.id().to_string();
    let again = redshift_data_source(
        &role,
        &project,
        &env_id,
        "prod-dwh-team-sales-sales-orders",
        filter_config("sales", "public", vec![include("orders")]),
    )
    .client_token("uid-1234")
    .send()
    .await
    .unwrap();
    assert_eq!(again.id(), ds_id, "the same client token returns the same data source");

    let finished = run_to_end(&role, &ds_id).await;
    let run_id = finished.id().to_string();
    assert_eq!(finished.status(), &DataSourceRunStatus::Success);
    let stats = finished.run_statistics_for_assets().unwrap();
    assert_eq!((stats.added(), stats.failed()), (Some(3), Some(0)));

    let activities =
        role.list_data_source_run_activities().domain_identifier(DOMAIN).identifier(&run_id).send().await.unwrap();
    let imported: BTreeSet<&str> = activities.items().iter().map(|a| a.technical_name()).collect();
    assert_eq!(imported, BTreeSet::from(["customers", "orders", "v_orders"]));

    let found = role
        .search()
        .domain_identifier(DOMAIN)
        .search_scope(InventorySearchScope::Asset)
        .owning_project_identifier(&project)
        .send()
        .await
        .unwrap();
    let assets: Vec<_> = found
        .items()
        .iter()
        .filter_map(|i| match i {
            SearchInventoryResultItem::AssetItem(a) => Some(a),
            _ => None,
        })
        .collect();
    let mut names: Vec<(&str, &str)> = assets.iter().map(|a| (a.name(), a.type_identifier())).collect();
    names.sort();
    assert_eq!(
        names,
        [
            ("customers", "amazon.datazone.RedshiftTableAssetType"),
            ("orders", "amazon.datazone.RedshiftTableAssetType"),
            ("v_orders", "amazon.datazone.RedshiftViewAssetType"),
        ]
    );
    for asset in assets {
        let got = role.get_asset().domain_identifier(DOMAIN).identifier(asset.identifier()).send().await.unwrap();
        assert_eq!(got.listing().map(|l| l.listing_status().as_str()), Some("ACTIVE"), "{} is published", got.name());
    }

    // The data source reports its last run.
    let ds = role.get_data_source().domain_identifier(DOMAIN).identifier(&ds_id).send().await.unwrap();
    assert_eq!(ds.last_run_status().map(|s| s.as_str()), Some("SUCCESS"));
    assert_eq!(ds.last_run_asset_count(), Some(3));
    emulator.shutdown().await;
}

#[tokio::test]
async fn filters_wildcards_excludes_and_dropped_tables() {
    let emulator = start(fast()).await;
    let (project, env_id) = active_environment(&emulator.endpoint(), "sales").await;
    let role = as_role(&emulator).await;
    let ds = redshift_data_source(
        &role,
        &project,
        &env_id,
        "wildcards",
        filter_config("sales", "public", vec![include("*"), exclude("v_*"), include("gone_table")]),
    )
    .publish_on_import(false)
    .send()
    .await
    .unwrap();
    let finished = run_to_end(&role, ds.id()).await;
    let run_id = finished.id().to_string();
    // Every table but no view; the named table that does not exist fails on its own.
    assert_eq!(finished.status(), &DataSourceRunStatus::PartiallySucceeded);
    let activities =
        role.list_data_source_run_activities().domain_identifier(DOMAIN).identifier(&run_id).send().await.unwrap();
    let mut outcome: Vec<(&str, &str)> =
        activities.items().iter().map(|a| (a.technical_name(), a.data_asset_status().as_str())).collect();
    outcome.sort();
    assert_eq!(
        outcome,
        [
            ("customers", "SUCCEEDED_CREATED"),
            ("gone_table", "FAILED"),
            ("order_items", "SUCCEEDED_CREATED"),
            ("orders", "SUCCEEDED_CREATED")
        ]
    );
    // publishOnImport false: inventory only.
    let state = control(&emulator, "GET", "/_emulator/state", None).await.1;
    assert!(state["assets"].as_array().unwrap().iter().all(|a| a["published"] == false));
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_table_added_to_the_catalog_is_imported_by_the_next_run() {
    let emulator = start(fast()).await;
    let (project, env_id) = active_environment(&emulator.endpoint(), "marketing").await;
    let role = as_role(&emulator).await;
    let ds = redshift_data_source(
        &role,
        &project,
        &env_id,
        "all-of-campaigns",
        filter_config("marketing", "campaigns", vec![include("*")]),
    )
    .publish_on_import(true)
    .send()
    .await
    .unwrap();
    let first = run_to_end(&role, ds.id()).await;
    assert_eq!(first.run_statistics_for_assets().unwrap().added(), Some(3));

    let mut catalog = fixture().redshift;
    catalog[0].databases[1].schemas[0].tables.push("conversions".into());
    control(&emulator, "PUT", "/_emulator/catalog", Some(serde_json::to_value(&catalog).unwrap())).await;
    let second = run_to_end(&role, ds.id()).await;
    let stats = second.run_statistics_for_assets().unwrap();
    assert_eq!((stats.added(), stats.unchanged()), (Some(1), Some(3)));
    let state = control(&emulator, "GET", "/_emulator/state", None).await.1;
    let published: BTreeSet<&str> = state["assets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["published"] == true)
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(published, BTreeSet::from(["campaigns", "clicks", "conversions", "v_campaign_roi"]));
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_wrong_secret_fails_the_run_with_a_clear_error() {
    let emulator = start(fast()).await;
    let (project, env_id) = active_environment(&emulator.endpoint(), "sales").await;
    let role = as_role(&emulator).await;
    let config = DataSourceConfigurationInput::RedshiftRunConfiguration(
        RedshiftRunConfigurationInput::builder()
            .relational_filter_configurations(
                RelationalFilterConfiguration::builder()
                    .database_name("sales")
                    .schema_name("public")
                    .filter_expressions(include("*"))
                    .build()
                    .unwrap(),
            )
            .redshift_credential_configuration(
                RedshiftCredentialConfiguration::builder()
                    .secret_manager_arn("arn:aws:secretsmanager:eu-central-1:222222222222:secret:unknown-XyZ")
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap(),
    );
    let ds = redshift_data_source(&role, &project, &env_id, "wrong-secret", config).send().await.unwrap();
    let run = run_to_end(&role, ds.id()).await;
    assert_eq!(run.status(), &DataSourceRunStatus::Failed);
    let error = run.error_message().unwrap();
    assert_eq!(error.error_type().as_str(), "ACCESS_DENIED_EXCEPTION");
    assert!(error.error_detail().unwrap_or_default().contains("unknown-XyZ"));
    emulator.shutdown().await;
}
