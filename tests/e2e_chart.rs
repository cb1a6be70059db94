//! The Helm chart end to end, against the real API server (`make e2e`): its ServiceAccount's
//! RBAC reconciles the payload and allows no more, two replicas with leader election hand over
//! (on SIGTERM, at once and after the last pass), and `helm upgrade` applies a changed CRD schema while uninstall keeps the CRD.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::world::{is_ready, ours, world};
use common::{eventually, free_port, run_tool, tool};
use kube::Api;
use kube::api::{Patch, PatchParams};
use serde_json::{Value, json};

#[tokio::test]
#[ignore = "needs a real API server: make e2e"]
async fn the_charts_rbac_is_enough_and_no_broader() {
    let mut w = world("chart", "optional").await;
    // Only the chart's identity may reconcile here: stop the admin-credentialed operator.
    w.operator = None;
    let release_ns = format!("{}-system", w.ns);
    let chart = format!("{}/charts/datazone-operator", env!("CARGO_MANIFEST_DIR"));
    run_tool(
        "helm",
        &[
            "install",
            "dz",
            &chart,
            "--namespace",
            &release_ns,
            "--create-namespace",
            "--set",
            "crds.install=false",
            "--set",
            &format!("watchNamespaces={{{}}}", w.ns),
            "--set",
            "clusterName=e2e",
            "--wait=false",
        ],
    );
    let sa = "dz-datazone-operator";
    let token = run_tool("kubectl", &["create", "token", sa, "-n", &release_ns, "--duration", "1h"]);

    // A kubeconfig with the ServiceAccount's token instead of the admin's.
    let admin = std::fs::read_to_string(std::env::var("KUBECONFIG").unwrap()).unwrap();
    let mut config: Value = serde_saphyr::from_str(&admin).unwrap();
    config["users"][0]["user"] = json!({"token": token});
    let path = std::env::temp_dir().join(format!("{}.sa.kubeconfig", w.ns));
    std::fs::write(&path, serde_json::to_string(&config).unwrap()).unwrap();
    let whoami = run_tool(
        "kubectl",
        &["--kubeconfig", path.to_str().unwrap(), "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"],
    );
    assert_eq!(
        whoami,
        format!("system:serviceaccount:{release_ns}:{sa}"),
        "the operator runs as the chart's ServiceAccount"
    );
    w.kubeconfig = Some(path);
    w.start_operator();

    let names = w.import("examples/payloads/three-databases.json").await;
    w.all_ready(&names).await;
    assert_eq!(ours(&w.state().await).len(), 3, "the chart's ServiceAccount reconciled the payload");

    // …and may do no more than that.
    let who = format!("system:serviceaccount:{release_ns}:{sa}");
    let can = |args: &[&str]| {
        let mut all = vec!["auth", "can-i", "--as", who.as_str()];
        all.extend_from_slice(args);
        let out = Command::new(tool("kubectl")).args(&all).output().unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let ns = w.ns.clone();
    for (args, want) in [
        (vec!["patch", "redshiftdataproducts.dataproducts.dev", "-n", &ns], "yes"),
        (vec!["patch", "redshiftdataproducts.dataproducts.dev", "--subresource=status", "-n", &ns], "yes"),
        (vec!["create", "events.events.k8s.io", "-n", &ns], "yes"),
        (vec!["patch", "events.events.k8s.io", "-n", &ns], "no"),
        (vec!["get", "namespaces"], "yes"),
        (vec!["watch", "namespaces"], "yes"),
        (vec!["get", "secrets", "-n", &ns], "no"),
        (vec!["list", "secrets", "--all-namespaces"], "no"),
        (vec!["delete", "customresourcedefinitions.apiextensions.k8s.io"], "no"),
        (vec!["create", "customresourcedefinitions.apiextensions.k8s.io"], "no"),
        (vec!["patch", "redshiftdataproducts.dataproducts.dev", "-n", "default"], "no"),
        (vec!["create", "clusterdatazoneconnections.dataproducts.dev"], "no"),
        (vec!["watch", "datazoneglossaries.dataproducts.dev", "-n", &ns], "yes"),
        (vec!["patch", "datazoneglossaries.dataproducts.dev", "--subresource=status", "-n", &ns], "yes"),
        (vec!["delete", "datazoneglossaries.dataproducts.dev", "-n", &ns], "no"),
        (vec!["patch", "datazonesubscriptions.dataproducts.dev", "-n", &ns], "yes"),
        (vec!["patch", "datazonesubscriptions.dataproducts.dev", "--subresource=status", "-n", &ns], "yes"),
        (vec!["create", "datazonesubscriptions.dataproducts.dev", "-n", &ns], "no"),
        (vec!["create", "deployments.apps", "-n", &ns], "no"),
        (vec!["create", "namespaces"], "no"),
        (vec!["update", "clusterroles.rbac.authorization.k8s.io"], "no"),
        (vec!["create", "configmaps", "-n", &ns], "no"),
    ] {
        assert_eq!(can(&args), want, "kubectl auth can-i {args:?} as {who}");
    }
}

#[tokio::test]
#[ignore = "needs a real API server: make e2e"]
async fn two_replicas_one_reconciles_and_the_other_takes_over() {
    use k8s_openapi::api::coordination::v1::Lease;
    let mut w = world("leader", "optional").await;
    w.operator = None;
    let lease = format!("lease-{}", w.ns);
    let args = [
        "--leader-elect",
        "--leader-election-namespace",
        &w.ns,
        "--leader-election-lease",
        &lease,
        "--lease-duration",
        "6s",
    ];
    let leases: Api<Lease> = Api::namespaced(w.client.clone(), &w.ns);
    let holder = || async {
        leases
            .get_opt(&lease)
            .await
            .ok()
            .flatten()
            .and_then(|l| l.spec)
            .and_then(|s| s.holder_identity)
            .unwrap_or_default()
    };
    // POD_NAME names the candidate, as in a Deployment.
    let spawn = |name: &str| w.spawn_operator(free_port(), &args, &[("POD_NAME", name)], name);
    let a = spawn("replica-a");
    eventually(Duration::from_secs(30), || async {
        if holder().await == "replica-a" { Ok(()) } else { Err("no leader".to_string()) }
    })
    .await;
    let _b = spawn("replica-b");

    let names = w.import("examples/payloads/three-databases.json").await;
    w.all_ready(&names).await;
    assert_eq!(holder().await, "replica-a");
    let log_b = std::fs::read_to_string(std::env::temp_dir().join(format!("{}.replica-b.log", w.ns))).unwrap();
    assert!(log_b.contains("standing by"), "replica-b waits: {log_b}");
    assert!(!log_b.contains("\"message\":\"event\""), "replica-b reconciled nothing while replica-a led");

    // The leader dies; the standby takes over within the lease duration (+ one renew period).
    drop(a);
    let killed = Instant::now();
    eventually(Duration::from_secs(30), || async {
        if holder().await == "replica-b" { Ok(()) } else { Err("no handover".to_string()) }
    })
    .await;
    let handover = killed.elapsed();
    println!("leader handover took {handover:?} with a 6 s lease");
    assert!(handover <= Duration::from_secs(6 + 2 + 2), "handover within the lease duration: {handover:?}");

    // The new leader reconciles: a spec change goes through, without duplicates.
    let before = w.products().get("prod-dwh-sales").await.unwrap().status.unwrap().last_run.unwrap().id;
    let patch = json!({"spec": {"schemas": [{"name": "public", "tables": ["orders", "customers", "order_items"]}]}});
    w.products().patch("prod-dwh-sales", &PatchParams::default(), &Patch::Merge(&patch)).await.unwrap();
    eventually(Duration::from_secs(60), || async {
        let p = w.products().get("prod-dwh-sales").await.map_err(|e| e.to_string())?;
        let run = p.status.as_ref().and_then(|s| s.last_run.clone()).map(|r| r.id);
        if is_ready(&p) && run.as_deref() != Some(before.as_str()) { Ok(()) } else { Err("not yet".to_string()) }
    })
    .await;
    let state = w.state().await;
    assert_eq!(ours(&state).len(), 3, "no duplicate data sources across the handover");
    assert_eq!(state["environmentProfiles"].as_array().unwrap().len(), 1);
}

#[tokio::test]
#[ignore = "needs a real API server: make e2e"]
async fn a_rolling_upgrade_of_the_default_install_never_runs_two_reconcilers() {
    use k8s_openapi::api::coordination::v1::Lease;
    use k8s_openapi::api::core::v1::Event;
    // The chart's defaults: leader election on, the Deployment's default RollingUpdate.
    let chart = format!("{}/charts/datazone-operator", env!("CARGO_MANIFEST_DIR"));
    // No --kube-version: the chart's `kubeVersion` holds against helm's own default, as with a
    // released helm.
    let rendered = run_tool("helm", &["template", "dz", &chart, "--namespace", "datazone-system"]);
    assert!(rendered.contains("- --leader-elect"), "leader election is on by default");
    assert!(!rendered.contains("Recreate"), "the default strategy rolls");

    // The old pod leads; the new one starts beside it, as a rolling update has them.
    let mut w = world("rolling", "optional").await;
    w.operator = None;
    let lease = format!("dz-datazone-operator-{}", w.ns);
    let args = ["--leader-elect", "--leader-election-namespace", &w.ns, "--leader-election-lease", &lease];
    let args = [&args[..], &["--lease-duration", "6s"]].concat();
    let leases: Api<Lease> = Api::namespaced(w.client.clone(), &w.ns);
    let holder = || async {
        let lease = leases.get_opt(&lease).await.ok().flatten();
        lease.and_then(|l| l.spec).and_then(|s| s.holder_identity).unwrap_or_default()
    };
    let spawn = |name: &str| w.spawn_operator(free_port(), &args, &[("POD_NAME", name)], name);
    let mut old = spawn("pod-old");
    eventually(Duration::from_secs(30), || async {
        if holder().await == "pod-old" { Ok(()) } else { Err("no leader".to_string()) }
    })
    .await;
    let names = w.import("examples/payloads/three-databases.json").await;
    let new = spawn("pod-new");

    // The rollout stops the old pod while its passes are in flight: SIGTERM, as the kubelet sends.
    w.calls_reach("datazone:CreateDataSource", 1).await;
    let stopped = Instant::now();
    let pid = old.0.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let exit = tokio::task::spawn_blocking(move || old.0.wait()).await.unwrap().unwrap();
    assert!(exit.success(), "the old pod finishes its passes and exits 0: {exit:?}");
    eventually(Duration::from_secs(30), || async {
        if holder().await == "pod-new" { Ok(()) } else { Err(format!("holder: {}", holder().await)) }
    })
    .await;
    let handover = stopped.elapsed();
    println!("rolling upgrade: the new pod led {handover:?} after the old one was told to stop (6 s lease)");
    assert!(handover < Duration::from_secs(6), "released, not expired: {handover:?}");
    w.all_ready(&names).await;

    // One reconciler at a time: the new pod led only after the old one had released the lease,
    // and nothing was done twice.
    let log = |name: &str| std::fs::read_to_string(std::env::temp_dir().join(format!("{}.{name}.log", w.ns))).unwrap();
    let at = |log: &str, message: &str| common::logged_at(log.lines(), message);
    let released = at(&log("pod-old"), "released the lease").expect("the old pod released the lease");
    let led = at(&log("pod-new"), "became the leader").expect("the new pod became the leader");
    assert!(released <= led, "released at {released}, taken over at {led}");
    drop(new);
    let state = w.state().await;
    assert_eq!(ours(&state).len(), 3, "one data source per data product");
    assert_eq!(state["dataSourceRuns"].as_array().unwrap().len(), 3, "one run per data source");
    let events: Api<Event> = Api::namespaced(w.client.clone(), &w.ns);
    let started = events.list(&Default::default()).await.unwrap();
    let runs_started = started.items.iter().filter(|e| e.reason.as_deref() == Some("RunStarted")).count();
    assert_eq!(runs_started, 3, "one RunStarted Event per data product");
}

/// Copies `from` into `to` recursively (the chart, to change it as a new chart version would).
fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[tokio::test]
#[ignore = "needs a real API server: make e2e"]
async fn helm_upgrade_applies_a_changed_crd_schema_and_uninstall_keeps_the_crd() {
    // The chart's RedshiftDataProduct CRD under a group of its own, so the suite's CRDs stay as
    // they are: version 1 is the chart as shipped, version 2 adds `spec.owner` to the schema.
    let id = std::process::id();
    let group = format!("u{id}.upgrade.example");
    let crd = format!("redshiftdataproducts.{group}");
    let ns = format!("e2e-upgrade-{id}");
    let work = std::env::temp_dir().join(format!("chart-upgrade-{id}"));
    let chart = work.join("chart");
    let _ = std::fs::remove_dir_all(&work);
    copy_dir(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("charts/datazone-operator"), &chart);
    let crds = chart.join("templates/crds");
    let template = crds.join("dataproducts.dev_redshiftdataproducts.yaml");
    for entry in std::fs::read_dir(&crds).unwrap() {
        let path = entry.unwrap().path();
        if path != template {
            std::fs::remove_file(path).unwrap();
        }
    }
    let v1 = std::fs::read_to_string(&template).unwrap().replace("dataproducts.dev", &group);
    std::fs::write(&template, &v1).unwrap();

    // One data product of that kind, with the field version 2 adds.
    let example = std::fs::read_to_string(format!(
        "{}/examples/dataproducts/explicit-tables-and-views.yaml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
    .replace("dataproducts.dev/", &format!("{group}/"))
    .replace("namespace: team-sales", &format!("namespace: {ns}"))
    .replace("\nspec:\n", "\nspec:\n  owner: team-sales\n");
    let manifest = work.join("product.yaml");
    std::fs::write(&manifest, example).unwrap();
    let apply = || {
        Command::new(tool("kubectl"))
            .args(["apply", "--server-side", "--field-manager=e2e", "-f", manifest.to_str().unwrap()])
            .output()
            .unwrap()
    };
    let helm = |verb: &str| {
        run_tool(
            "helm",
            &[verb, "crd-upgrade", chart.to_str().unwrap(), "--namespace", &ns, "--create-namespace", "--wait=false"],
        )
    };
    let owner_in_schema = || {
        run_tool(
            "kubectl",
            &[
                "get",
                "crd",
                &crd,
                "-o",
                "jsonpath={.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.owner.type}",
            ],
        )
    };

    helm("install");
    run_tool("kubectl", &["wait", "--for=condition=Established", &format!("crd/{crd}"), "--timeout=30s"]);
    assert_eq!(owner_in_schema(), "", "version 1 has no spec.owner");
    let rejected = apply();
    assert!(!rejected.status.success(), "version 1's schema rejects spec.owner (strict field validation)");
    assert!(
        String::from_utf8_lossy(&rejected.stderr).contains("owner"),
        "{}",
        String::from_utf8_lossy(&rejected.stderr)
    );

    // The spec's first property, alphabetically.
    let marker = "            properties:\n              access:\n";
    assert!(v1.contains(marker), "the CRD template's layout changed; update this test");
    let v2 = v1.replacen(
        marker,
        "            properties:\n              owner:\n                description: The producer team.\n                type: string\n              access:\n",
        1,
    );
    std::fs::write(&template, v2).unwrap();
    helm("upgrade");
    assert_eq!(owner_in_schema(), "string", "helm upgrade applied the new schema");
    eventually(Duration::from_secs(30), || async {
        let out = apply();
        if out.status.success() { Ok(()) } else { Err(String::from_utf8_lossy(&out.stderr).into_owned()) }
    })
    .await;
    let stored = run_tool("kubectl", &["get", &crd, "sales-orders", "-n", &ns, "-o", "jsonpath={.spec.owner}"]);
    assert_eq!(stored, "team-sales", "the new field is stored, not pruned");

    // Uninstalling the release keeps the CRD (and with it every data product).
    run_tool("helm", &["uninstall", "crd-upgrade", "--namespace", &ns]);
    let kept = run_tool("kubectl", &["get", &crd, "sales-orders", "-n", &ns, "-o", "name"]);
    assert!(kept.ends_with("/sales-orders"), "the data product outlives the release: {kept}");
    run_tool("kubectl", &["delete", "crd", &crd, "--wait=false"]);
    let _ = std::fs::remove_dir_all(&work);
}
