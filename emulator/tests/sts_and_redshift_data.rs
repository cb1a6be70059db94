//! STS (AssumeRole trust, ExternalId, duration, session credentials) and the Redshift Data API
//! through their real SDK clients.

mod common;

use aws_sdk_redshiftdata::Client as DataApi;
use aws_sdk_sts::Client as Sts;
use common::*;

#[tokio::test]
async fn assume_role_issues_credentials_that_act_as_the_role() {
    let emulator = start(fast()).await;
    let sts = Sts::new(&sdk(&emulator, PRODUCER, None).await);
    let me = sts.get_caller_identity().send().await.unwrap();
    assert_eq!(me.account(), Some("222222222222"));

    let out = sts
        .assume_role()
        .role_arn(ROLE)
        .role_session_name("team-sales.sales-orders")
        .external_id("optional")
        .tags(aws_sdk_sts::types::Tag::builder().key("namespace").value("team-sales").build().unwrap())
        .send()
        .await
        .unwrap();
    let creds = out.credentials().unwrap();
    assert!(creds.access_key_id().starts_with("ASIA"));
    assert_eq!(
        out.assumed_role_user().unwrap().arn(),
        "arn:aws:sts::111111111111:assumed-role/dz-registration/team-sales.sales-orders"
    );
    let session = Sts::new(
        &sdk(&emulator, (creds.access_key_id(), creds.secret_access_key()), Some(creds.session_token().to_string()))
            .await,
    );
    let who = session.get_caller_identity().send().await.unwrap();
    assert_eq!(who.account(), Some("111111111111"));
    assert_eq!(who.arn(), Some("arn:aws:sts::111111111111:assumed-role/dz-registration/team-sales.sales-orders"));

    // Session credentials without their token are refused.
    let tokenless = Sts::new(&sdk(&emulator, (creds.access_key_id(), creds.secret_access_key()), None).await);
    let err = tokenless.get_caller_identity().send().await.unwrap_err();
    assert_eq!(
        err.as_service_error().and_then(|e| aws_sdk_sts::error::ProvideErrorMetadata::code(e)),
        Some("InvalidClientTokenId")
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn trust_external_id_and_duration_are_enforced() {
    let emulator = start(fast()).await;
    let sts = Sts::new(&sdk(&emulator, PRODUCER, None).await);
    let code_of = |e: &aws_sdk_sts::error::SdkError<aws_sdk_sts::operation::assume_role::AssumeRoleError, _>| {
        e.as_service_error()
            .and_then(|s| aws_sdk_sts::error::ProvideErrorMetadata::code(s))
            .unwrap_or("none")
            .to_string()
    };
    let wrong =
        sts.assume_role().role_arn(ROLE).role_session_name("s1").external_id("wrong-id").send().await.unwrap_err();
    assert_eq!(code_of(&wrong), "AccessDenied");
    let missing = sts.assume_role().role_arn(ROLE).role_session_name("s1").send().await.unwrap_err();
    assert_eq!(code_of(&missing), "AccessDenied");
    let unknown = sts
        .assume_role()
        .role_arn("arn:aws:iam::111111111111:role/nope")
        .role_session_name("s1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code_of(&unknown), "AccessDenied");
    let too_long = sts
        .assume_role()
        .role_arn(ROLE)
        .role_session_name("s1")
        .external_id("optional")
        .duration_seconds(7200)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code_of(&too_long), "ValidationError");
    let bad_sig = Sts::new(&sdk(&emulator, (PRODUCER.0, "wrong"), None).await);
    let err = bad_sig.get_caller_identity().send().await.unwrap_err();
    assert_eq!(
        err.as_service_error().and_then(|e| aws_sdk_sts::error::ProvideErrorMetadata::code(e)),
        Some("SignatureDoesNotMatch")
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn list_tables_reports_tables_and_views_from_the_catalog() {
    let emulator = start(fast()).await;
    let api = DataApi::new(&sdk(&emulator, PRODUCER, None).await);
    let out = api
        .list_tables()
        .cluster_identifier("prod-dwh")
        .database("sales")
        .secret_arn(SECRET)
        .schema_pattern("public")
        .send()
        .await
        .unwrap();
    let mut objects: Vec<(String, String)> = out
        .tables()
        .iter()
        .map(|t| (t.name().unwrap_or_default().to_string(), t.r#type().unwrap_or_default().to_string()))
        .collect();
    objects.sort();
    assert_eq!(
        objects,
        [
            ("customers", "TABLE"),
            ("order_items", "TABLE"),
            ("orders", "TABLE"),
            ("v_customer_ltv", "VIEW"),
            ("v_orders", "VIEW")
        ]
        .map(|(n, t)| (n.to_string(), t.to_string()))
    );
    let like = api
        .list_tables()
        .cluster_identifier("prod-dwh")
        .database("sales")
        .secret_arn(SECRET)
        .table_pattern("v\\_%")
        .send()
        .await
        .unwrap();
    assert!(like.tables().iter().all(|t| t.name().unwrap_or_default().starts_with('v')));

    // Pages of two, across every schema of the database.
    let mut all = Vec::new();
    let mut token = None;
    loop {
        let page = api
            .list_tables()
            .workgroup_name("analytics-wg")
            .database("analytics")
            .secret_arn(SECRET)
            .max_results(2)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        all.extend(page.tables().iter().map(|t| t.name().unwrap_or_default().to_string()));
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(all.len(), 5);
    let schemas =
        api.list_schemas().cluster_identifier("prod-dwh").database("sales").secret_arn(SECRET).send().await.unwrap();
    assert_eq!(schemas.schemas(), ["public", "reporting"]);

    let missing = api
        .list_tables()
        .cluster_identifier("no-such-cluster")
        .database("sales")
        .secret_arn(SECRET)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        missing.as_service_error().and_then(|e| aws_sdk_redshiftdata::error::ProvideErrorMetadata::code(e)),
        Some("ResourceNotFoundException")
    );
    emulator.shutdown().await;
}
