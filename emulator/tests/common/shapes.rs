//! Every JSON answer of the emulator held against its operation's output shape in botocore's
//! model (`emulator/tests/model/datazone-outputs.json`, written by `scripts/datazone-model`): no
//! member the shape lacks, every required member present, JSON types, enums, unions, the lengths
//! of lists and strings (`min`/`max`), and timestamp formats (ISO-8601 strings where the shape
//! says `iso8601`, epoch seconds otherwise, as restJson1 has it). The SDKs parse leniently (an
//! unknown member is dropped, a missing required one defaulted), so a slip here would pass every
//! SDK test and break a stricter client.

use serde_json::Value;

const MODEL: &str = include_str!("../model/datazone-outputs.json");

pub struct Model(Value);

impl Model {
    pub fn load() -> Self {
        Self(serde_json::from_str(MODEL).expect("the model file is JSON"))
    }

    /// What is wrong with `body` as the answer of `operation` (empty: nothing), each problem
    /// with its JSON path.
    pub fn check(&self, operation: &str, body: &Value) -> Vec<String> {
        let Some(op) = self.0["operations"].get(operation) else {
            return vec![format!("{operation}: not an operation of the model file (run scripts/datazone-model)")];
        };
        let mut problems = Vec::new();
        match op["output"].as_str() {
            Some(shape) => self.shape(shape, body, operation, &mut problems),
            None if body.as_object().is_some_and(|o| o.is_empty()) || body.is_null() => {}
            None => problems.push(format!("{operation}: the model has no output, the answer is {body}")),
        }
        problems
    }

    /// Changes `body` (an answer of `operation`) into another answer the model allows, as a
    /// newer DataZone may give: `choose(n)` picks among `n` options (0 keeps things as they are)
    /// for each optional member (left out) and each enum value (a value the model does not know
    /// yet). Answers how many things it changed.
    pub fn vary(&self, operation: &str, body: &mut Value, choose: &mut dyn FnMut(usize) -> usize) -> usize {
        match self.0["operations"][operation]["output"].as_str() {
            Some(shape) => self.vary_shape(shape, body, choose),
            None => 0,
        }
    }

    fn vary_shape(&self, name: &str, value: &mut Value, choose: &mut dyn FnMut(usize) -> usize) -> usize {
        let shape = &self.0["shapes"][name];
        let mut changed = 0;
        match (shape["type"].as_str().unwrap_or_default(), value) {
            ("structure", Value::Object(object)) => {
                let required: Vec<&str> =
                    shape["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
                let keys: Vec<String> = object.keys().cloned().collect();
                for key in keys {
                    let optional = !required.contains(&key.as_str()) && shape["union"].as_bool() != Some(true);
                    if optional && choose(4) == 1 {
                        object.remove(&key);
                        changed += 1;
                    } else if let (Some(member), Some(v)) =
                        (shape["members"][&key]["shape"].as_str(), object.get_mut(&key))
                    {
                        changed += self.vary_shape(member, v, choose);
                    }
                }
            }
            ("list", Value::Array(items)) => {
                let member = shape["member"]["shape"].as_str().unwrap_or_default();
                for item in items {
                    changed += self.vary_shape(member, item, choose);
                }
            }
            ("map", Value::Object(entries)) => {
                let inner = shape["value"]["shape"].as_str().unwrap_or_default();
                for v in entries.values_mut() {
                    changed += self.vary_shape(inner, v, choose);
                }
            }
            ("string", v @ Value::String(_)) if shape.get("enum").is_some() && choose(3) == 1 => {
                *v = Value::String("SOMETHING_NEW".into());
                changed += 1;
            }
            _ => {}
        }
        changed
    }

    fn shape(&self, name: &str, value: &Value, at: &str, problems: &mut Vec<String>) {
        let shape = &self.0["shapes"][name];
        let mut wrong = |what: &str| problems.push(format!("{at}: {what} (shape {name}), got {value}"));
        match shape["type"].as_str().unwrap_or_default() {
            "structure" => {
                let Some(object) = value.as_object() else { return wrong("not an object") };
                let members = shape["members"].as_object().cloned().unwrap_or_default();
                // Members bound to the URI, query string, headers or status are not in the body.
                let in_body = |m: &Value| m.get("location").is_none();
                for (key, v) in object {
                    match members.get(key).filter(|m| in_body(m)) {
                        Some(m) => {
                            self.shape(m["shape"].as_str().unwrap_or_default(), v, &format!("{at}.{key}"), problems)
                        }
                        None => problems.push(format!("{at}.{key}: no such member in shape {name}")),
                    }
                }
                for required in shape["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
                    if members.get(required).is_some_and(in_body) && !object.contains_key(required) {
                        problems.push(format!("{at}.{required}: required by shape {name}, missing"));
                    }
                }
                if shape["union"].as_bool() == Some(true) && object.len() != 1 {
                    problems
                        .push(format!("{at}: a union (shape {name}) sets exactly one member, got {}", object.len()));
                }
            }
            "list" => {
                let Some(items) = value.as_array() else { return wrong("not a list") };
                if let Some(problem) = length_problem(shape, items.len()) {
                    problems.push(format!("{at}: {problem} items (shape {name})"));
                }
                let member = shape["member"]["shape"].as_str().unwrap_or_default();
                for (i, item) in items.iter().enumerate() {
                    self.shape(member, item, &format!("{at}[{i}]"), problems);
                }
            }
            "map" => {
                let Some(entries) = value.as_object() else { return wrong("not a map") };
                let inner = shape["value"]["shape"].as_str().unwrap_or_default();
                for (key, v) in entries {
                    self.shape(inner, v, &format!("{at}.{key}"), problems);
                }
            }
            "string" => match value.as_str() {
                None => wrong("not a string"),
                Some(s) => {
                    let allowed = shape["enum"].as_array();
                    if allowed.is_some_and(|e| !e.iter().any(|a| a.as_str() == Some(s))) {
                        wrong("not one of the enum's values");
                    } else if let Some(problem) = length_problem(shape, s.chars().count()) {
                        wrong(&format!("{problem} characters"));
                    }
                }
            },
            "integer" | "long" if !value.is_i64() && !value.is_u64() => wrong("not an integer"),
            "float" | "double" if !value.is_number() => wrong("not a number"),
            "boolean" if !value.is_boolean() => wrong("not a boolean"),
            "blob" if !value.is_string() => wrong("not a base64 string"),
            "timestamp" => match shape["timestampFormat"].as_str() {
                Some("iso8601") if !value.as_str().is_some_and(is_iso8601) => wrong("not an ISO-8601 timestamp"),
                None if !value.is_number() => wrong("not epoch seconds"),
                _ => {}
            },
            _ => {}
        }
    }
}

/// Whether `n` (items of a list, characters of a string) is outside the shape's `min`/`max`.
fn length_problem(shape: &Value, n: usize) -> Option<String> {
    match (shape["min"].as_u64(), shape["max"].as_u64()) {
        (Some(min), _) if (n as u64) < min => Some(format!("{n} is fewer than the minimum {min}")),
        (_, Some(max)) if (n as u64) > max => Some(format!("{n} is more than the maximum {max}")),
        _ => None,
    }
}

/// `2026-12-02T18:00:00Z`, with optional fractions and an offset.
fn is_iso8601(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && [0..4, 5..7, 8..10, 11..13, 14..16, 17..19].iter().all(|r| b[r.clone()].iter().all(u8::is_ascii_digit))
        && (s.ends_with('Z') || s[19..].contains('+') || s[19..].contains('-'))
}
