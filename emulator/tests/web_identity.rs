//! The two ways an operator pod on EKS gets its AWS identity, against the emulator and through
//! aws-config's own credential providers: IRSA (a service account token exchanged with STS
//! AssumeRoleWithWebIdentity) and EKS Pod Identity (the container credentials endpoint). Tokens
//! are minted here with the checked-in test key `fixtures/oidc-test-key.pk8`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use aws_config::provider_config::ProviderConfig;
use aws_config::retry::RetryConfig;
use aws_config::web_identity_token::{StaticConfiguration, WebIdentityTokenCredentialsProvider};
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::provider::ProvideCredentials;
use aws_sdk_sts::Client as Sts;
use aws_sdk_sts::error::ProvideErrorMetadata;
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, SharedHttpClient, SharedHttpConnector, http_client_fn,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::oidc::{ServiceAccountIssuer, claims};
use common::*;
use datazone_emulator::fixture::{OidcProviderFixture, RoleFixture, WebIdentityFixture};
use datazone_emulator::{Emulator, EmulatorConfig};
use serde_json::{Value, json};

/// A 2048-bit RSA key made for these tests with `openssl genrsa` and `openssl pkcs8 -topk8
/// -nocrypt -outform der`; it signs nothing but test tokens.
/// A local cluster's service account issuer (what `--service-account-issuer` says).
const ISSUER: &str = "https://kubernetes.default.svc.cluster.local";
const OPERATOR_ROLE: &str = "arn:aws:iam::222222222222:role/datazone-operator";
const OPERATOR_SA: &str = "system:serviceaccount:team-a:datazone-operator";
const PINNED_ROLE: &str = "arn:aws:iam::222222222222:role/pinned";
const IRSA_AUDIENCE: &str = "sts.amazonaws.com";
const POD_IDENTITY_AUDIENCE: &str = "pods.eks.amazonaws.com";

/// The example fixture plus the operator's producer-account role trusting its service account
/// (any namespace) and the test issuer as an OIDC provider.
fn irsa_fixture(issuer: &ServiceAccountIssuer) -> datazone_emulator::Fixture {
    let mut fixture = fixture();
    let mut role = RoleFixture::new(OPERATOR_ROLE);
    role.web_identity = Some(WebIdentityFixture {
        subjects: vec![OPERATOR_SA.into(), "system:serviceaccount:*:datazone-operator".into()],
        audience: None,
        issuer: None,
    });
    role.max_session_duration = Some(7200);
    fixture.roles.push(role);
    // A role that trusts every subject, but of another issuer only.
    let mut pinned = RoleFixture::new(PINNED_ROLE);
    pinned.web_identity = Some(WebIdentityFixture {
        subjects: vec!["*".into()],
        audience: None,
        issuer: Some("https://elsewhere.example".into()),
    });
    fixture.roles.push(pinned);
    fixture.oidc_providers.push(OidcProviderFixture {
        issuer: issuer.iss.clone(),
        jwks_file: None,
        jwks: Some(issuer.jwks()),
    });
    fixture.validate().expect("the IRSA fixture is valid");
    fixture
}

async fn start_irsa(issuer: &ServiceAccountIssuer) -> Emulator {
    start_with(EmulatorConfig { fixture: irsa_fixture(issuer), lifecycle: fast(), rate_limit: None }).await
}

fn https_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https()
}

/// An HTTP client that sends every request to the emulator whatever host the SDK resolved (STS's
/// regional endpoint): the credential providers' inner STS client takes its endpoint only from
/// the process environment, which parallel tests must not change.
fn to_emulator(emulator: &Emulator) -> SharedHttpClient {
    #[derive(Debug)]
    struct Redirect {
        inner: SharedHttpConnector,
        authority: String,
    }
    impl HttpConnector for Redirect {
        fn call(&self, mut request: HttpRequest) -> HttpConnectorFuture {
            let uri: http::Uri = request.uri().parse().expect("the SDK's URI");
            let path = uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into());
            request.set_uri(format!("http://{}{path}", self.authority)).expect("a valid URI");
            self.inner.call(request)
        }
    }
    let inner = https_client();
    let authority = emulator.addr.to_string();
    http_client_fn(move |settings, components| {
        SharedHttpConnector::new(Redirect {
            inner: inner.http_connector(settings, components),
            authority: authority.clone(),
        })
    })
}

/// A token file of its own for each test (they run in parallel), removed when dropped.
struct TokenFile(PathBuf);

impl TokenFile {
    fn new(name: &str, token: &str) -> Self {
        let path = std::env::temp_dir().join(format!("dz-emulator-{}-{name}.jwt", std::process::id()));
        std::fs::write(&path, token).unwrap();
        Self(path)
    }
}

impl Drop for TokenFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// aws-config's web identity provider as the operator's default chain builds it from
/// `AWS_ROLE_ARN` / `AWS_WEB_IDENTITY_TOKEN_FILE` / `AWS_ROLE_SESSION_NAME`, here configured
/// statically.
fn web_identity_provider(
    emulator: &Emulator,
    token_file: &Path,
    role_arn: &str,
) -> WebIdentityTokenCredentialsProvider {
    let conf = ProviderConfig::without_region()
        .with_region(Some(Region::new(REGION)))
        .with_http_client(to_emulator(emulator))
        .with_retry_config(RetryConfig::disabled());
    WebIdentityTokenCredentialsProvider::builder()
        .configure(&conf)
        .static_configuration(StaticConfiguration {
            web_identity_token_file: token_file.to_path_buf(),
            role_arn: role_arn.to_string(),
            session_name: "datazone-operator".into(),
        })
        .build()
}

/// An STS client with no credentials at all: AssumeRoleWithWebIdentity must not need any.
fn anonymous_sts(emulator: &Emulator) -> Sts {
    let config = aws_sdk_sts::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(emulator.endpoint())
        .http_client(https_client())
        .retry_config(RetryConfig::disabled())
        .build();
    Sts::from_conf(config)
}

async fn sts_as(emulator: &Emulator, creds: &aws_credential_types::Credentials) -> Sts {
    let key = (creds.access_key_id(), creds.secret_access_key());
    Sts::new(&sdk(emulator, key, creds.session_token().map(str::to_string)).await)
}

#[tokio::test]
async fn a_service_account_token_becomes_the_operator_role_and_chains_into_the_registration_role() {
    let issuer = ServiceAccountIssuer::new(ISSUER);
    let emulator = start_irsa(&issuer).await;
    let file = TokenFile::new("irsa-ok", &issuer.token(OPERATOR_SA, IRSA_AUDIENCE, 3600));
    let provider = web_identity_provider(&emulator, &file.0, OPERATOR_ROLE);
    let creds = provider.provide_credentials().await.expect("web identity credentials");
    assert!(creds.access_key_id().starts_with("ASIA"));
    assert!(creds.session_token().is_some());
    assert_eq!(creds.account_id().map(|a| a.as_str()), Some("222222222222"), "from the AssumedRoleUser ARN");

    let operator = sts_as(&emulator, &creds).await;
    let me = operator.get_caller_identity().send().await.unwrap();
    assert_eq!(me.arn(), Some("arn:aws:sts::222222222222:assumed-role/datazone-operator/datazone-operator"));
    assert_eq!(me.account(), Some("222222222222"));
    assert!(me.user_id().unwrap().starts_with("AROA") && me.user_id().unwrap().ends_with(":datazone-operator"));

    // The operator's chain: the web identity session assumes the registration role, which trusts
    // the producer account (example fixture).
    let out = operator
        .assume_role()
        .role_arn(ROLE)
        .role_session_name("team-a.sales-orders")
        .external_id("optional")
        .send()
        .await
        .expect("AssumeRole from the web identity session");
    let registration = out.credentials().unwrap();
    let chained = Sts::new(
        &sdk(
            &emulator,
            (registration.access_key_id(), registration.secret_access_key()),
            Some(registration.session_token().to_string()),
        )
        .await,
    );
    let who = chained.get_caller_identity().send().await.unwrap();
    assert_eq!(who.arn(), Some("arn:aws:sts::111111111111:assumed-role/dz-registration/team-a.sales-orders"));
    // Role chaining keeps sessions to an hour.
    let long = operator
        .assume_role()
        .role_arn(ROLE)
        .role_session_name("s2")
        .external_id("optional")
        .duration_seconds(7200)
        .send()
        .await
        .unwrap_err();
    assert_eq!(long.code(), Some("ValidationError"));

    // The same provider inside an SDK configuration, as the operator uses it.
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(emulator.endpoint())
        .http_client(https_client())
        .credentials_provider(provider)
        .retry_config(RetryConfig::disabled())
        .load()
        .await;
    let me = Sts::new(&config).get_caller_identity().send().await.unwrap();
    assert_eq!(me.account(), Some("222222222222"));
    let calls = control(&emulator, "GET", "/_emulator/calls", None).await.1;
    assert_eq!(calls["sts:AssumeRoleWithWebIdentity"], 2, "{calls}");
    emulator.shutdown().await;
}

#[tokio::test]
async fn the_answer_has_the_models_shape_and_needs_no_signature() {
    let issuer = ServiceAccountIssuer::new(ISSUER);
    let emulator = start_irsa(&issuer).await;
    let out = anonymous_sts(&emulator)
        .assume_role_with_web_identity()
        .role_arn(OPERATOR_ROLE)
        .role_session_name("op-session")
        .web_identity_token(issuer.token("system:serviceaccount:team-b:datazone-operator", IRSA_AUDIENCE, 600))
        .duration_seconds(7200)
        .send()
        .await
        .expect("unsigned AssumeRoleWithWebIdentity");
    assert_eq!(out.subject_from_web_identity_token(), Some("system:serviceaccount:team-b:datazone-operator"));
    assert_eq!(out.provider(), Some(ISSUER), "the token's iss [model]");
    assert_eq!(out.audience(), Some(IRSA_AUDIENCE));
    let user = out.assumed_role_user().unwrap();
    assert_eq!(user.arn(), "arn:aws:sts::222222222222:assumed-role/datazone-operator/op-session");
    assert!(user.assumed_role_id().ends_with(":op-session"));
    let creds = out.credentials().unwrap();
    let lasts = SystemTime::try_from(*creds.expiration()).unwrap().duration_since(SystemTime::now()).unwrap();
    assert!((7100..=7200).contains(&lasts.as_secs()), "DurationSeconds honoured up to the role's maximum: {lasts:?}");
    emulator.shutdown().await;
}

#[tokio::test]
async fn tokens_sts_would_refuse_are_refused_with_its_errors() {
    use aws_sdk_sts::operation::assume_role_with_web_identity::AssumeRoleWithWebIdentityError as E;
    let issuer = ServiceAccountIssuer::new(ISSUER);
    let emulator = start_irsa(&issuer).await;
    let sts = anonymous_sts(&emulator);
    let attempt = |role: &'static str, token: String| {
        let sts = sts.clone();
        async move {
            let err = sts
                .assume_role_with_web_identity()
                .role_arn(role)
                .role_session_name("s1")
                .web_identity_token(token)
                .send()
                .await
                .expect_err("refused");
            let status = err.raw_response().map(|r| r.status().as_u16());
            let service = err.into_service_error();
            (service.code().unwrap_or("none").to_string(), service.message().unwrap_or("").to_string(), status, service)
        }
    };

    // Another service account than the role trusts: the token is fine, the trust is not.
    let (code, message, status, _) =
        attempt(OPERATOR_ROLE, issuer.token("system:serviceaccount:team-b:intruder", IRSA_AUDIENCE, 600)).await;
    assert_eq!(
        (code.as_str(), message.as_str(), status),
        ("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity", Some(403))
    );
    // A role that trusts no web identity, and one that does not exist.
    let (code, ..) = attempt(ROLE, issuer.token(OPERATOR_SA, IRSA_AUDIENCE, 600)).await;
    assert_eq!(code, "AccessDenied");
    let (code, ..) =
        attempt("arn:aws:iam::222222222222:role/nope", issuer.token(OPERATOR_SA, IRSA_AUDIENCE, 600)).await;
    assert_eq!(code, "AccessDenied");
    // A role whose trust names another provider.
    let (code, ..) = attempt(PINNED_ROLE, issuer.token(OPERATOR_SA, IRSA_AUDIENCE, 600)).await;
    assert_eq!(code, "AccessDenied");

    // Expired.
    let (code, message, status, error) = attempt(OPERATOR_ROLE, issuer.token(OPERATOR_SA, IRSA_AUDIENCE, -5)).await;
    assert!(matches!(error, E::ExpiredTokenException(_)), "{error:?}");
    assert_eq!((code.as_str(), status), ("ExpiredTokenException", Some(400)));
    assert!(message.starts_with("Token expired: current date/time"), "{message}");

    // Wrong audience (a Pod Identity token), bad signature, unknown issuer, unknown key, not a JWT.
    let wrong_audience = issuer.token(OPERATOR_SA, POD_IDENTITY_AUDIENCE, 600);
    let good = issuer.token(OPERATOR_SA, IRSA_AUDIENCE, 600);
    let mut parts: Vec<String> = good.split('.').map(str::to_string).collect();
    parts[1] = URL_SAFE_NO_PAD
        .encode(claims(ISSUER, "system:serviceaccount:kube-system:admin", IRSA_AUDIENCE, 600).to_string());
    let bad_signature = parts.join(".");
    let unknown_issuer = ServiceAccountIssuer::new("https://oidc.eks.eu-central-1.amazonaws.com/id/0123456789ABCDEF")
        .token(OPERATOR_SA, IRSA_AUDIENCE, 600);
    let unknown_kid =
        issuer.sign(&json!({"alg": "RS256", "kid": "rotated-away"}), &claims(ISSUER, OPERATOR_SA, IRSA_AUDIENCE, 600));
    for (what, token, expected_message) in [
        ("wrong audience", wrong_audience, Some("Incorrect token audience".to_string())),
        ("bad signature", bad_signature, None),
        (
            "unknown issuer",
            unknown_issuer,
            Some("No OpenIDConnect provider found in your account for https://oidc.eks.eu-central-1.amazonaws.com/id/0123456789ABCDEF".to_string()),
        ),
        ("unknown key", unknown_kid, None),
        ("not a JWT", "not-a-jwt-at-all".to_string(), None),
    ] {
        let (code, message, status, error) = attempt(OPERATOR_ROLE, token).await;
        assert!(matches!(error, E::InvalidIdentityTokenException(_)), "{what}: {error:?}");
        assert_eq!((code.as_str(), status), ("InvalidIdentityToken", Some(400)), "{what}");
        if let Some(expected) = expected_message {
            assert_eq!(message, expected, "{what}");
        }
    }

    // Longer than the role allows (its MaxSessionDuration is 7200 here).
    let err = sts
        .assume_role_with_web_identity()
        .role_arn(OPERATOR_ROLE)
        .role_session_name("s1")
        .web_identity_token(issuer.token(OPERATOR_SA, IRSA_AUDIENCE, 600))
        .duration_seconds(10800)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ValidationError"));

    // Through aws-config's provider, the STS error reaches the caller as the provider's error.
    let file =
        TokenFile::new("irsa-intruder", &issuer.token("system:serviceaccount:team-b:intruder", IRSA_AUDIENCE, 600));
    let err = web_identity_provider(&emulator, &file.0, OPERATOR_ROLE).provide_credentials().await.unwrap_err();
    let shown = format!("{}", aws_sdk_sts::error::DisplayErrorContext(&err));
    assert!(shown.contains("AccessDenied"), "{shown}");
    emulator.shutdown().await;
}

#[tokio::test]
async fn providers_trust_and_associations_registered_at_runtime_survive_a_reset() {
    let emulator = start(fast()).await;
    let issuer = ServiceAccountIssuer::new("https://127.0.0.1:6443");
    let sts = anonymous_sts(&emulator);
    let assume = |role: &'static str, token: String| {
        let sts = sts.clone();
        async move {
            sts.assume_role_with_web_identity()
                .role_arn(role)
                .role_session_name("s1")
                .web_identity_token(token)
                .send()
                .await
                .map(|out| out.assumed_role_user().unwrap().arn().to_string())
                .map_err(|e| e.code().unwrap_or("none").to_string())
        }
    };
    let token = issuer.token(OPERATOR_SA, IRSA_AUDIENCE, 600);
    assert_eq!(assume(OPERATOR_ROLE, token.clone()).await, Err("InvalidIdentityToken".into()), "no provider yet");

    // Through the handle: the provider, then trust for a role the fixture lacks.
    emulator.add_oidc_provider(&issuer.iss, issuer.jwks()).unwrap();
    assert_eq!(assume(OPERATOR_ROLE, token.clone()).await, Err("AccessDenied".into()), "no trust yet");
    emulator.trust_web_identity(OPERATOR_ROLE, "system:serviceaccount:*:datazone-operator").unwrap();
    assert_eq!(
        assume(OPERATOR_ROLE, token.clone()).await,
        Ok("arn:aws:sts::222222222222:assumed-role/datazone-operator/s1".into())
    );
    assert!(emulator.add_oidc_provider("not a url", issuer.jwks()).is_err());
    assert!(emulator.add_oidc_provider(&issuer.iss, json!({"keys": []})).is_err());
    assert!(emulator.trust_web_identity("arn:aws:iam::222222222222:user/x", OPERATOR_SA).is_err());
    assert!(emulator.associate_pod_identity("team-a", "op", "not-an-arn").is_err());

    // Through the control API: a second issuer and a role in a third account.
    let other = ServiceAccountIssuer::new("https://127.0.0.1:7443");
    let (status, _) = control(
        &emulator,
        "POST",
        "/_emulator/oidc-providers",
        Some(json!({"issuer": other.iss, "jwks": other.jwks()})),
    )
    .await;
    assert_eq!(status, 201);
    let (status, _) = control(
        &emulator,
        "POST",
        "/_emulator/web-identity-trusts",
        Some(json!({"roleArn": "arn:aws:iam::333333333333:role/reader", "subject": "system:serviceaccount:team-c:reader"})),
    )
    .await;
    assert_eq!(status, 201);
    let (status, _) = control(
        &emulator,
        "POST",
        "/_emulator/pod-identity-associations",
        Some(json!({"namespace": "team-a", "serviceAccount": "datazone-operator", "roleArn": OPERATOR_ROLE})),
    )
    .await;
    assert_eq!(status, 201);
    let (status, body) =
        control(&emulator, "POST", "/_emulator/web-identity-trusts", Some(json!({"roleArn": OPERATOR_ROLE}))).await;
    assert_eq!((status, body["message"].as_str()), (400, Some("subject: a string is required")));
    let (status, body) =
        control(&emulator, "POST", "/_emulator/oidc-providers", Some(json!({"issuer": ISSUER, "jwks": {}}))).await;
    assert_eq!(status, 400, "{body}");
    let reader = "arn:aws:iam::333333333333:role/reader";
    assert_eq!(
        assume(reader, other.token("system:serviceaccount:team-c:reader", IRSA_AUDIENCE, 600)).await,
        Ok("arn:aws:sts::333333333333:assumed-role/reader/s1".into())
    );

    let (_, providers) = control(&emulator, "GET", "/_emulator/oidc-providers", None).await;
    assert_eq!(providers["oidcProviders"].as_array().map(Vec::len), Some(2), "{providers}");
    let (_, associations) = control(&emulator, "GET", "/_emulator/pod-identity-associations", None).await;
    assert_eq!(
        associations,
        json!({"podIdentityAssociations": [{"namespace": "team-a", "serviceAccount": "datazone-operator", "roleArn": OPERATOR_ROLE}]})
    );

    // A reset goes back to the fixture, and the registrations stay.
    assert_eq!(control(&emulator, "POST", "/_emulator/reset", None).await.0, 200);
    assert!(assume(OPERATOR_ROLE, token).await.is_ok());
    let (_, trusts) = control(&emulator, "GET", "/_emulator/web-identity-trusts", None).await;
    assert_eq!(trusts["webIdentityTrusts"].as_array().map(Vec::len), Some(2), "{trusts}");
    emulator.shutdown().await;
}

/// `GET /v1/credentials` as the SDKs send it: the token file's content as `Authorization`.
async fn pod_credentials(emulator: &Emulator, token: Option<&str>) -> (u16, String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(emulator.addr).await.unwrap();
    let auth = token.map(|t| format!("Authorization: {t}\r\n")).unwrap_or_default();
    let request = format!(
        "GET /v1/credentials HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n{auth}Connection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let content_type = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-type: ").map(str::to_string))
        .unwrap_or_default();
    (status, content_type, body.to_string())
}

async fn start_pod_identity(issuer: &ServiceAccountIssuer) -> Emulator {
    let mut fixture = fixture();
    fixture.oidc_providers.push(OidcProviderFixture {
        issuer: issuer.iss.clone(),
        jwks_file: None,
        jwks: Some(issuer.jwks()),
    });
    fixture.pod_identity_associations.push(datazone_emulator::fixture::PodIdentityAssociationFixture {
        namespace: "team-a".into(),
        service_account: "datazone-operator".into(),
        role_arn: OPERATOR_ROLE.into(),
    });
    fixture.validate().expect("the Pod Identity fixture is valid");
    start_with(EmulatorConfig { fixture, lifecycle: fast(), rate_limit: None }).await
}

#[tokio::test]
async fn the_pod_identity_endpoint_answers_as_the_agent_does() {
    let issuer = ServiceAccountIssuer::new(ISSUER);
    let emulator = start_pod_identity(&issuer).await;

    let (status, content_type, body) =
        pod_credentials(&emulator, Some(&issuer.token(OPERATOR_SA, POD_IDENTITY_AUDIENCE, 600))).await;
    assert_eq!((status, content_type.as_str()), (200, "application/json"), "{body}");
    let creds: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(creds["AccountId"], "222222222222");
    for member in ["AccessKeyId", "SecretAccessKey", "Token", "Expiration"] {
        assert!(creds[member].as_str().is_some_and(|v| !v.is_empty()), "{member} in {creds}");
    }
    let key = (creds["AccessKeyId"].as_str().unwrap(), creds["SecretAccessKey"].as_str().unwrap());
    let sts = Sts::new(&sdk(&emulator, key, creds["Token"].as_str().map(str::to_string)).await);
    let me = sts.get_caller_identity().send().await.unwrap();
    let arn = me.arn().unwrap();
    // eks-<cluster>-<pod>-<uuid>, the pod name shortened to fit 64 characters.
    assert!(
        arn.starts_with("arn:aws:sts::222222222222:assumed-role/datazone-operator/eks-emulator-datazone-opera-"),
        "{arn}"
    );
    let session = arn.rsplit('/').next().unwrap();
    assert_eq!(session.len(), 64, "{session}");

    // Refusals: the agent's own checks (400, plain text), then EKS Auth's errors passed on.
    let (status, content_type, body) = pod_credentials(&emulator, None).await;
    assert_eq!((status, body.as_str()), (400, "Service account token cannot be empty\n"));
    assert!(content_type.starts_with("text/plain"));
    let (status, _, body) = pod_credentials(&emulator, Some("garbage")).await;
    assert_eq!(status, 400);
    assert!(body.starts_with("Service account token cannot be parsed"), "{body}");
    let (status, _, body) =
        pod_credentials(&emulator, Some(&issuer.token(OPERATOR_SA, POD_IDENTITY_AUDIENCE, -5))).await;
    assert_eq!(status, 400);
    assert!(body.contains("token is expired"), "{body}");
    let (status, _, body) = pod_credentials(&emulator, Some(&issuer.token(OPERATOR_SA, IRSA_AUDIENCE, 600))).await;
    assert_eq!(status, 400, "an IRSA token is not a Pod Identity token");
    assert!(body.contains("(InvalidTokenException)"), "{body}");
    let stranger =
        ServiceAccountIssuer::new("https://other-cluster.example").token(OPERATOR_SA, POD_IDENTITY_AUDIENCE, 600);
    let (status, _, body) = pod_credentials(&emulator, Some(&stranger)).await;
    assert_eq!(status, 400);
    assert!(body.contains("(InvalidTokenException)"), "{body}");
    let (status, _, body) = pod_credentials(
        &emulator,
        Some(&issuer.token("system:serviceaccount:team-b:other", POD_IDENTITY_AUDIENCE, 600)),
    )
    .await;
    assert_eq!(status, 404, "no association");
    assert!(body.contains("(ResourceNotFoundException)") && body.ends_with(", fault: client\n"), "{body}");

    let calls = control(&emulator, "GET", "/_emulator/calls", None).await.1;
    assert_eq!(calls["eks-auth:AssumeRoleForPodIdentity"], 7, "{calls}");
    emulator.shutdown().await;
}

/// The SDK's default credential chain reads the process environment; tests run in parallel and
/// must not change it. So the SDK runs in a child process (this test binary, running only
/// [`default_chain_child`]) with the environment an EKS pod has.
fn run_default_chain(env: &[(&str, String)]) -> String {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command.args(["--exact", "default_chain_child", "--nocapture", "--test-threads=1"]);
    for (name, _) in std::env::vars() {
        if name.starts_with("AWS_") {
            command.env_remove(name);
        }
    }
    command
        .env("DZ_EMULATOR_DEFAULT_CHAIN_CHILD", "1")
        .env("AWS_CONFIG_FILE", "/nonexistent/config")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    for (name, value) in env {
        command.env(name, value);
    }
    let out = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "child: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

fn child_line<'a>(stdout: &'a str, key: &str) -> &'a str {
    // The test harness prints `test default_chain_child ... ` before the child's first line.
    stdout.lines().find_map(|l| l.split_once(key).map(|(_, v)| v)).unwrap_or_else(|| panic!("no {key} in {stdout}"))
}

/// Only does something as the child of the tests below: loads the default SDK configuration
/// (credential chain included) from the environment, prints who it is, then who it is after
/// AssumeRole into the registration role (or the error).
#[tokio::test]
async fn default_chain_child() {
    if std::env::var("DZ_EMULATOR_DEFAULT_CHAIN_CHILD").is_err() {
        return;
    }
    let config = aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client())
        .retry_config(RetryConfig::disabled())
        .load()
        .await;
    let sts = Sts::new(&config);
    let me = match sts.get_caller_identity().send().await {
        Ok(me) => me,
        Err(e) => {
            println!("error={}", aws_sdk_sts::error::DisplayErrorContext(&e));
            return;
        }
    };
    println!("caller={}", me.arn().unwrap_or_default());
    let out = sts.assume_role().role_arn(ROLE).role_session_name("chained").external_id("optional").send().await;
    let c = out.expect("AssumeRole from the pod's session");
    let c = c.credentials().unwrap();
    let creds = aws_credential_types::Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_string()),
        None,
        "chained",
    );
    let chained =
        aws_sdk_sts::Client::from_conf(aws_sdk_sts::config::Builder::from(&config).credentials_provider(creds).build());
    println!("chained={}", chained.get_caller_identity().send().await.unwrap().arn().unwrap_or_default());
}

#[tokio::test]
async fn the_default_chain_of_an_irsa_pod_gets_the_operator_role() {
    let issuer = ServiceAccountIssuer::new(ISSUER);
    let emulator = start_irsa(&issuer).await;
    let file = TokenFile::new("irsa-chain", &issuer.token(OPERATOR_SA, IRSA_AUDIENCE, 3600));
    let (endpoint, path) = (emulator.endpoint(), file.0.display().to_string());
    let stdout = tokio::task::spawn_blocking(move || {
        run_default_chain(&[
            ("AWS_REGION", REGION.to_string()),
            ("AWS_ENDPOINT_URL", endpoint),
            ("AWS_ROLE_ARN", OPERATOR_ROLE.to_string()),
            ("AWS_WEB_IDENTITY_TOKEN_FILE", path),
            ("AWS_ROLE_SESSION_NAME", "datazone-operator".to_string()),
        ])
    })
    .await
    .unwrap();
    assert_eq!(
        child_line(&stdout, "caller="),
        "arn:aws:sts::222222222222:assumed-role/datazone-operator/datazone-operator"
    );
    assert_eq!(child_line(&stdout, "chained="), "arn:aws:sts::111111111111:assumed-role/dz-registration/chained");
    emulator.shutdown().await;
}

#[tokio::test]
async fn the_default_chain_of_a_pod_identity_pod_gets_the_associated_role() {
    let issuer = ServiceAccountIssuer::new(ISSUER);
    let emulator = start_pod_identity(&issuer).await;
    let good = TokenFile::new("pod-identity-ok", &issuer.token(OPERATOR_SA, POD_IDENTITY_AUDIENCE, 3600));
    let stranger = TokenFile::new(
        "pod-identity-none",
        &issuer.token("system:serviceaccount:team-b:other", POD_IDENTITY_AUDIENCE, 3600),
    );
    let (endpoint, uri) = (emulator.endpoint(), emulator.pod_identity_uri());
    let env = move |file: &Path| {
        vec![
            ("AWS_REGION", REGION.to_string()),
            ("AWS_ENDPOINT_URL", endpoint.clone()),
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", uri.clone()),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", file.display().to_string()),
        ]
    };
    let (ok_env, refused_env) = (env(&good.0), env(&stranger.0));
    let stdout = tokio::task::spawn_blocking(move || run_default_chain(&ok_env)).await.unwrap();
    let caller = child_line(&stdout, "caller=");
    assert!(caller.starts_with("arn:aws:sts::222222222222:assumed-role/datazone-operator/eks-emulator-"), "{caller}");
    assert_eq!(child_line(&stdout, "chained="), "arn:aws:sts::111111111111:assumed-role/dz-registration/chained");

    // A service account without an association: the agent's 404 fails the provider.
    let stdout = tokio::task::spawn_blocking(move || run_default_chain(&refused_env)).await.unwrap();
    let error = child_line(&stdout, "error=");
    assert!(error.contains("404"), "{error}");
    emulator.shutdown().await;
}
