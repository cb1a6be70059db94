//! The EKS Pod Identity credentials endpoint: what the EKS Pod Identity Agent answers at
//! `http://169.254.170.23/v1/credentials`, served here on the emulator's own listener so an SDK's
//! container credential provider (`AWS_CONTAINER_CREDENTIALS_FULL_URI` on a loopback address,
//! `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`) gets a role session from it
//! [docs: AWS SDKs and Tools Reference Guide, Container credential provider; EKS User Guide,
//! Understand how EKS Pod Identity works].
//!
//! The agent does two things, and so does this module [code: aws/eks-pod-identity-agent
//! `pkg/handlers/eks_credential_handler.go`, `internal/validation/request.go`,
//! `pkg/errors/errors.go`, `internal/cloud/eksauth/service.go`]:
//! 1. checks the `Authorization` header is a parseable, unexpired JWT — else 400, plain text;
//! 2. calls EKS Auth `AssumeRoleForPodIdentity` with it, which validates the token (here: against
//!    the registered OIDC providers, audience `pods.eks.amazonaws.com`) and finds the association
//!    of its service account; an EKS Auth error goes back with EKS Auth's status and a plain-text
//!    body `[<request id>]: (<code>): <message>, fault: client`.
//!
//! On success the body is JSON `{"AccessKeyId", "SecretAccessKey", "Token", "AccountId",
//! "Expiration"}` (`AccountId` from the assumed-role ARN, `Expiration` RFC 3339).

use serde_json::{Value, json};

use crate::clock::Instant;
use crate::fixture::account_of;
use crate::state::State;
use crate::web_identity::{self, POD_IDENTITY_AUDIENCE, TokenError};

/// The path the agent serves and the Pod Identity webhook writes into
/// `AWS_CONTAINER_CREDENTIALS_FULL_URI` (`http://169.254.170.23/v1/credentials`).
pub const PATH: &str = "/v1/credentials";

/// The cluster name in session names and tags: the emulator has no clusters [inferred].
pub const CLUSTER_NAME: &str = "emulator";

/// How long the credentials last [inferred: EKS Auth documents no duration; one hour, the STS
/// default, also within every role's MaxSessionDuration].
const SESSION_SECONDS: u64 = 3600;

/// An answer: status, content type and body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

/// What the agent's `http.Error` writes: the message and a newline, as plain text.
fn text(status: u16, message: impl Into<String>) -> Reply {
    Reply { status, content_type: "text/plain; charset=utf-8", body: format!("{}\n", message.into()) }
}

/// An EKS Auth error as the agent passes it on (its status; codes and statuses from the eks-auth
/// model: InvalidTokenException 400, ExpiredTokenException 400, ResourceNotFoundException 404).
fn eks_auth_error(status: u16, code: &str, message: &str, request_id: &str) -> Reply {
    text(status, format!("[{request_id}]: ({code}): {message}, fault: client"))
}

/// Answers `GET /v1/credentials` with the `Authorization` header's value.
pub fn credentials(state: &mut State, authorization: Option<&str>, now: Instant, request_id: &str) -> Reply {
    let now_secs = now.0 as i64 / 1000;
    // 1. The agent's own checks (request.go): present, parseable, within its validity window.
    let token = authorization.map(str::trim).unwrap_or_default();
    if token.is_empty() {
        return text(400, "Service account token cannot be empty");
    }
    let token = match web_identity::parse(token) {
        Ok(t) => t,
        Err(e) => return text(400, format!("Service account token cannot be parsed: {e}")),
    };
    if let Err(e) = token.check_time(now_secs) {
        let why = if matches!(e, TokenError::Expired { .. }) { "token is expired" } else { "token is not valid yet" };
        return text(
            400,
            format!("Service account token failed basic claim validations: token has invalid claims: {why}"),
        );
    }
    // 2. EKS Auth: the token's signature and audience, then the association [messages inferred].
    if let Err(e) =
        token.verify_signature(&state.oidc_providers).and_then(|()| token.check_audience(POD_IDENTITY_AUDIENCE))
    {
        return eks_auth_error(
            400,
            "InvalidTokenException",
            &format!("The service account token is not valid: {e}"),
            request_id,
        );
    }
    let claims = &token.claims;
    let Some((namespace, service_account)) = web_identity::service_account(&claims.sub) else {
        let message = format!("The token's subject {:?} is not a Kubernetes service account", claims.sub);
        return eks_auth_error(400, "InvalidTokenException", &message, request_id);
    };
    let Some(role_arn) = state.pod_identity.get(&(namespace.to_string(), service_account.to_string())).cloned() else {
        let message =
            format!("No Pod Identity Association found for service account {service_account} in namespace {namespace}");
        return eks_auth_error(404, "ResourceNotFoundException", &message, request_id);
    };
    // The Kubernetes claims of a pod-bound token (`kubernetes.io.pod`), for the session name and
    // the session tags EKS Pod Identity adds [docs: EKS User Guide, List of session tags added by
    // EKS Pod Identity].
    let pod = claims.raw.pointer("/kubernetes.io/pod").cloned().unwrap_or(Value::Null);
    let pod_name = pod.get("name").and_then(Value::as_str).unwrap_or(service_account).to_string();
    let pod_uid = pod.get("uid").and_then(Value::as_str).map(str::to_string);
    let session_name = session_name(&pod_name, &state.ids.request_id());
    let mut tags = vec![
        ("eks-cluster-name".to_string(), CLUSTER_NAME.to_string()),
        ("kubernetes-namespace".to_string(), namespace.to_string()),
        ("kubernetes-service-account".to_string(), service_account.to_string()),
        ("kubernetes-pod-name".to_string(), pod_name),
    ];
    tags.extend(pod_uid.map(|uid| ("kubernetes-pod-uid".to_string(), uid)));
    let issued = crate::sts::issue_session(state, &role_arn, &session_name, SESSION_SECONDS, tags, now);
    let body = json!({
        "AccessKeyId": issued.access_key_id,
        "SecretAccessKey": issued.secret_access_key,
        "Token": issued.session_token,
        "AccountId": account_of(&role_arn).unwrap_or_default(),
        "Expiration": issued.expires.iso_text(),
    });
    Reply { status: 200, content_type: "application/json", body: body.to_string() }
}

/// `eks-<cluster>-<pod>-<uuid>` [model: eks-auth AssumedRoleUser.assumeRoleId], at most 64
/// characters (RoleSessionName's limit) by shortening the pod name [inferred: how EKS shortens it
/// is not documented].
fn session_name(pod: &str, uuid: &str) -> String {
    let fixed = format!("eks-{CLUSTER_NAME}-").len() + 1 + uuid.len();
    let pod: String =
        pod.chars().filter(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(*c)).take(64 - fixed).collect();
    format!("eks-{CLUSTER_NAME}-{pod}-{uuid}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_names_fit_sts_limits() {
        let uuid = "0123abcd-0123-4567-89ab-0123456789ab";
        assert_eq!(session_name("op-7d9f", uuid), format!("eks-emulator-op-7d9f-{uuid}"));
        let long = session_name(&"p".repeat(100), uuid);
        assert_eq!(long.len(), 64);
        assert!(long.ends_with(uuid));
    }

    #[test]
    fn missing_and_unparseable_tokens_are_400_plain_text() {
        let mut state = State::new(Default::default(), Default::default(), Default::default());
        let r = credentials(&mut state, None, Instant::now(), "rid");
        assert_eq!((r.status, r.body.as_str()), (400, "Service account token cannot be empty\n"));
        let r = credentials(&mut state, Some("not-a-jwt"), Instant::now(), "rid");
        assert_eq!(r.status, 400);
        assert!(r.body.starts_with("Service account token cannot be parsed"), "{}", r.body);
    }
}
