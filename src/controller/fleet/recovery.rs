//! DataZone back after an outage: the data products backing off are woken at once.
//!
//! A pass that fails backs off per object, doubling to five minutes (so an outage of DataZone
//! costs about one call per data product every few minutes, not a storm). But when DataZone comes
//! back, each one would wait out what is left of its own backoff: a fleet started during a
//! five-minute outage was Ready only 1.44 × the quota's bound after DataZone came back, most of it
//! waiting. So the passes of a connection are followed as one: once none has gone through for
//! [`DOWN`] while some failed, the connection is down; the first pass through again is the news,
//! and every data product still backing off on that connection is woken (the gate and the pace
//! spread them as usual). A failure of one data product's own (others still going through) never
//! makes the connection down, so it never wakes the rest.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use kube::runtime::reflector::ObjectRef;
use tokio::time::Instant;

use crate::crd::RedshiftDataProduct;

/// How long no pass of a connection goes through, while some fail, before it counts as down.
pub const DOWN: Duration = Duration::from_secs(30);

/// Per connection: since when no pass went through, and who backs off.
struct Passes {
    /// The last pass through (or, before any, the first failure).
    through: Instant,
    /// By caller, the data products whose last pass failed.
    backing_off: HashMap<String, ObjectRef<RedshiftDataProduct>>,
}

/// The connections' passes (`K`: a connection, one account and region).
pub struct Recovery<K = super::keys::ConnectionId> {
    connections: Mutex<HashMap<K, Passes>>,
}

impl<K> Default for Recovery<K> {
    fn default() -> Self {
        Self { connections: Mutex::default() }
    }
}

impl<K: Hash + Eq + Clone> Recovery<K> {
    /// `caller`'s pass to `key` failed (DataZone erred or throttled): it backs off.
    pub fn failed(&self, key: &K, caller: &str, object: ObjectRef<RedshiftDataProduct>, now: Instant) {
        let mut connections = self.connections.lock().unwrap_or_else(PoisonError::into_inner);
        let passes =
            connections.entry(key.clone()).or_insert_with(|| Passes { through: now, backing_off: HashMap::new() });
        passes.backing_off.insert(caller.to_string(), object);
    }

    /// `caller`'s pass to `key` went through: the data products to wake (by caller) when it is
    /// the first after the connection was down, else none.
    pub fn succeeded(&self, key: &K, caller: &str, now: Instant) -> Vec<(String, ObjectRef<RedshiftDataProduct>)> {
        let mut connections = self.connections.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(passes) = connections.get_mut(key) else { return Vec::new() };
        passes.backing_off.remove(caller);
        let down = now.saturating_duration_since(passes.through) >= DOWN;
        passes.through = now;
        let woken = if down { passes.backing_off.drain().collect() } else { Vec::new() };
        if passes.backing_off.is_empty() {
            connections.remove(key);
        }
        woken
    }

    /// `caller` is gone: nothing to wake.
    pub fn forget(&self, key: &K, caller: &str) {
        let mut connections = self.connections.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(passes) = connections.get_mut(key) {
            passes.backing_off.remove(caller);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(name: &str) -> ObjectRef<RedshiftDataProduct> {
        ObjectRef::new(name).within("plant")
    }

    fn names(woken: Vec<(String, ObjectRef<RedshiftDataProduct>)>) -> Vec<String> {
        let mut names: Vec<String> = woken.into_iter().map(|(caller, _)| caller).collect();
        names.sort();
        names
    }

    #[test]
    fn the_first_pass_through_after_the_connection_was_down_wakes_every_one_backing_off() {
        let r: Recovery<&str> = Recovery::default();
        let t0 = Instant::now();
        for (i, name) in ["a", "b", "c"].into_iter().enumerate() {
            r.failed(&"plant", name, object(name), t0 + Duration::from_secs(i as u64));
        }
        r.failed(&"other", "x", object("x"), t0);
        let woken = r.succeeded(&"plant", "a", t0 + DOWN + Duration::from_secs(1));
        assert_eq!(names(woken), ["b", "c"], "the one through sees for itself");
        assert!(r.succeeded(&"plant", "b", t0 + DOWN * 2).is_empty(), "woken once");
        assert_eq!(
            names(r.succeeded(&"other", "y", t0 + DOWN)),
            ["x"],
            "per connection: another's first success after its own silence"
        );
    }

    #[test]
    fn failures_while_others_go_through_wake_nobody() {
        let r: Recovery<&str> = Recovery::default();
        let t0 = Instant::now();
        let mut at = t0;
        for second in 0..120 {
            at = t0 + Duration::from_secs(second);
            r.failed(&"plant", "broken", object("broken"), at);
            assert!(r.succeeded(&"plant", &format!("fine-{second}"), at).is_empty(), "second {second}");
        }
        assert!(r.succeeded(&"plant", "fine", at + DOWN - Duration::from_secs(1)).is_empty(), "not down yet");
    }

    #[test]
    fn a_connection_never_failing_is_never_down_and_holds_nothing() {
        let r: Recovery<&str> = Recovery::default();
        let t0 = Instant::now();
        assert!(r.succeeded(&"plant", "a", t0).is_empty());
        assert!(r.succeeded(&"plant", "a", t0 + DOWN * 10).is_empty(), "silence without failure is no outage");
        assert!(r.connections.lock().unwrap().is_empty());
        r.failed(&"plant", "a", object("a"), t0);
        r.forget(&"plant", "a");
        assert!(r.succeeded(&"plant", "b", t0 + DOWN * 2).is_empty(), "a forgotten one is not woken");
        assert!(r.connections.lock().unwrap().is_empty());
    }
}
