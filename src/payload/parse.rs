//! Strict parsing of the reference payload: every problem is reported with the JSON path where
//! it is (`datasets[1].dbName: missing`), unknown keys are refused rather than silently dropped,
//! and the same limits as the CRD apply, so an accepted payload always imports into manifests
//! the API server accepts.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value};

use super::model::{Dataset, Payload, PayloadSchema};
use crate::crd::patterns as p;

/// One problem in a payload, at a JSON path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayloadError {
    pub path: String,
    pub problem: String,
}

impl fmt::Display for PayloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.problem)
    }
}

/// Every problem found in a payload (never empty).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayloadErrors(pub Vec<PayloadError>);

impl fmt::Display for PayloadErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&lines.join("\n"))
    }
}

impl std::error::Error for PayloadErrors {}

/// Parses and checks a payload given as JSON text.
pub fn parse_payload(text: &str) -> Result<Payload, PayloadErrors> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        PayloadErrors(vec![PayloadError {
            path: format!("line {} column {}", e.line(), e.column()),
            problem: format!("invalid JSON: {e}"),
        }])
    })?;
    let mut errors = Errors::default();
    let payload = payload(&value, &mut errors);
    match (payload, errors.0.is_empty()) {
        (Some(payload), true) => Ok(payload),
        _ => Err(PayloadErrors(errors.0)),
    }
}

#[derive(Default)]
struct Errors(Vec<PayloadError>);

impl Errors {
    fn add(&mut self, path: &str, problem: impl Into<String>) {
        self.0.push(PayloadError { path: path.to_string(), problem: problem.into() });
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `path.key`; a key that is empty or not a plain name is quoted (`path["a b"]`), so every error
/// names a path a person can find.
fn join(path: &str, key: &str) -> String {
    let plain = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    match (plain, path.is_empty()) {
        (true, true) => key.to_string(),
        (true, false) => format!("{path}.{key}"),
        (false, _) => format!("{path}[{key:?}]"),
    }
}

fn object<'v>(v: &'v Value, path: &str, errors: &mut Errors) -> Option<&'v Map<String, Value>> {
    match v {
        Value::Object(map) => Some(map),
        other => {
            errors.add(path_or_root(path), format!("expected an object, found {}", type_name(other)));
            None
        }
    }
}

fn path_or_root(path: &str) -> &str {
    if path.is_empty() { "$" } else { path }
}

fn reject_unknown(map: &Map<String, Value>, known: &[&str], path: &str, errors: &mut Errors) {
    for key in map.keys().filter(|k| !known.contains(&k.as_str())) {
        errors.add(&join(path, key), format!("unknown field (expected one of: {})", known.join(", ")));
    }
}

fn optional_string(map: &Map<String, Value>, key: &str, path: &str, errors: &mut Errors) -> Option<String> {
    match map.get(key) {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            errors.add(&join(path, key), format!("expected a string, found {}", type_name(other)));
            None
        }
    }
}

/// A required, non-empty string no longer than `max` bytes.
fn required_string(map: &Map<String, Value>, key: &str, max: usize, path: &str, errors: &mut Errors) -> Option<String> {
    let at = join(path, key);
    match map.get(key) {
        None => {
            errors.add(&at, "missing");
            None
        }
        Some(Value::String(s)) if s.is_empty() => {
            errors.add(&at, "empty");
            None
        }
        Some(Value::String(s)) if s.len() > max => {
            errors.add(&at, format!("longer than {max} characters"));
            None
        }
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            errors.add(&at, format!("expected a string, found {}", type_name(other)));
            None
        }
    }
}

fn optional_bool(map: &Map<String, Value>, key: &str, path: &str, errors: &mut Errors) -> bool {
    match map.get(key) {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            errors.add(&join(path, key), format!("expected true or false, found {}", type_name(other)));
            false
        }
    }
}

fn array<'v>(map: &'v Map<String, Value>, key: &str, path: &str, errors: &mut Errors) -> Option<&'v Vec<Value>> {
    match map.get(key) {
        None => None,
        Some(Value::Array(items)) => Some(items),
        Some(other) => {
            errors.add(&join(path, key), format!("expected an array, found {}", type_name(other)));
            None
        }
    }
}

fn payload(v: &Value, errors: &mut Errors) -> Option<Payload> {
    let map = object(v, "", errors)?;
    reject_unknown(map, &["source", "detail-type", "datasets"], "", errors);
    let source = optional_string(map, "source", "", errors);
    let detail_type = optional_string(map, "detail-type", "", errors);
    let Some(items) = array(map, "datasets", "", errors) else {
        if !map.contains_key("datasets") {
            errors.add("datasets", "missing");
        }
        return None;
    };
    if items.is_empty() {
        errors.add("datasets", "empty: there is nothing to import");
    }
    let datasets: Vec<Option<Dataset>> =
        items.iter().enumerate().map(|(i, item)| dataset(item, &format!("datasets[{i}]"), errors)).collect();
    Some(Payload { source, detail_type, datasets: datasets.into_iter().collect::<Option<Vec<_>>>()? })
}

fn dataset(v: &Value, path: &str, errors: &mut Errors) -> Option<Dataset> {
    let map = object(v, path, errors)?;
    reject_unknown(map, &["clusterName", "dbName", "schemas"], path, errors);
    let cluster_name = required_string(map, "clusterName", p::CLUSTER_NAME_MAX as usize, path, errors);
    if let Some(name) = &cluster_name
        && !p::is_match(p::CLUSTER_NAME, name)
    {
        errors.add(
            &join(path, "clusterName"),
            format!("{name:?} is not a Redshift cluster name (lowercase letters, digits and hyphens)"),
        );
    }
    let db_name = required_string(map, "dbName", p::DATABASE_OR_SCHEMA_MAX as usize, path, errors);
    let schemas_path = join(path, "schemas");
    let schemas = match array(map, "schemas", path, errors) {
        None if !map.contains_key("schemas") => {
            errors.add(&schemas_path, "missing");
            None
        }
        None => None,
        Some(items) if items.is_empty() => {
            errors.add(&schemas_path, "empty: a dataset needs at least one schema");
            None
        }
        Some(items) => {
            let parsed: Vec<Option<PayloadSchema>> = items
                .iter()
                .enumerate()
                .map(|(j, item)| schema(item, &format!("{schemas_path}[{j}]"), errors))
                .collect();
            report_duplicates(
                parsed.iter().map(|s| s.as_ref().map(|s| s.schema_name.as_str())),
                |j| format!("{schemas_path}[{j}].schemaName"),
                errors,
            );
            parsed.into_iter().collect::<Option<Vec<_>>>()
        }
    };
    Some(Dataset { cluster_name: cluster_name?, db_name: db_name?, schemas: schemas? })
}

fn schema(v: &Value, path: &str, errors: &mut Errors) -> Option<PayloadSchema> {
    let map = object(v, path, errors)?;
    reject_unknown(map, &["schemaName", "addAllTables", "addAllViews", "tables", "views"], path, errors);
    let schema_name = required_string(map, "schemaName", p::DATABASE_OR_SCHEMA_MAX as usize, path, errors);
    let add_all_tables = optional_bool(map, "addAllTables", path, errors);
    let add_all_views = optional_bool(map, "addAllViews", path, errors);
    let tables = object_names(map, "tables", path, errors);
    let views = object_names(map, "views", path, errors);
    let (tables, views) = (tables?, views?);
    if !add_all_tables && !add_all_views && tables.is_empty() && views.is_empty() {
        errors.add(path, "selects nothing: addAllTables and addAllViews are false and tables and views are empty");
    }
    Some(PayloadSchema { schema_name: schema_name?, add_all_tables, add_all_views, tables, views })
}

/// A list of table or view names: strings, non-empty, without `*`, unique.
fn object_names(map: &Map<String, Value>, key: &str, path: &str, errors: &mut Errors) -> Option<Vec<String>> {
    let Some(items) = array(map, key, path, errors) else {
        // Absent is an empty list; a wrong type was reported by `array`.
        return if map.contains_key(key) { None } else { Some(Vec::new()) };
    };
    let list_path = join(path, key);
    let mut names = Vec::with_capacity(items.len());
    let mut ok = true;
    for (k, item) in items.iter().enumerate() {
        let at = format!("{list_path}[{k}]");
        match item {
            Value::String(s) if s.is_empty() => errors.add(&at, "empty name"),
            Value::String(s) if s.len() > p::OBJECT_NAME_MAX as usize => {
                errors.add(&at, format!("longer than {} characters", p::OBJECT_NAME_MAX))
            }
            Value::String(s) if s.contains('*') => {
                errors.add(&at, format!("{s:?} contains '*', which DataZone filters read as a wildcard"))
            }
            Value::String(s) => {
                names.push(s.clone());
                continue;
            }
            other => errors.add(&at, format!("expected a string, found {}", type_name(other))),
        }
        ok = false;
    }
    report_duplicates(names.iter().map(|n| Some(n.as_str())), |k| format!("{list_path}[{k}]"), errors);
    ok.then_some(names)
}

/// Reports every repeated value; `path_of(i)` names the place of item `i`.
fn report_duplicates<'a>(
    values: impl Iterator<Item = Option<&'a str>>,
    path_of: impl Fn(usize) -> String,
    errors: &mut Errors,
) {
    let mut first_seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, value) in values.enumerate() {
        let Some(value) = value else { continue };
        match first_seen.get(value) {
            Some(first) => errors.add(&path_of(i), format!("duplicate {value:?} (first at index {first})")),
            None => {
                first_seen.insert(value, i);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors_of(text: &str) -> Vec<String> {
        match parse_payload(text) {
            Ok(p) => panic!("expected errors, parsed {p:?}"),
            Err(e) => e.0.iter().map(ToString::to_string).collect(),
        }
    }

    const GOOD_SCHEMA: &str = r#"{"schemaName": "public", "tables": ["orders"]}"#;

    fn with_dataset(dataset: &str) -> String {
        format!(
            r#"{{"datasets": [{{"clusterName": "prod-dwh", "dbName": "sales", "schemas": [{GOOD_SCHEMA}]}}, {dataset}]}}"#
        )
    }

    #[test]
    fn minimal_payload_parses_with_defaults() {
        let p = parse_payload(&with_dataset(
            r#"{"clusterName": "c1", "dbName": "db1", "schemas": [{"schemaName": "s", "addAllViews": true}]}"#,
        ))
        .unwrap();
        assert_eq!(p.source, None);
        assert_eq!(p.datasets.len(), 2);
        let s = &p.datasets[1].schemas[0];
        assert!(!s.add_all_tables && s.add_all_views && s.tables.is_empty());
    }

    #[test]
    fn malformed_cases_name_their_path() {
        let cases: &[(&str, &str)] = &[
            (
                r#"{"clusterName": "c1", "schemas": [{"schemaName": "s", "addAllTables": true}]}"#,
                "datasets[1].dbName: missing",
            ),
            (
                r#"{"clusterName": "c1", "dbName": 7, "schemas": [{"schemaName": "s", "addAllTables": true}]}"#,
                "datasets[1].dbName: expected a string, found a number",
            ),
            (
                r#"{"clusterName": "c1", "dbName": "", "schemas": [{"schemaName": "s", "addAllTables": true}]}"#,
                "datasets[1].dbName: empty",
            ),
            (
                r#"{"dbName": "d", "schemas": [{"schemaName": "s", "addAllTables": true}]}"#,
                "datasets[1].clusterName: missing",
            ),
            (
                r#"{"clusterName": "Prod_DWH", "dbName": "d", "schemas": [{"schemaName": "s", "addAllTables": true}]}"#,
                "datasets[1].clusterName: \"Prod_DWH\" is not a Redshift cluster name",
            ),
            (r#"{"clusterName": "c1", "dbName": "d"}"#, "datasets[1].schemas: missing"),
            (r#"{"clusterName": "c1", "dbName": "d", "schemas": []}"#, "datasets[1].schemas: empty"),
            (
                r#"{"clusterName": "c1", "dbName": "d", "schemas": {}}"#,
                "datasets[1].schemas: expected an array, found an object",
            ),
            (
                r#"{"clusterName": "c1", "dbName": "d", "schemas": [{"addAllTables": true}]}"#,
                "datasets[1].schemas[0].schemaName: missing",
            ),
            (
                r#"{"clusterName": "c1", "dbName": "d", "schemas": [{"schemaName": "s", "addAllTables": "yes"}]}"#,
                "datasets[1].schemas[0].addAllTables: expected true or false, found a string",
            ),
            (
                r#"{"clusterName": "c1", "dbName": "d", "schemas": [{"schemaName": "s", "addAllTables": false, "addAllViews": false, "tables": [], "views": []}]}"#,
                "datasets[1].schemas[0]: selects nothing",
            ),
            (
                r#"{"clusterName": "c1", "dbName": "d", "schemas": [{"schemaName": "s", "tables": "orders"}]}"#,
                "datasets[1].schemas[0].tables: expected an array, found a string",
            ),
            (
                r#"{"clusterName": "c1", "dbName": "d", "schemas": [{"schemaName": "s", "tables": ["a", 3]}]}"#,
                "datasets[1].schemas[0].tables[1]: expected a string, found a number",
            ),
            (
                r#"{"clusterName": "c1", "dbName": "d", "schemas": [{"schemaName": "s", "views": ["v", ""]}]}"#,
                "datasets[1].schemas[0].views[1]: empty name",
            ),
            (
                r#"{"clusterName": "c1", "dbName": "d", "schemas": [{"schemaName": "s", "views": ["v*"]}]}"#,
                "datasets[1].schemas[0].views[0]: \"v*\" contains '*'",
            ),
            (
                r#"{"clusterName": "c1", "dbName": "d", "schemas": [{"schemaName": "s", "tables": ["a", "b", "a"]}]}"#,
                "datasets[1].schemas[0].tables[2]: duplicate \"a\" (first at index 0)",
            ),
            (
                r#"{"clusterName": "c1", "dbName": "d", "schemas": [{"schemaName": "s", "tables": ["a"]}, {"schemaName": "s", "views": ["v"]}]}"#,
                "datasets[1].schemas[1].schemaName: duplicate \"s\" (first at index 0)",
            ),
            (
                r#"{"clusterName": "c1", "dbName": "d", "owner": "x", "schemas": [{"schemaName": "s", "tables": ["a"]}]}"#,
                "datasets[1].owner: unknown field",
            ),
            (r#""just a string""#, "datasets[1]: expected an object, found a string"),
        ];
        for (dataset, want) in cases {
            let errors = errors_of(&with_dataset(dataset));
            assert!(
                errors.iter().any(|e| e.starts_with(want)),
                "dataset {dataset}\nwant prefix {want:?}\ngot {errors:?}"
            );
        }
    }

    #[test]
    fn top_level_problems() {
        assert!(errors_of("{")[0].starts_with("line 1 column 1: invalid JSON"));
        assert_eq!(errors_of("[]"), ["$: expected an object, found an array"]);
        assert_eq!(errors_of(r#"{"source": "x"}"#), ["datasets: missing"]);
        assert_eq!(errors_of(r#"{"datasets": []}"#), ["datasets: empty: there is nothing to import"]);
        assert!(
            errors_of(r#"{"source": 1, "datasets": []}"#)
                .contains(&"source: expected a string, found a number".to_string())
        );
        assert!(errors_of(r#"{"detailType": "x", "datasets": []}"#)[0].starts_with("detailType: unknown field"));
        assert!(
            errors_of(r#"{"": 1, "datasets": []}"#)[0].starts_with("[\"\"]: unknown field"),
            "an empty key is named"
        );
    }

    #[test]
    fn every_problem_is_reported_not_just_the_first() {
        let errors = errors_of(
            r#"{"datasets": [{"clusterName": "c1"}, {"dbName": "d", "clusterName": "c2", "schemas": [{"schemaName": "s"}]}]}"#,
        );
        assert!(errors.contains(&"datasets[0].dbName: missing".to_string()), "{errors:?}");
        assert!(errors.contains(&"datasets[0].schemas: missing".to_string()), "{errors:?}");
        assert!(errors.iter().any(|e| e.starts_with("datasets[1].schemas[0]: selects nothing")), "{errors:?}");
    }
}
