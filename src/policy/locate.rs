//! Best-effort source locations for the key paths of load errors.
//!
//! Owns: mapping a key path such as `rules[3].principals[0]` or
//! `profiles.prod-admin.session_tags.tvm-user` (the `path` of a
//! [`PolicyError::Invalid`](super::PolicyError::Invalid)) back to a 1-based line
//! and column of the policy text. The YAML parser only locates its own errors;
//! the checks that run after it only know key paths.
//!
//! Invariant: **no location rather than a wrong one.** The scanner follows the
//! YAML policies are written in: block mappings and sequences (a sequence may
//! sit at its key's indentation), plain, quoted and block (`|`, `>`) scalars,
//! comments, one leading `---`, and flow collections (`["a", b]`,
//! `{start: "08:00"}`). On anything else it gives up (`None`): tabs, CR or
//! Unicode line breaks, a byte-order mark, anchors, aliases, tags, complex
//! (`?`) keys, directives, a multi-line plain scalar inside a flow collection,
//! a double-quoted key with an escape it does not decode, a path that names no
//! node or more than one (`profiles.a.b` when both `a: {b: …}` and `"a.b"`
//! exist). It only runs on text the YAML parser accepted, and its answer only
//! decorates an error message.
//!
//! A mapping entry is located at its key, a sequence entry at its first
//! character (the `-` when the entry is empty). Columns count characters,
//! like the parser's.
//!
//! Layout: the path search here; the shared types in `locate/scan.rs`, block
//! structure in `locate/block.rs`, quoted scalars and flow collections in
//! `locate/flow.rs`; tests in `tests_locate.rs`.

mod block;
mod flow;
mod scan;

use scan::{Node, Pos, Scanner};

/// The 1-based `(line, column)` of the node `path` names in `text`, when sure.
pub(crate) fn locate(text: &str, path: &str) -> Option<(usize, usize)> {
    if path.is_empty() || path == "." || text.starts_with('\u{feff}') {
        return None;
    }
    if text.contains(['\t', '\u{85}', '\u{2028}', '\u{2029}']) {
        return None;
    }
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    if lines.iter().any(|l| l.contains('\r')) {
        return None;
    }
    let mut scanner = Scanner {
        lines: &lines,
        depth: 0,
    };
    let root = scanner.document().ok()?;
    let mut found = Vec::new();
    find(&root, path, &mut found);
    found.dedup();
    match found[..] {
        [at] => {
            let line = lines[at.line];
            Some((at.line + 1, line[..at.byte].chars().count() + 1))
        }
        _ => None,
    }
}

/// Collects the position of every node below `node` that `rest` can name
/// (`rest` starts with a key for a mapping, `[i]` for a sequence).
fn find(node: &Node, rest: &str, out: &mut Vec<Pos>) {
    match node {
        Node::Map(entries) => {
            for (key, at, value) in entries {
                if let Some(after) = key.as_deref().and_then(|k| rest.strip_prefix(k)) {
                    descend(value, after, *at, out);
                }
            }
        }
        Node::Seq(items) => {
            let Some((index, after)) = rest.strip_prefix('[').and_then(|r| r.split_once(']'))
            else {
                return;
            };
            if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
                return;
            }
            if let Some((at, value)) = index.parse::<usize>().ok().and_then(|i| items.get(i)) {
                descend(value, after, *at, out);
            }
        }
        Node::Leaf => {}
    }
}

/// `rest` is what the path holds after the node at `at`.
fn descend(node: &Node, rest: &str, at: Pos, out: &mut Vec<Pos>) {
    if rest.is_empty() {
        out.push(at);
    } else if let Some(r) = rest.strip_prefix('.') {
        if matches!(node, Node::Map(_)) {
            find(node, r, out);
        }
    } else if rest.starts_with('[') && matches!(node, Node::Seq(_)) {
        find(node, rest, out);
    }
}
