//! STS over awsQuery: AssumeRole (trust by account, optional ExternalId, session tags,
//! DurationSeconds) issuing temporary credentials later requests sign with, and
//! GetCallerIdentity. Errors are the awsQuery XML envelope.

use std::collections::HashMap;

use crate::clock::Instant;
use crate::error::{AwsError, AwsResult};
use crate::fixture::account_of;
use crate::state::{Caller, Session, State};

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

fn assume_role(
    state: &mut State,
    caller: &Caller,
    form: &HashMap<String, String>,
    now: Instant,
    request_id: &str,
) -> AwsResult<String> {
    let role_arn = form.get("RoleArn").ok_or_else(|| validation("1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null"))?;
    let session_name = form
        .get("RoleSessionName")
        .ok_or_else(|| validation("1 validation error detected: Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null"))?;
    if !is_session_name(session_name) {
        return Err(validation(format!(
            "1 validation error detected: Value '{session_name}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*"
        )));
    }
    let duration: u64 = match form.get("DurationSeconds") {
        None => 3600,
        Some(d) => d.parse().ok().filter(|d| (900..=43200).contains(d)).ok_or_else(|| {
            validation(format!("1 validation error detected: Value '{d}' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200"))
        })?,
    };
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
    if duration > role.max_session_duration.unwrap_or(3600) {
        return Err(validation("The requested DurationSeconds exceeds the MaxSessionDuration set for this role."));
    }
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
    let role_name = role.arn.rsplit('/').next().unwrap_or_default();
    let session_arn = format!("arn:aws:sts::{role_account}:assumed-role/{role_name}/{session_name}");
    let user_id = format!("{}:{session_name}", role_id(&role.arn));
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
            role_arn: role.arn.clone(),
            session_arn: session_arn.clone(),
            user_id: user_id.clone(),
            tags,
        },
    );
    let result = format!(
        "<Credentials><AccessKeyId>{access_key_id}</AccessKeyId><SecretAccessKey>{}</SecretAccessKey><SessionToken>{token}</SessionToken><Expiration>{}</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>{}</AssumedRoleId><Arn>{}</Arn></AssumedRoleUser><PackedPolicySize>0</PackedPolicySize>",
        xml_escape(&secret),
        expires.iso_text(),
        xml_escape(&user_id),
        xml_escape(&session_arn)
    );
    Ok(envelope("AssumeRole", &result, request_id))
}
