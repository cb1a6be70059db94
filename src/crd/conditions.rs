//! Status conditions in the shape Kubernetes tooling expects (kstatus, `kubectl wait`,
//! Argo CD, Flux): `type, status, reason, message, observedGeneration, lastTransitionTime`.
//!
//! `lastTransitionTime` changes only when `status` flips, so rewriting identical conditions on
//! every pass produces a byte-identical status and never re-triggers the controller.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The summary condition: True when every phase is done for the current generation.
pub const READY: &str = "Ready";
/// The connection (role, domain) of the data product could be resolved.
pub const CONNECTION_RESOLVED: &str = "ConnectionResolved";
/// The Data Warehouse blueprint is enabled for the producer account.
pub const BLUEPRINT_ENABLED: &str = "BlueprintEnabled";
/// The shared Data Warehouse environment exists and is ACTIVE.
pub const ENVIRONMENT_READY: &str = "EnvironmentReady";
/// V2 domains: the Redshift connection the data source is made through is READY.
pub const CONNECTION_READY: &str = "ConnectionReady";
/// The data source exists and matches the spec.
pub const DATA_SOURCE_READY: &str = "DataSourceReady";
/// The last data source run for the current generation imported and published the assets.
pub const PUBLISHED: &str = "Published";
/// The assets carry the business metadata the data product declares (description, glossary
/// terms, forms); True with reason NothingDeclared when it declares none.
pub const METADATA_APPLIED: &str = "MetadataApplied";

/// The DataZone data products `spec.dataProduct` asks for are made, hold the assets and are
/// listed in the catalog at the operator's revision; True with reason NotDeclared when the spec
/// asks for none.
pub const PRODUCT_LISTED: &str = "ProductListed";

/// The access policy (`spec.access`) answers the subscription requests to the resource's
/// listings; True with reason NotDeclared when the spec declares none (every request waits for a
/// person), False with ApprovalNotAllowed when the connection does not allow its Approve rules.
pub const ACCESS_APPLIED: &str = "AccessApplied";

/// The phases of a pass, in the order a data product goes through them (docs/operations/troubleshooting.md).
pub const PHASES: [&str; 9] = [
    CONNECTION_RESOLVED,
    BLUEPRINT_ENABLED,
    ENVIRONMENT_READY,
    CONNECTION_READY,
    DATA_SOURCE_READY,
    PUBLISHED,
    METADATA_APPLIED,
    PRODUCT_LISTED,
    ACCESS_APPLIED,
];

/// kstatus (Flux, `kubectl wait`-style tooling) reads these two: True while the operator is still
/// working towards Ready, and True when it cannot get there without a person (a terminal error,
/// a failed run, an exhausted quota). Neither is present once Ready.
pub const RECONCILING: &str = "Reconciling";
pub const STALLED: &str = "Stalled";

/// Whether a condition holds.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum ConditionStatus {
    True,
    False,
    Unknown,
}

/// One observation of one aspect of the resource, as in `metav1.Condition`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// Type of the condition, e.g. Ready, ConnectionResolved, Published.
    #[serde(rename = "type")]
    pub type_: String,
    /// True, False or Unknown.
    pub status: ConditionStatus,
    /// Machine-readable CamelCase reason for the last transition or state.
    pub reason: String,
    /// Human-readable explanation.
    pub message: String,
    /// The metadata.generation this condition was computed for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// When `status` last changed (RFC 3339).
    #[schemars(extend("format" = "date-time"))]
    pub last_transition_time: String,
}

/// What a reconcile pass observed for one condition type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observation<'a> {
    pub type_: &'a str,
    pub status: ConditionStatus,
    pub reason: &'a str,
    pub message: &'a str,
}

impl<'a> Observation<'a> {
    pub fn new(type_: &'a str, status: ConditionStatus, reason: &'a str, message: &'a str) -> Self {
        Self { type_, status, reason, message }
    }
}

/// Records `obs` for `generation` in `conditions`, keeping the list ordered by insertion.
///
/// `lastTransitionTime` is set to `now` only when the condition is new or its status changed;
/// a changed reason or message alone keeps the old timestamp. Returns whether anything changed.
pub fn set_condition(
    conditions: &mut Vec<Condition>,
    obs: Observation<'_>,
    generation: Option<i64>,
    now: &str,
) -> bool {
    match conditions.iter_mut().find(|c| c.type_ == obs.type_) {
        Some(existing) => {
            let last_transition_time =
                if existing.status == obs.status { existing.last_transition_time.clone() } else { now.to_string() };
            let updated = Condition {
                type_: existing.type_.clone(),
                status: obs.status,
                reason: obs.reason.to_string(),
                message: obs.message.to_string(),
                observed_generation: generation,
                last_transition_time,
            };
            let changed = *existing != updated;
            *existing = updated;
            changed
        }
        None => {
            conditions.push(Condition {
                type_: obs.type_.to_string(),
                status: obs.status,
                reason: obs.reason.to_string(),
                message: obs.message.to_string(),
                observed_generation: generation,
                last_transition_time: now.to_string(),
            });
            true
        }
    }
}

/// Sets the kstatus pair from the pass's outcome: nothing when Ready, `Stalled` when `stalled`,
/// `Reconciling` otherwise, with Ready's reason and message. The one that no longer applies goes.
/// Ready for an object whose state is one outcome (a connection, a glossary): Ready with
/// `reason` and `message`, and Reconciling or Stalled (`stalled`) while not Ready.
pub fn set_ready(
    conditions: &mut Vec<Condition>,
    ready: bool,
    stalled: bool,
    reason: &str,
    message: &str,
    generation: Option<i64>,
    now: &str,
) {
    let status = if ready { ConditionStatus::True } else { ConditionStatus::False };
    set_condition(conditions, Observation::new(READY, status, reason, message), generation, now);
    set_progress(conditions, ready, stalled, reason, message, generation, now);
}

pub fn set_progress(
    conditions: &mut Vec<Condition>,
    ready: bool,
    stalled: bool,
    reason: &str,
    message: &str,
    generation: Option<i64>,
    now: &str,
) {
    let applies = match (ready, stalled) {
        (true, _) => None,
        (false, true) => Some(STALLED),
        (false, false) => Some(RECONCILING),
    };
    conditions.retain(|c| !matches!(c.type_.as_str(), RECONCILING | STALLED) || Some(c.type_.as_str()) == applies);
    if let Some(type_) = applies {
        set_condition(conditions, Observation::new(type_, ConditionStatus::True, reason, message), generation, now);
    }
}

/// The condition of the given type, if present.
pub fn find<'c>(conditions: &'c [Condition], type_: &str) -> Option<&'c Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

/// True when the condition is True and was computed for `generation` (a stale True from an
/// older spec does not count).
pub fn is_true_for(conditions: &[Condition], type_: &str, generation: Option<i64>) -> bool {
    find(conditions, type_).is_some_and(|c| c.status == ConditionStatus::True && c.observed_generation == generation)
}

/// The current time as RFC 3339 with second precision, as Kubernetes writes timestamps.
pub fn now_rfc3339() -> String {
    jiff::Timestamp::now().round(jiff::Unit::Second).unwrap_or_else(|_| jiff::Timestamp::now()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ConditionStatus::*;

    const T0: &str = "2026-01-01T00:00:00Z";
    const T1: &str = "2026-01-01T00:05:00Z";

    fn ready(status: ConditionStatus, reason: &'static str) -> Observation<'static> {
        Observation::new(READY, status, reason, "msg")
    }

    #[test]
    fn new_condition_gets_now_and_generation() {
        let mut cs = vec![];
        assert!(set_condition(&mut cs, ready(False, "Pending"), Some(3), T0));
        assert_eq!(cs.len(), 1);
        assert_eq!(cs[0].last_transition_time, T0);
        assert_eq!(cs[0].observed_generation, Some(3));
        assert_eq!(cs[0].reason, "Pending");
    }

    #[test]
    fn same_observation_changes_nothing() {
        let mut cs = vec![];
        set_condition(&mut cs, ready(True, "Published"), Some(1), T0);
        let before = cs.clone();
        assert!(!set_condition(&mut cs, ready(True, "Published"), Some(1), T1));
        assert_eq!(cs, before, "an identical observation must leave status byte-identical");
    }

    #[test]
    fn reason_change_without_status_change_keeps_transition_time() {
        let mut cs = vec![];
        set_condition(&mut cs, ready(False, "Pending"), Some(1), T0);
        assert!(set_condition(&mut cs, ready(False, "EnvironmentCreating"), Some(1), T1));
        assert_eq!(cs[0].reason, "EnvironmentCreating");
        assert_eq!(cs[0].last_transition_time, T0);
    }

    #[test]
    fn status_flip_moves_transition_time() {
        let mut cs = vec![];
        set_condition(&mut cs, ready(False, "Pending"), Some(1), T0);
        assert!(set_condition(&mut cs, ready(True, "Published"), Some(1), T1));
        assert_eq!(cs[0].status, True);
        assert_eq!(cs[0].last_transition_time, T1);
    }

    #[test]
    fn new_generation_is_recorded_without_transition() {
        let mut cs = vec![];
        set_condition(&mut cs, ready(True, "Published"), Some(1), T0);
        assert!(set_condition(&mut cs, ready(True, "Published"), Some(2), T1));
        assert_eq!(cs[0].observed_generation, Some(2));
        assert_eq!(cs[0].last_transition_time, T0);
    }

    #[test]
    fn other_types_are_untouched_and_order_is_stable() {
        let mut cs = vec![];
        set_condition(&mut cs, Observation::new(CONNECTION_RESOLVED, True, "Resolved", ""), Some(1), T0);
        set_condition(&mut cs, ready(False, "Pending"), Some(1), T0);
        set_condition(&mut cs, Observation::new(CONNECTION_RESOLVED, False, "AccessDenied", "x"), Some(1), T1);
        let types: Vec<_> = cs.iter().map(|c| c.type_.as_str()).collect();
        assert_eq!(types, [CONNECTION_RESOLVED, READY]);
        assert_eq!(find(&cs, READY).map(|c| c.last_transition_time.as_str()), Some(T0));
    }

    #[test]
    fn reconciling_and_stalled_follow_the_outcome() {
        let types = |cs: &[Condition]| cs.iter().map(|c| (c.type_.clone(), c.reason.clone())).collect::<Vec<_>>();
        let pair = |t: &str, r: &str| (t.to_string(), r.to_string());
        let mut cs = vec![];
        set_progress(&mut cs, false, false, "Creating", "environment is CREATING", Some(1), T0);
        assert_eq!(types(&cs), [pair(RECONCILING, "Creating")]);
        set_progress(&mut cs, false, false, "Running", "run r1 in progress", Some(1), T1);
        assert_eq!(cs[0].last_transition_time, T0, "still reconciling: no transition");
        set_progress(&mut cs, false, true, "RunFailed", "failed: no_such_table", Some(1), T1);
        assert_eq!(types(&cs), [pair(STALLED, "RunFailed")], "stalled replaces reconciling");
        set_progress(&mut cs, false, false, "Updating", "spec changed", Some(2), T1);
        assert_eq!(types(&cs), [pair(RECONCILING, "Updating")]);
        set_progress(&mut cs, true, false, "Published", "3 assets", Some(2), T1);
        assert!(cs.is_empty(), "neither once Ready");
        // Other conditions are left alone.
        let mut cs = vec![];
        set_condition(&mut cs, ready(True, "Published"), Some(1), T0);
        set_progress(&mut cs, true, true, "Published", "", Some(1), T0);
        assert_eq!(types(&cs), [pair(READY, "Published")]);
    }

    #[test]
    fn is_true_for_requires_current_generation() {
        let mut cs = vec![];
        set_condition(&mut cs, ready(True, "Published"), Some(1), T0);
        assert!(is_true_for(&cs, READY, Some(1)));
        assert!(!is_true_for(&cs, READY, Some(2)), "a True from an older generation is stale");
        assert!(!is_true_for(&cs, PUBLISHED, Some(1)));
    }

    #[test]
    fn serializes_with_kubernetes_field_names() {
        let mut cs = vec![];
        set_condition(&mut cs, ready(True, "Published"), Some(4), T0);
        let json = serde_json::to_value(&cs[0]).unwrap();
        assert_eq!(json["type"], "Ready");
        assert_eq!(json["status"], "True");
        assert_eq!(json["observedGeneration"], 4);
        assert_eq!(json["lastTransitionTime"], T0);
    }

    #[test]
    fn now_is_rfc3339_seconds() {
        let now = now_rfc3339();
        assert!(now.ends_with('Z') && !now.contains('.'), "{now}");
        assert!(now.parse::<jiff::Timestamp>().is_ok());
    }
}
