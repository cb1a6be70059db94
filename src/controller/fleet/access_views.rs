//! What the access policies of a project's data products share: one view of the project's
//! PENDING subscription requests and APPROVED subscriptions, and the pace of accepting.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use kube::runtime::reflector::ObjectRef;
use tokio::time::Instant;

use super::keys::ProjectKey;
use crate::crd::RedshiftDataProduct;
use crate::datazone::{RequestInfo, SubscriptionInfo};

/// One view of a project's requests and subscriptions, and the requests decided since it was
/// taken (the view still shows them PENDING).
pub struct AccessView {
    pub requests: Vec<RequestInfo>,
    pub subscriptions: Vec<SubscriptionInfo>,
    decided: Mutex<HashSet<String>>,
}

impl AccessView {
    pub fn new(requests: Vec<RequestInfo>, subscriptions: Vec<SubscriptionInfo>) -> Self {
        Self { requests, subscriptions, decided: Mutex::default() }
    }

    pub fn decided(&self, id: &str) -> bool {
        self.decided.lock().unwrap_or_else(PoisonError::into_inner).contains(id)
    }

    pub fn decide(&self, id: &str) {
        self.decided.lock().unwrap_or_else(PoisonError::into_inner).insert(id.to_string());
    }
}

/// A data product by its UID, and the object to wake.
pub type Owner = (String, ObjectRef<RedshiftDataProduct>);

/// Which data product with an access policy owns which asset or data product of a project (by
/// ID), as its access stage last registered: a view that shows a PENDING request to one wakes its
/// owner at once rather than at its next resync, so a request is answered within about half a
/// resync (the view's age) plus the accepts queued before it.
#[derive(Default)]
pub struct Owners {
    by_project: Mutex<HashMap<ProjectKey, HashMap<String, Owner>>>,
}

impl Owners {
    /// `owner` holds `entities` in `project` (what it held before and no longer lists stays until
    /// it is forgotten: a wake is only a hint).
    pub fn register<'a>(&self, project: &ProjectKey, owner: &Owner, entities: impl Iterator<Item = &'a str>) {
        let mut all = self.by_project.lock().unwrap_or_else(PoisonError::into_inner);
        let of_project = all.entry(project.clone()).or_default();
        for entity in entities {
            if of_project.get(entity).is_none_or(|(uid, _)| *uid != owner.0) {
                of_project.insert(entity.to_string(), owner.clone());
            }
        }
    }

    /// `uid` has no policy any more, or is gone.
    pub fn forget(&self, uid: &str) {
        let mut all = self.by_project.lock().unwrap_or_else(PoisonError::into_inner);
        for of_project in all.values_mut() {
            of_project.retain(|_, (owner, _)| owner != uid);
        }
        all.retain(|_, of_project| !of_project.is_empty());
    }

    /// The owners of `entities` in `project`, each once.
    pub fn of<'a>(&self, project: &ProjectKey, entities: impl Iterator<Item = &'a str>) -> Vec<Owner> {
        let all = self.by_project.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(of_project) = all.get(project) else { return Vec::new() };
        let mut owners: Vec<Owner> = entities.filter_map(|e| of_project.get(e).cloned()).collect();
        owners.sort_by(|a, b| a.0.cmp(&b.0));
        owners.dedup_by(|a, b| a.0 == b.0);
        owners
    }
}

/// `AcceptSubscriptionRequest` is limited to 3 calls a second per account and region
/// (docs/datazone-semantics.md §15), far below the account's pace for other calls: accepts are
/// spaced a third of a second apart per key, so a hundred requests filed at once are accepted in
/// about 34 s without a refusal.
pub const ACCEPT_EVERY: Duration = Duration::from_millis(334);

/// Calls of one kind spaced evenly per key.
pub struct Spaced<K> {
    next: Mutex<HashMap<K, Instant>>,
    every: Duration,
}

/// Spaced as accepts must be.
impl<K> Default for Spaced<K> {
    fn default() -> Self {
        Self { next: Mutex::default(), every: ACCEPT_EVERY }
    }
}

impl<K: Hash + Eq + Clone> Spaced<K> {
    pub fn new(every: Duration) -> Self {
        Self { next: Mutex::default(), every }
    }

    /// Waits for the next slot of `key`.
    pub async fn wait(&self, key: &K) {
        let at = {
            let mut next = self.next.lock().unwrap_or_else(PoisonError::into_inner);
            let now = Instant::now();
            let at = next.get(key).copied().unwrap_or(now).max(now);
            next.insert(key.clone(), at + self.every);
            at
        };
        tokio::time::sleep_until(at).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_are_found_by_what_they_list_and_forgotten() {
        let project = ProjectKey { domain: "dzd_1".into(), project: "prj_sales".into() };
        let owners = Owners::default();
        let a: Owner = ("uid-a".into(), ObjectRef::new("a").within("team-sales"));
        let b: Owner = ("uid-b".into(), ObjectRef::new("b").within("team-sales"));
        owners.register(&project, &a, ["asset-1", "dp-1"].into_iter());
        owners.register(&project, &b, ["asset-2"].into_iter());
        let found: Vec<String> = owners
            .of(&project, ["dp-1", "asset-1", "asset-2", "asset-9"].into_iter())
            .into_iter()
            .map(|o| o.0)
            .collect();
        assert_eq!(found, ["uid-a", "uid-b"], "each once; an entity nobody registered wakes nobody");
        owners.forget("uid-a");
        assert!(owners.of(&project, ["dp-1"].into_iter()).is_empty());
        let other = ProjectKey { domain: "dzd_1".into(), project: "prj_other".into() };
        assert!(owners.of(&other, ["asset-2"].into_iter()).is_empty(), "per project");
    }

    #[tokio::test(start_paused = true)]
    async fn calls_of_one_key_are_spaced_and_other_keys_are_not_held_up() {
        let spaced = Spaced::new(ACCEPT_EVERY);
        let start = Instant::now();
        for _ in 0..4 {
            spaced.wait(&"111111111111").await;
        }
        assert_eq!(start.elapsed(), ACCEPT_EVERY * 3, "the fourth goes three spacings after the first");
        let other = Instant::now();
        spaced.wait(&"222222222222").await;
        assert_eq!(other.elapsed(), Duration::ZERO);
    }
}
