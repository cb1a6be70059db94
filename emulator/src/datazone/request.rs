//! What every DataZone handler shares: the routed request ([`Ctx`]), validation in the wording
//! of AWS's ValidationException, domain and project membership, and pagination with real tokens.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::clock::Instant;
use crate::error::{AwsError, AwsResult};
/// `[a-zA-Z0-9_-]{1,36}`: the pattern of most DataZone IDs (the fixture checks it too).
pub use crate::fixture::is_resource_id;
use crate::state::{Caller, Domain, DomainVersion, Project, State};

/// One routed DataZone request.
pub struct Ctx<'a> {
    pub op: &'static str,
    pub caller: &'a Caller,
    /// Path parameters in URI order (after `/v2/domains/`).
    pub params: Vec<String>,
    pub query: HashMap<String, String>,
    pub body: Value,
    pub now: Instant,
}

pub type Handler = fn(&mut State, &Ctx) -> AwsResult<(u16, Value)>;

pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

// ---- validation, in the wording of AWS's ValidationException ----

fn constraint(member: &str, value: &str, constraint: &str) -> AwsError {
    AwsError::validation(format!(
        "1 validation error detected: Value {value} at '{member}' failed to satisfy constraint: {constraint}"
    ))
}

/// A required member that is missing.
pub fn not_null(member: &str) -> AwsError {
    constraint(member, "null", "Member must not be null")
}

impl Ctx<'_> {
    pub fn param(&self, i: usize) -> &str {
        self.params.get(i).map(String::as_str).unwrap_or_default()
    }

    pub fn body_str(&self, member: &str) -> Option<&str> {
        self.body.get(member).and_then(Value::as_str)
    }

    /// A required body string of `min..=max` characters.
    pub fn required(&self, member: &str, min: usize, max: usize) -> AwsResult<String> {
        match self.body.get(member) {
            None | Some(Value::Null) => Err(not_null(member)),
            Some(Value::String(s)) => check_length(member, s, min, max).map(|_| s.clone()),
            Some(_) => Err(AwsError::validation(format!("{member} must be a string"))),
        }
    }

    /// An optional body string of `min..=max` characters.
    pub fn optional(&self, member: &str, min: usize, max: usize) -> AwsResult<Option<String>> {
        match self.body.get(member) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => check_length(member, s, min, max).map(|_| Some(s.clone())),
            Some(_) => Err(AwsError::validation(format!("{member} must be a string"))),
        }
    }

    pub fn query(&self, name: &str) -> Option<&str> {
        self.query.get(name).map(String::as_str)
    }

    /// The client token, for idempotent creates.
    pub fn client_token(&self) -> Option<String> {
        self.body_str("clientToken").or_else(|| self.query("clientToken")).map(str::to_string)
    }

    /// The client token checked against the model's `ClientToken` (1..=128 of `[\x21-\x7E]`).
    pub fn checked_client_token(&self) -> AwsResult<Option<String>> {
        let token = self.optional("clientToken", 1, 128)?;
        if let Some(t) = &token {
            check_pattern("clientToken", t, t.bytes().all(|b| (0x21..=0x7e).contains(&b)), "^[\\x21-\\x7E]+$")?;
        }
        Ok(token)
    }

    /// An optional enum member of the body.
    pub fn optional_enum(&self, member: &str, allowed: &[&'static str]) -> AwsResult<Option<&'static str>> {
        match self.optional(member, 1, 64)? {
            None => Ok(None),
            Some(v) => {
                check_enum(member, &v, allowed)?;
                Ok(allowed.iter().copied().find(|a| *a == v))
            }
        }
    }

    /// An optional body list of IDs (`[a-zA-Z0-9_-]{1,36}` each) of `min..=max` items.
    pub fn optional_ids(&self, member: &str, min: usize, max: usize) -> AwsResult<Option<Vec<String>>> {
        ids_at(self.body.get(member), member, min, max)
    }
}

/// A list of IDs at `raw` (named `member` in errors) of `min..=max` items, when present.
pub fn ids_at(raw: Option<&Value>, member: &str, min: usize, max: usize) -> AwsResult<Option<Vec<String>>> {
    let items = match raw {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(AwsError::validation(format!("{member} must be a list"))),
    };
    check_list(member, items.len(), min, max)?;
    let mut ids = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = format!("{member}.{}.member", i + 1);
        let id = item.as_str().ok_or_else(|| AwsError::validation(format!("{at} must be a string")))?;
        check_id(&at, id)?;
        ids.push(id.to_string());
    }
    Ok(Some(ids))
}

/// A list member of `min..=max` items.
pub fn check_list(member: &str, items: usize, min: usize, max: usize) -> AwsResult<()> {
    if items < min || items > max {
        let bound = if items < min {
            format!("greater than or equal to {min}")
        } else {
            format!("less than or equal to {max}")
        };
        return Err(constraint(member, &format!("list of {items} items"), &format!("Member must have length {bound}")));
    }
    Ok(())
}

pub fn check_length(member: &str, s: &str, min: usize, max: usize) -> AwsResult<()> {
    let n = s.chars().count();
    if n < min || n > max {
        let bound =
            if n < min { format!("greater than or equal to {min}") } else { format!("less than or equal to {max}") };
        return Err(constraint(member, &format!("'{s}'"), &format!("Member must have length {bound}")));
    }
    Ok(())
}

pub fn check_pattern(member: &str, s: &str, ok: bool, pattern: &str) -> AwsResult<()> {
    if ok {
        Ok(())
    } else {
        Err(constraint(
            member,
            &format!("'{s}'"),
            &format!("Member must satisfy regular expression pattern: {pattern}"),
        ))
    }
}

pub fn check_enum(member: &str, s: &str, allowed: &[&str]) -> AwsResult<()> {
    if allowed.contains(&s) {
        Ok(())
    } else {
        Err(constraint(
            member,
            &format!("'{s}'"),
            &format!("Member must satisfy enum value set: [{}]", allowed.join(", ")),
        ))
    }
}

/// The model's pattern of a Secrets Manager secret ARN (data sources, connections).
pub const SECRET_ARN: &str = r"^arn:aws[^:]*:secretsmanager:[a-z]{2}-?(iso|gov)?-{1}[a-z]*-{1}[0-9]:\d{12}:secret:.*$";

pub use crate::patterns::matches;

pub fn check_id(member: &str, s: &str) -> AwsResult<()> {
    check_pattern(member, s, is_resource_id(s), "^[a-zA-Z0-9_-]{1,36}$")
}

/// `[\w -]+` of 1..=64: names of projects, profiles and environments.
pub fn check_name64(member: &str, s: &str) -> AwsResult<()> {
    check_length(member, s, 1, 64)?;
    check_pattern(member, s, crate::fixture::is_project_name(s), "^[\\w -]+$")
}

pub fn is_role_arn(s: &str) -> bool {
    s.starts_with("arn:aws")
        && s.split(':').nth(2) == Some("iam")
        && crate::fixture::account_of(s).is_some()
        && s.contains(":role/")
}

// ---- access ----

/// The domain, when the caller's account owns it or is associated with it. A missing domain and
/// a foreign one answer the same 403 (docs/datazone-semantics.md §1).
pub fn domain<'s>(state: &'s State, ctx: &Ctx) -> AwsResult<&'s Domain> {
    let id = ctx.param(0);
    state
        .domains
        .get(id)
        .filter(|d| d.account == ctx.caller.account || d.associated.contains(&ctx.caller.account))
        .ok_or_else(|| AwsError::access_denied(ctx.op))
}

pub fn domain_mut<'s>(state: &'s mut State, ctx: &Ctx) -> AwsResult<&'s mut Domain> {
    domain(state, ctx)?;
    state.domains.get_mut(ctx.param(0)).ok_or_else(|| AwsError::access_denied(ctx.op))
}

/// Refuses what a domain of the other generation does not have.
pub fn require_version(domain: &Domain, version: DomainVersion, message: &str) -> AwsResult<()> {
    if domain.version == version { Ok(()) } else { Err(AwsError::validation(message)) }
}

/// Long-term principals of the domain's own account administer it.
pub fn is_domain_admin(domain: &Domain, caller: &Caller) -> bool {
    caller.is_static && caller.account == domain.account
}

pub fn is_member(domain: &Domain, project: &Project, caller: &Caller) -> bool {
    is_domain_admin(domain, caller) || project.members.contains_key(&caller.principal_arn)
}

/// The project by ID or name, when the caller is a member of it.
pub fn member_project<'s>(domain: &'s Domain, identifier: &str, ctx: &Ctx) -> AwsResult<&'s Project> {
    let project = domain
        .projects
        .get(identifier)
        .or_else(|| domain.projects.values().find(|p| p.name == identifier))
        .ok_or_else(|| AwsError::not_found(format!("Project {identifier} was not found")))?;
    if is_member(domain, project, ctx.caller) { Ok(project) } else { Err(AwsError::access_denied(ctx.op)) }
}

// ---- pagination ----

/// One page of `items`. The token carries the offset and a fingerprint of the request's
/// filters, so a token from another listing is refused, as DataZone refuses it.
pub fn page<T>(items: Vec<T>, ctx: &Ctx, max_limit: usize, fingerprint: &str) -> AwsResult<(Vec<T>, Option<String>)> {
    let max_results = match ctx.query("maxResults").map(|v| (v, v.parse::<usize>())) {
        None => max_limit,
        Some((_, Ok(n))) if (1..=max_limit).contains(&n) => n,
        Some((v, _)) => {
            return Err(constraint(
                "maxResults",
                v,
                &format!("Member must have value less than or equal to {max_limit}"),
            ));
        }
    };
    page_with(items, ctx.query("nextToken"), max_results, &format!("{}|{fingerprint}", ctx.op))
}

pub fn page_with<T>(
    items: Vec<T>,
    token: Option<&str>,
    max_results: usize,
    fingerprint: &str,
) -> AwsResult<(Vec<T>, Option<String>)> {
    let start = match token {
        None => 0,
        Some(token) => {
            decode_token(token, fingerprint).ok_or_else(|| AwsError::validation("The nextToken provided is invalid"))?
        }
    };
    let total = items.len();
    let page: Vec<T> = items.into_iter().skip(start).take(max_results).collect();
    let next = start + page.len();
    let token = (next < total).then(|| encode_token(next, fingerprint));
    Ok((page, token))
}

fn encode_token(offset: usize, fingerprint: &str) -> String {
    let raw = format!("{offset}:{:016x}", crate::stable_hash(fingerprint));
    raw.bytes().map(|b| format!("{b:02x}")).collect()
}

fn decode_token(token: &str, fingerprint: &str) -> Option<usize> {
    if !token.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> =
        (0..token.len()).step_by(2).map(|i| u8::from_str_radix(&token[i..i + 2], 16).ok()).collect();
    let raw = String::from_utf8(bytes?).ok()?;
    let (offset, hash) = raw.split_once(':')?;
    (hash == format!("{:016x}", crate::stable_hash(fingerprint))).then(|| offset.parse().ok())?
}

/// `{"items": [...], "nextToken": ...}`.
pub fn items_page(items: Vec<Value>, token: Option<String>) -> Value {
    let mut out = json!({ "items": items });
    if let Some(token) = token {
        out["nextToken"] = json!(token);
    }
    out
}

/// Inserts `value` under `key` when it is `Some`.
pub fn put_opt(target: &mut Value, key: &str, value: Option<impl Into<Value>>) {
    if let Some(v) = value {
        target[key] = v.into();
    }
}

/// The filters the subscription listings share (ListSubscriptions, ListSubscriptionRequests,
/// ListSubscriptionGrants), checked: each ID filter's
/// value, `sortBy` (CREATED_AT, the default, or UPDATED_AT) and `sortOrder` (ASCENDING, the
/// default, or DESCENDING) [inferred: the default order].
pub struct Filters<'c> {
    query: &'c HashMap<String, String>,
    pub sort_by: &'c str,
    pub descending: bool,
    /// An owning user, group or IAM principal is asked for: none is a subscriber in the emulator.
    pub by_principal: bool,
}

impl<'c> Filters<'c> {
    pub fn read(ctx: &'c Ctx, ids: &[&str]) -> AwsResult<Self> {
        for key in ids {
            if let Some(v) = ctx.query(key) {
                check_id(key, v)?;
            }
        }
        let sort_by = ctx.query("sortBy").unwrap_or("CREATED_AT");
        check_enum("sortBy", sort_by, &["CREATED_AT", "UPDATED_AT"])?;
        let order = ctx.query("sortOrder").unwrap_or("ASCENDING");
        check_enum("sortOrder", order, &["ASCENDING", "DESCENDING"])?;
        let by_principal =
            ["owningIamPrincipalArn", "owningUserId", "owningGroupId"].iter().any(|k| ctx.query(k).is_some());
        Ok(Self { query: &ctx.query, sort_by, descending: order == "DESCENDING", by_principal })
    }

    /// Whether the query's `key`, if given, is `value`.
    pub fn matches(&self, key: &str, value: &str) -> bool {
        self.query.get(key).is_none_or(|v| v == value)
    }

    /// `items` in the asked order, by their (created, updated) times, ties by ID.
    pub fn sort<T>(&self, items: &mut [T], key: impl Fn(&T) -> (Instant, Instant, String)) {
        let by_updated = self.sort_by == "UPDATED_AT";
        items.sort_by_key(|t| {
            let (created, updated, id) = key(t);
            (if by_updated { updated } else { created }, id)
        });
        if self.descending {
            items.reverse();
        }
    }

    /// The query, for the page token's fingerprint.
    pub fn fingerprint(&self) -> String {
        let mut query: Vec<_> = self.query.iter().filter(|(k, _)| *k != "nextToken" && *k != "maxResults").collect();
        query.sort();
        format!("{query:?}")
    }
}
