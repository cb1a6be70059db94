//! Requests per second the emulator sustains through the real Rust SDK with 8 concurrent
//! clients (GetDataSource, ListDataSources, StartDataSourceRun), and the emulator's memory as
//! data sources accumulate (RSS at 0, 1,000 and 10,000 data sources).
//!
//! Run with `make bench-emulator` (`cargo bench -p datazone-emulator --bench throughput`). It
//! prints figures; it asserts nothing about speed.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_datazone::Client;

#[path = "../tests/common/mod.rs"]
mod common;

use common::DOMAIN;
const WORKERS: usize = 8;
const SECONDS: u64 = 5;

struct Emulator(Child, String);

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn() -> Emulator {
    let fixture = format!("{}/../examples/emulator/fixture.yaml", env!("CARGO_MANIFEST_DIR"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_datazone-emulator"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--fixture",
            &fixture,
            "--environment-ready-after",
            "1ms",
            "--run-duration",
            "0s",
        ])
        .args(["--runs-per-day", "1000000000"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("emulator binary");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let endpoint = line.trim().trim_start_matches("listening on ").to_string();
    Emulator(child, endpoint)
}

fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

async fn setup(endpoint: &str) -> (Client, String, String) {
    let (project, env) = common::active_environment(endpoint, "finance").await;
    (common::as_role_at(endpoint).await, project, env)
}

async fn create(role: &Client, project: &str, env: &str, name: String) -> String {
    common::redshift_data_source(
        role,
        project,
        env,
        &name,
        common::filter_config("finance", "ledger", vec![common::include("*")]),
    )
    .publish_on_import(true)
    .send()
    .await
    .unwrap()
    .id()
    .to_string()
}

#[derive(Clone, Copy)]
enum Op {
    Get,
    List,
    Start,
}

async fn measure(role: &Client, project: &str, sources: &[String], op: Op) -> (u64, u64, f64) {
    let started = Instant::now();
    let deadline = started + Duration::from_secs(SECONDS);
    let tasks: Vec<_> = sources
        .iter()
        .map(|ds| {
            let (role, project, ds) = (role.clone(), project.to_string(), ds.clone());
            tokio::spawn(async move {
                let (mut ok, mut err) = (0u64, 0u64);
                while Instant::now() < deadline {
                    let result = match op {
                        Op::Get => role
                            .get_data_source()
                            .domain_identifier(DOMAIN)
                            .identifier(&ds)
                            .send()
                            .await
                            .map(|_| ())
                            .map_err(|_| ()),
                        Op::List => role
                            .list_data_sources()
                            .domain_identifier(DOMAIN)
                            .project_identifier(&project)
                            .max_results(50)
                            .send()
                            .await
                            .map(|_| ())
                            .map_err(|_| ()),
                        Op::Start => role
                            .start_data_source_run()
                            .domain_identifier(DOMAIN)
                            .data_source_identifier(&ds)
                            .send()
                            .await
                            .map(|_| ())
                            .map_err(|_| ()),
                    };
                    if result.is_ok() { ok += 1 } else { err += 1 }
                }
                (ok, err)
            })
        })
        .collect();
    let (mut ok, mut err) = (0, 0);
    for t in tasks {
        let (o, e) = t.await.unwrap();
        ok += o;
        err += e;
    }
    (ok, err, started.elapsed().as_secs_f64())
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let emulator = spawn();
        let pid = emulator.0.id();
        println!("datazone-emulator benchmark: {WORKERS} concurrent Rust SDK clients, {SECONDS} s per operation");
        let (role, project, env) = setup(&emulator.1).await;
        let mut sources = Vec::new();
        for i in 0..WORKERS {
            sources.push(create(&role, &project, &env, format!("bench-{i}")).await);
        }
        for (name, op) in [("GetDataSource", Op::Get), ("ListDataSources", Op::List), ("StartDataSourceRun", Op::Start)] {
            let (ok, err, secs) = measure(&role, &project, &sources, op).await;
            println!("{name:>20}: {ok:>7} ok, {err:>5} errors in {secs:.1} s = {:>7.0} requests/s", ok as f64 / secs);
        }

        let baseline = rss_mib(pid);
        println!("memory (emulator RSS) after the runs above, {WORKERS} data sources: {baseline:.1} MiB");
        let mut created = WORKERS;
        for target in [1_000usize, 10_000] {
            let started = Instant::now();
            let batch: Vec<_> = (created..target)
                .collect::<Vec<_>>()
                .chunks(WORKERS * 4)
                .map(|c| c.to_vec())
                .collect();
            for chunk in batch {
                let calls = chunk.into_iter().map(|i| create(&role, &project, &env, format!("ds-{i:05}")));
                futures::future::join_all(calls).await;
            }
            let secs = started.elapsed().as_secs_f64();
            let rss = rss_mib(pid);
            println!(
                "memory at {target:>6} data sources: {rss:.1} MiB RSS ({:.2} KiB per data source over the baseline; {} created at {:.0}/s)",
                (rss - baseline) * 1024.0 / (target - WORKERS) as f64,
                target - created,
                (target - created) as f64 / secs
            );
            created = target;
        }
        let (ok, _, secs) = measure(&role, &project, &sources, Op::Get).await;
        println!("GetDataSource with 10,000 data sources in the project: {:.0} requests/s", ok as f64 / secs);
    });
}
