//! The chaos soak: data products across namespaces, two operator replicas with leader election,
//! the emulator injecting 30 % faults on every operation (throttling, 5xx, latency up to 2 s,
//! dropped connections), the leader killed (SIGKILL) again and again at seeded random moments
//! (`SOAK_SEED` replays a run), spec edits and data sources deleted behind the operator's back
//! meanwhile. Afterwards, with the faults off: every data product Ready for its latest
//! generation, one data source per data product, one environment, runs only as the spec and
//! the deletions asked, no panic in any log. `make soak` runs the full size (100 data products,
//! 5 namespaces, 50 kills); `make e2e` a small one (20, 10).

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::rng::Rng;
use common::world::{SECRET, World, is_ready, ours, v1_environments, world};
use common::{KillOnDrop, eventually, free_port};
use datazone_emulator::faults::FaultRule;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use kube::{Api, ResourceExt};
use serde_json::json;

fn fault(error: Option<&str>, latency_ms: u64, drop: bool, rate: f64) -> FaultRule {
    FaultRule {
        service: "*".into(),
        operation: "*".into(),
        error: error.map(str::to_string),
        latency_ms,
        drop,
        count: None,
        rate: Some(rate),
    }
}

/// The soak's namespaces: the world's and `n - 1` more its connection admits.
async fn namespaces(w: &World, n: usize) -> Vec<String> {
    let api: Api<Namespace> = Api::all(w.client.clone());
    let mut all = vec![w.ns.clone()];
    for i in 1..n {
        let name = format!("{}-{i}", w.ns);
        let ns: Namespace = serde_json::from_value(
            json!({"metadata": {"name": name, "labels": {"dataproducts.dev/datazone-access": w.ns}}}),
        )
        .unwrap();
        api.create(&PostParams::default(), &ns).await.unwrap();
        all.push(name);
    }
    all
}

async fn soak(test: &str, products: usize, spaces: usize, kills: usize) {
    let seed: u64 = std::env::var("SOAK_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos().into()
    });
    println!("soak: SOAK_SEED={seed}");
    let mut rng = Rng(seed);
    let mut w = world(test, "optional").await;
    w.operator = None;
    let spaces = namespaces(&w, spaces).await;
    let lease = format!("soak-{}", w.ns);
    // The world's own namespace is watched already (spawn_operator names it).
    let watched = spaces[1..].join(",");
    let args = [
        "--namespaces",
        &watched,
        "--leader-elect",
        "--leader-election-namespace",
        &w.ns,
        "--leader-election-lease",
        &lease,
        "--lease-duration",
        "4s",
    ];
    let spawn = |name: &str| w.spawn_operator(free_port(), &args, &[("POD_NAME", name)], name);
    let mut replicas: BTreeMap<String, KillOnDrop> =
        ["replica-a", "replica-b"].iter().map(|n| (n.to_string(), spawn(n))).collect();
    {
        let mut faults = w.emulator.shared.faults.lock().unwrap();
        faults.rules.push(fault(Some("ThrottlingException"), 0, false, 0.10));
        faults.rules.push(fault(Some("InternalServerException"), 0, false, 0.08));
        faults.rules.push(fault(None, 2000, false, 0.07));
        faults.rules.push(fault(None, 0, true, 0.05));
    }
    let mut names = Vec::new();
    for i in 0..products {
        let ns = &spaces[i % spaces.len()];
        let name = format!("soak-{i:03}");
        let p: datazone_operator::crd::RedshiftDataProduct = serde_json::from_value(json!({
            "apiVersion": "dataproducts.dev/v1alpha1", "kind": "RedshiftDataProduct",
            "metadata": {"name": name, "namespace": ns},
            "spec": {
                "connectionRef": {"kind": "ClusterDataZoneConnection", "name": w.connection},
                "project": "sales",
                "redshift": {"clusterName": "prod-dwh", "database": "sales", "credentialsSecretArn": SECRET},
                "schemas": [{"name": "public", "tables": ["orders"]}],
                "deletionPolicy": "Delete"
            }
        }))
        .unwrap();
        products_in(&w, ns).patch(&name, &PatchParams::apply("soak").force(), &Patch::Apply(&p)).await.unwrap();
        names.push((ns.clone(), name));
    }

    let leases: Api<Lease> = Api::namespaced(w.client.clone(), &w.ns);
    let (mut edits, mut deletions, mut killed) = (0, 0, 0);
    let started = Instant::now();
    for _ in 0..kills {
        tokio::time::sleep(Duration::from_millis(300 + rng.below(1200) as u64)).await;
        let holder = leases.get_opt(&lease).await.ok().flatten().and_then(|l| l.spec).and_then(|s| s.holder_identity);
        if let Some(holder) = holder.filter(|h| replicas.contains_key(h)) {
            replicas.remove(&holder); // SIGKILL
            replicas.insert(holder.clone(), spawn(&holder));
            killed += 1;
        }
    }
    // Still under faults (the replicas now left to lead): one spec edit per ten data products,
    // each once its first run has started, so the edit asks for a second one.
    for target in (0..products).step_by(10) {
        let (ns, name) = &names[target];
        eventually(Duration::from_secs(420), || async {
            let p = products_in(&w, ns).get(name).await.map_err(|e| e.to_string())?;
            p.status.and_then(|s| s.last_run).map(|_| ()).ok_or_else(|| format!("{ns}/{name} has not run yet"))
        })
        .await;
        let patch = json!({"spec": {"schemas": [{"name": "public", "tables": ["orders", "customers"]}]}});
        products_in(&w, ns).patch(name, &PatchParams::default(), &Patch::Merge(&patch)).await.unwrap();
        edits += 1;
    }
    // Behind the operator's back, still under faults: one data source per twenty deleted as soon
    // as it exists.
    for target in (5..products).step_by(20) {
        let (ns, name) = &names[target];
        let ds = eventually(Duration::from_secs(420), || async {
            let p = products_in(&w, ns).get(name).await.map_err(|e| e.to_string())?;
            p.status.and_then(|s| s.data_source_id).ok_or_else(|| format!("{ns}/{name} has no data source yet"))
        })
        .await;
        w.emulator.shared.lock_state().data_sources.remove(&ds);
        deletions += 1;
    }
    println!("soak: {killed} leader kills, {edits} spec edits, {deletions} deletions in {:?}", started.elapsed());
    w.emulator.shared.faults.lock().unwrap().rules.clear();

    // With the faults off, everything converges: every data product Ready with the data source
    // its status names there (a deleted one's status says Ready until a pass sees it gone).
    eventually(Duration::from_secs(600), || async {
        let existing: Vec<String> =
            ours(&w.state().await).iter().filter_map(|d| d["id"].as_str().map(String::from)).collect();
        let mut waiting = Vec::new();
        for ns in &spaces {
            for p in products_in(&w, ns).list(&ListParams::default()).await.map_err(|e| e.to_string())?.items {
                let source = p.status.as_ref().and_then(|s| s.data_source_id.clone());
                if !is_ready(&p) || !source.is_some_and(|id| existing.contains(&id)) {
                    waiting.push(format!("{ns}/{}", p.name_any()));
                }
            }
        }
        if waiting.is_empty() {
            Ok(())
        } else {
            Err(format!("{} not Ready: {:?}", waiting.len(), &waiting[..waiting.len().min(5)]))
        }
    })
    .await;
    let state = w.state().await;
    let sources = ours(&state);
    let runs = state["dataSourceRuns"].as_array().unwrap();
    let mut runs_per_source: BTreeMap<String, usize> = BTreeMap::new();
    for r in runs {
        *runs_per_source.entry(r["dataSourceId"].as_str().unwrap_or_default().to_string()).or_default() += 1;
    }
    let most = sources.iter().map(|d| runs_per_source.get(d["id"].as_str().unwrap()).copied().unwrap_or(0)).max();
    let logs: Vec<String> = ["replica-a", "replica-b"]
        .iter()
        .map(|n| std::fs::read_to_string(std::env::temp_dir().join(format!("{}.{n}.log", w.ns))).unwrap_or_default())
        .collect();
    let panics = logs.iter().map(|l| l.matches("panicked").count()).sum::<usize>();
    println!(
        "soak: {products} data products in {} namespaces: {} data sources, {} environment, {} runs (at most {} per data source), {panics} panics",
        spaces.len(),
        sources.len(),
        v1_environments(&state),
        runs.len(),
        most.unwrap_or(0)
    );
    assert_eq!(sources.len(), products, "exactly one data source per data product");
    assert_eq!(v1_environments(&state), 1, "one environment for the one key");
    assert!(most.unwrap_or(0) <= 2, "at most a first run and an edit's per data source");
    assert!(runs.len() <= products + edits + deletions * 2, "no run the spec or a deletion did not ask for");
    assert_eq!(panics, 0, "no panic in any log");
    assert!(killed >= kills / 2, "the leader was killed {killed} times");
    drop(replicas);
}

fn products_in(w: &World, ns: &str) -> Api<datazone_operator::crd::RedshiftDataProduct> {
    Api::namespaced(w.client.clone(), ns)
}

#[tokio::test]
#[ignore = "needs a real API server: make e2e"]
async fn a_small_soak_converges_without_duplicates() {
    soak("soak-small", 20, 2, 10).await;
}

#[tokio::test]
#[ignore = "the full soak: make soak"]
async fn the_full_soak_converges_without_duplicates() {
    soak("soak-full", 100, 5, 50).await;
}
