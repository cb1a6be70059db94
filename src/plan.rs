//! `datazone-operator plan`: what `run` would do in DataZone, without doing it. Connections and
//! namespaces are read once from the cluster (as `run`'s watches hold them), the data products
//! from a file (each planned against its live object's status, when it has one) or from the
//! cluster, and each goes through the same reads as a reconcile pass
//! ([`crate::controller::data_product::preview`]). No mutating DataZone call is made and nothing is written to
//! Kubernetes. Exit status as `terraform plan -detailed-exitcode`: 0 no changes, 2 changes, 1 an
//! error.

use std::collections::{BTreeMap, HashSet};
use std::io::Read;

use k8s_openapi::api::core::v1::Namespace;
use kube::api::ListParams;
use kube::core::PartialObjectMeta;
use kube::runtime::events::Reporter;
use kube::runtime::reflector::{self, Store};
use kube::runtime::watcher;
use kube::{Api, Client, Resource, ResourceExt};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::cli::{PlanArgs, PlanOutput};
use crate::controller::context::{Context, Settings};
use crate::controller::data_product::preview::{Preview, environments_held, preview};
use crate::controller::decide::environment_room::{self, Room};
use crate::controller::decide::plan::Step;
use crate::controller::decide::products::ProductChange;
use crate::controller::fleet::keys::EnvironmentKey;
use crate::controller::fleet::watched::Watched;
use crate::crd::{ClusterDataZoneConnection, DataZoneConnection, RedshiftDataProduct};
use crate::datazone::Binding;
use crate::datazone::sdk::{Clients, base_config};
use crate::events::Events;
use crate::metrics::Metrics;

/// What `plan` found: the exit status and the report to print.
pub struct Planned {
    pub exit: u8,
    pub report: String,
}

pub async fn plan(args: PlanArgs) -> Result<Planned, String> {
    let client = Client::try_default().await.map_err(|e| format!("cannot reach the Kubernetes API: {e}"))?;
    let scopes: Vec<Option<String>> = if args.scope.namespaces.is_empty() {
        vec![None]
    } else {
        args.scope.namespaces.iter().cloned().map(Some).collect()
    };
    let mut connections = Vec::new();
    for scope in &scopes {
        connections.push(listed(scoped::<DataZoneConnection>(&client, scope.as_deref()), None).await?);
    }
    let watched = Watched {
        connections,
        cluster_connections: listed(Api::<ClusterDataZoneConnection>::all(client.clone()), None).await?,
        namespaces: listed(Api::<PartialObjectMeta<Namespace>>::all(client.clone()), None).await?,
    };
    let products = match &args.filename {
        Some(file) => from_file(&client, file).await?,
        None => {
            let mut all = Vec::new();
            for scope in &scopes {
                let api = scoped::<RedshiftDataProduct>(&client, scope.as_deref());
                all.extend(listed(api, args.scope.selector.as_deref()).await?.state().iter().map(|p| (**p).clone()));
            }
            all
        }
    };
    let metrics = Metrics::new().map_err(|e| e.to_string())?;
    let settings = Settings {
        cluster_name: args.scope.cluster_name.clone(),
        resync: std::time::Duration::from_secs(600),
        poll: std::time::Duration::from_secs(5),
        concurrency: 1,
    };
    let reporter = Reporter { controller: crate::controller::decide::pass::MANAGER.into(), instance: None };
    let backend = Clients::new(base_config().await, metrics.clone(), args.datazone_pace);
    let ctx = Context::new(client.clone(), watched, backend, Events::new(client, reporter), metrics, settings);
    let mut planned = Vec::new();
    for p in &products {
        planned.push((p, preview(&ctx, p).await));
    }
    let mut warnings = Vec::new();
    for room in rooms(&ctx, &planned).await {
        match room {
            Ok(room) => warnings.extend(environment_room::warning(&room, args.environments_per_domain)),
            Err(why) => warnings.push(why),
        }
    }
    Ok(report(&planned, &warnings, args.output))
}

/// For each domain the plan makes environments in: what is there already, as far as the
/// connection's role can read (one data product's connection per domain asks).
async fn rooms<B: crate::datazone::Backend>(ctx: &Context<B>, planned: &[Plan<'_>]) -> Vec<Result<Room, String>> {
    let mut by_domain: BTreeMap<&str, (&RedshiftDataProduct, HashSet<&EnvironmentKey>, usize)> = BTreeMap::new();
    for (p, preview) in planned {
        let Some(key) = preview.as_ref().ok().and_then(|v| v.new_environment.as_ref()) else { continue };
        let entry = by_domain.entry(key.domain.as_str()).or_insert((*p, HashSet::new(), 0));
        entry.1.insert(key);
        entry.2 += 1;
    }
    let mut rooms = Vec::new();
    for (domain, (p, adding, needing)) in by_domain {
        rooms.push(match environments_held(ctx, p).await {
            Ok((held, projects_read, projects_unread)) => Ok(Room {
                domain: domain.to_string(),
                held,
                projects_read,
                projects_unread,
                adding: adding.len(),
                needing,
            }),
            Err(b) => Err(format!("domain {domain}: cannot count its environments: {} ({})", b.message, b.reason)),
        });
    }
    rooms
}

/// A data product and what `plan` found for it.
type Plan<'a> = (&'a RedshiftDataProduct, Result<Preview, crate::controller::decide::pass::Blocked>);

fn scoped<K>(client: &Client, namespace: Option<&str>) -> Api<K>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope>,
    <K as Resource>::DynamicType: Default,
{
    match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

/// A store filled by one listing, as a watch's first listing fills it.
async fn listed<K>(api: Api<K>, selector: Option<&str>) -> Result<Store<K>, String>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug + Send + Sync + 'static,
    <K as Resource>::DynamicType: Default + Eq + std::hash::Hash + Clone,
{
    let params = selector.map_or_else(ListParams::default, |s| ListParams::default().labels(s));
    let list = api.list(&params).await.map_err(|e| format!("cannot list {}: {e}", K::kind(&Default::default())))?;
    let (store, mut writer) = reflector::store();
    writer.apply_watcher_event(&watcher::Event::Init);
    for item in list.items {
        writer.apply_watcher_event(&watcher::Event::InitApply(item));
    }
    writer.apply_watcher_event(&watcher::Event::InitDone);
    Ok(store)
}

/// The file's RedshiftDataProducts, each with its live object's identity and status (when it
/// exists), so it is planned from where it is.
async fn from_file(client: &Client, file: &str) -> Result<Vec<RedshiftDataProduct>, String> {
    let mut text = String::new();
    let read = if file == "-" {
        std::io::stdin().read_to_string(&mut text).map(|_| ())
    } else {
        std::fs::read_to_string(file).map(|t| text = t)
    };
    read.map_err(|e| format!("cannot read {file}: {e}"))?;
    let mut products = Vec::new();
    let documents: Vec<Value> = serde_saphyr::from_multiple(&text).map_err(|e| format!("{file}: {e}"))?;
    for value in documents {
        if value.get("kind").and_then(Value::as_str) != Some("RedshiftDataProduct") {
            continue;
        }
        let mut p: RedshiftDataProduct = serde_json::from_value(value).map_err(|e| format!("{file}: {e}"))?;
        let namespace = p.namespace().unwrap_or_else(|| "default".into());
        p.metadata.namespace = Some(namespace.clone());
        let live = Api::<RedshiftDataProduct>::namespaced(client.clone(), &namespace)
            .get_opt(&p.name_any())
            .await
            .map_err(|e| format!("cannot read {namespace}/{}: {e}", p.name_any()))?;
        if let Some(live) = live {
            p.metadata.uid = live.metadata.uid;
            p.metadata.generation = live.metadata.generation;
            p.status = live.status;
        }
        products.push(p);
    }
    Ok(products)
}

/// What a step does, in a few words.
fn describe(step: &Step) -> String {
    match step {
        Step::EnableBlueprint { regions, .. } => {
            format!("enable the DefaultDataWarehouse blueprint in {}", regions.join(", "))
        }
        Step::CreateProfile { .. } => "create the environment profile".into(),
        Step::CreateEnvironment { .. } => "create the environment".into(),
        Step::WaitEnvironment { environment, status } => format!("wait for environment {environment} ({status})"),
        Step::EnvironmentFailed { why, .. } => format!("stop: the environment failed: {why}"),
        Step::NoProjectEnvironment => "stop: the project has no Tooling environment for a connection".into(),
        Step::CreateConnection { .. } => "create the Redshift connection".into(),
        Step::ConnectionNotOurs { connection } => {
            format!("stop: connection {connection} of this name is not the operator's")
        }
        Step::WaitConnection { connection, status } => format!("wait for connection {connection} ({status})"),
        Step::ConnectionFailed { connection, status } => format!("stop: connection {connection} is {status}"),
        Step::SecretConflict { with, .. } => format!("wait: {} ask the connection for other secrets", with.join(", ")),
        Step::UpdateConnection { connection, patch } => {
            let mut what = Vec::new();
            if patch.secret_arn.is_some() {
                what.push("the credentials secret");
            }
            if let Some(l) = &patch.lineage {
                what.push(if l.enabled { "lineage on" } else { "lineage off" });
            }
            format!("set {} on connection {connection}", what.join(" and "))
        }
        Step::CreateDataSource { binding: Binding::Connection(_) } => "create the data source (by connection)".into(),
        Step::CreateDataSource { .. } => "create the data source".into(),
        Step::NotOurs { data_source } => format!("stop: data source {data_source} of this name is not the operator's"),
        Step::AdoptDataSource { data_source } => format!("adopt data source {data_source}"),
        Step::WaitDataSource { data_source, status } => format!("wait for data source {data_source} ({status})"),
        Step::DataSourceFailed { why, .. } => format!("stop: the data source failed: {why}"),
        Step::UpdateDataSource { data_source } => format!("update data source {data_source}"),
        Step::StartRun { reason, .. } => format!("start a run ({})", reason.as_str()),
        Step::WaitRun { run } => format!("wait for run {run}"),
        Step::RunGaveUp => "stop: the last runs failed; retries are used up".into(),
        Step::Done => "no changes".into(),
    }
}

/// A data product's change, as `plan` prints it.
fn describe_product(change: &ProductChange) -> String {
    let names = |items: &[String]| items.join(", ");
    match change {
        ProductChange::Create { name, items } => {
            format!("create data product {name} of {} assets ({}) and publish it", items.len(), names(items))
        }
        ProductChange::Revise { name, added, removed } if added.is_empty() && removed.is_empty() => {
            format!("revise data product {name} (its description, terms or forms) and publish it")
        }
        ProductChange::Revise { name, added, removed } => {
            let mut diff = Vec::new();
            if !added.is_empty() {
                diff.push(format!("adds {}", names(added)));
            }
            if !removed.is_empty() {
                diff.push(format!("removes {}", names(removed)));
            }
            format!("revise data product {name} ({}) and publish it", diff.join("; "))
        }
        ProductChange::Publish { name } => format!("publish data product {name}"),
        ProductChange::Empty { name } => format!("data product {name}: no asset to hold yet"),
        ProductChange::Retire { name, delete: true } => format!("unpublish and delete data product {name}"),
        ProductChange::Retire { name, delete: false } => format!("leave data product {name} as it is (Retain)"),
        ProductChange::Blocked { name, why } => format!("data product {name}: not written: {why}"),
        ProductChange::Unchanged { name } => format!("data product {name}: no changes"),
    }
}

fn product_json(change: &ProductChange) -> Value {
    json!({"change": describe_product(change), "mutates": change.mutates()})
}

fn report(planned: &[Plan<'_>], warnings: &[String], output: PlanOutput) -> Planned {
    let changing = planned.iter().filter(|(_, r)| r.as_ref().is_ok_and(Preview::changes_anything)).count();
    let failed = planned.iter().filter(|(_, r)| r.is_err()).count();
    let exit = if failed > 0 {
        1
    } else if changing > 0 {
        2
    } else {
        0
    };
    let id = |p: &RedshiftDataProduct| format!("{}/{}", p.namespace().unwrap_or_default(), p.name_any());
    let report = match output {
        PlanOutput::Json => {
            let items: Vec<Value> = planned
                .iter()
                .map(|(p, r)| match r {
                    Ok(v) => json!({
                        "namespace": p.namespace(), "name": p.name_any(), "changes": v.changes_anything(),
                        "steps": v.steps.iter().map(describe).collect::<Vec<_>>(),
                        "fieldChanges": v.changes, "imports": v.objects, "businessMetadata": v.metadata,
                        "dataProducts": v.products.iter().map(product_json).collect::<Vec<_>>(),
                        "onDelete": v.on_delete,
                    }),
                    Err(b) => json!({"namespace": p.namespace(), "name": p.name_any(), "error": {"reason": b.reason, "message": b.message}}),
                })
                .collect();
            let summary =
                json!({"dataProducts": planned.len(), "changing": changing, "failed": failed, "warnings": warnings});
            serde_json::to_string_pretty(&json!({"items": items, "summary": summary})).unwrap_or_default()
        }
        PlanOutput::Text => {
            let mut out = String::new();
            for (p, r) in planned {
                match r {
                    Ok(v) if !v.changes_anything() => out.push_str(&format!(
                        "{}: {}\n    on delete: {}\n",
                        id(p),
                        v.steps.iter().map(describe).collect::<Vec<_>>().join("; "),
                        v.on_delete
                    )),
                    Ok(v) => {
                        out.push_str(&format!("{}:\n", id(p)));
                        for step in &v.steps {
                            out.push_str(&format!("  {} {}\n", if step.mutates() { "+" } else { " " }, describe(step)));
                            if matches!(step, Step::UpdateDataSource { .. } | Step::AdoptDataSource { .. }) {
                                for c in &v.changes {
                                    out.push_str(&format!("      {}: {} -> {}\n", c.field, c.from, c.to));
                                }
                            }
                            if matches!(step, Step::StartRun { .. }) && !v.objects.is_empty() {
                                out.push_str(&format!("      imports {}\n", v.objects.join(", ")));
                            }
                        }
                        if !v.metadata.is_empty() {
                            out.push_str(&format!("  + write business metadata on {}\n", v.metadata.join(", ")));
                        }
                        for change in v.products.iter().filter(|c| c.mutates()) {
                            out.push_str(&format!("  + {}\n", describe_product(change)));
                        }
                        out.push_str(&format!("    on delete: {}\n", v.on_delete));
                    }
                    Err(b) => out.push_str(&format!("{}: error: {} ({})\n", id(p), b.message, b.reason)),
                }
            }
            out.push_str(&format!(
                "Plan: {changing} of {} data products would change{}.\n",
                planned.len(),
                if failed > 0 { format!(", {failed} could not be planned") } else { String::new() }
            ));
            for warning in warnings {
                out.push_str(&format!("Warning: {warning}.\n"));
            }
            out
        }
    };
    Planned { exit, report }
}
