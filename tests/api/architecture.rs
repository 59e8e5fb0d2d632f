//! The layering rule of `src/lib.rs`, checked on the source itself.
//!
//! `src/lib.rs` opens with a table of layers, each naming its top-level modules.
//! This test reads that table, collects every `crate::…`, `super::…` and
//! `self::…` path of every non-test source file (in `use` items and in code),
//! resolves each to the file that defines it (following `pub use` re-exports),
//! and fails, naming file and line, when
//! - a module imports one in a higher layer;
//! - files import each other in a circle, or top-level modules do;
//! - a module of `lib.rs` is missing from the table, or the table names one that
//!   does not exist.
//!
//! Test code (`tests.rs`, `tests_*.rs`, `testutil.rs`, `tests/` folders and
//! `#[cfg(test)] mod … { … }` blocks) is free to reach anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// One `crate::…` path found in a file, with where it was found.
#[derive(Debug, Clone)]
struct Reference {
    line: usize,
    /// The path as written, e.g. `crate::auth::VerifiedCaller`.
    written: String,
    /// Absolute module path segments, without `crate`.
    segments: Vec<String>,
    /// Written inside a `pub use` (a re-export, not a use of the item).
    reexport: bool,
}

/// A source file: its path under `src/` and the references it makes.
struct SourceFile {
    rel: String,
    module: Vec<String>,
    refs: Vec<Reference>,
    /// Names this file re-exports: name → absolute path of the original.
    reexports: BTreeMap<String, Vec<String>>,
}

/// The layer table: top-level module → (rank, layer name). Higher ranks sit above.
type Layers = BTreeMap<String, (u32, String)>;

#[test]
fn every_import_points_down_the_layer_table() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut sources = Vec::new();
    collect(&root, &root, &mut sources);
    let lib = std::fs::read_to_string(root.join("lib.rs")).expect("read src/lib.rs");
    let problems = check(&lib, &sources);
    assert!(
        problems.is_empty(),
        "the layering rule of src/lib.rs is broken:\n{}",
        problems.join("\n")
    );
}

#[test]
fn a_planted_upward_import_is_named_with_its_line() {
    let lib = "//! | layer | modules | owns |\n\
               //! |---|---|---|\n\
               //! | 2 http surface | `http` | routes |\n\
               //! | 1 services | `vend` | the pipeline |\n\
               pub mod http;\npub mod vend;\n";
    let files = vec![
        (
            "http/mod.rs".to_string(),
            "use crate::vend::Vendor;\n".to_string(),
        ),
        (
            "vend.rs".to_string(),
            "//! Vends.\nuse std::sync::Arc;\nuse crate::http::ApiError;\npub struct Vendor;\n"
                .to_string(),
        ),
    ];
    let problems = check(lib, &files);
    assert!(
        problems.iter().any(|p| p.starts_with("src/vend.rs:3:")
            && p.contains("crate::http::ApiError")
            && p.contains("points up")),
        "{problems:#?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("circle")),
        "{problems:#?}"
    );
}

#[test]
fn sibling_files_importing_each_other_are_a_circle() {
    let lib =
        "//! | layer | modules | owns |\n//! | 1 base | `policy` | rules |\npub mod policy;\n";
    let files = vec![
        (
            "policy/mod.rs".to_string(),
            "mod model;\nmod window;\npub use model::Policy;\n".to_string(),
        ),
        (
            "policy/model.rs".to_string(),
            "use super::window::Window;\n".to_string(),
        ),
        (
            "policy/window.rs".to_string(),
            "fn f() -> crate::policy::Policy { todo() }\n".to_string(),
        ),
    ];
    let problems = check(lib, &files);
    assert!(
        problems.iter().any(|p| p.contains("circle")
            && p.contains("src/policy/model.rs")
            && p.contains("src/policy/window.rs")),
        "{problems:#?}"
    );
}

#[test]
fn use_trees_expand_with_aliases_and_names_that_contain_as() {
    let got = expand_use("crate::config::{DatabaseSettings, file::Config as FileConfig, self}");
    let want: Vec<(String, Option<String>)> = vec![
        ("crate::config::DatabaseSettings".into(), None),
        (
            "crate::config::file::Config".into(),
            Some("FileConfig".into()),
        ),
        ("crate::config".into(), None),
    ];
    assert_eq!(got, want);
}

/// Reads every `.rs` file under `dir` into `out` as (path under src, text).
fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("read src")
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect(root, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path.strip_prefix(root).expect("under src");
            let rel = rel.to_string_lossy().replace('\\', "/");
            out.push((rel, std::fs::read_to_string(&path).expect("read source")));
        }
    }
}

/// All problems of a tree: (path under src, text) pairs plus `lib.rs`'s text.
fn check(lib: &str, files: &[(String, String)]) -> Vec<String> {
    let mut problems = Vec::new();
    let layers = match parse_layers(lib) {
        Ok(l) => l,
        Err(e) => return vec![e],
    };
    let declared = declared_modules(lib);
    for m in &declared {
        if !layers.contains_key(m) {
            problems.push(format!(
                "src/lib.rs: module `{m}` is not in the layer table"
            ));
        }
    }
    for m in layers.keys() {
        if !declared.contains(m) {
            problems.push(format!(
                "src/lib.rs: the layer table names `{m}`, which lib.rs does not declare"
            ));
        }
    }
    let sources: Vec<SourceFile> = files
        .iter()
        .filter(|(rel, _)| !is_test_file(rel) && rel != "lib.rs" && rel != "main.rs")
        .map(|(rel, text)| parse_file(rel, text))
        .collect();
    let by_module: BTreeMap<Vec<String>, usize> = sources
        .iter()
        .enumerate()
        .map(|(i, s)| (s.module.clone(), i))
        .collect();

    // File edges, for the layer check and the circles.
    let mut edges: BTreeMap<usize, BTreeMap<usize, Reference>> = BTreeMap::new();
    for (i, s) in sources.iter().enumerate() {
        for r in &s.refs {
            let Some(j) = resolve(&sources, &by_module, &r.segments) else {
                continue;
            };
            if j == i {
                continue;
            }
            let target = &sources[j];
            // A parent naming its own descendant in a `pub use` is structure, not use.
            if r.reexport && target.module.starts_with(&s.module) {
                continue;
            }
            let (from, to) = (&s.module[0], &target.module[0]);
            if from != to {
                if let (Some((fr, fname)), Some((tr, tname))) = (layers.get(from), layers.get(to)) {
                    if tr > fr {
                        problems.push(format!(
                            "src/{}:{}: `{}` points up: `{from}` ({fname}, layer {fr}) may not import `{to}` ({tname}, layer {tr})",
                            s.rel, r.line, r.written
                        ));
                    }
                }
            }
            edges
                .entry(i)
                .or_default()
                .entry(j)
                .or_insert_with(|| r.clone());
        }
    }

    for circle in circles(sources.len(), &edges) {
        let steps: Vec<String> = circle
            .iter()
            .map(|&i| {
                // Name one edge that keeps this file in the circle.
                let out = edges[&i]
                    .iter()
                    .find(|(j, _)| circle.contains(j))
                    .expect("edge in circle");
                format!(
                    "src/{}:{} → src/{}",
                    sources[i].rel, out.1.line, sources[*out.0].rel
                )
            })
            .collect();
        problems.push(format!(
            "circle of {} files: {}",
            circle.len(),
            steps.join(", ")
        ));
    }

    // Top-level modules in a circle through different files.
    let mut top_edges: BTreeMap<usize, BTreeMap<usize, Reference>> = BTreeMap::new();
    let tops: Vec<String> = layers.keys().cloned().collect();
    let top_index = |m: &str| tops.iter().position(|t| t == m);
    for (i, targets) in &edges {
        for (j, r) in targets {
            let (a, b) = (&sources[*i].module[0], &sources[*j].module[0]);
            if let (Some(a), Some(b)) = (top_index(a), top_index(b)) {
                if a != b {
                    let mut r = r.clone();
                    r.written = format!("src/{}:{} `{}`", sources[*i].rel, r.line, r.written);
                    top_edges.entry(a).or_default().entry(b).or_insert(r);
                }
            }
        }
    }
    for circle in circles(tops.len(), &top_edges) {
        let steps: Vec<String> = circle
            .iter()
            .map(|&i| {
                let out = top_edges[&i]
                    .iter()
                    .find(|(j, _)| circle.contains(j))
                    .expect("edge");
                format!("`{}` → `{}` ({})", tops[i], tops[*out.0], out.1.written)
            })
            .collect();
        problems.push(format!(
            "circle of {} modules: {}",
            circle.len(),
            steps.join(", ")
        ));
    }
    problems
}

/// The rows `//! | N name | `a`, `b` | … |` of lib.rs's layer table.
fn parse_layers(lib: &str) -> Result<Layers, String> {
    let mut layers = Layers::new();
    for line in lib.lines() {
        let Some(row) = line.trim().strip_prefix("//!") else {
            continue;
        };
        let cells: Vec<&str> = row.trim().split('|').map(str::trim).collect();
        if cells.len() < 4 || !cells[0].is_empty() {
            continue;
        }
        let first = cells[1];
        let digits: String = first.chars().take_while(char::is_ascii_digit).collect();
        let Ok(rank) = digits.parse::<u32>() else {
            continue;
        };
        let name = first[digits.len()..].trim().to_string();
        for module in cells[2].split(',') {
            let module = module.trim().trim_matches('`').to_string();
            if module.is_empty() {
                continue;
            }
            if layers
                .insert(module.clone(), (rank, name.clone()))
                .is_some()
            {
                return Err(format!(
                    "src/lib.rs: `{module}` appears twice in the layer table"
                ));
            }
        }
    }
    if layers.is_empty() {
        return Err(
            "src/lib.rs has no layer table (`//! | N name | `module`, … | what |` rows)".into(),
        );
    }
    Ok(layers)
}

/// `mod x;` and `pub mod x;` items of lib.rs.
fn declared_modules(lib: &str) -> BTreeSet<String> {
    lib.lines()
        .filter_map(|l| {
            let l = l.trim();
            let l = l
                .strip_prefix("pub(crate) ")
                .or_else(|| l.strip_prefix("pub "))
                .unwrap_or(l);
            l.strip_prefix("mod ")?
                .strip_suffix(';')
                .map(|m| m.trim().to_string())
        })
        .collect()
}

fn is_test_file(rel: &str) -> bool {
    let mut parts = rel.split('/');
    let file = parts.next_back().unwrap_or_default();
    parts.any(|p| p == "tests")
        || file == "tests.rs"
        || file.starts_with("tests_")
        || file == "testutil.rs"
}

/// Module path of a file: `auth/mod.rs` → [auth], `auth/caller.rs` → [auth, caller].
fn module_of(rel: &str) -> Vec<String> {
    let stem = rel.strip_suffix(".rs").unwrap_or(rel);
    let mut parts: Vec<String> = stem.split('/').map(str::to_string).collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

fn parse_file(rel: &str, text: &str) -> SourceFile {
    let module = module_of(rel);
    let code = strip_comments_and_tests(text);
    let children = declared_modules(&code);
    // Uniform paths: `child::x` names a module this file declares.
    let anchored = |path: &str| -> String {
        match path.split("::").next() {
            Some(first) if children.contains(first) => format!("self::{path}"),
            _ => path.to_string(),
        }
    };
    let mut refs = Vec::new();
    let mut reexports = BTreeMap::new();
    // `use` items: expand their trees.
    let mut consumed = vec![false; code.len()];
    let bytes = code.as_bytes();
    let mut at = 0;
    while let Some(found) = code[at..].find("use ") {
        let start = at + found;
        at = start + 4;
        let before = code[..start].trim_end();
        let boundary = start == 0 || !is_ident(bytes[start - 1]);
        let item_start = before.is_empty()
            || before.ends_with(';')
            || before.ends_with('{')
            || before.ends_with('}')
            || before.ends_with(']')
            || before.ends_with("pub")
            || before.ends_with(')');
        if !boundary || !item_start {
            continue;
        }
        let Some(end) = code[start..].find(';') else {
            break;
        };
        let end = start + end;
        let reexport = before.ends_with("pub") || before.ends_with(')');
        let line = code[..start].matches('\n').count() + 1;
        // Whitespace folded to single spaces: ` as ` must stay a word.
        let tree = code[start + 4..end]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        for (path, alias) in expand_use(&tree) {
            let path = anchored(&path);
            if let Some(segments) = absolute(&module, &path) {
                if reexport {
                    let name = alias.clone().unwrap_or_else(|| {
                        path.rsplit("::").next().unwrap_or_default().to_string()
                    });
                    reexports.insert(name, segments.clone());
                }
                refs.push(Reference {
                    line,
                    written: path,
                    segments,
                    reexport,
                });
            }
        }
        for c in consumed.iter_mut().take(end).skip(start) {
            *c = true;
        }
        at = end;
    }
    // Paths in code.
    let prefixes: Vec<String> = ["crate", "super", "self"]
        .into_iter()
        .map(str::to_string)
        .chain(children.iter().cloned())
        .map(|p| format!("{p}::"))
        .collect();
    for prefix in &prefixes {
        let mut at = 0;
        while let Some(found) = code[at..].find(prefix) {
            let start = at + found;
            at = start + prefix.len();
            if consumed[start]
                || (start > 0 && (is_ident(bytes[start - 1]) || bytes[start - 1] == b':'))
            {
                continue;
            }
            let mut end = at;
            while end < bytes.len() && (is_ident(bytes[end]) || code[end..].starts_with("::")) {
                end += if bytes[end] == b':' { 2 } else { 1 };
            }
            let path = anchored(code[start..end].trim_end_matches("::"));
            if let Some(segments) = absolute(&module, &path) {
                let line = code[..start].matches('\n').count() + 1;
                refs.push(Reference {
                    line,
                    written: path,
                    segments,
                    reexport: false,
                });
            }
        }
    }
    SourceFile {
        rel: rel.to_string(),
        module,
        refs,
        reexports,
    }
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Blanks comments (keeping lines) and cuts `#[cfg(test)] mod x { … }` blocks.
fn strip_comments_and_tests(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut in_str = false;
    while let Some(c) = chars.next() {
        if in_str {
            out.push(c);
            if c == '\\' {
                if let Some(n) = chars.next() {
                    out.push(if n == '\n' { '\n' } else { ' ' });
                }
            } else if c == '"' {
                in_str = false;
            }
            continue;
        }
        match (c, chars.peek()) {
            ('/', Some('/')) => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            ('/', Some('*')) => {
                let mut prev = ' ';
                for n in chars.by_ref() {
                    if n == '\n' {
                        out.push('\n');
                    }
                    if prev == '*' && n == '/' {
                        break;
                    }
                    prev = n;
                }
            }
            ('"', _) => {
                in_str = true;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    // Cut test modules with a body.
    let mut result = String::with_capacity(out.len());
    let mut rest = out.as_str();
    while let Some(pos) = rest.find("#[cfg(test)]") {
        let after = &rest[pos + "#[cfg(test)]".len()..];
        let trimmed = after.trim_start();
        let is_block = (trimmed.starts_with("mod ") || trimmed.starts_with("pub mod "))
            && trimmed
                .find(['{', ';'])
                .is_some_and(|i| trimmed.as_bytes()[i] == b'{');
        if !is_block {
            result.push_str(&rest[..pos + "#[cfg(test)]".len()]);
            rest = after;
            continue;
        }
        result.push_str(&rest[..pos]);
        let open = pos
            + "#[cfg(test)]".len()
            + (after.len() - trimmed.len())
            + trimmed.find('{').expect("block");
        let mut depth = 0usize;
        let mut close = rest.len();
        for (i, ch) in rest[open..].char_indices() {
            match ch {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        close = open + i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        // Keep the line count.
        result.extend(rest[pos..close].chars().filter(|&c| c == '\n'));
        rest = &rest[close..];
    }
    result.push_str(rest);
    result
}

/// Expands a `use` tree (whitespace folded to single spaces) into
/// (path, alias) pairs.
fn expand_use(tree: &str) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    expand_into("", tree, &mut out);
    out
}

fn expand_into(prefix: &str, tree: &str, out: &mut Vec<(String, Option<String>)>) {
    let tree = tree.trim();
    if let Some(open) = tree.find('{') {
        let head: String = tree[..open]
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
        let base = format!("{prefix}{head}");
        let mut depth = 0;
        let mut start = 0;
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand_into(&base, &inner[start..i], out);
                    start = i + 1;
                }
                _ => {}
            }
        }
        expand_into(&base, &inner[start..], out);
        return;
    }
    if tree.is_empty() {
        return;
    }
    let (path, alias) = match tree.split_once(" as ") {
        Some((p, a)) => (p.trim().to_string(), Some(a.trim().to_string())),
        None => (tree.to_string(), None),
    };
    let path: String = path.chars().filter(|c| !c.is_whitespace()).collect();
    let full = format!("{prefix}{path}");
    let full = full.strip_suffix("::self").unwrap_or(&full).to_string();
    out.push((full, alias));
}

/// Absolute module segments of a `crate::`/`super::`/`self::` path, or None for
/// paths into other crates.
fn absolute(module: &[String], path: &str) -> Option<Vec<String>> {
    let mut segs: Vec<&str> = path
        .split("::")
        .filter(|s| !s.is_empty() && *s != "*")
        .collect();
    let mut base: Vec<String> = match *segs.first()? {
        "crate" => {
            segs.remove(0);
            Vec::new()
        }
        "self" => {
            segs.remove(0);
            module.to_vec()
        }
        "super" => {
            let mut b = module.to_vec();
            while segs.first() == Some(&"super") {
                segs.remove(0);
                b.pop();
            }
            b
        }
        _ => return None,
    };
    base.extend(segs.iter().map(|s| s.to_string()));
    Some(base)
}

/// The file that defines what `segments` names, following `pub use` re-exports.
fn resolve(
    sources: &[SourceFile],
    by_module: &BTreeMap<Vec<String>, usize>,
    segments: &[String],
) -> Option<usize> {
    let mut segments = segments.to_vec();
    for _ in 0..8 {
        let (len, &file) = (1..=segments.len())
            .rev()
            .find_map(|n| by_module.get(&segments[..n]).map(|f| (n, f)))?;
        let Some(next) = segments.get(len) else {
            return Some(file);
        };
        match sources[file].reexports.get(next) {
            Some(original) if original.as_slice() != segments.as_slice() => {
                let mut followed = original.clone();
                followed.extend(segments[len + 1..].iter().cloned());
                segments = followed;
            }
            _ => return Some(file),
        }
    }
    None
}

/// Strongly connected components of more than one node (Tarjan), each sorted.
fn circles(n: usize, edges: &BTreeMap<usize, BTreeMap<usize, Reference>>) -> Vec<Vec<usize>> {
    struct State<'a> {
        edges: &'a BTreeMap<usize, BTreeMap<usize, Reference>>,
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        stack: Vec<usize>,
        on_stack: Vec<bool>,
        next: usize,
        out: Vec<Vec<usize>>,
    }
    fn visit(s: &mut State<'_>, v: usize) {
        s.index[v] = Some(s.next);
        s.low[v] = s.next;
        s.next += 1;
        s.stack.push(v);
        s.on_stack[v] = true;
        let targets: Vec<usize> = s
            .edges
            .get(&v)
            .map(|t| t.keys().copied().collect())
            .unwrap_or_default();
        for w in targets {
            match s.index[w] {
                None => {
                    visit(s, w);
                    s.low[v] = s.low[v].min(s.low[w]);
                }
                Some(iw) if s.on_stack[w] => s.low[v] = s.low[v].min(iw),
                Some(_) => {}
            }
        }
        if Some(s.low[v]) == s.index[v] {
            let mut comp = Vec::new();
            loop {
                let w = s.stack.pop().expect("stack");
                s.on_stack[w] = false;
                comp.push(w);
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort_unstable();
                s.out.push(comp);
            }
        }
    }
    let mut s = State {
        edges,
        index: vec![None; n],
        low: vec![0; n],
        stack: Vec::new(),
        on_stack: vec![false; n],
        next: 0,
        out: Vec::new(),
    };
    for v in 0..n {
        if s.index[v].is_none() {
            visit(&mut s, v);
        }
    }
    s.out
}
