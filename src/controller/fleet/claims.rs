//! What each data product asks of the shared V2 connection it publishes through. The connection
//! is one per (project, account, region, cluster or workgroup, database) and carries one
//! credentials secret and one `lineageSync`: the operator changes them only to what all the data
//! products of the connection agree on, and names those that ask otherwise, rather than set the
//! connection back and forth as each of them passes.
//!
//! What this process has seen: after a restart a data product learns of the others as their
//! passes come, within one resync interval; an ask not renewed for `max_age` is forgotten.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use super::keys::RedshiftConnectionKey;
use crate::datazone::Lineage;

/// What one data product asks of its connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ask {
    /// The secret its data source reads with.
    pub secret: String,
    /// `None`: no opinion on lineage.
    pub lineage: Option<Lineage>,
}

/// The other data products of a connection that ask for something else, by `namespace/name`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Disagreement {
    pub secret: Vec<String>,
    pub lineage: Vec<String>,
}

/// One connection's asks: data product UID → (`namespace/name`, the ask, when it was made).
type Asks = BTreeMap<String, (String, Ask, Instant)>;

#[derive(Default)]
pub struct ConnectionClaims {
    by_connection: Mutex<HashMap<RedshiftConnectionKey, Asks>>,
}

/// Two lineage asks that cannot both hold: on and off, or on with two different schedules (a
/// schedule means nothing while lineage is off).
pub fn lineage_disagrees(a: &Lineage, b: &Lineage) -> bool {
    a.enabled != b.enabled || (a.enabled && a.schedule.is_some() && b.schedule.is_some() && a.schedule != b.schedule)
}

impl ConnectionClaims {
    /// Records what data product `uid` (shown as `who`) asks of the connection `key` (its ask of
    /// any other connection is dropped: its key changed), forgets asks older than `max_age`, and
    /// answers the others that ask for something else.
    pub fn claim(
        &self,
        key: &RedshiftConnectionKey,
        uid: &str,
        who: &str,
        ask: &Ask,
        max_age: Duration,
    ) -> Disagreement {
        let mut all = self.by_connection.lock().unwrap_or_else(PoisonError::into_inner);
        all.retain(|k, asks| {
            asks.retain(|other, (_, _, at)| at.elapsed() < max_age && (k == key || other != uid));
            !asks.is_empty()
        });
        let asks = all.entry(key.clone()).or_default();
        asks.insert(uid.to_string(), (who.to_string(), ask.clone(), Instant::now()));
        let mut out = Disagreement::default();
        for (name, theirs, _) in asks.iter().filter(|(other, _)| other.as_str() != uid).map(|(_, v)| v) {
            if theirs.secret != ask.secret {
                out.secret.push(name.clone());
            }
            if let (Some(a), Some(b)) = (&theirs.lineage, &ask.lineage)
                && lineage_disagrees(a, b)
            {
                out.lineage.push(name.clone());
            }
        }
        out
    }

    /// A deleted data product asks for nothing any more.
    pub fn forget(&self, uid: &str) {
        let mut all = self.by_connection.lock().unwrap_or_else(PoisonError::into_inner);
        all.retain(|_, asks| {
            asks.remove(uid);
            !asks.is_empty()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    fn key(name: &str) -> RedshiftConnectionKey {
        RedshiftConnectionKey { domain: "d".into(), project: "p".into(), name: name.into() }
    }

    fn ask(secret: &str, lineage: Option<(bool, Option<&str>)>) -> Ask {
        let lineage = lineage.map(|(enabled, s)| Lineage { enabled, schedule: s.map(str::to_string) });
        Ask { secret: secret.into(), lineage }
    }

    #[test]
    fn data_products_that_ask_for_something_else_are_named() {
        let claims = ConnectionClaims::default();
        let k = key("x");
        let on = Some((true, None));
        let nightly = Some((true, Some("cron(0 3 * * ? *)")));
        assert_eq!(claims.claim(&k, "a", "team/a", &ask("s1", on), HOUR), Disagreement::default());
        assert_eq!(claims.claim(&k, "b", "team/b", &ask("s1", nightly), HOUR), Disagreement::default(), "any schedule");
        assert_eq!(claims.claim(&k, "c", "team/c", &ask("s1", None), HOUR), Disagreement::default(), "no opinion");
        let d = claims.claim(&k, "d", "team/d", &ask("s2", Some((false, Some("cron(0 5 * * ? *)")))), HOUR);
        assert_eq!(d.secret, ["team/a", "team/b", "team/c"]);
        assert_eq!(d.lineage, ["team/a", "team/b"], "off is off, whatever its schedule");
        let e = claims.claim(&k, "e", "team/e", &ask("s1", Some((true, Some("cron(0 4 * * ? *)")))), HOUR);
        assert_eq!((e.secret, e.lineage), (vec!["team/d".to_string()], vec!["team/b".to_string(), "team/d".into()]));
        // Another connection is another setting.
        assert_eq!(claims.claim(&key("y"), "f", "team/f", &ask("s9", None), HOUR), Disagreement::default());
        // Those that go away, change their mind or move to another connection stop counting.
        claims.forget("d");
        claims.claim(&k, "e", "team/e", &ask("s1", None), HOUR);
        claims.claim(&key("z"), "b", "team/b", &ask("s1", None), HOUR);
        assert_eq!(claims.claim(&k, "a", "team/a", &ask("s1", on), HOUR), Disagreement::default());
        // An ask not renewed is forgotten.
        claims.claim(&k, "g", "team/g", &ask("s3", None), HOUR);
        let later = claims.claim(&k, "a", "team/a", &ask("s1", on), Duration::ZERO);
        assert_eq!(later, Disagreement::default(), "only fresh asks count");
    }
}
