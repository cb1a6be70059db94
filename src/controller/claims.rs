//! Which data products ask for which lineage on a shared V2 connection. The connection is one
//! per (project, account, region, cluster or workgroup, database) and `lineageSync` is one
//! setting on it: data products that ask for different settings are reported, and the
//! connection is left as it is rather than set back and forth by each of them in turn.
//!
//! What this process has seen: after a restart a data product learns of the others as their
//! passes come, within one resync interval.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, PoisonError};

use super::keys::ConnectionKey;
use crate::datazone::Lineage;

/// One connection's asks: data product UID → (`namespace/name`, what it asks for).
type Asks = BTreeMap<String, (String, Lineage)>;

#[derive(Default)]
pub struct LineageClaims {
    by_connection: Mutex<HashMap<ConnectionKey, Asks>>,
}

/// Two asks that cannot both hold: lineage on and off, or two different schedules.
fn disagree(a: &Lineage, b: &Lineage) -> bool {
    a.enabled != b.enabled || (a.schedule.is_some() && b.schedule.is_some() && a.schedule != b.schedule)
}

impl LineageClaims {
    /// Records what data product `uid` (shown as `who`) asks of the connection `key` (`None`:
    /// nothing), and answers the others that ask for something else, by name.
    pub fn claim(&self, key: &ConnectionKey, uid: &str, who: &str, wanted: Option<&Lineage>) -> Vec<String> {
        let mut all = self.by_connection.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(wanted) = wanted else {
            if let Some(claims) = all.get_mut(key) {
                claims.remove(uid);
            }
            return Vec::new();
        };
        let claims = all.entry(key.clone()).or_default();
        claims.insert(uid.to_string(), (who.to_string(), wanted.clone()));
        claims
            .iter()
            .filter(|(other, (_, asked))| other.as_str() != uid && disagree(asked, wanted))
            .map(|(_, (name, _))| name.clone())
            .collect()
    }

    /// A deleted data product asks for nothing any more.
    pub fn forget(&self, uid: &str) {
        let mut all = self.by_connection.lock().unwrap_or_else(PoisonError::into_inner);
        all.retain(|_, claims| {
            claims.remove(uid);
            !claims.is_empty()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ConnectionKey {
        ConnectionKey { domain: "d".into(), project: "p".into(), name: "redshift-x".into() }
    }

    fn on(schedule: Option<&str>) -> Lineage {
        Lineage { enabled: true, schedule: schedule.map(str::to_string) }
    }

    #[test]
    fn data_products_that_ask_for_other_lineage_are_named() {
        let claims = LineageClaims::default();
        let off = Lineage { enabled: false, schedule: None };
        assert!(claims.claim(&key(), "a", "team/a", Some(&on(None))).is_empty());
        assert!(claims.claim(&key(), "b", "team/b", Some(&on(Some("cron(0 3 * * ? *)")))).is_empty(), "any schedule");
        assert!(claims.claim(&key(), "c", "team/c", None).is_empty(), "no opinion, no conflict");
        assert_eq!(claims.claim(&key(), "d", "team/d", Some(&off)), ["team/a", "team/b"]);
        assert_eq!(claims.claim(&key(), "e", "team/e", Some(&on(Some("cron(0 4 * * ? *)")))), ["team/b", "team/d"]);
        // Another connection is another setting.
        let other = ConnectionKey { name: "redshift-y".into(), ..key() };
        assert!(claims.claim(&other, "f", "team/f", Some(&off)).is_empty());
        // Those that change their mind or go away stop counting.
        claims.forget("d");
        assert!(claims.claim(&key(), "a", "team/a", Some(&on(None))).is_empty());
        claims.claim(&key(), "e", "team/e", None);
        assert!(claims.claim(&key(), "b", "team/b", Some(&on(Some("cron(0 3 * * ? *)")))).is_empty());
    }
}
