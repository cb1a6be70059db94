//! What the end-to-end test files share: the API server client, loopback ports and HTTP, waits
//! with a deadline, a guard that kills a child process, the tools `make e2e` built, and the
//! [`world::World`] the operator tests run in. Each file uses part of it.

#![allow(dead_code)]

pub mod aws;
pub mod lambda;
pub mod mesh;
/// The emulator tests' seeded generator, for the property tests.
#[path = "../../emulator/tests/common/rng.rs"]
pub mod rng;
/// The emulator tests' check of every DataZone answer against botocore's model.
#[path = "../../emulator/tests/common/shapes.rs"]
pub mod shapes;
pub mod world;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use kube::{Client, Config};

/// The operator binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_datazone-operator");

/// A client for the suite's API server (`make e2e` sets KUBECONFIG); fails, never skips.
pub async fn client() -> Client {
    let kubeconfig = std::env::var("KUBECONFIG")
        .expect("KUBECONFIG is not set: run these tests with `make e2e`, which starts a local API server");
    let config = Config::from_kubeconfig(&kube::config::KubeConfigOptions::default())
        .await
        .unwrap_or_else(|e| panic!("cannot read kubeconfig {kubeconfig}: {e}"));
    let client = Client::try_from(config).expect("client from kubeconfig");
    client.apiserver_version().await.unwrap_or_else(|e| panic!("API server at {kubeconfig} unreachable: {e}"));
    client
}

pub fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// A free loopback port (bound, then released for the process under test).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `GET path` on a loopback port: the whole response, head and body.
pub async fn http_get(port: u16, path: &str) -> Result<String, String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.map_err(|e| e.to_string())?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: e2e\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.map_err(|e| e.to_string())?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await.map_err(|e| e.to_string())?;
    Ok(response)
}

/// The body of an HTTP response.
pub fn body(response: &str) -> &str {
    response.split("\r\n\r\n").nth(1).unwrap_or_default()
}

/// Polls `check` until it succeeds, or panics with its last error after `deadline`.
pub async fn eventually<T, F: Future<Output = Result<T, String>>>(
    deadline: Duration,
    mut check: impl FnMut() -> F,
) -> T {
    let start = Instant::now();
    loop {
        match check().await {
            Ok(v) => return v,
            Err(e) if start.elapsed() > deadline => panic!("not within {deadline:?}: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}

/// Kills the child when the test ends, also on panic.
pub struct KillOnDrop(pub std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A tool `make e2e` built beside kubectl (helm, kubectl itself).
pub fn tool(name: &str) -> String {
    let kubectl = std::env::var("KUBECTL").expect("KUBECTL is not set: run these tests with `make e2e`");
    Path::new(&kubectl).with_file_name(name).to_string_lossy().into_owned()
}

/// Runs a tool and returns its trimmed stdout; panics with its stderr when it fails.
pub fn run_tool(name: &str, args: &[&str]) -> String {
    let out = Command::new(tool(name)).args(args).output().unwrap();
    assert!(out.status.success(), "{name} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The value of the Prometheus sample whose line starts with `series` (name and labels, e.g.
/// `datazone_operator_data_products{ready="true"}`).
pub fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
}

/// The `timestamp` of the first of the operator's JSON log `lines` whose message is `message`.
pub fn logged_at<'a>(mut lines: impl Iterator<Item = &'a str>, message: &str) -> Option<String> {
    let line = lines.find(|l| l.contains(&format!("\"message\":\"{message}\"")))?;
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    v["timestamp"].as_str().map(str::to_string)
}

/// What Flux's health checks (kstatus, built from cli-utils by `scripts/kstatus-bin`) say of each
/// object of `resource` (`redshiftdataproducts.dataproducts.dev`, …) in the namespace: name →
/// status.
pub fn kstatus(resource: &str, ns: &str) -> std::collections::BTreeMap<String, String> {
    use std::process::Stdio;
    let list = run_tool("kubectl", &["get", resource, "-n", ns, "-o", "json"]);
    let kstatus = std::env::var("KSTATUS").expect("KSTATUS is not set: run these tests with `make e2e`");
    let mut child = Command::new(kstatus).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), list.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "kstatus failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|line| {
            let mut fields = line.split('\t');
            (fields.next().unwrap().to_string(), fields.next().unwrap_or_default().to_string())
        })
        .collect()
}
