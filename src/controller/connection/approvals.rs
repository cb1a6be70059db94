//! A connection's `autoApproval`: whether the access policy of a data product in a namespace may
//! approve the consumer projects its rules name. Approving opens data, so it takes the platform's
//! permission; a Reject rule needs none. A policy with an Approve rule the connection does not
//! allow is refused as a whole: its other rules would otherwise decide requests the refused rule
//! was written for (a catch-all Reject after it would turn them away). Pure.

use std::collections::BTreeMap;

use super::resolve::selector_matches;
use crate::crd::{AccessDecision, AccessPolicy, AutoApproval};

/// `Ok` when every Approve rule's projects are allowed by an entry that applies to the namespace
/// (its `labels`); otherwise why not, naming the first rule refused. A rule naming `*` needs an
/// entry allowing `*`; otherwise each project must be listed by the entry as the rule names it.
pub fn allowed(
    entries: &[AutoApproval],
    labels: Option<&BTreeMap<String, String>>,
    policy: &AccessPolicy,
) -> Result<(), String> {
    let applies = |e: &&AutoApproval| match (&e.namespace_selector, labels) {
        (None, _) => true,
        (Some(selector), Some(labels)) => selector_matches(selector, labels),
        (Some(_), None) => false,
    };
    let allowed: Vec<&String> = entries.iter().filter(applies).flat_map(|e| &e.projects).collect();
    for rule in policy.rules.iter().filter(|r| r.decision == AccessDecision::Approve) {
        let refused = rule.projects.iter().find(|p| !allowed.iter().any(|a| *a == "*" || a == p));
        if let Some(project) = refused {
            let why = if allowed.is_empty() {
                "allows no auto-approval for this namespace".to_string()
            } else {
                let listed: Vec<&str> = allowed.iter().map(|a| a.as_str()).collect();
                format!("allows auto-approval only for {}", listed.join(", "))
            };
            return Err(format!("access rule {} approves {project}, but the connection {why}", rule.name));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::{AccessRule, LabelSelector};

    fn policy(rules: &[(&str, &[&str], AccessDecision)]) -> AccessPolicy {
        let rules = rules
            .iter()
            .map(|(name, projects, decision)| AccessRule {
                name: name.to_string(),
                projects: projects.iter().map(|p| p.to_string()).collect(),
                decision: *decision,
                reason: Some("because".into()),
            })
            .collect();
        AccessPolicy { rules }
    }

    fn entry(team: Option<&str>, projects: &[&str]) -> AutoApproval {
        AutoApproval {
            namespace_selector: team.map(|t| LabelSelector {
                match_labels: [("team".to_string(), t.to_string())].into(),
                match_expressions: Vec::new(),
            }),
            projects: projects.iter().map(|p| p.to_string()).collect(),
        }
    }

    #[test]
    fn approve_rules_need_the_connections_permission_and_reject_rules_do_not() {
        use AccessDecision::{Approve, Reject};
        let sales: BTreeMap<String, String> = [("team".to_string(), "sales".to_string())].into();
        let analytics = policy(&[("analytics", &["analytics"], Approve), ("rest", &["*"], Reject)]);
        let open = policy(&[("everyone", &["*"], Approve)]);
        let only_rejects = policy(&[("out", &["*"], Reject)]);
        type Case<'a> = (&'a str, Vec<AutoApproval>, &'a AccessPolicy, Result<(), &'a str>);
        let cases: Vec<Case> = vec![
            (
                "nothing allowed",
                vec![],
                &analytics,
                Err(
                    "access rule analytics approves analytics, but the connection allows no auto-approval for this namespace",
                ),
            ),
            ("only rejects", vec![], &only_rejects, Ok(())),
            ("the project allowed", vec![entry(None, &["analytics", "finance"])], &analytics, Ok(())),
            ("any project allowed", vec![entry(None, &["*"])], &open, Ok(())),
            (
                "a named list does not allow *",
                vec![entry(None, &["analytics"])],
                &open,
                Err("access rule everyone approves *, but the connection allows auto-approval only for analytics"),
            ),
            ("allowed for this team", vec![entry(Some("sales"), &["analytics"])], &analytics, Ok(())),
            (
                "allowed for another team",
                vec![entry(Some("marketing"), &["analytics"])],
                &analytics,
                Err(
                    "access rule analytics approves analytics, but the connection allows no auto-approval for this namespace",
                ),
            ),
        ];
        for (what, entries, policy, want) in cases {
            assert_eq!(allowed(&entries, Some(&sales), policy), want.map_err(str::to_string), "{what}");
        }
        // The namespace's labels not known yet: entries for a team do not apply.
        assert!(allowed(&[entry(Some("sales"), &["analytics"])], None, &analytics).is_err());
    }
}
