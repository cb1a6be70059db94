//! The HTTP server: tells the protocol from the request (DataZone restJson1 by path, STS
//! awsQuery by form body, Redshift Data awsJson1.1 by `X-Amz-Target`), authenticates with SigV4,
//! counts the call, applies faults, the per-operation quotas and the rate limit, and renders
//! answers and errors the way each protocol does.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, PoisonError};

use bytes::Bytes;
use http::{HeaderMap, Method, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::clock::Instant;
use crate::datazone::{self, request::Ctx};
use crate::error::AwsError;
use crate::fixture::account_of;
use crate::identity::Registration;
pub use crate::shared::EmulatorConfig;
use crate::shared::Shared;
use crate::sigv4::{self, AuthFailure};
use crate::state::{Caller, State};

/// A running emulator.
pub struct Emulator {
    pub addr: SocketAddr,
    pub shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Emulator {
    /// Binds `addr` (port 0 picks a free one) and serves until [`Emulator::shutdown`].
    pub async fn start(addr: SocketAddr, config: EmulatorConfig) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(config));
        let (shutdown, mut stop) = watch::channel(false);
        let serving = shared.clone();
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    accepted = listener.accept() => match accepted {
                        Ok((stream, _)) => {
                            // Answers go out whole at once: with Nagle's algorithm a reply
                            // written in two parts waits for the client's delayed ACK (~40 ms).
                            let _ = stream.set_nodelay(true);
                            let shared = serving.clone();
                            tokio::spawn(async move {
                                let service = hyper::service::service_fn(move |req| handle(shared.clone(), req));
                                let _ = hyper::server::conn::http1::Builder::new()
                                    .keep_alive(true)
                                    .serve_connection(TokioIo::new(stream), service)
                                    .await;
                            });
                        }
                        Err(error) => tracing::warn!(%error, "accept failed"),
                    },
                    _ = stop.changed() => break,
                }
            }
        });
        Ok(Self { addr, shared, shutdown, task })
    }

    /// Holds every successful DataZone answer against `check` from now on (the tests hold them
    /// against botocore's model): an answer with problems becomes an InternalServerException
    /// naming them, so the call that got it fails where it was made.
    pub fn check_answers(&self, check: crate::shared::AnswerCheck) {
        let _ = self.shared.answer_check.set(check);
    }

    /// Rewrites every successful DataZone answer with `rewrite` from now on (after the check).
    pub fn rewrite_answers(&self, rewrite: crate::shared::AnswerRewrite) {
        let _ = self.shared.answer_rewrite.set(rewrite);
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Registers an OpenID Connect provider: tokens whose `iss` is `issuer` verify with the keys
    /// of `jwks` (a JWK Set, `{"keys": [{"kty": "RSA", "kid", "n", "e"}]}`) for
    /// AssumeRoleWithWebIdentity and the Pod Identity endpoint. Again for the same issuer: its keys
    /// are replaced. Kept across `POST /_emulator/reset`.
    pub fn add_oidc_provider(&self, issuer: &str, jwks: Value) -> Result<(), String> {
        self.shared.register(Registration::oidc_provider(issuer, &jwks)?);
        Ok(())
    }

    /// Lets `role_arn` be assumed with AssumeRoleWithWebIdentity by tokens whose `sub` matches
    /// `subject_pattern` (`*` and `?` as IAM's StringLike, e.g.
    /// `system:serviceaccount:*:datazone-operator`). A role the fixture lacks is created
    /// (its account from the ARN). Kept across `POST /_emulator/reset`.
    pub fn trust_web_identity(&self, role_arn: &str, subject_pattern: &str) -> Result<(), String> {
        self.shared.register(Registration::web_identity_trust(role_arn, subject_pattern)?);
        Ok(())
    }

    /// Associates the service account `namespace`/`service_account` with `role_arn` for the Pod
    /// Identity endpoint (`GET /v1/credentials`). A role the fixture lacks is created. Kept across
    /// `POST /_emulator/reset`.
    pub fn associate_pod_identity(&self, namespace: &str, service_account: &str, role_arn: &str) -> Result<(), String> {
        self.shared.register(Registration::pod_identity(namespace, service_account, role_arn)?);
        Ok(())
    }

    /// The URL to give an SDK as `AWS_CONTAINER_CREDENTIALS_FULL_URI` (the SDKs accept plain HTTP
    /// to a loopback address).
    pub fn pod_identity_uri(&self) -> String {
        format!("http://{}{}", self.addr, crate::pod_identity::PATH)
    }

    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }
}

/// Why a request got no answer: the connection is closed (an injected drop).
#[derive(Debug)]
pub struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by an injected fault")
    }
}

impl std::error::Error for Dropped {}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Protocol {
    DataZone,
    Sts,
    RedshiftData,
}

impl Protocol {
    fn service(self) -> &'static str {
        match self {
            Protocol::DataZone => "datazone",
            Protocol::Sts => "sts",
            Protocol::RedshiftData => "redshift-data",
        }
    }
}

type Reply = Response<Full<Bytes>>;

async fn handle(shared: Arc<Shared>, req: http::Request<Incoming>) -> Result<Reply, Dropped> {
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Err(Dropped),
    };
    let path = parts.uri.path().to_string();
    if path.starts_with("/_emulator/") {
        let (status, value) = crate::control::handle(&shared, parts.method.as_str(), &path, &body);
        return Ok(json_reply(status, &value, None));
    }
    let request_id = shared.ids.request_id();
    // The Pod Identity Agent's endpoint: no DataZone route starts with /v1. Counted as the EKS
    // Auth call the agent makes; not subject to faults or the rate limit (no AWS protocol).
    if parts.method == Method::GET && path == crate::pod_identity::PATH {
        let counted = "eks-auth:AssumeRoleForPodIdentity".to_string();
        *shared.calls.lock().unwrap_or_else(PoisonError::into_inner).entry(counted).or_default() += 1;
        let token = parts.headers.get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        let answer = crate::pod_identity::credentials(&mut shared.lock_state(), token, Instant::now(), &request_id);
        let mut reply = Response::new(Full::new(Bytes::from(answer.body)));
        *reply.status_mut() = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        reply.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static(answer.content_type));
        return Ok(reply);
    }
    let protocol = protocol_of(&parts.method, &path, &parts.headers);
    let form: HashMap<String, String> = match protocol {
        Protocol::Sts => form_urlencoded::parse(&body).into_owned().collect(),
        _ => HashMap::new(),
    };
    let operation: String = match protocol {
        Protocol::DataZone => {
            datazone::route(parts.method.as_str(), &path).map(|r| r.0.to_string()).unwrap_or_default()
        }
        Protocol::Sts => form.get("Action").cloned().unwrap_or_default(),
        Protocol::RedshiftData => target(&parts.headers).unwrap_or_default().to_string(),
    };
    if operation.is_empty() {
        let error =
            AwsError::new("UnknownOperationException", 404, format!("No operation for {} {path}", parts.method));
        return Ok(error_reply(protocol, &error, &request_id));
    }
    let counted = format!("{}:{operation}", protocol.service());
    *shared.calls.lock().unwrap_or_else(PoisonError::into_inner).entry(counted.clone()).or_default() += 1;

    let injection = shared.faults.lock().unwrap_or_else(PoisonError::into_inner).decide(
        protocol.service(),
        &operation,
        &shared.ids,
    );
    if injection.latency_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(injection.latency_ms)).await;
    }
    if injection.drop {
        return Err(Dropped);
    }
    if let Some(error) = injection.error {
        return Ok(error_reply(protocol, &error, &request_id));
    }

    let path_and_query = parts.uri.path_and_query().map(|pq| pq.as_str().to_string()).unwrap_or_else(|| path.clone());
    let now = Instant::now();
    let mut state = shared.lock_state();
    // AssumeRoleWithWebIdentity is unsigned (the token is the credential): no caller, and so no
    // per-account rate limit [inferred].
    if protocol == Protocol::Sts && crate::sts::is_unsigned(&operation) {
        return Ok(match crate::sts::handle_unsigned(&mut state, &form, now, &request_id) {
            Ok(xml) => xml_reply(200, xml, &request_id),
            Err(error) => error_reply(protocol, &error, &request_id),
        });
    }
    let caller = match authenticate(&state, parts.method.as_str(), &path_and_query, &parts.headers, &body, now) {
        Ok(caller) => caller,
        Err(failure) => return Ok(error_reply(protocol, &auth_error(protocol, &failure), &request_id)),
    };
    let over_quota = protocol == Protocol::DataZone
        && !shared.operation_limiter.lock().unwrap_or_else(PoisonError::into_inner).allow(
            &operation,
            &caller.account,
            &caller.region,
            now,
        );
    if over_quota {
        *shared.throttled.lock().unwrap_or_else(PoisonError::into_inner).entry(counted).or_default() += 1;
        return Ok(error_reply(protocol, &throttled(protocol), &request_id));
    }
    if let Some(limiter) = &shared.limiter
        && !limiter.lock().unwrap_or_else(PoisonError::into_inner).allow(&caller.account, &caller.region, now)
    {
        *shared.throttled.lock().unwrap_or_else(PoisonError::into_inner).entry(counted).or_default() += 1;
        return Ok(error_reply(protocol, &throttled(protocol), &request_id));
    }
    crate::datazone::advance(&mut state, now);
    let reply = match protocol {
        Protocol::DataZone => {
            let Some((op, handler, params)) = datazone::route(parts.method.as_str(), &path) else {
                return Ok(error_reply(protocol, &AwsError::not_found("unknown route"), &request_id));
            };
            let body_json: Value =
                if body.is_empty() { json!({}) } else { serde_json::from_slice(&body).unwrap_or(Value::Null) };
            if body_json.is_null() {
                return Ok(error_reply(
                    protocol,
                    &AwsError::new("SerializationException", 400, "request body is not JSON"),
                    &request_id,
                ));
            }
            let query = parts
                .uri
                .query()
                .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
                .unwrap_or_default();
            let ctx = Ctx { op, caller: &caller, params, query, body: body_json, now };
            match handler(&mut state, &ctx) {
                Ok((204, _)) => empty_reply(204, &request_id),
                Ok((status, value)) => match shared.answer_check.get().map(|check| check(op, &value)) {
                    Some(problems) if !problems.is_empty() => {
                        tracing::error!(operation = op, ?problems, "answer does not hold against the model");
                        let message = format!("the emulator's answer breaks the model: {}", problems.join("; "));
                        error_reply(protocol, &AwsError::internal(message), &request_id)
                    }
                    _ => {
                        let mut value = value;
                        if let Some(rewrite) = shared.answer_rewrite.get() {
                            rewrite(op, &mut value);
                        }
                        json_reply(status, &value, Some(&request_id))
                    }
                },
                Err(error) => error_reply(protocol, &error, &request_id),
            }
        }
        Protocol::Sts => match crate::sts::handle(&mut state, &caller, &form, now, &request_id) {
            Ok(xml) => xml_reply(200, xml, &request_id),
            Err(error) => error_reply(protocol, &error, &request_id),
        },
        Protocol::RedshiftData => {
            let body_json: Value = serde_json::from_slice(&body).unwrap_or_else(|_| json!({}));
            match crate::redshift_data::handle(&state, &caller, &operation, &body_json) {
                Ok(value) => {
                    let mut reply = json_reply(200, &value, Some(&request_id));
                    reply.headers_mut().insert(
                        http::header::CONTENT_TYPE,
                        http::HeaderValue::from_static("application/x-amz-json-1.1"),
                    );
                    reply
                }
                Err(error) => error_reply(protocol, &error, &request_id),
            }
        }
    };
    Ok(reply)
}

fn target(headers: &HeaderMap) -> Option<&str> {
    headers.get("x-amz-target").and_then(|v| v.to_str().ok()).and_then(|t| t.strip_prefix("RedshiftData."))
}

fn protocol_of(method: &Method, path: &str, headers: &HeaderMap) -> Protocol {
    if headers.contains_key("x-amz-target") {
        Protocol::RedshiftData
    } else if method == Method::POST && (path == "/" || path.is_empty()) {
        Protocol::Sts
    } else {
        Protocol::DataZone
    }
}

/// The caller a SigV4-signed request comes from.
fn authenticate(
    state: &State,
    method: &str,
    path_and_query: &str,
    headers: &HeaderMap,
    body: &[u8],
    now: Instant,
) -> Result<Caller, AuthFailure> {
    let auth = sigv4::parse_authorization(headers)?;
    let (secret, token, caller) = if let Some(p) = state.principals.get(&auth.access_key_id) {
        let account = account_of(&p.arn).unwrap_or_default().to_string();
        let user_id = format!("AIDA{}", &auth.access_key_id[4..].to_uppercase());
        let caller = Caller {
            principal_arn: p.arn.clone(),
            identity_arn: p.arn.clone(),
            user_id,
            account,
            region: auth.region.clone(),
            is_static: true,
        };
        (p.secret_access_key.as_str(), None, caller)
    } else if let Some(s) = state.sessions.get(&auth.access_key_id) {
        let presented = headers.get("x-amz-security-token").and_then(|v| v.to_str().ok());
        if presented != Some(s.session_token.as_str()) {
            return Err(AuthFailure::BadToken);
        }
        if now >= s.expires {
            return Err(AuthFailure::Expired);
        }
        let caller = Caller {
            principal_arn: s.role_arn.clone(),
            identity_arn: s.session_arn.clone(),
            user_id: s.user_id.clone(),
            account: account_of(&s.role_arn).unwrap_or_default().to_string(),
            region: auth.region.clone(),
            is_static: false,
        };
        (s.secret_access_key.as_str(), Some(s.session_token.as_str()), caller)
    } else {
        return Err(AuthFailure::UnknownKey);
    };
    sigv4::verify(method, path_and_query, headers, body, &auth, secret, token)?;
    Ok(caller)
}

fn auth_error(protocol: Protocol, failure: &AuthFailure) -> AwsError {
    const BAD_SIGNATURE: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";
    const INVALID_TOKEN: &str = "The security token included in the request is invalid.";
    let status = if protocol == Protocol::RedshiftData { 400 } else { 403 };
    match (protocol, failure) {
        (Protocol::Sts, AuthFailure::Missing) => {
            AwsError::new("MissingAuthenticationToken", 403, "Request is missing Authentication Token")
        }
        (Protocol::Sts, AuthFailure::UnknownKey | AuthFailure::BadToken) => {
            AwsError::new("InvalidClientTokenId", 403, INVALID_TOKEN)
        }
        (Protocol::Sts, AuthFailure::BadSignature) => AwsError::new("SignatureDoesNotMatch", 403, BAD_SIGNATURE),
        (Protocol::Sts, AuthFailure::Expired) => {
            AwsError::new("ExpiredToken", 400, "The security token included in the request is expired")
        }
        (Protocol::Sts, AuthFailure::Malformed(m)) => AwsError::new("IncompleteSignature", 400, m.clone()),
        (_, AuthFailure::Missing) => {
            AwsError::new("MissingAuthenticationTokenException", 403, "Missing Authentication Token")
        }
        (_, AuthFailure::UnknownKey | AuthFailure::BadToken) => {
            AwsError::new("UnrecognizedClientException", status, INVALID_TOKEN)
        }
        (_, AuthFailure::BadSignature) => AwsError::new("InvalidSignatureException", status, BAD_SIGNATURE),
        (_, AuthFailure::Expired) => {
            AwsError::new("ExpiredTokenException", status, "The security token included in the request is expired")
        }
        (_, AuthFailure::Malformed(m)) => AwsError::new("IncompleteSignatureException", status, m.clone()),
    }
}

fn throttled(protocol: Protocol) -> AwsError {
    match protocol {
        Protocol::Sts => AwsError::new("Throttling", 400, "Rate exceeded"),
        _ => AwsError::throttling(),
    }
}

fn json_reply(status: u16, value: &Value, request_id: Option<&str>) -> Reply {
    let mut reply = Response::new(Full::new(Bytes::from(value.to_string())));
    *reply.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    reply.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    if let Some(id) = request_id.and_then(|id| http::HeaderValue::from_str(id).ok()) {
        reply.headers_mut().insert("x-amzn-requestid", id);
    }
    reply
}

fn empty_reply(status: u16, request_id: &str) -> Reply {
    let mut reply = Response::new(Full::new(Bytes::new()));
    *reply.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::NO_CONTENT);
    if let Ok(id) = http::HeaderValue::from_str(request_id) {
        reply.headers_mut().insert("x-amzn-requestid", id);
    }
    reply
}

fn xml_reply(status: u16, xml: String, request_id: &str) -> Reply {
    let mut reply = Response::new(Full::new(Bytes::from(xml)));
    *reply.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    reply.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("text/xml"));
    if let Ok(id) = http::HeaderValue::from_str(request_id) {
        reply.headers_mut().insert("x-amzn-requestid", id);
    }
    reply
}

/// An error as the protocol encodes it: restJson1 names the code in `x-amzn-ErrorType`,
/// awsJson1.1 in `__type`, awsQuery in the XML envelope.
fn error_reply(protocol: Protocol, error: &AwsError, request_id: &str) -> Reply {
    let mut reply = match protocol {
        Protocol::Sts => xml_reply(error.status, crate::sts::error_xml(error, request_id), request_id),
        Protocol::DataZone => json_reply(error.status, &json!({"message": error.message}), Some(request_id)),
        Protocol::RedshiftData => {
            json_reply(error.status, &json!({"__type": error.code, "message": error.message}), Some(request_id))
        }
    };
    if protocol != Protocol::Sts
        && let Ok(code) = http::HeaderValue::from_str(error.code)
    {
        reply.headers_mut().insert("x-amzn-errortype", code);
    }
    reply
}
