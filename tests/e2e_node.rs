//! The chart's pod on a real node (`make e2e-node`: `scripts/local-cluster up --with-node`, the
//! image `make image-local` builds): the kubelet runs it with the chart's securityContext, probes
//! and projected tokens; it reaches the API server through the in-cluster configuration and the
//! DataZone emulator through the node's bridge, both forwarded into the node's network namespace
//! (scripts/netns-forward). The chart is installed unmodified: values only.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::world::{World, is_ready, ours, world};
use common::{KillOnDrop, eventually, run_tool, sample};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::ListParams;
use kube::{Api, ResourceExt};
use serde_json::{Value, json};

/// The node `local-cluster up --with-node` started: its network namespace, the gateway address
/// pods reach it at, and the API server's port (the same on loopback and on the gateway).
struct Node {
    netns: String,
    gateway: String,
    api_port: String,
}

fn node() -> Node {
    let netns = std::env::var("NODE_NETNS").expect("NODE_NETNS is not set: run these tests with `make e2e-node`");
    let gateway = std::env::var("NODE_GATEWAY").expect("NODE_GATEWAY is not set: run with `make e2e-node`");
    let kubeconfig: Value =
        serde_saphyr::from_str(&std::fs::read_to_string(std::env::var("KUBECONFIG").unwrap()).unwrap()).unwrap();
    let server = kubeconfig["clusters"][0]["cluster"]["server"].as_str().unwrap();
    let api_port = server.rsplit(':').next().unwrap().trim_end_matches('/').to_string();
    Node { netns, gateway, api_port }
}

impl Node {
    /// `args` run in the node's network namespace (where the pods' addresses are).
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new("nsenter");
        command.arg(format!("--net=/run/netns/{}", self.netns)).args(args);
        command
    }

    /// `GET url` from the node's namespace: the body, or why not.
    fn get(&self, url: &str) -> Result<String, String> {
        let out = self.command(&["curl", "-sf", "--max-time", "5", url]).output().map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(format!("GET {url}: {}", out.status))
        }
    }

    /// The emulator's loopback port forwarded to the gateway, so pods reach it at the returned URL.
    fn forward_emulator(&self, w: &World) -> (KillOnDrop, String) {
        let port = w.emulator.endpoint().rsplit(':').next().unwrap().to_string();
        let mut child = Command::new(common::repo_path("scripts/netns-forward"))
            .args([&format!("/run/netns/{}", self.netns), &format!("{}:{port}", self.gateway), "-"])
            .arg(format!("127.0.0.1:{port}"))
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        // Its first line says it listens.
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line).unwrap();
        assert!(line.contains("->"), "netns-forward did not start: {line:?}");
        (KillOnDrop(child), format!("http://{}:{port}", self.gateway))
    }
}

/// A release of the chart for the world's namespace, in a namespace of its own.
struct Release {
    name: String,
    ns: String,
    /// The chart's fullname: the Deployment's, the Lease's, the metrics Service's prefix.
    fullname: String,
}

/// The values every install here has: the image built here, the in-cluster configuration through
/// the gateway (no kube-proxy), the emulator's endpoint, this world's namespace.
fn base_values(node: &Node, w: &World, endpoint: &str, static_key: bool) -> Value {
    let mut env = vec![
        json!({"name": "KUBERNETES_SERVICE_HOST", "value": node.gateway}),
        json!({"name": "KUBERNETES_SERVICE_PORT", "value": node.api_port}),
        json!({"name": "AWS_EC2_METADATA_DISABLED", "value": "true"}),
    ];
    if static_key {
        env.push(json!({"name": "AWS_ACCESS_KEY_ID", "value": "AKIAPRODUCER00000001"}));
        env.push(json!({"name": "AWS_SECRET_ACCESS_KEY", "value": "producer-secret"}));
    }
    json!({
        "image": {"repository": "localhost/datazone-operator", "tag": "local", "pullPolicy": "Never"},
        "crds": {"install": false},
        "clusterName": "e2e",
        "watchNamespaces": [w.ns],
        "pollInterval": "1s",
        "resyncInterval": "10m",
        "aws": {"region": "eu-central-1", "endpointUrl": endpoint},
        "extraEnv": env,
    })
}

fn helm(verb: &str, release: &Release, values: &Value) {
    let file = std::env::temp_dir().join(format!("{}.{verb}.values.json", release.ns));
    std::fs::write(&file, values.to_string()).unwrap();
    let chart = common::repo_path("charts/datazone-operator");
    let mut args = vec![verb, &release.name, chart.to_str().unwrap(), "--namespace", &release.ns];
    args.extend(["--create-namespace", "--wait=false", "-f", file.to_str().unwrap()]);
    run_tool("helm", &args);
}

impl Drop for Release {
    /// Its pods go with the test (the node is shared by the tests that follow).
    fn drop(&mut self) {
        let _ = Command::new(common::tool("helm"))
            .args(["uninstall", &self.name, "--namespace", &self.ns, "--wait=false"])
            .output();
    }
}

fn install(w: &World, values: &Value) -> Release {
    let name = w.ns.trim_start_matches("e2e-").to_string();
    let release = Release { ns: format!("{}-system", w.ns), fullname: format!("{name}-datazone-operator"), name };
    helm("install", &release, values);
    release
}

/// The release's pods that are Ready, once there are `n` of them and no other.
async fn ready_pods(w: &World, release: &Release, n: usize) -> Vec<Pod> {
    let pods: Api<Pod> = Api::namespaced(w.client.clone(), &release.ns);
    let selector = format!("app.kubernetes.io/instance={}", release.name);
    eventually(Duration::from_secs(120), || async {
        let list = pods.list(&ListParams::default().labels(&selector)).await.map_err(|e| e.to_string())?;
        let ready: Vec<Pod> = list.items.iter().filter(|p| pod_ready(p)).cloned().collect();
        let phases: Vec<String> =
            list.items.iter().map(|p| format!("{} ready={}", p.name_any(), pod_ready(p))).collect();
        if ready.len() == n && list.items.len() == n { Ok(ready) } else { Err(format!("pods: {phases:?}")) }
    })
    .await
}

fn pod_ready(p: &Pod) -> bool {
    p.metadata.deletion_timestamp.is_none()
        && p.status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// The Lease's holder ("" before anyone holds it).
async fn holder(w: &World, release: &Release) -> String {
    let leases: Api<Lease> = Api::namespaced(w.client.clone(), &release.ns);
    let lease = leases.get_opt(&release.fullname).await.ok().flatten();
    lease.and_then(|l| l.spec).and_then(|s| s.holder_identity).unwrap_or_default()
}

/// The holder, once someone holds the Lease.
async fn leader(w: &World, release: &Release) -> String {
    eventually(Duration::from_secs(60), || async {
        let h = holder(w, release).await;
        if h.is_empty() { Err("no holder".to_string()) } else { Ok(h) }
    })
    .await
}

/// The operator container's log, as the kubelet writes it (the node has no address the API server
/// reaches, so `kubectl logs` cannot). The file is opened at once and read through that handle: the
/// kubelet removes a deleted pod's logs, and a test reads what the pod said while it stopped.
struct PodLog(std::fs::File);

impl PodLog {
    fn open(pod: &Pod) -> PodLog {
        let dir = std::path::Path::new(&std::env::var("LOCAL_CLUSTER_DIR").unwrap())
            .join("node/pod-logs")
            .join(format!("{}_{}_{}/operator", pod.namespace().unwrap(), pod.name_any(), pod.uid().unwrap()));
        // The first start's file (a restart would write 1.log; none is expected here).
        let file = std::fs::File::open(dir.join("0.log")).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        PodLog(file)
    }

    /// The lines the operator wrote (CRI format: "<time> <stream> <tag> <line>").
    fn lines(&self) -> Vec<String> {
        use std::io::{Read, Seek};
        let mut file = &self.0;
        let mut text = String::new();
        file.seek(std::io::SeekFrom::Start(0)).unwrap();
        file.read_to_string(&mut text).unwrap();
        text.lines().filter_map(|l| l.splitn(4, ' ').nth(3)).map(str::to_string).collect()
    }

    /// The operator's timestamp of its first line with `message`, once it has written one (the
    /// runtime writes the log a moment after the process, which may already have acted).
    async fn logged_at(&self, message: &str) -> String {
        eventually(Duration::from_secs(10), || async {
            let lines = self.lines();
            common::logged_at(lines.iter().map(String::as_str), message).ok_or(format!("no {message:?} yet"))
        })
        .await
    }
}

/// A pod's /metrics, scraped at its address on the bridge.
fn metrics_of(node: &Node, pod: &Pod) -> String {
    let ip = pod.status.as_ref().and_then(|s| s.pod_ip.clone()).expect("a pod address");
    node.get(&format!("http://{ip}:8080/metrics")).unwrap()
}

/// How many passes a pod's operator has made (every kind, every result).
fn passes(metrics: &str) -> f64 {
    metrics
        .lines()
        .filter(|l| l.starts_with("datazone_operator_reconciles_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// A test's world with no operator process of its own (the chart's pod is the operator), and its
/// emulator forwarded into the node: the node, the world, the forwarder, the emulator's URL for pods.
async fn node_world(test: &str) -> (Node, World, KillOnDrop, String) {
    let node = node();
    let mut w = world(test, "optional").await;
    w.operator = None;
    let (forward, endpoint) = node.forward_emulator(&w);
    (node, w, forward, endpoint)
}

#[tokio::test]
#[ignore = "needs a node: make e2e-node"]
async fn the_charts_pod_is_ready_reconciles_the_reference_payload_and_serves_metrics_through_its_service() {
    let (node, w, _forward, endpoint) = node_world("node").await;
    let release = install(&w, &base_values(&node, &w, &endpoint, true));
    let started = Instant::now();
    let pods = ready_pods(&w, &release, 1).await;
    println!("pod Ready (readiness probe) {:?} after helm install", started.elapsed());
    let pod = &pods[0];
    let spec = pod.spec.as_ref().unwrap();
    assert!(spec.host_network != Some(true), "pod networking, not the host's");

    // No kubeconfig in the pod: the in-cluster configuration, the chart's RBAC.
    let names = w.import("examples/payloads/three-databases.json").await;
    let ready = w.all_ready(&names).await;
    assert_eq!(ready.len(), 3);
    assert_eq!(ours(&w.state().await).len(), 3, "one data source per data product");

    // /metrics through the metrics Service's endpoints, as Prometheus finds it.
    let slices: Api<EndpointSlice> = Api::namespaced(w.client.clone(), &release.ns);
    let service = format!("{}-metrics", release.fullname);
    let url = eventually(Duration::from_secs(60), || async {
        let list = slices
            .list(&ListParams::default().labels(&format!("kubernetes.io/service-name={service}")))
            .await
            .map_err(|e| e.to_string())?;
        let slice = list.items.first().ok_or("no EndpointSlice")?;
        let ready = slice.endpoints.iter().find(|e| e.conditions.as_ref().and_then(|c| c.ready) == Some(true));
        let address = ready.and_then(|e| e.addresses.first()).ok_or("no ready endpoint")?;
        let port = slice.ports.as_ref().and_then(|p| p.first()).and_then(|p| p.port).ok_or("no port")?;
        Ok::<_, String>(format!("http://{address}:{port}/metrics"))
    })
    .await;
    let text = eventually(Duration::from_secs(60), || async {
        let text = node.get(&url)?;
        match sample(&text, "datazone_operator_data_products{ready=\"true\"}") {
            Some(3.0) => Ok(text),
            other => Err(format!("data products ready: {other:?}")),
        }
    })
    .await;
    assert!(passes(&text) > 0.0, "the pod's own passes are counted");
}

#[tokio::test]
#[ignore = "needs a node: make e2e-node"]
async fn two_replicas_one_reconciles_and_deleting_the_leader_hands_the_lease_over() {
    let (node, w, _forward, endpoint) = node_world("pair").await;
    let mut values = base_values(&node, &w, &endpoint, true);
    values["replicaCount"] = json!(2);
    let release = install(&w, &values);
    let pods = ready_pods(&w, &release, 2).await;
    let first = leader(&w, &release).await;
    let names = w.import("examples/payloads/three-databases.json").await;
    w.all_ready(&names).await;

    // Only the holder reconciles; the standby is Ready (its probes pass) and makes no pass.
    let (led, standby): (Vec<&Pod>, Vec<&Pod>) = pods.iter().partition(|p| p.name_any() == first);
    assert_eq!((led.len(), standby.len()), (1, 1), "the holder {first} is one of the two pods");
    assert!(passes(&metrics_of(&node, led[0])) > 0.0, "the leader reconciles");
    assert_eq!(passes(&metrics_of(&node, standby[0])), 0.0, "the standby makes no pass");
    let leader_log = PodLog::open(led[0]);

    // `kubectl delete pod` on the leader: SIGTERM, the Lease released, and another pod of the
    // release takes over — the standby, or the replacement the ReplicaSet starts, whichever asks first.
    let deleted = Instant::now();
    run_tool("kubectl", &["delete", "pod", &first, "-n", &release.ns, "--wait=false"]);
    let next = eventually(Duration::from_secs(60), || async {
        let h = holder(&w, &release).await;
        if !h.is_empty() && h != first { Ok(h) } else { Err(format!("holder: {h:?}")) }
    })
    .await;
    let handover = deleted.elapsed();
    println!("the Lease went from {first} to {next} {handover:?} after kubectl delete pod (lease duration 15 s)");
    assert!(handover < Duration::from_secs(15), "released on SIGTERM, not expired: {handover:?}");
    let next_pod = Api::<Pod>::namespaced(w.client.clone(), &release.ns).get(&next).await.unwrap();
    let released = leader_log.logged_at("released the lease").await;
    let took = PodLog::open(&next_pod).logged_at("became the leader").await;
    assert!(released <= took, "released at {released}, taken at {took}");

    // The new leader reconciles: a new data product becomes Ready.
    let p = w.product("after-handover", "sales", "sales", "public", &["orders"]);
    w.apply(&p).await;
    w.all_ready(&["after-handover".to_string()]).await;
    let state = w.state().await;
    assert_eq!(ours(&state).len(), 4, "no duplicate data source across the handover");
}

#[tokio::test]
#[ignore = "needs a node: make e2e-node"]
async fn helm_upgrade_rolls_out_with_one_reconciler_at_a_time() {
    let (node, w, _forward, endpoint) = node_world("upgrade").await;
    let values = base_values(&node, &w, &endpoint, true);
    let release = install(&w, &values);
    let old = ready_pods(&w, &release, 1).await.remove(0);
    assert_eq!(leader(&w, &release).await, old.name_any());
    let old_log = PodLog::open(&old);
    let names = w.import("examples/payloads/three-databases.json").await;
    w.all_ready(&names).await;

    // A changed value with the chart's default strategy (RollingUpdate): the new pod starts
    // beside the old one, as a standby, and leads once the old one has let go.
    let mut changed = values.clone();
    changed["logLevel"] = json!("debug");
    let upgraded = Instant::now();
    helm("upgrade", &release, &changed);
    let new = eventually(Duration::from_secs(120), || async {
        let pods = ready_pods(&w, &release, 1).await;
        let p = &pods[0];
        if p.name_any() != old.name_any() && holder(&w, &release).await == p.name_any() {
            Ok(p.clone())
        } else {
            Err("the rollout goes on".to_string())
        }
    })
    .await;
    println!("helm upgrade rolled out in {:?}", upgraded.elapsed());
    let deployments: Api<k8s_openapi::api::apps::v1::Deployment> = Api::namespaced(w.client.clone(), &release.ns);
    eventually(Duration::from_secs(60), || async {
        let d = deployments.get(&release.fullname).await.map_err(|e| e.to_string())?;
        let s = d.status.unwrap_or_default();
        let done = s.observed_generation == d.metadata.generation
            && s.updated_replicas == Some(1)
            && s.available_replicas == Some(1)
            && s.replicas == Some(1);
        if done { Ok(()) } else { Err(format!("{s:?}")) }
    })
    .await;

    let released = old_log.logged_at("released the lease").await;
    let took = PodLog::open(&new).logged_at("became the leader").await;
    assert!(released <= took, "one reconciler at a time: released at {released}, taken at {took}");
    let p = w.product("after-upgrade", "sales", "sales", "public", &["orders"]);
    w.apply(&p).await;
    let ready = w.all_ready(&["after-upgrade".to_string()]).await;
    assert!(ready.iter().all(is_ready));
    let state = w.state().await;
    assert_eq!(ours(&state).len(), 4, "one data source per data product");
    assert_eq!(state["dataSourceRuns"].as_array().unwrap().len(), 4, "one run per data source, none doubled");
}

#[tokio::test]
#[ignore = "needs a node: make e2e-node"]
async fn irsa_through_the_token_the_kubelet_projects_reaches_ready_without_a_static_key() {
    const ROLE: &str = "arn:aws:iam::222222222222:role/datazone-operator";
    let (node, w, _forward, endpoint) = node_world("nodeirsa").await;
    w.trust_the_cluster();
    let mut values = base_values(&node, &w, &endpoint, false);
    values["serviceAccount"] = json!({"roleArn": ROLE});
    values["aws"]["identity"] = json!("webIdentity");
    let before = w.calls().await;
    let release = install(&w, &values);
    w.emulator.trust_web_identity(ROLE, &format!("system:serviceaccount:{}:{}", release.ns, release.fullname)).unwrap();
    let pod = ready_pods(&w, &release, 1).await.remove(0);
    let env: Vec<String> =
        pod.spec.as_ref().unwrap().containers[0].env.iter().flatten().map(|e| e.name.clone()).collect();
    assert!(!env.iter().any(|e| e == "AWS_ACCESS_KEY_ID"), "no static key in the pod: {env:?}");

    let names = w.import("examples/payloads/three-databases.json").await;
    w.all_ready(&names).await;
    // Its only identity: the kubelet's token for sts.amazonaws.com, exchanged for the role.
    let calls = common::world::delta(&before, &w.calls().await);
    assert!(common::world::count(&calls, "sts:AssumeRoleWithWebIdentity") >= 1, "{calls}");
}
