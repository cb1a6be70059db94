//! The Redshift Data API over awsJson1.1: ListDatabases, ListSchemas and ListTables from the fake
//! catalog, authenticated with a Secrets Manager ARN plus a cluster or workgroup.

use serde_json::{Value, json};

use crate::error::{AwsError, AwsResult};
use crate::fixture::{RedshiftFixture, SchemaFixture};
use crate::state::{Caller, State};

/// SQL LIKE: `%` any run, `_` one character, everything else literal.
pub fn like(pattern: &str, s: &str) -> bool {
    fn go(p: &[char], s: &[char]) -> bool {
        match p.split_first() {
            None => s.is_empty(),
            Some(('%', rest)) => (0..=s.len()).any(|i| go(rest, &s[i..])),
            Some(('_', rest)) => !s.is_empty() && go(rest, &s[1..]),
            Some((c, rest)) => s.first() == Some(c) && go(rest, &s[1..]),
        }
    }
    let (p, s): (Vec<char>, Vec<char>) = (pattern.chars().collect(), s.chars().collect());
    go(&p, &s)
}

fn str_member<'v>(body: &'v Value, member: &str) -> Option<&'v str> {
    body.get(member).and_then(Value::as_str)
}

/// The cluster or workgroup the request names, in the caller's account and region.
fn source<'s>(state: &'s State, caller: &Caller, body: &Value) -> AwsResult<&'s RedshiftFixture> {
    let cluster = str_member(body, "ClusterIdentifier");
    let workgroup = str_member(body, "WorkgroupName");
    let name = match (cluster, workgroup) {
        (Some(c), None) => c,
        (None, Some(w)) => w,
        _ => return Err(AwsError::validation("Either ClusterIdentifier or WorkgroupName must be provided, not both")),
    };
    let secret = str_member(body, "SecretArn").ok_or_else(|| {
        AwsError::validation("SecretArn is required (the emulator authenticates to Redshift with a secret)")
    })?;
    if !state.secrets.contains(secret) {
        return Err(AwsError::validation(format!("Secrets Manager can't find the specified secret: {secret}")));
    }
    state
        .catalog
        .iter()
        .find(|r| {
            r.account_id == caller.account
                && r.region == caller.region
                && (cluster.is_some_and(|c| r.cluster_name.as_deref() == Some(c))
                    || workgroup.is_some_and(|w| r.workgroup_name.as_deref() == Some(w)))
        })
        .ok_or_else(|| {
            AwsError::new(
                "ResourceNotFoundException",
                400,
                format!("Redshift endpoint {name} was not found in this account and region"),
            )
        })
}

fn schemas<'s>(state: &'s State, caller: &Caller, body: &Value) -> AwsResult<&'s [SchemaFixture]> {
    let source = source(state, caller, body)?;
    let database = str_member(body, "Database").ok_or_else(|| AwsError::validation("Database is required"))?;
    source
        .databases
        .iter()
        .find(|d| d.name == database)
        .map(|d| d.schemas.as_slice())
        // Connecting to a database that does not exist [inferred error].
        .ok_or_else(|| {
            AwsError::new("DatabaseConnectionException", 500, format!("database \"{database}\" does not exist"))
        })
}

fn paged(items: Vec<Value>, body: &Value, key: &str, fingerprint: &str) -> AwsResult<Value> {
    let max = match body.get("MaxResults").and_then(Value::as_u64) {
        None | Some(0) => 1000,
        Some(n @ 1..=1000) => n as usize,
        Some(n) => return Err(AwsError::validation(format!("MaxResults {n} must be at most 1000"))),
    };
    let token = str_member(body, "NextToken").filter(|t| !t.is_empty());
    let (page, next) = crate::datazone::request::page_with(items, token, max, fingerprint)?;
    let mut out = json!({ key: page });
    if let Some(next) = next {
        out["NextToken"] = json!(next);
    }
    Ok(out)
}

pub fn handle(state: &State, caller: &Caller, operation: &str, body: &Value) -> AwsResult<Value> {
    let pattern = |member| str_member(body, member).unwrap_or("%");
    match operation {
        "ListDatabases" => {
            let source = source(state, caller, body)?;
            let names = source.databases.iter().map(|d| json!(d.name)).collect();
            paged(names, body, "Databases", "ListDatabases")
        }
        "ListSchemas" => {
            let names = schemas(state, caller, body)?
                .iter()
                .filter(|s| like(pattern("SchemaPattern"), &s.name))
                .map(|s| json!(s.name))
                .collect();
            paged(names, body, "Schemas", &format!("ListSchemas{}", pattern("SchemaPattern")))
        }
        "ListTables" => {
            let mut tables = Vec::new();
            for s in schemas(state, caller, body)?.iter().filter(|s| like(pattern("SchemaPattern"), &s.name)) {
                let objects = s.tables.iter().map(|t| (t, "TABLE")).chain(s.views.iter().map(|v| (v, "VIEW")));
                for (name, kind) in objects.filter(|(n, _)| like(pattern("TablePattern"), n)) {
                    tables.push(json!({"name": name, "schema": s.name, "type": kind}));
                }
            }
            paged(tables, body, "Tables", &format!("ListTables{}{}", pattern("SchemaPattern"), pattern("TablePattern")))
        }
        other => {
            Err(AwsError::new("UnknownOperationException", 400, format!("Unknown operation RedshiftData.{other}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::like;

    #[test]
    fn like_patterns() {
        assert!(like("%", "anything"));
        assert!(like("v\\_%", "v\\_x") || !like("v\\_%", "vx"));
        assert!(like("ord_rs", "orders"));
        assert!(like("%orders", "v_orders"));
        assert!(!like("orders", "orders2"));
        assert!(like("pub%", "public"));
    }
}
