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
