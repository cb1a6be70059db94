//! Everything the emulator knows, behind one lock. Time-driven changes (an environment becoming
//! ACTIVE, a run finishing) sit in a queue ordered by due time and are applied by `datazone::advance`
//! at the start of every request, so no background task races the handlers.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

pub use crate::catalog_state::{
    Asset, AssetRevision, DataProduct, DataProductItem, DataProductRevision, Form, FormType, FormTypeRevision,
    Glossary, GlossaryTerm, Listing, ListingEntity, ListingRevision, ListingSummary, MetadataGenerationRun,
    OwnPublication,
};
use crate::clock::{IdGenerator, Instant};
use crate::fixture::{Fixture, PrincipalFixture, RedshiftFixture, RoleFixture};
pub use crate::subscription_state::{
    GrantWork, GrantedAsset, Subscription, SubscriptionGrant, SubscriptionRequest, SubscriptionTarget,
};

/// Timing and quota settings from the command line.
#[derive(Clone, Debug)]
pub struct Lifecycle {
    pub environment_ready_after: Duration,
    pub run_duration: Duration,
    /// Runs allowed per data source in any 24 hours (DataZone: 25).
    pub runs_per_day: usize,
    /// How long a subscription grant takes: PENDING, IN_PROGRESS after half of it, COMPLETED
    /// after all of it; a revocation takes as long.
    pub grant_duration: Duration,
    /// Calls a second of single operations per account and region, each its own bucket beside
    /// `--rate-limit` (DataZone's quotas: [`OPERATION_QUOTAS`]); a rate of 0 lifts the limit.
    pub operation_rate_limits: Vec<(String, f64)>,
    /// Environments a domain holds at most, DELETED ones aside (DataZone: 500).
    pub environments_per_domain: usize,
    /// Glossaries, glossary terms and data products a domain holds at most (DataZone: 1,000,
    /// 10,000 and 500,000): beyond them the create answers ServiceQuotaExceededException.
    pub glossaries_per_domain: usize,
    pub glossary_terms_per_domain: usize,
    pub data_products_per_domain: usize,
    /// Calls a second of each DataZone operation without a quota of its own in
    /// `operation_rate_limits` (a bucket per operation, account and region); `None`: unlimited.
    pub other_operations_rate: Option<f64>,
}

/// The per-operation quotas of DataZone the emulator enforces by default [docs: Quotas for Amazon
/// DataZone].
pub const OPERATION_QUOTAS: [(&str, f64); 2] = [("AcceptSubscriptionRequest", 3.0), ("CancelSubscription", 3.0)];

/// Every per-API rate the quota page gives, per account and region (`--per-api-quotas`) [docs:
/// Quotas for Amazon DataZone]; the glossary calls beyond CreateGlossary are the page's "most
/// glossary calls" at 20 [inferred: which ones it means is not listed]. Environment, data source
/// and run calls are not on the page: they take `--other-operations-rate` [not established].
pub const QUOTA_PAGE: [(&str, f64); 19] = [
    ("CreateGlossary", 5.0),
    ("Search", 20.0),
    ("SearchTypes", 20.0),
    ("CreateAsset", 20.0),
    ("CreateAssetRevision", 20.0),
    ("ListAssetRevisions", 20.0),
    ("DeleteAsset", 20.0),
    ("CreateDataProduct", 20.0),
    ("CreateDataProductRevision", 20.0),
    ("DeleteDataProduct", 20.0),
    ("CreateFormType", 20.0),
    ("CreateGlossaryTerm", 20.0),
    ("GetGlossary", 20.0),
    ("GetGlossaryTerm", 20.0),
    ("UpdateGlossary", 20.0),
    ("UpdateGlossaryTerm", 20.0),
    ("DeleteGlossaryTerm", 20.0),
    ("AcceptSubscriptionRequest", 3.0),
    ("CancelSubscription", 3.0),
];

/// The rate of an operation the quota page does not name, under `--per-api-quotas` (each such
/// operation its own bucket) [inferred: 20 is the page's rate for most catalog calls].
pub const OTHER_OPERATIONS_RATE: f64 = 20.0;

/// Environments per domain [docs: Quotas for Amazon DataZone].
pub const ENVIRONMENTS_PER_DOMAIN: usize = 500;
/// Glossaries per domain [docs: Quotas for Amazon DataZone].
pub const GLOSSARIES_PER_DOMAIN: usize = 1_000;
/// Glossary terms per domain [docs: Quotas for Amazon DataZone].
pub const GLOSSARY_TERMS_PER_DOMAIN: usize = 10_000;
/// Data products per domain [docs: Quotas for Amazon DataZone].
pub const DATA_PRODUCTS_PER_DOMAIN: usize = 500_000;

impl Default for Lifecycle {
    fn default() -> Self {
        Self {
            environment_ready_after: Duration::from_secs(2),
            run_duration: Duration::from_secs(2),
            runs_per_day: 25,
            grant_duration: Duration::from_secs(2),
            operation_rate_limits: OPERATION_QUOTAS.iter().map(|(op, tps)| (op.to_string(), *tps)).collect(),
            environments_per_domain: ENVIRONMENTS_PER_DOMAIN,
            glossaries_per_domain: GLOSSARIES_PER_DOMAIN,
            glossary_terms_per_domain: GLOSSARY_TERMS_PER_DOMAIN,
            data_products_per_domain: DATA_PRODUCTS_PER_DOMAIN,
            other_operations_rate: None,
        }
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

/// A first-generation (DataZone) or second-generation (Amazon SageMaker Unified Studio) domain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DomainVersion {
    V1,
    V2,
}

impl DomainVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            DomainVersion::V1 => "V1",
            DomainVersion::V2 => "V2",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "V1" => Some(DomainVersion::V1),
            "V2" => Some(DomainVersion::V2),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Domain {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub account: String,
    pub region: String,
    pub version: DomainVersion,
    /// The domain unit every domain starts with (`[a-z0-9_-]+`).
    pub root_domain_unit_id: String,
    pub associated: BTreeSet<String>,
    pub created_at: Instant,
    pub projects: BTreeMap<String, Project>,
    /// V2 only: project ID → project profile ID. Kept beside [`Project`], not in it, so code that
    /// builds a `Project` by hand (the operator's tests do) is not tied to V2.
    pub project_profiles: BTreeMap<String, String>,
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
    /// V2 project environments: (environmentConfigurationId, environmentConfigurationName).
    pub configuration: Option<(String, String)>,
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

/// How a connection authenticates to Redshift.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credentials {
    Secret(String),
    UsernamePassword { username: String, password: String },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineageSync {
    pub enabled: bool,
    pub schedule: Option<String>,
    /// Set while enabled; a new one each time lineage is enabled again [inferred].
    pub job_id: Option<String>,
}

/// A V2 connection to Redshift (the only connection type emulated).
#[derive(Clone, Debug)]
pub struct Connection {
    pub id: String,
    pub domain_id: String,
    pub project_id: String,
    pub environment_id: String,
    pub name: String,
    pub description: Option<String>,
    pub scope: &'static str,
    pub account: String,
    pub region: String,
    pub access_role: Option<String>,
    pub iam_connection_id: Option<String>,
    pub storage: Storage,
    pub database: String,
    /// The host as given; otherwise derived from the storage (with `host_label`).
    pub host: Option<String>,
    /// The random label of a provisioned cluster's endpoint (`<cluster>.<label>.<region>…`).
    pub host_label: String,
    pub port: Option<i64>,
    pub credentials: Credentials,
    pub lineage: Option<LineageSync>,
    pub created_by: String,
    pub created_at: Instant,
}

impl Connection {
    pub fn host(&self) -> String {
        if let Some(h) = &self.host {
            return h.clone();
        }
        match &self.storage {
            Storage::Cluster(c) => format!("{c}.{}.{}.redshift.amazonaws.com", self.host_label, self.region),
            Storage::Workgroup(w) => format!("{w}.{}.{}.redshift-serverless.amazonaws.com", self.account, self.region),
        }
    }
    pub fn port(&self) -> i64 {
        self.port.unwrap_or(5439)
    }
    pub fn secret_arn(&self) -> Option<&str> {
        match &self.credentials {
            Credentials::Secret(arn) => Some(arn),
            Credentials::UsernamePassword { .. } => None,
        }
    }
    pub fn lineage_enabled(&self) -> bool {
        self.lineage.as_ref().is_some_and(|l| l.enabled)
    }
}

#[derive(Clone, Debug)]
pub struct DataSource {
    pub id: String,
    pub domain_id: String,
    pub project_id: String,
    pub environment_id: String,
    /// V2: the connection the data source reads through.
    pub connection_id: Option<String>,
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
    /// `assetFormsInput`: the forms a run gives each asset it creates.
    pub asset_forms: Vec<Form>,
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
    /// A connection-bound data source's run reads through the connection as it was at the start.
    pub through: Option<Connection>,
}

/// Something that happens at a time.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Due {
    EnvironmentSettles(String),
    RunFinishes(String),
    MetadataGenerationFinishes(String),
    /// A subscription grant's next step, for the grant's work of this generation.
    GrantProgresses(String, u32),
}

pub struct State {
    pub fixture: Fixture,
    pub lifecycle: Lifecycle,
    pub ids: Arc<IdGenerator>,
    pub principals: HashMap<String, PrincipalFixture>,
    pub sessions: HashMap<String, Session>,
    pub roles: Vec<RoleFixture>,
    /// OpenID Connect providers' signing keys by issuer URL.
    pub oidc_providers: BTreeMap<String, crate::web_identity::Jwks>,
    /// Pod Identity associations: (namespace, service account) → role ARN.
    pub pod_identity: BTreeMap<(String, String), String>,
    pub secrets: BTreeSet<String>,
    pub catalog: Vec<RedshiftFixture>,
    pub domains: BTreeMap<String, Domain>,
    pub profiles: BTreeMap<String, Profile>,
    pub environments: BTreeMap<String, Environment>,
    pub connections: BTreeMap<String, Connection>,
    pub data_sources: BTreeMap<String, DataSource>,
    pub runs: BTreeMap<String, Run>,
    pub assets: BTreeMap<String, Asset>,
    /// Asset ID by external identifier (one asset per source object per domain).
    pub assets_by_external_id: HashMap<(String, String), String>,
    /// Custom form types by (domain ID, name).
    pub form_types: BTreeMap<(String, String), FormType>,
    pub glossaries: BTreeMap<String, Glossary>,
    pub glossary_terms: BTreeMap<String, GlossaryTerm>,
    pub data_products: BTreeMap<String, DataProduct>,
    pub listings: BTreeMap<String, Listing>,
    pub metadata_runs: BTreeMap<String, MetadataGenerationRun>,
    pub subscription_requests: BTreeMap<String, SubscriptionRequest>,
    pub subscriptions: BTreeMap<String, Subscription>,
    /// Targets made with CreateSubscriptionTarget (those DataZone makes with an environment are
    /// derived from it: `datazone::subscription_targets::targets_in`).
    pub subscription_targets: BTreeMap<String, SubscriptionTarget>,
    pub subscription_grants: BTreeMap<String, SubscriptionGrant>,
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
            oidc_providers: BTreeMap::new(),
            pod_identity: BTreeMap::new(),
            secrets: fixture.secrets.iter().cloned().collect(),
            catalog: fixture.redshift.clone(),
            domains: BTreeMap::new(),
            profiles: BTreeMap::new(),
            environments: BTreeMap::new(),
            connections: BTreeMap::new(),
            data_sources: BTreeMap::new(),
            runs: BTreeMap::new(),
            assets: BTreeMap::new(),
            assets_by_external_id: HashMap::new(),
            form_types: BTreeMap::new(),
            glossaries: BTreeMap::new(),
            glossary_terms: BTreeMap::new(),
            data_products: BTreeMap::new(),
            listings: BTreeMap::new(),
            metadata_runs: BTreeMap::new(),
            subscription_requests: BTreeMap::new(),
            subscriptions: BTreeMap::new(),
            subscription_targets: BTreeMap::new(),
            subscription_grants: BTreeMap::new(),
            client_tokens: HashMap::new(),
            due: BinaryHeap::new(),
        };
        // The fixture was validated: every JWKS parses and every association is well formed.
        for p in &fixture.oidc_providers {
            if let Some(jwks) = p.jwks.as_ref().and_then(|j| crate::web_identity::Jwks::parse(j).ok()) {
                state.oidc_providers.insert(p.issuer.clone(), jwks);
            }
        }
        for a in &fixture.pod_identity_associations {
            state.role_mut(&a.role_arn);
            state.pod_identity.insert((a.namespace.clone(), a.service_account.clone()), a.role_arn.clone());
        }
        let now = Instant::now();
        for d in &fixture.domains {
            let id = d.id.clone().unwrap_or_else(|| format!("dzd_{}", state.ids.id()));
            // The fixture was validated: the version is V1, V2 or absent.
            let version = d.version.as_deref().and_then(DomainVersion::parse).unwrap_or(DomainVersion::V1);
            let mut domain =
                state.new_domain(id.clone(), d.name.clone(), d.account_id.clone(), d.region.clone(), version, now);
            domain.associated = d.associated_accounts.iter().cloned().collect();
            let mut tooling = Vec::new();
            for p in &d.projects {
                let pid = p.id.clone().unwrap_or_else(|| state.ids.id());
                let members = p.members.iter().map(|m| (m.clone(), "PROJECT_CONTRIBUTOR".to_string())).collect();
                domain.projects.insert(
                    pid.clone(),
                    Project {
                        id: pid.clone(),
                        name: p.name.clone(),
                        description: None,
                        created_by: d.account_id.clone(),
                        created_at: now,
                        members,
                    },
                );
                if version == DomainVersion::V2 {
                    let profile = p.project_profile_id.clone().unwrap_or_else(|| state.ids.id());
                    domain.project_profiles.insert(pid.clone(), profile);
                    let account = p.environment_account_id.clone().unwrap_or_else(|| d.account_id.clone());
                    tooling.push((pid, account));
                }
            }
            for (pid, account) in tooling {
                let env = state.project_environment(&domain, &pid, account, d.account_id.clone(), now);
                state.environments.insert(env.id.clone(), env);
            }
            // The fixture was validated: every model parses and every project exists.
            for f in &d.form_types {
                let project = domain.projects.values().find(|p| p.name == f.owning_project).map(|p| p.id.clone());
                if let (Some(project), Ok(model)) = (project, crate::datazone::smithy::parse(&f.smithy)) {
                    let revision = FormTypeRevision {
                        smithy: f.smithy.clone(),
                        model,
                        status: "ENABLED",
                        description: f.description.clone(),
                        created_at: now,
                        created_by: d.account_id.clone(),
                    };
                    state.put_form_type(&id, &f.name, &project, revision);
                }
            }
            state.domains.insert(id, domain);
        }
        state
    }

    /// The `Tooling` environment every V2 project has from the start [inferred: the default
    /// project profile's first environment], ACTIVE and without a data source.
    pub fn project_environment(
        &self,
        domain: &Domain,
        project_id: &str,
        account: String,
        created_by: String,
        now: Instant,
    ) -> Environment {
        let blueprint_id =
            domain.blueprints.iter().find(|b| b.name == "Tooling").map(|b| b.id.clone()).unwrap_or_default();
        Environment {
            id: self.ids.id(),
            domain_id: domain.id.clone(),
            project_id: project_id.to_string(),
            // Environment profiles are a V1 concept: V2 environments name none.
            profile_id: String::new(),
            blueprint_id,
            name: "Tooling".into(),
            description: None,
            account,
            region: domain.region.clone(),
            user_parameters: Vec::new(),
            status: "ACTIVE",
            failure: None,
            created_by,
            created_at: now,
            updated_at: now,
            configuration: Some((self.ids.id(), "Tooling".into())),
        }
    }

    /// A domain with the managed blueprints every domain of its version has: DefaultDataWarehouse
    /// and DefaultDataLake in V1, Tooling and RedshiftServerless in V2 [inferred: the V2 set].
    pub fn new_domain(
        &self,
        id: String,
        name: String,
        account: String,
        region: String,
        version: DomainVersion,
        now: Instant,
    ) -> Domain {
        let managed: [(&'static str, &'static str); 2] = match version {
            DomainVersion::V1 => [
                (
                    "DefaultDataWarehouse",
                    "Load and query data in Amazon Redshift, and publish and subscribe to data warehouse assets.",
                ),
                ("DefaultDataLake", "Load and query data in the AWS Glue Data Catalog with Amazon Athena."),
            ],
            DomainVersion::V2 => [
                ("Tooling", "Project resources: the project role, its storage and the tools of the project."),
                ("RedshiftServerless", "An Amazon Redshift Serverless workgroup for the project."),
            ],
        };
        let blueprints =
            managed.into_iter().map(|(name, description)| Blueprint { id: self.ids.id(), name, description }).collect();
        Domain {
            id,
            name,
            description: None,
            account,
            region,
            version,
            root_domain_unit_id: self.ids.id(),
            associated: BTreeSet::new(),
            created_at: now,
            projects: BTreeMap::new(),
            project_profiles: BTreeMap::new(),
            blueprints,
            blueprint_configs: BTreeMap::new(),
        }
    }

    /// The role `arn`, created (assumable by its own account only) when the fixture lacks it: a
    /// Pod Identity association or a web identity trust may name a role the fixture does not list.
    pub fn role_mut(&mut self, arn: &str) -> &mut RoleFixture {
        let index = match self.roles.iter().position(|r| r.arn == arn) {
            Some(i) => i,
            None => {
                self.roles.push(RoleFixture::new(arn));
                self.roles.len() - 1
            }
        };
        &mut self.roles[index]
    }

    /// A new revision of the form type `name` of the domain (the type made when it is the first);
    /// answers the revision's number.
    pub fn put_form_type(&mut self, domain_id: &str, name: &str, project_id: &str, revision: FormTypeRevision) -> u32 {
        let ft = self.form_types.entry((domain_id.to_string(), name.to_string())).or_insert_with(|| FormType {
            domain_id: domain_id.to_string(),
            name: name.to_string(),
            project_id: project_id.to_string(),
            revisions: Vec::new(),
        });
        ft.revisions.push(revision);
        ft.revisions.len() as u32
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
