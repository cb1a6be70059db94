//! Lookups shared by many data products (domain, project, blueprint, its configuration, profile,
//! environment), cached for a while, and per-key locks so concurrent lookups of one key are made
//! once and find-or-create of a shared object never creates it twice.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

#[derive(Default)]
pub struct Cache {
    entries: Mutex<HashMap<String, (String, Instant)>>,
    locks: KeyedLocks,
}

/// One async lock per key, made on first use.
#[derive(Default)]
pub struct KeyedLocks(Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>);

impl KeyedLocks {
    pub fn get(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).entry(key.to_string()).or_default().clone()
    }
}

impl Cache {
    pub fn get(&self, key: &str, ttl: Duration) -> Option<String> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.get(key).filter(|(_, at)| at.elapsed() < ttl).map(|(v, _)| v.clone())
    }

    pub fn put(&self, key: &str, value: &str) {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key.to_string(), (value.to_string(), Instant::now()));
    }

    pub fn forget(&self, key: &str) {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner).remove(key);
    }

    /// The value under `key` if younger than `ttl`, or `find()`'s answer, cached when present.
    /// Concurrent lookups of one key are made once: the others wait and find the cache filled.
    pub async fn get_or_find<E, F, Fut>(&self, key: &str, ttl: Duration, find: F) -> Result<Option<String>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<String>, E>>,
    {
        if let Some(v) = self.get(key, ttl) {
            return Ok(Some(v));
        }
        let lock = self.lock(key);
        let _guard = lock.lock().await;
        if let Some(v) = self.get(key, ttl) {
            return Ok(Some(v));
        }
        let found = find().await?;
        if let Some(v) = &found {
            self.put(key, v);
        }
        Ok(found)
    }

    /// The lock for `key`; hold it across a lookup-then-create.
    pub fn lock(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.locks.get(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire() {
        let cache = Cache::default();
        cache.put("domain/corp", "dzd_1");
        assert_eq!(cache.get("domain/corp", Duration::from_secs(60)).as_deref(), Some("dzd_1"));
        assert_eq!(cache.get("domain/corp", Duration::ZERO), None);
        cache.forget("domain/corp");
        assert_eq!(cache.get("domain/corp", Duration::from_secs(60)), None);
    }

    #[tokio::test]
    async fn concurrent_lookups_of_one_key_are_made_once() {
        let cache = std::sync::Arc::new(Cache::default());
        let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..10 {
            let (cache, calls) = (cache.clone(), calls.clone());
            tasks.push(tokio::spawn(async move {
                cache
                    .get_or_find("domain-name|corp", Duration::from_secs(60), || async {
                        calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        Ok::<_, ()>(Some("dzd_1".to_string()))
                    })
                    .await
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap(), Ok(Some("dzd_1".to_string())));
        }
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
        // Nothing found is not cached: the next lookup asks again.
        let none = cache.get_or_find("domain-name|gone", Duration::from_secs(60), || async { Ok::<_, ()>(None) });
        assert_eq!(none.await, Ok(None));
        assert_eq!(cache.get("domain-name|gone", Duration::from_secs(60)), None);
    }

    #[tokio::test]
    async fn one_lock_per_key() {
        let cache = Cache::default();
        let a = cache.lock("env/x");
        let _held = a.lock().await;
        assert!(cache.lock("env/x").try_lock().is_err(), "same key, same lock");
        assert!(cache.lock("env/y").try_lock().is_ok(), "other keys are free");
    }
}
