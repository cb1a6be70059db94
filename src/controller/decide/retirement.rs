//! `deletionPolicy: Retire` once the resource's listings are out of the catalog: whether the
//! subscribers it still has hold the deletion, are revoked, or there are none. Pure.

use crate::crd::Retirement;
use crate::datazone::SubscriptionInfo;

/// The next step of a retirement, given the APPROVED subscriptions to its listings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RetireStep {
    /// No subscriber: delete, in the seed's order (data products, assets, data source).
    Delete,
    /// Revoke these subscriptions (by ID), then delete.
    Revoke(Vec<String>),
    /// Wait: these projects subscribe, and the spec does not say to revoke.
    Wait(Vec<String>),
}

pub fn step(subscriptions: &[SubscriptionInfo], retirement: Retirement) -> RetireStep {
    if subscriptions.is_empty() {
        return RetireStep::Delete;
    }
    if retirement.revoke_subscriptions {
        return RetireStep::Revoke(subscriptions.iter().map(|s| s.id.clone()).collect());
    }
    let mut projects: Vec<String> =
        subscriptions.iter().map(|s| s.project_name.clone().unwrap_or_else(|| s.project_id.clone())).collect();
    projects.sort();
    projects.dedup();
    RetireStep::Wait(projects)
}

/// What status says while a retirement waits for `projects`.
pub fn waiting(projects: &[String]) -> String {
    let (who, verb) = match projects {
        [one] => (format!("project {one}"), "subscribes"),
        many => (format!("projects {}", many.join(", ")), "subscribe"),
    };
    format!(
        "retiring: the listings are out of the catalog, but {who} still {verb}; deletion waits until no project subscribes (or set spec.retirement.revokeSubscriptions: true)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subscription(id: &str, project: &str) -> SubscriptionInfo {
        SubscriptionInfo {
            id: id.into(),
            listing_id: "l1".into(),
            entity_id: Some("a1".into()),
            project_id: format!("prj_{project}"),
            project_name: Some(project.into()),
            status: "APPROVED".into(),
        }
    }

    #[test]
    fn subscribers_hold_a_retirement_unless_the_spec_says_to_revoke() {
        let wait = Retirement::default();
        let revoke = Retirement { revoke_subscriptions: true, retain_permissions: false };
        let two = [subscription("s1", "marketing"), subscription("s2", "analytics"), subscription("s3", "marketing")];
        let cases = [
            (&[][..], wait, RetireStep::Delete),
            (&[][..], revoke, RetireStep::Delete),
            (&two[..], wait, RetireStep::Wait(vec!["analytics".into(), "marketing".into()])),
            (&two[..], revoke, RetireStep::Revoke(vec!["s1".into(), "s2".into(), "s3".into()])),
        ];
        for (subscriptions, retirement, want) in cases {
            assert_eq!(step(subscriptions, retirement), want, "{retirement:?}");
        }
        assert_eq!(
            waiting(&["marketing".into()]),
            "retiring: the listings are out of the catalog, but project marketing still subscribes; deletion waits until no project subscribes (or set spec.retirement.revokeSubscriptions: true)"
        );
        assert!(
            waiting(&["analytics".into(), "marketing".into()])
                .contains("projects analytics, marketing still subscribe;")
        );
    }
}
