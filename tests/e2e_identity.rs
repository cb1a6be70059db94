//! The identities the operator has in a pod, end to end: what the chart renders for each way of
//! getting an AWS identity, and the operator running with exactly that (no static AWS key) against
//! the emulator's STS and Pod Identity endpoint, with tokens the real API server issues.

mod common;

use std::collections::BTreeMap;

use common::run_tool;
use serde_json::Value;

/// The operator container's environment (name → value) and volumes of the chart rendered with
/// `values`, and the ServiceAccount's annotations.
struct Rendered {
    env: BTreeMap<String, String>,
    mounts: Vec<Value>,
    volumes: Vec<Value>,
    annotations: BTreeMap<String, String>,
}

fn render(values: &[&str]) -> Rendered {
    let chart = format!("{}/charts/datazone-operator", env!("CARGO_MANIFEST_DIR"));
    let mut args = vec!["template", "datazone-operator", chart.as_str(), "--namespace", "datazone-system"];
    for v in values {
        args.extend(["--set", v]);
    }
    let out = run_tool("helm", &args);
    let docs: Vec<Value> = serde_saphyr::from_str_multiple(&out).expect("helm renders YAML");
    let deployment = docs.iter().find(|d| d["kind"] == "Deployment").expect("a Deployment");
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    let env = container["env"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| Some((e["name"].as_str()?.to_string(), e["value"].as_str()?.to_string())))
        .collect();
    let list = |v: &Value| v.as_array().cloned().unwrap_or_default();
    let account = docs.iter().find(|d| d["kind"] == "ServiceAccount").expect("a ServiceAccount");
    let annotations = account["metadata"]["annotations"]
        .as_object()
        .map(|a| a.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
        .unwrap_or_default();
    Rendered {
        env,
        mounts: list(&container["volumeMounts"]),
        volumes: list(&deployment["spec"]["template"]["spec"]["volumes"]),
        annotations,
    }
}

const IDENTITY_ENV: [&str; 6] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
];

fn identity_env(r: &Rendered) -> BTreeMap<&str, &str> {
    IDENTITY_ENV.iter().filter_map(|k| r.env.get(*k).map(|v| (*k, v.as_str()))).collect()
}

#[tokio::test]
#[ignore = "needs the suite's helm: make e2e"]
async fn the_chart_renders_exactly_what_each_identity_needs() {
    let role = "arn:aws:iam::222222222222:role/datazone-operator";
    let irsa = render(&[&format!("serviceAccount.roleArn={role}")]);
    assert!(identity_env(&irsa).is_empty(), "EKS's webhook injects IRSA: {:?}", identity_env(&irsa));
    assert!(irsa.volumes.is_empty() && irsa.mounts.is_empty(), "no token volume of the chart's own");
    assert_eq!(irsa.annotations.get("eks.amazonaws.com/role-arn").map(String::as_str), Some(role));

    let web = render(&[&format!("serviceAccount.roleArn={role}"), "aws.identity=webIdentity"]);
    assert_eq!(
        identity_env(&web),
        BTreeMap::from([
            ("AWS_ROLE_ARN", role),
            ("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/secrets/eks.amazonaws.com/serviceaccount/token")
        ])
    );
    assert_eq!(web.volumes.len(), 1);
    let token = &web.volumes[0]["projected"]["sources"][0]["serviceAccountToken"];
    assert_eq!((token["audience"].as_str(), token["path"].as_str()), (Some("sts.amazonaws.com"), Some("token")));
    assert_eq!(web.mounts[0]["mountPath"], "/var/run/secrets/eks.amazonaws.com/serviceaccount");
    assert_eq!(web.mounts[0]["readOnly"], true);

    let pod = render(&["aws.identity=podIdentity"]);
    assert_eq!(
        identity_env(&pod),
        BTreeMap::from([
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://169.254.170.23/v1/credentials"),
            (
                "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token"
            )
        ])
    );
    let token = &pod.volumes[0]["projected"]["sources"][0]["serviceAccountToken"];
    assert_eq!(token["audience"].as_str(), Some("pods.eks.amazonaws.com"));
    assert_eq!(pod.mounts[0]["mountPath"], "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount");
    assert!(!pod.annotations.contains_key("eks.amazonaws.com/role-arn"), "Pod Identity needs no annotation");
}

/// Installs the chart's ServiceAccount and RBAC (its Deployment has no kubelet to run it here) for
/// the world's namespace; the namespace it is in, and the ServiceAccount's name.
fn install_chart(w: &common::world::World, values: &[&str]) -> (String, String) {
    let release_ns = format!("{}-system", w.ns);
    // Its ClusterRoles are named after the release: one of its own per test.
    let release = w.ns.trim_start_matches("e2e-").to_string();
    let chart = format!("{}/charts/datazone-operator", env!("CARGO_MANIFEST_DIR"));
    let watch = format!("watchNamespaces={{{}}}", w.ns);
    let mut args = vec!["install", &release, &chart, "--namespace", &release_ns, "--create-namespace", "--wait=false"];
    for v in ["crds.install=false", "clusterName=e2e", watch.as_str()].iter().chain(values) {
        args.extend(["--set", v]);
    }
    run_tool("helm", &args);
    (release_ns, format!("{release}-datazone-operator"))
}

/// The files a pod of the ServiceAccount finds under /var/run/secrets/kubernetes.io/serviceaccount:
/// a token the API server issues, its CA, the namespace. The directory, and the API server's port.
fn service_account_files(release_ns: &str, sa: &str, name: &str) -> (std::path::PathBuf, String) {
    let dir = std::env::temp_dir().join(format!("{name}.serviceaccount"));
    std::fs::create_dir_all(&dir).unwrap();
    let token = run_tool("kubectl", &["create", "token", sa, "-n", release_ns, "--duration", "1h"]);
    std::fs::write(dir.join("token"), token).unwrap();
    std::fs::write(dir.join("namespace"), release_ns).unwrap();
    // scripts/local-cluster keeps its CA beside the kubeconfig.
    let kubeconfig = std::path::PathBuf::from(std::env::var("KUBECONFIG").unwrap());
    std::fs::copy(kubeconfig.with_file_name("pki").join("ca.crt"), dir.join("ca.crt")).unwrap();
    let admin: Value = serde_saphyr::from_str(&std::fs::read_to_string(&kubeconfig).unwrap()).unwrap();
    let server = admin["clusters"][0]["cluster"]["server"].as_str().unwrap();
    let port = server.rsplit(':').next().unwrap().trim_end_matches('/').to_string();
    (dir, port)
}

/// Runs `inner` as a pod's container would: in a mount namespace of its own where the
/// ServiceAccount's files are at the standard path, the root filesystem read-only, as user 65532
/// (the chart's securityContext), with no kubeconfig and `KUBERNETES_SERVICE_HOST/PORT` set;
/// `files` are more files to put under /var/run/secrets (`(path under it, source)`).
fn as_in_a_pod(
    inner: &std::process::Command,
    sa_dir: &std::path::Path,
    api_port: &str,
    files: &[(&str, &std::path::Path)],
) -> std::process::Command {
    const SETUP: &str = r#"set -e
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /run/secrets/kubernetes.io/serviceaccount /run/operator
cp "$SA_DIR/token" "$SA_DIR/ca.crt" "$SA_DIR/namespace" /run/secrets/kubernetes.io/serviceaccount/
for f in $EXTRA_FILES; do
  mkdir -p "$(dirname "/run/secrets/${f%%=*}")"; cp "${f#*=}" "/run/secrets/${f%%=*}"
done
chmod -R a+rX /run/secrets
cp "$1" /run/operator/datazone-operator; shift
mount -o remount,ro,bind /
exec setpriv --reuid 65532 --regid 65532 --clear-groups -- /run/operator/datazone-operator "$@"
"#;
    let mut command = std::process::Command::new("unshare");
    command.args(["--mount", "--propagation", "private", "--", "sh", "-c", SETUP, "sh"]);
    command.arg(inner.get_program()).args(inner.get_args());
    for (k, v) in inner.get_envs() {
        match v {
            Some(v) => command.env(k, v),
            None => command.env_remove(k),
        };
    }
    let extra: Vec<String> = files.iter().map(|(at, from)| format!("{at}={}", from.display())).collect();
    command
        .env_remove("KUBECONFIG")
        .env("HOME", "/nonexistent")
        .env("KUBERNETES_SERVICE_HOST", "127.0.0.1")
        .env("KUBERNETES_SERVICE_PORT", api_port)
        .env("SA_DIR", sa_dir)
        .env("EXTRA_FILES", extra.join(" "));
    command
}

#[tokio::test]
#[ignore = "needs a real API server: make e2e"]
async fn in_cluster_configuration_as_the_charts_service_account_non_root_on_a_read_only_root() {
    let mut w = common::world::world("incluster", "optional").await;
    w.operator = None;
    let (release_ns, sa) = install_chart(&w, &[]);
    let (sa_dir, api_port) = service_account_files(&release_ns, &sa, &w.ns);
    let metrics = common::free_port();
    let inner = w.operator_command(metrics, &[], &[]);
    let mut pod = as_in_a_pod(&inner, &sa_dir, &api_port, &[]);
    let _operator =
        common::KillOnDrop(pod.stdout(std::process::Stdio::null()).stderr(w.log_file("pod")).spawn().unwrap());
    w.metrics_port = metrics;

    // No kubeconfig reaches the process (KUBECONFIG unset, HOME empty): the in-cluster
    // configuration is its only way to the API server, with the chart's RBAC.
    let names = w.import("examples/payloads/three-databases.json").await;
    let ready = w.all_ready(&names).await;
    assert_eq!(ready.len(), 3, "reconciled through the in-cluster configuration");
}

#[tokio::test]
#[ignore = "needs a real API server: make e2e"]
async fn a_connection_s_tenancy_rules_refuse_before_any_call() {
    use datazone_operator::crd::ClusterDataZoneConnection;
    use kube::api::{Patch, PatchParams};
    let w = common::world::world("tenancy", "optional").await;
    let rules = serde_json::json!({"spec": {"allowed": [{
        "namespaceSelector": {"matchLabels": {"dataproducts.dev/datazone-access": w.ns}},
        "projects": ["sales"], "clusters": ["prod-dwh"], "databases": ["sales", "marketing"],
        "credentialsSecretArns": ["arn:aws:secretsmanager:eu-central-1:222222222222:secret:dz-redshift-*"],
    }]}});
    let connections: kube::Api<ClusterDataZoneConnection> = kube::Api::all(w.client.clone());
    connections.patch(&w.connection, &PatchParams::apply("e2e-tenancy"), &Patch::Merge(&rules)).await.unwrap();
    let before = w.calls().await;
    let refused = [
        ("project", "analytics", "prod-dwh", "sales", common::world::SECRET),
        ("cluster", "sales", "other-dwh", "sales", common::world::SECRET),
        ("database", "sales", "prod-dwh", "finance", common::world::SECRET),
        ("secret", "sales", "prod-dwh", "sales", "arn:aws:secretsmanager:eu-central-1:222222222222:secret:hr-XyZaBc"),
    ];
    for (what, project, cluster, database, secret) in refused {
        let mut p = w.product(&format!("refused-{what}"), project, database, "public", &["orders"]);
        p.spec.redshift.cluster_name = Some(cluster.into());
        p.spec.redshift.credentials_secret_arn = secret.into();
        w.apply(&p).await;
        let seen = w.condition_is(&format!("refused-{what}"), "ConnectionResolved", "False", "NotAllowed").await;
        let (_, _, message) = common::world::condition(&seen, "ConnectionResolved").unwrap();
        assert!(message.contains(&format!("allowed[0]: {what}")) || message.contains(what), "{what}: {message}");
        assert_eq!(common::world::condition(&seen, "Stalled").map(|c| c.0), Some("True".into()), "{what}");
    }
    // (The connection's own check of its changed spec reads: AssumeRole, ListDomains.)
    let refusals = common::world::delta(&before, &w.calls().await);
    let mutating: Vec<&String> = refusals
        .as_object()
        .unwrap()
        .keys()
        .filter(|op| {
            ["Create", "Update", "Put", "Start", "Delete"].iter().any(|m| op.starts_with(&format!("datazone:{m}")))
        })
        .collect();
    assert!(mutating.is_empty(), "no mutating call for a refused data product: {refusals}");
    assert_eq!(common::world::count(&refusals, "datazone:ListDataSources"), 0, "nor a read of its own: {refusals}");

    let allowed = w.product("allowed", "sales", "sales", "public", &["orders"]);
    w.apply(&allowed).await;
    w.all_ready(&["allowed".to_string()]).await;
    // The connection's status counts them at its next resync.
    common::eventually(std::time::Duration::from_secs(60), || async {
        let c = connections.get(&w.connection).await.map_err(|e| e.to_string())?;
        let s = c.status.unwrap_or_default();
        match (s.data_products, s.refused_data_products) {
            (Some(5), Some(4)) => Ok(()),
            other => Err(format!("counts {other:?}")),
        }
    })
    .await;
}

/// The producer account's role the operator runs as (the fixture's).
const OPERATOR_ROLE: &str = "arn:aws:iam::222222222222:role/datazone-operator";

/// The operator as the chart renders it with `values` would run in its pod: no static AWS key,
/// the identity environment the chart renders, the token `file` at `token_at` (under
/// /var/run/secrets); its log is `<ns>.<log>.log`.
fn operator_pod(
    w: &common::world::World,
    values: &[&str],
    release_ns: &str,
    sa: &str,
    token_at: &str,
    token: &str,
    log: &str,
) -> (common::KillOnDrop, u16) {
    let rendered = render(values);
    let (sa_dir, api_port) = service_account_files(release_ns, sa, &format!("{}-{log}", w.ns));
    let token_file = sa_dir.join("aws-token");
    std::fs::write(&token_file, token).unwrap();
    let env: Vec<(&str, &str)> = identity_env(&rendered).into_iter().collect();
    let metrics = common::free_port();
    let mut inner = w.operator_command(metrics, &[], &env);
    inner.env_remove("AWS_ACCESS_KEY_ID").env_remove("AWS_SECRET_ACCESS_KEY").env_remove("AWS_SESSION_TOKEN");
    let mut pod = as_in_a_pod(&inner, &sa_dir, &api_port, &[(token_at, &token_file)]);
    let child = pod.stdout(std::process::Stdio::null()).stderr(w.log_file(log)).spawn().unwrap();
    (common::KillOnDrop(child), metrics)
}

fn create_token(release_ns: &str, sa: &str, audience: &str) -> String {
    run_tool("kubectl", &["create", "token", sa, "-n", release_ns, "--audience", audience, "--duration", "1h"])
}

/// Waits until `name`'s ConnectionResolved is False; its reason and message.
async fn refused(w: &common::world::World, name: &str) -> (String, String) {
    common::eventually(std::time::Duration::from_secs(60), || async {
        let p = w.products().get(name).await.map_err(|e| e.to_string())?;
        match common::world::condition(&p, "ConnectionResolved") {
            Some((s, reason, message)) if s == "False" => Ok((reason, message)),
            other => Err(format!("{other:?}")),
        }
    })
    .await
}

/// A token of `issuer` (a key of the test's own, registered with the emulator) for `subject`,
/// expired a minute ago.
fn expired_token(w: &common::world::World, issuer: &str, subject: &str) -> String {
    use base64::Engine;
    use ring::rand::SystemRandom;
    use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
    let point = pair.public_key().as_ref();
    let jwks = serde_json::json!({"keys": [{"kty": "EC", "crv": "P-256", "kid": "test", "alg": "ES256",
        "x": b64.encode(&point[1..33]), "y": b64.encode(&point[33..])}]});
    w.emulator.add_oidc_provider(issuer, jwks).unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let claims = serde_json::json!({"iss": issuer, "sub": subject, "aud": ["sts.amazonaws.com"],
        "iat": now - 3660, "nbf": now - 3660, "exp": now - 60});
    let input = format!(
        "{}.{}",
        b64.encode(serde_json::json!({"alg": "ES256", "kid": "test", "typ": "JWT"}).to_string()),
        b64.encode(claims.to_string())
    );
    let signature = pair.sign(&rng, input.as_bytes()).unwrap();
    format!("{input}.{}", b64.encode(signature.as_ref()))
}

#[tokio::test]
#[ignore = "needs a real API server: make e2e"]
async fn irsa_as_eks_sets_it_up_reaches_ready_without_a_static_key() {
    let mut w = common::world::world("irsa", "optional").await;
    w.operator = None;
    w.trust_the_cluster();
    let role = format!("serviceAccount.roleArn={OPERATOR_ROLE}");
    let values = [role.as_str(), "aws.identity=webIdentity"];
    let (release_ns, sa) = install_chart(&w, &values);
    let subject = format!("system:serviceaccount:{release_ns}:{sa}");
    w.emulator.trust_web_identity(OPERATOR_ROLE, &subject).unwrap();
    let token_at = "eks.amazonaws.com/serviceaccount/token";
    let before = w.calls().await;
    let (pod, metrics) = operator_pod(
        &w,
        &values,
        &release_ns,
        &sa,
        token_at,
        &create_token(&release_ns, &sa, "sts.amazonaws.com"),
        "irsa",
    );
    w.metrics_port = metrics;
    let names = w.import("examples/payloads/three-databases.json").await;
    w.all_ready(&names).await;
    let calls = common::world::delta(&before, &w.calls().await);
    assert!(common::world::count(&calls, "sts:AssumeRoleWithWebIdentity") >= 1, "{calls}");
    drop(pod);

    // A token of another service account: the role does not trust it.
    run_tool("kubectl", &["create", "serviceaccount", "other", "-n", &release_ns]);
    let other = create_token(&release_ns, "other", "sts.amazonaws.com");
    let _pod = operator_pod(&w, &values, &release_ns, &sa, token_at, &other, "irsa-other");
    let p = w.product("other-identity", "sales", "sales", "public", &["orders"]);
    w.apply(&p).await;
    let (reason, message) = refused(&w, "other-identity").await;
    assert_eq!(reason, "CredentialsUnavailable", "{message}");
    assert!(message.contains("AssumeRoleWithWebIdentity") && message.contains("Not authorized"), "{message}");
    drop(_pod);

    // An expired token (of an issuer the role trusts as well).
    let expired = expired_token(&w, "https://expired.example", &subject);
    let _pod = operator_pod(&w, &values, &release_ns, &sa, token_at, &expired, "irsa-expired");
    let p = w.product("expired-identity", "sales", "sales", "public", &["orders"]);
    w.apply(&p).await;
    let (reason, message) = refused(&w, "expired-identity").await;
    assert_eq!(reason, "CredentialsUnavailable", "{message}");
    assert!(message.contains("ExpiredToken"), "{message}");
}

#[tokio::test]
#[ignore = "needs a real API server: make e2e"]
async fn pod_identity_as_eks_sets_it_up_reaches_ready_without_a_static_key() {
    let mut w = common::world::world("podid", "optional").await;
    w.operator = None;
    w.trust_the_cluster();
    let uri = format!("aws.podIdentity.credentialsUri={}", w.emulator.pod_identity_uri());
    let values = ["aws.identity=podIdentity", uri.as_str()];
    let (release_ns, sa) = install_chart(&w, &values);
    w.emulator.associate_pod_identity(&release_ns, &sa, OPERATOR_ROLE).unwrap();
    let token_at = "pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token";
    let before = w.calls().await;
    let token = create_token(&release_ns, &sa, "pods.eks.amazonaws.com");
    let (pod, metrics) = operator_pod(&w, &values, &release_ns, &sa, token_at, &token, "podid");
    w.metrics_port = metrics;
    let names = w.import("examples/payloads/three-databases.json").await;
    w.all_ready(&names).await;
    let calls = common::world::delta(&before, &w.calls().await);
    assert!(common::world::count(&calls, "eks-auth:AssumeRoleForPodIdentity") >= 1, "{calls}");
    drop(pod);

    // A service account without an association gets no credentials.
    run_tool("kubectl", &["create", "serviceaccount", "other", "-n", &release_ns]);
    let other = create_token(&release_ns, "other", "pods.eks.amazonaws.com");
    let _pod = operator_pod(&w, &values, &release_ns, &sa, token_at, &other, "podid-other");
    let p = w.product("unassociated", "sales", "sales", "public", &["orders"]);
    w.apply(&p).await;
    let (reason, message) = refused(&w, "unassociated").await;
    assert_eq!(reason, "CredentialsUnavailable", "{message}");
    assert!(message.contains("404"), "the agent's answer: {message}");
}
