use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use datazone_emulator::state::QUOTA_PAGE;
use datazone_emulator::{Emulator, EmulatorConfig, Fixture, Lifecycle};

/// Amazon DataZone, STS and Redshift Data API emulator speaking the real wire protocols.
#[derive(Parser)]
#[command(name = "datazone-emulator", version)]
struct Cli {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:4566")]
    listen: SocketAddr,
    /// Fixture (YAML): principals, roles, domains, projects, secrets and the Redshift catalog.
    #[arg(long)]
    fixture: Option<PathBuf>,
    /// How long a new environment stays CREATING before it is ACTIVE (e.g. 2s, 500ms).
    #[arg(long, default_value = "2s", value_parser = humantime::parse_duration)]
    environment_ready_after: Duration,
    /// How long a data source run stays RUNNING before it finishes.
    #[arg(long, default_value = "2s", value_parser = humantime::parse_duration)]
    run_duration: Duration,
    /// Requests per second per account and region; above it, ThrottlingException.
    #[arg(long)]
    rate_limit: Option<f64>,
    /// Runs allowed per data source in 24 hours (DataZone's quota is 25).
    #[arg(long, default_value_t = 25)]
    runs_per_day: usize,
    /// How long a subscription grant (or its revocation) takes to complete.
    #[arg(long, default_value = "2s", value_parser = humantime::parse_duration)]
    grant_duration: Duration,
    /// OPERATION=TPS: calls a second per account and region of one DataZone operation, beside
    /// --rate-limit (repeatable; 0 lifts a quota). AcceptSubscriptionRequest=3 and
    /// CancelSubscription=3 (DataZone's quotas) unless given.
    #[arg(long, value_parser = operation_rate)]
    operation_rate_limit: Vec<(String, f64)>,
    /// DataZone's per-API rates as its quota page gives them (CreateGlossary 5, Search and most
    /// catalog calls 20, AcceptSubscriptionRequest and CancelSubscription 3; each per account and
    /// region), and every other operation at --other-operations-rate; --operation-rate-limit
    /// still changes any of them. Without it only Accept and Cancel are limited per operation.
    #[arg(long)]
    per_api_quotas: bool,
    /// With --per-api-quotas: calls a second of each operation the quota page does not name
    /// (its own bucket each; 0 lifts them).
    #[arg(long, default_value_t = datazone_emulator::state::OTHER_OPERATIONS_RATE, requires = "per_api_quotas")]
    other_operations_rate: f64,
    /// Environments a domain holds at most (DataZone's quota is 500); beyond it CreateEnvironment
    /// answers ServiceQuotaExceededException.
    #[arg(long, default_value_t = datazone_emulator::state::ENVIRONMENTS_PER_DOMAIN)]
    environments_per_domain: usize,
    /// Glossaries a domain holds at most (DataZone: 1,000).
    #[arg(long, default_value_t = datazone_emulator::state::GLOSSARIES_PER_DOMAIN)]
    glossaries_per_domain: usize,
    /// Glossary terms a domain holds at most (DataZone: 10,000).
    #[arg(long, default_value_t = datazone_emulator::state::GLOSSARY_TERMS_PER_DOMAIN)]
    glossary_terms_per_domain: usize,
    /// Data products a domain holds at most (DataZone: 500,000).
    #[arg(long, default_value_t = datazone_emulator::state::DATA_PRODUCTS_PER_DOMAIN)]
    data_products_per_domain: usize,
}

/// `OPERATION=TPS`, TPS a number of at least 0.
fn operation_rate(s: &str) -> Result<(String, f64), String> {
    let (operation, tps) = s.split_once('=').ok_or("expected OPERATION=TPS, e.g. AcceptSubscriptionRequest=3")?;
    let tps: f64 = tps.parse().map_err(|_| format!("{tps:?} is not a number of calls a second"))?;
    if operation.is_empty() || !operation.bytes().all(|b| b.is_ascii_alphanumeric()) || !tps.is_finite() || tps < 0.0 {
        return Err(format!("expected OPERATION=TPS with an operation name and TPS >= 0, got {s:?}"));
    }
    Ok((operation.to_string(), tps))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let fixture = match &cli.fixture {
        Some(path) => match Fixture::load(path) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        },
        None => Fixture::default(),
    };
    if cli.rate_limit.is_some_and(|r| r <= 0.0) {
        eprintln!("error: --rate-limit must be positive");
        return ExitCode::from(2);
    }
    // The quotas given replace the defaults of the same operations; the others stay.
    let mut operation_rate_limits = Lifecycle::default().operation_rate_limits;
    if cli.per_api_quotas {
        operation_rate_limits.extend(QUOTA_PAGE.iter().map(|(op, tps)| (op.to_string(), *tps)));
    }
    operation_rate_limits.extend(cli.operation_rate_limit);
    let config = EmulatorConfig {
        fixture,
        lifecycle: Lifecycle {
            environment_ready_after: cli.environment_ready_after,
            run_duration: cli.run_duration,
            runs_per_day: cli.runs_per_day,
            grant_duration: cli.grant_duration,
            operation_rate_limits,
            environments_per_domain: cli.environments_per_domain,
            glossaries_per_domain: cli.glossaries_per_domain,
            glossary_terms_per_domain: cli.glossary_terms_per_domain,
            data_products_per_domain: cli.data_products_per_domain,
            other_operations_rate: cli.per_api_quotas.then_some(cli.other_operations_rate),
        },
        rate_limit: cli.rate_limit,
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        // Listen for SIGTERM / SIGINT before saying we are up: a signal right after the
        // "listening" line must shut down cleanly, not kill the process.
        let shutdown = ShutdownSignals::install();
        let emulator = match Emulator::start(cli.listen, config).await {
            Ok(e) => e,
            Err(e) => {
                eprintln!("error: cannot listen on {}: {e}", cli.listen);
                return ExitCode::FAILURE;
            }
        };
        // Exactly one line on stdout, so scripts can read the address.
        println!("listening on {}", emulator.endpoint());
        tracing::info!(addr = %emulator.addr, "datazone-emulator ready");
        shutdown.wait().await;
        tracing::info!("shutting down");
        emulator.shutdown().await;
        ExitCode::SUCCESS
    })
}

struct ShutdownSignals {
    term: Option<tokio::signal::unix::Signal>,
    int: Option<tokio::signal::unix::Signal>,
}

impl ShutdownSignals {
    fn install() -> Self {
        use tokio::signal::unix::{SignalKind, signal};
        Self { term: signal(SignalKind::terminate()).ok(), int: signal(SignalKind::interrupt()).ok() }
    }

    async fn wait(mut self) {
        async fn recv(s: &mut Option<tokio::signal::unix::Signal>) {
            match s {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending().await,
            }
        }
        tokio::select! {
            _ = recv(&mut self.term) => {}
            _ = recv(&mut self.int) => {}
        }
    }
}
