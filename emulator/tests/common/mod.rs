//! Shared by the emulator's integration tests: an emulator on a free port loaded with the
//! example fixture, and real AWS SDK clients pointed at it.
#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
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

pub fn fast() -> Lifecycle {
    Lifecycle {
        environment_ready_after: Duration::from_millis(50),
        run_duration: Duration::from_millis(50),
        runs_per_day: 25,
    }
}

pub async fn start(lifecycle: Lifecycle) -> Emulator {
    start_with(EmulatorConfig { fixture: fixture(), lifecycle, rate_limit: None }).await
}

pub async fn start_with(config: EmulatorConfig) -> Emulator {
    Emulator::start("127.0.0.1:0".parse().unwrap(), config).await.expect("emulator starts")
}

/// An SDK configuration for `key`, retries off so every error reaches the test.
pub async fn sdk(emulator: &Emulator, (access_key, secret): (&str, &str), token: Option<String>) -> SdkConfig {
    let http = aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https();
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new(access_key, secret, token, None, "test"))
        .endpoint_url(emulator.endpoint())
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
    let sts = aws_sdk_sts::Client::new(&sdk(emulator, PRODUCER, None).await);
    let out = sts
        .assume_role()
        .role_arn(ROLE)
        .role_session_name("test-session")
        .external_id("optional")
        .send()
        .await
        .expect("AssumeRole");
    let c = out.credentials().expect("credentials");
    let config = sdk(emulator, (c.access_key_id(), c.secret_access_key()), Some(c.session_token().to_string())).await;
    aws_sdk_datazone::Client::new(&config)
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
