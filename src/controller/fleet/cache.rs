//! Lookups shared by many data products (domain, project, blueprint, its configuration, profile,
//! environment), cached for a while, and per-key locks so concurrent lookups of one key are made
//! once and find-or-create of a shared object never creates it twice. Keys are typed
//! ([`super::keys`]), so two call sites cannot spell one key two ways.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

/// Lookups that practically never change (a project's ID, the caller's account, a domain's
/// blueprint) are trusted this long.
pub const STABLE: Duration = Duration::from_secs(3600);

/// One async lock per key, made on first use.
pub struct KeyedLocks<K>(Mutex<HashMap<K, Arc<tokio::sync::Mutex<()>>>>);

impl<K> Default for KeyedLocks<K> {
    fn default() -> Self {
        Self(Mutex::default())
    }
}

impl<K: Hash + Eq + Clone> KeyedLocks<K> {
    /// The lock for `key`; hold it across a lookup-then-create.
    pub fn get(&self, key: &K) -> Arc<tokio::sync::Mutex<()>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).entry(key.clone()).or_default().clone()
    }
}

/// Values by key, each trusted for a time-to-live the caller names when reading.
pub struct Cache<K, V> {
    entries: Mutex<HashMap<K, (V, Instant)>>,
    locks: KeyedLocks<K>,
    /// When the latest lookup of a key that found nothing answered.
    misses: Mutex<HashMap<K, Instant>>,
}

impl<K, V> Default for Cache<K, V> {
    fn default() -> Self {
        Self { entries: Mutex::default(), locks: KeyedLocks::default(), misses: Mutex::default() }
    }
}

impl<K: Hash + Eq + Clone, V: Clone> Cache<K, V> {
    pub fn get(&self, key: &K, ttl: Duration) -> Option<V> {
        self.get_with(key, |_| ttl)
    }

    /// The value under `key` if younger than the time-to-live `ttl_of` gives it.
    pub fn get_with(&self, key: &K, ttl_of: impl Fn(&V) -> Duration) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.get(key).filter(|(v, at)| at.elapsed() < ttl_of(v)).map(|(v, _)| v.clone())
    }

    pub fn put(&self, key: K, value: V) {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner).insert(key, (value, Instant::now()));
    }

    pub fn forget(&self, key: &K) {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner).remove(key);
    }

    /// The value under `key` if younger than `ttl`, or `find()`'s answer, cached when present.
    /// Concurrent lookups of one key are made once: the others wait and find the cache filled,
    /// or take "nothing" from the lookup they waited for (as a found value is taken from it).
    pub async fn get_or_find<E, F, Fut>(&self, key: K, ttl: Duration, find: F) -> Result<Option<V>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<V>, E>>,
    {
        let asked = Instant::now();
        if let Some(v) = self.get(&key, ttl) {
            return Ok(Some(v));
        }
        let lock = self.lock(&key);
        let _guard = lock.lock().await;
        if let Some(v) = self.get(&key, ttl) {
            return Ok(Some(v));
        }
        let misses = || self.misses.lock().unwrap_or_else(PoisonError::into_inner);
        if misses().get(&key).is_some_and(|answered| *answered >= asked) {
            return Ok(None);
        }
        let found = find().await?;
        match &found {
            Some(v) => {
                misses().remove(&key);
                self.put(key, v.clone());
            }
            None => {
                misses().insert(key, Instant::now());
            }
        }
        Ok(found)
    }

    /// The lock for `key`; hold it across a lookup-then-create.
    pub fn lock(&self, key: &K) -> Arc<tokio::sync::Mutex<()>> {
        self.locks.get(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire() {
        let cache: Cache<&str, String> = Cache::default();
        cache.put("domain/corp", "dzd_1".into());
        assert_eq!(cache.get(&"domain/corp", Duration::from_secs(60)).as_deref(), Some("dzd_1"));
        assert_eq!(cache.get(&"domain/corp", Duration::ZERO), None);
        assert_eq!(cache.get_with(&"domain/corp", |v| if v == "dzd_1" { Duration::ZERO } else { Duration::MAX }), None);
        cache.forget(&"domain/corp");
        assert_eq!(cache.get(&"domain/corp", Duration::from_secs(60)), None);
    }

    /// `n` lookups of `key` at once, each finding `answer` after 20 ms; their answers and how
    /// many lookups were made.
    async fn at_once(
        cache: &Arc<Cache<&'static str, String>>,
        key: &'static str,
        n: usize,
        answer: Option<&'static str>,
    ) -> (Vec<Option<String>>, usize) {
        let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..n {
            let (cache, calls) = (cache.clone(), calls.clone());
            tasks.push(tokio::spawn(async move {
                cache
                    .get_or_find(key, Duration::from_secs(60), || async {
                        calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        Ok::<_, ()>(answer.map(str::to_string))
                    })
                    .await
            }));
        }
        let mut answers = Vec::new();
        for t in tasks {
            answers.push(t.await.unwrap().unwrap());
        }
        (answers, calls.load(std::sync::atomic::Ordering::SeqCst))
    }

    #[tokio::test]
    async fn concurrent_lookups_of_one_key_are_made_once() {
        let cache: Arc<Cache<&str, String>> = Arc::default();
        let (answers, calls) = at_once(&cache, "domain-name|corp", 10, Some("dzd_1")).await;
        assert!(answers.iter().all(|a| a.as_deref() == Some("dzd_1")), "{answers:?}");
        assert_eq!(calls, 1);
        // Nothing found is not cached: a later lookup asks again.
        let (_, calls) = at_once(&cache, "domain-name|gone", 1, None).await;
        assert_eq!(calls, 1);
        assert_eq!(cache.get(&"domain-name|gone", Duration::from_secs(60)), None);
        let (_, calls) = at_once(&cache, "domain-name|gone", 1, None).await;
        assert_eq!(calls, 1, "a later lookup asks again");
    }

    #[tokio::test]
    async fn concurrent_lookups_that_find_nothing_share_the_answer() {
        let cache: Arc<Cache<&str, String>> = Arc::default();
        let (answers, calls) = at_once(&cache, "profile|p", 3, None).await;
        assert_eq!(answers, [None, None, None]);
        assert_eq!(calls, 1, "three waiting at once, one lookup");
    }

    #[tokio::test]
    async fn one_lock_per_key() {
        let locks: KeyedLocks<&str> = KeyedLocks::default();
        let a = locks.get(&"env/x");
        let _held = a.lock().await;
        assert!(locks.get(&"env/x").try_lock().is_err(), "same key, same lock");
        assert!(locks.get(&"env/y").try_lock().is_ok(), "other keys are free");
    }
}
