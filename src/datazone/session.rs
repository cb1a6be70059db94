//! One assumed-role session per tenancy unit, a connection used from one namespace. The role is
//! assumed explicitly (so a refused role is a clear error, and the assumed-role ARN is known)
//! and its credentials are held until five minutes before they expire: the role check, the ARN
//! conditions show and the credentials of every DataZone call of that namespace through that
//! connection cost one `AssumeRole` an hour, whatever the number of data products. The session
//! is itself the credentials provider of its DataZone client, so the SDK's identity cache (64
//! providers at most, docs/datazone-semantics.md §11) has nothing to evict.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, future};

use super::sdk_convert::sdk_error;
use super::{DzError, ErrorClass, SessionKey};

/// Credentials are assumed again this long before they expire.
const REFRESH_BEFORE: Duration = Duration::from_secs(300);

#[derive(Clone, Debug)]
pub struct Session(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    key: SessionKey,
    sts: aws_sdk_sts::Client,
    held: tokio::sync::Mutex<Option<Held>>,
}

#[derive(Clone, Debug)]
struct Held {
    credentials: Credentials,
    arn: String,
}

impl Session {
    /// A session that assumes `key`'s role with `sts` when first asked.
    pub fn new(key: SessionKey, sts: aws_sdk_sts::Client) -> Self {
        Self(Arc::new(Inner { key, sts, held: tokio::sync::Mutex::new(None) }))
    }

    /// The session's credentials and assumed-role ARN; assumes the role only when none are held
    /// or they are about to expire. Concurrent callers wait for one `AssumeRole`.
    pub async fn assumed(&self) -> Result<(Credentials, String), DzError> {
        let mut held = self.0.held.lock().await;
        if let Some(h) = held.as_ref().filter(|h| still_fresh(&h.credentials, SystemTime::now())) {
            return Ok((h.credentials.clone(), h.arn.clone()));
        }
        let key = &self.0.key;
        let tag = |k: &str, v: &str| aws_sdk_sts::types::Tag::builder().key(k).value(v).build().ok();
        let out = self
            .0
            .sts
            .assume_role()
            .role_arn(&key.role_arn)
            .set_external_id(key.external_id.clone())
            .role_session_name(session_name(key))
            .set_tags(Some(
                [tag("namespace", &key.namespace), tag("connection", &key.connection)].into_iter().flatten().collect(),
            ))
            .send()
            .await
            .map_err(|e| sdk_error("AssumeRole", e))?;
        let incomplete = || DzError::new(ErrorClass::Retryable, "AssumeRole", "IncompleteAnswer", "no credentials");
        let c = out.credentials().ok_or_else(incomplete)?;
        let expiry = SystemTime::try_from(*c.expiration()).map_err(|_| incomplete())?;
        let credentials = Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_string()),
            Some(expiry),
            "datazone-operator-session",
        );
        let arn = out.assumed_role_user().map(|u| u.arn().to_string()).ok_or_else(incomplete)?;
        *held = Some(Held { credentials: credentials.clone(), arn: arn.clone() });
        Ok((credentials, arn))
    }
}

impl ProvideCredentials for Session {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            self.assumed().await.map(|(c, _)| c).map_err(CredentialsError::provider_error)
        })
    }
}

/// Held credentials are used until five minutes before they expire.
fn still_fresh(c: &Credentials, now: SystemTime) -> bool {
    c.expiry().is_none_or(|at| at > now + REFRESH_BEFORE)
}

/// `namespace.connection`, within STS's 64 characters of `[\w+=,.@-]` (docs/datazone-semantics.md §9).
pub fn session_name(key: &SessionKey) -> String {
    let connection = key.connection.rsplit('/').next().unwrap_or_default();
    let raw = format!("{}.{connection}", key.namespace);
    let clean: String =
        raw.chars().map(|c| if c.is_ascii_alphanumeric() || "+=,.@-_".contains(c) { c } else { '-' }).collect();
    if clean.len() <= 64 { clean } else { format!("{}-{}", &clean[..55], crate::naming::short_hash(&raw)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(namespace: &str, connection: &str) -> SessionKey {
        SessionKey {
            connection: connection.into(),
            role_arn: "arn:aws:iam::111111111111:role/r".into(),
            external_id: None,
            region: "eu-central-1".into(),
            namespace: namespace.into(),
        }
    }

    #[test]
    fn session_names_say_namespace_and_connection_within_sts_limits() {
        assert_eq!(session_name(&key("team-sales", "ClusterDataZoneConnection/corp-mesh")), "team-sales.corp-mesh");
        let long = session_name(&key(&"n".repeat(63), "DataZoneConnection/central"));
        assert_eq!(long.len(), 64);
        assert_ne!(long, session_name(&key(&"n".repeat(63), "DataZoneConnection/other")), "a hash keeps them apart");
        assert!(session_name(&key("a", "DataZoneConnection/c d")).chars().all(|c| c != ' '));
    }

    #[test]
    fn credentials_are_refreshed_five_minutes_before_they_expire() {
        let now = SystemTime::now();
        let expiring = |secs| Credentials::new("a", "s", None, Some(now + Duration::from_secs(secs)), "t");
        assert!(still_fresh(&expiring(3600), now));
        assert!(still_fresh(&expiring(301), now));
        assert!(!still_fresh(&expiring(299), now), "about to expire: assume again");
        assert!(still_fresh(&Credentials::new("a", "s", None, None, "t"), now), "no expiry: static");
    }
}
