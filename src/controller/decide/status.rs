//! How what a pass saw and did becomes status: records applied, phase conditions set, Ready
//! summarised with Reconciling / Stalled, and an Event for every condition that turned to news. Pure,
//! so the orchestrator's bookkeeping is table-tested here.

use crate::crd::RedshiftDataProductStatus;
use crate::crd::conditions::{self, ConditionStatus, Observation, READY};

use super::pass::{Effects, Note, Phase, Record};
use crate::datazone::Generation;

/// Applies `effects` to `status` for `generation`, at `now`.
pub fn apply(status: &mut RedshiftDataProductStatus, effects: &Effects, generation: Option<i64>, now: &str) {
    for r in &effects.records {
        match r {
            Record::Resolved { domain, project, generation } => {
                status.domain_id = Some(domain.clone());
                status.project_id = Some(project.clone());
                status.domain_version = Some(generation.as_str().to_string());
            }
            Record::Connection(id) => status.connection_id = Some(id.clone()),
            Record::Blueprint(id) => status.blueprint_id = Some(id.clone()),
            Record::Profile(id) => status.environment_profile_id = Some(id.clone()),
            Record::Environment(id) => status.environment_id = Some(id.clone()),
            Record::DataSource { id, name } => {
                status.data_source_id = Some(id.clone());
                status.data_source_name = Some(name.clone());
            }
            Record::DataSourceGone => {
                status.data_source_id = None;
                status.data_source_updated_at = None;
            }
            Record::DataSourceSeen(at) => status.data_source_updated_at = at.clone(),
            Record::RunsCleared => {
                status.last_run = None;
                status.consecutive_run_failures = None;
            }
            Record::Run(summary) => status.last_run = Some(summary.clone()),
            Record::RequestHandled(at) => status.last_handled_reconcile_at = at.clone(),
            Record::Assets { assets, published } => {
                status.assets = assets.clone();
                status.published_asset_count = Some(*published);
            }
            Record::RunFailures(n) => status.consecutive_run_failures = *n,
            Record::Adopted(description) => status.adopted_description = Some(description.clone()),
            Record::AssetMetadata(entries) => status.asset_metadata = entries.clone(),
            Record::AssetForms(forms) => status.asset_forms = forms.clone(),
            Record::MetadataGeneration(g) => status.metadata_generation = g.clone(),
            Record::DataProducts(products) => status.data_products = products.clone(),
            Record::Access(access) => status.access = access.clone(),
            Record::MetadataRun { run, generation } => {
                status.metadata_run_id = Some(run.clone());
                status.metadata_observed_generation = *generation;
            }
        }
    }
    for c in &effects.conditions {
        let s = if c.ok { ConditionStatus::True } else { ConditionStatus::False };
        let obs = Observation::new(c.phase.condition(), s, &c.reason, &c.message);
        conditions::set_condition(&mut status.conditions, obs, generation, now);
    }
}

/// The Ready condition summarises the phases for the current generation; `Reconciling` or
/// `Stalled` says whether the operator is still on its way there.
pub fn summarize(status: &mut RedshiftDataProductStatus, stalled: bool, generation: Option<i64>, now: &str) {
    // The first phase not ready; a phase False for this generation says more than one not looked
    // at yet (a pass blocked before the earlier phases, as a refused adoption is, names its reason).
    let generation_of_domain = Generation::parse(status.domain_version.as_deref());
    let not_ready: Vec<&Phase> = Phase::of(generation_of_domain)
        .iter()
        .filter(|p| !conditions::is_true_for(&status.conditions, p.condition(), generation))
        .collect();
    let is_false = |p: &&&Phase| {
        conditions::find(&status.conditions, p.condition())
            .is_some_and(|c| c.status == ConditionStatus::False && c.observed_generation == generation)
    };
    let first_not_ready = not_ready.iter().find(is_false).or(not_ready.first()).copied();
    let (ready, reason, message) = match first_not_ready {
        None => {
            let n = status.published_asset_count.unwrap_or(0);
            (true, "Published".to_string(), format!("{n} assets published"))
        }
        Some(p) => match conditions::find(&status.conditions, p.condition()) {
            Some(c) => (false, c.reason.clone(), format!("{}: {}", c.type_, c.message)),
            None => (false, "Progressing".to_string(), "reconciling".to_string()),
        },
    };
    let s = if ready { ConditionStatus::True } else { ConditionStatus::False };
    conditions::set_condition(&mut status.conditions, Observation::new(READY, s, &reason, &message), generation, now);
    conditions::set_progress(&mut status.conditions, ready, stalled, &reason, &message, generation, now);
}

/// An Event for Ready turning True, and for Ready or a phase turning False from True (a
/// regression) or on a `problem` (the pass was blocked or stalled). A data product on its way
/// (its phases first False while their objects are created) says so through the Events of what
/// it did (`DataSourceCreated`, `RunStarted`, …): a Warning for each phase not yet reached would
/// be noise to a person and, at a fleet's size, load on the API server.
pub fn transitions(before: &RedshiftDataProductStatus, after: &RedshiftDataProductStatus, problem: bool) -> Vec<Note> {
    let mut notes = Vec::new();
    for c in &after.conditions {
        let was = conditions::find(&before.conditions, &c.type_).map(|o| o.status);
        if was == Some(c.status) {
            continue;
        }
        let ok = c.status == ConditionStatus::True;
        let phase_or_ready = c.type_ == READY || Phase::ALL.iter().any(|p| p.condition() == c.type_);
        let news =
            if ok { c.type_ == READY } else { phase_or_ready && (was == Some(ConditionStatus::True) || problem) };
        if news {
            notes.push(Note {
                warning: !ok,
                reason: format!("{}{}", c.type_, if ok { "" } else { "False" }),
                message: format!("{}: {}", c.reason, c.message),
            });
        }
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::conditions::{RECONCILING, STALLED};

    fn all_phases_ok() -> Effects {
        let mut e = Effects::default();
        for p in Phase::ALL {
            e.ok(p, "Fine", "fine");
        }
        e
    }

    #[test]
    fn ready_summarises_the_first_phase_not_ready() {
        let mut status = RedshiftDataProductStatus { published_asset_count: Some(3), ..Default::default() };
        apply(&mut status, &all_phases_ok(), Some(2), "t1");
        summarize(&mut status, false, Some(2), "t1");
        let ready = conditions::find(&status.conditions, READY).unwrap();
        assert_eq!(
            (ready.status, ready.reason.as_str(), ready.message.as_str()),
            (ConditionStatus::True, "Published", "3 assets published")
        );
        assert!(conditions::find(&status.conditions, RECONCILING).is_none());

        let mut e = Effects::default();
        e.not_yet(Phase::EnvironmentReady, "Creating", "environment env1 is CREATING");
        apply(&mut status, &e, Some(2), "t2");
        summarize(&mut status, false, Some(2), "t2");
        let ready = conditions::find(&status.conditions, READY).unwrap();
        assert_eq!(ready.reason, "Creating");
        assert_eq!(ready.message, "EnvironmentReady: environment env1 is CREATING");
        assert_eq!(ready.last_transition_time, "t2");
        assert!(conditions::find(&status.conditions, RECONCILING).is_some());

        // A True phase of an older generation does not count.
        summarize(&mut status, true, Some(3), "t3");
        let ready = conditions::find(&status.conditions, READY).unwrap();
        assert!(ready.message.starts_with("ConnectionResolved"), "{}", ready.message);
        assert!(conditions::find(&status.conditions, STALLED).is_some());
    }

    #[test]
    fn ready_names_a_false_phase_before_one_not_looked_at() {
        let mut status = RedshiftDataProductStatus::default();
        let mut e = Effects::default();
        e.ok(Phase::ConnectionResolved, "Resolved", "ok").not_yet(Phase::DataSourceReady, "AdoptionTaken", "taken");
        apply(&mut status, &e, Some(1), "t");
        summarize(&mut status, true, Some(1), "t");
        let ready = conditions::find(&status.conditions, READY).unwrap();
        assert_eq!((ready.reason.as_str(), ready.message.as_str()), ("AdoptionTaken", "DataSourceReady: taken"));
    }

    #[test]
    fn records_set_and_clear_ids() {
        let mut status = RedshiftDataProductStatus {
            data_source_id: Some("ds-old".into()),
            consecutive_run_failures: Some(2),
            ..Default::default()
        };
        let mut e = Effects::default();
        e.record(Record::DataSourceGone);
        apply(&mut status, &e, None, "t");
        assert_eq!(status.data_source_id, None);
        let mut e = Effects::default();
        e.record(Record::DataSource { id: "ds-new".into(), name: "n".into() }).record(Record::RunsCleared);
        apply(&mut status, &e, None, "t");
        assert_eq!(status.data_source_id.as_deref(), Some("ds-new"));
        assert_eq!(status.consecutive_run_failures, None);
    }

    #[test]
    fn events_for_turning_conditions_only() {
        let before = RedshiftDataProductStatus::default();
        let mut after = before.clone();
        let mut e = Effects::default();
        e.ok(Phase::ConnectionResolved, "Resolved", "ok").not_yet(Phase::BlueprintEnabled, "AccessDenied", "no");
        apply(&mut after, &e, Some(1), "t");
        summarize(&mut after, true, Some(1), "t");
        let reasons = |before: &RedshiftDataProductStatus, after: &RedshiftDataProductStatus, problem| -> Vec<String> {
            transitions(before, after, problem).into_iter().map(|n| n.reason).collect()
        };
        assert_eq!(reasons(&before, &after, true), ["BlueprintEnabledFalse", "ReadyFalse"], "a problem");
        assert!(reasons(&before, &after, false).is_empty(), "on its way: phases not yet reached are no news");
        assert!(reasons(&after, &after, true).is_empty(), "nothing turned, nothing to say");

        let mut ready = after.clone();
        apply(&mut ready, &all_phases_ok(), Some(1), "t2");
        summarize(&mut ready, false, Some(1), "t2");
        assert_eq!(reasons(&after, &ready, false), ["Ready"]);
        let mut updating = ready.clone();
        let mut e = Effects::default();
        e.not_yet(Phase::DataSourceReady, "Updating", "data source is UPDATING");
        apply(&mut updating, &e, Some(2), "t3");
        summarize(&mut updating, false, Some(2), "t3");
        assert_eq!(reasons(&ready, &updating, false), ["ReadyFalse", "DataSourceReadyFalse"], "a regression");
    }
}
