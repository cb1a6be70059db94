//! Connections, a V2 (Amazon SageMaker Unified Studio) resource: only REDSHIFT connections are
//! emulated. A connection is created in an environment and belongs to that environment's project
//! [inferred]; data sources read through it (`data_sources.rs`), and their runs import through it
//! as it is when they start (`runs.rs`).

use serde_json::{Map, Value, json};

use super::request::{
    Ctx, SECRET_ARN, check_enum, check_id, check_length, check_pattern, domain, is_member, items_page, matches,
    member_project, not_null, page, put_opt, require_version,
};
use crate::error::{AwsError, AwsResult};
use crate::fixture::{is_account, is_region};
use crate::state::{Connection, Credentials, DomainVersion, LineageSync, State, Storage};

const CONNECTION_TYPES: &[&str] = &[
    "ATHENA",
    "BIGQUERY",
    "DATABRICKS",
    "DOCUMENTDB",
    "DYNAMODB",
    "HYPERPOD",
    "IAM",
    "MYSQL",
    "OPENSEARCH",
    "ORACLE",
    "POSTGRESQL",
    "REDSHIFT",
    "S3",
    "SAPHANA",
    "SNOWFLAKE",
    "SPARK",
    "SQLSERVER",
    "TERADATA",
    "VERTICA",
    "WORKFLOWS_MWAA",
    "AMAZON_Q",
    "MLFLOW",
    "VPC",
    "GIT",
    "ICEBERGRESTCATALOG",
    "SNOWFLAKEICEBERGRESTCATALOG",
    "DATABRICKSICEBERGRESTCATALOG",
    "WORKDAYICEBERGRESTCATALOG",
    "WORKDAYLDQ",
];
const SCOPES: &[&str] = &["DOMAIN", "PROJECT"];

/// The model's `LineageSyncScheduleScheduleString` (searched, as Smithy patterns are).
const LINEAGE_SCHEDULE: &str = r"cron\((\b[0-5]?[0-9]\b) (\b2[0-3]\b|\b[0-1]?[0-9]\b) ([-?*,/\dLW]){1,83} ([-*,/\d]|[a-zA-Z]{3}){1,23} ([-?#*,/\dL]|[a-zA-Z]{3}){1,13} ([^\)]+)\)";
/// The model's `AwsLocationAccessRoleString`.
const ACCESS_ROLE: &str = r"^arn:aws[^:]*:iam::\d{12}:(role|role/service-role)/[\w+=,.@-]*$";

/// A connection as CreateConnection, GetConnection and UpdateConnection answer it, or as a
/// ListConnections item (`summary`: ConnectionSummary has no description).
pub fn connection_json(c: &Connection, domain_unit_id: &str, summary: bool) -> Value {
    let mut location = json!({"awsAccountId": c.account, "awsRegion": c.region});
    put_opt(&mut location, "accessRole", c.access_role.clone());
    put_opt(&mut location, "iamConnectionId", c.iam_connection_id.clone());
    let (host, port) = (c.host(), c.port());
    let storage = match &c.storage {
        Storage::Cluster(n) => json!({"clusterName": n}),
        Storage::Workgroup(n) => json!({"workgroupName": n}),
    };
    let mut props = json!({
        "storage": storage, "databaseName": c.database, "isProvisionedSecret": false,
        "jdbcUrl": format!("jdbc:redshift://{host}:{port}/{}", c.database), "status": "READY",
    });
    // A secret is named; a password is never echoed [inferred].
    if let Some(arn) = c.secret_arn() {
        props["credentials"] = json!({"secretArn": arn});
    }
    if let Some(l) = &c.lineage {
        let mut lineage = json!({"enabled": l.enabled});
        put_opt(&mut lineage, "schedule", l.schedule.as_ref().map(|s| json!({"schedule": s})));
        put_opt(&mut lineage, "lineageJobId", l.job_id.clone());
        props["lineageSync"] = lineage;
    }
    let mut v = json!({
        "connectionId": c.id, "domainId": c.domain_id, "domainUnitId": domain_unit_id, "name": c.name,
        "type": "REDSHIFT", "projectId": c.project_id, "environmentId": c.environment_id, "scope": c.scope,
        "physicalEndpoints": [{"awsLocation": location, "host": host, "port": port, "protocol": "JDBC"}],
        "props": {"redshiftProperties": props},
    });
    if !summary {
        put_opt(&mut v, "description", c.description.clone());
    }
    v
}

// ---- parsing ----

/// `awsLocation`: each member when present.
#[derive(Default)]
struct Location {
    account: Option<String>,
    region: Option<String>,
    access_role: Option<String>,
    iam_connection_id: Option<String>,
}

fn parse_location(raw: Option<&Value>) -> AwsResult<Location> {
    let Some(raw) = raw.filter(|v| !v.is_null()) else { return Ok(Location::default()) };
    let account = string(raw, "awsAccountId", 0, 12)?;
    if let Some(a) = &account {
        check_pattern("awsAccountId", a, is_account(a), "\\d{12}")?;
    }
    let region = string(raw, "awsRegion", 0, 16)?;
    if let Some(r) = &region {
        check_pattern("awsRegion", r, is_region(r), "[a-z]{2}-[a-z]{4,10}-\\d")?;
    }
    let access_role = string(raw, "accessRole", 0, 2048)?;
    if let Some(r) = &access_role {
        check_pattern("accessRole", r, matches(ACCESS_ROLE, r), ACCESS_ROLE)?;
    }
    let iam_connection_id = string(raw, "iamConnectionId", 0, 128)?;
    Ok(Location { account, region, access_role, iam_connection_id })
}

/// An optional string member of `raw` of `min..=max` characters.
fn string(raw: &Value, member: &str, min: usize, max: usize) -> AwsResult<Option<String>> {
    match raw.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => check_length(member, s, min, max).map(|_| Some(s.clone())),
        Some(_) => Err(AwsError::validation(format!("{member} must be a string"))),
    }
}

/// `redshiftProperties` of a create or a patch: each member when present.
#[derive(Default)]
struct Redshift {
    storage: Option<Storage>,
    database: Option<String>,
    host: Option<String>,
    port: Option<i64>,
    credentials: Option<Credentials>,
    /// (enabled, schedule) as given.
    lineage: Option<(Option<bool>, Option<String>)>,
}

/// `props.redshiftProperties`; any other connection type is refused.
fn parse_props(props: &Value) -> AwsResult<Redshift> {
    let empty = Map::new();
    let members = props.as_object().unwrap_or(&empty);
    if let Some(other) = members.keys().find(|k| *k != "redshiftProperties") {
        return Err(AwsError::validation(format!(
            "Connection props {other} are not emulated: the emulator supports redshiftProperties only"
        )));
    }
    let rp = members.get("redshiftProperties").ok_or_else(|| not_null("redshiftProperties"))?;
    let storage = match rp.get("storage").filter(|v| !v.is_null()) {
        None => None,
        Some(s) => Some(match (string(s, "clusterName", 1, 256)?, string(s, "workgroupName", 1, 256)?) {
            (Some(c), None) => Storage::Cluster(c),
            (None, Some(w)) => Storage::Workgroup(w),
            _ => return Err(AwsError::validation("storage must set exactly one of clusterName or workgroupName")),
        }),
    };
    // The model allows an empty database name; a connection without one reads nothing [inferred].
    let database = string(rp, "databaseName", 1, 256)?;
    let host = string(rp, "host", 0, 256)?;
    let port = match rp.get("port") {
        None | Some(Value::Null) => None,
        // The model's Integer: 32 bits.
        Some(p) => Some(
            p.as_i64()
                .filter(|n| i32::try_from(*n).is_ok())
                .ok_or_else(|| AwsError::validation("port must be an integer"))?,
        ),
    };
    let credentials = match rp.get("credentials").filter(|v| !v.is_null()) {
        None => None,
        Some(c) => Some(match (string(c, "secretArn", 0, 2048)?, c.get("usernamePassword").filter(|v| !v.is_null())) {
            (Some(arn), None) => {
                check_pattern("secretArn", &arn, matches(SECRET_ARN, &arn), SECRET_ARN)?;
                Credentials::Secret(arn)
            }
            (None, Some(up)) => Credentials::UsernamePassword {
                username: string(up, "username", 1, 64)?.ok_or_else(|| not_null("username"))?,
                password: string(up, "password", 1, 64)?.ok_or_else(|| not_null("password"))?,
            },
            _ => {
                return Err(AwsError::validation("credentials must set exactly one of secretArn or usernamePassword"));
            }
        }),
    };
    let lineage = match rp.get("lineageSync").filter(|v| !v.is_null()) {
        None => None,
        Some(l) => {
            let enabled = match l.get("enabled") {
                None | Some(Value::Null) => None,
                Some(e) => Some(e.as_bool().ok_or_else(|| AwsError::validation("enabled must be a boolean"))?),
            };
            let schedule = match l.get("schedule").filter(|v| !v.is_null()) {
                None => None,
                Some(s) => string(s, "schedule", 0, 256)?,
            };
            if let Some(cron) = &schedule {
                check_pattern("schedule", cron, matches(LINEAGE_SCHEDULE, cron), LINEAGE_SCHEDULE)?;
            }
            Some((enabled, schedule))
        }
    };
    Ok(Redshift { storage, database, host, port, credentials, lineage })
}

/// Lineage after a change: a job ID while enabled, a new one each time it is enabled again
/// [inferred]; what the change leaves out stays.
fn lineage_after(
    state: &State,
    before: Option<&LineageSync>,
    (enabled, schedule): (Option<bool>, Option<String>),
) -> LineageSync {
    let was_enabled = before.is_some_and(|l| l.enabled);
    let enabled = enabled.unwrap_or(was_enabled);
    let job_id = match (enabled, was_enabled) {
        (true, true) => before.and_then(|l| l.job_id.clone()),
        (true, false) => Some(state.ids.id()),
        (false, _) => None,
    };
    LineageSync { enabled, schedule: schedule.or_else(|| before.and_then(|l| l.schedule.clone())), job_id }
}

// ---- operations ----

pub fn create(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let name = ctx.required("name", 1, 64)?;
    let description = ctx.optional("description", 0, 128)?;
    let scope = ctx.optional("scope", 1, 16)?.unwrap_or_else(|| "PROJECT".into());
    check_enum("scope", &scope, SCOPES)?;
    let scope = if scope == "DOMAIN" { "DOMAIN" } else { "PROJECT" };
    // The model leaves the environment out; the emulator needs it to find the project [inferred].
    let environment_id = ctx.required("environmentIdentifier", 1, 36)?;
    check_id("environmentIdentifier", &environment_id)?;
    let location = parse_location(ctx.body.get("awsLocation"))?;
    let props = parse_props(ctx.body.get("props").filter(|v| !v.is_null()).ok_or_else(|| not_null("props"))?)?;
    // Storage, database and credentials are what the emulator reads through [inferred: required].
    let storage = props.storage.ok_or_else(|| not_null("storage"))?;
    let database = props.database.ok_or_else(|| not_null("databaseName"))?;
    let credentials = props.credentials.ok_or_else(|| not_null("credentials"))?;
    let d = domain(state, ctx)?;
    // [inferred] wording: connections are a V2 resource.
    require_version(d, DomainVersion::V2, "Connections are only supported in V2 domains")?;
    let environment = state
        .environments
        .get(&environment_id)
        .filter(|e| e.domain_id == d.id)
        .ok_or_else(|| AwsError::not_found(format!("Environment {environment_id} was not found")))?;
    let project_id = member_project(d, &environment.project_id, ctx)?.id.clone();
    let root = d.root_domain_unit_id.clone();
    let token_key = ctx.client_token().map(|t| ("CreateConnection", ctx.caller.principal_arn.clone(), t));
    if let Some(existing) =
        token_key.as_ref().and_then(|k| state.client_tokens.get(k)).and_then(|id| state.connections.get(id))
    {
        return Ok((201, connection_json(existing, &root, false)));
    }
    if environment.status != "ACTIVE" {
        return Err(AwsError::validation(format!(
            "Environment {environment_id} is {}, not ACTIVE",
            environment.status
        )));
    }
    // Names are unique within a project [inferred].
    if state.connections.values().any(|c| c.domain_id == d.id && c.project_id == project_id && c.name == name) {
        return Err(AwsError::conflict(format!("A connection named {name} already exists in this project")));
    }
    let connection = Connection {
        id: state.ids.id(),
        domain_id: d.id.clone(),
        project_id,
        environment_id: environment.id.clone(),
        name,
        description,
        scope,
        account: location.account.unwrap_or_else(|| environment.account.clone()),
        region: location.region.unwrap_or_else(|| environment.region.clone()),
        access_role: location.access_role,
        iam_connection_id: location.iam_connection_id,
        storage,
        database,
        host: props.host,
        host_label: state.ids.chars(b"abcdefghijklmnopqrstuvwxyz0123456789", 12),
        port: props.port,
        credentials,
        lineage: props.lineage.map(|l| lineage_after(state, None, l)),
        created_by: ctx.caller.principal_arn.clone(),
        created_at: ctx.now,
    };
    let out = connection_json(&connection, &root, false);
    let id = connection.id.clone();
    state.connections.insert(id.clone(), connection);
    if let Some(key) = token_key {
        state.client_tokens.insert(key, id);
    }
    Ok((201, out))
}

/// The connection in the request's domain whose project the caller is a member of, and the
/// domain's root unit.
fn member_connection<'s>(state: &'s State, ctx: &Ctx) -> AwsResult<(&'s Connection, String)> {
    let d = domain(state, ctx)?;
    let id = ctx.param(1);
    let c = state
        .connections
        .get(id)
        .filter(|c| c.domain_id == d.id)
        .ok_or_else(|| AwsError::not_found(format!("Connection {id} was not found")))?;
    member_project(d, &c.project_id, ctx)?;
    Ok((c, d.root_domain_unit_id.clone()))
}

/// `withSecret` is accepted and changes nothing: no connectionCredentials are issued [inferred].
pub fn get(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let (c, root) = member_connection(state, ctx)?;
    Ok((200, connection_json(c, &root, false)))
}

/// Connections of the projects the caller is a member of, in creation order or by name.
pub fn list(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let q = |k| ctx.query(k);
    for (member, allowed) in [("type", CONNECTION_TYPES), ("scope", SCOPES)] {
        if let Some(v) = q(member) {
            check_enum(member, v, allowed)?;
        }
    }
    if let Some(v) = q("sortBy") {
        check_enum("sortBy", v, &["NAME"])?;
    }
    let descending = match q("sortOrder") {
        None => false,
        Some(v) => {
            check_enum("sortOrder", v, &["ASCENDING", "DESCENDING"])?;
            v == "DESCENDING"
        }
    };
    let d = domain(state, ctx)?;
    // Naming a project the caller is not a member of is refused, as for the other listings.
    if let Some(p) = q("projectIdentifier").and_then(|p| d.projects.get(p))
        && !is_member(d, p, ctx.caller)
    {
        return Err(AwsError::access_denied(ctx.op));
    }
    let mut matching: Vec<&Connection> = state
        .connections
        .values()
        .filter(|c| c.domain_id == d.id)
        .filter(|c| d.projects.get(&c.project_id).is_some_and(|p| is_member(d, p, ctx.caller)))
        .filter(|c| q("projectIdentifier").is_none_or(|v| c.project_id == v))
        .filter(|c| q("environmentIdentifier").is_none_or(|v| c.environment_id == v))
        .filter(|c| q("name").is_none_or(|v| c.name == v))
        // Every emulated connection is a REDSHIFT one.
        .filter(|_| q("type").is_none_or(|v| v == "REDSHIFT"))
        .filter(|c| q("scope").is_none_or(|v| c.scope == v))
        .collect();
    if q("sortBy") == Some("NAME") {
        matching.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    } else {
        matching.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
    }
    if descending {
        matching.reverse();
    }
    let fingerprint = format!(
        "{:?}",
        [
            q("projectIdentifier"),
            q("environmentIdentifier"),
            q("name"),
            q("type"),
            q("scope"),
            q("sortBy"),
            q("sortOrder")
        ]
    );
    let (matching, token) = page(matching, ctx, 50, &fingerprint)?;
    let root = &d.root_domain_unit_id;
    let items = matching.into_iter().map(|c| connection_json(c, root, true)).collect();
    Ok((200, items_page(items, token)))
}

/// Changes what is given (description, location, Redshift properties); the rest stays.
pub fn update(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let description = ctx.optional("description", 1, 128)?;
    let location = parse_location(ctx.body.get("awsLocation"))?;
    let props = match ctx.body.get("props").filter(|v| !v.is_null()) {
        None => Redshift::default(),
        Some(p) => parse_props(p)?,
    };
    let (c, root) = member_connection(state, ctx)?;
    let mut c = c.clone();
    if description.is_some() {
        c.description = description;
    }
    c.account = location.account.unwrap_or(c.account);
    c.region = location.region.unwrap_or(c.region);
    c.access_role = location.access_role.or(c.access_role);
    c.iam_connection_id = location.iam_connection_id.or(c.iam_connection_id);
    c.storage = props.storage.unwrap_or(c.storage);
    c.database = props.database.unwrap_or(c.database);
    c.host = props.host.or(c.host);
    c.port = props.port.or(c.port);
    c.credentials = props.credentials.unwrap_or(c.credentials);
    if let Some(l) = props.lineage {
        c.lineage = Some(lineage_after(state, c.lineage.as_ref(), l));
    }
    let out = connection_json(&c, &root, false);
    state.connections.insert(c.id.clone(), c);
    Ok((200, out))
}

/// A connection a data source reads through stays [inferred]; DeleteConnectionOutput's optional
/// `status` says DELETED [inferred].
pub fn delete(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let (c, _) = member_connection(state, ctx)?;
    let id = c.id.clone();
    if state.data_sources.values().any(|ds| ds.connection_id.as_deref() == Some(id.as_str())) {
        return Err(AwsError::conflict(format!(
            "Connection {id} is used by data sources: delete them before the connection"
        )));
    }
    state.connections.remove(&id);
    Ok((202, json!({"status": "DELETED"})))
}
