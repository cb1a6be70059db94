//! Everything the emulator knows, behind one lock. Time-driven changes (an environment becoming
//! ACTIVE, a run finishing) sit in a queue ordered by due time and are applied by `datazone::advance`
//! at the start of every request, so no background task races the handlers.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::clock::{IdGenerator, Instant};
use crate::fixture::{Fixture, PrincipalFixture, RedshiftFixture, RoleFixture};

/// Timing and quota settings from the command line.
#[derive(Clone, Debug)]
pub struct Lifecycle {
    pub environment_ready_after: Duration,
    pub run_duration: Duration,
    /// Runs allowed per data source in any 24 hours (DataZone: 25).
    pub runs_per_day: usize,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Self { environment_ready_after: Duration::from_secs(2), run_duration: Duration::from_secs(2), runs_per_day: 25 }
    }
}

/// Who signed a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The IAM principal: a user or role ARN (an assumed-role session acts as its role).
    pub principal_arn: String,
    /// What STS GetCallerIdentity reports (the assumed-role session ARN for sessions).
    pub identity_arn: String,
    pub user_id: String,
    pub account: String,
    /// The region the request was signed for.
    pub region: String,
    /// A long-term key from the fixture (not an assumed-role session).
    pub is_static: bool,
}

/// Temporary credentials issued by AssumeRole.
#[derive(Clone, Debug)]
pub struct Session {
    pub secret_access_key: String,
    pub session_token: String,
    pub expires: Instant,
    pub role_arn: String,
    pub session_arn: String,
    pub user_id: String,
    pub tags: Vec<(String, String)>,
}

#[derive(Clone, Debug)]
pub struct Domain {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub account: String,
    pub region: String,
    pub associated: BTreeSet<String>,
    pub created_at: Instant,
    pub projects: BTreeMap<String, Project>,
    pub blueprints: Vec<Blueprint>,
    /// Keyed by (blueprint ID, account).
    pub blueprint_configs: BTreeMap<(String, String), BlueprintConfig>,
}

impl Domain {
    pub fn arn(&self) -> String {
        format!("arn:aws:datazone:{}:{}:domain/{}", self.region, self.account, self.id)
    }
    pub fn portal_url(&self) -> String {
        format!("https://{}.datazone.{}.on.aws", self.id, self.region)
    }
}

#[derive(Clone, Debug)]
pub struct Project {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub created_by: String,
    pub created_at: Instant,
    /// Member ARN (or user ID) → designation.
    pub members: BTreeMap<String, String>,
}

#[derive(Clone, Debug)]
pub struct Blueprint {
    pub id: String,
    pub name: &'static str,
    pub description: &'static str,
}

#[derive(Clone, Debug)]
pub struct BlueprintConfig {
    pub provisioning_role_arn: Option<String>,
    pub manage_access_role_arn: Option<String>,
    pub enabled_regions: Vec<String>,
    pub regional_parameters: Value,
    pub created_at: Instant,
    pub updated_at: Instant,
}

#[derive(Clone, Debug)]
pub struct Profile {
    pub id: String,
    pub domain_id: String,
    pub project_id: String,
    pub name: String,
    pub description: Option<String>,
    pub blueprint_id: String,
    pub account: String,
    pub region: String,
    pub user_parameters: Vec<(String, String)>,
    pub created_by: String,
    pub created_at: Instant,
}

#[derive(Clone, Debug)]
pub struct Environment {
    pub id: String,
    pub domain_id: String,
    pub project_id: String,
    pub profile_id: String,
    pub blueprint_id: String,
    pub name: String,
    pub description: Option<String>,
    pub account: String,
    pub region: String,
    pub user_parameters: Vec<(String, String)>,
    pub status: &'static str,
    pub failure: Option<String>,
    pub created_by: String,
    pub created_at: Instant,
    pub updated_at: Instant,
}

impl Environment {
    pub fn parameter(&self, name: &str) -> Option<&str> {
        self.user_parameters.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// Where a Redshift data source reads from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Storage {
    Cluster(String),
    Workgroup(String),
}

impl Storage {
    pub fn name(&self) -> &str {
        match self {
            Storage::Cluster(n) | Storage::Workgroup(n) => n,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterExpression {
    pub include: bool,
    pub expression: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelationalFilter {
    pub database: String,
    pub schema: Option<String>,
    pub expressions: Vec<FilterExpression>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedshiftConfig {
    pub storage: Storage,
    pub secret_arn: String,
    pub data_access_role: Option<String>,
    pub filters: Vec<RelationalFilter>,
}

#[derive(Clone, Debug)]
pub struct DataSource {
    pub id: String,
    pub domain_id: String,
    pub project_id: String,
    pub environment_id: String,
    pub name: String,
    pub description: Option<String>,
    pub type_: String,
    pub config: RedshiftConfig,
    pub account: String,
    pub region: String,
    pub publish_on_import: bool,
    pub business_name_generation: bool,
    pub enable_setting: String,
    pub schedule: Option<Value>,
    pub status: &'static str,
    /// When the transient status (CREATING / UPDATING) settles to READY.
    pub settles_at: Instant,
    pub created_at: Instant,
    pub updated_at: Instant,
    pub last_run_id: Option<String>,
    /// Start times of runs, for the 24-hour quota.
    pub run_starts: Vec<Instant>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunStatistics {
    pub added: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub skipped: i64,
    pub failed: i64,
}

#[derive(Clone, Debug)]
pub struct Activity {
    pub database: String,
    pub technical_name: String,
    pub status: &'static str,
    pub asset_id: Option<String>,
    pub error: Option<(&'static str, String)>,
    pub at: Instant,
}

#[derive(Clone, Debug)]
pub struct Run {
    pub id: String,
    pub domain_id: String,
    pub data_source_id: String,
    pub project_id: String,
    pub status: &'static str,
    pub type_: &'static str,
    pub created_at: Instant,
    pub updated_at: Instant,
    pub started_at: Instant,
    pub stopped_at: Option<Instant>,
    pub statistics: RunStatistics,
    pub error: Option<(&'static str, String)>,
    pub activities: Vec<Activity>,
    pub configuration_snapshot: String,
}

#[derive(Clone, Debug)]
pub struct Asset {
    pub id: String,
    pub domain_id: String,
    pub project_id: String,
    pub data_source_id: String,
    pub name: String,
    pub database: String,
    pub schema: String,
    pub is_view: bool,
    pub external_identifier: String,
    pub revision: u32,
    pub created_by: String,
    pub created_at: Instant,
    /// (listing ID, status) once published.
    pub listing: Option<(String, &'static str)>,
}

impl Asset {
    pub fn type_identifier(&self) -> &'static str {
        if self.is_view { "amazon.datazone.RedshiftViewAssetType" } else { "amazon.datazone.RedshiftTableAssetType" }
    }
}

/// Something that happens at a time.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Due {
    EnvironmentSettles(String),
    RunFinishes(String),
}

pub struct State {
    pub fixture: Fixture,
    pub lifecycle: Lifecycle,
    pub ids: Arc<IdGenerator>,
    pub principals: HashMap<String, PrincipalFixture>,
    pub sessions: HashMap<String, Session>,
    pub roles: Vec<RoleFixture>,
    pub secrets: BTreeSet<String>,
    pub catalog: Vec<RedshiftFixture>,
    pub domains: BTreeMap<String, Domain>,
    pub profiles: BTreeMap<String, Profile>,
    pub environments: BTreeMap<String, Environment>,
    pub data_sources: BTreeMap<String, DataSource>,
    pub runs: BTreeMap<String, Run>,
    pub assets: BTreeMap<String, Asset>,
    /// Asset ID by external identifier (one asset per source object per domain).
    pub assets_by_external_id: HashMap<(String, String), String>,
    /// Idempotency: (operation, caller, client token) → resource ID.
    pub client_tokens: HashMap<(&'static str, String, String), String>,
    pub due: BinaryHeap<Reverse<(Instant, Due)>>,
}

impl State {
    pub fn new(fixture: Fixture, lifecycle: Lifecycle, ids: Arc<IdGenerator>) -> Self {
        let mut state = State {
            fixture: fixture.clone(),
            lifecycle,
            ids,
            principals: fixture.principals.iter().map(|p| (p.access_key_id.clone(), p.clone())).collect(),
            sessions: HashMap::new(),
            roles: fixture.roles.clone(),
            secrets: fixture.secrets.iter().cloned().collect(),
            catalog: fixture.redshift.clone(),
            domains: BTreeMap::new(),
            profiles: BTreeMap::new(),
            environments: BTreeMap::new(),
            data_sources: BTreeMap::new(),
            runs: BTreeMap::new(),
            assets: BTreeMap::new(),
            assets_by_external_id: HashMap::new(),
            client_tokens: HashMap::new(),
            due: BinaryHeap::new(),
        };
        let now = Instant::now();
        for d in &fixture.domains {
            let id = d.id.clone().unwrap_or_else(|| format!("dzd_{}", state.ids.id()));
            let mut domain = state.new_domain(id.clone(), d.name.clone(), d.account_id.clone(), d.region.clone(), now);
            domain.associated = d.associated_accounts.iter().cloned().collect();
            for p in &d.projects {
                let pid = p.id.clone().unwrap_or_else(|| state.ids.id());
                let members = p.members.iter().map(|m| (m.clone(), "PROJECT_CONTRIBUTOR".to_string())).collect();
                domain.projects.insert(
                    pid.clone(),
                    Project {
                        id: pid,
                        name: p.name.clone(),
                        description: None,
                        created_by: d.account_id.clone(),
                        created_at: now,
                        members,
                    },
                );
            }
            state.domains.insert(id, domain);
        }
        state
    }

    /// A domain with the managed blueprints every domain has.
    pub fn new_domain(&self, id: String, name: String, account: String, region: String, now: Instant) -> Domain {
        let blueprints = vec![
            Blueprint {
                id: self.ids.id(),
                name: "DefaultDataWarehouse",
                description: "Load and query data in Amazon Redshift, and publish and subscribe to data warehouse assets.",
            },
            Blueprint {
                id: self.ids.id(),
                name: "DefaultDataLake",
                description: "Load and query data in the AWS Glue Data Catalog with Amazon Athena.",
            },
        ];
        Domain {
            id,
            name,
            description: None,
            account,
            region,
            associated: BTreeSet::new(),
            created_at: now,
            projects: BTreeMap::new(),
            blueprints,
            blueprint_configs: BTreeMap::new(),
        }
    }

    pub fn schedule(&mut self, at: Instant, what: Due) {
        self.due.push(Reverse((at, what)));
    }

    /// The next time-driven change due by `now`, taken off the queue (applied by
    /// [`crate::datazone::advance`], which knows what each means).
    pub fn next_due(&mut self, now: Instant) -> Option<(Instant, Due)> {
        let Reverse((at, _)) = self.due.peek()?;
        if *at > now {
            return None;
        }
        self.due.pop().map(|Reverse(due)| due)
    }
}
