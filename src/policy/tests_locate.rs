//! The locator: key paths back to line and column, in block and flow style,
//! with quoted keys and block scalars; `None` whenever it cannot be sure; and a
//! property test that renders random documents and checks every node's place.

use proptest::prelude::*;

use super::locate::locate;
use super::{Policy, PolicyError};

const POLICY: &str = r#"# comment
version: 1
profiles:
  prod-admin:
    role_arn: arn:aws:iam::111122223333:role/TvmProtected-ProdAdmin
    max_duration: 1h   # trailing comment
    session_tags:
      tvm-user: "{user}"
      "team.name": '{profile}'
    transitive_tag_keys:
    - tvm-user
    session_policy: |
      {"Version": "2012-10-17",
       "Statement": [
      {"Sid": "x", "Effect": "Deny", "Action": "s3:*", "Resource": "*"}
       ]}
rules:
  - name: break-glass
    effect: deny
    principals:
      - "arn:aws:sts::111122223333:assumed-role/ci/*"
      - arn:aws:iam::111122223333:user/mallory
  -
    name: admins
    effect: allow
    accounts: ["111122223333", "444455556666"]
    time: {days: [mon, tue],
           hours: {start: "08:00", end: "18:00"}}
"#;

#[test]
fn block_style_paths() {
    let at = |path| locate(POLICY, path);
    assert_eq!(at("version"), Some((2, 1)));
    assert_eq!(at("profiles.prod-admin"), Some((4, 3)));
    assert_eq!(at("profiles.prod-admin.role_arn"), Some((5, 5)));
    assert_eq!(at("profiles.prod-admin.max_duration"), Some((6, 5)));
    assert_eq!(
        at("profiles.prod-admin.session_tags.tvm-user"),
        Some((8, 7))
    );
    assert_eq!(at("profiles.prod-admin.session_policy"), Some((12, 5)));
    assert_eq!(at("rules"), Some((17, 1)));
    assert_eq!(at("rules[0]"), Some((18, 5)));
    assert_eq!(at("rules[0].effect"), Some((19, 5)));
    assert_eq!(at("rules[1]"), Some((24, 5))); // the line after its dash
    assert_eq!(at("rules[1].effect"), Some((25, 5)));
}

#[test]
fn nested_lists() {
    let at = |path| locate(POLICY, path);
    assert_eq!(at("rules[0].principals[0]"), Some((21, 9)));
    assert_eq!(at("rules[0].principals[1]"), Some((22, 9)));
    // A list at its key's indentation.
    assert_eq!(
        at("profiles.prod-admin.transitive_tag_keys[0]"),
        Some((11, 7))
    );
    let text = "a:\n- - x\n  - y\n-\n  - z\nb:\n  - [p, [q, r]]\n";
    assert_eq!(locate(text, "a"), Some((1, 1)));
    assert_eq!(locate(text, "a[0]"), Some((2, 3)));
    assert_eq!(locate(text, "a[0][1]"), Some((3, 5)));
    assert_eq!(locate(text, "a[1]"), Some((5, 3)));
    assert_eq!(locate(text, "a[1][0]"), Some((5, 5)));
    assert_eq!(locate(text, "b[0][1]"), Some((7, 9)));
    assert_eq!(locate(text, "b[0][1][1]"), Some((7, 13)));
    for missing in [
        "a[2]", "a[0][2]", "a[x]", "a[]", "a[+1]", "a.b", "b[0].x", "c",
    ] {
        assert_eq!(locate(text, missing), None, "{missing}");
    }
}

#[test]
fn flow_style() {
    let at = |path| locate(POLICY, path);
    assert_eq!(at("rules[1].accounts[0]"), Some((26, 16)));
    assert_eq!(at("rules[1].accounts[1]"), Some((26, 32)));
    assert_eq!(at("rules[1].time.days[1]"), Some((27, 24)));
    assert_eq!(at("rules[1].time.hours.end"), Some((28, 36))); // next line
    let text = "version: 1\nrules: [{name: r, effect: allow, accounts: [\"é\", x]}]\n";
    // Columns count characters, not bytes.
    assert_eq!(locate(text, "rules[0].accounts[1]"), Some((2, 50)));
    assert_eq!(locate(text, "rules[0].effect"), Some((2, 19)));
    let text = "{a: {\"b\":1, 'c d': [x, {e: f}]}}\n";
    assert_eq!(locate(text, "a.c d[1].e"), Some((1, 25)));
}

#[test]
fn flow_style_falls_back_to_nothing_when_unsure() {
    for text in [
        // A plain scalar over two lines inside a flow collection.
        "a: [x\n  y, z]\n",
        // Anchors, aliases and tags.
        "a: &l [x, y]\nb: *l\n",
        "a: [&x x, y]\n",
        "a: !!seq [x, y]\n",
        // Complex keys and a single-pair mapping in a list.
        "a: [x: 1, y]\n",
        "? a\n: [x, y]\n",
        // Tabs, CR and Unicode line breaks, a byte-order mark.
        "a:\t[x, y]\n",
        "a: [x, y]\r\r\n",
        "a: [x,\u{2028} y]\n",
        "\u{feff}a: [x, y]\n",
        // Directives and several documents.
        "%YAML 1.2\n---\na: [x, y]\n",
        "a: [x, y]\n---\na: [x, y]\n",
    ] {
        assert_eq!(locate(text, "a[1]"), None, "{text:?}");
    }
    assert_eq!(locate("a: [x, y]\r\n", "a[1]"), Some((1, 8)));
    assert_eq!(locate("---\na: [x, y]\n...\n", "a[1]"), Some((2, 8)));
    assert_eq!(locate("a: [x, y]\n", "."), None);
    assert_eq!(locate("a: [x, y]\n", ""), None);
}

#[test]
fn quoted_keys() {
    assert_eq!(
        locate(POLICY, "profiles.prod-admin.session_tags.team.name"),
        Some((9, 7))
    );
    let text = "\"a\": 1\n'b''c': 2\n\"d\\u002Ee\": 3\n\"f\\ag\": 4\n";
    assert_eq!(locate(text, "a"), Some((1, 1)));
    assert_eq!(locate(text, "b'c"), Some((2, 1)));
    assert_eq!(locate(text, "d.e"), Some((3, 1)), "escapes are decoded");
    assert_eq!(locate(text, "f\u{7}g"), None); // `\a` is not decoded
    let text = "a:\n  \"h\" : 5\n  'i': {\"j\": x}\n";
    assert_eq!(locate(text, "a.h"), Some((2, 3)));
    assert_eq!(locate(text, "a.i.j"), Some((3, 9)));
}

#[test]
fn ambiguous_paths_give_nothing() {
    let text = "p:\n  a:\n    b: 1\n  a.b: 2\n  c.d: 3\n";
    assert_eq!(locate(text, "p.a.b"), None);
    assert_eq!(locate(text, "p.c.d"), Some((5, 3)));
    assert_eq!(locate(text, "p.a"), Some((2, 3)));
}

#[test]
fn scalars_over_several_lines() {
    let text = "a: plain\n  continued\nb: |+2\n    - x: y\n  # not a comment\n\nc: \"two\n  lines\"\nd: >\n x\ne: 1\n";
    assert_eq!(locate(text, "b"), Some((3, 1)));
    assert_eq!(locate(text, "c"), Some((7, 1)));
    assert_eq!(locate(text, "d"), Some((9, 1)));
    assert_eq!(locate(text, "e"), Some((11, 1)));
}

/// Loads `text` and returns where its (semantic) error is located.
fn error_at(text: &str) -> Option<(usize, usize)> {
    let e = Policy::from_yaml(text).expect_err("invalid");
    assert!(matches!(e, PolicyError::Invalid { .. }), "{e}");
    e.location(text)
}

#[test]
fn load_errors_are_located() {
    let bad = |from: &str, to: &str| POLICY.replacen(from, to, 1);
    let cases = [
        (bad("1h ", "13h"), (6, 5)),
        (bad("{user}", "{who}"), (8, 7)),
        (bad("- tvm-user\n", "- nope\n"), (11, 7)),
        (bad("111122223333:user", "11112222333:user"), (22, 9)),
        (bad("\"444455556666\"", "\"4444\""), (26, 32)),
        (bad("\"08:00\"", "\"8:00\""), (28, 20)),
        (
            bad("    accounts: [\"111122223333\", \"444455556666\"]\n", ""),
            (24, 5),
        ),
    ];
    for (text, at) in &cases {
        assert_eq!(error_at(text), Some(*at), "{text}");
    }
    // Parser errors keep the parser's own location.
    let text = "version: 1\nrules: [{name: r, effect: allow, acounts: []}]\n";
    let e = Policy::from_yaml(text).unwrap_err();
    assert_eq!(e.location(text), Some((2, 34)));
}

/// A generated document: `flow` chooses the style of a collection.
#[derive(Debug, Clone)]
enum Doc {
    Scalar(usize),
    Map(bool, Vec<((usize, usize), Doc)>),
    Seq(bool, Vec<Doc>),
}

const KEYS: [&str; 6] = ["k0", "role_arn", "a-b", "x y", "é", "tvm:user"];
/// Scalars as written in block context (5: a block scalar), then in flow context.
const BLOCK: [&str; 5] = ["v", "arn:aws:iam::1:role/R", "\"q: x\"", "'it''s'", "x # c"];
const FLOW: [&str; 6] = [
    "v",
    "arn:aws:iam::1:role/R",
    "\"q: x, y\"",
    "'a]'",
    "é",
    "\"\"",
];

/// Map entries: distinct key names, each with a quoting style and a value.
fn entries(
    value: impl Strategy<Value = Doc>,
    n: std::ops::Range<usize>,
) -> impl Strategy<Value = Vec<((usize, usize), Doc)>> {
    prop::collection::btree_map(0..KEYS.len(), (0..4usize, value), n).prop_map(|m| {
        m.into_iter()
            .map(|(k, (style, v))| ((k, style), v))
            .collect()
    })
}

fn doc() -> impl Strategy<Value = Doc> {
    (0..FLOW.len())
        .prop_map(Doc::Scalar)
        .prop_recursive(4, 40, 4, |inner| {
            let flow = || prop::bool::weighted(0.3);
            prop_oneof![
                (flow(), entries(inner.clone(), 0..4)).prop_map(|(f, e)| Doc::Map(f, e)),
                (flow(), prop::collection::vec(inner, 0..4)).prop_map(|(f, v)| Doc::Seq(f, v)),
            ]
        })
}

/// The 1-based position where the next character of `out` goes.
fn here(out: &str) -> (usize, usize) {
    let start = out.rfind('\n').map_or(0, |i| i + 1);
    (
        out.matches('\n').count() + 1,
        out[start..].chars().count() + 1,
    )
}

fn key((name, style): (usize, usize)) -> String {
    let name = KEYS[name];
    match style {
        0 => name.to_owned(),
        1 => format!("\"{name}\""),
        2 => format!("'{name}'"),
        _ => {
            let mut c = name.chars();
            let first = c.next().expect("non-empty");
            format!("\"\\u{:04X}{}\"", u32::from(first), c.as_str())
        }
    }
}

struct Render {
    out: String,
    places: Vec<(String, (usize, usize))>,
}

impl Render {
    fn flow(&mut self, d: &Doc, path: &str) {
        match d {
            Doc::Scalar(i) => self.out.push_str(FLOW[*i]),
            Doc::Map(_, entries) => {
                self.out.push('{');
                for (i, (k, v)) in entries.iter().enumerate() {
                    let p = format!("{path}.{}", KEYS[k.0]);
                    self.places.push((p.clone(), here(&self.out)));
                    self.out.push_str(&format!("{}: ", key(*k)));
                    self.flow(v, &p);
                    self.out.push_str(if i % 2 == 0 { ", " } else { ",\n   " });
                }
                self.out.push('}');
            }
            Doc::Seq(_, items) => {
                self.out.push('[');
                for (i, v) in items.iter().enumerate() {
                    let p = format!("{path}[{i}]");
                    self.places.push((p.clone(), here(&self.out)));
                    self.flow(v, &p);
                    self.out.push_str(", ");
                }
                self.out.push(']');
            }
        }
    }

    /// Writes `d` after its key or dash; `n` is the indentation of the
    /// collection holding it; `item` records where a list entry starts.
    fn value(&mut self, d: &Doc, path: &str, n: usize, item: bool) {
        let mark = |r: &mut Self, at: (usize, usize)| {
            if item {
                r.places.push((path.to_owned(), at));
            }
        };
        match d {
            Doc::Map(false, e) if !e.is_empty() => {
                self.out.push('\n');
                mark(self, (here(&self.out).0, n + 3));
                self.block(d, path, n + 2);
            }
            Doc::Seq(false, items) if !items.is_empty() => {
                let m = if item {
                    n + 2
                } else {
                    n + 2 * (path.len() % 2)
                };
                self.out.push('\n');
                mark(self, (here(&self.out).0, m + 1));
                self.block(d, path, m);
            }
            _ => {
                self.out.push(' ');
                mark(self, here(&self.out));
                match d {
                    Doc::Scalar(5) => {
                        let pad = " ".repeat(n + 3);
                        self.out.push_str(&format!("|\n{pad}- x: y\n{pad}# text\n"));
                    }
                    Doc::Scalar(i) => self.out.push_str(&format!("{}\n", BLOCK[*i])),
                    _ => {
                        self.flow(d, path);
                        self.out.push('\n');
                    }
                }
            }
        }
    }

    /// Writes a non-empty block collection at indentation `n`.
    fn block(&mut self, d: &Doc, path: &str, n: usize) {
        match d {
            Doc::Map(_, entries) => {
                for (k, v) in entries {
                    self.out.push_str(&" ".repeat(n));
                    let p = format!(
                        "{path}{}{}",
                        if path.is_empty() { "" } else { "." },
                        KEYS[k.0]
                    );
                    self.places.push((p.clone(), here(&self.out)));
                    self.out.push_str(&format!("{}:", key(*k)));
                    self.value(v, &p, n, false);
                }
            }
            Doc::Seq(_, items) => {
                for (i, v) in items.iter().enumerate() {
                    self.out.push_str(&format!("{}-", " ".repeat(n)));
                    self.value(v, &format!("{path}[{i}]"), n, true);
                }
            }
            Doc::Scalar(_) => unreachable!("block() is only called with collections"),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_node_of_a_generated_document_is_located(
        entries in entries(doc(), 1..5),
        flow_root in any::<bool>(),
    ) {
        let root = Doc::Map(flow_root, entries);
        let mut r = Render { out: "# generated\n".into(), places: Vec::new() };
        if flow_root {
            r.flow(&root, "");
            r.out.push('\n');
        } else {
            r.block(&root, "", 0);
        }
        let text = r.out;
        prop_assert!(serde_yaml_ng::from_str::<serde_yaml_ng::Value>(&text).is_ok(), "not YAML:\n{text}");
        for (path, at) in &r.places {
            let path = path.strip_prefix('.').unwrap_or(path);
            prop_assert_eq!(locate(&text, path), Some(*at), "{}\n{}", path, text);
        }
    }
}
