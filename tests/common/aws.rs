//! The operator's own AWS layer (`datazone::sdk::Clients`) pointed at an emulator, as the
//! fixture's producer principal, and the registration role's session: what the Lambda replay and
//! the tests that read DataZone through the operator's code use.

use aws_config::Region;
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use datazone_operator::datazone::SessionKey;
use datazone_operator::datazone::sdk::{Clients, base_config};
use datazone_operator::metrics::Metrics;

pub const REGION: &str = "eu-central-1";

/// The SDK configuration against `endpoint` with the fixture's producer key.
async fn producer_config(endpoint: &str) -> aws_config::SdkConfig {
    config(endpoint, "AKIAPRODUCER00000001", "producer-secret").await
}

/// The SDK configuration against `endpoint` with one of the fixture's static keys.
async fn config(endpoint: &str, key: &str, secret: &str) -> aws_config::SdkConfig {
    base_config()
        .await
        .to_builder()
        .endpoint_url(endpoint)
        .region(Region::new(REGION))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(key, secret, None, None, "test")))
        .build()
}

/// Clients against `endpoint` with the fixture's producer key, pacing at `pace` calls a second.
pub async fn clients(endpoint: &str, pace: f64) -> Clients {
    Clients::new(producer_config(endpoint).await, Metrics::new().unwrap(), pace)
}

/// A session as the fixture's registration role, named `connection` from `namespace`.
pub fn registration(connection: &str, namespace: &str, external_id: &str) -> SessionKey {
    SessionKey {
        connection: connection.into(),
        role_arn: "arn:aws:iam::111111111111:role/dz-registration".into(),
        external_id: Some(external_id.into()),
        region: REGION.into(),
        namespace: namespace.into(),
    }
}

/// A plain SDK DataZone client against `endpoint` with the fixture's producer key: a consumer
/// who makes projects of its own (their owner) and files subscription requests from them.
pub async fn consumer(endpoint: &str) -> aws_sdk_datazone::Client {
    aws_sdk_datazone::Client::new(&producer_config(endpoint).await)
}

/// A plain SDK DataZone client against `endpoint` as the fixture's governance admin (an
/// administrator of its domains, so a member of every project): the person who decides the
/// requests no policy answers, and revokes.
pub async fn governance(endpoint: &str) -> aws_sdk_datazone::Client {
    aws_sdk_datazone::Client::new(&config(endpoint, "AKIAGOVERNANCE000001", "governance-secret").await)
}
