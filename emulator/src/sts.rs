//! STS over awsQuery: AssumeRole (trust by account, optional ExternalId, session tags,
//! DurationSeconds) and AssumeRoleWithWebIdentity (an OIDC token; see `web_identity`) issuing
//! temporary credentials later requests sign with, and GetCallerIdentity. Errors are the awsQuery
//! XML envelope.

use std::collections::HashMap;

use crate::clock::Instant;
use crate::error::{AwsError, AwsResult};
use crate::fixture::{RoleFixture, account_of};
use crate::state::{Caller, Session, State};
use crate::web_identity::{self, STS_AUDIENCE, TokenError};

pub const NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

pub fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&apos;")
}

/// The success envelope `<{Action}Response><{Action}Result>…`.
fn envelope(action: &str, result: &str, request_id: &str) -> String {
    format!(
        "<{action}Response xmlns=\"{NAMESPACE}\"><{action}Result>{result}</{action}Result><ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{action}Response>"
    )
}

/// The awsQuery error envelope.
pub fn error_xml(e: &AwsError, request_id: &str) -> String {
    let kind = if e.status >= 500 { "Receiver" } else { "Sender" };
    format!(
        "<ErrorResponse xmlns=\"{NAMESPACE}\"><Error><Type>{kind}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
        e.code,
        xml_escape(&e.message)
    )
}

fn validation(message: impl Into<String>) -> AwsError {
    AwsError::new("ValidationError", 400, message)
}

/// Actions served without SigV4: the model marks AssumeRoleWithWebIdentity `smithy.api#noAuth`
/// (`authtype: none`) and the SDKs send it unsigned [model].
pub fn is_unsigned(action: &str) -> bool {
    action == "AssumeRoleWithWebIdentity"
}

/// Handles one unsigned STS action (no caller); returns the XML body. A signature on such a
/// request is not looked at [inferred].
pub fn handle_unsigned(
    state: &mut State,
    form: &HashMap<String, String>,
    now: Instant,
    request_id: &str,
) -> AwsResult<String> {
    match form.get("Action").map(String::as_str) {
        Some("AssumeRoleWithWebIdentity") => assume_role_with_web_identity(state, form, now, request_id),
        other => Err(AwsError::new(
            "InvalidAction",
            400,
            format!("Could not find operation {} for version 2011-06-15", other.unwrap_or_default()),
        )),
    }
}

/// Handles one STS action; returns the XML body.
pub fn handle(
    state: &mut State,
    caller: &Caller,
    form: &HashMap<String, String>,
    now: Instant,
    request_id: &str,
) -> AwsResult<String> {
    match form.get("Action").map(String::as_str) {
        Some("GetCallerIdentity") => Ok(envelope(
            "GetCallerIdentity",
            &format!(
                "<Arn>{}</Arn><UserId>{}</UserId><Account>{}</Account>",
                xml_escape(&caller.identity_arn),
                xml_escape(&caller.user_id),
                caller.account
            ),
            request_id,
        )),
        Some("AssumeRole") => assume_role(state, caller, form, now, request_id),
        other => Err(AwsError::new(
            "InvalidAction",
            400,
            format!("Could not find operation {} for version 2011-06-15", other.unwrap_or_default()),
        )),
    }
}

fn is_session_name(s: &str) -> bool {
    (2..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b))
}

fn is_external_id(s: &str) -> bool {
    (2..=1224).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"_+=,.@:/-".contains(&b))
}

/// A stable, role-specific ID like IAM's `AROA…` role IDs.
fn role_id(role_arn: &str) -> String {
    let hash = crate::stable_hash(role_arn);
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let tail: String = (0..17).map(|i| alphabet[((hash >> (i * 3 % 60)) & 31) as usize] as char).collect();
    format!("AROA{tail}")
}

/// A required member: ValidationError "Value null at 'member'" when absent [model: required].
fn required<'a>(form: &'a HashMap<String, String>, key: &str, member: &str) -> AwsResult<&'a String> {
    form.get(key).ok_or_else(|| {
        validation(format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
        ))
    })
}

/// `RoleSessionName`: 2–64 characters of `[\w+=,.@-]` [model: roleSessionNameType].
fn session_name(form: &HashMap<String, String>) -> AwsResult<&String> {
    let name = required(form, "RoleSessionName", "roleSessionName")?;
    if !is_session_name(name) {
        return Err(validation(format!(
            "1 validation error detected: Value '{name}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*"
        )));
    }
    Ok(name)
}

/// `DurationSeconds`: 900–43200, default 3600 [model: roleDurationSecondsType; docs].
fn duration(form: &HashMap<String, String>) -> AwsResult<u64> {
    match form.get("DurationSeconds") {
        None => Ok(3600),
        Some(d) => d.parse().ok().filter(|d| (900..=43200).contains(d)).ok_or_else(|| {
            validation(format!("1 validation error detected: Value '{d}' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200"))
        }),
    }
}

/// The role's MaxSessionDuration (default 3600) bounds every session of it.
fn check_max_duration(role: &RoleFixture, duration: u64) -> AwsResult<()> {
    if duration > role.max_session_duration.unwrap_or(3600) {
        return Err(validation("The requested DurationSeconds exceeds the MaxSessionDuration set for this role."));
    }
    Ok(())
}

/// Temporary credentials of a role session, as every way of assuming a role issues them.
pub struct Issued {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    pub expires: Instant,
    pub session_arn: String,
    pub user_id: String,
}

impl Issued {
    /// `<Credentials>…</Credentials><AssumedRoleUser>…</AssumedRoleUser>` of an awsQuery answer.
    fn xml(&self) -> String {
        format!(
            "<Credentials><AccessKeyId>{}</AccessKeyId><SecretAccessKey>{}</SecretAccessKey><SessionToken>{}</SessionToken><Expiration>{}</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>{}</AssumedRoleId><Arn>{}</Arn></AssumedRoleUser>",
            self.access_key_id,
            xml_escape(&self.secret_access_key),
            self.session_token,
            self.expires.iso_text(),
            xml_escape(&self.user_id),
            xml_escape(&self.session_arn)
        )
    }
}

/// A session of `role_arn` named `session_name` for `duration` seconds: `ASIA…` keys that later
/// requests sign with (see `server::authenticate`), acting as the role; GetCallerIdentity answers
/// `arn:aws:sts::<role account>:assumed-role/<role name>/<session name>`.
pub fn issue_session(
    state: &mut State,
    role_arn: &str,
    session_name: &str,
    duration: u64,
    tags: Vec<(String, String)>,
    now: Instant,
) -> Issued {
    let role_account = account_of(role_arn).unwrap_or_default();
    let role_name = role_arn.rsplit('/').next().unwrap_or_default();
    let session_arn = format!("arn:aws:sts::{role_account}:assumed-role/{role_name}/{session_name}");
    let user_id = format!("{}:{session_name}", role_id(role_arn));
    let access_key_id = format!("ASIA{}", state.ids.chars(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16));
    let secret = state.ids.chars(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 40);
    let token = format!(
        "FwoGZXIvYXdzE{}",
        state.ids.chars(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 120)
    );
    let expires = now.plus(std::time::Duration::from_secs(duration));
    state.sessions.insert(
        access_key_id.clone(),
        Session {
            secret_access_key: secret.clone(),
            session_token: token.clone(),
            expires,
            role_arn: role_arn.to_string(),
            session_arn: session_arn.clone(),
            user_id: user_id.clone(),
            tags,
        },
    );
    Issued { access_key_id, secret_access_key: secret, session_token: token, expires, session_arn, user_id }
}

fn assume_role(
    state: &mut State,
    caller: &Caller,
    form: &HashMap<String, String>,
    now: Instant,
    request_id: &str,
) -> AwsResult<String> {
    let role_arn = required(form, "RoleArn", "roleArn")?;
    let session_name = session_name(form)?;
    let duration = duration(form)?;
    if let Some(id) = form.get("ExternalId")
        && !is_external_id(id)
    {
        return Err(validation(format!(
            "1 validation error detected: Value '{id}' at 'externalId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@:\\/-]*"
        )));
    }
    let denied = || {
        AwsError::new(
            "AccessDenied",
            403,
            format!(
                "User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
                caller.identity_arn
            ),
        )
    };
    let role = state.roles.iter().find(|r| &r.arn == role_arn).ok_or_else(denied)?;
    let role_account = account_of(&role.arn).unwrap_or_default();
    let trusted = caller.account == role_account || role.trusted_accounts.contains(&caller.account);
    let external_ok = role.external_id.as_ref().is_none_or(|want| form.get("ExternalId") == Some(want));
    if !trusted || !external_ok {
        return Err(denied());
    }
    check_max_duration(role, duration)?;
    if !caller.is_static && duration > 3600 {
        return Err(validation(
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
        ));
    }
    let mut tags = Vec::new();
    for i in 1..=51 {
        match (form.get(&format!("Tags.member.{i}.Key")), form.get(&format!("Tags.member.{i}.Value"))) {
            (Some(k), v) if i <= 50 => tags.push((k.clone(), v.cloned().unwrap_or_default())),
            (Some(_), _) => {
                return Err(validation(
                    "1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50",
                ));
            }
            (None, _) => break,
        }
    }
    let role_arn = role.arn.clone();
    let issued = issue_session(state, &role_arn, session_name, duration, tags, now);
    let result = format!("{}<PackedPolicySize>0</PackedPolicySize>", issued.xml());
    Ok(envelope("AssumeRole", &result, request_id))
}

/// STS's answer to a token that fails validation: ExpiredTokenException for an expired one,
/// InvalidIdentityToken (400, Sender) otherwise [model: the operation's errors]. The messages for
/// an unknown issuer, a wrong audience and an expired token are the ones STS answers
/// [issue: aws-actions/configure-aws-credentials#280, awslabs/amazon-eks-irsa-cfn#18,
/// aws/aws-sdk-java-v2#5709]; the others are [inferred].
fn token_error(error: TokenError) -> AwsError {
    match error {
        TokenError::Expired { now, exp } => AwsError::new(
            "ExpiredTokenException",
            400,
            format!("Token expired: current date/time {now} must be before the expiration date/time {exp}"),
        ),
        TokenError::UnknownIssuer(iss) => AwsError::new(
            "InvalidIdentityToken",
            400,
            format!("No OpenIDConnect provider found in your account for {iss}"),
        ),
        TokenError::WrongAudience { .. } => AwsError::new("InvalidIdentityToken", 400, "Incorrect token audience"),
        other => AwsError::new("InvalidIdentityToken", 400, other.to_string()),
    }
}

/// AssumeRoleWithWebIdentity (IRSA): the token is validated first (see `web_identity`: issuer,
/// key, signature, expiry, audience — the role's `webIdentity.audience`, default
/// `sts.amazonaws.com`), then the role's trust: an unknown role, or one whose `webIdentity` does
/// not list the token's subject (or names another issuer), is AccessDenied (403) "Not authorized to
/// perform sts:AssumeRoleWithWebIdentity" [issue: crossplane/crossplane#5578]. The session is like
/// an AssumeRole session; not a chained one, so up to the role's MaxSessionDuration.
fn assume_role_with_web_identity(
    state: &mut State,
    form: &HashMap<String, String>,
    now: Instant,
    request_id: &str,
) -> AwsResult<String> {
    let role_arn = required(form, "RoleArn", "roleArn")?.clone();
    let session_name = session_name(form)?.clone();
    let token = required(form, "WebIdentityToken", "webIdentityToken")?;
    // clientTokenType: 4..=20000 characters [model].
    if !(4..=20000).contains(&token.chars().count()) {
        return Err(validation(
            "1 validation error detected: Value at 'webIdentityToken' failed to satisfy constraint: Member must have length between 4 and 20000",
        ));
    }
    let duration = duration(form)?;
    let role = state.roles.iter().find(|r| r.arn == role_arn).cloned();
    let trust = role.as_ref().and_then(|r| r.web_identity.clone());
    let audience = trust.as_ref().and_then(|t| t.audience.clone()).unwrap_or_else(|| STS_AUDIENCE.to_string());

    let token = web_identity::parse(token).map_err(token_error)?;
    token.verify_signature(&state.oidc_providers).map_err(token_error)?;
    token.check_time(now.0 as i64 / 1000).map_err(token_error)?;
    token.check_audience(&audience).map_err(token_error)?;

    let claims = &token.claims;
    let trusted = trust.as_ref().is_some_and(|t| {
        t.issuer.as_ref().is_none_or(|i| *i == claims.iss)
            && t.subjects.iter().any(|p| web_identity::like(p, &claims.sub))
    });
    let (Some(role), true) = (role, trusted) else {
        return Err(AwsError::new("AccessDenied", 403, "Not authorized to perform sts:AssumeRoleWithWebIdentity"));
    };
    check_max_duration(&role, duration)?;
    let issued = issue_session(state, &role.arn, &session_name, duration, Vec::new(), now);
    // Provider: the token's `iss` for OpenID Connect tokens; Audience: the audience matched [model].
    let result = format!(
        "{}<SubjectFromWebIdentityToken>{}</SubjectFromWebIdentityToken><Provider>{}</Provider><Audience>{}</Audience>",
        issued.xml(),
        xml_escape(&claims.sub),
        xml_escape(&claims.iss),
        xml_escape(&audience)
    );
    Ok(envelope("AssumeRoleWithWebIdentity", &result, request_id))
}
