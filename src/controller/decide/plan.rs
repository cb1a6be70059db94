//! The decision: given what the spec wants and what DataZone holds, the one next step. Pure, so
//! every situation is a table row in the tests below.

use crate::datazone::{
    Binding, ConnectionInfo, ConnectionPatch, DataSourceInfo, DataSourceStatus, EnvironmentInfo, EnvironmentStatus,
    RunStatus, SourceConfig,
};

use crate::controller::fleet::claims::{Ask, Disagreement};

use super::desired::{config_matches, is_ours, lineage_matches};
use super::pass::Phase;

/// A run that failed is retried at most this many times in a row, then left for a person (or a
/// spec change, or the reconcile-request annotation): runs are capped at 25 a day.
pub const MAX_RUN_RETRIES: u32 = 3;

/// What DataZone holds, as far as this data product is concerned.
#[derive(Clone, Debug, PartialEq)]
pub struct Observed {
    pub upstream: Upstream,
    pub data_source: Option<DataSourceInfo>,
    /// The data source was seen in the project's listing, which carries no configuration (its
    /// `config` is `None`), and its configuration is known all the same: this process just wrote
    /// the wanted one, or DataZone has not changed it (same `updatedAt`) since it last read it
    /// matching a configuration that is still the wanted one.
    pub config_unchanged: bool,
    /// The data source was named by `spec.adopt` and passed the adoption checks
    /// ([`super::adoption`]): not ours yet, but ours to take.
    pub adopt: bool,
}

/// What is known of the objects before the data source: in a V1 domain the blueprint
/// configuration, the profile and the environment; in a V2 domain the connection.
#[derive(Clone, Debug, PartialEq)]
pub enum Upstream {
    /// Status names a data source that DataZone still has, bound where status says (V1: its
    /// environment): they were ready when it was made, and the operator never removes shared
    /// objects, so nothing before it is looked up (the steady state's one read).
    KnownFromStatus { binding: Binding },
    /// Looked up, as far as they exist (V1).
    Looked(SharedObjects),
    /// The shared Redshift connection the data source is made through (V2; cached, so looked at
    /// on every pass: a change of secret or lineage in the spec reaches it).
    ThroughConnection(ConnectionObjects),
}

#[derive(Clone, Debug, PartialEq)]
pub struct ConnectionObjects {
    /// The project's environment to make the connection in (its Tooling environment), looked up
    /// only when there is no connection.
    pub environment: Option<String>,
    pub connection: Option<ConnectionInfo>,
    /// What this data product asks of the connection.
    pub ask: Ask,
    /// The other data products of the connection that ask otherwise.
    pub others: Disagreement,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SharedObjects {
    /// The domain's DefaultDataWarehouse blueprint.
    pub blueprint: String,
    pub enablement: Enablement,
    /// The environment profile's ID, once it exists.
    pub profile: Option<String>,
    pub environment: Option<EnvironmentInfo>,
}

/// Whether the blueprint is enabled for the producer account in the data product's region.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Enablement {
    Enabled,
    /// Not in this region; `enabled_in` are the regions the account's configuration already has
    /// (none when there is no configuration).
    Missing {
        region: String,
        enabled_in: Vec<String>,
    },
}

/// What status says about runs, and whether a retry is due.
#[derive(Clone, Debug, Default)]
pub struct RunState<'a> {
    /// The last run's ID and status, if any.
    pub last: Option<(&'a str, RunStatus)>,
    /// The configuration fingerprint the last run ran with.
    pub last_config_hash: Option<&'a str>,
    pub requested_at: Option<&'a str>,
    pub handled: Option<&'a str>,
    pub consecutive_failures: u32,
    /// The failed run's backoff has passed.
    pub retry_due: bool,
}

impl RunState<'_> {
    /// The last run, if it is still going.
    fn active(&self) -> Option<&str> {
        self.last.as_ref().filter(|(_, s)| s.is_active()).map(|(id, _)| *id)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunReason {
    /// The data source never ran.
    Initial,
    /// The configuration changed (spec edit, or a mixed schema's objects changed).
    ConfigChanged,
    /// The reconcile-request annotation changed.
    Requested,
    /// The last run failed and its backoff has passed.
    Retry,
}

impl RunReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RunReason::Initial => "Initial",
            RunReason::ConfigChanged => "ConfigChanged",
            RunReason::Requested => "Requested",
            RunReason::Retry => "Retry",
        }
    }
}

/// The next thing to do, with the IDs it acts on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Enable the blueprint for the producer account in `regions` (the ones it had, and ours).
    EnableBlueprint {
        blueprint: String,
        regions: Vec<String>,
    },
    CreateProfile {
        blueprint: String,
    },
    CreateEnvironment {
        profile: String,
    },
    WaitEnvironment {
        environment: String,
        status: EnvironmentStatus,
    },
    EnvironmentFailed {
        environment: String,
        why: String,
    },
    /// V2: the project has no environment to make the connection in.
    NoProjectEnvironment,
    CreateConnection {
        environment: String,
    },
    /// A connection with our name exists but we did not create it: never touched.
    ConnectionNotOurs {
        connection: String,
    },
    WaitConnection {
        connection: String,
        status: String,
    },
    ConnectionFailed {
        connection: String,
        status: String,
    },
    /// The connection reads with another secret, and other data products of it want that one:
    /// waited on until they agree (the data source must read with its connection's secret).
    SecretConflict {
        connection: String,
        with: Vec<String>,
    },
    /// Bring the connection to what its data products agree on.
    UpdateConnection {
        connection: String,
        patch: ConnectionPatch,
    },
    CreateDataSource {
        binding: Binding,
    },
    /// A data source with our name exists but we did not create it: never touched.
    NotOurs {
        data_source: String,
    },
    /// The data source `spec.adopt` names: mark it as ours and bring it to the spec.
    AdoptDataSource {
        data_source: String,
    },
    WaitDataSource {
        data_source: String,
        status: DataSourceStatus,
    },
    DataSourceFailed {
        data_source: String,
        why: String,
    },
    UpdateDataSource {
        data_source: String,
    },
    StartRun {
        data_source: String,
        reason: RunReason,
    },
    WaitRun {
        run: String,
    },
    /// The last run failed and retries are used up.
    RunGaveUp,
    Done,
}

impl Step {
    /// The phase this step works on: it and the phases after it are not True yet, those before
    /// it are.
    pub fn phase(&self) -> Phase {
        match self {
            Step::EnableBlueprint { .. } => Phase::BlueprintEnabled,
            Step::CreateProfile { .. }
            | Step::CreateEnvironment { .. }
            | Step::WaitEnvironment { .. }
            | Step::EnvironmentFailed { .. } => Phase::EnvironmentReady,
            Step::NoProjectEnvironment
            | Step::CreateConnection { .. }
            | Step::ConnectionNotOurs { .. }
            | Step::WaitConnection { .. }
            | Step::ConnectionFailed { .. }
            | Step::SecretConflict { .. }
            | Step::UpdateConnection { .. } => Phase::ConnectionReady,
            Step::CreateDataSource { .. }
            | Step::NotOurs { .. }
            | Step::AdoptDataSource { .. }
            | Step::WaitDataSource { .. }
            | Step::DataSourceFailed { .. }
            | Step::UpdateDataSource { .. } => Phase::DataSourceReady,
            Step::StartRun { .. } | Step::WaitRun { .. } | Step::RunGaveUp | Step::Done => Phase::Published,
        }
    }
}

/// Where the data source is made (V2: through the connection), or the step that comes before.
fn binding(upstream: &Upstream) -> Result<Binding, Step> {
    match upstream {
        Upstream::KnownFromStatus { binding } => Ok(binding.clone()),
        Upstream::Looked(shared) => environment(shared).map(|id| Binding::Environment(id.to_string())),
        Upstream::ThroughConnection(objects) => connection(objects).map(Binding::Connection),
    }
}

/// The V2 connection to make the data source through, or the step that comes before it. Its
/// secret and lineage are changed only to what its data products agree on; lineage they
/// disagree on is left as it is (and reported), a secret they disagree on is waited on.
fn connection(objects: &ConnectionObjects) -> Result<String, Step> {
    let Some(c) = &objects.connection else {
        return Err(match &objects.environment {
            Some(environment) => Step::CreateConnection { environment: environment.clone() },
            None => Step::NoProjectEnvironment,
        });
    };
    let connection = c.id.clone();
    if !is_ours(c.description.as_deref()) {
        return Err(Step::ConnectionNotOurs { connection });
    }
    let status = c.status.clone().unwrap_or_default();
    if c.is_failed() {
        return Err(Step::ConnectionFailed { connection, status });
    }
    if !c.is_ready() {
        return Err(Step::WaitConnection { connection, status });
    }
    let mut patch = ConnectionPatch::default();
    if c.secret_arn.as_deref() != Some(objects.ask.secret.as_str()) {
        if !objects.others.secret.is_empty() {
            return Err(Step::SecretConflict { connection, with: objects.others.secret.clone() });
        }
        patch.secret_arn = Some(objects.ask.secret.clone());
    }
    let lineage = objects.ask.lineage.as_ref().filter(|wanted| !lineage_matches(c.lineage.as_ref(), wanted));
    if let Some(wanted) = lineage.filter(|_| objects.others.lineage.is_empty()) {
        patch.lineage = Some(wanted.clone());
    }
    if patch != ConnectionPatch::default() {
        return Err(Step::UpdateConnection { connection, patch });
    }
    Ok(connection)
}

/// The environment to work in, or the step that comes before it.
fn environment(shared: &SharedObjects) -> Result<&str, Step> {
    if let Enablement::Missing { region, enabled_in } = &shared.enablement {
        let mut regions = enabled_in.clone();
        regions.push(region.clone());
        regions.sort();
        regions.dedup();
        return Err(Step::EnableBlueprint { blueprint: shared.blueprint.clone(), regions });
    }
    let Some(profile) = &shared.profile else {
        return Err(Step::CreateProfile { blueprint: shared.blueprint.clone() });
    };
    let Some(env) = &shared.environment else { return Err(Step::CreateEnvironment { profile: profile.clone() }) };
    match &env.status {
        EnvironmentStatus::Active => Ok(&env.id),
        s if s.is_settling() => Err(Step::WaitEnvironment { environment: env.id.clone(), status: s.clone() }),
        other => {
            let why = env.failure.clone().unwrap_or_else(|| format!("environment {} is {other}", env.id));
            Err(Step::EnvironmentFailed { environment: env.id.clone(), why })
        }
    }
}

pub fn plan(desired: &SourceConfig, desired_hash: &str, obs: &Observed, runs: &RunState) -> Step {
    let binding = match binding(&obs.upstream) {
        Ok(binding) => binding,
        Err(step) => return step,
    };
    let Some(ds) = &obs.data_source else { return Step::CreateDataSource { binding } };
    let data_source = ds.id.clone();
    if !is_ours(ds.description.as_deref()) {
        return if obs.adopt { Step::AdoptDataSource { data_source } } else { Step::NotOurs { data_source } };
    }
    match &ds.status {
        DataSourceStatus::Ready => {}
        s if s.is_failed() => {
            let why = ds.error.clone().unwrap_or_else(|| format!("data source {} is {s}", ds.id));
            return Step::DataSourceFailed { data_source, why };
        }
        // RUNNING without a run of ours active is a scheduled run: wait for it.
        DataSourceStatus::Running if runs.active().is_some() => {}
        other => return Step::WaitDataSource { data_source, status: other.clone() },
    }
    if !obs.config_unchanged && !ds.config.as_ref().is_some_and(|actual| config_matches(actual, desired)) {
        if let Some(run) = runs.active() {
            // Updating under a running import is refused; finish the run first.
            return Step::WaitRun { run: run.to_string() };
        }
        return Step::UpdateDataSource { data_source };
    }
    if let Some(run) = runs.active() {
        return Step::WaitRun { run: run.to_string() };
    }
    let start = |reason| Step::StartRun { data_source: data_source.clone(), reason };
    if runs.requested_at.is_some() && runs.requested_at != runs.handled {
        return start(RunReason::Requested);
    }
    let Some((_, status)) = &runs.last else { return start(RunReason::Initial) };
    if runs.last_config_hash != Some(desired_hash) {
        return start(RunReason::ConfigChanged);
    }
    if *status == RunStatus::Success {
        return Step::Done;
    }
    if runs.consecutive_failures >= MAX_RUN_RETRIES {
        return Step::RunGaveUp;
    }
    if runs.retry_due { start(RunReason::Retry) } else { Step::Done }
}

impl Step {
    /// Whether taking this step changes DataZone (what `plan` counts as a change).
    pub fn mutates(&self) -> bool {
        matches!(
            self,
            Step::EnableBlueprint { .. }
                | Step::CreateProfile { .. }
                | Step::CreateEnvironment { .. }
                | Step::CreateConnection { .. }
                | Step::UpdateConnection { .. }
                | Step::CreateDataSource { .. }
                | Step::AdoptDataSource { .. }
                | Step::UpdateDataSource { .. }
                | Step::StartRun { .. }
        )
    }
}

/// A new object's ID in a preview: it does not exist yet.
pub const NEW: &str = "(new)";

/// Every step a data product would take from what is there now, for `plan`: [`plan`] applied to
/// the observed state as each step would leave it, until a run starts (what it imports is
/// DataZone's to say), something must be waited for, a person must act, or nothing is left to
/// do. `Done` only when it is the only step.
pub fn steps(desired: &SourceConfig, desired_hash: &str, obs: &Observed, runs: &RunState) -> Vec<Step> {
    let mut obs = obs.clone();
    let mut out = Vec::new();
    // Each step moves the state one phase on; the loop ends long before this.
    for _ in 0..8 {
        let step = plan(desired, desired_hash, &obs, runs);
        let goes_on = assume_taken(&step, &mut obs, desired);
        if step != Step::Done || out.is_empty() {
            out.push(step);
        }
        if !goes_on {
            break;
        }
    }
    out
}

/// Leaves `obs` as taking `step` would, and says whether planning goes on past it: a run, a wait,
/// a stop or nothing to do ends it.
fn assume_taken(step: &Step, obs: &mut Observed, desired: &SourceConfig) -> bool {
    let ours = |id: String| DataSourceInfo {
        id,
        name: NEW.into(),
        status: DataSourceStatus::Ready,
        environment_id: None,
        connection_id: None,
        description: Some(super::desired::OWNER_MARKER.into()),
        config: Some(desired.clone()),
        error: None,
        updated_at: None,
        project_id: None,
        kind: Some("REDSHIFT".into()),
    };
    match (step, &mut obs.upstream) {
        (Step::EnableBlueprint { .. }, Upstream::Looked(shared)) => shared.enablement = Enablement::Enabled,
        (Step::CreateProfile { .. }, Upstream::Looked(shared)) => shared.profile = Some(NEW.into()),
        (Step::CreateEnvironment { .. }, Upstream::Looked(shared)) => {
            shared.environment =
                Some(EnvironmentInfo { id: NEW.into(), status: EnvironmentStatus::Active, failure: None })
        }
        (Step::CreateConnection { .. }, Upstream::ThroughConnection(objects)) => {
            objects.connection = Some(ConnectionInfo {
                id: NEW.into(),
                name: NEW.into(),
                description: Some(super::desired::OWNER_MARKER.into()),
                status: None,
                secret_arn: Some(objects.ask.secret.clone()),
                lineage: objects.ask.lineage.clone(),
            })
        }
        (Step::UpdateConnection { patch, .. }, Upstream::ThroughConnection(objects)) => {
            if let Some(c) = objects.connection.as_mut() {
                c.secret_arn = patch.secret_arn.clone().or(c.secret_arn.take());
                c.lineage = patch.lineage.clone().or(c.lineage.take());
            }
        }
        (Step::CreateDataSource { .. }, _) => obs.data_source = Some(ours(NEW.into())),
        (Step::AdoptDataSource { data_source } | Step::UpdateDataSource { data_source }, _) => {
            obs.data_source = Some(ours(data_source.clone()));
            obs.adopt = false;
        }
        _ => return false,
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datazone::{SchemaFilter, Storage};

    const REGION: &str = "eu-central-1";

    #[test]
    fn each_step_works_on_one_phase() {
        let ds = || "ds1".to_string();
        let conn = || "c1".to_string();
        let cases = [
            (Step::EnableBlueprint { blueprint: "bp".into(), regions: vec![] }, Phase::BlueprintEnabled),
            (Step::CreateProfile { blueprint: "bp".into() }, Phase::EnvironmentReady),
            (
                Step::WaitEnvironment { environment: "env1".into(), status: EnvironmentStatus::Creating },
                Phase::EnvironmentReady,
            ),
            (Step::EnvironmentFailed { environment: "env1".into(), why: "x".into() }, Phase::EnvironmentReady),
            (Step::NoProjectEnvironment, Phase::ConnectionReady),
            (Step::CreateConnection { environment: "env1".into() }, Phase::ConnectionReady),
            (Step::SecretConflict { connection: conn(), with: vec![] }, Phase::ConnectionReady),
            (Step::CreateDataSource { binding: Binding::Environment("env1".into()) }, Phase::DataSourceReady),
            (Step::CreateDataSource { binding: Binding::Connection(conn()) }, Phase::DataSourceReady),
            (Step::NotOurs { data_source: ds() }, Phase::DataSourceReady),
            (Step::UpdateDataSource { data_source: ds() }, Phase::DataSourceReady),
            (Step::StartRun { data_source: ds(), reason: RunReason::Initial }, Phase::Published),
            (Step::WaitRun { run: "r".into() }, Phase::Published),
            (Step::RunGaveUp, Phase::Published),
            (Step::Done, Phase::Published),
        ];
        for (step, want) in cases {
            assert_eq!(step.phase(), want, "{step:?}");
        }
    }

    fn config() -> SourceConfig {
        SourceConfig {
            storage: Storage::Cluster("prod-dwh".into()),
            database: "sales".into(),
            secret_arn: "arn:secret".into(),
            filters: vec![SchemaFilter { schema: "public".into(), includes: ["orders".to_string()].into() }],
            publish_on_import: true,
            business_name_generation: false,
            schedule: None,
            asset_forms: Vec::new(),
        }
    }

    fn env(status: EnvironmentStatus) -> EnvironmentInfo {
        EnvironmentInfo { id: "env1".into(), status, failure: None }
    }

    fn ds(status: DataSourceStatus, config: Option<SourceConfig>, ours: bool) -> DataSourceInfo {
        DataSourceInfo {
            id: "ds1".into(),
            name: "n".into(),
            status,
            environment_id: Some("env1".into()),
            connection_id: None,
            description: Some(if ours { "x; managed-by=datazone-operator".into() } else { "by hand".into() }),
            config,
            error: None,
            updated_at: None,
            project_id: Some("prj1".into()),
            kind: Some("REDSHIFT".into()),
        }
    }

    fn looked(
        enablement: Enablement,
        profile: Option<&str>,
        environment: Option<EnvironmentInfo>,
        data_source: Option<DataSourceInfo>,
    ) -> Observed {
        let upstream = Upstream::Looked(SharedObjects {
            blueprint: "bp".into(),
            enablement,
            profile: profile.map(str::to_string),
            environment,
        });
        Observed { upstream, data_source, config_unchanged: false, adopt: false }
    }

    fn through(
        environment: Option<&str>,
        connection: Option<ConnectionInfo>,
        ask: Ask,
        others: Disagreement,
    ) -> Observed {
        let objects = ConnectionObjects { environment: environment.map(str::to_string), connection, ask, others };
        Observed {
            upstream: Upstream::ThroughConnection(objects),
            data_source: None,
            config_unchanged: false,
            adopt: false,
        }
    }

    #[test]
    fn v2_steps_go_through_the_connection() {
        use crate::datazone::Lineage;
        let ours = Some("shared; managed-by=datazone-operator".to_string());
        let on = |schedule: Option<&str>| Lineage { enabled: true, schedule: schedule.map(str::to_string) };
        let off = || Lineage { enabled: false, schedule: None };
        let conn = |status: &str, lineage: Option<Lineage>, description: Option<String>| ConnectionInfo {
            id: "c1".into(),
            name: "redshift-x".into(),
            description,
            status: Some(status.into()),
            secret_arn: Some("s1".into()),
            lineage,
        };
        let ready = |lineage| Some(conn("READY", lineage, ours.clone()));
        let ask = |secret: &str, lineage: Option<Lineage>| Ask { secret: secret.into(), lineage };
        let nobody = Disagreement::default;
        let against = |secret: &[&str], lineage: &[&str]| Disagreement {
            secret: secret.iter().map(|s| s.to_string()).collect(),
            lineage: lineage.iter().map(|s| s.to_string()).collect(),
        };
        let c1 = || "c1".to_string();
        let made_through = || Step::CreateDataSource { binding: Binding::Connection(c1()) };
        let patch = |secret: Option<&str>, lineage: Option<Lineage>| ConnectionPatch {
            secret_arn: secret.map(str::to_string),
            lineage,
        };
        let cases = [
            (through(None, None, ask("s1", None), nobody()), Step::NoProjectEnvironment),
            (
                through(Some("tooling"), None, ask("s1", None), nobody()),
                Step::CreateConnection { environment: "tooling".into() },
            ),
            (
                through(None, Some(conn("READY", None, Some("by hand".into()))), ask("s1", None), nobody()),
                Step::ConnectionNotOurs { connection: c1() },
            ),
            (
                through(None, Some(conn("CREATING", None, ours.clone())), ask("s1", None), nobody()),
                Step::WaitConnection { connection: c1(), status: "CREATING".into() },
            ),
            (through(None, Some(conn("UPDATING", None, ours.clone())), ask("s1", None), nobody()), made_through()),
            (
                through(None, Some(conn("CREATE_FAILED", None, ours.clone())), ask("s1", None), nobody()),
                Step::ConnectionFailed { connection: c1(), status: "CREATE_FAILED".into() },
            ),
            (through(None, ready(None), ask("s1", None), nobody()), made_through()),
            // What the data products agree on is set; what they disagree on is not.
            (
                through(None, ready(None), ask("s1", Some(on(None))), nobody()),
                Step::UpdateConnection { connection: c1(), patch: patch(None, Some(on(None))) },
            ),
            (
                through(None, ready(None), ask("s2", Some(on(None))), nobody()),
                Step::UpdateConnection { connection: c1(), patch: patch(Some("s2"), Some(on(None))) },
            ),
            (
                through(None, ready(None), ask("s2", None), against(&["team/b"], &[])),
                Step::SecretConflict { connection: c1(), with: vec!["team/b".into()] },
            ),
            (through(None, ready(None), ask("s1", Some(on(None))), against(&[], &["team/b"])), made_through()),
            (
                through(None, ready(Some(on(None))), ask("s2", Some(off())), against(&[], &["team/b"])),
                Step::UpdateConnection { connection: c1(), patch: patch(Some("s2"), None) },
            ),
            (
                through(None, ready(Some(on(Some("cron(0 3 * * ? *)")))), ask("s1", Some(on(None))), nobody()),
                made_through(),
            ),
            (
                through(
                    None,
                    ready(Some(Lineage { enabled: false, schedule: Some("cron(0 3 * * ? *)".into()) })),
                    ask("s1", Some(off())),
                    nobody(),
                ),
                made_through(),
            ),
        ];
        for (obs, want) in cases {
            assert_eq!(plan(&config(), "h", &obs, &RunState::default()), want, "{obs:?}");
        }
    }

    fn steady(data_source: DataSourceInfo) -> Observed {
        let upstream = Upstream::KnownFromStatus { binding: Binding::Environment("env1".into()) };
        Observed { upstream, data_source: Some(data_source), config_unchanged: false, adopt: false }
    }

    #[test]
    fn a_preview_lists_every_step_until_a_run_a_wait_or_nothing() {
        use DataSourceStatus as D;
        let new = || NEW.to_string();
        let fresh = looked(Enablement::Missing { region: REGION.into(), enabled_in: vec![] }, None, None, None);
        let never_ran = RunState::default();
        assert_eq!(
            steps(&config(), "h", &fresh, &never_ran),
            [
                Step::EnableBlueprint { blueprint: "bp".into(), regions: vec![REGION.into()] },
                Step::CreateProfile { blueprint: "bp".into() },
                Step::CreateEnvironment { profile: new() },
                Step::CreateDataSource { binding: Binding::Environment(new()) },
                Step::StartRun { data_source: new(), reason: RunReason::Initial },
            ]
        );
        let published =
            RunState { last: Some(("r1", RunStatus::Success)), last_config_hash: Some("h"), ..RunState::default() };
        let unchanged = steady(ds(D::Ready, Some(config()), true));
        assert_eq!(steps(&config(), "h", &unchanged, &published), [Step::Done], "nothing to do");
        let drifted = steady(ds(D::Ready, Some(SourceConfig { publish_on_import: false, ..config() }), true));
        assert_eq!(
            steps(&config(), "h", &drifted, &published),
            [Step::UpdateDataSource { data_source: "ds1".into() }],
            "drift put back: the configuration it ran with is the wanted one, no run"
        );
        assert_eq!(
            steps(&config(), "h2", &drifted, &published),
            [
                Step::UpdateDataSource { data_source: "ds1".into() },
                Step::StartRun { data_source: "ds1".into(), reason: RunReason::ConfigChanged }
            ],
            "a spec change: updated, then run"
        );
        let adoptee = Observed { adopt: true, ..steady(ds(D::Ready, Some(config()), false)) };
        assert_eq!(
            steps(&config(), "h", &adoptee, &never_ran),
            [
                Step::AdoptDataSource { data_source: "ds1".into() },
                Step::StartRun { data_source: "ds1".into(), reason: RunReason::Initial }
            ]
        );
        let settling = looked(Enablement::Enabled, Some("p"), Some(env(EnvironmentStatus::Creating)), None);
        let waiting = steps(&config(), "h", &settling, &never_ran);
        assert!(matches!(waiting.as_slice(), [Step::WaitEnvironment { .. }]), "{waiting:?}");
        assert!(!waiting[0].mutates());
    }

    #[test]
    fn the_phases_in_order() {
        use DataSourceStatus as D;
        use EnvironmentStatus as E;
        let on = Enablement::Enabled;
        let missing = |enabled_in: &[&str]| Enablement::Missing {
            region: REGION.into(),
            enabled_in: enabled_in.iter().map(|r| r.to_string()).collect(),
        };
        let active = || Some(env(E::Active));
        let failed = EnvironmentInfo { failure: Some("no region".into()), ..env(E::CreateFailed) };
        let ready = ds(D::Ready, Some(config()), true);
        let drifted = ds(D::Ready, Some(SourceConfig { publish_on_import: false, ..config() }), true);
        let regions = |r: &[&str]| r.iter().map(|r| r.to_string()).collect::<Vec<_>>();
        let cases: Vec<(Observed, Step)> = vec![
            (
                looked(missing(&[]), None, None, None),
                Step::EnableBlueprint { blueprint: "bp".into(), regions: regions(&[REGION]) },
            ),
            (
                looked(missing(&["us-east-1"]), None, None, None),
                Step::EnableBlueprint { blueprint: "bp".into(), regions: regions(&[REGION, "us-east-1"]) },
            ),
            (looked(on.clone(), None, None, None), Step::CreateProfile { blueprint: "bp".into() }),
            (looked(on.clone(), Some("p"), None, None), Step::CreateEnvironment { profile: "p".into() }),
            (
                looked(on.clone(), Some("p"), Some(env(E::Creating)), None),
                Step::WaitEnvironment { environment: "env1".into(), status: E::Creating },
            ),
            (
                looked(on.clone(), Some("p"), Some(failed), None),
                Step::EnvironmentFailed { environment: "env1".into(), why: "no region".into() },
            ),
            (
                looked(on.clone(), Some("p"), Some(env(E::Other("HIBERNATING".into()))), None),
                Step::EnvironmentFailed { environment: "env1".into(), why: "environment env1 is HIBERNATING".into() },
            ),
            (
                looked(on.clone(), Some("p"), active(), None),
                Step::CreateDataSource { binding: Binding::Environment("env1".into()) },
            ),
            (
                looked(on.clone(), Some("p"), active(), Some(ds(D::Ready, Some(config()), false))),
                Step::NotOurs { data_source: "ds1".into() },
            ),
            (
                looked(on.clone(), Some("p"), active(), Some(ds(D::Creating, None, true))),
                Step::WaitDataSource { data_source: "ds1".into(), status: D::Creating },
            ),
            (
                looked(on.clone(), Some("p"), active(), Some(ds(D::FailedCreation, None, true))),
                Step::DataSourceFailed { data_source: "ds1".into(), why: "data source ds1 is FAILED_CREATION".into() },
            ),
            (
                looked(on.clone(), Some("p"), active(), Some(drifted.clone())),
                Step::UpdateDataSource { data_source: "ds1".into() },
            ),
            (
                looked(on, Some("p"), active(), Some(ready.clone())),
                Step::StartRun { data_source: "ds1".into(), reason: RunReason::Initial },
            ),
            // The steady state: known from status, only the data source was read.
            (steady(drifted), Step::UpdateDataSource { data_source: "ds1".into() }),
            (steady(ready), Step::StartRun { data_source: "ds1".into(), reason: RunReason::Initial }),
            // Seen in the listing, known unchanged: no configuration to compare, none needed.
            (
                Observed { config_unchanged: true, ..steady(ds(D::Ready, None, true)) },
                Step::StartRun { data_source: "ds1".into(), reason: RunReason::Initial },
            ),
            (steady(ds(D::Ready, None, true)), Step::UpdateDataSource { data_source: "ds1".into() }),
        ];
        for (obs, want) in cases {
            assert_eq!(plan(&config(), "h1", &obs, &RunState::default()), want, "{obs:?}");
        }
    }

    #[test]
    fn runs_start_deliberately() {
        let obs = steady(ds(DataSourceStatus::Ready, Some(config()), true));
        let while_running = steady(ds(DataSourceStatus::Running, Some(config()), true));
        let done = |status: RunStatus| RunState {
            last: Some(("r1", status)),
            last_config_hash: Some("h1"),
            ..Default::default()
        };
        let start = |reason| Step::StartRun { data_source: "ds1".into(), reason };
        let cases: Vec<(&Observed, RunState, Step)> = vec![
            (&obs, done(RunStatus::Success), Step::Done),
            (
                &obs,
                RunState { last_config_hash: Some("h0"), ..done(RunStatus::Success) },
                start(RunReason::ConfigChanged),
            ),
            (
                &obs,
                RunState { requested_at: Some("t2"), handled: Some("t1"), ..done(RunStatus::Success) },
                start(RunReason::Requested),
            ),
            (&obs, RunState { requested_at: Some("t1"), handled: Some("t1"), ..done(RunStatus::Success) }, Step::Done),
            (&while_running, done(RunStatus::Running), Step::WaitRun { run: "r1".into() }),
            (
                &while_running,
                done(RunStatus::Success),
                Step::WaitDataSource { data_source: "ds1".into(), status: DataSourceStatus::Running },
            ),
            (&obs, RunState { consecutive_failures: 1, retry_due: false, ..done(RunStatus::Failed) }, Step::Done),
            (
                &obs,
                RunState { consecutive_failures: 1, retry_due: true, ..done(RunStatus::Failed) },
                start(RunReason::Retry),
            ),
            (
                &obs,
                RunState { consecutive_failures: 3, retry_due: true, ..done(RunStatus::PartiallySucceeded) },
                Step::RunGaveUp,
            ),
            // A request beats the retry limit: a person asked.
            (
                &obs,
                RunState { consecutive_failures: 3, requested_at: Some("t9"), ..done(RunStatus::Failed) },
                start(RunReason::Requested),
            ),
        ];
        for (obs, runs, want) in cases {
            assert_eq!(plan(&config(), "h1", obs, &runs), want, "{runs:?}");
        }
    }

    #[test]
    fn a_config_change_waits_for_the_running_import() {
        let old = ds(DataSourceStatus::Running, Some(SourceConfig { publish_on_import: false, ..config() }), true);
        let runs =
            RunState { last: Some(("r1", RunStatus::Running)), last_config_hash: Some("h0"), ..Default::default() };
        assert_eq!(plan(&config(), "h1", &steady(old), &runs), Step::WaitRun { run: "r1".into() });
    }
}
