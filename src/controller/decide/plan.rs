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
mod tests;
