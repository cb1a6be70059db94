//! The chart's dashboard and alerts name only metrics the operator exports: a family renamed or
//! dropped in `src/metrics/mod.rs` fails here, before a panel goes blank or an alert goes silent
//! in someone's cluster. (What they show is tested against a real Prometheus: `make alerts` and
//! `tests/e2e_dashboard.rs`.)

use std::collections::BTreeSet;

use regex::Regex;

fn read(path: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

/// The metric names `text` uses, a histogram's series (`_bucket`, `_sum`, `_count`) as its family.
fn used(text: &str) -> BTreeSet<String> {
    let name = Regex::new(r"datazone_operator_[a-z_]+").unwrap();
    name.find_iter(text)
        .map(|m| {
            let n = m.as_str();
            ["_bucket", "_sum", "_count"].iter().find_map(|s| n.strip_suffix(s)).unwrap_or(n).to_string()
        })
        .collect()
}

#[test]
fn the_dashboard_and_the_alerts_use_only_metrics_the_operator_exports() {
    let exported: BTreeSet<String> = Regex::new(r#""(datazone_operator_[a-z_]+)""#)
        .unwrap()
        .captures_iter(&read("src/metrics/mod.rs"))
        .map(|c| c[1].to_string())
        .collect();
    assert!(exported.len() >= 20, "{exported:?}");
    for file in [
        "charts/datazone-operator/dashboards/datazone-operator.json",
        "charts/datazone-operator/templates/prometheusrule.yaml",
    ] {
        let unknown: Vec<String> = used(&read(file)).difference(&exported).cloned().collect();
        assert!(unknown.is_empty(), "{file} uses metrics the operator does not export: {unknown:?}");
    }
}

#[test]
fn every_panel_has_a_title_a_query_and_the_job_variable() {
    let dashboard: serde_json::Value =
        serde_json::from_str(&read("charts/datazone-operator/dashboards/datazone-operator.json")).unwrap();
    let panels: Vec<&serde_json::Value> =
        dashboard["panels"].as_array().unwrap().iter().filter(|p| p["type"] != "row").collect();
    assert!(panels.len() >= 20, "{} panels", panels.len());
    let selectors = Regex::new(r"datazone_operator_[a-z_]+(\{[^}]*\})?").unwrap();
    for p in panels {
        let title = p["title"].as_str().unwrap_or_default();
        assert!(!title.is_empty(), "a panel without a title: {p}");
        let targets = p["targets"].as_array().unwrap();
        assert!(!targets.is_empty(), "{title}: no query");
        for t in targets {
            let expr = t["expr"].as_str().unwrap();
            // Every selector of the operator's series is scoped to the chosen job.
            for s in selectors.find_iter(expr) {
                assert!(s.as_str().contains(r#"job=~"$job""#), "{title}: {} is not scoped to $job", s.as_str());
            }
        }
    }
}
