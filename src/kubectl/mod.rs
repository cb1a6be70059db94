//! `kubectl datazone`: the day-to-day questions about data products, as a kubectl plugin (the
//! `kubectl-datazone` binary on the PATH; docs/guide/kubectl-plugin.md). It reads the cluster the
//! way kubectl does (the kubeconfig, its current namespace) and writes nothing but the
//! reconcile-requested-at annotation that `rerun` sets: the operator does the rest.
//!
//! | command | what it does |
//! |---|---|
//! | `status` | every data product (of `-n`, or all with `-A`) with Ready, reason, last run, assets, subscribers; the not Ready first |
//! | `why NAME` | the conditions in pass order, the one that blocks, and the last Events: one screen |
//! | `rerun NAME` | asks the operator for a new run (the annotation), `--wait` for it to end |
//! | `plan` | what the operator would do in DataZone (`datazone-operator plan`) |

pub mod report;

use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use k8s_openapi::api::core::v1::Event;
use kube::api::{ListParams, Patch, PatchParams};
use kube::{Api, Client, ResourceExt};
use serde_json::json;

use crate::cli::PlanArgs;
use crate::crd::{RECONCILE_REQUESTED_AT, RedshiftDataProduct};
use report::EventLine;

#[derive(Debug, Parser)]
#[command(
    name = "kubectl-datazone",
    bin_name = "kubectl datazone",
    version,
    about = "Data products at a glance: status, why one is not Ready, a new run, the plan"
)]
pub struct PluginCli {
    #[command(subcommand)]
    pub command: PluginCommand,
}

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Every data product with Ready, reason, last run, assets and subscribers; the not Ready first.
    Status(StatusArgs),
    /// Why a data product is not Ready: its conditions in pass order and its last Events.
    Why(NamedArgs),
    /// Ask the operator for a new data source run of a data product (the supported way: the
    /// dataproducts.dev/reconcile-requested-at annotation).
    Rerun(RerunArgs),
    /// What the operator would do in DataZone, without doing it (as `datazone-operator plan`).
    Plan(PlanArgs),
}

/// `text` for people, `json` for machines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The namespace (default: the kubeconfig's current one).
    #[arg(long, short = 'n', value_parser = crate::cli::parse_namespace)]
    pub namespace: Option<String>,
    /// Every namespace.
    #[arg(long, short = 'A', conflicts_with = "namespace")]
    pub all_namespaces: bool,
    #[arg(long, short = 'o', value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

#[derive(Debug, Args)]
pub struct NamedArgs {
    /// The RedshiftDataProduct.
    #[arg(value_parser = crate::cli::parse_object_name)]
    pub name: String,
    /// Its namespace (default: the kubeconfig's current one).
    #[arg(long, short = 'n', value_parser = crate::cli::parse_namespace)]
    pub namespace: Option<String>,
    #[arg(long, short = 'o', value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

#[derive(Debug, Args)]
pub struct RerunArgs {
    #[command(flatten)]
    pub target: NamedArgs,
    /// Wait until the operator has started the run and it has ended.
    #[arg(long)]
    pub wait: bool,
    /// How long `--wait` waits (e.g. `10m`, `90s`).
    #[arg(long, default_value = "10m", value_parser = crate::cli::parse_duration)]
    pub timeout: Duration,
}

/// Data products a list call asks for at once.
const PAGE: u32 = 500;

/// A client from the kubeconfig, and its current namespace.
async fn connect() -> Result<(Client, String), String> {
    let config = kube::Config::infer().await.map_err(|e| format!("no kubeconfig or in-cluster config: {e}"))?;
    let namespace = config.default_namespace.clone();
    let client = Client::try_from(config).map_err(|e| format!("cannot build a Kubernetes client: {e}"))?;
    Ok((client, namespace))
}

fn now() -> jiff::Timestamp {
    jiff::Timestamp::now()
}

fn json_text<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default() + "\n"
}

pub async fn status(args: StatusArgs) -> Result<String, String> {
    let (client, current) = connect().await?;
    let api: Api<RedshiftDataProduct> = if args.all_namespaces {
        Api::all(client)
    } else {
        Api::namespaced(client, args.namespace.as_deref().unwrap_or(&current))
    };
    // Paged: ten thousand data products with their asset lists are hundreds of megabytes in one
    // answer; a page at a time, only the rows are kept.
    let mut products = Vec::new();
    let mut params = ListParams::default().limit(PAGE);
    loop {
        let page = api.list(&params).await.map_err(|e| format!("cannot list RedshiftDataProducts: {e}"))?;
        products.extend(page.items.iter().map(report::row));
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(next) => params = params.continue_token(&next),
            None => break,
        }
    }
    let rows = report::sorted(products);
    Ok(match args.output {
        Output::Text => report::status_text(&rows, now()),
        Output::Json => json_text(&rows),
    })
}

/// The data product's Events (core/v1, of this object: its UID), whoever reported them.
async fn events(client: Client, p: &RedshiftDataProduct) -> Result<Vec<EventLine>, String> {
    let namespace = p.namespace().unwrap_or_default();
    let selector = format!(
        "involvedObject.kind=RedshiftDataProduct,involvedObject.name={},involvedObject.uid={}",
        p.name_any(),
        p.uid().unwrap_or_default()
    );
    let api: Api<Event> = Api::namespaced(client, &namespace);
    let listed =
        api.list(&ListParams::default().fields(&selector)).await.map_err(|e| format!("cannot list Events: {e}"))?;
    Ok(listed
        .items
        .into_iter()
        .map(|e| {
            let at = e
                .series
                .as_ref()
                .and_then(|s| s.last_observed_time.as_ref().map(|t| t.0))
                .or(e.event_time.as_ref().map(|t| t.0))
                .or(e.last_timestamp.as_ref().map(|t| t.0))
                .or(e.first_timestamp.as_ref().map(|t| t.0))
                .or(e.metadata.creation_timestamp.as_ref().map(|t| t.0));
            EventLine {
                at: at.map(|t| t.to_string()),
                type_: e.type_.unwrap_or_default(),
                reason: e.reason.unwrap_or_default(),
                message: e.message.unwrap_or_default(),
                count: e.series.as_ref().and_then(|s| s.count).or(e.count).unwrap_or(1),
            }
        })
        .collect())
}

async fn get(client: &Client, namespace: &str, name: &str) -> Result<RedshiftDataProduct, String> {
    let api: Api<RedshiftDataProduct> = Api::namespaced(client.clone(), namespace);
    match api.get_opt(name).await {
        Ok(Some(p)) => Ok(p),
        Ok(None) => Err(format!("no RedshiftDataProduct {name} in namespace {namespace}")),
        Err(e) => Err(format!("cannot read RedshiftDataProduct {namespace}/{name}: {e}")),
    }
}

pub async fn why(args: NamedArgs) -> Result<String, String> {
    let (client, current) = connect().await?;
    let namespace = args.namespace.unwrap_or(current);
    let p = get(&client, &namespace, &args.name).await?;
    let why = report::why(&p, events(client, &p).await?);
    Ok(match args.output {
        Output::Text => report::why_text(&why, now()),
        Output::Json => json_text(&why),
    })
}

pub async fn rerun(args: RerunArgs) -> Result<String, String> {
    let (client, current) = connect().await?;
    let namespace = args.target.namespace.clone().unwrap_or(current);
    let name = &args.target.name;
    get(&client, &namespace, name).await?;
    // Seconds are enough: two requests in one second are one run anyway.
    let stamp = now().round(jiff::Unit::Second).map_err(|e| e.to_string())?.to_string();
    let api: Api<RedshiftDataProduct> = Api::namespaced(client.clone(), &namespace);
    let patch = json!({"metadata": {"annotations": {RECONCILE_REQUESTED_AT: stamp}}});
    api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(|e| format!("cannot annotate {namespace}/{name}: {e}"))?;
    let mut out = format!("requested a new run of {namespace}/{name} ({RECONCILE_REQUESTED_AT}={stamp})\n");
    if !args.wait {
        out.push_str(&format!("follow it with: kubectl datazone status -n {namespace}\n"));
        return Ok(out);
    }
    let deadline = tokio::time::Instant::now() + args.timeout;
    loop {
        let p = get(&client, &namespace, name).await?;
        let status = p.status.clone().unwrap_or_default();
        let handled = status.last_handled_reconcile_at.as_deref() == Some(stamp.as_str());
        let run = status.last_run.as_ref().filter(|r| handled && r.reason.as_deref() == Some("Requested"));
        if let Some(run) = run.filter(|r| crate::datazone::RunStatus::parse(&r.status).is_terminal()) {
            out.push_str(&format!(
                "run {} ended {}: {} added, {} updated, {} unchanged, {} failed\n",
                run.id, run.status, run.assets.added, run.assets.updated, run.assets.unchanged, run.assets.failed
            ));
            return Ok(out);
        }
        if tokio::time::Instant::now() >= deadline {
            let row = report::row(&p);
            return Err(format!(
                "{out}no requested run has ended within {:?}: Ready {} ({}); `kubectl datazone why {name} -n {namespace}` says why",
                args.timeout, row.ready, row.reason
            ));
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}
