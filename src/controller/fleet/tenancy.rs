//! Which data products use which assumed-role session (one per connection and namespace), so
//! a session goes when the last data product using it is deleted; and which use which
//! connection, allowed or refused. In memory: after a restart each data product registers again
//! on its first pass.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, PoisonError};

use crate::datazone::SessionKey;

#[derive(Default)]
pub struct Sessions {
    users: Mutex<HashMap<SessionKey, HashSet<String>>>,
}

impl Sessions {
    /// `user` (a data product's UID) makes its calls through `session`.
    pub fn used(&self, session: &SessionKey, user: &str) {
        let mut users = self.users.lock().unwrap_or_else(PoisonError::into_inner);
        if users.get(session).is_some_and(|u| u.contains(user)) {
            return;
        }
        users.entry(session.clone()).or_default().insert(user.to_string());
    }

    /// `user` is gone; the sessions nobody uses any more.
    pub fn left(&self, user: &str) -> Vec<SessionKey> {
        let mut users = self.users.lock().unwrap_or_else(PoisonError::into_inner);
        let mut unused = Vec::new();
        users.retain(|session, u| {
            u.remove(user);
            let keep = !u.is_empty();
            if !keep {
                unused.push(session.clone());
            }
            keep
        });
        unused
    }

    /// Sessions in use.
    pub fn len(&self) -> usize {
        self.users.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Which data products use which connection, and which of them its tenancy rules refuse: what
/// the connection's status counts. In memory, like [`Sessions`]: after a restart the counts fill
/// again as the data products' passes come.
#[derive(Default)]
pub struct ConnectionUsers {
    /// Connection (`Kind/namespace/name`) → data product UID → refused.
    users: Mutex<HashMap<String, HashMap<String, bool>>>,
}

impl ConnectionUsers {
    /// `user` uses `connection`, allowed or `refused` by its rules (a data product names one
    /// connection: any other it was counted under is forgotten).
    pub fn seen(&self, connection: &str, user: &str, refused: bool) {
        let mut users = self.users.lock().unwrap_or_else(PoisonError::into_inner);
        for (c, u) in users.iter_mut() {
            if c != connection {
                u.remove(user);
            }
        }
        users.entry(connection.to_string()).or_default().insert(user.to_string(), refused);
    }

    pub fn left(&self, user: &str) {
        let mut users = self.users.lock().unwrap_or_else(PoisonError::into_inner);
        users.values_mut().for_each(|u| {
            u.remove(user);
        });
    }

    /// (data products using `connection`, of which refused).
    pub fn counts(&self, connection: &str) -> (usize, usize) {
        let users = self.users.lock().unwrap_or_else(PoisonError::into_inner);
        users.get(connection).map(|u| (u.len(), u.values().filter(|r| **r).count())).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(namespace: &str) -> SessionKey {
        SessionKey {
            connection: "ClusterDataZoneConnection/corp-mesh".into(),
            role_arn: "arn:aws:iam::111111111111:role/r".into(),
            external_id: None,
            region: "eu-central-1".into(),
            namespace: namespace.into(),
        }
    }

    #[test]
    fn a_session_goes_with_its_last_user() {
        let s = Sessions::default();
        for i in 0..500 {
            s.used(&session(&format!("ns-{}", i % 5)), &format!("uid-{i}"));
        }
        assert_eq!(s.len(), 5, "500 data products in 5 namespaces: 5 sessions");
        assert!(s.left("uid-0").is_empty(), "others still use ns-0's session");
        for i in (5..500).step_by(5) {
            let unused = s.left(&format!("uid-{i}"));
            assert_eq!(unused.is_empty(), i < 495, "{i}");
        }
        assert_eq!(s.len(), 4);
        assert!(s.left("unknown").is_empty());
    }

    #[test]
    fn connection_users_are_counted_once_each_under_the_connection_they_name() {
        let u = ConnectionUsers::default();
        u.seen("ClusterDataZoneConnection//corp", "a", false);
        u.seen("ClusterDataZoneConnection//corp", "b", true);
        u.seen("ClusterDataZoneConnection//corp", "b", true);
        assert_eq!(u.counts("ClusterDataZoneConnection//corp"), (2, 1));
        u.seen("DataZoneConnection/team/central", "b", false);
        assert_eq!(u.counts("ClusterDataZoneConnection//corp"), (1, 0), "b moved");
        u.left("a");
        assert_eq!(u.counts("ClusterDataZoneConnection//corp"), (0, 0));
        assert_eq!(u.counts("DataZoneConnection/team/central"), (1, 0));
    }
}
