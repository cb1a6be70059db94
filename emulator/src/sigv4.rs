//! SigV4 verification: the signature is recomputed with `aws-sigv4` (what the AWS SDKs sign with)
//! over exactly the headers the client listed in `SignedHeaders`, and compared.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, SessionTokenMode, SignableBody, SignableRequest, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use http::HeaderMap;

/// Why a request is not authenticated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthFailure {
    /// No `Authorization` header.
    Missing,
    /// An `Authorization` header that is not SigV4.
    Malformed(String),
    /// The access key is not known.
    UnknownKey,
    /// Temporary credentials without (or with the wrong) session token.
    BadToken,
    /// Temporary credentials past their expiry.
    Expired,
    /// The signature does not match.
    BadSignature,
}

/// The parts of a SigV4 `Authorization` header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authorization {
    pub access_key_id: String,
    pub date: String,
    pub region: String,
    pub service: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

/// Parses `AWS4-HMAC-SHA256 Credential=AKID/20261125/eu-central-1/datazone/aws4_request,
/// SignedHeaders=host;x-amz-date, Signature=abc…`.
pub fn parse_authorization(headers: &HeaderMap) -> Result<Authorization, AuthFailure> {
    let value = headers.get(http::header::AUTHORIZATION).ok_or(AuthFailure::Missing)?;
    let value = value.to_str().map_err(|_| AuthFailure::Malformed("Authorization is not ASCII".into()))?;
    let rest = value
        .strip_prefix("AWS4-HMAC-SHA256 ")
        .ok_or_else(|| AuthFailure::Malformed("only AWS4-HMAC-SHA256 is supported".into()))?;
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',').map(str::trim) {
        if let Some(v) = part.strip_prefix("Credential=") {
            credential = Some(v);
        } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
            signed = Some(v);
        } else if let Some(v) = part.strip_prefix("Signature=") {
            signature = Some(v);
        }
    }
    let missing = |what: &str| AuthFailure::Malformed(format!("Authorization header requires '{what}' parameter"));
    let credential = credential.ok_or_else(|| missing("Credential"))?;
    let scope: Vec<&str> = credential.split('/').collect();
    if scope.len() != 5 || scope[4] != "aws4_request" {
        return Err(AuthFailure::Malformed(format!(
            "credential scope {credential:?} is not KEY/DATE/REGION/SERVICE/aws4_request"
        )));
    }
    Ok(Authorization {
        access_key_id: scope[0].to_string(),
        date: scope[1].to_string(),
        region: scope[2].to_string(),
        service: scope[3].to_string(),
        signed_headers: signed.ok_or_else(|| missing("SignedHeaders"))?.split(';').map(str::to_string).collect(),
        signature: signature.ok_or_else(|| missing("Signature"))?.to_string(),
    })
}

/// Recomputes the signature of the request with `secret` (and `session_token`) and compares.
pub fn verify(
    method: &str,
    path_and_query: &str,
    headers: &HeaderMap,
    body: &[u8],
    auth: &Authorization,
    secret: &str,
    session_token: Option<&str>,
) -> Result<(), AuthFailure> {
    let amz_date = headers
        .get("x-amz-date")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| AuthFailure::Malformed("missing X-Amz-Date".into()))?;
    let time =
        parse_amz_date(amz_date).ok_or_else(|| AuthFailure::Malformed(format!("bad X-Amz-Date {amz_date:?}")))?;
    if !amz_date.starts_with(&auth.date) {
        return Err(AuthFailure::BadSignature);
    }
    let mut signed = Vec::with_capacity(auth.signed_headers.len());
    for name in &auth.signed_headers {
        let value = headers
            .get(name.as_str())
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| AuthFailure::Malformed(format!("signed header {name} is not in the request")))?;
        signed.push((name.as_str(), value));
    }
    let has = |name: &str| auth.signed_headers.iter().any(|h| h == name);
    let mut settings = SigningSettings::default();
    settings.excluded_headers = Some(Vec::new());
    settings.session_token_mode =
        if has("x-amz-security-token") { SessionTokenMode::Include } else { SessionTokenMode::Exclude };
    settings.payload_checksum_kind =
        if has("x-amz-content-sha256") { PayloadChecksumKind::XAmzSha256 } else { PayloadChecksumKind::NoHeader };
    let identity: Identity =
        Credentials::new(&auth.access_key_id, secret, session_token.map(str::to_string), None, "emulator").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(&auth.region)
        .name(&auth.service)
        .time(time)
        .settings(settings)
        .build()
        .map_err(|e| AuthFailure::Malformed(e.to_string()))?;
    let request = SignableRequest::new(method, path_and_query, signed.into_iter(), SignableBody::Bytes(body))
        .map_err(|e| AuthFailure::Malformed(e.to_string()))?;
    let output = sign(request, &params.into()).map_err(|e| AuthFailure::Malformed(e.to_string()))?;
    if constant_time_eq(output.signature().as_bytes(), auth.signature.as_bytes()) {
        Ok(())
    } else {
        Err(AuthFailure::BadSignature)
    }
}

fn parse_amz_date(s: &str) -> Option<SystemTime> {
    // 20261125T014500Z
    if s.len() != 16 || &s[8..9] != "T" || !s.ends_with('Z') {
        return None;
    }
    let iso = format!("{}-{}-{}T{}:{}:{}Z", &s[0..4], &s[4..6], &s[6..8], &s[9..11], &s[11..13], &s[13..15]);
    let ts: jiff::Timestamp = iso.parse().ok()?;
    Some(SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(ts.as_second()).ok()?))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_an_sdk_authorization_header() {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::AUTHORIZATION,
            "AWS4-HMAC-SHA256 Credential=AKIAPRODUCER00000001/20261125/eu-central-1/datazone/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=abc123".parse().unwrap(),
        );
        let auth = parse_authorization(&headers).unwrap();
        assert_eq!(auth.access_key_id, "AKIAPRODUCER00000001");
        assert_eq!((auth.region.as_str(), auth.service.as_str()), ("eu-central-1", "datazone"));
        assert_eq!(auth.signed_headers, ["content-type", "host", "x-amz-date"]);
        assert_eq!(auth.signature, "abc123");
    }

    #[test]
    fn missing_and_malformed_headers() {
        assert_eq!(parse_authorization(&HeaderMap::new()), Err(AuthFailure::Missing));
        let mut headers = HeaderMap::new();
        headers.insert(http::header::AUTHORIZATION, "Basic dXNlcjpwYXNz".parse().unwrap());
        assert!(matches!(parse_authorization(&headers), Err(AuthFailure::Malformed(_))));
    }

    #[test]
    fn amz_dates() {
        let t = parse_amz_date("20261125T014500Z").unwrap();
        assert_eq!(t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs(), 1_795_571_100);
        assert!(parse_amz_date("2026-11-25").is_none());
    }
}
