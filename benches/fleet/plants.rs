//! `make bench-plants` (BENCH_PLANTS): many plants, one domain. Each plant is an operator process
//! of its own (its own namespaces, DataZoneConnections, DataZone project and leader-election
//! Lease, as a producer cluster per plant would be), all calling DataZone as one governance
//! account against one emulator with DataZone's per-API quotas (`--per-api-quotas`: each
//! operation its own bucket of the quota page's rate, 20 for the others), data products on. Runs,
//! one after another (BENCH_PLANTS_RUNS, default all four):
//!
//! - `equal`: BENCH_PLANTS data products per plant (default five plants of 1,000);
//! - `unequal`: BENCH_PLANTS_UNEQUAL (default one of 4,000 and four of 250);
//! - `outage`: the equal fleet, every operator started at once while every DataZone call fails
//!   for BENCH_OUTAGE_SECONDS (300), then DataZone back;
//! - `quota`: BENCH_QUOTA_PLANT data products per plant (100) and a domain that holds one
//!   environment fewer than the plants need: the last plant's project meets DataZone's quota.
//!
//! Figures, per plant and in total: seconds to all Ready (from the start, or from DataZone's
//! return after the outage) against the bound of the tightest quota (for each operation, the
//! calls that got through ÷ its rate; the largest) and, per plant, of its own share of it (its own
//! calls ÷ 1/N of each rate); throttled calls; each operator's share of the calls that got through
//! while all were busy (until the first plant was done) and Jain's index over them. Every 10 s a
//! progress line for the fleet, and one for each plant not done: its calls through a second and its
//! pace of the operations a data product calls once (and of its listing and its runs' activities),
//! its busiest other calls, its passes a second (running, waiting) and Kubernetes requests a
//! second, and, past half way, what its data products not Ready wait for.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use datazone_emulator::fixture::{ProjectFixture, SchemaFixture};
use datazone_emulator::state::{OTHER_OPERATIONS_RATE, QUOTA_PAGE};
use datazone_emulator::{Emulator, EmulatorConfig, Fixture, Lifecycle};
use datazone_operator::crd::{DataZoneConnection, RedshiftDataProduct};
use futures::StreamExt;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Patch, PatchParams, PostParams};
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, ResourceExt};
use serde_json::json;

use super::{Operator, SECRET, Settings, apply_all, calls, env_or, free_port, metrics, minus, sum, through_now};

/// The role every plant's connection assumes: one governance account, so one set of quotas.
const ROLE: &str = "arn:aws:iam::111111111111:role/dz-registration";

/// The tables of each plant's schema.
const TABLES: [&str; 3] = ["orders", "customers", "order_items"];

pub fn enabled() -> bool {
    std::env::var("BENCH_PLANTS").is_ok_and(|v| !v.is_empty())
}

fn sizes(name: &str, default: &str) -> Vec<usize> {
    let text = std::env::var(name).unwrap_or_else(|_| default.into());
    text.split(',').filter_map(|s| s.trim().parse().ok()).collect()
}

/// The operations each data product calls once on its way to Ready, each a quota of 20 a second:
/// the bound is theirs, and the progress lines say how busy each keeps its quota.
const ONE_EACH: [&str; 3] = ["CreateDataSource", "StartDataSourceRun", "CreateDataProduct"];

/// The calls each plant's line shows beside [`ONE_EACH`]: its listing, and its runs' activities.
const SHOWN: [&str; 2] = ["ListDataSources", "ListDataSourceRunActivities"];

/// The quota of `operation` under `--per-api-quotas`.
fn quota(operation: &str) -> f64 {
    QUOTA_PAGE.iter().find(|(op, _)| *op == operation).map_or(OTHER_OPERATIONS_RATE, |(_, tps)| *tps)
}

/// The largest of (calls ÷ the operation's rate × `share`): the operation whose quota bounds the
/// time, and that time.
fn bound(calls: &BTreeMap<String, u64>, share: f64) -> (String, f64) {
    calls
        .iter()
        .map(|(op, n)| (op.clone(), *n as f64 / (quota(op) * share)))
        .fold((String::new(), 0.0), |best, next| if next.1 > best.1 { next } else { best })
}

/// Jain's fairness index: 1 when all got the same, 1/n when one got everything.
fn jain(xs: &[f64]) -> f64 {
    let sum: f64 = xs.iter().sum();
    let squares: f64 = xs.iter().map(|x| x * x).sum();
    if squares == 0.0 { 0.0 } else { sum * sum / (xs.len() as f64 * squares) }
}

/// The samples of the metric family `family` (`name{...} value` lines): each line, its
/// `operation` label and its value.
fn by_operation<'a>(metrics: &'a str, family: &'a str) -> impl Iterator<Item = (&'a str, &'a str, f64)> {
    metrics.lines().filter(move |l| l.starts_with(family) && l[family.len()..].starts_with('{')).map(|line| {
        let operation = line.split("operation=\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or_default();
        let value = line.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        (line, operation, value)
    })
}

/// An operator's DataZone attempts so far, by operation, for one outcome.
fn attempts(metrics: &str, outcome: &str) -> BTreeMap<String, u64> {
    let mut by_op = BTreeMap::new();
    let outcome = format!("outcome=\"{outcome}\"");
    for (line, operation, n) in by_operation(metrics, "datazone_operator_aws_attempts_total") {
        if line.contains("service=\"DataZone\"") && line.contains(&outcome) {
            *by_op.entry(operation.to_string()).or_default() += n as u64;
        }
    }
    by_op
}

/// An operator's pace of each DataZone operation (`datazone_operator_aws_pace`), calls a second.
fn paces(metrics: &str) -> BTreeMap<String, f64> {
    by_operation(metrics, "datazone_operator_aws_pace").map(|(_, op, rate)| (op.to_string(), rate)).collect()
}

struct Plant {
    n: usize,
    namespaces: Vec<String>,
    port: u16,
    operator: Option<Operator>,
    /// Seconds from the run's start (or DataZone's return) until all its data products were Ready.
    ready_secs: Option<f64>,
    /// Its DataZone calls that got through, by operation, at the start of the measured time.
    through_from: BTreeMap<String, u64>,
    /// ... and at the last progress line, with its Kubernetes requests and passes then.
    through_last: BTreeMap<String, u64>,
    kube_last: (f64, f64),
}

struct Run {
    name: &'static str,
    sizes: Vec<usize>,
    outage: Option<Duration>,
    environment_quota: bool,
}

/// The emulator: the fixture's domain with a project per plant, DataZone's per-API quotas.
async fn start_emulator(plants: usize) -> Emulator {
    let mut fixture =
        Fixture::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/emulator/fixture.yaml"))
            .expect("fixture");
    let domain = fixture.domains.iter_mut().find(|d| d.name == "corp-mesh").expect("domain corp-mesh");
    for p in 0..plants {
        domain.projects.push(ProjectFixture {
            name: format!("plant-{p}"),
            id: None,
            members: vec![ROLE.into()],
            project_profile_id: None,
            environment_account_id: None,
        });
    }
    // Each plant's tables in a schema of its own: a table is one asset in a domain, owned by the
    // project whose data source imported it first (another's run skips it: docs/datazone-semantics.md
    // §6), and a data product holds only its own project's assets (§14).
    let cluster = fixture.redshift.iter_mut().find(|r| r.endpoint_name() == "prod-dwh").expect("cluster prod-dwh");
    let sales = cluster.databases.iter_mut().find(|d| d.name == "sales").expect("database sales");
    for p in 0..plants {
        sales.schemas.push(SchemaFixture {
            name: format!("plant{p}"),
            tables: TABLES.iter().map(|t| t.to_string()).collect(),
            views: Vec::new(),
        });
    }
    let lifecycle = Lifecycle {
        environment_ready_after: Duration::from_secs(2),
        run_duration: Duration::from_secs(1),
        runs_per_day: 25,
        operation_rate_limits: QUOTA_PAGE.iter().map(|(op, tps)| (op.to_string(), *tps)).collect(),
        other_operations_rate: Some(OTHER_OPERATIONS_RATE),
        ..Lifecycle::default()
    };
    Emulator::start("127.0.0.1:0".parse().unwrap(), EmulatorConfig { fixture, lifecycle, rate_limit: None })
        .await
        .expect("emulator")
}

/// Plant `p`'s namespaces, each with its DataZoneConnection `plant`.
async fn tenancy(client: &Client, tag: &str, p: usize, k: usize) -> Vec<String> {
    let mut names = Vec::new();
    for i in 0..k {
        let name = format!("{tag}-p{p}-{i:02}");
        let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": name}})).unwrap();
        let _ = Api::<Namespace>::all(client.clone()).create(&PostParams::default(), &ns).await;
        let conn: DataZoneConnection = serde_json::from_value(json!({
            "apiVersion": "dataproducts.dev/v1alpha1", "kind": "DataZoneConnection",
            "metadata": {"name": "plant", "namespace": name},
            "spec": {
                "region": "eu-central-1", "domain": {"name": "corp-mesh"},
                "roleArn": ROLE, "externalId": "optional",
                "producer": {"provisioningRoleArn": "arn:aws:iam::222222222222:role/DataZoneProvisioning-111111111111",
                             "manageAccessRoleArn": "arn:aws:iam::222222222222:role/DzRedshiftAccess-eu-central-1-corp-mesh"}
            }
        }))
        .unwrap();
        Api::<DataZoneConnection>::namespaced(client.clone(), &name)
            .patch("plant", &PatchParams::apply("bench").force(), &Patch::Apply(&conn))
            .await
            .expect("connection");
        names.push(name);
    }
    names
}

fn product(name: &str, namespace: &str, p: usize, table: &str) -> RedshiftDataProduct {
    serde_json::from_value(json!({
        "apiVersion": "dataproducts.dev/v1alpha1", "kind": "RedshiftDataProduct",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "connectionRef": {"kind": "DataZoneConnection", "name": "plant"},
            "project": format!("plant-{p}"),
            "redshift": {"clusterName": "prod-dwh", "database": "sales", "credentialsSecretArn": SECRET},
            "schemas": [{"name": format!("plant{p}"), "tables": [table]}],
            "dataProduct": {"name": format!("{namespace}-{name}")}
        }
    }))
    .unwrap()
}

/// Data products of `namespaces` Ready for their latest generation, and those whose Ready
/// condition gives `reason`.
fn count(store: &Store<RedshiftDataProduct>, namespaces: &[String], reason: &str) -> (usize, usize) {
    let ours: Vec<_> =
        store.state().into_iter().filter(|p| p.namespace().is_some_and(|ns| namespaces.contains(&ns))).collect();
    let ready_condition = |p: &RedshiftDataProduct| {
        let s = p.status.as_ref()?;
        (s.observed_generation == p.metadata.generation)
            .then(|| s.conditions.iter().find(|c| c.type_ == "Ready").cloned())
            .flatten()
    };
    let ready = ours.iter().filter(|p| ready_condition(p).is_some_and(|c| format!("{:?}", c.status) == "True")).count();
    let blocked = ours.iter().filter(|p| ready_condition(p).is_some_and(|c| c.reason == reason)).count();
    (ready, blocked)
}

/// How many data products of `namespaces` (all, when none are named) give which Ready reason
/// and message, those not Ready.
fn not_ready(store: &Store<RedshiftDataProduct>, namespaces: &[String]) -> String {
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    let ours =
        |p: &RedshiftDataProduct| namespaces.is_empty() || p.namespace().is_some_and(|ns| namespaces.contains(&ns));
    for p in store.state().into_iter().filter(|p| ours(p)) {
        let ready = p.status.as_ref().and_then(|s| s.conditions.iter().find(|c| c.type_ == "Ready").cloned());
        match ready {
            Some(c) if format!("{:?}", c.status) == "True" => {}
            Some(c) => {
                // The first stage not passed, and why (messages name each data product's own IDs).
                let conditions = &p.status.as_ref().map(|s| s.conditions.clone()).unwrap_or_default();
                let stage = datazone_operator::crd::conditions::PHASES.iter().find_map(|phase| {
                    let c = conditions.iter().find(|c| c.type_ == *phase)?;
                    (format!("{:?}", c.status) != "True").then(|| format!("{phase} {}", c.reason))
                });
                let stage = stage.unwrap_or_else(|| "no stage".into());
                *reasons.entry(format!("{} ({stage})", c.reason)).or_default() += 1
            }
            None => *reasons.entry("no status".into()).or_default() += 1,
        }
    }
    reasons.iter().map(|(r, n)| format!("{n} × {r}")).collect::<Vec<_>>().join("; ")
}

/// Plant `p`'s progress line: its calls through a second since the last line (`over` seconds ago)
/// and its paces of the operations a data product calls once (and of its listing and its runs'
/// activities), its busiest other calls, its passes and Kubernetes requests a second, and, past
/// half way and `tail_of_its_own` (the fleet's tail not yet printed), what its data products not
/// Ready wait for.
async fn plant_line(
    store: &Store<RedshiftDataProduct>,
    p: usize,
    plant: &mut Plant,
    over: f64,
    tail_of_its_own: bool,
) -> String {
    let (ready, _) = count(store, &plant.namespaces, QUOTA_REASON);
    let scraped = metrics(plant.port).await;
    let now = attempts(&scraped, "success");
    let own_rates = minus(&now, &std::mem::replace(&mut plant.through_last, now.clone()));
    let paces = paces(&scraped);
    let own: Vec<String> = ONE_EACH
        .iter()
        .chain(&SHOWN)
        .map(|op| {
            let through = own_rates.get(*op).copied().unwrap_or(0) as f64 / over;
            format!("{through:.1} (pace {:.1})", paces.get(*op).copied().unwrap_or(0.0))
        })
        .collect();
    // Its other calls, the busiest first: what else it spent its places on.
    let mut others: Vec<(&String, &u64)> = own_rates
        .iter()
        .filter(|(op, n)| **n > 0 && !ONE_EACH.contains(&op.as_str()) && !SHOWN.contains(&op.as_str()))
        .collect();
    others.sort_by_key(|(_, n)| std::cmp::Reverse(**n));
    let others: Vec<String> = others.iter().take(3).map(|(op, n)| format!("{op} {:.1}", **n as f64 / over)).collect();
    // Its passes and its Kubernetes requests: whether a plant making no calls waits for places,
    // for the API server, or for nothing.
    let kube = (
        super::total(&scraped, "datazone_operator_kubernetes_requests_total"),
        super::total(&scraped, "datazone_operator_reconciles_total"),
    );
    let (requests, passes) = (kube.0 - plant.kube_last.0, kube.1 - plant.kube_last.1);
    plant.kube_last = kube;
    let running = super::total(&scraped, "datazone_operator_passes_running");
    let waiting = super::total(&scraped, "datazone_operator_passes_waiting");
    let reasons = if 2 * ready >= plant.n && tail_of_its_own {
        format!("; not Ready: {}", not_ready(store, &plant.namespaces))
    } else {
        String::new()
    };
    format!(
        "    plant {p}: {ready} Ready; a second: {}; others {}; passes {:.1} ({running} running, {waiting} waiting), Kubernetes requests {:.1}{reasons}",
        own.join(", "),
        others.join(", "),
        passes / over,
        requests / over,
    )
}

fn spawn(emulator: &Emulator, plant: &Plant, p: usize, s: &Settings) -> Operator {
    let mut command = super::command(emulator, &plant.namespaces, plant.port, s, s.resync);
    command.args(["--leader-elect", "--leader-election-lease", &format!("bench-plant-{p}")]);
    Operator(command.spawn().expect("operator binary"))
}

/// The reason a data product gives while its project's environment is over the domain's quota.
const QUOTA_REASON: &str = "EnvironmentQuotaExceeded";

async fn run(client: &Client, run: &Run, s: &Settings) {
    let plants_n = run.sizes.len();
    let tag = format!("{}-{}", run.name, std::process::id());
    let emulator = start_emulator(plants_n).await;
    if run.environment_quota {
        // One environment fewer than the plants need: the last plant's project meets the quota.
        let mut state = emulator.shared.lock_state();
        let domain = state.domains.values().find(|d| d.name == "corp-mesh").map(|d| d.id.clone());
        let held = state
            .environments
            .values()
            .filter(|e| Some(&e.domain_id) == domain.as_ref() && e.status != "DELETED")
            .count();
        state.lifecycle.environments_per_domain = held + plants_n - 1;
    }
    let per_plant = env_or("BENCH_PLANT_NAMESPACES", 4);
    let mut plants = Vec::new();
    for (p, n) in run.sizes.iter().enumerate() {
        let namespaces = tenancy(client, &tag, p, per_plant).await;
        plants.push(Plant {
            n: *n,
            namespaces,
            port: free_port(),
            operator: None,
            ready_secs: None,
            through_from: BTreeMap::new(),
            through_last: BTreeMap::new(),
            kube_last: (0.0, 0.0),
        });
    }
    if let Some(outage) = run.outage {
        eprintln!("  DataZone down for {} s: every call answers InternalServerException", outage.as_secs());
        let rule = serde_json::from_value(json!({"service": "datazone", "error": "InternalServerException"})).unwrap();
        emulator.shared.faults.lock().unwrap_or_else(std::sync::PoisonError::into_inner).rules.push(rule);
    }
    // Every operator at once, as after an outage of the site; their fleets applied together.
    for (p, plant) in plants.iter_mut().enumerate() {
        plant.operator = Some(spawn(&emulator, plant, p, s));
    }
    let mut products = Vec::new();
    let longest = run.sizes.iter().copied().max().unwrap_or(0);
    for i in 0..longest {
        for (p, plant) in plants.iter().enumerate().filter(|(_, pl)| i < pl.n) {
            let ns = &plant.namespaces[i % plant.namespaces.len()];
            products.push(product(&format!("p{i:05}"), ns, p, TABLES[i % 3]));
        }
    }
    let (store, writer) = reflector::store();
    let watch = watcher(Api::<RedshiftDataProduct>::all(client.clone()), watcher::Config::default())
        .reflect(writer)
        .for_each(|_| futures::future::ready(()));
    let watch = tokio::spawn(watch);
    let applying = tokio::spawn({
        let client = client.clone();
        async move { apply_all(&client, products).await }
    });
    let total: usize = run.sizes.iter().sum();

    // The outage: calls while every one fails, per data product and second.
    let mut start = Instant::now();
    let mut before = calls(&emulator);
    if let Some(outage) = run.outage {
        tokio::time::sleep(outage).await;
        let during = minus(&calls(&emulator), &before);
        let dz = sum(&during, "datazone:");
        println!(
            "| {} | outage | {} s, every DataZone call failing: {dz} DataZone calls, {:.3} a second per data product ({} data products) |",
            run.name,
            outage.as_secs(),
            dz as f64 / outage.as_secs_f64() / total as f64,
            total
        );
        emulator.shared.faults.lock().unwrap_or_else(std::sync::PoisonError::into_inner).rules.clear();
        eprintln!("  DataZone back");
        start = Instant::now();
        before = calls(&emulator);
        for plant in &mut plants {
            plant.through_from = attempts(&metrics(plant.port).await, "success");
            plant.through_last = plant.through_from.clone();
        }
    }
    let through_from = through_now(&emulator);
    let throttled_before = emulator.shared.throttled.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    let throttled_total = |emulator: &Emulator| -> u64 {
        let now = emulator.shared.throttled.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        sum(&minus(&now, &throttled_before), "datazone:")
    };
    let mut last_throttled = 0;

    // Until every plant is Ready (or, with the quota, every plant but one, whose data products all
    // say why they are not: which plant's environment comes last is a race).
    let (mut busy_until, mut busy_through): (Option<f64>, Vec<f64>) = (None, Vec::new());
    let (mut best, mut moved) = (0, Instant::now());
    let (mut last_through, mut last_line) = (through_from.clone(), Instant::now());
    let mut quota_since: Option<(Instant, BTreeMap<String, u64>)> = None;
    loop {
        let secs = start.elapsed().as_secs_f64();
        let (mut ready_all, mut blocked_all, mut blocked_plants) = (0, 0, 0);
        for plant in plants.iter_mut() {
            let (ready, blocked) = count(&store, &plant.namespaces, QUOTA_REASON);
            (ready_all, blocked_all) = (ready_all + ready, blocked_all + blocked);
            if ready >= plant.n && plant.ready_secs.is_none() {
                plant.ready_secs = Some(secs);
            }
            if blocked >= plant.n {
                blocked_plants += 1;
            }
        }
        // While all were busy: until the first plant was done.
        if busy_until.is_none() && plants.iter().any(|pl| pl.ready_secs.is_some()) {
            busy_until = Some(secs);
            for plant in &plants {
                let now = attempts(&metrics(plant.port).await, "success");
                busy_through.push(sum(&minus(&now, &plant.through_from), "") as f64 / secs);
            }
        }
        let done = plants.iter().filter(|pl| pl.ready_secs.is_some()).count();
        if run.environment_quota {
            if done == plants_n - 1 && blocked_plants == 1 && quota_since.is_none() {
                quota_since = Some((Instant::now(), calls(&emulator)));
                eprintln!("  one plant's data products all say {QUOTA_REASON}, the others are Ready");
            }
            if let Some((since, at)) = &quota_since
                && since.elapsed() >= s.resync * 2
            {
                let while_blocked = minus(&calls(&emulator), at);
                let creates = while_blocked.get("datazone:CreateEnvironment").copied().unwrap_or(0);
                let blocked_n = plants.iter().find(|pl| pl.ready_secs.is_none()).map_or(0, |pl| pl.n);
                println!(
                    "| {} | quota | one plant's {blocked_n} data products not Ready ({QUOTA_REASON}), the other {} plants' {ready_all} Ready; in the {:.0} s after: {} DataZone calls in all ({:.3} per data product a resync), {creates} CreateEnvironment |",
                    run.name,
                    plants_n - 1,
                    since.elapsed().as_secs_f64(),
                    sum(&while_blocked, "datazone:"),
                    sum(&while_blocked, "datazone:") as f64 / total as f64 / 2.0,
                );
                break;
            }
        } else if done == plants_n {
            break;
        }
        // An operator that exits (a crash, a lost lease) leaves its plant's data products as they
        // are: say so at once, rather than waiting out the no-progress timeout without a reason.
        for (p, plant) in plants.iter_mut().enumerate() {
            if let Some(exited) = plant.operator.as_mut().and_then(|o| o.0.try_wait().ok().flatten()) {
                panic!("plant {p}'s operator exited ({exited}) after {secs:.0} s; its log: BENCH_OPERATOR_LOG");
            }
        }
        if ready_all + blocked_all > best {
            (best, moved) = (ready_all + blocked_all, Instant::now());
        }
        if moved.elapsed() >= Duration::from_secs(300) {
            panic!("{ready_all} of {total} Ready and no progress for 5 minutes; not Ready: {}", not_ready(&store, &[]));
        }
        if start.elapsed().as_secs().is_multiple_of(10) {
            let blocked = if run.environment_quota { format!(", {blocked_all} at the quota") } else { String::new() };
            // The tail: what the last data products wait for, of the fleet and of each plant past
            // half way (a small plant's tail is over long before the fleet's).
            let tail = total - ready_all;
            let waiting = if tail > 0 && tail <= total / 50 && !run.environment_quota {
                format!("; not Ready: {}", not_ready(&store, &[]))
            } else {
                String::new()
            };
            // How busy the one-a-data-product operations kept their quotas since the last line.
            let through = through_now(&emulator);
            let (rates, over) = (minus(&through, &last_through), last_line.elapsed().as_secs_f64().max(1.0));
            (last_through, last_line) = (through, Instant::now());
            // And each plant's own (whether a plant's share is its paces' or its own pipeline's).
            let mut plant_lines = Vec::new();
            for (p, plant) in plants.iter_mut().enumerate().filter(|(_, pl)| pl.ready_secs.is_none()) {
                let tail_of_its_own = tail > total / 50 && !run.environment_quota;
                plant_lines.push(plant_line(&store, p, plant, over, tail_of_its_own).await);
            }
            let busy = ONE_EACH.map(|op| format!("{op} {:.1}", rates.get(op).copied().unwrap_or(0) as f64 / over));
            // And the refusals since: when a fleet's calls are throttled (its start, a plant done).
            let throttled = throttled_total(&emulator);
            let refused = throttled - std::mem::replace(&mut last_throttled, throttled);
            eprintln!(
                "  {ready_all} of {total} Ready after {secs:.0} s{blocked}; a second: {}; {refused} throttled{waiting}",
                busy.join(", ")
            );
            for line in plant_lines {
                eprintln!("{line}");
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    watch.abort();
    let _ = applying.await;
    if run.environment_quota {
        return;
    }

    let all_secs = plants.iter().filter_map(|pl| pl.ready_secs).fold(0.0, f64::max);
    let after = minus(&calls(&emulator), &before);
    let throttled = {
        let now = emulator.shared.throttled.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        minus(&now, &throttled_before)
    };
    // Calls that got through, by operation (DataZone only): what the quotas bound.
    let through = minus(&through_now(&emulator), &through_from);
    let (tightest, bound_secs) = bound(&through, 1.0);
    let dz_all = sum(&after, "datazone:");
    let dz_throttled = sum(&throttled, "datazone:");
    {
        let state = emulator.shared.lock_state();
        let ours = |d: &&datazone_emulator::state::DataSource| {
            d.description.as_deref().is_some_and(|t| t.contains("managed-by=datazone-operator"))
        };
        let sources = state.data_sources.values().filter(ours).count();
        let products = state.data_products.len();
        eprintln!(
            "  {total} data products: {sources} data sources and {products} DataZone data products in the emulator: {}",
            if sources == total && products == total { "nothing duplicated" } else { "DUPLICATES OR GAPS" }
        );
    }
    // Where the refusals fell: the operations whose quotas the operators pressed hardest.
    let mut refused: Vec<(&String, &u64)> =
        throttled.iter().filter(|(k, n)| k.starts_with("datazone:") && **n > 0).collect();
    refused.sort_by_key(|(_, n)| std::cmp::Reverse(**n));
    let refused: Vec<String> =
        refused.iter().take(6).map(|(k, n)| format!("{} {n}", &k["datazone:".len()..])).collect();
    eprintln!("  throttled, by operation: {}", refused.join(", "));
    let jain_busy = jain(&busy_through);
    let busy_total: f64 = busy_through.iter().sum();
    for (p, plant) in plants.iter().enumerate() {
        let scraped = metrics(plant.port).await;
        let own = minus(&attempts(&scraped, "success"), &plant.through_from);
        let mine_throttled: u64 = attempts(&scraped, "throttled").values().sum();
        let (own_op, own_bound) = bound(&own, 1.0 / plants_n as f64);
        let share = busy_through.get(p).map_or(0.0, |t| t / busy_total.max(1e-9));
        println!(
            "| {} | plant {p} | {} | {:.1} | {own_bound:.1} ({own_op}) | {:.2} | {} | {mine_throttled} | {:.1} % |",
            run.name,
            plant.n,
            plant.ready_secs.unwrap_or(f64::NAN),
            plant.ready_secs.unwrap_or(f64::NAN) / own_bound,
            sum(&own, ""),
            share * 100.0
        );
    }
    println!(
        "| {} | all | {total} | {all_secs:.1} | {bound_secs:.1} ({tightest}) | {:.2} | {dz_all} | {dz_throttled} ({:.2} %) | Jain {jain_busy:.3} over the first {:.0} s |",
        run.name,
        all_secs / bound_secs,
        dz_throttled as f64 * 100.0 / dz_all.max(1) as f64,
        busy_until.unwrap_or(0.0)
    );
}

pub async fn bench(client: &Client, s: &Settings) {
    let equal = sizes("BENCH_PLANTS", "1000,1000,1000,1000,1000");
    let unequal = sizes("BENCH_PLANTS_UNEQUAL", "4000,250,250,250,250");
    let outage = Duration::from_secs(env_or("BENCH_OUTAGE_SECONDS", 300));
    let quota_plant = env_or("BENCH_QUOTA_PLANT", 100);
    let runs = std::env::var("BENCH_PLANTS_RUNS").unwrap_or_else(|_| "equal,unequal,outage,quota".into());
    println!(
        "datazone-operator plants bench (release, per-API quotas: the quota page's rates, {OTHER_OPERATIONS_RATE} a second for the others; resync {:?}, concurrency {} per operator, data products on)",
        s.resync, s.concurrency
    );
    println!(
        "| run | plant | data products | s to all Ready | bound s (tightest quota; per plant: its share) | time ÷ bound | DataZone calls through | throttled | share of calls while all busy |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for name in runs.split(',').map(str::trim) {
        let run = match name {
            "equal" => Run { name: "equal", sizes: equal.clone(), outage: None, environment_quota: false },
            "unequal" => Run { name: "unequal", sizes: unequal.clone(), outage: None, environment_quota: false },
            "outage" => Run { name: "outage", sizes: equal.clone(), outage: Some(outage), environment_quota: false },
            "quota" => {
                Run { name: "quota", sizes: vec![quota_plant; equal.len()], outage: None, environment_quota: true }
            }
            other => panic!("BENCH_PLANTS_RUNS: unknown run {other:?} (equal, unequal, outage, quota)"),
        };
        eprintln!("bench-plants: {} ({:?} data products)", run.name, run.sizes);
        self::run(client, &run, s).await;
    }
}
