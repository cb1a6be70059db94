//! The decision: given what the spec wants and what DataZone holds, the one next step. Pure, so
//! every situation is a table row in the tests below.

use crate::datazone::{DataSourceInfo, EnvironmentInfo, SourceConfig};

use super::desired::{config_matches, is_ours};

/// A run that failed is retried at most this many times in a row, then left for a person (or a
/// spec change, or the reconcile-request annotation): runs are capped at 25 a day.
pub const MAX_RUN_RETRIES: u32 = 3;

/// What DataZone holds, as far as this data product is concerned.
#[derive(Clone, Debug, Default)]
pub struct Observed<'a> {
    /// Regions the Data Warehouse blueprint is enabled in for the producer account
    /// (`None`: no configuration at all).
    pub blueprint_regions: Option<&'a [String]>,
    pub profile: Option<&'a str>,
    pub environment: Option<&'a EnvironmentInfo>,
    pub data_source: Option<&'a DataSourceInfo>,
}

/// What status says about runs, and whether a retry is due.
#[derive(Clone, Debug, Default)]
pub struct RunState<'a> {
    /// The last run's ID and status, if any.
    pub last: Option<(&'a str, &'a str)>,
    /// The configuration fingerprint the last run ran with.
    pub last_config_hash: Option<&'a str>,
    pub requested_at: Option<&'a str>,
    pub handled: Option<&'a str>,
    pub consecutive_failures: u32,
    /// The failed run's backoff has passed.
    pub retry_due: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
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

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    EnableBlueprint,
    CreateProfile,
    CreateEnvironment,
    WaitEnvironment,
    EnvironmentFailed(String),
    CreateDataSource,
    /// A data source with our name exists but we did not create it: never touched.
    NotOurs(String),
    WaitDataSource(String),
    DataSourceFailed(String),
    UpdateDataSource,
    StartRun(RunReason),
    WaitRun(String),
    /// The last run failed and retries are used up.
    RunGaveUp,
    Done,
}

impl Step {
    /// How many of the phases BlueprintEnabled, EnvironmentReady and DataSourceReady lie behind
    /// this step (they are True when it is the next thing to do).
    pub fn phases_behind(&self) -> u8 {
        match self {
            Step::EnableBlueprint => 0,
            Step::CreateProfile | Step::CreateEnvironment | Step::WaitEnvironment | Step::EnvironmentFailed(_) => 1,
            Step::CreateDataSource
            | Step::NotOurs(_)
            | Step::WaitDataSource(_)
            | Step::DataSourceFailed(_)
            | Step::UpdateDataSource => 2,
            Step::StartRun(_) | Step::WaitRun(_) | Step::RunGaveUp | Step::Done => 3,
        }
    }
}

pub fn plan(region: &str, desired: &SourceConfig, desired_hash: &str, obs: &Observed, runs: &RunState) -> Step {
    if !obs.blueprint_regions.is_some_and(|r| r.iter().any(|x| x == region)) {
        return Step::EnableBlueprint;
    }
    if obs.profile.is_none() {
        return Step::CreateProfile;
    }
    let Some(env) = obs.environment else { return Step::CreateEnvironment };
    match env.status.as_str() {
        "ACTIVE" => {}
        "CREATING" | "UPDATING" => return Step::WaitEnvironment,
        other => {
            let why = env.failure.clone().unwrap_or_else(|| format!("environment {} is {other}", env.id));
            return Step::EnvironmentFailed(why);
        }
    }
    let Some(ds) = obs.data_source else { return Step::CreateDataSource };
    if !is_ours(ds.description.as_deref()) {
        return Step::NotOurs(ds.id.clone());
    }
    match ds.status.as_str() {
        "READY" => {}
        "FAILED_CREATION" | "FAILED_UPDATE" | "FAILED_DELETION" => {
            return Step::DataSourceFailed(
                ds.error.clone().unwrap_or_else(|| format!("data source {} is {}", ds.id, ds.status)),
            );
        }
        // RUNNING without a run of ours active is a scheduled run: wait for it.
        "RUNNING" if runs.last.is_none_or(|(_, s)| !is_active(s)) => return Step::WaitDataSource(ds.status.clone()),
        "RUNNING" => {}
        other => return Step::WaitDataSource(other.to_string()),
    }
    if !ds.config.as_ref().is_some_and(|actual| config_matches(actual, desired)) {
        if runs.last.is_some_and(|(_, s)| is_active(s)) {
            // Updating under a running import is refused; finish the run first.
            return Step::WaitRun(runs.last.map(|(id, _)| id.to_string()).unwrap_or_default());
        }
        return Step::UpdateDataSource;
    }
    if let Some((id, status)) = runs.last
        && is_active(status)
    {
        return Step::WaitRun(id.to_string());
    }
    if runs.requested_at.is_some() && runs.requested_at != runs.handled {
        return Step::StartRun(RunReason::Requested);
    }
    let Some((_, status)) = runs.last else { return Step::StartRun(RunReason::Initial) };
    if runs.last_config_hash != Some(desired_hash) {
        return Step::StartRun(RunReason::ConfigChanged);
    }
    if status == "SUCCESS" {
        return Step::Done;
    }
    if runs.consecutive_failures >= MAX_RUN_RETRIES {
        return Step::RunGaveUp;
    }
    if runs.retry_due { Step::StartRun(RunReason::Retry) } else { Step::Done }
}

pub fn is_active(run_status: &str) -> bool {
    matches!(run_status, "REQUESTED" | "RUNNING")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_behind_each_step() {
        let cases = [
            (Step::EnableBlueprint, 0),
            (Step::CreateProfile, 1),
            (Step::WaitEnvironment, 1),
            (Step::EnvironmentFailed("x".into()), 1),
            (Step::CreateDataSource, 2),
            (Step::NotOurs("ds".into()), 2),
            (Step::UpdateDataSource, 2),
            (Step::StartRun(RunReason::Initial), 3),
            (Step::WaitRun("r".into()), 3),
            (Step::RunGaveUp, 3),
            (Step::Done, 3),
        ];
        for (step, want) in cases {
            assert_eq!(step.phases_behind(), want, "{step:?}");
        }
    }
    use crate::datazone::{SchemaFilter, Storage};

    const REGION: &str = "eu-central-1";

    fn config() -> SourceConfig {
        SourceConfig {
            storage: Storage::Cluster("prod-dwh".into()),
            database: "sales".into(),
            secret_arn: "arn:secret".into(),
            filters: vec![SchemaFilter { schema: "public".into(), includes: ["orders".to_string()].into() }],
            publish_on_import: true,
            business_name_generation: false,
            schedule: None,
        }
    }

    fn env(status: &str) -> EnvironmentInfo {
        EnvironmentInfo { id: "env1".into(), status: status.into(), failure: None }
    }

    fn ds(status: &str, config: Option<SourceConfig>, ours: bool) -> DataSourceInfo {
        DataSourceInfo {
            id: "ds1".into(),
            name: "n".into(),
            status: status.into(),
            environment_id: Some("env1".into()),
            description: Some(if ours { "x; managed-by=datazone-operator".into() } else { "by hand".into() }),
            config,
            error: None,
        }
    }

    #[test]
    fn the_phases_in_order() {
        let desired = config();
        let regions = vec![REGION.to_string()];
        let other_region = vec!["us-east-1".to_string()];
        let (active, creating, failed) = (
            env("ACTIVE"),
            env("CREATING"),
            EnvironmentInfo { failure: Some("no region".into()), ..env("CREATE_FAILED") },
        );
        let (ready, ready_drifted, theirs) = (
            ds("READY", Some(config()), true),
            ds("READY", Some(SourceConfig { publish_on_import: false, ..config() }), true),
            ds("READY", Some(config()), false),
        );
        let (creating_ds, broken) = (ds("CREATING", None, true), ds("FAILED_CREATION", None, true));
        let none = RunState::default();
        let cases: Vec<(Observed, Step)> = vec![
            (Observed::default(), Step::EnableBlueprint),
            (Observed { blueprint_regions: Some(&other_region), ..Default::default() }, Step::EnableBlueprint),
            (Observed { blueprint_regions: Some(&regions), ..Default::default() }, Step::CreateProfile),
            (
                Observed { blueprint_regions: Some(&regions), profile: Some("p"), ..Default::default() },
                Step::CreateEnvironment,
            ),
            (
                Observed {
                    blueprint_regions: Some(&regions),
                    profile: Some("p"),
                    environment: Some(&creating),
                    ..Default::default()
                },
                Step::WaitEnvironment,
            ),
            (
                Observed {
                    blueprint_regions: Some(&regions),
                    profile: Some("p"),
                    environment: Some(&failed),
                    ..Default::default()
                },
                Step::EnvironmentFailed("no region".into()),
            ),
            (
                Observed {
                    blueprint_regions: Some(&regions),
                    profile: Some("p"),
                    environment: Some(&active),
                    data_source: None,
                },
                Step::CreateDataSource,
            ),
            (
                Observed {
                    blueprint_regions: Some(&regions),
                    profile: Some("p"),
                    environment: Some(&active),
                    data_source: Some(&theirs),
                },
                Step::NotOurs("ds1".into()),
            ),
            (
                Observed {
                    blueprint_regions: Some(&regions),
                    profile: Some("p"),
                    environment: Some(&active),
                    data_source: Some(&creating_ds),
                },
                Step::WaitDataSource("CREATING".into()),
            ),
            (
                Observed {
                    blueprint_regions: Some(&regions),
                    profile: Some("p"),
                    environment: Some(&active),
                    data_source: Some(&broken),
                },
                Step::DataSourceFailed("data source ds1 is FAILED_CREATION".into()),
            ),
            (
                Observed {
                    blueprint_regions: Some(&regions),
                    profile: Some("p"),
                    environment: Some(&active),
                    data_source: Some(&ready_drifted),
                },
                Step::UpdateDataSource,
            ),
            (
                Observed {
                    blueprint_regions: Some(&regions),
                    profile: Some("p"),
                    environment: Some(&active),
                    data_source: Some(&ready),
                },
                Step::StartRun(RunReason::Initial),
            ),
        ];
        for (obs, want) in cases {
            assert_eq!(plan(REGION, &desired, "h1", &obs, &none), want, "{obs:?}");
        }
    }

    #[test]
    fn runs_start_deliberately() {
        let desired = config();
        let regions = vec![REGION.to_string()];
        let (active, ready, running) =
            (env("ACTIVE"), ds("READY", Some(config()), true), ds("RUNNING", Some(config()), true));
        let obs = Observed {
            blueprint_regions: Some(&regions),
            profile: Some("p"),
            environment: Some(&active),
            data_source: Some(&ready),
        };
        let while_running = Observed { data_source: Some(&running), ..obs.clone() };
        let done = |status: &'static str| RunState {
            last: Some(("r1", status)),
            last_config_hash: Some("h1"),
            ..Default::default()
        };
        let cases: Vec<(&Observed, RunState, Step)> = vec![
            (&obs, done("SUCCESS"), Step::Done),
            (
                &obs,
                RunState { last_config_hash: Some("h0"), ..done("SUCCESS") },
                Step::StartRun(RunReason::ConfigChanged),
            ),
            (
                &obs,
                RunState { requested_at: Some("t2"), handled: Some("t1"), ..done("SUCCESS") },
                Step::StartRun(RunReason::Requested),
            ),
            (&obs, RunState { requested_at: Some("t1"), handled: Some("t1"), ..done("SUCCESS") }, Step::Done),
            (&while_running, done("RUNNING"), Step::WaitRun("r1".into())),
            (&while_running, done("SUCCESS"), Step::WaitDataSource("RUNNING".into())),
            (&obs, RunState { consecutive_failures: 1, retry_due: false, ..done("FAILED") }, Step::Done),
            (
                &obs,
                RunState { consecutive_failures: 1, retry_due: true, ..done("FAILED") },
                Step::StartRun(RunReason::Retry),
            ),
            (
                &obs,
                RunState { consecutive_failures: 3, retry_due: true, ..done("PARTIALLY_SUCCEEDED") },
                Step::RunGaveUp,
            ),
            // A request beats the retry limit: a person asked.
            (
                &obs,
                RunState { consecutive_failures: 3, requested_at: Some("t9"), ..done("FAILED") },
                Step::StartRun(RunReason::Requested),
            ),
        ];
        for (obs, runs, want) in cases {
            assert_eq!(plan(REGION, &desired, "h1", obs, &runs), want, "{runs:?}");
        }
    }

    #[test]
    fn a_config_change_waits_for_the_running_import() {
        let regions = vec![REGION.to_string()];
        let active = env("ACTIVE");
        let old = ds("RUNNING", Some(SourceConfig { publish_on_import: false, ..config() }), true);
        let obs = Observed {
            blueprint_regions: Some(&regions),
            profile: Some("p"),
            environment: Some(&active),
            data_source: Some(&old),
        };
        let runs = RunState { last: Some(("r1", "RUNNING")), last_config_hash: Some("h0"), ..Default::default() };
        assert_eq!(plan(REGION, &config(), "h1", &obs, &runs), Step::WaitRun("r1".into()));
    }
}
