//! End to end against a real kube-apiserver + etcd (`make e2e` starts one with
//! scripts/local-cluster, applies crds/, then runs these with `--ignored`). They fail, never
//! skip, when no cluster is reachable.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Client;
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use kube::core::GroupVersionKind;
use kube::discovery::{self, Scope};
use kube::runtime::wait::{await_condition, conditions};

use common::{KillOnDrop, client, eventually, free_port, http_get, repo_path};

const MANAGER: &str = "datazone-operator-e2e";

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    files
}

fn documents(path: &Path) -> Vec<DynamicObject> {
    let text = std::fs::read_to_string(path).unwrap();
    serde_saphyr::from_str_multiple(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

async fn ensure_namespace(client: &Client, name: &str) {
    let api: Api<Namespace> = Api::all(client.clone());
    let ns: Namespace = serde_json::from_value(serde_json::json!({"metadata": {"name": name}})).unwrap();
    match api.create(&PostParams::default(), &ns).await {
        Ok(_) => {}
        Err(kube::Error::Api(status)) if status.code == 409 => {}
        Err(e) => panic!("creating namespace {name}: {e}"),
    }
}

/// The Api for `object`'s kind and namespace, from the API server's REST mapping.
async fn api_for(client: &Client, object: &DynamicObject) -> Result<Api<DynamicObject>, kube::Error> {
    let types = object.types.as_ref().expect("apiVersion and kind");
    let gvk = GroupVersionKind::try_from(types).expect("apiVersion group/version");
    let (resource, capabilities) = discovery::pinned_kind(client, &gvk).await?;
    Ok(match (capabilities.scope, object.metadata.namespace.as_deref()) {
        (Scope::Namespaced, Some(ns)) => Api::namespaced_with(client.clone(), ns, &resource),
        (Scope::Namespaced, None) => Api::default_namespaced_with(client.clone(), &resource),
        (Scope::Cluster, _) => Api::all_with(client.clone(), &resource),
    })
}

/// Server-side apply, as GitOps tools and `kubectl apply --server-side` do.
async fn apply(client: &Client, object: &DynamicObject) -> Result<DynamicObject, kube::Error> {
    let name = object.metadata.name.as_deref().expect("metadata.name");
    api_for(client, object).await?.patch(name, &PatchParams::apply(MANAGER).force(), &Patch::Apply(object)).await
}

/// What client-side `kubectl apply` does: create when absent, else a JSON merge patch.
/// (Server-side apply answers duplicate list keys with a 500 before validation runs, so the
/// admission messages are checked on this path.)
async fn create_or_merge(client: &Client, object: &DynamicObject) -> Result<DynamicObject, kube::Error> {
    let api = api_for(client, object).await?;
    let name = object.metadata.name.as_deref().expect("metadata.name");
    match api.get_opt(name).await? {
        None => api.create(&PostParams::default(), object).await,
        Some(_) => api.patch(name, &PatchParams::default(), &Patch::Merge(object)).await,
    }
}

fn kubectl_result(args: &[&str]) -> Result<String, String> {
    let kubectl = std::env::var("KUBECTL").expect("KUBECTL is not set: run these tests with `make e2e`");
    let out = Command::new(&kubectl).args(args).output().unwrap_or_else(|e| panic!("{kubectl}: {e}"));
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!("kubectl {args:?}: {}", String::from_utf8_lossy(&out.stderr)))
    }
}

fn kubectl(args: &[&str]) -> String {
    kubectl_result(args).unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
#[ignore = "needs a real API server: make e2e"]
async fn every_crd_becomes_established() {
    let client = client().await;
    let crds: Api<CustomResourceDefinition> = Api::all(client);
    for crd in datazone_operator::crd::all_crds() {
        let name = crd.metadata.name.unwrap();
        let established = await_condition(crds.clone(), &name, conditions::is_crd_established());
        tokio::time::timeout(Duration::from_secs(30), established)
            .await
            .unwrap_or_else(|_| panic!("{name} not Established within 30s (was crds/ applied?)"))
            .unwrap();
    }
}

/// Server-side applies every example (connections and data products); returns how many objects.
async fn apply_examples(client: &Client) -> usize {
    for ns in ["team-sales", "team-marketing"] {
        ensure_namespace(client, ns).await;
    }
    let mut applied = 0;
    for dir in ["examples/connections", "examples/dataproducts", "examples/glossaries"] {
        for path in yaml_files(&repo_path(dir)) {
            for object in documents(&path) {
                apply(client, &object).await.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                applied += 1;
            }
        }
    }
    applied
}

#[tokio::test]
#[ignore = "needs a real API server: make e2e"]
async fn every_example_is_accepted_by_server_side_apply() {
    let applied = apply_examples(&client().await).await;
    assert!(applied >= 6, "applied {applied} example objects");
}

#[tokio::test]
#[ignore = "needs a real API server: make e2e"]
async fn every_invalid_manifest_is_rejected_with_its_message() {
    let client = client().await;
    ensure_namespace(&client, "e2e-invalid").await;
    let files = yaml_files(&repo_path("tests/e2e/invalid"));
    assert!(files.len() >= 30, "one invalid manifest per admission rule");
    let mut failures = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let expect = text
            .lines()
            .find_map(|l| l.strip_prefix("# expect: "))
            .unwrap_or_else(|| panic!("{} has no `# expect:` line", path.display()))
            .to_string();
        let docs = documents(&path);
        let (last, setup) = docs.split_last().expect("at least one document");
        for object in setup {
            create_or_merge(&client, object)
                .await
                .unwrap_or_else(|e| panic!("{}: setup document refused: {e}", path.display()));
        }
        match create_or_merge(&client, last).await {
            Ok(_) => failures.push(format!("{}: accepted, expected rejection with {expect:?}", path.display())),
            Err(kube::Error::Api(status)) if status.code == 422 && status.message.contains(&expect) => {
                println!("{}: {}", path.file_name().unwrap().to_string_lossy(), status.message);
            }
            Err(e) => failures.push(format!("{}: expected {expect:?}, got: {e}", path.display())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
#[ignore = "needs a real API server: make e2e"]
async fn kubectl_shows_printer_columns_and_field_docs() {
    apply_examples(&client().await).await;
    let table = kubectl(&["get", "rdp", "-A"]);
    let header = table.lines().next().unwrap_or_default();
    for column in ["READY", "REASON", "CLUSTER", "DATABASE", "DATASOURCE", "LAST RUN", "ASSETS", "AGE"] {
        assert!(header.contains(column), "`kubectl get rdp -A` lacks {column}:\n{table}");
    }
    let row =
        table.lines().find(|l| l.contains("sales-orders")).unwrap_or_else(|| panic!("no sales-orders row:\n{table}"));
    assert!(row.contains("prod-dwh") && row.contains("sales"), "cluster and database columns: {row}");

    // The OpenAPI document of a new CRD is published a few seconds after it is Established.
    let explain = eventually(Duration::from_secs(60), || async {
        kubectl_result(&["explain", "redshiftdataproduct.spec.schemas"])
    })
    .await;
    for text in ["addAllTables", "Publish every table of the schema", "views", "Individual tables to publish"] {
        assert!(
            explain.contains(text),
            "`kubectl explain redshiftdataproduct.spec.schemas` lacks {text:?}:\n{explain}"
        );
    }
}

#[tokio::test]
#[ignore = "needs a real API server: make e2e"]
async fn status_subresource_keeps_spec_and_status_apart() {
    use datazone_operator::crd::RedshiftDataProduct;
    let client = client().await;
    apply_examples(&client).await;
    let api: Api<RedshiftDataProduct> = Api::namespaced(client, "team-sales");
    let before = api.get("sales-orders").await.unwrap();
    let status = serde_json::json!({
        "apiVersion": "dataproducts.dev/v1alpha1", "kind": "RedshiftDataProduct",
        "status": {"observedGeneration": before.metadata.generation, "dataSourceId": "ds-e2e", "publishedAssetCount": 3}
    });
    let after = api
        .patch_status("sales-orders", &PatchParams::apply("datazone-operator").force(), &Patch::Apply(&status))
        .await
        .unwrap();
    assert_eq!(after.metadata.generation, before.metadata.generation, "a status write does not bump generation");
    assert_eq!(after.status.as_ref().and_then(|s| s.data_source_id.as_deref()), Some("ds-e2e"));
    let row = kubectl(&["get", "rdp", "-n", "team-sales", "sales-orders", "--no-headers"]);
    assert!(row.contains("ds-e2e") && row.split_whitespace().any(|c| c == "3"), "DataSource and Assets columns: {row}");
}

#[tokio::test]
#[ignore = "needs a real API server: make e2e"]
async fn operator_binary_watches_its_scope_and_reports_ready_and_counts() {
    let client = client().await;
    // A namespace of its own, so its status writes touch nothing another test looks at.
    let ns = "e2e-watch";
    ensure_namespace(&client, ns).await;
    let path = repo_path("examples/dataproducts/explicit-tables-and-views.yaml");
    for mut object in documents(&path) {
        object.metadata.namespace = Some(ns.into());
        apply(&client, &object).await.unwrap();
    }
    let (metrics_port, health_port) = (free_port(), free_port());
    let _operator = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_datazone-operator"))
            .args(["run", "--cluster-name", "e2e", "--log-format", "json", "--namespaces", ns])
            .args(["--metrics-addr", &format!("127.0.0.1:{metrics_port}")])
            .args(["--health-addr", &format!("127.0.0.1:{health_port}")])
            // No DataZone here: AWS is a closed loopback port, never the network.
            .env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{}", free_port()))
            .env("AWS_REGION", "eu-central-1")
            .env("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE000000000")
            .env("AWS_SECRET_ACCESS_KEY", "none")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    eventually(Duration::from_secs(30), || async {
        let response = http_get(health_port, "/readyz").await?;
        if response.starts_with("HTTP/1.1 200") { Ok(()) } else { Err(response) }
    })
    .await;
    eventually(Duration::from_secs(30), || async {
        let metrics = http_get(metrics_port, "/metrics").await?;
        if metrics.contains("datazone_operator_watched_objects{kind=\"RedshiftDataProduct\"} 1") {
            Ok(())
        } else {
            Err(format!("want exactly the one data product of {ns} in:\n{metrics}"))
        }
    })
    .await;
}
