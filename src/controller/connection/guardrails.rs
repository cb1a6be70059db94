//! A connection's tenancy rules (`spec.allowed`): whether what a data product or glossary names
//! (project, cluster or workgroup, database, credentials secret) is allowed for its namespace.
//! Pure; the reconcile refuses before any DataZone call, naming the rule.

use std::collections::BTreeMap;

use super::resolve::selector_matches;
use crate::controller::decide::pass::{Blocked, Phase};
use crate::crd::{ConnectionKind, ConnectionRef, TenancyRule};
use crate::datazone::Storage;

/// How the counts name a connection: `Kind/namespace/name` (no namespace for the cluster-scoped
/// kind), the same from a data product's reference and from the connection itself.
pub fn connection_key(kind: &str, namespace: Option<&str>, name: &str) -> String {
    format!("{kind}/{}/{name}", namespace.unwrap_or_default())
}

/// [`connection_key`] of the connection `r` names from `namespace`.
pub fn referenced_key(r: &ConnectionRef, namespace: &str) -> String {
    let namespace = (r.kind == ConnectionKind::DataZoneConnection).then_some(namespace);
    connection_key(r.kind.as_str(), namespace, &r.name)
}

/// [`admit`], as the condition a refused object shows (ConnectionResolved, NotAllowed).
pub fn check(
    rules: &[TenancyRule],
    labels: Option<&BTreeMap<String, String>>,
    asked: &Asked<'_>,
    r: &ConnectionRef,
    namespace: &str,
) -> Result<(), Blocked> {
    // Just created with its namespace, perhaps: the watch has not brought the labels yet.
    if labels.is_none() && rules.iter().any(|r| r.namespace_selector.is_some()) {
        let message = format!("namespace {namespace} is not known yet");
        return Err(Blocked::retryable(Phase::ConnectionResolved, "NamespaceUnknown", message));
    }
    admit(rules, labels, asked).map_err(|why| {
        let message = format!("{} {} does not allow this in namespace {namespace}: {why}", r.kind.as_str(), r.name);
        Blocked::terminal(Phase::ConnectionResolved, "NotAllowed", message)
    })
}

/// What an object asks of a connection (`None`: it names nothing of that kind).
#[derive(Clone, Debug, Default)]
pub struct Asked<'a> {
    pub project: &'a str,
    pub storage: Option<&'a Storage>,
    pub database: Option<&'a str>,
    pub secret_arn: Option<&'a str>,
}

/// `*` matches any run of characters; everything else itself.
pub fn glob_matches(pattern: &str, value: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == value;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !value.starts_with(first) || !value[first.len()..].ends_with(last) || value.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &value[first.len()..value.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

/// Why one rule does not allow what is asked (the first field it refuses).
fn refusal(rule: &TenancyRule, asked: &Asked<'_>) -> Option<String> {
    let listed = |l: &[String]| l.join(", ");
    if !rule.projects.is_empty() && !rule.projects.iter().any(|p| p == asked.project) {
        return Some(format!("project {} is not one of {}", asked.project, listed(&rule.projects)));
    }
    if let Some(storage) = asked.storage
        && (!rule.clusters.is_empty() || !rule.workgroups.is_empty())
    {
        let (kind, allowed) = match storage {
            Storage::Cluster(_) => ("cluster", &rule.clusters),
            Storage::Workgroup(_) => ("workgroup", &rule.workgroups),
        };
        if !allowed.iter().any(|a| a == storage.name()) {
            let name = storage.name();
            return Some(if allowed.is_empty() {
                format!("{kind} {name}: only {} are allowed", if kind == "cluster" { "workgroups" } else { "clusters" })
            } else {
                format!("{kind} {name} is not one of {}", listed(allowed))
            });
        }
    }
    if let Some(database) = asked.database
        && !rule.databases.is_empty()
        && !rule.databases.iter().any(|d| d == database)
    {
        return Some(format!("database {database} is not one of {}", listed(&rule.databases)));
    }
    if let Some(secret) = asked.secret_arn
        && !rule.credentials_secret_arns.is_empty()
        && !rule.credentials_secret_arns.iter().any(|p| glob_matches(p, secret))
    {
        return Some(format!("credentials secret {secret} matches none of {}", listed(&rule.credentials_secret_arns)));
    }
    None
}

/// `Ok` when no rules are set or one that applies to the namespace (its `labels`; `None`: not
/// known) allows everything asked; otherwise why not, rule by rule.
pub fn admit(
    rules: &[TenancyRule],
    labels: Option<&BTreeMap<String, String>>,
    asked: &Asked<'_>,
) -> Result<(), String> {
    if rules.is_empty() {
        return Ok(());
    }
    let applies = |r: &TenancyRule| match (&r.namespace_selector, labels) {
        (None, _) => true,
        (Some(selector), Some(labels)) => selector_matches(selector, labels),
        (Some(_), None) => false,
    };
    let mut why = Vec::new();
    for (i, rule) in rules.iter().enumerate().filter(|(_, r)| applies(r)) {
        match refusal(rule, asked) {
            None => return Ok(()),
            Some(reason) => why.push(format!("allowed[{i}]: {reason}")),
        }
    }
    if why.is_empty() {
        return Err("no rule of spec.allowed applies to this namespace".into());
    }
    Err(why.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::LabelSelector;

    #[test]
    fn globs() {
        let arn = "arn:aws:secretsmanager:eu-central-1:222222222222:secret:dz-sales-AbCdEf";
        for (pattern, want) in [
            (arn, true),
            ("arn:aws:secretsmanager:eu-central-1:222222222222:secret:dz-sales-*", true),
            ("arn:aws:secretsmanager:*:222222222222:secret:dz-*", true),
            ("arn:aws:secretsmanager:*:*:secret:*", true),
            ("arn:aws:secretsmanager:eu-central-1:222222222222:secret:dz-marketing-*", false),
            ("*-AbCdEf", true),
            ("arn:*:sales-*:x", false),
        ] {
            assert_eq!(glob_matches(pattern, arn), want, "{pattern}");
        }
        assert!(!glob_matches("a*a", "a"), "the two ends may not overlap");
    }

    fn rule(edit: impl FnOnce(&mut TenancyRule)) -> TenancyRule {
        let mut r = TenancyRule::default();
        edit(&mut r);
        r
    }

    #[test]
    fn the_first_rule_that_applies_and_allows_everything_admits() {
        let sales = Storage::Cluster("prod-dwh".into());
        let asked = Asked {
            project: "sales",
            storage: Some(&sales),
            database: Some("sales"),
            secret_arn: Some("arn:aws:secretsmanager:eu-central-1:222222222222:secret:dz-sales-AbCdEf"),
        };
        let labels: BTreeMap<String, String> = [("team".to_string(), "sales".to_string())].into();
        let team = |t: &str| {
            Some(LabelSelector { match_labels: [("team".to_string(), t.to_string())].into(), ..Default::default() })
        };
        let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let cases: Vec<(Vec<TenancyRule>, Result<(), &str>)> = vec![
            (vec![], Ok(())),
            (vec![rule(|r| r.projects = strings(&["sales"]))], Ok(())),
            (
                vec![rule(|r| r.projects = strings(&["marketing"]))],
                Err("allowed[0]: project sales is not one of marketing"),
            ),
            (
                vec![rule(|r| r.workgroups = strings(&["wg"]))],
                Err("allowed[0]: cluster prod-dwh: only workgroups are allowed"),
            ),
            (vec![rule(|r| r.clusters = strings(&["prod-dwh"])), rule(|r| r.databases = strings(&["x"]))], Ok(())),
            (
                vec![rule(|r| r.databases = strings(&["marketing"]))],
                Err("allowed[0]: database sales is not one of marketing"),
            ),
            (
                vec![rule(|r| {
                    r.credentials_secret_arns = strings(&["arn:aws:secretsmanager:*:*:secret:dz-marketing-*"])
                })],
                Err(
                    "allowed[0]: credentials secret arn:aws:secretsmanager:eu-central-1:222222222222:secret:dz-sales-AbCdEf matches none of arn:aws:secretsmanager:*:*:secret:dz-marketing-*",
                ),
            ),
            (
                vec![rule(|r| r.namespace_selector = team("marketing"))],
                Err("no rule of spec.allowed applies to this namespace"),
            ),
            (
                vec![
                    rule(|r| {
                        r.namespace_selector = team("marketing");
                    }),
                    rule(|r| {
                        r.namespace_selector = team("sales");
                        r.projects = strings(&["sales"]);
                    }),
                ],
                Ok(()),
            ),
        ];
        for (rules, want) in cases {
            assert_eq!(admit(&rules, Some(&labels), &asked), want.map_err(str::to_string), "{rules:?}");
        }
        let glossary = Asked { project: "sales", ..Asked::default() };
        let strict = [rule(|r| {
            r.projects = strings(&["sales"]);
            r.databases = strings(&["x"]);
        })];
        assert_eq!(admit(&strict, None, &glossary), Ok(()), "a glossary names a project only");
    }
}
