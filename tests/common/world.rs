//! One operator test's world: a namespace, a ClusterDataZoneConnection admitting it, a DataZone
//! emulator in this process, and the operator binary watching that namespace; with the helpers
//! to apply data products, wait for their conditions, and read the emulator's state and calls.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use datazone_emulator::{Emulator, EmulatorConfig, Fixture, Lifecycle};
use datazone_operator::crd::{ClusterDataZoneConnection, DataZoneConnection, DeletionPolicy, RedshiftDataProduct};
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use kube::{Api, Client, ResourceExt};
use serde_json::{Value, json};

use super::{BIN, KillOnDrop, body, client, eventually, free_port, http_get, sample};

pub const SECRET: &str = "arn:aws:secretsmanager:eu-central-1:222222222222:secret:dz-redshift-AbCdEf";
/// The operator's resync interval in these tests.
pub const RESYNC: Duration = Duration::from_secs(4);

/// One test's world: a namespace, a ClusterDataZoneConnection admitting it, an emulator, and the
/// operator watching that namespace. Names are unique per test and process; the local cluster is
/// thrown away after the suite, so nothing is cleaned up here.
pub struct World {
    pub client: Client,
    pub ns: String,
    pub connection: String,
    pub emulator: Emulator,
    pub operator: Option<KillOnDrop>,
    pub metrics_port: u16,
    /// The kubeconfig the operator runs with (default: the suite's admin kubeconfig).
    pub kubeconfig: Option<std::path::PathBuf>,
    /// The connection's ExternalId ("optional" is the one the fixture's role trusts).
    pub external_id: String,
}

/// The fixture's V1 domain.
pub const V1_DOMAIN: &str = "corp-mesh";
/// The fixture's V2 domain (Amazon SageMaker Unified Studio), with its project `analytics`.
pub const V2_DOMAIN: &str = "unified-mesh";

/// What the fixture's domain needs of a connection.
fn connection_spec(external_id: &str) -> Value {
    connection_spec_in(external_id, V1_DOMAIN)
}

fn connection_spec_in(external_id: &str, domain: &str) -> Value {
    json!({
        "region": "eu-central-1", "domain": {"name": domain},
        "roleArn": "arn:aws:iam::111111111111:role/dz-registration", "externalId": external_id,
        "producer": {"provisioningRoleArn": "arn:aws:iam::222222222222:role/DataZoneProvisioning-111111111111",
                     "manageAccessRoleArn": "arn:aws:iam::222222222222:role/DzRedshiftAccess-eu-central-1-corp-mesh"}
    })
}

pub async fn world(test: &str, external_id: &str) -> World {
    world_in(test, external_id, V1_DOMAIN).await
}

/// A world whose connection names the fixture's `domain`.
pub async fn world_in(test: &str, external_id: &str, domain: &str) -> World {
    let client = client().await;
    let ns = format!("e2e-{test}-{}", std::process::id());
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let namespace: Namespace =
        serde_json::from_value(json!({"metadata": {"name": ns, "labels": {"dataproducts.dev/datazone-access": ns}}}))
            .unwrap();
    namespaces.create(&PostParams::default(), &namespace).await.unwrap();
    let connection = format!("mesh-{ns}");
    let mut spec = connection_spec_in(external_id, domain);
    spec["namespaceSelector"] = json!({"matchLabels": {"dataproducts.dev/datazone-access": ns}});
    let conn: ClusterDataZoneConnection = serde_json::from_value(json!({
        "apiVersion": "dataproducts.dev/v1alpha1", "kind": "ClusterDataZoneConnection", "metadata": {"name": connection},
        "spec": spec
    }))
    .unwrap();
    Api::<ClusterDataZoneConnection>::all(client.clone())
        .patch(&connection, &PatchParams::apply("e2e").force(), &Patch::Apply(&conn))
        .await
        .unwrap();
    let emulator = fixture_emulator(Duration::from_millis(300)).await;
    let external_id = external_id.to_string();
    let mut w =
        World { client, ns, connection, emulator, operator: None, metrics_port: 0, kubeconfig: None, external_id };
    w.start_operator();
    w
}

/// An emulator of the example fixture (in this process) whose environments are ready and runs
/// over after `settle`, checking its answers against the model.
pub async fn fixture_emulator(settle: Duration) -> Emulator {
    let fixture =
        Fixture::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/emulator/fixture.yaml"))
            .unwrap();
    let lifecycle = Lifecycle {
        environment_ready_after: settle,
        run_duration: settle,
        runs_per_day: 25,
        grant_duration: settle,
        ..Lifecycle::default()
    };
    let emulator =
        Emulator::start("127.0.0.1:0".parse().unwrap(), EmulatorConfig { fixture, lifecycle, rate_limit: None })
            .await
            .unwrap();
    // Every answer the operator gets holds against botocore's model, V1 and V2.
    let model = super::shapes::Model::load();
    emulator.check_answers(Box::new(move |operation, body| model.check(operation, body)));
    emulator
}

impl World {
    /// Starts (or restarts) the operator process for this world.
    pub fn start_operator(&mut self) {
        self.operator = None;
        self.metrics_port = free_port();
        self.operator = Some(self.spawn_operator(self.metrics_port, &[], &[], "operator"));
    }

    /// An operator process for this world with `extra` arguments and environment; its log is
    /// `<ns>.<log>.log`.
    pub fn spawn_operator(&self, metrics_port: u16, extra: &[&str], env: &[(&str, &str)], log: &str) -> KillOnDrop {
        let mut command = self.operator_command(metrics_port, extra, env);
        KillOnDrop(command.stdout(Stdio::null()).stderr(self.log_file(log)).spawn().unwrap())
    }

    /// The log file `<ns>.<log>.log`, appended to.
    pub fn log_file(&self, log: &str) -> std::fs::File {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(std::env::temp_dir().join(format!("{}.{log}.log", self.ns)))
            .unwrap()
    }

    /// The command line and environment of an operator process for this world (not started).
    pub fn operator_command(&self, metrics_port: u16, extra: &[&str], env: &[(&str, &str)]) -> Command {
        let mut command = Command::new(BIN);
        if let Some(kubeconfig) = &self.kubeconfig {
            command.env("KUBECONFIG", kubeconfig);
        }
        command
            .args(["run", "--cluster-name", "e2e", "--namespaces", &self.ns, "--log-format", "json"])
            .args(["--poll-interval", "1s", "--resync-interval", "4s", "--concurrency", "8"])
            .args([
                "--metrics-addr",
                &format!("127.0.0.1:{metrics_port}"),
                "--health-addr",
                &format!("127.0.0.1:{}", free_port()),
            ])
            .args(extra)
            .envs(self.aws_env())
            .envs(env.iter().copied())
            .env_remove("AWS_PROFILE")
            .env("RUST_LOG", "info");
        command
    }
    /// The AWS settings of an operator process against this world's emulator: its endpoint and
    /// the fixture's static producer key.
    pub fn aws_env(&self) -> [(&'static str, String); 5] {
        [
            ("AWS_ENDPOINT_URL", self.emulator.endpoint()),
            ("AWS_REGION", "eu-central-1".into()),
            ("AWS_ACCESS_KEY_ID", "AKIAPRODUCER00000001".into()),
            ("AWS_SECRET_ACCESS_KEY", "producer-secret".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ]
    }

    /// Registers the local API server's service-account issuer (its discovery document and keys)
    /// as an OpenID Connect provider with the emulator's STS and Pod Identity endpoint, as IAM
    /// trusts an EKS cluster's OIDC provider.
    pub fn trust_the_cluster(&self) {
        let raw = |path: &str| -> Value {
            serde_json::from_str(&super::run_tool("kubectl", &["get", "--raw", path])).unwrap()
        };
        let discovery = raw("/.well-known/openid-configuration");
        self.emulator.add_oidc_provider(discovery["issuer"].as_str().unwrap(), raw("/openid/v1/jwks")).unwrap();
    }

    /// `datazone-operator plan` for this world's namespace with `args`: its exit status and output.
    /// Waited for off the test's runtime thread, which serves the emulator it calls.
    pub async fn plan(&self, args: &[&str]) -> (i32, String) {
        let mut command = Command::new(BIN);
        command
            .args(["plan", "--cluster-name", "e2e", "--namespaces", &self.ns])
            .args(args)
            .envs(self.aws_env())
            .env_remove("AWS_PROFILE")
            .env("RUST_LOG", "warn");
        let out = tokio::task::spawn_blocking(move || command.output()).await.unwrap().unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        (out.status.code().unwrap_or(-1), text)
    }

    /// A data product of this world on prod-dwh: `tables` of one schema of `database`.
    pub fn product(
        &self,
        name: &str,
        project: &str,
        database: &str,
        schema: &str,
        tables: &[&str],
    ) -> RedshiftDataProduct {
        serde_json::from_value(json!({
            "apiVersion": "dataproducts.dev/v1alpha1", "kind": "RedshiftDataProduct",
            "metadata": {"name": name, "namespace": self.ns},
            "spec": {
                "connectionRef": {"kind": "ClusterDataZoneConnection", "name": self.connection},
                "project": project,
                "redshift": {"clusterName": "prod-dwh", "database": database, "credentialsSecretArn": SECRET},
                "schemas": [{"name": schema, "tables": tables}]
            }
        }))
        .unwrap()
    }

    /// Server-side applies `product`.
    pub async fn apply(&self, product: &RedshiftDataProduct) {
        let name = product.name_any();
        self.products().patch(&name, &PatchParams::apply("e2e").force(), &Patch::Apply(product)).await.unwrap();
    }

    pub fn products(&self) -> Api<RedshiftDataProduct> {
        Api::namespaced(self.client.clone(), &self.ns)
    }

    /// `import-payload` (the real CLI) into this world's namespace, then server-side apply.
    /// Waits until the data product `name` is deleted (finalizer removed).
    pub async fn gone(&self, name: &str) {
        eventually(Duration::from_secs(60), || async {
            match self.products().get_opt(name).await.map_err(|e| e.to_string())? {
                None => Ok(()),
                Some(_) => Err(format!("{name} is still there")),
            }
        })
        .await;
    }

    pub async fn import(&self, payload: &str) -> Vec<String> {
        self.import_into(payload, "sales").await
    }

    /// `import-payload` of `payload` into `project`, then server-side apply.
    pub async fn import_into(&self, payload: &str, project: &str) -> Vec<String> {
        let out = Command::new(BIN)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args([
                "import-payload",
                payload,
                "--connection",
                &self.connection,
                "--connection-kind",
                "ClusterDataZoneConnection",
            ])
            .args([
                "--project",
                project,
                "--credentials-secret-arn",
                SECRET,
                "--namespace",
                &self.ns,
                "--deletion-policy",
                "Delete",
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let products: Vec<RedshiftDataProduct> =
            serde_saphyr::from_str_multiple(&String::from_utf8_lossy(&out.stdout)).unwrap();
        let mut names = Vec::new();
        for p in products {
            names.push(p.name_any());
            self.products().patch(&p.name_any(), &PatchParams::apply("e2e").force(), &Patch::Apply(&p)).await.unwrap();
        }
        names
    }

    pub async fn state(&self) -> Value {
        emulator_json(&self.emulator, "/_emulator/state").await
    }

    pub async fn calls(&self) -> Value {
        emulator_json(&self.emulator, "/_emulator/calls").await
    }

    /// Waits until `name`'s condition `type_` has `status` and `reason` for the current generation.
    pub async fn condition_is(&self, name: &str, type_: &str, status: &str, reason: &str) -> RedshiftDataProduct {
        eventually(Duration::from_secs(60), || async {
            let p = self.products().get(name).await.map_err(|e| e.to_string())?;
            let current = p.status.as_ref().is_some_and(|s| s.observed_generation == p.metadata.generation);
            match condition(&p, type_) {
                Some((s, r, _)) if s == status && r == reason && current => Ok(p),
                other => Err(format!("{name} {type_}: {other:?}")),
            }
        })
        .await
    }

    /// Waits until every named product is Ready for its current generation.
    pub async fn all_ready(&self, names: &[String]) -> Vec<RedshiftDataProduct> {
        eventually(Duration::from_secs(60), || async {
            let list = self.products().list(&ListParams::default()).await.map_err(|e| e.to_string())?;
            let (ready, waiting): (Vec<RedshiftDataProduct>, Vec<RedshiftDataProduct>) =
                list.items.into_iter().filter(|p| names.contains(&p.name_any())).partition(is_ready);
            if ready.len() == names.len() {
                Ok(ready)
            } else {
                // Say what the others wait for: a failure here is read from this message.
                let why: Vec<String> = waiting
                    .iter()
                    .map(|p| {
                        let ready = p.status.as_ref().and_then(|s| s.conditions.iter().find(|c| c.type_ == "Ready"));
                        let (reason, message) =
                            ready.map(|c| (c.reason.as_str(), c.message.as_str())).unwrap_or_default();
                        format!("{}: {reason}: {message}", p.name_any())
                    })
                    .collect();
                Err(format!("{} of {} Ready; {}", ready.len(), names.len(), why.join("; ")))
            }
        })
        .await
    }

    /// The operator's /metrics.
    pub async fn metrics(&self) -> String {
        body(&http_get(self.metrics_port, "/metrics").await.unwrap_or_default()).to_string()
    }

    /// Waits until the emulator has answered `operation` (e.g. `datazone:GetDataSource`) at least
    /// `at_least` times in all; returns the call counts then.
    pub async fn calls_reach(&self, operation: &str, at_least: u64) -> Value {
        eventually(Duration::from_secs(60), || async {
            let calls = self.calls().await;
            let n = count(&calls, operation);
            if n >= at_least { Ok(calls) } else { Err(format!("{operation}: {n} of {at_least}")) }
        })
        .await
    }

    /// Waits until the operator has resynced a healthy connection `n` more times, and returns
    /// how long that took: paces a test by the operator's own clock (its reconcile counter for
    /// DataZoneConnections), not a fixed sleep, also when every data product is stuck. The
    /// DataZoneConnection `clock` joins the namespace the first time; its passes make no AWS
    /// call once its lookups are cached.
    pub async fn resyncs(&self, n: u64) -> Duration {
        let clocks: Api<DataZoneConnection> = Api::namespaced(self.client.clone(), &self.ns);
        if clocks.get_opt("clock").await.unwrap().is_none() {
            let clock: DataZoneConnection = serde_json::from_value(json!({
                "apiVersion": "dataproducts.dev/v1alpha1", "kind": "DataZoneConnection",
                "metadata": {"name": "clock", "namespace": self.ns}, "spec": connection_spec("optional")
            }))
            .unwrap();
            clocks.create(&PostParams::default(), &clock).await.unwrap();
        }
        let series = "datazone_operator_reconciles_total{kind=\"DataZoneConnection\",result=\"ok\"}";
        let passes = || async { sample(&self.metrics().await, series).unwrap_or(0.0) as u64 };
        eventually(Duration::from_secs(30), || async {
            let clock = clocks.get("clock").await.map_err(|e| e.to_string())?;
            let ready = clock.status.as_ref().is_some_and(|s| {
                s.conditions.iter().any(|c| c.type_ == "Ready" && format!("{:?}", c.status) == "True")
            });
            if ready && passes().await > 0 { Ok(()) } else { Err("the clock connection is not Ready yet".to_string()) }
        })
        .await;
        let started = Instant::now();
        let before = passes().await;
        eventually(Duration::from_secs(60), || async {
            let now = passes().await;
            if now >= before + n { Ok(()) } else { Err(format!("{} of {n} resyncs", now - before)) }
        })
        .await;
        started.elapsed()
    }
}

pub fn is_ready(p: &RedshiftDataProduct) -> bool {
    let status = p.status.as_ref();
    status.is_some_and(|s| {
        s.observed_generation == p.metadata.generation
            && s.conditions.iter().any(|c| {
                c.type_ == "Ready"
                    && c.status == datazone_operator::crd::conditions::ConditionStatus::True
                    && c.observed_generation == p.metadata.generation
            })
    })
}

pub fn condition(p: &RedshiftDataProduct, type_: &str) -> Option<(String, String, String)> {
    p.status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == type_)
        .map(|c| (format!("{:?}", c.status), c.reason.clone(), c.message.clone()))
}

/// The emulator's control API answer to `GET path`.
pub async fn emulator_json(emulator: &Emulator, path: &str) -> Value {
    let response = http_get(emulator.addr.port(), path).await.unwrap();
    serde_json::from_str(body(&response)).unwrap_or(Value::Null)
}

/// Published assets in the emulator, by database.
pub fn published(state: &Value) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for a in state["assets"].as_array().unwrap() {
        if a["published"] == true {
            out.entry(a["database"].as_str().unwrap().to_string())
                .or_default()
                .insert(a["name"].as_str().unwrap().to_string());
        }
    }
    out
}

/// Data sources this operator made (the environments' default ones excluded).
/// The environments the operator made: those of the V1 domain (a V2 project's Tooling
/// environment comes with the project).
pub fn v1_environments(state: &Value) -> usize {
    let v1 = |e: &&Value| e["environmentProfileId"].as_str().is_some_and(|p| !p.is_empty());
    state["environments"].as_array().map(|all| all.iter().filter(v1).count()).unwrap_or(0)
}

/// The assets the reference payload (`examples/payloads/three-databases.json`) publishes, per
/// database: the mixed case (all tables, one view) leaves `v_trial_balance` out.
pub fn reference_assets() -> BTreeMap<String, BTreeSet<String>> {
    [
        ("sales", set(&["orders", "customers", "v_orders"])),
        ("marketing", set(&["campaigns", "clicks", "v_campaign_roi"])),
        ("finance", set(&["journal_entries", "accounts", "v_monthly_close"])),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

pub fn ours(state: &Value) -> Vec<Value> {
    state["dataSources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["description"].as_str().is_some_and(|t| t.contains("managed-by=datazone-operator")))
        .cloned()
        .collect()
}

pub fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// How often the emulator answered `operation` (`service:Operation`).
pub fn count(calls: &Value, operation: &str) -> u64 {
    calls[operation].as_u64().unwrap_or(0)
}

/// The calls made between two readings of the emulator's counts.
pub fn delta(before: &Value, after: &Value) -> Value {
    let mut out = serde_json::Map::new();
    for (k, v) in after.as_object().unwrap() {
        let n = v.as_u64().unwrap_or(0) - count(before, k);
        if n > 0 {
            out.insert(k.clone(), n.into());
        }
    }
    Value::Object(out)
}

/// Every DataZone call the emulator answered.
pub fn datazone_calls(c: &Value) -> u64 {
    c.as_object().unwrap().iter().filter(|(k, _)| k.starts_with("datazone:")).map(|(_, v)| v.as_u64().unwrap()).sum()
}

/// The DataZone calls by operation, for a failure message or a printed budget.
pub fn by_operation(c: &Value) -> String {
    let ops: Vec<String> = c
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| k.starts_with("datazone:"))
        .map(|(k, v)| format!("{}={v}", k.trim_start_matches("datazone:")))
        .collect();
    ops.join(" ")
}

/// `n` data products on prod-dwh/sales (one shared environment), each naming one table.
pub async fn many(w: &World, which: std::ops::Range<usize>) -> Vec<String> {
    let tables = ["orders", "customers", "order_items"];
    let mut names = Vec::new();
    for i in which {
        let name = format!("orders-{i:02}");
        let mut product = w.product(&name, "sales", "sales", "public", &[tables[i % tables.len()]]);
        product.spec.deletion_policy = DeletionPolicy::Delete;
        w.apply(&product).await;
        names.push(name);
    }
    names
}
