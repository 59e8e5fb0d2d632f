//! Glob patterns of the policy file (principals, users, profile names).
//!
//! Owns: compiling and matching globs.
//!
//! Invariants: `*` is the only special character and matches any run
//! (possibly empty) of characters **except `:`**, so a principal pattern can
//! never let a wildcard cross the partition, service, region or account field
//! of an ARN. Every other character, `?` included, matches itself exactly and
//! case-sensitively. Patterns are compiled once at load; matching allocates
//! nothing and runs in O(pattern × text) in the worst case.
//!
//! Because `*` never matches `:`, every `:` of a matching text is matched by a
//! literal `:` of the pattern, in order. So a pattern matches a text exactly when
//! both split into the same number of `:`-separated fields and each pattern
//! field matches its text field with an unrestricted `*`; that is how matching
//! is implemented.

use std::fmt;

/// Longest pattern accepted at load; bounds the matcher's work.
pub(crate) const MAX_GLOB_LEN: usize = 1_024;

/// A compiled glob.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Glob {
    source: Box<str>,
    /// The literal text before the first `*` (the whole pattern if none): a
    /// cheap necessary condition checked first.
    prefix: Box<[u8]>,
    /// The literal text after the last `*` (empty if none).
    suffix: Box<[u8]>,
    /// The `:`-separated fields, with runs of `*` collapsed to one.
    fields: Box<[Field]>,
}

#[derive(Clone, PartialEq, Eq)]
enum Field {
    /// No `*`: plain equality.
    Literal(Box<[u8]>),
    /// Contains `*`.
    Wild(Box<[u8]>),
}

impl Glob {
    /// Compiles `pattern`. Fails on an empty or over-long pattern.
    pub(crate) fn new(pattern: &str) -> Result<Self, String> {
        if pattern.is_empty() {
            return Err("empty pattern".into());
        }
        if pattern.len() > MAX_GLOB_LEN {
            return Err(format!("pattern longer than {MAX_GLOB_LEN} bytes"));
        }
        let fields = pattern
            .split(':')
            .map(|f| {
                if f.contains('*') {
                    let mut bytes = Vec::with_capacity(f.len());
                    for b in f.bytes() {
                        if !(b == b'*' && bytes.last() == Some(&b'*')) {
                            bytes.push(b);
                        }
                    }
                    Field::Wild(bytes.into())
                } else {
                    Field::Literal(f.as_bytes().into())
                }
            })
            .collect();
        let (prefix, suffix) = match (pattern.find('*'), pattern.rfind('*')) {
            (Some(first), Some(last)) => (&pattern[..first], &pattern[last + 1..]),
            _ => (pattern, ""),
        };
        Ok(Self {
            source: pattern.into(),
            prefix: prefix.as_bytes().into(),
            suffix: suffix.as_bytes().into(),
            fields,
        })
    }

    /// The pattern as written.
    pub(crate) fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the pattern contains no `*`.
    pub(crate) fn is_literal(&self) -> bool {
        self.fields.iter().all(|f| matches!(f, Field::Literal(_)))
    }

    /// The number of `:`-separated fields.
    pub(crate) fn field_count(&self) -> usize {
        self.fields.len()
    }

    /// Field `i` as written (with `*` runs collapsed), if present.
    pub(crate) fn field(&self, i: usize) -> Option<&str> {
        self.fields.get(i).and_then(|f| {
            let bytes = match f {
                Field::Literal(b) | Field::Wild(b) => b,
            };
            std::str::from_utf8(bytes).ok()
        })
    }

    /// Whether field `i` is free of `*`.
    pub(crate) fn field_is_literal(&self, i: usize) -> bool {
        matches!(self.fields.get(i), Some(Field::Literal(_)))
    }

    /// Whether `text` matches the whole pattern.
    pub(crate) fn matches(&self, text: &str) -> bool {
        let text = text.as_bytes();
        // Necessary conditions first: most patterns of a policy fail here.
        if !text.starts_with(&self.prefix) || !text.ends_with(&self.suffix) {
            return false;
        }
        let n = self.fields.len();
        let mut rest = text;
        for (i, field) in self.fields.iter().enumerate() {
            let last = i + 1 == n;
            // Each field takes the text up to the next `:`; the last one must
            // take the rest, which then holds no `:`.
            let seg = match (rest.iter().position(|&b| b == b':'), last) {
                (Some(end), false) => &rest[..end],
                (None, true) => rest,
                _ => return false,
            };
            let ok = match field {
                Field::Literal(lit) => **lit == *seg,
                Field::Wild(pat) => wild_match(pat, seg),
            };
            if !ok {
                return false;
            }
            if !last {
                rest = &rest[seg.len() + 1..];
            }
        }
        true
    }
}

impl fmt::Debug for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Glob({:?})", self.source)
    }
}

/// Classic single-wildcard matching (`*` matches any bytes) with backtracking to
/// the most recent `*`, which is complete for a single wildcard kind. Matching
/// bytes is the same as matching characters: both sides are UTF-8, and a literal
/// that starts on a character boundary can only match at one.
fn wild_match(pat: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pat.len() && pat[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if p < pat.len() && pat[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pat[p..].iter().all(|&b| b == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The obviously-correct definition, character by character.
    fn reference(pat: &[char], text: &[char]) -> bool {
        match pat.split_first() {
            None => text.is_empty(),
            Some(('*', rest)) => {
                reference(rest, text)
                    || (!text.is_empty() && text[0] != ':' && reference(pat, &text[1..]))
            }
            Some((c, rest)) => !text.is_empty() && text[0] == *c && reference(rest, &text[1..]),
        }
    }

    fn reference_str(pat: &str, text: &str) -> bool {
        let p: Vec<char> = pat.chars().collect();
        let t: Vec<char> = text.chars().collect();
        reference(&p, &t)
    }

    fn m(pat: &str, text: &str) -> bool {
        Glob::new(pat).expect("valid pattern").matches(text)
    }

    #[test]
    fn table() {
        let sso = "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123abcd/alice@example.com";
        let cases: &[(&str, &str, bool)] = &[
            ("*", "", true),
            ("*", "anything", true),
            ("*", "a:b", false),
            ("*:*", "a:b", true),
            ("prod-*", "prod-admin", true),
            ("prod-*", "prod-", true),
            ("prod-*", "dev-admin", false),
            ("*-admin", "prod-admin", true),
            ("p*d*n", "prod-admin", true),
            ("a?c", "abc", false),
            ("a?c", "a?c", true),
            ("*@example.com", "alice@example.com", true),
            ("*@example.com", "alice@example.com.evil", false),
            ("*@example.com", "alice@EXAMPLE.com", false),
            (
                "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_*/*",
                sso,
                true,
            ),
            (
                "arn:aws:sts::*:assumed-role/AWSReservedSSO_Admin_*/*",
                sso,
                true,
            ),
            ("arn:aws:sts::111122223333:*", sso, true),
            ("arn:*:sts::111122223333:*", sso, true),
            // `*` never spans a field separator.
            ("arn:aws:sts:*:assumed-role/*", sso, false),
            ("arn:aws:*:*", sso, false),
            ("arn:*", sso, false),
            ("arn:aws:sts::11112222333*:*", sso, true),
            (
                "arn:aws:sts::111122223333:assumed-role/*",
                "arn:aws:sts::111122223333:assumed-role/R/x:y",
                false,
            ),
            ("ab**c", "abxxc", true),
            ("a*b*c", "abc", true),
            ("a*b*c", "acb", false),
            ("ünï*", "ünïcode", true),
            ("*é", "café", true),
        ];
        for &(pat, text, want) in cases {
            assert_eq!(m(pat, text), want, "{pat:?} vs {text:?}");
            assert_eq!(
                reference_str(pat, text),
                want,
                "reference {pat:?} vs {text:?}"
            );
        }
    }

    #[test]
    fn rejects_empty_and_huge() {
        assert!(Glob::new("").is_err());
        assert!(Glob::new(&"a".repeat(MAX_GLOB_LEN + 1)).is_err());
        assert!(Glob::new(&"a".repeat(MAX_GLOB_LEN)).is_ok());
    }

    #[test]
    fn field_accessors() {
        let g = Glob::new("arn:aws:iam::1111**:root").unwrap();
        assert_eq!(g.field_count(), 6);
        assert_eq!(g.field(4), Some("1111*"));
        assert!(!g.field_is_literal(4));
        assert!(g.field_is_literal(5));
        assert!(!g.is_literal());
        assert!(Glob::new("prod-admin").unwrap().is_literal());
    }

    #[test]
    fn pathological_pattern_is_fast() {
        let pat = format!("{}b", "a*".repeat(200));
        let text = "a".repeat(1_000);
        assert!(!m(&pat, &text));
    }

    fn alphabet() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop::sample::select(vec!['a', 'b', ':', '*', '/', 'é']),
            0..12,
        )
        .prop_map(|v| v.into_iter().collect())
    }

    fn text_alphabet() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop::sample::select(vec!['a', 'b', ':', '/', 'é', '*']),
            0..16,
        )
        .prop_map(|v| v.into_iter().collect())
    }

    proptest! {
        #[test]
        fn agrees_with_reference(pat in alphabet(), text in text_alphabet()) {
            prop_assume!(!pat.is_empty());
            prop_assert_eq!(m(&pat, &text), reference_str(&pat, &text));
        }

        #[test]
        fn star_never_matches_a_colon(prefix in "[a-z]{0,4}", suffix in "[a-z]{0,4}", mid in "[a-z:]{0,8}") {
            prop_assume!(mid.contains(':'));
            let pat = format!("{prefix}*{suffix}");
            let text = format!("{prefix}{mid}{suffix}");
            prop_assert!(!m(&pat, &text));
        }

        #[test]
        fn literal_matches_only_itself(a in "[a-z:/]{1,10}", b in "[a-z:/]{0,10}") {
            prop_assert!(m(&a, &a));
            prop_assert_eq!(m(&a, &b), a == b);
        }

        #[test]
        fn star_matches_any_colon_free_text(text in "[^:]{0,20}") {
            prop_assert!(m("*", &text));
        }
    }
}
