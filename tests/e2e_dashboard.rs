//! The chart's Grafana dashboard against the real thing: a real Prometheus (Debian's, unpacked by
//! `scripts/prometheus-bin`; `scripts/e2e` names it in `PROMETHEUS`) scrapes the operator binary
//! every second while it publishes a data product with an access policy (the real API server, the
//! emulator over the SDK, its first DataZone calls throttled) and a consuming team subscribes: one
//! subscription the policy approves, one left to a person. Then every query of every panel of
//! `charts/datazone-operator/dashboards/datazone-operator.json` is evaluated by that Prometheus, as
//! Grafana would send it, and must return data; the test names each panel that returns none, and
//! prints every panel with what it returned.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::mesh::{
    CONSUMER_ROLE, add_member, allow, consumer_connection, project, published_with_policy, subscribe, warehouse,
};
use common::world::world;
use common::{KillOnDrop, eventually, free_port, mesh};
use kube::api::PostParams;
use serde_json::{Value, json};

const JOB: &str = "datazone-operator-metrics";

/// `q` percent-encoded for a URL's query string.
fn encoded(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An instant query; the result vector (or the error Prometheus gave).
async fn query(port: u16, promql: &str) -> Result<Vec<Value>, String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.map_err(|e| e.to_string())?;
    // HTTP/1.0: the answer comes whole, not chunked.
    let request = format!("GET /api/v1/query?query={} HTTP/1.0\r\nHost: e2e\r\n\r\n", encoded(promql));
    stream.write_all(request.as_bytes()).await.map_err(|e| e.to_string())?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await.map_err(|e| e.to_string())?;
    let body: Value = serde_json::from_str(common::body(&response)).map_err(|e| format!("{e}: {response}"))?;
    if body["status"] != "success" {
        return Err(format!("{promql}: {body}"));
    }
    Ok(body["data"]["result"].as_array().cloned().unwrap_or_default())
}

/// Prometheus scraping the operator's metrics port every second, as a ServiceMonitor's job.
fn start_prometheus(metrics_port: u16, dir: &std::path::Path) -> (KillOnDrop, u16) {
    let binary = std::env::var("PROMETHEUS")
        .expect("PROMETHEUS names the prometheus binary (scripts/e2e sets it from scripts/prometheus-bin)");
    let port = free_port();
    let config = format!(
        "global: {{scrape_interval: 1s, evaluation_interval: 1s}}\n\
         scrape_configs:\n  - job_name: {JOB}\n    static_configs:\n      - targets: ['127.0.0.1:{metrics_port}']\n        labels: {{namespace: datazone-system}}\n"
    );
    std::fs::write(dir.join("prometheus.yml"), config).unwrap();
    let log = std::fs::File::create(dir.join("prometheus.log")).unwrap();
    let child = Command::new(binary)
        .arg(format!("--config.file={}", dir.join("prometheus.yml").display()))
        .arg(format!("--storage.tsdb.path={}", dir.join("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("prometheus starts");
    (KillOnDrop(child), port)
}

/// Every (panel title, query) of the dashboard, with Grafana's variables as it would fill them:
/// this job, and a rate interval that covers the whole test.
fn panel_queries() -> Vec<(String, String)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/charts/datazone-operator/dashboards/datazone-operator.json");
    let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut out = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap().iter().filter(|p| p["type"] != "row") {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap().replace("$job", JOB).replace("$__rate_interval", "5m");
            out.push((panel["title"].as_str().unwrap().to_string(), expr));
        }
    }
    out
}

#[tokio::test]
#[ignore = "needs a real API server: make e2e"]
async fn every_dashboard_panel_returns_data_from_a_prometheus_scraping_the_operator() {
    let w = world("dashboard", "optional").await;
    let dir = std::env::temp_dir().join(format!("{}.prometheus", w.ns));
    std::fs::create_dir_all(&dir).unwrap();
    let (_prometheus, port) = start_prometheus(w.metrics_port, &dir);
    // Scraping before anything happens: a rate needs the counters' zeros.
    eventually(Duration::from_secs(30), || async {
        let up = query(port, &format!("up{{job=\"{JOB}\"}} == 1")).await?;
        if up.len() == 1 { Ok(()) } else { Err(format!("up: {up:?}")) }
    })
    .await;
    // DataZone refuses the operator's first six CreateDataProduct calls with 429 (the SDK makes
    // three attempts): two calls end throttled, as a busy account's would (the first makes the
    // series, the second its increase). One operation, called by one pass at a time: refusals
    // spread over calls made side by side (each operation has its own pace) would let every call
    // succeed on a retry.
    w.emulator.shared.faults.lock().unwrap().rules.push(datazone_emulator::faults::FaultRule {
        service: "datazone".into(),
        operation: "CreateDataProduct".into(),
        error: Some("ThrottlingException".into()),
        latency_ms: 0,
        drop: false,
        count: Some(6),
        rate: None,
    });

    // The producer's data product, its policy approving analytics-team; the consuming team's
    // subscriptions: analytics-team (approved by the policy) and marketing (left to a person).
    allow(&w, json!(["analytics-team"])).await;
    let (product, domain, _) = published_with_policy(&w).await;
    let platform = common::aws::consumer(&w.emulator.endpoint()).await;
    for name in ["analytics-team", "marketing"] {
        let id = project(&platform, &domain, name).await;
        add_member(&platform, &domain, &id, CONSUMER_ROLE).await;
        if name == "analytics-team" {
            // Where its grants land.
            warehouse(&platform, &domain, &id, "analytics-dwh").await;
        }
    }
    // And one data product that cannot get further: its project does not exist.
    let mut orphan = w.products().get(&product).await.unwrap();
    orphan.metadata = kube::api::ObjectMeta { name: Some("orphan".into()), ..Default::default() };
    orphan.spec.project = "no-such-project".into();
    orphan.spec.access = None;
    orphan.status = None;
    w.products().create(&PostParams::default(), &orphan).await.unwrap();
    consumer_connection(&w, "corp-mesh").await;
    subscribe(&w, "reports", "analytics-team", &product, None).await;
    subscribe(&w, "campaigns", "marketing", &product, None).await;
    eventually(Duration::from_secs(90), || async {
        let reasons = |s: Option<datazone_operator::crd::DataZoneSubscription>| {
            s.and_then(|s| s.status)
                .and_then(|st| st.conditions.into_iter().find(|c| c.type_ == "Ready"))
                .map(|c| c.reason)
        };
        let subs = mesh::subscriptions(&w);
        let reports = reasons(subs.get_opt("reports").await.map_err(|e| e.to_string())?);
        let campaigns = reasons(subs.get_opt("campaigns").await.map_err(|e| e.to_string())?);
        match (reports.as_deref(), campaigns.as_deref()) {
            (Some("Granted"), Some("AwaitingApproval")) => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    // Prometheus has scraped the census that counts both waiting sides (every 5 s), and the
    // throttled calls.
    eventually(Duration::from_secs(60), || async {
        let waiting = format!("datazone_operator_subscription_requests_waiting{{job=\"{JOB}\"}} == 1");
        let waiting = query(port, &waiting).await?;
        let throttled =
            format!("increase(datazone_operator_aws_requests_total{{job=\"{JOB}\",outcome=\"throttled\"}}[5m]) > 0");
        let throttled = query(port, &throttled).await?;
        match (waiting.len(), throttled.len()) {
            (2, 1..) => Ok(()),
            _ => Err(format!("waiting: {waiting:?}, throttled: {throttled:?}")),
        }
    })
    .await;

    let mut empty = Vec::new();
    println!("{:<52} {:>6}  the series with the largest value", "panel", "series");
    for (title, expr) in panel_queries() {
        let result = query(port, &expr).await.unwrap_or_else(|e| panic!("panel {title}: {e}"));
        // The series with the largest value: what the panel draws highest.
        let value = |r: &Value| r["value"][1].as_str().and_then(|v| v.parse::<f64>().ok()).filter(|v| !v.is_nan());
        let top = result.iter().max_by(|a, b| value(a).unwrap_or(f64::MIN).total_cmp(&value(b).unwrap_or(f64::MIN)));
        let top = top.map(|r| format!("{} = {}", r["metric"], r["value"][1])).unwrap_or_default();
        println!("{title:<52} {:>6}  {top}", result.len());
        // NaN is no data: a quantile of no observations, a share of no calls.
        if result.iter().all(|r| value(r).is_none()) {
            empty.push(format!("{title}: {expr}"));
        }
    }
    assert!(empty.is_empty(), "panels without data:\n{}", empty.join("\n"));
}
