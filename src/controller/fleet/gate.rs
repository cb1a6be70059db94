//! The passes under way at once (`--concurrency`, across every watched scope), and who goes next
//! when one ends: the waiting data product furthest along its way to Ready, then the one waiting
//! longest. DataZone's quotas are per API (docs/datazone-semantics.md §8): a fleet taken strictly
//! in the order it came due moves in waves — every data product creates its data source, then
//! every one starts its run, then every one lists its data product — and each wave waits for its
//! one operation's quota while the others' stand idle (measured: five plants of 1,000 took about
//! the sum of the operations' bounds, not the largest). Letting the ones further along go first
//! keeps every stage of the way busy at once, so the fleet moves at its tightest quota. A settled
//! data product's resync comes last: it makes no progress.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::{Mutex, PoisonError};

use tokio::sync::oneshot;

use crate::crd::RedshiftDataProduct;
use crate::crd::conditions::{
    BLUEPRINT_ENABLED, CONNECTION_READY, CONNECTION_RESOLVED, DATA_SOURCE_READY, ENVIRONMENT_READY, METADATA_APPLIED,
    PRODUCT_LISTED, PUBLISHED, READY,
};

/// The stages of a data product's way to Ready, in order; how many it has passed is its priority.
const STAGES: [&str; 8] = [
    CONNECTION_RESOLVED,
    BLUEPRINT_ENABLED,
    ENVIRONMENT_READY,
    CONNECTION_READY,
    DATA_SOURCE_READY,
    PUBLISHED,
    METADATA_APPLIED,
    PRODUCT_LISTED,
];

/// How far `p` is on its way to Ready, as its status last said: the stages passed, plus one; a
/// settled data product (Ready for its generation) is 0, last in line.
pub fn priority(p: &RedshiftDataProduct) -> u8 {
    let Some(status) = p.status.as_ref() else { return 1 };
    let is_true = |kind: &str| status.conditions.iter().any(|c| c.type_ == kind && format!("{:?}", c.status) == "True");
    if is_true(READY) && status.observed_generation == p.metadata.generation {
        return 0;
    }
    1 + STAGES.iter().filter(|s| is_true(s)).count() as u8
}

/// A waiting pass: higher priority first, then the one that came first.
#[derive(Debug)]
struct Waiter {
    priority: u8,
    arrived: Reverse<u64>,
    wake: oneshot::Sender<()>,
}

impl PartialEq for Waiter {
    fn eq(&self, other: &Self) -> bool {
        (self.priority, self.arrived) == (other.priority, other.arrived)
    }
}

impl Eq for Waiter {}

impl PartialOrd for Waiter {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Waiter {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.priority, self.arrived).cmp(&(other.priority, other.arrived))
    }
}

#[derive(Debug)]
struct State {
    free: usize,
    waiting: BinaryHeap<Waiter>,
    arrivals: u64,
}

#[derive(Debug)]
pub struct Gate {
    state: Mutex<State>,
}

/// A pass under way; dropping it lets the next one in.
#[derive(Debug)]
pub struct Pass<'a> {
    gate: &'a Gate,
}

impl Drop for Pass<'_> {
    fn drop(&mut self) {
        self.gate.release();
    }
}

/// A pass waiting to enter; dropped while waiting (its reconcile cancelled) after it was let in,
/// it hands the place on.
struct Entering<'a> {
    gate: &'a Gate,
    wake: Option<oneshot::Receiver<()>>,
}

impl Drop for Entering<'_> {
    fn drop(&mut self) {
        if let Some(mut wake) = self.wake.take() {
            wake.close();
            if wake.try_recv().is_ok() {
                self.gate.release();
            }
        }
    }
}

impl Gate {
    pub fn new(concurrency: usize) -> Self {
        Self { state: Mutex::new(State { free: concurrency.max(1), waiting: BinaryHeap::new(), arrivals: 0 }) }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits for a place: at once while one is free, else when one ends and no waiting pass has a
    /// higher `priority` or came earlier with the same.
    pub async fn enter(&self, priority: u8) -> Pass<'_> {
        let wake = {
            let mut state = self.state();
            if state.free > 0 && state.waiting.is_empty() {
                state.free -= 1;
                return Pass { gate: self };
            }
            let (tx, rx) = oneshot::channel();
            state.arrivals += 1;
            let arrived = Reverse(state.arrivals);
            state.waiting.push(Waiter { priority, arrived, wake: tx });
            rx
        };
        let mut entering = Entering { gate: self, wake: Some(wake) };
        if let Some(wake) = entering.wake.as_mut() {
            // The sender lives in the heap until it is woken: an error cannot happen.
            let _ = wake.await;
        }
        entering.wake = None;
        Pass { gate: self }
    }

    /// A place came free: to the first waiting pass still waiting, or kept.
    fn release(&self) {
        let mut state = self.state();
        while let Some(next) = state.waiting.pop() {
            if next.wake.send(()).is_ok() {
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
        while gate.state().waiting.len() < n {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn the_pass_furthest_along_goes_next_then_the_first_come() {
        let gate = Arc::new(Gate::new(1));
        let held = gate.enter(1).await;
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for (name, priority) in [("new-a", 1), ("resync", 0), ("running", 6), ("new-b", 1), ("created", 5)] {
            let (entering, order) = (gate.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                let _pass = entering.enter(priority).await;
                order.lock().unwrap().push(name);
            }));
            waiting(&gate, tasks.len()).await;
        }
        drop(held);
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), ["running", "created", "new-a", "new-b", "resync"]);
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

    #[test]
    fn priority_is_how_far_the_status_says_it_is_and_a_settled_one_comes_last() {
        let with = |conditions: serde_json::Value, generation: i64| -> RedshiftDataProduct {
            serde_json::from_value(serde_json::json!({
                "apiVersion": "dataproducts.dev/v1alpha1", "kind": "RedshiftDataProduct",
                "metadata": {"name": "p", "namespace": "n", "generation": generation},
                "spec": {"connectionRef": {"name": "c"}, "project": "sales",
                         "redshift": {"clusterName": "c", "database": "d", "credentialsSecretArn": "arn:aws:secretsmanager:eu-central-1:222222222222:secret:s"},
                         "schemas": [{"name": "public", "tables": ["t"]}]},
                "status": {"observedGeneration": 1, "conditions": conditions}
            }))
            .unwrap()
        };
        let c = |kind: &str, status: &str| serde_json::json!({"type": kind, "status": status, "reason": "R", "message": "", "lastTransitionTime": "2026-01-01T00:00:00Z"});
        let new: RedshiftDataProduct = with(serde_json::json!([]), 1);
        assert_eq!(priority(&new), 1);
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
        assert_eq!(priority(&created), 5);
        let ready = serde_json::json!([c("Ready", "True"), c("DataSourceReady", "True")]);
        assert_eq!(priority(&with(ready.clone(), 1)), 0, "settled");
        assert_eq!(priority(&with(ready, 2)), 2, "a new generation is under way again");
    }
}
