//! The connection controllers: a connection is Ready when its role can be assumed and its
//! domain resolves; the result (domain ID, caller account, session ARN) goes into its status.

use std::sync::Arc;

use kube::api::{Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::{Api, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use tracing::Instrument;

use super::guardrails::connection_key;
use super::resolve::{resolve, session_key};
use crate::controller::context::Context;
use crate::controller::decide::pass::ReconcileError;
use crate::controller::decide::pass::{Blocked, MANAGER, Phase, TERMINAL_RETRY};
use crate::controller::fleet::cache::STABLE;
use crate::controller::fleet::keys::Lookup;
use crate::crd::conditions;
use crate::crd::{ClusterDataZoneConnection, ConnectionSettings, ConnectionStatus, DataZoneConnection};
use crate::datazone::{Backend, Producer};

/// What both connection kinds have in common, for one reconcile function.
pub trait ConnectionObject:
    Resource<DynamicType = ()> + Clone + DeserializeOwned + Serialize + std::fmt::Debug + Send + Sync + 'static
{
    const KIND: &'static str;
    fn settings(&self) -> &ConnectionSettings;
    fn status(&self) -> Option<&ConnectionStatus>;
    fn api(client: kube::Client, namespace: Option<&str>) -> Api<Self>;
}

impl ConnectionObject for DataZoneConnection {
    const KIND: &'static str = "DataZoneConnection";
    fn settings(&self) -> &ConnectionSettings {
        &self.spec.connection
    }
    fn status(&self) -> Option<&ConnectionStatus> {
        self.status.as_ref()
    }
    fn api(client: kube::Client, namespace: Option<&str>) -> Api<Self> {
        Api::namespaced(client, namespace.unwrap_or("default"))
    }
}

impl ConnectionObject for ClusterDataZoneConnection {
    const KIND: &'static str = "ClusterDataZoneConnection";
    fn settings(&self) -> &ConnectionSettings {
        &self.spec.connection
    }
    fn status(&self) -> Option<&ConnectionStatus> {
        self.status.as_ref()
    }
    fn api(client: kube::Client, _: Option<&str>) -> Api<Self> {
        Api::all(client)
    }
}

pub async fn reconcile<C: ConnectionObject, B: Backend>(
    conn: Arc<C>,
    ctx: Arc<Context<B>>,
) -> Result<Action, ReconcileError> {
    let span = tracing::info_span!(
        "reconcile",
        kind = C::KIND,
        namespace = conn.namespace().unwrap_or_default(),
        resource = conn.name_any()
    );
    let started = tokio::time::Instant::now();
    let result = check(conn, ctx.clone()).instrument(span).await;
    ctx.metrics.observe_reconcile(C::KIND, if result.is_ok() { "ok" } else { "error" }, started.elapsed());
    result
}

async fn check<C: ConnectionObject, B: Backend>(conn: Arc<C>, ctx: Arc<Context<B>>) -> Result<Action, ReconcileError> {
    let namespace = conn.namespace();
    let name = conn.name_any();
    let settings = conn.settings().clone();
    // A namespaced connection shares the session of its namespace's data products.
    let key = session_key(&settings, &format!("{}/{name}", C::KIND), namespace.as_deref().unwrap_or("cluster"));
    let mut status = conn.status().cloned().unwrap_or_default();
    let before = status.clone();
    let generation = conn.meta().generation;
    let now = conditions::now_rfc3339();
    let outcome: Result<String, Blocked> = async {
        let resolved = resolve(&ctx, settings.clone(), &key).await?;
        let producer = ctx.backend.producer(&settings.region);
        let account = ctx
            .shared
            .ids
            .get_or_find(Lookup::Account { region: settings.region.clone() }, STABLE, || async {
                producer.account().await.map(Some)
            })
            .await
            .map_err(|e| Blocked::dz(Phase::ConnectionResolved, e).because("CallerUnknown"))?
            .ok_or_else(|| Blocked::retryable(Phase::ConnectionResolved, "CallerUnknown", "STS named no account"))?;
        status.domain_id = Some(resolved.domain_id.clone());
        status.domain_version = Some(resolved.generation.as_str().to_string());
        status.assumed_role_arn = Some(resolved.assumed_role_arn);
        status.caller_account_id = Some(account);
        Ok(format!("{} ({})", resolved.domain_id, resolved.generation.as_str()))
    }
    .await;
    let requeue = match &outcome {
        Ok(domain) => {
            let message = format!("role assumed, domain {domain} resolved");
            conditions::set_ready(&mut status.conditions, true, false, "Resolved", &message, generation, &now);
            ctx.resync
        }
        Err(p) => {
            let terminal = p.is_terminal();
            tracing::warn!(reason = %p.reason, detail = %p.message, terminal, "connection not usable");
            conditions::set_ready(&mut status.conditions, false, terminal, &p.reason, &p.message, generation, &now);
            if terminal { TERMINAL_RETRY } else { ctx.backoff(&format!("{}/{name}", C::KIND)) }
        }
    };
    // How many data products use it, and how many its rules refuse, as this process has seen.
    let (using, refused) = ctx.shared.users.counts(&connection_key(C::KIND, namespace.as_deref(), &name));
    status.data_products = Some(using as i64);
    status.refused_data_products = Some(refused as i64);
    status.observed_generation = generation;
    if status != before {
        let api = C::api(ctx.client.clone(), namespace.as_deref());
        let patch = json!({"apiVersion": crate::crd::API_VERSION, "kind": C::KIND, "status": status});
        api.patch_status(&name, &PatchParams::apply(MANAGER).force(), &Patch::Apply(&patch)).await?;
    }
    Ok(Action::requeue(requeue))
}

pub fn error_policy<C: ConnectionObject, B: Backend>(
    conn: Arc<C>,
    error: &ReconcileError,
    ctx: Arc<Context<B>>,
) -> Action {
    tracing::warn!(kind = C::KIND, name = conn.name_any(), %error, "connection reconcile failed");
    Action::requeue(ctx.backoff(&format!("{}/{}", C::KIND, conn.name_any())))
}
