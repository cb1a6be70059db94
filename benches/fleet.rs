//! `make bench`: the operator at fleet sizes — a benchmark that prints figures, not a test.
//!
//! For each size N it starts a DataZone emulator (in this process, rate-limited per account
//! and region like DataZone), K namespaces admitted by one ClusterDataZoneConnection, the
//! operator's release binary watching them, and N data products spread over the namespaces
//! (explicit tables, one project), with the short resync from the start as a user runs it. It
//! waits until all are Ready, measures the next two resyncs (the first of the last ones
//! published), restarts the operator and measures what the restart costs, then two more resyncs,
//! and prints one row per size: time to all Ready against the rate-limit bound, the AWS calls,
//! the steady state per data product per resync, the operator's peak RSS and CPU, and its
//! requests to the API server. A small-payload row replays the reference payload with realistic
//! waits. `scripts/bench` starts the API server this needs (KUBECONFIG) and runs it.
//!
//! Settings (environment): BENCH_SIZES (default `200,1000,10000`), BENCH_NAMESPACES (20),
//! BENCH_RATE_LIMIT (TPS per account and region, 50; 0 for none), BENCH_RESYNC_SECONDS (30),
//! BENCH_CONCURRENCY (16), BENCH_DATA_PRODUCTS (`none`, `both` or `only`: each resource also a
//! DataZone data product, or only that), BENCH_ACCESS (1: every resource also an access policy, and
//! 100 subscription requests filed at once after the steady state), BENCH_SUBSCRIPTIONS (1: every
//! resource also an access policy, and after the steady state a consuming team subscribes to each
//! with a DataZoneSubscription: `fleet/subscriptions.rs`), BENCH_SMALL (1: also the small-payload row), BENCH_OPERATOR_LOG (a file
//! for the operator's log) and BENCH_OPERATOR_LOG_LEVEL (its RUST_LOG, `warn`).

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use datazone_emulator::{Emulator, EmulatorConfig, Fixture, Lifecycle};
use datazone_operator::crd::{ClusterDataZoneConnection, RedshiftDataProduct};
use futures::StreamExt;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Patch, PatchParams, PostParams};
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, ResourceExt};
use serde_json::json;

#[path = "fleet/plants.rs"]
mod plants;
#[path = "fleet/subscriptions.rs"]
mod subscriptions;

const BIN: &str = env!("CARGO_BIN_EXE_datazone-operator");
const SECRET: &str = "arn:aws:secretsmanager:eu-central-1:222222222222:secret:dz-redshift-AbCdEf";

struct Settings {
    namespaces: usize,
    rate_limit: f64,
    resync: Duration,
    concurrency: usize,
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Kills the operator when a run ends.
struct Operator(Child);

impl Drop for Operator {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Operator {
    /// CPU seconds (user + system) so far.
    fn cpu(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.0.id())).unwrap_or_default();
        // Fields after the command name (which may hold spaces) start at ")".
        let fields: Vec<&str> = stat.rsplit_once(')').map(|(_, f)| f.split_whitespace().collect()).unwrap_or_default();
        let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        (ticks(11) + ticks(12)) / clock_ticks()
    }

    /// Peak resident memory in MiB.
    fn peak_rss(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.0.id())).unwrap_or_default();
        let kib = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .unwrap_or(0.0);
        kib / 1024.0
    }
}

fn clock_ticks() -> f64 {
    let out = Command::new("getconf").arg("CLK_TCK").output().ok();
    out.and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok()).unwrap_or(100.0)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn metrics(port: u16) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(mut stream) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await else { return String::new() };
    let _ = stream.write_all(b"GET /metrics HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n").await;
    let mut text = String::new();
    let _ = stream.read_to_string(&mut text).await;
    text
}

/// The sum of every sample of the metric family `name`.
fn total(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .filter(|l| l.starts_with(name) && !l.starts_with('#'))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// The emulator's call counts, by `service:Operation`.
fn calls(emulator: &Emulator) -> BTreeMap<String, u64> {
    emulator.shared.calls.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
}

/// DataZone calls that got through so far, by operation (the throttled ones taken off).
fn through_now(emulator: &Emulator) -> BTreeMap<String, u64> {
    let throttled = emulator.shared.throttled.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    calls(emulator)
        .iter()
        .filter_map(|(k, v)| {
            let op = k.strip_prefix("datazone:")?;
            Some((op.to_string(), v - throttled.get(k).copied().unwrap_or(0)))
        })
        .collect()
}

/// The operator's pace of each DataZone operation (`datazone_operator_aws_pace`; one account).
fn paces(metrics: &str) -> BTreeMap<String, f64> {
    metrics
        .lines()
        .filter(|l| l.starts_with("datazone_operator_aws_pace{"))
        .filter_map(|l| {
            let op = l.split("operation=\"").nth(1)?.split('"').next()?;
            Some((op.to_string(), l.rsplit(' ').next()?.parse().ok()?))
        })
        .collect()
}

/// The `n` operations with the most calls through a second since the last line, with the
/// operator's pace of each: where a publish spends its quota, and whether the pace holds it back.
fn busiest(rates: &BTreeMap<String, u64>, over_secs: f64, paces: &BTreeMap<String, f64>, n: usize) -> String {
    let mut ops: Vec<(&String, &u64)> = rates.iter().filter(|(_, c)| **c > 0).collect();
    ops.sort_by(|a, b| b.1.cmp(a.1));
    let total: u64 = rates.values().sum();
    let each = ops.iter().take(n).map(|(op, c)| {
        let pace = paces.get(*op).map_or(String::new(), |p| format!(" (pace {p:.1})"));
        format!("{op} {:.1}{pace}", **c as f64 / over_secs)
    });
    format!("{:.1} through a second: {}", total as f64 / over_secs, each.collect::<Vec<_>>().join(", "))
}

fn sum(calls: &BTreeMap<String, u64>, prefix: &str) -> u64 {
    calls.iter().filter(|(k, _)| k.starts_with(prefix)).map(|(_, v)| v).sum()
}

fn minus(after: &BTreeMap<String, u64>, before: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    after.iter().map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0))).collect()
}

struct Row {
    n: usize,
    k: usize,
    ready_secs: f64,
    aws_calls: u64,
    bound_secs: Option<f64>,
    dz_per_product: f64,
    sts_calls: u64,
    steady_per_product_resync: f64,
    peak_rss: f64,
    cpu_per_product_ms: f64,
    steady_cpu_per_product_resync_ms: f64,
    api_per_product: f64,
    /// DataZone and STS calls by operation until all were Ready.
    by_operation: BTreeMap<String, u64>,
    /// DataZone calls per product in each of the first two resyncs after all were Ready, and the
    /// calls by operation in each.
    first_resyncs: Vec<f64>,
    first_resyncs_by_operation: Vec<BTreeMap<String, u64>>,
    /// After a restart: the window's seconds (two resyncs: the first passes, then a resync), the
    /// DataZone calls per product in it, and the data sources read in full in it.
    restart: (f64, f64, u64),
    /// Calls the emulator's rate limit turned away until all were Ready (counted in the calls).
    throttled: u64,
    /// The operator's pace for DataZone calls when all were Ready (calls a second).
    pace: f64,
    /// Resyncs held back while the pace was saturated, until all were Ready.
    held: f64,
    /// BENCH_ACCESS: the requests filed at once, and how the policies answered them.
    answered: Option<Answered>,
    /// BENCH_SUBSCRIPTIONS: a DataZoneSubscription to every data product, and what it took.
    subscribed: Option<subscriptions::Subscribed>,
    /// The way to all Ready.
    progress: Progress,
    /// Peak RSS (MiB) of the operator that published, and of the one restarted for the steady state.
    peak_rss_apart: (f64, f64),
}

async fn start_emulator(lifecycle: Lifecycle, rate_limit: f64) -> Emulator {
    let fixture =
        Fixture::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/emulator/fixture.yaml"))
            .expect("fixture");
    let rate_limit = (rate_limit > 0.0).then_some(rate_limit);
    Emulator::start("127.0.0.1:0".parse().unwrap(), EmulatorConfig { fixture, lifecycle, rate_limit })
        .await
        .expect("emulator")
}

/// Namespaces `{tag}-{i}`, admitted by the ClusterDataZoneConnection `tag`.
async fn tenancy(client: &Client, tag: &str, k: usize) -> Vec<String> {
    let mut names = Vec::new();
    for i in 0..k {
        let name = format!("{tag}-{i:02}");
        let ns: Namespace = serde_json::from_value(
            json!({"metadata": {"name": name, "labels": {"dataproducts.dev/datazone-access": tag}}}),
        )
        .unwrap();
        let _ = Api::<Namespace>::all(client.clone()).create(&PostParams::default(), &ns).await;
        names.push(name);
    }
    let conn: ClusterDataZoneConnection = serde_json::from_value(json!({
        "apiVersion": "dataproducts.dev/v1alpha1", "kind": "ClusterDataZoneConnection", "metadata": {"name": tag},
        "spec": {
            "region": "eu-central-1", "domain": {"name": "corp-mesh"},
            "roleArn": "arn:aws:iam::111111111111:role/dz-registration", "externalId": "optional",
            "producer": {"provisioningRoleArn": "arn:aws:iam::222222222222:role/DataZoneProvisioning-111111111111",
                         "manageAccessRoleArn": "arn:aws:iam::222222222222:role/DzRedshiftAccess-eu-central-1-corp-mesh"},
            "namespaceSelector": {"matchLabels": {"dataproducts.dev/datazone-access": tag}},
            "autoApproval": if access() { json!([{"projects": [CONSUMER]}]) } else { json!([]) }
        }
    }))
    .unwrap();
    Api::<ClusterDataZoneConnection>::all(client.clone())
        .patch(tag, &PatchParams::apply("bench").force(), &Patch::Apply(&conn))
        .await
        .expect("connection");
    names
}

/// The small payload's resync: longer than its publish takes, so its row counts a first publish.
const FIRST_PUBLISH_RESYNC: Duration = Duration::from_secs(3600);

fn spawn(emulator: &Emulator, namespaces: &[String], metrics_port: u16, s: &Settings, resync: Duration) -> Operator {
    Operator(command(emulator, namespaces, metrics_port, s, resync).spawn().expect("operator binary"))
}

/// The operator's command line and environment against `emulator`, watching `namespaces`.
fn command(emulator: &Emulator, namespaces: &[String], metrics_port: u16, s: &Settings, resync: Duration) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(["run", "--cluster-name", "bench", "--log-format", "json", "--namespaces", &namespaces.join(",")])
        .args(["--concurrency", &s.concurrency.to_string()])
        .args(["--resync-interval", &format!("{}s", resync.as_secs())])
        .args(["--metrics-addr", &format!("127.0.0.1:{metrics_port}")])
        .args(["--health-addr", &format!("127.0.0.1:{}", free_port())]);
    command
        .env("AWS_ENDPOINT_URL", emulator.endpoint())
        .env("AWS_REGION", "eu-central-1")
        .env("AWS_ACCESS_KEY_ID", "AKIAPRODUCER00000001")
        .env("AWS_SECRET_ACCESS_KEY", "producer-secret")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("RUST_LOG", std::env::var("BENCH_OPERATOR_LOG_LEVEL").unwrap_or_else(|_| "warn".into()))
        .stdout(Stdio::null())
        .stderr(log_file());
    command
}

/// The operator's log: BENCH_OPERATOR_LOG names a file to append it to (with
/// BENCH_OPERATOR_LOG_LEVEL, a RUST_LOG filter); otherwise it is dropped.
fn log_file() -> Stdio {
    let file = std::env::var("BENCH_OPERATOR_LOG")
        .ok()
        .and_then(|path| std::fs::OpenOptions::new().create(true).append(true).open(path).ok());
    file.map_or_else(Stdio::null, Stdio::from)
}

fn product(name: &str, namespace: &str, connection: &str, database: &str, tables: &[&str]) -> RedshiftDataProduct {
    with_schemas(name, namespace, connection, database, json!([{"name": "public", "tables": tables}]))
}

fn with_schemas(
    name: &str,
    namespace: &str,
    connection: &str,
    database: &str,
    schemas: serde_json::Value,
) -> RedshiftDataProduct {
    let mut p = json!({
        "apiVersion": "dataproducts.dev/v1alpha1", "kind": "RedshiftDataProduct",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "connectionRef": {"kind": "ClusterDataZoneConnection", "name": connection},
            "project": "sales",
            "redshift": {"clusterName": "prod-dwh", "database": database, "credentialsSecretArn": SECRET},
            "schemas": schemas
        }
    });
    // Names are unique in the domain: the namespace is part of each data product's.
    match data_products().as_str() {
        "both" => p["spec"]["dataProduct"] = json!({"name": format!("{namespace}-{name}")}),
        "only" => {
            p["spec"]["dataProduct"] = json!({"name": format!("{namespace}-{name}")});
            p["spec"]["publishing"] = json!({"publishOnImport": false});
        }
        _ => {}
    }
    if access() {
        p["spec"]["access"] = json!({"rules": [{"name": "analytics", "projects": [CONSUMER], "decision": "Approve"}]});
    }
    serde_json::from_value(p).unwrap()
}

/// BENCH_ACCESS=1: every resource also has an access policy approving [`CONSUMER`], and after the
/// steady state [`REQUESTS`] requests are filed at once (needs BENCH_DATA_PRODUCTS both or only:
/// they ask for data product listings).
fn access() -> bool {
    env_or("BENCH_ACCESS", 0) == 1 || subscriptions::enabled()
}

/// The consumer project the access policies approve.
const CONSUMER: &str = "analytics-team";
const REQUESTS: usize = 100;

/// The access bench's figures: seconds from the last request filed to the last accepted, how
/// many were accepted, and AcceptSubscriptionRequest calls throttled.
struct Answered {
    secs: f64,
    accepted: usize,
    throttled: u64,
}

/// Files [`REQUESTS`] subscription requests at once, as [`CONSUMER`], for the data product
/// listings of as many Ready data products; waits until the policies have accepted them all.
async fn file_requests(emulator: &Emulator, products: &[RedshiftDataProduct]) -> Answered {
    use aws_sdk_datazone::types::{
        SubscribedListingInput, SubscribedPrincipalInput, SubscribedProjectInput, SubscriptionRequestStatus,
    };
    let listings: Vec<(String, String)> = products
        .iter()
        .filter_map(|p| {
            let s = p.status.as_ref()?;
            Some((s.domain_id.clone()?, s.data_products.first()?.listing_id.clone()?))
        })
        .take(REQUESTS)
        .collect();
    assert_eq!(listings.len(), REQUESTS, "BENCH_ACCESS needs BENCH_DATA_PRODUCTS both or only");
    let domain = listings[0].0.clone();
    let consumer = sdk_client(emulator).await;
    let project = consumer.create_project().domain_identifier(&domain).name(CONSUMER).send().await.expect("project");
    let project = project.id().to_string();
    let throttled_before = throttled_accepts(emulator);
    futures::stream::iter(&listings)
        .map(|(_, listing)| {
            let principal =
                SubscribedPrincipalInput::Project(SubscribedProjectInput::builder().identifier(&project).build());
            consumer
                .create_subscription_request()
                .domain_identifier(&domain)
                .subscribed_principals(principal)
                .subscribed_listings(SubscribedListingInput::builder().identifier(listing).build().expect("listing"))
                .request_reason("Monthly revenue reporting")
                .send()
        })
        .buffer_unordered(8)
        .for_each(|filed| async move {
            filed.expect("request filed");
        })
        .await;
    let filed = Instant::now();
    let mut accepted = 0;
    while filed.elapsed() < Duration::from_secs(300) {
        let listed = consumer
            .list_subscription_requests()
            .domain_identifier(&domain)
            .owning_project_id(&project)
            .status(SubscriptionRequestStatus::Accepted)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await;
        accepted = listed.map(|items| items.len()).unwrap_or(accepted);
        if accepted >= REQUESTS {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Answered {
        secs: filed.elapsed().as_secs_f64(),
        accepted,
        throttled: throttled_accepts(emulator) - throttled_before,
    }
}

/// A DataZone client against the emulator as the fixture's producer key (a platform script's:
/// it makes consumer projects), over the operator's own HTTP client (the SDK is built without a
/// default one).
async fn sdk_client(emulator: &Emulator) -> aws_sdk_datazone::Client {
    let credentials =
        aws_credential_types::Credentials::new("AKIAPRODUCER00000001", "producer-secret", None, None, "bench");
    let config = datazone_operator::datazone::sdk::base_config()
        .await
        .to_builder()
        .region(aws_config::Region::new("eu-central-1"))
        .endpoint_url(emulator.endpoint())
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(credentials))
        .build();
    aws_sdk_datazone::Client::new(&config)
}

fn throttled_accepts(emulator: &Emulator) -> u64 {
    let by_op = emulator.shared.throttled.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    by_op.get("datazone:AcceptSubscriptionRequest").copied().unwrap_or(0)
}

/// BENCH_DATA_PRODUCTS: `none` (the default: the assets listed on their own), `both` (each
/// resource also a DataZone data product) or `only` (the data product the only way to its assets).
fn data_products() -> String {
    std::env::var("BENCH_DATA_PRODUCTS").unwrap_or_else(|_| "none".into())
}

async fn apply_all(client: &Client, products: Vec<RedshiftDataProduct>) {
    futures::stream::iter(products)
        .map(|p| {
            let api: Api<RedshiftDataProduct> = Api::namespaced(client.clone(), &p.namespace().unwrap_or_default());
            async move {
                api.patch(&p.name_any(), &PatchParams::apply("bench").force(), &Patch::Apply(&p)).await.expect("apply")
            }
        })
        .buffer_unordered(16)
        .for_each(|_| async {})
        .await;
}

/// Ready data products (for their latest generation) of `namespaces`, from a watch: listing
/// 10,000 objects every few seconds would load the API server the operator needs.
fn ready_count(store: &Store<RedshiftDataProduct>, namespaces: &[String]) -> usize {
    store
        .state()
        .iter()
        .filter(|p| p.namespace().is_some_and(|ns| namespaces.contains(&ns)))
        .filter(|p| {
            p.status.as_ref().is_some_and(|s| {
                s.observed_generation == p.metadata.generation
                    && s.conditions.iter().any(|c| c.type_ == "Ready" && format!("{:?}", c.status) == "True")
            })
        })
        .count()
}

/// How a fleet got to all Ready: when, when the first was, and the DataZone calls that got
/// through in each 5-second slice (where the time above the rate-limit bound goes: slices well
/// below the limit are the pipeline waiting).
#[derive(Default)]
struct Progress {
    /// Until the API server had taken every data product (it is busy with the operator too).
    applied_secs: f64,
    all_ready_secs: f64,
    first_ready_secs: f64,
    timeline: Vec<u64>,
}

async fn wait_ready(
    client: &Client,
    namespaces: &[String],
    n: usize,
    started: Instant,
    emulator: &Emulator,
    metrics_port: u16,
) -> Progress {
    let (store, writer) = reflector::store();
    let watch = watcher(Api::<RedshiftDataProduct>::all(client.clone()), watcher::Config::default())
        .reflect(writer)
        .for_each(|_| futures::future::ready(()));
    let watch = tokio::spawn(watch);
    let (mut best, mut moved) = (0, Instant::now());
    let through = || {
        let all = sum(&calls(emulator), "datazone:");
        let by_op = emulator.shared.throttled.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        all - sum(&by_op, "datazone:")
    };
    let (mut progress, mut sliced) = (Progress::default(), 0);
    let (mut last_through, mut last_line) = (through_now(emulator), Instant::now());
    loop {
        if started.elapsed() >= TIMELINE_SLICE * (progress.timeline.len() as u32 + 1) {
            let now = through();
            progress.timeline.push(now - sliced);
            sliced = now;
        }
        let ready = ready_count(&store, namespaces);
        if ready > 0 && progress.first_ready_secs == 0.0 {
            progress.first_ready_secs = started.elapsed().as_secs_f64();
        }
        if ready >= n {
            watch.abort();
            progress.timeline.push(through() - sliced);
            progress.all_ready_secs = started.elapsed().as_secs_f64();
            return progress;
        }
        if ready > best {
            (best, moved) = (ready, Instant::now());
        }
        // A bench that stops moving is broken, not slow.
        assert!(moved.elapsed() < Duration::from_secs(300), "{ready} of {n} Ready and no progress for 5 minutes");
        if started.elapsed().as_secs().is_multiple_of(10) {
            let through = through_now(emulator);
            let (rates, over) = (minus(&through, &last_through), last_line.elapsed().as_secs_f64().max(1.0));
            (last_through, last_line) = (through, Instant::now());
            let busiest = busiest(&rates, over, &paces(&metrics(metrics_port).await), 3);
            eprintln!("  {ready} of {n} Ready after {:.0} s; {busiest}", started.elapsed().as_secs_f64());
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

const TIMELINE_SLICE: Duration = Duration::from_secs(5);

async fn fleet(client: &Client, n: usize, s: &Settings) -> Row {
    let tag = format!("bench{n}-{}", std::process::id());
    let lifecycle = Lifecycle {
        environment_ready_after: Duration::from_secs(2),
        run_duration: Duration::from_secs(1),
        runs_per_day: 25,
        ..Lifecycle::default()
    };
    let emulator = start_emulator(lifecycle, s.rate_limit).await;
    let namespaces = tenancy(client, &tag, s.namespaces).await;
    // Published with the short resync from the start: the first resyncs of the data products
    // Ready early fall inside the publish and count in its calls.
    let port = free_port();
    let operator = spawn(&emulator, &namespaces, port, s, s.resync);
    let tables = ["orders", "customers", "order_items"];
    let products = (0..n)
        .map(|i| product(&format!("p{i:05}"), &namespaces[i % namespaces.len()], &tag, "sales", &[tables[i % 3]]))
        .collect();
    let started = Instant::now();
    // Applied while the calls are sampled: the timeline covers the whole way from the first apply.
    let applying = tokio::spawn({
        let client = client.clone();
        async move {
            apply_all(&client, products).await;
            started.elapsed().as_secs_f64()
        }
    });
    let mut progress = wait_ready(client, &namespaces, n, started, &emulator, port).await;
    progress.applied_secs = applying.await.unwrap_or_default();
    let ready_secs = progress.all_ready_secs;
    let at_ready = calls(&emulator);
    {
        // Nothing made twice: one data source each, and one DataZone data product each when asked.
        let state = emulator.shared.lock_state();
        // The environment's own default data source is DataZone's, not the operator's.
        let ours = |d: &&datazone_emulator::state::DataSource| {
            d.description.as_deref().is_some_and(|t| t.contains("managed-by=datazone-operator"))
        };
        let sources = state.data_sources.values().filter(ours).count();
        let products = if data_products() == "none" { 0 } else { n };
        eprintln!(
            "  {n} data products: {} data sources and {} DataZone data products in the emulator ({} expected: {})",
            sources,
            state.data_products.len(),
            format_args!("{n} and {products}"),
            if sources == n && state.data_products.len() == products {
                "nothing duplicated"
            } else {
                "DUPLICATES OR GAPS"
            }
        );
    }
    let (throttled, throttled_dz) = {
        let by_op = emulator.shared.throttled.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        (by_op.values().sum::<u64>(), sum(&by_op, "datazone:"))
    };
    let cpu_ready = operator.cpu();
    let at_ready_metrics = metrics(port).await;
    let api_ready = total(&at_ready_metrics, "datazone_operator_kubernetes_requests_total");
    // One account calls DataZone here: its pace, as the operator learnt it.
    let pace = total(&at_ready_metrics, "datazone_operator_aws_pace");
    // Resyncs of those already Ready that waited for the publishing of the others.
    let held = total(&at_ready_metrics, "datazone_operator_resyncs_held_total");
    // The first resyncs after all were Ready: the last ones' first, the early ones' later.
    let (mut first_resyncs, mut first_resyncs_by_operation) = (Vec::new(), Vec::new());
    for _ in 0..2 {
        let before = calls(&emulator);
        tokio::time::sleep(s.resync).await;
        let window = minus(&calls(&emulator), &before);
        first_resyncs.push(sum(&window, "datazone:") as f64 / n as f64);
        first_resyncs_by_operation.push(window);
    }
    let first_rss = operator.peak_rss();
    drop(operator);

    // A restart: a new operator over the same fleet, whose first pass per data product takes the
    // project's listing at its word where status records what it last saw (nothing read in full
    // that did not move). Measured over two resyncs, then two more for the steady state.
    let stopped = calls(&emulator);
    let port = free_port();
    let operator = spawn(&emulator, &namespaces, port, s, s.resync);
    let restarted = Instant::now();
    // Its first passes come at once (the watch lists every data product); the window is those
    // and the first resync after them. A fixed window, not "until no full read": the once-a-day
    // full reads (one data product in 8,640 a resync of 30 s) never stop at 10,000.
    tokio::time::sleep(s.resync * 2).await;
    let restart = minus(&calls(&emulator), &stopped);
    let restart_secs = restarted.elapsed().as_secs_f64();
    let (settled, cpu_settled) = (calls(&emulator), operator.cpu());
    let window = Instant::now();
    tokio::time::sleep(s.resync * 2).await;
    let resyncs = window.elapsed().as_secs_f64() / s.resync.as_secs_f64();
    let steady = minus(&calls(&emulator), &settled);
    let steady_cpu = operator.cpu() - cpu_settled;
    let ours = || async {
        let all = Api::<RedshiftDataProduct>::all(client.clone()).list(&Default::default()).await.expect("list");
        let ours: Vec<RedshiftDataProduct> =
            all.items.into_iter().filter(|p| p.namespace().is_some_and(|ns| namespaces.contains(&ns))).collect();
        ours
    };
    let (mut answered, mut subscribed) = (None, None);
    if subscriptions::enabled() {
        let products = ours().await;
        subscribed = Some(subscriptions::subscribe_all(client, &emulator, &namespaces[0], &products, s.resync).await);
    } else if access() {
        answered = Some(file_requests(&emulator, &ours().await).await);
    }
    let dz = sum(&at_ready, "datazone:");
    let aws = dz + sum(&at_ready, "sts:") + sum(&at_ready, "redshift-data:");
    Row {
        n,
        k: s.namespaces,
        ready_secs,
        aws_calls: aws,
        // Throttled calls take no token: the bound is what got through.
        bound_secs: (s.rate_limit > 0.0).then(|| (dz - throttled_dz) as f64 / s.rate_limit),
        dz_per_product: dz as f64 / n as f64,
        sts_calls: sum(&at_ready, "sts:"),
        steady_per_product_resync: sum(&steady, "datazone:") as f64 / n as f64 / resyncs,
        peak_rss: first_rss.max(operator.peak_rss()),
        peak_rss_apart: (first_rss, operator.peak_rss()),
        cpu_per_product_ms: cpu_ready / n as f64 * 1000.0,
        steady_cpu_per_product_resync_ms: steady_cpu / n as f64 / resyncs * 1000.0,
        api_per_product: api_ready / n as f64,
        by_operation: at_ready,
        first_resyncs,
        first_resyncs_by_operation,
        restart: (
            restart_secs,
            sum(&restart, "datazone:") as f64 / n as f64,
            restart.get("datazone:GetDataSource").copied().unwrap_or(0),
        ),
        throttled,
        pace,
        held,
        progress,
        answered,
        subscribed,
    }
}

/// The reference payload (three datasets, three databases) with realistic waits: DataZone calls
/// per dataset until all are Ready.
async fn small_payload(client: &Client, s: &Settings) -> (f64, f64, BTreeMap<String, u64>) {
    let tag = format!("benchsmall-{}", std::process::id());
    let lifecycle = Lifecycle {
        environment_ready_after: Duration::from_secs(90),
        run_duration: Duration::from_secs(60),
        runs_per_day: 25,
        ..Lifecycle::default()
    };
    let emulator = start_emulator(lifecycle, 0.0).await;
    let namespaces = tenancy(client, &tag, 1).await;
    let port = free_port();
    let _operator = spawn(&emulator, &namespaces, port, s, FIRST_PUBLISH_RESYNC);
    let ns = &namespaces[0];
    let products = vec![
        // As `import-payload examples/payloads/three-databases.json` writes them.
        with_schemas(
            "prod-dwh-sales",
            ns,
            &tag,
            "sales",
            json!([{"name": "public", "tables": ["orders", "customers"], "views": ["v_orders"]}]),
        ),
        with_schemas(
            "prod-dwh-marketing",
            ns,
            &tag,
            "marketing",
            json!([{"name": "campaigns", "addAllTables": true, "addAllViews": true}]),
        ),
        with_schemas(
            "prod-dwh-finance",
            ns,
            &tag,
            "finance",
            json!([{"name": "ledger", "addAllTables": true, "views": ["v_monthly_close"]}]),
        ),
    ];
    let started = Instant::now();
    apply_all(client, products).await;
    let secs = wait_ready(client, &namespaces, 3, started, &emulator, port).await.all_ready_secs;
    let at_ready = calls(&emulator);
    (secs, sum(&at_ready, "datazone:") as f64 / 3.0, at_ready)
}

fn print_row(r: &Row) {
    let (bound, ratio) = match r.bound_secs {
        Some(b) => (format!("{b:.1}"), format!("{:.2}", r.ready_secs / b)),
        None => ("-".into(), "-".into()),
    };
    println!(
        "| {} | {} | {:.1} | {} | {bound} | {ratio} | {:.2} ({:.2}) | {} | {:.3} | {:.1} | {:.2} | {:.3} | {:.2} |",
        r.n,
        r.k,
        r.ready_secs,
        r.aws_calls,
        r.dz_per_product,
        r.throttled as f64 / r.n as f64,
        r.sts_calls,
        r.steady_per_product_resync,
        r.peak_rss,
        r.cpu_per_product_ms,
        r.steady_cpu_per_product_resync_ms,
        r.api_per_product
    );
    eprintln!("  {} data products, calls until all Ready: {}", r.n, by_operation(&r.by_operation));
    let all: u64 = r.by_operation.values().sum();
    eprintln!(
        "  {} data products: {} of those {all} calls throttled by the rate limit ({:.1} %)",
        r.n,
        r.throttled,
        r.throttled as f64 * 100.0 / all.max(1) as f64
    );
    eprintln!(
        "  {} data products: the operator's DataZone pace when all were Ready: {:.1} calls a second; {:.0} resyncs held back while it was saturated",
        r.n, r.pace, r.held
    );
    if let Some(a) = &r.answered {
        eprintln!(
            "  {} data products with access policies: {REQUESTS} requests filed at once, {} accepted after {:.1} s, {} AcceptSubscriptionRequest calls throttled",
            r.n, a.accepted, a.secs, a.throttled
        );
    }
    if let Some(s) = &r.subscribed {
        subscriptions::print(s);
    }
    let slices: Vec<String> =
        r.progress.timeline.iter().map(|c| format!("{:.0}", *c as f64 / TIMELINE_SLICE.as_secs_f64())).collect();
    eprintln!(
        "  {} data products: all applied after {:.0} s, the first Ready after {:.0} s; DataZone calls through a second, per {} s until all were Ready: {}",
        r.n,
        r.progress.applied_secs,
        r.progress.first_ready_secs,
        TIMELINE_SLICE.as_secs(),
        slices.join(" ")
    );
    eprintln!(
        "  {} data products: peak RSS {:.1} MiB publishing, {:.1} MiB restarted for the steady state",
        r.n, r.peak_rss_apart.0, r.peak_rss_apart.1
    );
    let first: Vec<String> = r.first_resyncs.iter().map(|c| format!("{c:.3}")).collect();
    eprintln!(
        "  {} data products, the first two resyncs after all were Ready: {} DataZone calls per product",
        r.n,
        first.join(", ")
    );
    for (i, window) in r.first_resyncs_by_operation.iter().enumerate() {
        eprintln!("    resync {}: {}", i + 1, by_operation(window));
    }
    eprintln!(
        "  {} data products, a restart: {:.3} DataZone calls per product in its first {:.0} s (the first passes and a resync), {} data sources read in full",
        r.n, r.restart.1, r.restart.0, r.restart.2
    );
}

fn by_operation(calls: &BTreeMap<String, u64>) -> String {
    let ops: Vec<String> = calls.iter().filter(|(_, v)| **v > 0).map(|(k, v)| format!("{k}={v}")).collect();
    ops.join(" ")
}

#[tokio::main]
async fn main() {
    let client = Client::try_default().await.expect("KUBECONFIG: run through `make bench`, which starts an API server");
    let settings = Settings {
        namespaces: env_or("BENCH_NAMESPACES", 20),
        rate_limit: env_or("BENCH_RATE_LIMIT", 50.0),
        resync: Duration::from_secs(env_or("BENCH_RESYNC_SECONDS", 30)),
        concurrency: env_or("BENCH_CONCURRENCY", 16),
    };
    if plants::enabled() {
        plants::bench(&client, &settings).await;
        return;
    }
    let sizes: Vec<usize> = std::env::var("BENCH_SIZES")
        .unwrap_or_else(|_| "200,1000,10000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let machine = std::fs::read_to_string("/proc/cpuinfo")
        .map(|c| c.lines().filter(|l| l.starts_with("processor")).count())
        .unwrap_or(0);
    println!(
        "datazone-operator fleet bench (release, {machine} CPUs, emulator rate limit {} TPS per account, resync {:?}, concurrency {}, data products: {})",
        settings.rate_limit,
        settings.resync,
        settings.concurrency,
        data_products()
    );
    println!(
        "| N | K | s to all Ready | AWS calls | bound s (DZ calls through ÷ TPS) | time ÷ bound | DZ calls / product (throttled) | STS calls | DZ calls / product / resync | peak RSS MiB | CPU ms / product | steady CPU ms / product / resync | API requests / product |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    // Each row as soon as its size is done: a 10,000 run takes a while.
    for n in sizes {
        eprintln!("bench: {n} data products in {} namespaces", settings.namespaces);
        print_row(&fleet(&client, n, &settings).await);
    }
    if env_or("BENCH_SMALL", 1) == 1 {
        eprintln!("bench: the reference payload with realistic waits (environment 90 s, run 60 s)");
        let (secs, per_dataset, calls) = small_payload(&client, &settings).await;
        println!();
        println!(
            "small payload (3 datasets, environment ready after 90 s, runs 60 s, default poll): all Ready in {secs:.0} s, {per_dataset:.1} DataZone calls per dataset ({})",
            by_operation(&calls)
        );
    }
}
