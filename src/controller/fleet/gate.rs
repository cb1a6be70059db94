//! The passes under way at once (`--concurrency`, across every watched scope), and who goes next
//! when one ends. DataZone's quotas are per API (docs/datazone-semantics.md §8), and each stage of
//! a data product's way to Ready calls its own operations: creating data sources, starting runs,
//! listing data products. A fleet taken in the order it came due moves in waves — every data
//! product creates its data source, then every one starts its run — and each wave waits for its
//! one operation's quota while the others stand idle (measured: five plants of 1,000 took 2.28 ×
//! the tightest quota's bound). A place that comes free therefore goes to the stage with the
//! fewest passes under way (the one furthest along among equals, then the one waiting longest),
//! so every stage keeps its quota busy at once; taking the furthest along first instead put
//! every place into one stage, whose one quota then bounded the fleet again (one plant of 4,000
//! alone: 5 data products a second where its quotas allow 20). A settled data product's resync
//! makes no progress: it goes only when no other stage waits. Passes go by stage only while a
//! DataZone pace is saturated or passes queue for rounds ([`Gate::backlogged`]), and a minute
//! after ([`Balance`]); otherwise every pass has the same stage ([`IN_TURN`]) and they go in the
//! order they came due (`data_product::reconcile`).

use std::cmp::Reverse;
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use kube::ResourceExt;
use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::controller::decide::pass::FINALIZER;
use crate::crd::RedshiftDataProduct;
use crate::crd::conditions::{PHASES, READY};

/// The stage of every pass when passes go in the order they came due.
pub const IN_TURN: u8 = 1;

/// How far `p` is on its way to Ready (its stage), as its status last said: the phases passed,
/// plus two; one just applied, whose first pass only adds the finalizer, is 1; a settled data
/// product (Ready for its generation) is 0, last in line. The finalizer's pass is a stage of its
/// own: a fleet applied over tens of seconds (a plant of 4,000) queues a first pass for each data
/// product as it comes, and each second pass, the one that calls DataZone, queued behind every
/// first pass of those applied since; with both one stage, the plant made no DataZone call for
/// 15–20 s while its first passes ran at 70 a second (docs/design/fleet.md).
pub fn priority(p: &RedshiftDataProduct) -> u8 {
    let taken_in = p.finalizers().iter().any(|f| f == FINALIZER) || p.metadata.deletion_timestamp.is_some();
    if !taken_in {
        return 1;
    }
    let Some(status) = p.status.as_ref() else { return 2 };
    let is_true = |kind: &str| status.conditions.iter().any(|c| c.type_ == kind && format!("{:?}", c.status) == "True");
    if is_true(READY) && status.observed_generation == p.metadata.generation {
        return 0;
    }
    2 + PHASES.iter().filter(|s| is_true(s)).count() as u8
}

/// How long passes stay balanced by stage after a pace was last seen saturated. Balanced, a fleet
/// publishing under per-API quotas spreads its calls over every operation, and each pace may then
/// read below saturated: decided pass by pass, the gate flipped back to the order they came due,
/// and the fleet to waves (five plants of 1,000: 1,606 Ready after 290 s where balanced stages
/// had all 5,000 Ready at 319 s).
pub const BALANCED_FOR: Duration = Duration::from_secs(60);

/// Passes waiting for a place, in rounds of `--concurrency`, from which they go by stage: a fleet
/// just applied queues every data product's first pass at once, and in turn each of its data
/// products would make its first call before any made its second. A pace shows it saturated
/// only after tens of seconds (`datazone::pace::SATURATED`); five plants of 1,000 started their
/// runs at a few a second for the first 30 s of the publish (docs/design/fleet.md). A few dozen
/// passes (a wave sharing one listing) stay in turn.
const BACKLOG_ROUNDS: usize = 8;

/// Whether passes go by stage: while a pace is saturated or passes queue ([`Gate::backlogged`]),
/// and [`BALANCED_FOR`] after.
#[derive(Debug, Default)]
pub struct Balance {
    last_saturated: Mutex<Option<Instant>>,
}

impl Balance {
    /// The stage `p`'s pass waits at, the fleet `busy` (a pace saturated, passes queued) or not at
    /// `now`.
    pub fn stage(&self, busy: bool, now: Instant, p: &RedshiftDataProduct) -> u8 {
        if self.balancing(busy, now) { priority(p) } else { IN_TURN }
    }

    fn balancing(&self, busy: bool, now: Instant) -> bool {
        let mut last = self.last_saturated.lock().unwrap_or_else(PoisonError::into_inner);
        if busy {
            *last = Some(now);
        }
        last.is_some_and(|at| now.saturating_duration_since(at) < BALANCED_FOR)
    }
}

#[derive(Debug, Default)]
struct State {
    concurrency: usize,
    free: usize,
    /// The passes waiting, in the order they came, by stage.
    waiting: BTreeMap<u8, VecDeque<oneshot::Sender<()>>>,
    /// The passes under way, by stage.
    running: BTreeMap<u8, usize>,
}

impl State {
    fn waiting(&self) -> usize {
        self.waiting.values().map(VecDeque::len).sum()
    }

    /// The stage whose waiting pass goes next: the fewest under way, then the furthest along;
    /// settled data products (0) only when no other stage waits.
    fn next(&self) -> Option<u8> {
        let under_way = |stage: &u8| self.running.get(stage).copied().unwrap_or(0);
        let waiting = self.waiting.iter().filter(|(_, q)| !q.is_empty()).map(|(s, _)| *s);
        let progress = waiting.clone().filter(|s| *s > 0).min_by_key(|s| (under_way(s), Reverse(*s)));
        progress.or_else(|| waiting.min())
    }
}

#[derive(Debug)]
pub struct Gate {
    state: Mutex<State>,
}

/// A pass under way; dropping it lets the next one in.
#[derive(Debug)]
pub struct Pass<'a> {
    gate: &'a Gate,
    stage: u8,
}

impl Drop for Pass<'_> {
    fn drop(&mut self) {
        self.gate.release(self.stage);
    }
}

/// A pass waiting to enter; dropped while waiting (its reconcile cancelled) after it was let in,
/// it hands the place on.
struct Entering<'a> {
    gate: &'a Gate,
    stage: u8,
    wake: Option<oneshot::Receiver<()>>,
}

impl Drop for Entering<'_> {
    fn drop(&mut self) {
        if let Some(mut wake) = self.wake.take() {
            wake.close();
            if wake.try_recv().is_ok() {
                self.gate.release(self.stage);
            }
        }
    }
}

impl Gate {
    pub fn new(concurrency: usize) -> Self {
        let concurrency = concurrency.max(1);
        Self { state: Mutex::new(State { concurrency, free: concurrency, ..State::default() }) }
    }

    /// Whether passes wait for [`BACKLOG_ROUNDS`] rounds of places or more.
    pub fn backlogged(&self) -> bool {
        let state = self.state();
        state.waiting() >= BACKLOG_ROUNDS * state.concurrency
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits for a place for a pass at `stage` ([`priority`]): at once while one is free and
    /// nobody waits, else when one ends and [`State::next`] picks this stage and this pass is the
    /// first of it.
    pub async fn enter(&self, stage: u8) -> Pass<'_> {
        let wake = {
            let mut state = self.state();
            if state.free > 0 && state.waiting() == 0 {
                state.free -= 1;
                *state.running.entry(stage).or_default() += 1;
                return Pass { gate: self, stage };
            }
            let (tx, rx) = oneshot::channel();
            state.waiting.entry(stage).or_default().push_back(tx);
            rx
        };
        let mut entering = Entering { gate: self, stage, wake: Some(wake) };
        if let Some(wake) = entering.wake.as_mut() {
            // The sender stays queued until it is woken: an error cannot happen.
            let _ = wake.await;
        }
        entering.wake = None;
        Pass { gate: self, stage }
    }

    /// A pass at `stage` ended: its place to the next waiting pass still waiting, or kept.
    fn release(&self, stage: u8) {
        let mut state = self.state();
        if let Some(n) = state.running.get_mut(&stage) {
            *n = n.saturating_sub(1);
        }
        while let Some(next) = state.next() {
            let Some(wake) = state.waiting.get_mut(&next).and_then(VecDeque::pop_front) else { break };
            if wake.send(()).is_ok() {
                *state.running.entry(next).or_default() += 1;
                return;
            }
        }
        state.free += 1;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    /// Waits until `gate` has `n` passes waiting.
    async fn waiting(gate: &Gate, n: usize) {
        while gate.state().waiting() < n {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn a_free_place_goes_to_the_stage_with_the_fewest_under_way_then_the_furthest_along() {
        let gate = Arc::new(Gate::new(3));
        // Under way: two passes creating data products (stage 8), one starting a run (6).
        let (a, b, c) = (gate.enter(8).await, gate.enter(8).await, gate.enter(6).await);
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        let arrivals = [("resync", 0), ("product-1", 8), ("product-2", 8), ("run-1", 6), ("new-1", 1), ("new-2", 1)];
        for (name, stage) in arrivals {
            let (entering, order) = (gate.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                let pass = entering.enter(stage).await;
                order.lock().unwrap().push(name);
                // Each holds its place until the test lets the next one go.
                std::future::pending::<()>().await;
                drop(pass);
            }));
            waiting(&gate, tasks.len()).await;
        }
        let entered = |n: usize| {
            let order = order.clone();
            async move {
                while order.lock().unwrap().len() < n {
                    tokio::task::yield_now().await;
                }
            }
        };
        // A product pass ends: under way 8×1, 6×1, 1×0 → a new data product (none of its stage).
        drop(a);
        entered(1).await;
        // Another: 8×0, 6×1, 1×1 → the furthest along of those with none under way: a product.
        drop(b);
        entered(2).await;
        // The run: 8×1, 6×0, 1×1 → the run.
        drop(c);
        entered(3).await;
        assert_eq!(*order.lock().unwrap(), ["new-1", "product-1", "run-1"]);
        let under_way = gate.state().running.clone();
        assert_eq!(under_way, [(1, 1), (6, 1), (8, 1)].into(), "one place each");
        for task in tasks {
            task.abort();
        }
    }

    #[tokio::test]
    async fn a_settled_data_products_resync_goes_only_when_no_other_stage_waits() {
        let gate = Arc::new(Gate::new(1));
        let held = gate.enter(5).await;
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for (name, stage) in [("resync", 0), ("new", 1), ("created", 5)] {
            let (entering, order) = (gate.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                let _pass = entering.enter(stage).await;
                order.lock().unwrap().push(name);
            }));
            waiting(&gate, tasks.len()).await;
        }
        drop(held);
        for task in tasks {
            task.await.unwrap();
        }
        // One place: each goes in turn, the stage with none under way first (all have none),
        // the furthest along of them; the resync last.
        assert_eq!(*order.lock().unwrap(), ["created", "new", "resync"]);
    }

    #[tokio::test]
    async fn no_more_than_the_concurrency_at_once_and_a_cancelled_wait_loses_no_place() {
        let gate = Arc::new(Gate::new(2));
        let (a, b) = (gate.enter(1).await, gate.enter(1).await);
        // A third waits; given up while waiting, it does not take a place with it.
        let cancelled = tokio::time::timeout(Duration::from_millis(20), gate.enter(3)).await;
        assert!(cancelled.is_err(), "a third pass went in beside two");
        drop(a);
        drop(b);
        let (_c, _d) = (gate.enter(1).await, gate.enter(1).await);
        assert_eq!(gate.state().free, 0);
    }

    #[tokio::test]
    async fn passes_queued_for_eight_rounds_are_a_backlog() {
        let gate = Arc::new(Gate::new(2));
        let _held = (gate.enter(1).await, gate.enter(1).await);
        let mut tasks = Vec::new();
        for n in 1..=16 {
            let entering = gate.clone();
            tasks.push(tokio::spawn(async move { drop(entering.enter(1).await) }));
            waiting(&gate, n).await;
            assert_eq!(gate.backlogged(), n >= 16, "{n} waiting for 2 places");
        }
        for task in tasks {
            task.abort();
        }
    }

    #[test]
    fn passes_go_by_stage_while_a_pace_is_saturated_and_a_minute_after() {
        let b = Balance::default();
        let t0 = Instant::now();
        assert!(!b.balancing(false, t0), "never saturated: in turn");
        assert!(b.balancing(true, t0));
        assert!(b.balancing(false, t0 + BALANCED_FOR - Duration::from_secs(1)), "held while the fleet publishes");
        assert!(!b.balancing(false, t0 + BALANCED_FOR), "in turn again a minute after");
        assert!(b.balancing(true, t0 + BALANCED_FOR * 2));
    }

    #[test]
    fn priority_is_how_far_the_status_says_it_is_and_a_settled_one_comes_last() {
        let with = |conditions: serde_json::Value, generation: i64| -> RedshiftDataProduct {
            serde_json::from_value(serde_json::json!({
                "apiVersion": "dataproducts.dev/v1alpha1", "kind": "RedshiftDataProduct",
                "metadata": {"name": "p", "namespace": "n", "generation": generation, "finalizers": [FINALIZER]},
                "spec": {"connectionRef": {"name": "c"}, "project": "sales",
                         "redshift": {"clusterName": "c", "database": "d", "credentialsSecretArn": "arn:aws:secretsmanager:eu-central-1:222222222222:secret:s"},
                         "schemas": [{"name": "public", "tables": ["t"]}]},
                "status": {"observedGeneration": 1, "conditions": conditions}
            }))
            .unwrap()
        };
        let c = |kind: &str, status: &str| serde_json::json!({"type": kind, "status": status, "reason": "R", "message": "", "lastTransitionTime": "2026-01-01T00:00:00Z"});
        let mut applied: RedshiftDataProduct = with(serde_json::json!([]), 1);
        (applied.status, applied.metadata.finalizers) = (None, None);
        assert_eq!(priority(&applied), 1, "just applied: its first pass adds the finalizer");
        let new: RedshiftDataProduct = with(serde_json::json!([]), 1);
        assert_eq!(priority(&new), 2, "taken in, no phase passed");
        let created = with(
            serde_json::json!([
                c("ConnectionResolved", "True"),
                c("BlueprintEnabled", "True"),
                c("EnvironmentReady", "True"),
                c("DataSourceReady", "True"),
                c("Published", "False")
            ]),
            1,
        );
        assert_eq!(priority(&created), 6);
        let ready = serde_json::json!([c("Ready", "True"), c("DataSourceReady", "True")]);
        assert_eq!(priority(&with(ready.clone(), 1)), 0, "settled");
        assert_eq!(priority(&with(ready, 2)), 3, "a new generation is under way again");
    }
}
