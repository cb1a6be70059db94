//! Every module of the operator crate (`src/`) and of the emulator (`emulator/src/`) depends on
//! the others one way only: for any file a newcomer can name what it may use. This reads the
//! sources, collects each module's references to the crate's other modules (outside comments and
//! test code), and fails naming any circle.
//!
//! A reference is a path through `crate::`, `super::` or `self::` (also inside a `{...}` group),
//! a parent naming its child (`runs::finish` in `datazone/mod.rs`), or a module imported by its
//! name and then named by it (`use crate::controller::data_product;` … `data_product::reconcile`). It counts for the longest
//! module the path names; an item a module re-exports (`pub use error::DzError;` in
//! `datazone/mod.rs`) counts for the module that defines it, so a facade does not make a circle
//! of its own.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use regex::Regex;

/// Module path (`datazone::runs`) → the file's code without comments and test modules.
fn modules(root: &Path) -> BTreeMap<String, String> {
    let inline_tests = Regex::new(r"#\[cfg\(test\)\]\s*(?:pub\s+)?mod\s+\w+\s*\{").expect("regex");
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
            // A `tests.rs` beside its module is test code too.
            if path.extension().is_none_or(|e| e != "rs") || path.file_name().is_some_and(|n| n == "tests.rs") {
                continue;
            }
            let relative = path.strip_prefix(root).expect("under root").with_extension("");
            let mut parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
            if parts.last().is_some_and(|p| p == "mod" || p == "lib" || p == "main") {
                parts.pop();
            }
            // `main.rs` beside `lib.rs` is a crate of its own: it uses the library by name.
            if path.file_name().is_some_and(|n| n == "main.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("readable source");
            // Test code is an inline `#[cfg(test)] mod … { … }`, last in its file.
            let code = match inline_tests.find(&text) {
                Some(at) => &text[..at.start()],
                None => &text[..],
            };
            let code: String = code.lines().map(without_comment).collect::<Vec<_>>().join("\n");
            out.insert(parts.join("::"), code);
        }
    }
    out
}

/// `line` up to a `//` comment (one inside a string literal, as in `"https://…"`, is not one).
fn without_comment(line: &str) -> &str {
    let (mut in_string, mut escaped) = (false, false);
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            _ if escaped => escaped = false,
            b'\\' if in_string => escaped = true,
            b'"' => in_string = !in_string,
            b'/' if !in_string && bytes.get(i + 1) == Some(&b'/') => return &line[..i],
            _ => {}
        }
    }
    line
}

/// `parent::Item` → the child module that defines `Item`, for every `pub use child::…` of a parent.
fn reexports(modules: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let reexport = Regex::new(r"pub use (\w+)::(?:\{([^}]*)\}|(\w+|\*));").expect("regex");
    let defined = Regex::new(r"\bpub (?:async )?(?:struct|enum|fn|const|static|trait|type) (\w+)").expect("regex");
    let mut out = BTreeMap::new();
    for (parent, code) in modules {
        for c in reexport.captures_iter(code) {
            let child = if parent.is_empty() { c[1].to_string() } else { format!("{parent}::{}", &c[1]) };
            let Some(child_code) = modules.get(&child) else { continue };
            let items: Vec<String> = match (c.get(2), c.get(3)) {
                (Some(group), _) => group.as_str().split(',').map(|i| i.trim().to_string()).collect(),
                (_, Some(one)) if one.as_str() == "*" => {
                    defined.captures_iter(child_code).map(|d| d[1].to_string()).collect()
                }
                (_, Some(one)) => vec![one.as_str().to_string()],
                _ => Vec::new(),
            };
            for item in items.into_iter().filter(|i| !i.is_empty()) {
                let at = if parent.is_empty() { item } else { format!("{parent}::{item}") };
                out.insert(at, child.clone());
            }
        }
    }
    out
}

/// The other modules `code` (of module `me`) refers to.
fn references(
    me: &str,
    code: &str,
    known: &BTreeSet<String>,
    reexported: &BTreeMap<String, String>,
) -> BTreeSet<String> {
    let module: Vec<String> = if me.is_empty() { Vec::new() } else { me.split("::").map(str::to_string).collect() };
    // Every path with a `::` in it, with the `{...}` group that may end it.
    // A glob (`use super::*;`) is a group of nothing named: the module itself.
    let path = Regex::new(r"(?:^|[^:\w])(\w+(?:::\w+)*)(?:::\{([^{}]*)\}|::(\*))?").expect("regex");
    let found: Vec<(Vec<String>, Option<String>)> = path
        .captures_iter(code)
        .filter(|c| c[1].contains("::") || c.get(2).is_some() || c.get(3).is_some())
        .map(|c| {
            let group = c.get(2).map(|g| g.as_str().to_string()).or_else(|| c.get(3).map(|_| "self".to_string()));
            (c[1].split("::").map(str::to_string).collect(), group)
        })
        .collect();
    let is_module = |p: &[String]| known.contains(&p.join("::"));
    // Where a path starts: `crate`, `super`, `self`, a module imported by its name, or a child.
    let start = |segments: &[String], aliases: &BTreeMap<String, Vec<String>>| -> Option<Vec<String>> {
        let (first, rest) = segments.split_first()?;
        let mut base = match first.as_str() {
            "crate" => Vec::new(),
            "self" => module.clone(),
            "super" => module[..module.len().checked_sub(1)?].to_vec(),
            name => match aliases.get(name) {
                Some(aliased) => aliased.clone(),
                None => {
                    let child: Vec<String> = module.iter().cloned().chain([name.to_string()]).collect();
                    if !is_module(&child) {
                        return None;
                    }
                    child
                }
            },
        };
        let mut rest = rest.iter().peekable();
        while rest.peek().is_some_and(|s| *s == "super") {
            base.pop()?;
            rest.next();
        }
        Some(base.into_iter().chain(rest.cloned()).collect())
    };
    let expand = |aliases: &BTreeMap<String, Vec<String>>| -> Vec<Vec<String>> {
        let mut out = Vec::new();
        for (segments, group) in &found {
            let Some(head) = start(segments, aliases) else { continue };
            match group {
                Some(group) => {
                    for item in group.split(',') {
                        let item: Vec<String> =
                            item.split("::").map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
                        if item.first().is_some_and(|s| s == "self") {
                            out.push(head.clone());
                        } else if !item.is_empty() {
                            out.push(head.iter().cloned().chain(item).collect());
                        }
                    }
                }
                None => out.push(head),
            }
        }
        out
    };
    // A module imported by its name (`use crate::controller::{connection, data_product};`) is
    // then named by it alone (`data_product::reconcile::reconcile`).
    let aliases: BTreeMap<String, Vec<String>> = expand(&BTreeMap::new())
        .into_iter()
        .filter(|p| !p.is_empty() && is_module(p))
        .map(|p| (p.last().expect("not empty").clone(), p))
        .collect();
    let mut out = BTreeSet::new();
    for full in expand(&aliases) {
        // The longest module the path names, then an item it re-exports.
        let Some(n) = (1..=full.len()).rev().find(|&n| is_module(&full[..n])) else { continue };
        let mut target = full[..n].join("::");
        if let Some(defining) = full.get(n).and_then(|item| reexported.get(&format!("{target}::{item}"))) {
            target = defining.clone();
        }
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

/// Every circle: one found, its last edge set aside, and again, so a failure names them all.
fn circles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    let mut graph = graph.clone();
    let mut found = Vec::new();
    while let Some(c) = circle(&graph) {
        let (from, to) = (&c[c.len() - 2], &c[c.len() - 1]);
        graph.get_mut(from).expect("node").remove(to);
        found.push(c);
    }
    found
}

fn graph(root: &str) -> BTreeMap<String, BTreeSet<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(root);
    let modules = modules(&root);
    let known: BTreeSet<String> = modules.keys().filter(|k| !k.is_empty()).cloned().collect();
    let reexported = reexports(&modules);
    modules
        .iter()
        .filter(|(name, _)| !name.is_empty())
        .map(|(name, code)| (name.clone(), references(name, code, &known, &reexported)))
        .collect()
}

#[test]
fn the_operator_modules_depend_one_way() {
    let graph = graph("src");
    assert!(graph.len() > 60, "every module of the crate is read: {}", graph.len());
    let uses = |from: &str, to: &str| graph[from].contains(to);
    assert!(uses("controller::data_product::reconcile", "controller::data_product::act"), "{graph:?}");
    assert!(uses("controller::data_product::act", "controller::decide::pass"), "{graph:?}");
    assert!(uses("run", "controller::data_product::reconcile"), "a path through a group counts: {graph:?}");
    assert!(uses("controller::data_product::reconcile", "datazone::error"), "through a re-export: {graph:?}");
    assert!(uses("datazone", "datazone::error"), "a facade uses what it re-exports: {graph:?}");
    let found = circles(&graph);
    assert!(found.is_empty(), "import circles in src/: {found:#?}");
}

#[test]
fn the_emulator_modules_depend_one_way() {
    let graph = graph("emulator/src");
    assert!(graph["server"].contains("shared") && graph["control"].contains("shared"), "{graph:?}");
    assert!(graph["datazone::runs"].contains("state"), "{graph:?}");
    assert!(graph["datazone"].contains("datazone::runs"), "a parent's own children count: {graph:?}");
    assert!(graph["datazone::runs"].contains("datazone::request"), "{graph:?}");
    let found = circles(&graph);
    assert!(found.is_empty(), "import circles in emulator/src/: {found:#?}");
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
    assert_eq!(circles(&edges(&[("a", "b"), ("b", "a"), ("c", "d"), ("d", "c")])).len(), 2, "both are named");
    let known: BTreeSet<String> = ["c", "c::act", "c::plan", "c::runs", "c::pass", "d"].map(str::to_string).into();
    let code = "use super::{act, plan::Step};\nfn f() { super::runs::follow(); crate::d::x(); }";
    assert_eq!(
        references("c::reconcile", code, &known, &BTreeMap::new()),
        ["c::act", "c::plan", "c::runs", "d"].map(str::to_string).into()
    );
    assert_eq!(references("c::act", "use super::*;", &known, &BTreeMap::new()), ["c".to_string()].into(), "a glob");
    assert_eq!(
        without_comment(r#"let url = "https://x\"y"; crate::d::x(); // crate::c::plan"#),
        r#"let url = "https://x\"y"; crate::d::x(); "#,
        "a `//` in a string is not a comment; one after it is"
    );
    let reexported: BTreeMap<String, String> = [("d::Item".to_string(), "c::pass".to_string())].into();
    assert_eq!(references("c::act", "use crate::d::Item;", &known, &reexported), ["c::pass".to_string()].into());
}
