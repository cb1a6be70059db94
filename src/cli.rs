//! Command line: `run`, `plan`, `crdgen`, `import-payload`. Every flag of `run` can also be set by an
//! environment variable (`DATAZONE_OPERATOR_<FLAG>`), as a Helm chart sets them. Bad values are
//! refused at parse time with exit status 2, before anything starts.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::controller::decide::environment_room::ENVIRONMENTS_PER_DOMAIN;
use crate::crd::patterns as p;
use crate::crd::{ConnectionKind, DeletionPolicy};
use crate::naming::{is_dns1123_label, is_dns1123_subdomain};

#[derive(Debug, Parser)]
#[command(
    name = "datazone-operator",
    version,
    about = "Kubernetes operator that publishes Amazon Redshift tables and views into an Amazon DataZone catalog"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the controller.
    Run(RunArgs),
    /// Print the CustomResourceDefinitions as multi-document YAML (or write one file per CRD).
    Crdgen(CrdgenArgs),
    /// Turn the reference architecture's registration payload into RedshiftDataProduct manifests.
    ImportPayload(ImportPayloadArgs),
    /// Show what `run` would do in DataZone for data products, without doing it (read-only).
    /// Exit status: 0 nothing would change, 2 something would, 1 an error.
    Plan(PlanArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Json,
    Text,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub scope: Scope,

    /// Address of the Prometheus `/metrics` endpoint.
    #[arg(long, env = "DATAZONE_OPERATOR_METRICS_ADDR", default_value = "0.0.0.0:8080")]
    pub metrics_addr: SocketAddr,

    /// Address of the `/healthz` and `/readyz` endpoints.
    #[arg(long, env = "DATAZONE_OPERATOR_HEALTH_ADDR", default_value = "0.0.0.0:8081")]
    pub health_addr: SocketAddr,

    /// How often every data product is checked against DataZone (drift detection), e.g. 10m, 90s, 1h.
    #[arg(long, env = "DATAZONE_OPERATOR_RESYNC_INTERVAL", default_value = "10m", value_parser = parse_duration)]
    pub resync_interval: Duration,

    /// How long waits for something in progress are (an environment, a data source, a run): the
    /// first look comes after half of it, the next after three times it, then every 45 s.
    #[arg(long, env = "DATAZONE_OPERATOR_POLL_INTERVAL", default_value = "5s", value_parser = parse_duration)]
    pub poll_interval: Duration,

    /// Only reconcile while holding a Lease (run several replicas safely).
    #[arg(long, env = "DATAZONE_OPERATOR_LEADER_ELECT")]
    pub leader_elect: bool,

    /// Namespace of the leader-election Lease (default: the pod's namespace, or `default`).
    #[arg(long, env = "DATAZONE_OPERATOR_LEADER_ELECTION_NAMESPACE", value_parser = parse_namespace)]
    pub leader_election_namespace: Option<String>,

    /// Name of the leader-election Lease.
    #[arg(long, env = "DATAZONE_OPERATOR_LEADER_ELECTION_LEASE", default_value = "datazone-operator", value_parser = parse_object_name)]
    pub leader_election_lease: String,

    /// How long a Lease holds without renewal; a standby takes over after it.
    #[arg(long, env = "DATAZONE_OPERATOR_LEASE_DURATION", default_value = "15s", value_parser = parse_duration)]
    pub lease_duration: Duration,

    /// How many data products are reconciled at the same time.
    #[arg(long, env = "DATAZONE_OPERATOR_CONCURRENCY", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,

    /// Calls a second to DataZone per account, region and operation to start from (an operation
    /// DataZone documents a lower quota for starts there; once a pace was refused, a new operation
    /// starts at the share it learnt if lower). The operator paces its calls and adapts each pace:
    /// up while data products wait for it, down when DataZone throttles.
    #[arg(long, env = "DATAZONE_OPERATOR_DATAZONE_PACE", default_value_t = 20.0, value_parser = parse_pace)]
    pub datazone_pace: f64,

    /// Log line format.
    #[arg(long, env = "DATAZONE_OPERATOR_LOG_FORMAT", value_enum, default_value_t = LogFormat::Json)]
    pub log_format: LogFormat,
}

/// Which data products the operator handles, and the cluster name in their data sources' names:
/// `run` and `plan` take the same, so `plan` sees exactly what `run` would do.
#[derive(Debug, Args)]
pub struct Scope {
    /// Namespaces to watch, comma separated; all namespaces when empty.
    #[arg(long, short = 'n', env = "DATAZONE_OPERATOR_NAMESPACES", value_delimiter = ',', value_parser = parse_namespace)]
    pub namespaces: Vec<String>,

    /// Label selector: only RedshiftDataProducts matching it are handled (e.g. `team=sales,tier!=dev`).
    #[arg(long, env = "DATAZONE_OPERATOR_SELECTOR", value_parser = parse_label_selector)]
    pub selector: Option<String>,

    /// Name of this Kubernetes cluster, part of every DataZone data source name so that two
    /// clusters publishing into one project never collide. Set it per cluster.
    #[arg(long, env = "DATAZONE_OPERATOR_CLUSTER_NAME", default_value = DEFAULT_CLUSTER_NAME, value_parser = parse_cluster_name)]
    pub cluster_name: String,
}

/// `plan`'s output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanOutput {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// RedshiftDataProduct manifests to plan (a file, or `-` for standard input); each is planned
    /// against the live object of its namespace and name, when there is one.
    #[arg(short = 'f', long = "filename", value_name = "FILE", required_unless_present = "all")]
    pub filename: Option<String>,

    /// Plan the cluster's live RedshiftDataProducts (in --namespaces, matching --selector).
    #[arg(long, conflicts_with = "filename")]
    pub all: bool,

    #[command(flatten)]
    pub scope: Scope,

    /// Calls a second to DataZone per account and region (as `run --datazone-pace`).
    #[arg(long, env = "DATAZONE_OPERATOR_DATAZONE_PACE", default_value_t = 20.0, value_parser = parse_pace)]
    pub datazone_pace: f64,

    /// `text` for people, `json` for machines.
    #[arg(long, short = 'o', value_enum, default_value_t = PlanOutput::Text)]
    pub output: PlanOutput,

    /// The environments a domain may hold (DataZone's quota, 500 unless it was raised): the plan
    /// warns when its new environments fill it or come near.
    #[arg(long, env = "DATAZONE_OPERATOR_ENVIRONMENTS_PER_DOMAIN", default_value_t = ENVIRONMENTS_PER_DOMAIN, value_parser = parse_environments)]
    pub environments_per_domain: usize,
}

/// A quota of environments: a whole number of at least 1.
fn parse_environments(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("expected a number of environments of at least 1, got {s:?}")),
    }
}

/// The `--cluster-name` default; `run` warns when it is used.
pub const DEFAULT_CLUSTER_NAME: &str = "default";

#[derive(Debug, Args)]
pub struct CrdgenArgs {
    /// Write one file per CRD into this directory instead of printing them.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,

    /// Also write the Helm chart's CRD templates into this directory.
    #[arg(long, value_name = "DIR")]
    pub chart_dir: Option<PathBuf>,

    /// Also write the API reference (Markdown, one table per kind) to this file.
    #[arg(long, value_name = "FILE")]
    pub api_reference: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ConnectionKindArg {
    #[value(name = "DataZoneConnection")]
    DataZoneConnection,
    #[value(name = "ClusterDataZoneConnection")]
    ClusterDataZoneConnection,
}

impl From<ConnectionKindArg> for ConnectionKind {
    fn from(kind: ConnectionKindArg) -> Self {
        match kind {
            ConnectionKindArg::DataZoneConnection => ConnectionKind::DataZoneConnection,
            ConnectionKindArg::ClusterDataZoneConnection => ConnectionKind::ClusterDataZoneConnection,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DeletionPolicyArg {
    #[value(name = "Retain")]
    Retain,
    #[value(name = "Delete")]
    Delete,
    #[value(name = "Retire")]
    Retire,
}

impl From<DeletionPolicyArg> for DeletionPolicy {
    fn from(policy: DeletionPolicyArg) -> Self {
        match policy {
            DeletionPolicyArg::Retain => DeletionPolicy::Retain,
            DeletionPolicyArg::Delete => DeletionPolicy::Delete,
            DeletionPolicyArg::Retire => DeletionPolicy::Retire,
        }
    }
}

#[derive(Debug, Args)]
pub struct ImportPayloadArgs {
    /// The payload JSON file, or `-` for standard input.
    #[arg(value_name = "FILE|-")]
    pub input: String,

    /// Name of the connection the data products use.
    #[arg(long, value_parser = parse_object_name)]
    pub connection: String,

    /// Kind of that connection.
    #[arg(long, value_enum, default_value_t = ConnectionKindArg::DataZoneConnection)]
    pub connection_kind: ConnectionKindArg,

    /// DataZone project (name or ID) to publish into.
    #[arg(long, value_parser = parse_project)]
    pub project: String,

    /// ARN of the Secrets Manager secret with the Redshift credentials (what the reference keeps
    /// in an SSM parameter).
    #[arg(long, value_parser = parse_secret_arn)]
    pub credentials_secret_arn: String,

    /// Namespace of the data products; left out of the manifests when not given.
    #[arg(long, value_parser = parse_namespace)]
    pub namespace: Option<String>,

    /// What deleting a data product does to its DataZone data source.
    #[arg(long, value_enum, default_value_t = DeletionPolicyArg::Retain)]
    pub deletion_policy: DeletionPolicyArg,

    /// Also make each dataset one DataZone data product (`spec.dataProduct: {}`), named after it:
    /// what a consumer finds and subscribes to as one.
    #[arg(long)]
    pub data_product: bool,

    /// Look in the project for the data sources these datasets already have (made by the
    /// reference Lambda or by hand) and write `spec.adopt` for each dataset exactly one REDSHIFT
    /// data source reads the cluster and database of; candidates in a comment when several do.
    /// Read-only DataZone calls, as `--role-arn` (the connection's settings).
    #[arg(long, requires_all = ["region", "domain", "role_arn"])]
    pub discover: bool,

    /// With --discover: the DataZone domain's region.
    #[arg(long, requires = "discover", value_parser = parse_region)]
    pub region: Option<String>,

    /// With --discover: the DataZone domain, by name or ID.
    #[arg(long, requires = "discover")]
    pub domain: Option<String>,

    /// With --discover: the role to assume for DataZone (the connection's roleArn).
    #[arg(long, requires = "discover", value_parser = parse_role_arn)]
    pub role_arn: Option<String>,

    /// With --discover: the ExternalId the role's trust policy asks for (the connection's externalId).
    #[arg(long, requires = "discover")]
    pub external_id: Option<String>,
}

pub fn parse_namespace(s: &str) -> Result<String, String> {
    let s = s.trim();
    if is_dns1123_label(s) {
        Ok(s.to_string())
    } else {
        Err(format!("{s:?} is not a namespace name (lowercase letters, digits and '-', at most 63)"))
    }
}

pub fn parse_object_name(s: &str) -> Result<String, String> {
    if is_dns1123_subdomain(s) {
        Ok(s.to_string())
    } else {
        Err(format!("{s:?} is not a Kubernetes object name (DNS-1123 subdomain)"))
    }
}

fn parse_cluster_name(s: &str) -> Result<String, String> {
    if is_dns1123_label(s) && s.len() <= 40 {
        Ok(s.to_string())
    } else {
        Err(format!("{s:?} is not a cluster name (lowercase letters, digits and '-', at most 40)"))
    }
}

fn parse_project(s: &str) -> Result<String, String> {
    if !s.is_empty() && s.len() <= p::PROJECT_NAME_MAX as usize && p::is_match(p::PROJECT_NAME_OR_ID, s) {
        Ok(s.to_string())
    } else {
        Err(format!("{s:?} is not a DataZone project name or ID (letters, digits, '_', '-', ' ', at most 64)"))
    }
}

fn parse_region(s: &str) -> Result<String, String> {
    if p::is_match(p::REGION, s) {
        Ok(s.to_string())
    } else {
        Err(format!("{s:?} is not an AWS region (e.g. eu-central-1)"))
    }
}

fn parse_role_arn(s: &str) -> Result<String, String> {
    if p::is_match(p::IAM_ROLE_ARN, s) {
        Ok(s.to_string())
    } else {
        Err(format!("{s:?} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)"))
    }
}

fn parse_secret_arn(s: &str) -> Result<String, String> {
    if s.len() <= p::SECRETS_MANAGER_ARN_MAX as usize && p::is_match(p::SECRETS_MANAGER_ARN, s) {
        Ok(s.to_string())
    } else {
        Err(format!(
            "{s:?} is not a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)"
        ))
    }
}

/// A starting pace for DataZone calls, within what the pacer keeps to (1–1000 a second).
fn parse_pace(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if (1.0..=1000.0).contains(&v) => Ok(v),
        _ => Err(format!("{s:?} is not a pace: calls a second from 1 to 1000")),
    }
}

/// Parses durations such as `90s`, `10m`, `1h30m`, `500ms`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let invalid = || format!("{s:?} is not a duration (examples: 30s, 10m, 1h30m)");
    let mut total = Duration::ZERO;
    let mut rest = s.trim();
    if rest.is_empty() {
        return Err(invalid());
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(invalid)?;
        let value: u64 = rest[..digits].parse().map_err(|_| invalid())?;
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let unit = match &rest[..unit_len] {
            "ms" => Duration::from_millis(1),
            "s" => Duration::from_secs(1),
            "m" => Duration::from_secs(60),
            "h" => Duration::from_secs(3600),
            _ => return Err(invalid()),
        };
        total += unit.checked_mul(u32::try_from(value).map_err(|_| invalid())?).ok_or_else(invalid)?;
        rest = &rest[unit_len..];
    }
    if total < Duration::from_secs(1) {
        return Err(format!("{s:?} is too short: at least 1s"));
    }
    Ok(total)
}

/// Checks a label selector in the API server's syntax (`a=b`, `a==b`, `a!=b`, `a`, `!a`,
/// `a in (x,y)`, `a notin (x)`), so a typo stops `run` at start instead of failing every watch.
pub fn parse_label_selector(s: &str) -> Result<String, String> {
    let invalid = |why: &str| format!("{s:?} is not a label selector: {why}");
    for requirement in split_requirements(s) {
        let r = requirement.trim();
        if r.is_empty() {
            return Err(invalid("empty requirement"));
        }
        let (key, values) = if let Some(key) = r.strip_prefix('!') {
            (key.trim(), vec![])
        } else if let Some((key, set)) = split_set_operator(r) {
            let inner = set
                .trim()
                .strip_prefix('(')
                .and_then(|x| x.strip_suffix(')'))
                .ok_or_else(|| invalid("a set needs parentheses, e.g. env in (dev,prod)"))?;
            (key, inner.split(',').map(str::trim).collect())
        } else if let Some((key, value)) =
            r.split_once("!=").or_else(|| r.split_once("==")).or_else(|| r.split_once('='))
        {
            (key.trim(), vec![value.trim()])
        } else {
            (r, vec![])
        };
        if !is_label_key(key) {
            return Err(invalid(&format!("{key:?} is not a label key")));
        }
        if let Some(bad) = values.iter().find(|v| !is_label_value(v)) {
            return Err(invalid(&format!("{bad:?} is not a label value")));
        }
    }
    Ok(s.to_string())
}

fn split_requirements(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

fn split_set_operator(r: &str) -> Option<(&str, &str)> {
    [" notin ", " in "].iter().find_map(|op| r.split_once(op).map(|(k, set)| (k.trim(), set)))
}

fn is_label_key(key: &str) -> bool {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    prefix.is_none_or(is_dns1123_subdomain) && !name.is_empty() && is_label_value(name)
}

fn is_label_value(v: &str) -> bool {
    v.len() <= 63
        && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        && v.bytes().next().is_none_or(|b| b.is_ascii_alphanumeric())
        && v.bytes().last().is_none_or(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("1500ms"), Ok(Duration::from_millis(1500)));
        for bad in ["", "10", "m", "10 minutes", "-5s", "500ms", "1d"] {
            assert!(parse_duration(bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn label_selectors() {
        for good in [
            "team=sales",
            "team==sales,tier!=dev",
            "app.kubernetes.io/part-of=mesh",
            "env in (dev, prod)",
            "!legacy",
            "managed",
            "env notin (dev),team=x",
        ] {
            assert!(parse_label_selector(good).is_ok(), "{good:?} must be accepted");
        }
        for bad in ["team=sa les", "=x", "env in dev", "a,,b", "team=-x", "Bad Key=x"] {
            assert!(parse_label_selector(bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn every_flag_has_an_environment_variable() {
        use clap::CommandFactory;
        let cli = Cli::command();
        let run = cli.find_subcommand("run").unwrap();
        for arg in run.get_arguments().filter(|a| a.get_long().is_some() && !["help"].contains(&a.get_id().as_str())) {
            assert!(arg.get_env().is_some(), "--{} has no environment variable", arg.get_long().unwrap());
        }
    }
}
