//! `deletionPolicy: Retire` once the resource's listings are out of the catalog: whether the
//! subscribers it still has hold the deletion, are revoked, or there are none. Pure.

use std::collections::BTreeSet;

use crate::crd::{DeletionPolicy, Retirement};
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

/// The subscriptions to the listings of `ids` (assets and data products).
pub fn to(subscriptions: Vec<SubscriptionInfo>, ids: &BTreeSet<&str>) -> Vec<SubscriptionInfo> {
    subscriptions.into_iter().filter(|s| s.entity_id.as_deref().is_some_and(|e| ids.contains(e))).collect()
}

/// The subscribing projects, by name where DataZone says it, each once, in order.
pub fn projects(subscriptions: &[SubscriptionInfo]) -> Vec<String> {
    let mut projects: Vec<String> =
        subscriptions.iter().map(|s| s.project_name.clone().unwrap_or_else(|| s.project_id.clone())).collect();
    projects.sort();
    projects.dedup();
    projects
}

pub fn step(subscriptions: &[SubscriptionInfo], retirement: Retirement) -> RetireStep {
    if subscriptions.is_empty() {
        return RetireStep::Delete;
    }
    if retirement.revoke_subscriptions {
        return RetireStep::Revoke(subscriptions.iter().map(|s| s.id.clone()).collect());
    }
    RetireStep::Wait(projects(subscriptions))
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

/// What deleting the resource would do, for `plan`: by its policy, what goes, and under
/// `Retire` whom it affects (`subscribers`: the subscribing projects, in order).
pub fn outlook(
    policy: DeletionPolicy,
    retirement: Retirement,
    products: &[String],
    assets: usize,
    data_source: Option<&str>,
    subscribers: &[String],
) -> String {
    let products = match products {
        [] => String::new(),
        [one] => format!("data product {one}, "),
        many => format!("data products {}, ", many.join(", ")),
    };
    let data_source = data_source.map_or("its data source (if any)".to_string(), |id| format!("data source {id}"));
    match policy {
        DeletionPolicy::Retain => "Retain: nothing in DataZone changes".to_string(),
        DeletionPolicy::Delete => format!("Delete: would delete {products}{data_source}; its assets stay listed"),
        DeletionPolicy::Retire => {
            let then = format!("delete {products}{assets} assets, {data_source}");
            match (subscribers, retirement.revoke_subscriptions) {
                ([], _) => format!("Retire: would unpublish, then {then}"),
                (who, false) => format!(
                    "Retire: would unpublish, then wait while {} subscribe(s) ({}), then {then}",
                    who.len(),
                    who.join(", ")
                ),
                (who, true) => {
                    format!("Retire: would unpublish, revoke the subscriptions of {}, then {then}", who.join(", "))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_says_what_a_delete_would_do_and_whom_it_would_affect() {
        use DeletionPolicy::{Delete, Retain, Retire};
        let wait = Retirement::default();
        let revoke = Retirement { revoke_subscriptions: true, retain_permissions: true };
        let products = ["sales".to_string()];
        let who = ["analytics-team".to_string()];
        let cases = [
            (Retain, wait, &who[..], "Retain: nothing in DataZone changes"),
            (
                Delete,
                wait,
                &who[..],
                "Delete: would delete data product sales, data source ds-1; its assets stay listed",
            ),
            (
                Retire,
                wait,
                &[][..],
                "Retire: would unpublish, then delete data product sales, 3 assets, data source ds-1",
            ),
            (
                Retire,
                wait,
                &who[..],
                "Retire: would unpublish, then wait while 1 subscribe(s) (analytics-team), then delete data product sales, 3 assets, data source ds-1",
            ),
            (
                Retire,
                revoke,
                &who[..],
                "Retire: would unpublish, revoke the subscriptions of analytics-team, then delete data product sales, 3 assets, data source ds-1",
            ),
        ];
        for (policy, retirement, subscribers, want) in cases {
            assert_eq!(outlook(policy, retirement, &products, 3, Some("ds-1"), subscribers), want);
        }
    }

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
