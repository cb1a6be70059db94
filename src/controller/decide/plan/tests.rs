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

fn through(environment: Option<&str>, connection: Option<ConnectionInfo>, ask: Ask, others: Disagreement) -> Observed {
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
    let done =
        |status: RunStatus| RunState { last: Some(("r1", status)), last_config_hash: Some("h1"), ..Default::default() };
    let start = |reason| Step::StartRun { data_source: "ds1".into(), reason };
    let cases: Vec<(&Observed, RunState, Step)> = vec![
        (&obs, done(RunStatus::Success), Step::Done),
        (&obs, RunState { last_config_hash: Some("h0"), ..done(RunStatus::Success) }, start(RunReason::ConfigChanged)),
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
    let runs = RunState { last: Some(("r1", RunStatus::Running)), last_config_hash: Some("h0"), ..Default::default() };
    assert_eq!(plan(&config(), "h1", &steady(old), &runs), Step::WaitRun { run: "r1".into() });
}
