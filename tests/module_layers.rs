//! The files of `src/controller/` and of `emulator/src/` depend on each other one way only: for
//! any file a newcomer can name what it may use. This reads the sources, collects each module's
//! references to its sibling modules (outside comments and test code), and fails naming any
//! circle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use regex::Regex;

/// Module path (`datazone::runs`) → the file's code without comments and test modules.
fn modules(root: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("source directory") {
            let path: PathBuf = entry.expect("entry").path();
            if path.is_dir() {
                // A `tests` directory is test code.
                if path.file_name().is_some_and(|n| n != "tests") {
                    dirs.push(path);
                }
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let relative = path.strip_prefix(root).expect("under root").with_extension("");
            let mut parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
            if parts.last().is_some_and(|p| p == "mod" || p == "lib" || p == "main") {
                parts.pop();
            }
            let text = std::fs::read_to_string(&path).expect("readable source");
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            let code: String =
                code.lines().map(|l| l.split("//").next().unwrap_or_default()).collect::<Vec<_>>().join("\n");
            out.insert(parts.join("::"), code);
        }
    }
    out
}

/// The sibling modules `code` (of module `me`) refers to. `prefix` is how a reference starts
/// (`super` within a flat directory, `crate` for a crate root).
fn references(me: &str, code: &str, known: &BTreeSet<String>, prefix: &str) -> BTreeSet<String> {
    // `prefix::a::b`, or `prefix::{a, b::c}`.
    let single = Regex::new(&format!(r"\b{prefix}::(\w+)(?:::(\w+))?")).expect("regex");
    let group = Regex::new(&format!(r"\b{prefix}::\{{([^}}]*)\}}")).expect("regex");
    let parent = me.rsplit_once("::").map(|(p, _)| p.to_string());
    let mut paths: Vec<Vec<String>> = Vec::new();
    for c in single.captures_iter(code) {
        paths.push(c.iter().skip(1).flatten().map(|m| m.as_str().to_string()).collect());
    }
    for c in group.captures_iter(code) {
        for item in c[1].split(',') {
            let segments: Vec<String> = item.trim().split("::").map(|s| s.trim().to_string()).collect();
            if segments.first().is_some_and(|s| !s.is_empty()) {
                paths.push(segments);
            }
        }
    }
    let mut out = BTreeSet::new();
    // A parent names its children without a prefix (`runs::finish`).
    let relative = Regex::new(r"\b(\w+)::").expect("regex");
    for c in relative.captures_iter(code) {
        let child = if me.is_empty() { c[1].to_string() } else { format!("{me}::{}", &c[1]) };
        if known.contains(&child) && prefix == "crate" {
            out.insert(child);
        }
    }
    for segments in paths {
        // Within a nested module, `super::x` is a sibling under the same parent.
        let base: Vec<String> = match (&parent, prefix) {
            (Some(p), "super") => p.split("::").map(str::to_string).chain(segments).collect(),
            _ => segments,
        };
        let longest =
            (1..=base.len().min(2)).rev().map(|n| base[..n].join("::")).find(|candidate| known.contains(candidate));
        let target = match (longest, &parent, prefix) {
            (Some(t), _, _) => t,
            // `super::Item` in a nested module: the parent module itself.
            (None, Some(p), "super") => p.clone(),
            (None, _, _) => continue,
        };
        if target != me {
            out.insert(target);
        }
    }
    out
}

/// A circle in `graph`, if there is one.
fn circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut found = path[at..].to_vec();
            found.push(node.to_string());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, graph, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

fn graph(root: &str, prefixes: &[&str]) -> BTreeMap<String, BTreeSet<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(root);
    let modules = modules(&root);
    let known: BTreeSet<String> = modules.keys().filter(|k| !k.is_empty()).cloned().collect();
    modules
        .iter()
        .filter(|(name, _)| !name.is_empty())
        .map(|(name, code)| {
            let uses = prefixes.iter().flat_map(|prefix| references(name, code, &known, prefix)).collect();
            (name.clone(), uses)
        })
        .collect()
}

#[test]
fn the_controller_files_depend_one_way() {
    let graph = graph("src/controller", &["super"]);
    assert!(graph["reconcile"].contains("act"), "the reader sees the orchestrator's uses: {graph:?}");
    assert!(graph["act"].contains("pass"), "{graph:?}");
    assert_eq!(circle(&graph), None, "an import circle in src/controller/");
}

#[test]
fn the_emulator_files_depend_one_way() {
    let graph = graph("emulator/src", &["crate", "super"]);
    assert!(graph["server"].contains("shared") && graph["control"].contains("shared"), "{graph:?}");
    assert!(graph["datazone::runs"].contains("state"), "{graph:?}");
    assert!(graph["datazone"].contains("datazone::runs"), "a parent's own children count: {graph:?}");
    assert!(graph["datazone::runs"].contains("datazone::request"), "{graph:?}");
    assert_eq!(circle(&graph), None, "an import circle in emulator/src/");
}

#[test]
fn a_circle_is_found_and_named() {
    let edges = |pairs: &[(&str, &str)]| {
        let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, b) in pairs {
            g.entry(a.to_string()).or_default().insert(b.to_string());
            g.entry(b.to_string()).or_default();
        }
        g
    };
    assert_eq!(circle(&edges(&[("a", "b"), ("b", "c")])), None);
    let found = circle(&edges(&[("a", "b"), ("b", "c"), ("c", "a")])).expect("a circle");
    assert_eq!(found.first(), found.last());
    assert_eq!(found.len(), 4, "{found:?}");
    let code = "use super::{act, plan::Step};\nfn f() { super::runs::follow(); }";
    let known: BTreeSet<String> = ["act", "plan", "runs", "pass"].map(str::to_string).into();
    assert_eq!(references("reconcile", code, &known, "super"), ["act", "plan", "runs"].map(str::to_string).into());
}
