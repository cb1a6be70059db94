//! `import-payload` on arbitrary input: 10,000 payloads — the reference ones mutated at random
//! (values replaced by any JSON, keys dropped or added, strings of odd characters and lengths) and
//! JSON and text of no shape at all — each either imports into manifests that pass the CRD's
//! admission rules (the OpenAPI schema's types, patterns, lengths, enums and list sizes, and every
//! CEL rule), or is refused with path-named errors. Never a panic. `PROPERTY_SEED` replays a run.

use common::rng::Rng;
use datazone_operator::crd::{ConnectionKind, DeletionPolicy, RedshiftDataProduct};
use datazone_operator::payload::{ImportOptions, import, parse_payload, render_manifests};
use kube::CustomResourceExt;
use serde_json::{Map, Value, json};

mod common;

const CASES: usize = 10_000;

/// Random strings and JSON for payloads.
trait Gen {
    fn string(&mut self) -> String;
    fn value(&mut self, depth: u32) -> Value;
}

impl Gen for Rng {
    fn string(&mut self) -> String {
        const PIECES: &[&str] =
            &["a", "Z", "9", "-", "_", ".", " ", "*", "%", "/", "é", "日", "\u{0}", "\"", "\\", "prod-dwh", "sales"];
        let len = [0, 1, 3, 8, 40, 130, 300][self.below(7)];
        (0..len).map(|_| PIECES[self.below(PIECES.len())]).collect()
    }
    fn value(&mut self, depth: u32) -> Value {
        match self.below(if depth > 2 { 5 } else { 7 }) {
            0 => Value::Null,
            1 => json!(self.below(2) == 1),
            2 => json!(self.next() as i64),
            3 => json!(f64::from(self.below(1000) as u32) / 7.0),
            4 => json!(self.string()),
            5 => Value::Array((0..self.below(4)).map(|_| self.value(depth + 1)).collect()),
            _ => {
                let mut m = Map::new();
                for _ in 0..self.below(4) {
                    m.insert(self.string(), self.value(depth + 1));
                }
                Value::Object(m)
            }
        }
    }
}

/// Replaces, drops or adds something somewhere in `v`.
fn mutate(v: &mut Value, rng: &mut Rng) {
    match v {
        Value::Object(m) if !m.is_empty() && rng.below(3) > 0 => {
            let key = m.keys().nth(rng.below(m.len())).cloned().unwrap_or_default();
            match rng.below(4) {
                0 => {
                    m.remove(&key);
                }
                1 => {
                    m.insert(rng.string(), rng.value(1));
                }
                _ => mutate(m.get_mut(&key).expect("a key of the map"), rng),
            }
        }
        Value::Array(items) if !items.is_empty() && rng.below(3) > 0 => {
            let i = rng.below(items.len());
            match rng.below(4) {
                0 => {
                    items.remove(i);
                }
                1 => items.push(items[i].clone()),
                _ => mutate(&mut items[i], rng),
            }
        }
        other => *other = rng.value(1),
    }
}

/// `s` matches `pattern` (each pattern compiled once).
fn matches(pattern: &str, s: &str) -> bool {
    use std::cell::RefCell;
    use std::collections::HashMap;
    thread_local!(static COMPILED: RefCell<HashMap<String, regex::Regex>> = RefCell::default());
    COMPILED.with(|c| {
        let mut c = c.borrow_mut();
        let re = c.entry(pattern.to_string()).or_insert_with(|| regex::Regex::new(pattern).expect("a valid pattern"));
        re.is_match(s)
    })
}

/// What the API server checks of the OpenAPI schema: types, patterns, lengths, enums, list sizes.
fn schema_problems(schema: &Value, v: &Value, at: &str, out: &mut Vec<String>) {
    if schema.get("x-kubernetes-preserve-unknown-fields").is_some() && schema.get("properties").is_none() {
        return;
    }
    match (schema["type"].as_str(), v) {
        (Some("object"), Value::Object(m)) => {
            for (k, item) in m {
                match schema["properties"].get(k) {
                    Some(s) => schema_problems(s, item, &format!("{at}.{k}"), out),
                    None => out.push(format!("{at}.{k}: not in the schema")),
                }
            }
            for r in schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
                if !m.contains_key(r) {
                    out.push(format!("{at}.{r}: required"));
                }
            }
        }
        (Some("array"), Value::Array(items)) => {
            if schema["maxItems"].as_u64().is_some_and(|max| items.len() as u64 > max) {
                out.push(format!("{at}: more than maxItems"));
            }
            for (i, item) in items.iter().enumerate() {
                schema_problems(&schema["items"], item, &format!("{at}[{i}]"), out);
            }
        }
        (Some("string"), Value::String(s)) => {
            let n = s.chars().count() as u64;
            if schema["maxLength"].as_u64().is_some_and(|max| n > max)
                || schema["minLength"].as_u64().is_some_and(|min| n < min)
            {
                out.push(format!("{at}: length {n}"));
            }
            if let Some(p) = schema["pattern"].as_str()
                && !matches(p, s)
            {
                out.push(format!("{at}: {s:?} does not match {p}"));
            }
            if schema["enum"].as_array().is_some_and(|e| !e.contains(v)) {
                out.push(format!("{at}: not in the enum"));
            }
        }
        (Some("boolean"), Value::Bool(_)) | (Some("integer"), Value::Number(_)) | (None, _) => {}
        (Some(t), _) => out.push(format!("{at}: not a {t}")),
    }
}

#[test]
fn any_payload_imports_into_admissible_manifests_or_is_refused_by_path() {
    let (mut rng, seed) = Rng::from_env(0x00D2_A7A2_0E5E_ED5E);
    let crd = RedshiftDataProduct::crd();
    let schema = serde_json::to_value(&crd.spec.versions[0].schema.as_ref().unwrap().open_api_v3_schema).unwrap();
    let references: Vec<Value> = ["three-databases.json", "two-schemas.json"]
        .iter()
        .map(|f| {
            let path = format!("{}/examples/payloads/{f}", env!("CARGO_MANIFEST_DIR"));
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
        })
        .collect();
    let options = ImportOptions {
        connection: "corp-mesh".into(),
        connection_kind: ConnectionKind::ClusterDataZoneConnection,
        project: "sales".into(),
        credentials_secret_arn: "arn:aws:secretsmanager:eu-central-1:222222222222:secret:dz-redshift-AbCdEf".into(),
        namespace: Some("team-sales".into()),
        deletion_policy: DeletionPolicy::Retain,
        data_product: false,
    };
    let (mut imported, mut refused) = (0, 0);
    // A manifest already found admissible is not checked again (mutations often import the same).
    let mut checked = std::collections::HashSet::new();
    for case in 0..CASES {
        let text = match case % 10 {
            // Mostly the reference payloads with one to three changes: close enough to valid that
            // the checks past the first are reached.
            0..=7 => {
                let mut v = references[case % references.len()].clone();
                for _ in 0..=rng.below(3) {
                    mutate(&mut v, &mut rng);
                }
                v.to_string()
            }
            8 => rng.value(0).to_string(),
            _ => rng.string(),
        };
        match parse_payload(&text) {
            Ok(payload) => {
                imported += 1;
                let products = import(&payload, &options);
                render_manifests(&products).expect("imported manifests render");
                for p in &products {
                    let object = serde_json::to_value(p).unwrap();
                    if !checked.insert(object.to_string()) {
                        continue;
                    }
                    let mut problems = Vec::new();
                    schema_problems(&schema["properties"]["spec"], &object["spec"], ".spec", &mut problems);
                    let name = p.metadata.name.clone().unwrap_or_default();
                    let dns = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
                    if name.len() > 253 || !matches(dns, &name) {
                        problems.push(format!("metadata.name {name:?} is not a DNS subdomain"));
                    }
                    assert!(problems.is_empty(), "case {case} (seed {seed}): {problems:?}\npayload: {text}");
                    p.validate_cel().unwrap_or_else(|e| panic!("case {case} (seed {seed}): {e}\npayload: {text}"));
                }
            }
            Err(errors) => {
                refused += 1;
                assert!(!errors.0.is_empty(), "case {case}: refused without a reason");
                assert!(errors.0.iter().all(|e| !e.path.is_empty() && !e.problem.is_empty()), "case {case}: {errors}");
            }
        }
    }
    println!(
        "payload properties: {CASES} cases, {imported} imported ({} distinct manifests, all admissible), {refused} refused by path",
        checked.len()
    );
    assert!(imported > CASES / 20, "the generator reaches valid payloads too: {imported}");
}
