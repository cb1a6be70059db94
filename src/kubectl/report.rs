//! What `kubectl datazone status` and `why` show, worked out from the objects and Events alone
//! (pure: the caller reads the cluster, and gives the time, so every line is table-tested).

use serde::Serialize;

use crate::crd::RedshiftDataProduct;
use crate::crd::conditions::{Condition, ConditionStatus, PHASES, READY, RECONCILING, STALLED, find};

/// One data product in `status`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Row {
    pub namespace: String,
    pub name: String,
    /// True, False or Unknown.
    pub ready: String,
    pub reason: String,
    /// A person must act.
    pub stalled: bool,
    pub last_run: Option<LastRun>,
    pub assets: Option<i64>,
    pub subscribers: Option<u32>,
    /// Subscription requests waiting for a person.
    pub waiting: Option<u32>,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LastRun {
    pub id: String,
    pub status: String,
    /// When it stopped, or started while it runs (RFC 3339).
    pub at: Option<String>,
}

fn status_word(s: ConditionStatus) -> &'static str {
    match s {
        ConditionStatus::True => "True",
        ConditionStatus::False => "False",
        ConditionStatus::Unknown => "Unknown",
    }
}

fn conditions(p: &RedshiftDataProduct) -> &[Condition] {
    p.status.as_ref().map(|s| s.conditions.as_slice()).unwrap_or_default()
}

fn is_true(conditions: &[Condition], type_: &str) -> bool {
    find(conditions, type_).is_some_and(|c| c.status == ConditionStatus::True)
}

pub fn row(p: &RedshiftDataProduct) -> Row {
    let c = conditions(p);
    let ready = find(c, READY);
    let status = p.status.as_ref();
    Row {
        namespace: p.metadata.namespace.clone().unwrap_or_default(),
        name: p.metadata.name.clone().unwrap_or_default(),
        ready: ready.map_or("Unknown", |r| status_word(r.status)).to_string(),
        reason: ready.map_or_else(|| "Pending".to_string(), |r| r.reason.clone()),
        stalled: is_true(c, STALLED),
        last_run: status.and_then(|s| s.last_run.as_ref()).map(|r| LastRun {
            id: r.id.clone(),
            status: r.status.clone(),
            at: r.stopped_at.clone().or_else(|| r.started_at.clone()),
        }),
        assets: status.and_then(|s| s.published_asset_count),
        subscribers: status.and_then(|s| s.access.as_ref()).map(|a| a.subscribers),
        waiting: status.and_then(|s| s.access.as_ref()).map(|a| a.waiting),
        message: ready.map(|r| r.message.clone()).unwrap_or_default(),
    }
}

/// Rows, the ones not Ready first (Stalled before the rest), then by namespace and name.
pub fn rows(products: &[RedshiftDataProduct]) -> Vec<Row> {
    sorted(products.iter().map(row).collect())
}

/// `rows` in that order.
pub fn sorted(mut rows: Vec<Row>) -> Vec<Row> {
    rows.sort_by(|a, b| {
        let rank = |r: &Row| match (r.ready.as_str(), r.stalled) {
            (_, true) => 0,
            ("False", false) => 1,
            ("Unknown", _) => 2,
            _ => 3,
        };
        (rank(a), &a.namespace, &a.name).cmp(&(rank(b), &b.namespace, &b.name))
    });
    rows
}

/// `3m`, `2h`, `5d` since `at` (RFC 3339); `-` when there is no time.
pub fn age(at: Option<&str>, now: jiff::Timestamp) -> String {
    let Some(at) = at.and_then(|t| t.parse::<jiff::Timestamp>().ok()) else { return "-".into() };
    let s = now.duration_since(at).as_secs().max(0);
    match s {
        s if s < 120 => format!("{s}s"),
        s if s < 2 * 3600 => format!("{}m", s / 60),
        s if s < 2 * 86400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}

/// Columns padded to their widest cell, two spaces apart (as kubectl prints).
pub fn table(header: &[&str], cells: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in cells {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |row: Vec<&str>| {
        let mut out = String::new();
        for (i, (cell, w)) in row.iter().zip(&widths).enumerate() {
            if i + 1 == row.len() {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<w$}  "));
            }
        }
        out.trim_end().to_string() + "\n"
    };
    let mut out = line(header.to_vec());
    for row in cells {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

/// `status` for people: the table, then one line of totals.
pub fn status_text(rows: &[Row], now: jiff::Timestamp) -> String {
    if rows.is_empty() {
        return "No RedshiftDataProducts found.\n".into();
    }
    let dash = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let ready = if r.stalled { format!("{} (Stalled)", r.ready) } else { r.ready.clone() };
            let run = r.last_run.as_ref().map(|l| format!("{} {}", l.status, age(l.at.as_deref(), now)));
            vec![
                r.namespace.clone(),
                r.name.clone(),
                ready,
                r.reason.clone(),
                dash(run),
                dash(r.assets.map(|a| a.to_string())),
                dash(r.subscribers.map(|s| s.to_string())),
                dash(r.waiting.map(|w| w.to_string())),
            ]
        })
        .collect();
    let mut out =
        table(&["NAMESPACE", "NAME", "READY", "REASON", "LAST RUN", "ASSETS", "SUBSCRIBERS", "WAITING"], &cells);
    let not_ready = rows.iter().filter(|r| r.ready != "True").count();
    let stalled = rows.iter().filter(|r| r.stalled).count();
    out.push_str(&format!(
        "\n{} data product{}: {} Ready, {not_ready} not Ready ({stalled} Stalled: a person must act; `kubectl datazone why NAME -n NAMESPACE` says why)\n",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" },
        rows.len() - not_ready,
    ));
    out
}

/// An Event of the data product, as `why` shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventLine {
    /// RFC 3339.
    pub at: Option<String>,
    /// Normal or Warning.
    pub type_: String,
    pub reason: String,
    pub message: String,
    /// How many times it happened (an Event repeated is counted, not repeated).
    pub count: i32,
}

/// Why a data product is where it is.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Why {
    pub namespace: String,
    pub name: String,
    pub ready: String,
    pub reason: String,
    pub stalled: bool,
    /// The first phase, in pass order, that is not True: where it stands.
    pub blocking: Option<Condition>,
    /// Every condition, phases in pass order, then Ready, Stalled, Reconciling.
    pub conditions: Vec<Condition>,
    /// The last Events, oldest first.
    pub events: Vec<EventLine>,
    /// Where the reason is explained.
    pub see: String,
}

/// How many Events `why` shows.
pub const EVENTS_SHOWN: usize = 10;

pub fn why(p: &RedshiftDataProduct, mut events: Vec<EventLine>) -> Why {
    let row = row(p);
    let all = conditions(p);
    let mut ordered: Vec<Condition> = PHASES.iter().filter_map(|t| find(all, t).cloned()).collect();
    let blocking = ordered.iter().find(|c| c.status != ConditionStatus::True).cloned();
    ordered.extend([READY, STALLED, RECONCILING].iter().filter_map(|t| find(all, t).cloned()));
    let rest: Vec<Condition> = all.iter().filter(|c| !ordered.iter().any(|o| o.type_ == c.type_)).cloned().collect();
    ordered.extend(rest);
    events.sort_by(|a, b| a.at.cmp(&b.at));
    let skip = events.len().saturating_sub(EVENTS_SHOWN);
    let events = events.into_iter().skip(skip).collect();
    // Each phase has its section; Ready False with every phase True (retiring with subscribers,
    // say) is explained where the reason is listed.
    let see = match &blocking {
        Some(c) => format!("docs/operations/troubleshooting.md#{}", c.type_.to_lowercase()),
        None => "docs/operations/troubleshooting.md".to_string(),
    };
    Why {
        see,
        namespace: row.namespace,
        name: row.name,
        ready: row.ready,
        reason: row.reason,
        stalled: row.stalled,
        blocking,
        conditions: ordered,
        events,
    }
}

/// `why` for people: one screen.
pub fn why_text(w: &Why, now: jiff::Timestamp) -> String {
    let mut out = String::new();
    let who = format!("{}/{}", w.namespace, w.name);
    match (&w.blocking, w.ready.as_str()) {
        (_, "True") => out.push_str(&format!("{who} is Ready ({}).\n", w.reason)),
        (Some(b), _) => {
            out.push_str(&format!(
                "{who} is not Ready: {} is {} ({}).\n  {}\n",
                b.type_,
                status_word(b.status),
                b.reason,
                b.message
            ));
        }
        (None, _) => {
            let ready = w.conditions.iter().find(|c| c.type_ == READY);
            match ready {
                Some(r) => out.push_str(&format!("{who} is not Ready ({}).\n  {}\n", r.reason, r.message)),
                None => out.push_str(&format!("{who} is not Ready ({}): no phase has a condition yet.\n", w.reason)),
            }
        }
    }
    if w.stalled {
        out.push_str("  Stalled: the operator waits for a person (it looks again every 10 minutes, or at once when the spec changes).\n");
    } else if w.ready != "True" {
        out.push_str("  Reconciling: the operator is on its way; nothing to do yet.\n");
    }
    out.push_str("\nCONDITIONS\n");
    let cells: Vec<Vec<String>> = w
        .conditions
        .iter()
        .map(|c| {
            vec![
                c.type_.clone(),
                status_word(c.status).into(),
                c.reason.clone(),
                age(Some(&c.last_transition_time), now),
                c.message.clone(),
            ]
        })
        .collect();
    out.push_str(&table(&["TYPE", "STATUS", "REASON", "SINCE", "MESSAGE"], &cells));
    out.push_str(&format!("\nEVENTS (the last {EVENTS_SHOWN}, oldest first)\n"));
    if w.events.is_empty() {
        out.push_str("none\n");
    } else {
        let cells: Vec<Vec<String>> = w
            .events
            .iter()
            .map(|e| {
                let reason = if e.count > 1 { format!("{} (x{})", e.reason, e.count) } else { e.reason.clone() };
                vec![age(e.at.as_deref(), now), e.type_.clone(), reason, e.message.clone()]
            })
            .collect();
        out.push_str(&table(&["AGE", "TYPE", "REASON", "MESSAGE"], &cells));
    }
    if w.ready != "True" {
        out.push_str(&format!("\nWhat {} means and what to do: {}\n", w.reason, w.see));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::conditions::{CONNECTION_RESOLVED, PUBLISHED};

    fn condition(type_: &str, status: ConditionStatus, reason: &str, message: &str) -> Condition {
        Condition {
            type_: type_.into(),
            status,
            reason: reason.into(),
            message: message.into(),
            observed_generation: Some(1),
            last_transition_time: "2026-12-06T10:00:00Z".into(),
        }
    }

    fn product(ns: &str, name: &str, conditions: Vec<Condition>) -> RedshiftDataProduct {
        let mut p: RedshiftDataProduct = serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "namespace": ns},
            "spec": {"connectionRef": {"kind": "DataZoneConnection", "name": "c"}, "project": "sales",
                     "redshift": {"clusterName": "rs", "database": "dev", "credentialsSecretArn": "arn:aws:secretsmanager:eu-west-1:1:secret:s"},
                     "schemas": [{"name": "public", "tables": ["orders"]}]}}))
        .unwrap();
        p.status = Some(crate::crd::RedshiftDataProductStatus { conditions, ..Default::default() });
        p
    }

    fn now() -> jiff::Timestamp {
        "2026-12-06T10:05:00Z".parse().unwrap()
    }

    fn missing_project() -> RedshiftDataProduct {
        use ConditionStatus::{False, True};
        let m = "no project \"payments\" in domain dzd_1 is visible to role dz-registration";
        product(
            "team-sales",
            "orders",
            vec![
                condition(READY, False, "ProjectNotFound", m),
                condition(CONNECTION_RESOLVED, False, "ProjectNotFound", m),
                condition(STALLED, True, "ProjectNotFound", m),
                condition(RECONCILING, False, "Stalled", ""),
            ],
        )
    }

    #[test]
    fn status_lists_the_stalled_first_then_the_others_not_ready_then_the_ready() {
        use ConditionStatus::{False, True};
        let products = [
            product("a", "ready", vec![condition(READY, True, "Published", "")]),
            product("b", "running", vec![condition(READY, False, "Running", "")]),
            missing_project(),
            product("a", "new", vec![]),
        ];
        let order: Vec<String> = rows(&products).iter().map(|r| format!("{}/{}", r.namespace, r.name)).collect();
        assert_eq!(order, ["team-sales/orders", "b/running", "a/new", "a/ready"]);
        let text = status_text(&rows(&products), now());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0].split_whitespace().collect::<Vec<_>>(),
            ["NAMESPACE", "NAME", "READY", "REASON", "LAST", "RUN", "ASSETS", "SUBSCRIBERS", "WAITING"]
        );
        assert!(lines[1].starts_with("team-sales  orders   False (Stalled)  ProjectNotFound"), "{text}");
        assert!(text.contains("4 data products: 1 Ready, 3 not Ready (1 Stalled"), "{text}");
    }

    #[test]
    fn why_names_the_blocking_phase_its_message_and_the_events_newest_last() {
        let events: Vec<EventLine> = (0..12)
            .map(|i| EventLine {
                at: Some(format!("2026-12-06T10:0{}:{:02}Z", i / 6, (i % 6) * 10)),
                type_: "Warning".into(),
                reason: if i == 11 { "ConnectionResolvedFalse".into() } else { format!("E{i}") },
                message: "m".into(),
                count: if i == 11 { 3 } else { 1 },
            })
            .rev()
            .collect();
        let w = why(&missing_project(), events);
        assert_eq!(w.blocking.as_ref().map(|b| b.type_.as_str()), Some(CONNECTION_RESOLVED));
        assert_eq!(w.events.len(), EVENTS_SHOWN);
        assert_eq!(w.events.last().unwrap().reason, "ConnectionResolvedFalse");
        let types: Vec<&str> = w.conditions.iter().map(|c| c.type_.as_str()).collect();
        assert_eq!(types, [CONNECTION_RESOLVED, READY, STALLED, RECONCILING]);
        let text = why_text(&w, now());
        assert!(
            text.starts_with("team-sales/orders is not Ready: ConnectionResolved is False (ProjectNotFound).\n  no project \"payments\""),
            "{text}"
        );
        assert!(text.contains("Stalled: the operator waits for a person"), "{text}");
        assert!(text.contains("ConnectionResolvedFalse (x3)"), "{text}");
        assert!(text.contains("docs/operations/troubleshooting.md#connectionresolved"), "{text}");
    }

    #[test]
    fn why_of_a_ready_data_product_says_so() {
        use ConditionStatus::True;
        let p = product(
            "a",
            "ready",
            vec![
                condition(PUBLISHED, True, "Published", "3 assets"),
                condition(CONNECTION_RESOLVED, True, "Resolved", ""),
                condition(READY, True, "Published", "3 assets"),
            ],
        );
        let w = why(&p, vec![]);
        assert_eq!(w.blocking, None);
        let types: Vec<&str> = w.conditions.iter().map(|c| c.type_.as_str()).collect();
        assert_eq!(types, [CONNECTION_RESOLVED, PUBLISHED, READY], "phases in pass order");
        let text = why_text(&w, now());
        assert!(text.starts_with("a/ready is Ready (Published).\n"), "{text}");
        assert!(!text.contains("What "), "{text}");
    }

    #[test]
    fn why_of_a_data_product_held_with_every_phase_true_gives_ready_s_message() {
        use ConditionStatus::{False, True};
        let held = "retiring: 2 subscribing projects (analytics-team, marketing); held until they leave";
        let p = product(
            "a",
            "old",
            vec![
                condition(PUBLISHED, True, "Published", "3 assets"),
                condition(READY, False, "Subscribed", held),
                condition(STALLED, True, "Subscribed", held),
            ],
        );
        let w = why(&p, vec![]);
        assert_eq!(w.blocking, None);
        assert_eq!(w.see, "docs/operations/troubleshooting.md");
        let text = why_text(&w, now());
        assert!(text.starts_with(&format!("a/old is not Ready (Subscribed).\n  {held}\n")), "{text}");
    }

    #[test]
    fn ages_read_like_kubectl() {
        let rows = [
            (Some("2026-12-06T10:04:30Z"), "30s"),
            (Some("2026-12-06T09:05:00Z"), "60m"),
            (Some("2026-12-06T05:05:00Z"), "5h"),
            (Some("2026-12-01T10:05:00Z"), "5d"),
            (Some("not a time"), "-"),
            (None, "-"),
        ];
        for (at, want) in rows {
            assert_eq!(age(at, now()), want, "{at:?}");
        }
    }
}
