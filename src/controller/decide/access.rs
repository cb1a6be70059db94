//! The access policy (`spec.access`) applied to one subscription request: which rule decides, and
//! the comment DataZone keeps with the decision. Pure, table-tested; the stage that lists the
//! requests and answers them is I/O around it.

use crate::crd::{AccessDecision, AccessPolicy, AccessRule};

/// A project as a subscription request names its subscriber.
#[derive(Clone, Copy, Debug)]
pub struct Requester<'a> {
    pub id: &'a str,
    pub name: Option<&'a str>,
}

/// What the policy does with one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict<'a> {
    /// A rule names the requester: accept or reject by it.
    Decided(&'a AccessRule),
    /// No rule names the requester: a person decides in the portal.
    Person,
}

/// `*` names any project; otherwise a rule names a project by its name or its ID.
pub fn names(listed: &[String], requester: &Requester<'_>) -> bool {
    listed.iter().any(|p| p == "*" || p == requester.id || Some(p.as_str()) == requester.name)
}

/// The first rule that names the requester decides.
pub fn decide<'a>(policy: &'a AccessPolicy, requester: &Requester<'_>) -> Verdict<'a> {
    policy.rules.iter().find(|r| names(&r.projects, requester)).map_or(Verdict::Person, Verdict::Decided)
}

/// The decision comment: which rule of which Kubernetes object decided, and the rule's reason;
/// the requester reads it in the portal, the auditor in DataZone's record of the request.
pub fn comment(rule: &AccessRule, namespace: &str, name: &str) -> String {
    let done = match rule.decision {
        AccessDecision::Approve => "Approved",
        AccessDecision::Reject => "Rejected",
    };
    let by =
        format!("{done} by access rule {} of RedshiftDataProduct {namespace}/{name} (datazone-operator)", rule.name);
    match &rule.reason {
        Some(reason) => format!("{by}: {reason}"),
        None => by,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(name: &str, projects: &[&str], decision: AccessDecision, reason: Option<&str>) -> AccessRule {
        AccessRule {
            name: name.into(),
            projects: projects.iter().map(|p| p.to_string()).collect(),
            decision,
            reason: reason.map(str::to_string),
        }
    }

    #[test]
    fn the_first_rule_that_names_the_requester_decides() {
        use AccessDecision::{Approve, Reject};
        let policy = AccessPolicy {
            rules: vec![
                rule("partners-out", &["external-partners"], Reject, Some("through the data sharing agreement")),
                rule("analytics", &["analytics", "prj_finance01"], Approve, None),
                rule("everyone-else", &["*"], Reject, Some("ask the sales data team")),
            ],
        };
        let cases = [
            // (id, name, the rule that decides; None: a person)
            ("prj_ext", Some("external-partners"), Some("partners-out")),
            ("prj_an", Some("analytics"), Some("analytics")),
            ("prj_finance01", None, Some("analytics")),
            ("prj_finance01", Some("finance"), Some("analytics")),
            ("prj_other", Some("marketing"), Some("everyone-else")),
            // A name that only looks like a listed one is not it.
            ("prj_x", Some("analytics-eu"), Some("everyone-else")),
        ];
        for (id, name, want) in cases {
            let verdict = decide(&policy, &Requester { id, name });
            let got = match verdict {
                Verdict::Decided(r) => Some(r.name.as_str()),
                Verdict::Person => None,
            };
            assert_eq!(got, want, "{id} {name:?}");
        }
        // Without a catch-all, a request no rule names waits for a person.
        let policy = AccessPolicy { rules: policy.rules[..2].to_vec() };
        assert_eq!(decide(&policy, &Requester { id: "prj_other", name: Some("marketing") }), Verdict::Person);
    }

    #[test]
    fn the_comment_names_the_rule_the_object_and_the_reason() {
        let approve = rule("analytics", &["analytics"], AccessDecision::Approve, None);
        assert_eq!(
            comment(&approve, "team-sales", "prod-dwh-sales"),
            "Approved by access rule analytics of RedshiftDataProduct team-sales/prod-dwh-sales (datazone-operator)"
        );
        let reject = rule("partners-out", &["*"], AccessDecision::Reject, Some("through the data sharing agreement"));
        assert_eq!(
            comment(&reject, "team-sales", "prod-dwh-sales"),
            "Rejected by access rule partners-out of RedshiftDataProduct team-sales/prod-dwh-sales (datazone-operator): through the data sharing agreement"
        );
        // At its longest it stays within DataZone's 4,096 characters.
        let long = rule(&"r".repeat(63), &["*"], AccessDecision::Reject, Some(&"x".repeat(2048)));
        assert!(comment(&long, &"n".repeat(63), &"o".repeat(253)).chars().count() <= 4096);
    }
}
