//! Every relative link in the repository's Markdown (the READMEs and `docs/`) resolves: the file or
//! directory exists, and a `#anchor` names a heading of the Markdown file it points into, by
//! GitHub's rule for heading anchors. Links to the web (`https:`, `mailto:`) are not followed.
//! Also: every page under `docs/` is in `docs/SUMMARY.md`, the book's table of contents, since
//! mdBook (`make docs`) leaves out a page it does not list.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every Markdown file of the repository, outside build output and hidden directories.
fn markdown_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> =
            std::fs::read_dir(dir).expect("readable directory").map(|e| e.unwrap().path()).collect();
        entries.sort();
        for path in entries {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.starts_with('.') || name == "target" || name == "node_modules" {
                continue;
            }
            if path.is_dir() {
                walk(&path, out);
            } else if name.ends_with(".md") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&repo(), &mut out);
    out
}

/// The text with fenced code blocks and inline code spans blanked (newlines kept, so offsets still
/// give line numbers): a link or heading inside code is not one.
fn without_code(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut fence: Option<(char, usize)> = None;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let marker = trimmed.chars().next().filter(|c| *c == '`' || *c == '~');
        let run = marker.map(|c| trimmed.chars().take_while(|x| *x == c).count()).unwrap_or(0);
        match (fence, marker) {
            (None, Some(c)) if run >= 3 => {
                fence = Some((c, run));
                out.push_str(&blank(line));
            }
            (Some((c, n)), Some(m)) if m == c && run >= n && trimmed.trim_end().chars().all(|x| x == c) => {
                fence = None;
                out.push_str(&blank(line));
            }
            (Some(_), _) => out.push_str(&blank(line)),
            (None, _) => out.push_str(line),
        }
    }
    blank_code_spans(&out)
}

fn blank(s: &str) -> String {
    s.chars().map(|c| if c == '\n' { '\n' } else { ' ' }).collect()
}

/// Blanks inline code spans: a run of backticks up to the next run of the same length.
fn blank_code_spans(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = chars.clone();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '`' {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && chars[i] == '`' {
            i += 1;
        }
        let run = i - start;
        // The closing run of exactly the same length.
        let mut j = i;
        let mut close = None;
        while j < chars.len() {
            if chars[j] == '`' {
                let s = j;
                while j < chars.len() && chars[j] == '`' {
                    j += 1;
                }
                if j - s == run {
                    close = Some(j);
                    break;
                }
            } else {
                j += 1;
            }
        }
        if let Some(end) = close {
            for c in out.iter_mut().take(end).skip(start) {
                if *c != '\n' {
                    *c = ' ';
                }
            }
            i = end;
        }
    }
    out.into_iter().collect()
}

/// One link: the line it is on and its destination.
struct Link {
    line: usize,
    dest: String,
}

/// Inline links and images (`[text](dest)`, `![alt](dest "title")`) and reference definitions
/// (`[name]: dest`).
fn links(text: &str) -> Vec<Link> {
    let clean = without_code(text);
    let line_of = |offset: usize| clean[..offset].matches('\n').count() + 1;
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(found) = clean[at..].find("](") {
        let start = at + found + 2;
        // The destination: `<...>`, or up to the whitespace or the `)` that balances.
        let rest = &clean[start..];
        let dest = if let Some(inner) = rest.strip_prefix('<') {
            inner.split('>').next().unwrap_or_default().to_string()
        } else {
            let mut depth = 0;
            let mut end = rest.len();
            for (i, c) in rest.char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' if depth == 0 => {
                        end = i;
                        break;
                    }
                    ')' => depth -= 1,
                    c if c.is_whitespace() => {
                        end = i;
                        break;
                    }
                    _ => {}
                }
            }
            rest[..end].to_string()
        };
        if !dest.is_empty() {
            out.push(Link { line: line_of(start), dest });
        }
        at = start;
    }
    let mut offset = 0;
    for line in clean.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix('[')
            && let Some(close) = rest.find("]:")
            && !rest[..close].is_empty()
            && !rest.starts_with('^')
            && let Some(dest) = rest[close + 2..].split_whitespace().next()
        {
            let dest = dest.trim_start_matches('<').trim_end_matches('>').to_string();
            out.push(Link { line: line_of(offset), dest });
        }
        offset += line.len();
    }
    out
}

/// Is `dest` a link to the web or another scheme (not a file in the repository)?
fn is_external(dest: &str) -> bool {
    if dest.starts_with("//") {
        return true;
    }
    let scheme: String = dest.chars().take_while(|c| c.is_ascii_alphanumeric() || "+.-".contains(*c)).collect();
    !scheme.is_empty() && dest[scheme.len()..].starts_with(':') && scheme.chars().next().unwrap().is_ascii_alphabetic()
}

/// GitHub's anchor for a heading: the rendered text lowercased, every character but letters,
/// digits, spaces, `-` and `_` dropped, spaces made `-`.
fn slug(heading: &str) -> String {
    let text = rendered_text(heading);
    text.trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// A heading's text as rendered: links and images become their text, code spans their content,
/// emphasis and HTML tags go.
fn rendered_text(heading: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = heading.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            // `](dest)`: the destination is not text.
            ']' if chars.get(i + 1) == Some(&'(') => {
                let mut depth = 0;
                i += 2;
                while i < chars.len() {
                    match chars[i] {
                        '(' => depth += 1,
                        ')' if depth == 0 => break,
                        ')' => depth -= 1,
                        _ => {}
                    }
                    i += 1;
                }
            }
            '<' => {
                while i < chars.len() && chars[i] != '>' {
                    i += 1;
                }
            }
            '[' | ']' | '`' | '*' | '!' => {}
            c => out.push(c),
        }
        i += 1;
    }
    out
}

/// The anchors of a Markdown file: its ATX headings' slugs (a repeated one gets `-1`, `-2`, …)
/// and explicit `<a id>` / `<a name>` anchors.
fn anchors(text: &str) -> BTreeSet<String> {
    let clean = without_code(text);
    let mut out = BTreeSet::new();
    let mut seen: Vec<String> = Vec::new();
    // Headings are read from the original text (code spans in them count), at the lines the
    // blanked text says are outside fenced blocks.
    for (line, kept) in text.lines().zip(clean.lines()) {
        let trimmed = kept.trim_start();
        let level = trimmed.chars().take_while(|c| *c == '#').count();
        if (1..=6).contains(&level) && trimmed[level..].starts_with([' ', '\t']) {
            let original = line.trim_start()[level..].trim();
            let original = original.trim_end_matches('#').trim_end();
            let base = slug(original);
            let n = seen.iter().filter(|s| **s == base).count();
            seen.push(base.clone());
            out.insert(if n == 0 { base } else { format!("{base}-{n}") });
        }
        for key in ["id=\"", "name=\""] {
            for part in kept.split("<a ").skip(1) {
                if let Some(value) = part.split(key).nth(1).and_then(|v| v.split('"').next()) {
                    out.insert(value.to_string());
                }
            }
        }
    }
    out
}

/// Resolves `path` (relative to `from_dir`, or to the repository root when it starts with `/`)
/// without leaving the repository.
fn resolve(from_dir: &Path, path: &str) -> Option<PathBuf> {
    let root = repo();
    let decoded = path.replace("%20", " ");
    let joined = match decoded.strip_prefix('/') {
        Some(rest) => root.join(rest),
        None => from_dir.join(&decoded),
    };
    let mut out = PathBuf::new();
    for part in joined.components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out.starts_with(&root).then_some(out)
}

fn relative(path: &Path) -> String {
    path.strip_prefix(repo()).unwrap_or(path).display().to_string()
}

/// Why `dest`, linked from `file`, does not resolve (`None`: it does).
fn broken(file: &Path, dest: &str) -> Option<String> {
    if is_external(dest) {
        return None;
    }
    let (path, fragment) = match dest.split_once('#') {
        Some((p, f)) => (p, Some(f)),
        None => (dest, None),
    };
    let target = if path.is_empty() {
        file.to_path_buf()
    } else {
        match resolve(file.parent().unwrap(), path) {
            Some(t) => t,
            None => return Some("points outside the repository".into()),
        }
    };
    if !target.exists() {
        return Some(format!("{} does not exist", relative(&target)));
    }
    let fragment = fragment.filter(|f| !f.is_empty())?;
    if target.extension().is_none_or(|e| e != "md") {
        // Line anchors (`#L10`) and the like of other files are the code host's.
        return None;
    }
    let text = std::fs::read_to_string(&target).unwrap_or_default();
    let known = anchors(&text);
    let fragment = fragment.replace("%20", " ");
    (!known.contains(&fragment)).then(|| format!("{} has no heading with the anchor #{fragment}", relative(&target)))
}

#[test]
fn every_relative_link_resolves() {
    let files = markdown_files();
    assert!(files.iter().any(|f| f.ends_with("README.md")), "no Markdown found under {}", repo().display());
    let mut problems = Vec::new();
    let mut checked = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable Markdown");
        for link in links(&text) {
            checked += 1;
            if let Some(why) = broken(file, &link.dest) {
                problems.push(format!("{}:{}: ({}) {why}", relative(file), link.line, link.dest));
            }
        }
    }
    assert!(checked > 100, "only {checked} links found: is the parser still reading links?");
    assert!(problems.is_empty(), "{} broken links:\n{}", problems.len(), problems.join("\n"));
}

#[test]
fn every_docs_page_is_in_the_summary() {
    let docs = repo().join("docs");
    let summary = std::fs::read_to_string(docs.join("SUMMARY.md")).expect("docs/SUMMARY.md");
    let listed: BTreeSet<PathBuf> = links(&summary)
        .into_iter()
        .filter(|l| !is_external(&l.dest))
        .filter_map(|l| resolve(&docs, l.dest.split('#').next().unwrap_or_default()))
        .collect();
    let missing: Vec<String> = markdown_files()
        .into_iter()
        .filter(|f| f.starts_with(&docs) && !f.ends_with("SUMMARY.md") && !listed.contains(f))
        .map(|f| relative(&f))
        .collect();
    assert!(missing.is_empty(), "pages missing from docs/SUMMARY.md (the book leaves them out): {missing:?}");
}

#[test]
fn the_parser_reads_links_and_anchors_as_github_does() {
    let text = "# Title\n\nSee [a](b.md#x-y) and ![i](img.png \"t\") and `[no](code.md)`.\n\
                ```\n[no](fenced.md)\n# not a heading\n```\n[ref]: defs.md\n\
                ## At fleet scale (`make bench`)\n## Both: V1 & V2 — *new*\n## Both: V1 & V2 — *new*\n\
                ### Behaviours from [`docs/x.md`](../docs/x.md)\n[multi\nline](m.md)\n";
    let found: Vec<(usize, String)> = links(text).into_iter().map(|l| (l.line, l.dest)).collect();
    assert_eq!(
        found,
        [
            (3, "b.md#x-y".to_string()),
            (3, "img.png".to_string()),
            (12, "../docs/x.md".to_string()),
            (14, "m.md".to_string()),
            (8, "defs.md".to_string())
        ]
    );
    let anchors = anchors(text);
    for a in ["title", "at-fleet-scale-make-bench", "both-v1--v2--new", "both-v1--v2--new-1", "behaviours-from-docsxmd"]
    {
        assert!(anchors.contains(a), "{a} not in {anchors:?}");
    }
    assert!(!anchors.contains("not-a-heading"));
    assert!(is_external("https://example.com") && is_external("mailto:a@b") && !is_external("docs/x.md"));
}
