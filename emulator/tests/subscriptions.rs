//! Subscriptions through the real SDK: a consumer project requests a published listing
//! (idempotent by client token), the project that owns it accepts or rejects, the subscription's
//! grants go into the consumer's subscription targets and complete over `grant_duration`, the
//! consumer cancels or the owner revokes (keeping or dropping the granted permissions); the
//! listing's subscribers keep it from being deleted, unpublishing keeps them; a data product
//! subscription covers all its assets (V2, through a target made with CreateSubscriptionTarget);
//! AcceptSubscriptionRequest and CancelSubscription are limited to 3 calls a second. Every answer
//! is held against botocore's model ([`common::shapes`]).

mod common;

use std::time::Duration;

use aws_sdk_datazone::types::{
    ChangeAction, ConnectionPropertiesInput, DataProductItem, DataProductItemType, DataSourceConfigurationInput,
    EntityType, EnvironmentParameter, EnvironmentStatus, RedshiftCredentials, RedshiftPropertiesInput,
    RedshiftRunConfigurationInput, RedshiftStorageProperties, RelationalFilterConfiguration, SubscribedListingInput,
    SubscribedPrincipalInput, SubscribedProjectInput, SubscribedUserInput, SubscriptionGrantOverallStatus,
    SubscriptionGrantStatus, SubscriptionGrantSummary, SubscriptionRequestStatus, SubscriptionStatus,
    SubscriptionTargetForm,
};
use common::*;
use datazone_emulator::{EmulatorConfig, Lifecycle};

type Client = aws_sdk_datazone::Client;

fn project(id: &str) -> SubscribedPrincipalInput {
    SubscribedPrincipalInput::Project(SubscribedProjectInput::builder().identifier(id).build())
}

fn listing(id: &str) -> SubscribedListingInput {
    SubscribedListingInput::builder().identifier(id).build().unwrap()
}

/// A CreateSubscriptionRequest of `listing_id` for `project_id`, ready to send or to extend.
fn request(
    client: &Client,
    domain: &str,
    project_id: &str,
    listing_id: &str,
) -> aws_sdk_datazone::operation::create_subscription_request::builders::CreateSubscriptionRequestFluentBuilder {
    client
        .create_subscription_request()
        .domain_identifier(domain)
        .subscribed_principals(project(project_id))
        .subscribed_listings(listing(listing_id))
        .request_reason("Monthly revenue reporting")
}

async fn grants(client: &Client, domain: &str, subscription: &str) -> Vec<SubscriptionGrantSummary> {
    let out = client.list_subscription_grants().domain_identifier(domain).subscription_id(subscription).send().await;
    out.unwrap().items().to_vec()
}

/// Waits until every grant of the subscription is COMPLETED with every asset in `asset_status`.
async fn settled(client: &Client, domain: &str, subscription: &str, asset_status: SubscriptionGrantStatus) {
    eventually("grants settled", || async {
        let all = grants(client, domain, subscription).await;
        let done = !all.is_empty()
            && all.iter().all(|g| {
                g.status() == &SubscriptionGrantOverallStatus::Completed
                    && g.assets().iter().all(|a| a.status() == &asset_status)
            });
        done.then_some(())
    })
    .await;
}

/// The V1 sales project with `orders` and `v_orders` imported and `orders` published on its
/// own, and a consumer project `marketing` (the producer account's key is its owner, not a
/// member of sales) with an ACTIVE Data Warehouse environment: (sales, orders asset, orders
/// listing, marketing, its environment).
async fn published_and_a_consumer(emulator: &datazone_emulator::Emulator, role: &Client) -> [String; 5] {
    let (sales, env) = active_environment(&emulator.endpoint(), "sales").await;
    let ds = redshift_data_source(
        role,
        &sales,
        &env,
        "sales-public",
        filter_config("sales", "public", vec![include("orders"), include("v_orders")]),
    )
    .send()
    .await
    .unwrap();
    let run = run_to_end(role, ds.id()).await;
    let activities =
        role.list_data_source_run_activities().domain_identifier(DOMAIN).identifier(run.id()).send().await.unwrap();
    let orders = activities.items().iter().find(|a| a.technical_name() == "orders").unwrap();
    let orders = orders.data_asset_id().unwrap().to_string();
    let published = role
        .create_listing_change_set()
        .domain_identifier(DOMAIN)
        .entity_identifier(&orders)
        .entity_type(EntityType::Asset)
        .action(ChangeAction::Publish)
        .send()
        .await
        .unwrap();
    let consumer = datazone(emulator, PRODUCER).await;
    let marketing =
        consumer.create_project().domain_identifier(DOMAIN).name("marketing").send().await.unwrap().id().to_string();
    let warehouse = role
        .list_environment_blueprints()
        .domain_identifier(DOMAIN)
        .name("DefaultDataWarehouse")
        .send()
        .await
        .unwrap()
        .items()[0]
        .id()
        .to_string();
    let parameter = |n: &str, v: &str| EnvironmentParameter::builder().name(n).value(v).build();
    let profile = consumer
        .create_environment_profile()
        .domain_identifier(DOMAIN)
        .name("marketing-dwh")
        .environment_blueprint_identifier(&warehouse)
        .project_identifier(&marketing)
        .aws_account_id("222222222222")
        .aws_account_region(REGION)
        .user_parameters(parameter("clusterName", "prod-dwh"))
        .user_parameters(parameter("dataAccessSecretsArn", SECRET))
        .send()
        .await
        .unwrap();
    let consumer_env = consumer
        .create_environment()
        .domain_identifier(DOMAIN)
        .project_identifier(&marketing)
        .name("marketing-dwh")
        .environment_profile_identifier(profile.id())
        .user_parameters(parameter("dbName", "marketing"))
        .send()
        .await
        .unwrap()
        .id()
        .unwrap()
        .to_string();
    eventually("consumer environment ACTIVE", || async {
        let e = consumer.get_environment().domain_identifier(DOMAIN).identifier(&consumer_env).send().await.unwrap();
        (e.status() == Some(&EnvironmentStatus::Active)).then_some(())
    })
    .await;
    [sales, orders, published.listing_id().to_string(), marketing, consumer_env]
}

/// Grants that take long enough to be seen PENDING right after the accept.
fn slow_grants() -> Lifecycle {
    Lifecycle { grant_duration: Duration::from_millis(800), ..fast() }
}

#[tokio::test]
async fn a_consumer_requests_the_owner_accepts_the_grant_completes_and_the_consumer_cancels() {
    let emulator = start(slow_grants()).await;
    let role = as_role(&emulator).await;
    let [sales, orders, listing_id, marketing, consumer_env] = published_and_a_consumer(&emulator, &role).await;
    let consumer = datazone(&emulator, PRODUCER).await;

    // The consumer's Data Warehouse environment came with a Redshift subscription target.
    let targets = consumer
        .list_subscription_targets()
        .domain_identifier(DOMAIN)
        .environment_identifier(&consumer_env)
        .send()
        .await
        .unwrap();
    assert_eq!(targets.items().len(), 1, "{targets:?}");
    let target = &targets.items()[0];
    assert_eq!((target.r#type(), target.project_id()), ("RedshiftSubscriptionTargetType", marketing.as_str()));
    assert_eq!(target.applicable_asset_types(), ["RedshiftTableAssetType", "RedshiftViewAssetType"]);
    let again = consumer
        .get_subscription_target()
        .domain_identifier(DOMAIN)
        .environment_identifier(&consumer_env)
        .identifier(target.id())
        .send()
        .await
        .unwrap();
    assert_eq!(again.id(), target.id(), "the derived target keeps its ID");

    // The consumer files a request: PENDING, the listing as it is, idempotent by client token.
    let filed = request(&consumer, DOMAIN, &marketing, &listing_id).client_token("req-1").send().await.unwrap();
    assert_eq!(filed.status(), &SubscriptionRequestStatus::Pending);
    let subscribed = &filed.subscribed_listings()[0];
    assert_eq!((subscribed.id(), subscribed.owner_project_id()), (listing_id.as_str(), sales.as_str()));
    assert_eq!(subscribed.owner_project_name(), Some("sales"));
    let asset = subscribed.item().unwrap().as_asset_listing().unwrap();
    assert_eq!(
        (asset.entity_id(), asset.entity_type()),
        (Some(orders.as_str()), Some("amazon.datazone.RedshiftTableAssetType"))
    );
    let principal = filed.subscribed_principals()[0].as_project().unwrap();
    assert_eq!((principal.id(), principal.name()), (Some(marketing.as_str()), Some("marketing")));
    let retried = request(&consumer, DOMAIN, &marketing, &listing_id).client_token("req-1").send().await.unwrap();
    assert_eq!(retried.id(), filed.id(), "the same client token answers the same request");
    let twice = request(&consumer, DOMAIN, &marketing, &listing_id).send().await.unwrap_err();
    assert_eq!(code(&twice), "ConflictException", "a second PENDING request of the project");

    // The owner finds it: PENDING is the default status.
    let pending = role.list_subscription_requests().domain_identifier(DOMAIN).approver_project_id(&sales).send().await;
    let pending = pending.unwrap();
    assert_eq!(pending.items().iter().map(|r| r.id()).collect::<Vec<_>>(), [filed.id()]);
    let accepted_yet =
        role.list_subscription_requests().domain_identifier(DOMAIN).status(SubscriptionRequestStatus::Accepted).send();
    assert!(accepted_yet.await.unwrap().items().is_empty());
    let details = consumer.get_subscription_request_details().domain_identifier(DOMAIN).identifier(filed.id()).send();
    assert_eq!(details.await.unwrap().request_reason(), "Monthly revenue reporting");
    let updated = consumer
        .update_subscription_request()
        .domain_identifier(DOMAIN)
        .identifier(filed.id())
        .request_reason("Monthly revenue reporting, by region")
        .send()
        .await
        .unwrap();
    assert_eq!(updated.request_reason(), "Monthly revenue reporting, by region");

    // Only the owner decides.
    let by_consumer =
        consumer.accept_subscription_request().domain_identifier(DOMAIN).identifier(filed.id()).send().await;
    assert_eq!(code(&by_consumer.unwrap_err()), "AccessDeniedException");
    let accepted = role
        .accept_subscription_request()
        .domain_identifier(DOMAIN)
        .identifier(filed.id())
        .decision_comment("Approved by rule reporting-teams")
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), &SubscriptionRequestStatus::Accepted);
    assert_eq!(accepted.decision_comment(), Some("Approved by rule reporting-teams"));
    assert_eq!(accepted.reviewer_id(), Some(ROLE));
    let decided_twice = role.reject_subscription_request().domain_identifier(DOMAIN).identifier(filed.id()).send();
    assert_eq!(code(&decided_twice.await.unwrap_err()), "ConflictException", "a decided request stays decided");

    // The subscription (APPROVED is the default status) and its grant into the consumer's target.
    let subs = consumer.list_subscriptions().domain_identifier(DOMAIN).owning_project_id(&marketing).send().await;
    let subs = subs.unwrap();
    assert_eq!(subs.items().len(), 1, "{subs:?}");
    let subscription = subs.items()[0].id().to_string();
    assert_eq!(subs.items()[0].status(), &SubscriptionStatus::Approved);
    assert_eq!(subs.items()[0].subscription_request_id(), Some(filed.id()));
    let by_request =
        role.list_subscriptions().domain_identifier(DOMAIN).subscription_request_identifier(filed.id()).send().await;
    assert_eq!(by_request.unwrap().items()[0].id(), subscription);
    let first = grants(&consumer, DOMAIN, &subscription).await;
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(first[0].subscription_target_id(), target.id());
    assert_eq!(first[0].environment_id(), Some(consumer_env.as_str()));
    assert_ne!(first[0].status(), &SubscriptionGrantOverallStatus::Completed, "not yet: {first:?}");
    let listing_granted = first[0].granted_entity().unwrap().as_listing().unwrap();
    assert_eq!((listing_granted.id(), listing_granted.revision()), (listing_id.as_str(), "1"));
    settled(&consumer, DOMAIN, &subscription, SubscriptionGrantStatus::Granted).await;
    let grant = consumer.get_subscription_grant().domain_identifier(DOMAIN).identifier(first[0].id()).send().await;
    let grant = grant.unwrap();
    assert_eq!(grant.assets()[0].asset_id(), orders);
    assert!(grant.assets()[0].granted_timestamp().is_some());
    let duplicate = request(&consumer, DOMAIN, &marketing, &listing_id).send().await.unwrap_err();
    assert_eq!(code(&duplicate), "ConflictException", "already subscribed");

    // A listing with a subscriber is not deleted; unpublished, it keeps the subscription.
    let delete = role.delete_asset().domain_identifier(DOMAIN).identifier(&orders).send().await.unwrap_err();
    assert_eq!(code(&delete), "ConflictException");
    role.create_listing_change_set()
        .domain_identifier(DOMAIN)
        .entity_identifier(&orders)
        .entity_type(EntityType::Asset)
        .action(ChangeAction::Unpublish)
        .send()
        .await
        .unwrap();
    let kept = consumer.get_subscription().domain_identifier(DOMAIN).identifier(&subscription).send().await.unwrap();
    assert_eq!(kept.status(), &SubscriptionStatus::Approved, "unpublishing keeps subscriptions");
    let still = role.delete_asset().domain_identifier(DOMAIN).identifier(&orders).send().await.unwrap_err();
    assert_eq!(code(&still), "ConflictException", "unpublished, still subscribed");

    // The consumer cancels: CANCELLED, the grant revoked; then the asset can go.
    let by_owner = role.cancel_subscription().domain_identifier(DOMAIN).identifier(&subscription).send().await;
    assert_eq!(code(&by_owner.unwrap_err()), "AccessDeniedException", "the owner revokes, it does not cancel");
    let cancelled = consumer.cancel_subscription().domain_identifier(DOMAIN).identifier(&subscription).send().await;
    let cancelled = cancelled.unwrap();
    assert_eq!((cancelled.status(), cancelled.retain_permissions()), (&SubscriptionStatus::Cancelled, Some(false)));
    settled(&consumer, DOMAIN, &subscription, SubscriptionGrantStatus::Revoked).await;
    let approved = consumer.list_subscriptions().domain_identifier(DOMAIN).send().await.unwrap();
    assert!(approved.items().is_empty(), "APPROVED only by default: {approved:?}");
    let cancelled_ones =
        consumer.list_subscriptions().domain_identifier(DOMAIN).status(SubscriptionStatus::Cancelled).send().await;
    assert_eq!(cancelled_ones.unwrap().items().len(), 1);
    let again = consumer.cancel_subscription().domain_identifier(DOMAIN).identifier(&subscription).send().await;
    assert_eq!(code(&again.unwrap_err()), "ConflictException");
    role.delete_asset().domain_identifier(DOMAIN).identifier(&orders).send().await.unwrap();
}

#[tokio::test]
async fn requests_are_rejected_deleted_and_revoked_with_or_without_the_permissions() {
    let emulator = start(fast()).await;
    let role = as_role(&emulator).await;
    let [sales, _orders, listing_id, marketing, _env] = published_and_a_consumer(&emulator, &role).await;
    let consumer = datazone(&emulator, PRODUCER).await;

    let first = request(&consumer, DOMAIN, &marketing, &listing_id).send().await.unwrap();
    let rejected = role
        .reject_subscription_request()
        .domain_identifier(DOMAIN)
        .identifier(first.id())
        .decision_comment("Rejected: personal data")
        .send()
        .await
        .unwrap();
    assert_eq!(rejected.status(), &SubscriptionRequestStatus::Rejected);
    assert!(role.list_subscriptions().domain_identifier(DOMAIN).send().await.unwrap().items().is_empty());
    let update = consumer.update_subscription_request().domain_identifier(DOMAIN).identifier(first.id());
    let update = update.request_reason("please").send().await.unwrap_err();
    assert_eq!(code(&update), "ConflictException", "only a PENDING request changes");
    consumer.delete_subscription_request().domain_identifier(DOMAIN).identifier(first.id()).send().await.unwrap();
    let gone = consumer.get_subscription_request_details().domain_identifier(DOMAIN).identifier(first.id()).send();
    assert_eq!(code(&gone.await.unwrap_err()), "ResourceNotFoundException");

    // A new request, withdrawn while PENDING by the consumer (not by the owner).
    let second = request(&consumer, DOMAIN, &marketing, &listing_id).send().await.unwrap();
    let by_owner = role.delete_subscription_request().domain_identifier(DOMAIN).identifier(second.id()).send();
    assert_eq!(code(&by_owner.await.unwrap_err()), "AccessDeniedException");
    consumer.delete_subscription_request().domain_identifier(DOMAIN).identifier(second.id()).send().await.unwrap();

    // Accepted, then revoked keeping the permissions: the grant stays GRANTED.
    let third = request(&consumer, DOMAIN, &marketing, &listing_id).send().await.unwrap();
    role.accept_subscription_request().domain_identifier(DOMAIN).identifier(third.id()).send().await.unwrap();
    let accepted_delete = consumer.delete_subscription_request().domain_identifier(DOMAIN).identifier(third.id());
    assert_eq!(code(&accepted_delete.send().await.unwrap_err()), "ConflictException");
    let subs = role.list_subscriptions().domain_identifier(DOMAIN).approver_project_id(&sales).send().await.unwrap();
    let subscription = subs.items()[0].id().to_string();
    settled(&consumer, DOMAIN, &subscription, SubscriptionGrantStatus::Granted).await;
    let by_consumer = consumer.revoke_subscription().domain_identifier(DOMAIN).identifier(&subscription).send().await;
    assert_eq!(code(&by_consumer.unwrap_err()), "AccessDeniedException", "the consumer cancels, it does not revoke");
    let revoked = role
        .revoke_subscription()
        .domain_identifier(DOMAIN)
        .identifier(&subscription)
        .retain_permissions(true)
        .send()
        .await
        .unwrap();
    assert_eq!((revoked.status(), revoked.retain_permissions()), (&SubscriptionStatus::Revoked, Some(true)));
    tokio::time::sleep(Duration::from_millis(150)).await;
    let kept = grants(&consumer, DOMAIN, &subscription).await;
    assert!(kept[0].assets().iter().all(|a| a.status() == &SubscriptionGrantStatus::Granted), "{kept:?}");

    // Revoked for good: a new request, accepted, is a new subscription; revoked without keeping.
    let fourth = request(&consumer, DOMAIN, &marketing, &listing_id).send().await.unwrap();
    role.accept_subscription_request().domain_identifier(DOMAIN).identifier(fourth.id()).send().await.unwrap();
    let subs = role.list_subscriptions().domain_identifier(DOMAIN).subscription_request_identifier(fourth.id()).send();
    let renewed = subs.await.unwrap().items()[0].id().to_string();
    assert_ne!(renewed, subscription);
    settled(&consumer, DOMAIN, &renewed, SubscriptionGrantStatus::Granted).await;
    let revoked = role.revoke_subscription().domain_identifier(DOMAIN).identifier(&renewed).send().await.unwrap();
    assert_eq!(revoked.retain_permissions(), Some(false));
    settled(&consumer, DOMAIN, &renewed, SubscriptionGrantStatus::Revoked).await;
    let revoked_list =
        role.list_subscriptions().domain_identifier(DOMAIN).status(SubscriptionStatus::Revoked).send().await;
    assert_eq!(revoked_list.unwrap().items().len(), 2);
}

#[tokio::test]
async fn who_may_request_what_and_read_whose() {
    let emulator = start(fast()).await;
    let role = as_role(&emulator).await;
    let [sales, _orders, listing_id, marketing, _env] = published_and_a_consumer(&emulator, &role).await;
    let consumer = datazone(&emulator, PRODUCER).await;
    let admin = datazone(&emulator, GOVERNANCE).await;

    let own = request(&role, DOMAIN, &sales, &listing_id).send().await.unwrap_err();
    assert_eq!(code(&own), "ValidationException", "a project does not subscribe to its own listing");
    let not_member = request(&consumer, DOMAIN, &sales, &listing_id).send().await.unwrap_err();
    assert_eq!(code(&not_member), "AccessDeniedException", "the subscriber is a project of the caller");
    let unknown = request(&consumer, DOMAIN, &marketing, "nosuchlisting").send().await.unwrap_err();
    assert_eq!(code(&unknown), "ResourceNotFoundException");
    let user = SubscribedPrincipalInput::User(
        SubscribedUserInput::builder().identifier("a1b2c3d4-e5f6-a7b8-c9d0-e1f2a3b4c5d6").build(),
    );
    let by_user = consumer
        .create_subscription_request()
        .domain_identifier(DOMAIN)
        .subscribed_principals(user)
        .subscribed_listings(listing(&listing_id))
        .request_reason("x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&by_user), "ValidationException", "only projects subscribe in the emulator");

    // Three requests from three projects, listed by the owner a page of one at a time; a project
    // of neither side sees none of them.
    let mut filed = vec![request(&consumer, DOMAIN, &marketing, &listing_id).send().await.unwrap().id().to_string()];
    for name in ["finance", "audit"] {
        let p = consumer.create_project().domain_identifier(DOMAIN).name(name).send().await.unwrap();
        filed.push(request(&consumer, DOMAIN, p.id(), &listing_id).send().await.unwrap().id().to_string());
    }
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let page = role
            .list_subscription_requests()
            .domain_identifier(DOMAIN)
            .approver_project_id(&sales)
            .max_results(1)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        seen.extend(page.items().iter().map(|r| r.id().to_string()));
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(seen, filed, "oldest first, in pages");
    let newest_first = role
        .list_subscription_requests()
        .domain_identifier(DOMAIN)
        .sort_order(aws_sdk_datazone::types::SortOrder::Descending)
        .send()
        .await
        .unwrap();
    assert_eq!(newest_first.items().first().map(|r| r.id()), filed.last().map(String::as_str));
    let by_marketing =
        role.list_subscription_requests().domain_identifier(DOMAIN).owning_project_id(&marketing).send().await;
    assert_eq!(by_marketing.unwrap().items().len(), 1);

    // A request of a project the consumer key is no member of, for a listing it does not own:
    // it neither reads nor lists it; the domain's administrators read everything.
    let ops = role.create_project().domain_identifier(DOMAIN).name("ops").send().await.unwrap();
    let theirs = request(&role, DOMAIN, ops.id(), &listing_id).send().await.unwrap();
    let read = consumer.get_subscription_request_details().domain_identifier(DOMAIN).identifier(theirs.id()).send();
    assert_eq!(code(&read.await.unwrap_err()), "AccessDeniedException");
    let listed = consumer.list_subscription_requests().domain_identifier(DOMAIN).send().await.unwrap();
    let listed: Vec<&str> = listed.items().iter().map(|r| r.id()).collect();
    assert_eq!(listed, filed.iter().map(String::as_str).collect::<Vec<_>>(), "its own projects' requests only");
    let by_admin = admin.get_subscription_request_details().domain_identifier(DOMAIN).identifier(theirs.id()).send();
    assert_eq!(by_admin.await.unwrap().id(), theirs.id());
}

#[tokio::test]
async fn a_data_product_subscription_covers_its_assets_in_a_v2_domain() {
    let emulator = start_v2(fast()).await;
    let role = as_role(&emulator).await;
    let tooling = |client: Client, project: String| async move {
        let envs =
            client.list_environments().domain_identifier(V2_DOMAIN).project_identifier(&project).send().await.unwrap();
        envs.items().iter().find(|e| e.name() == "Tooling").and_then(|e| e.id()).unwrap().to_string()
    };
    let producer_env = tooling(role.clone(), V2_PROJECT.to_string()).await;
    let connection = role
        .create_connection()
        .domain_identifier(V2_DOMAIN)
        .environment_identifier(&producer_env)
        .name("warehouse")
        .props(ConnectionPropertiesInput::RedshiftProperties(
            RedshiftPropertiesInput::builder()
                .storage(RedshiftStorageProperties::ClusterName("prod-dwh".into()))
                .database_name("sales")
                .credentials(RedshiftCredentials::SecretArn(SECRET.into()))
                .build(),
        ))
        .send()
        .await
        .unwrap();
    let config = DataSourceConfigurationInput::RedshiftRunConfiguration(
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
    );
    let ds = role
        .create_data_source()
        .domain_identifier(V2_DOMAIN)
        .project_identifier(V2_PROJECT)
        .connection_identifier(connection.connection_id())
        .name("sales-public")
        .r#type("REDSHIFT")
        .configuration(config)
        .send()
        .await
        .unwrap();
    let run = role.start_data_source_run().domain_identifier(V2_DOMAIN).data_source_identifier(ds.id()).send().await;
    let run_id = run.unwrap().id().to_string();
    let activities = eventually("run finished", || async {
        let a = role.list_data_source_run_activities().domain_identifier(V2_DOMAIN).identifier(&run_id).send().await;
        let a = a.unwrap();
        (a.items().len() == 2).then_some(a)
    })
    .await;
    let mut assets: Vec<String> =
        activities.items().iter().filter_map(|a| a.data_asset_id()).map(String::from).collect();
    assets.sort();
    let item =
        |a: &str| DataProductItem::builder().item_type(DataProductItemType::Asset).identifier(a).build().unwrap();
    let product = role
        .create_data_product()
        .domain_identifier(V2_DOMAIN)
        .name("Orders")
        .owning_project_identifier(V2_PROJECT)
        .items(item(&assets[0]))
        .items(item(&assets[1]))
        .send()
        .await
        .unwrap();
    let published = role
        .create_listing_change_set()
        .domain_identifier(V2_DOMAIN)
        .entity_identifier(product.id())
        .entity_type(EntityType::DataProduct)
        .action(ChangeAction::Publish)
        .send()
        .await
        .unwrap();

    // A consumer project (its Tooling environment) with a target made by CreateSubscriptionTarget.
    let consumer = datazone(&emulator, PRODUCER).await;
    let reporting =
        consumer.create_project().domain_identifier(V2_DOMAIN).name("reporting").send().await.unwrap().id().to_string();
    let consumer_env = tooling(consumer.clone(), reporting.clone()).await;
    let listed =
        consumer.list_subscription_targets().domain_identifier(V2_DOMAIN).environment_identifier(&consumer_env);
    assert!(listed.send().await.unwrap().items().is_empty(), "a V2 environment has no target until one is made");
    let form = SubscriptionTargetForm::builder()
        .form_name("RedshiftSubscriptionTargetConfigForm")
        .content(r#"{"databaseName":"reporting","clusterIdentifier":"prod-dwh"}"#)
        .build()
        .unwrap();
    let create_target = || {
        consumer
            .create_subscription_target()
            .domain_identifier(V2_DOMAIN)
            .environment_identifier(&consumer_env)
            .name("reporting-redshift")
            .r#type("RedshiftSubscriptionTargetType")
            .subscription_target_config(form.clone())
            .authorized_principals("datazone_usr_role_reporting")
            .manage_access_role("arn:aws:iam::222222222222:role/service-role/AmazonSageMakerManageAccess")
            .applicable_asset_types("RedshiftTableAssetType")
            .applicable_asset_types("RedshiftViewAssetType")
    };
    let target = create_target().client_token("target-1").send().await.unwrap();
    assert_eq!(
        (target.provider(), target.subscription_grant_creation_mode().map(|m| m.as_str())),
        ("Amazon DataZone", Some("AUTOMATIC"))
    );
    let retried = create_target().client_token("target-1").send().await.unwrap();
    assert_eq!(retried.id(), target.id());
    assert_eq!(code(&create_target().send().await.unwrap_err()), "ConflictException", "names are unique");
    let by_owner = role
        .create_subscription_target()
        .domain_identifier(V2_DOMAIN)
        .environment_identifier(&consumer_env)
        .name("x")
        .r#type("RedshiftSubscriptionTargetType")
        .subscription_target_config(form.clone())
        .authorized_principals("p")
        .manage_access_role("arn:aws:iam::222222222222:role/x")
        .applicable_asset_types("RedshiftTableAssetType")
        .send()
        .await;
    assert_eq!(code(&by_owner.unwrap_err()), "AccessDeniedException", "targets are their project's");

    // One request covers the data product's assets; the grant holds both.
    let filed = request(&consumer, V2_DOMAIN, &reporting, published.listing_id()).send().await.unwrap();
    let product_listing = filed.subscribed_listings()[0].item().unwrap().as_product_listing().unwrap();
    let mut in_listing: Vec<&str> = product_listing.asset_listings().iter().filter_map(|a| a.entity_id()).collect();
    in_listing.sort();
    assert_eq!(in_listing, [assets[0].as_str(), assets[1].as_str()]);
    role.accept_subscription_request().domain_identifier(V2_DOMAIN).identifier(filed.id()).send().await.unwrap();
    let subs = consumer.list_subscriptions().domain_identifier(V2_DOMAIN).send().await.unwrap();
    let subscription = subs.items()[0].id().to_string();
    settled(&consumer, V2_DOMAIN, &subscription, SubscriptionGrantStatus::Granted).await;
    let all = grants(&consumer, V2_DOMAIN, &subscription).await;
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].subscription_target_id(), target.id());
    let mut granted: Vec<&str> = all[0].assets().iter().map(|a| a.asset_id()).collect();
    granted.sort();
    assert_eq!(granted, [assets[0].as_str(), assets[1].as_str()]);
    let by_listing =
        role.list_subscription_grants().domain_identifier(V2_DOMAIN).subscribed_listing_id(published.listing_id());
    assert_eq!(by_listing.send().await.unwrap().items().len(), 1, "the owner reads the grants of its listing");

    // The data product's subscriber keeps it; revoked, it can go.
    let delete = role.delete_data_product().domain_identifier(V2_DOMAIN).identifier(product.id()).send().await;
    assert_eq!(code(&delete.unwrap_err()), "ConflictException");
    role.revoke_subscription().domain_identifier(V2_DOMAIN).identifier(&subscription).send().await.unwrap();
    role.delete_data_product().domain_identifier(V2_DOMAIN).identifier(product.id()).send().await.unwrap();
}

#[tokio::test]
async fn accept_and_cancel_are_limited_to_three_calls_a_second() {
    let emulator = start(fast()).await;
    let role = as_role(&emulator).await;
    // Nothing to accept or cancel: the quota comes before the handler, so the answers are
    // ResourceNotFoundException until the bucket is empty.
    let mut codes = Vec::new();
    for _ in 0..4 {
        let out = role.accept_subscription_request().domain_identifier(DOMAIN).identifier("nosuchrequest").send().await;
        codes.push(code(&out.unwrap_err()));
    }
    assert_eq!(codes[..3], ["ResourceNotFoundException"; 3]);
    assert_eq!(codes[3], "ThrottlingException");
    let cancel = role.cancel_subscription().domain_identifier(DOMAIN).identifier("nosuchsubscription").send().await;
    assert_eq!(code(&cancel.unwrap_err()), "ResourceNotFoundException", "CancelSubscription has its own bucket");
    for _ in 0..10 {
        let get = role.get_subscription().domain_identifier(DOMAIN).identifier("nosuchsubscription").send().await;
        assert_eq!(code(&get.unwrap_err()), "ResourceNotFoundException", "other operations are not limited");
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    let out = role.accept_subscription_request().domain_identifier(DOMAIN).identifier("nosuchrequest").send().await;
    assert_eq!(code(&out.unwrap_err()), "ResourceNotFoundException", "a token back after a third of a second");
    let (_, calls) = control(&emulator, "GET", "/_emulator/calls", None).await;
    assert_eq!(calls["datazone:AcceptSubscriptionRequest"], 5);

    // Lifted (rate 0), nothing is throttled.
    let lifted = Lifecycle { operation_rate_limits: vec![("AcceptSubscriptionRequest".into(), 0.0)], ..fast() };
    let emulator = start_with(EmulatorConfig { fixture: fixture(), lifecycle: lifted, rate_limit: None }).await;
    let role = as_role(&emulator).await;
    for _ in 0..10 {
        let out = role.accept_subscription_request().domain_identifier(DOMAIN).identifier("nosuchrequest").send().await;
        assert_eq!(code(&out.unwrap_err()), "ResourceNotFoundException");
    }
}
