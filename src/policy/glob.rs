//! Glob patterns of the policy file (principals, users, profile names).
//!
//! Owns: compiling and matching globs.
//!
//! Invariants: `*` is the only special character and matches any run
//! (possibly empty) of characters **except `:`**, so a principal pattern can
//! never let a wildcard cross the partition, service, region or account field
//! of an ARN. Every other character, `?` included, matches itself exactly —
//! case-sensitively in the fields before the glob's first *folded* field, and
//! ignoring ASCII case from that field on ([`Glob::folding_from`]): IAM user,
//! role and Identity Center user names are unique regardless of case, so a
//! rule about `Mallory@example.com` is a rule about `mallory@example.com` too.
//! AWS names are ASCII (`[\w+=,.@-]`), so ASCII folding is the whole rule;
//! other characters always match exactly. Patterns are compiled (and folded
//! fields lowercased) once at load; matching allocates nothing and runs in
//! O(pattern × text) in the worst case.
//!
//! Because `*` never matches `:`, every `:` of a matching text is matched by a
//! literal `:` of the pattern, in order. So a pattern matches a text exactly when
//! both split into the same number of `:`-separated fields and each pattern
//! field matches its text field with an unrestricted `*`; that is how matching
//! is implemented, and it is what lets case apply per field.

use std::fmt;

/// Longest pattern accepted at load; bounds the matcher's work.
pub(crate) const MAX_GLOB_LEN: usize = 1_024;

/// A compiled glob.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Glob {
    source: Box<str>,
    /// The literal text before the first `*` (the whole pattern if none),
    /// ASCII-lowercased: a cheap necessary condition checked first, ignoring
    /// case (the fields decide case exactly).
    prefix: Box<[u8]>,
    /// The literal text after the last `*` (empty if none), likewise.
    suffix: Box<[u8]>,
    /// The `:`-separated fields, with runs of `*` collapsed to one.
    fields: Box<[Field]>,
}

#[derive(Clone, PartialEq, Eq)]
struct Field {
    /// The field's pattern; ASCII-lowercased when `fold`.
    bytes: Box<[u8]>,
    /// Contains `*` (else plain equality).
    wild: bool,
    /// Compared ignoring ASCII case.
    fold: bool,
}

impl Glob {
    /// Compiles `pattern`, matched case-sensitively throughout. Fails on an
    /// empty or over-long pattern.
    pub(crate) fn new(pattern: &str) -> Result<Self, String> {
        Self::folding_from(pattern, usize::MAX)
    }

    /// Compiles `pattern` so that its `:`-separated fields from index
    /// `first_folded` on (0-based) match ignoring ASCII case, the ones before
    /// it exactly: `0` for a username, `5` (the resource: type, path and names)
    /// for an ARN. Fails on an empty or over-long pattern.
    pub(crate) fn folding_from(pattern: &str, first_folded: usize) -> Result<Self, String> {
        if pattern.is_empty() {
            return Err("empty pattern".into());
        }
        if pattern.len() > MAX_GLOB_LEN {
            return Err(format!("pattern longer than {MAX_GLOB_LEN} bytes"));
        }
        let fields = pattern
            .split(':')
            .enumerate()
            .map(|(i, f)| {
                let fold = i >= first_folded;
                let mut bytes = Vec::with_capacity(f.len());
                for b in f.bytes() {
                    if !(b == b'*' && bytes.last() == Some(&b'*')) {
                        bytes.push(if fold { b.to_ascii_lowercase() } else { b });
                    }
                }
                Field {
                    wild: bytes.contains(&b'*'),
                    bytes: bytes.into(),
                    fold,
                }
            })
            .collect();
        let (prefix, suffix) = match (pattern.find('*'), pattern.rfind('*')) {
            (Some(first), Some(last)) => (&pattern[..first], &pattern[last + 1..]),
            _ => (pattern, ""),
        };
        Ok(Self {
            source: pattern.into(),
            prefix: prefix.to_ascii_lowercase().into_bytes().into(),
            suffix: suffix.to_ascii_lowercase().into_bytes().into(),
            fields,
        })
    }

    /// The pattern as written.
    pub(crate) fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the pattern contains no `*`.
    pub(crate) fn is_literal(&self) -> bool {
        self.fields.iter().all(|f| !f.wild)
    }

    /// The number of `:`-separated fields.
    pub(crate) fn field_count(&self) -> usize {
        self.fields.len()
    }

    /// Field `i` as written (with `*` runs collapsed, and lowercased if the
    /// field is folded), if present.
    pub(crate) fn field(&self, i: usize) -> Option<&str> {
        self.fields
            .get(i)
            .and_then(|f| std::str::from_utf8(&f.bytes).ok())
    }

    /// Whether field `i` is free of `*`.
    pub(crate) fn field_is_literal(&self, i: usize) -> bool {
        self.fields.get(i).is_some_and(|f| !f.wild)
    }

    /// Whether `text` matches the whole pattern.
    pub(crate) fn matches(&self, text: &str) -> bool {
        let text = text.as_bytes();
        // Necessary conditions first: most patterns of a policy fail here.
        let (p, s) = (self.prefix.len(), self.suffix.len());
        if text.len() < p.max(s)
            || !text[..p].eq_ignore_ascii_case(&self.prefix)
            || !text[text.len() - s..].eq_ignore_ascii_case(&self.suffix)
        {
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
            let ok = match (field.wild, field.fold) {
                (false, false) => *field.bytes == *seg,
                (false, true) => field.bytes.eq_ignore_ascii_case(seg),
                (true, false) => wild_match::<false>(&field.bytes, seg),
                (true, true) => wild_match::<true>(&field.bytes, seg),
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
/// that starts on a character boundary can only match at one. With `FOLD`, the
/// pattern is already lowercase and each text byte is lowercased as compared
/// (ASCII only, so non-ASCII bytes and UTF-8 boundaries are untouched).
fn wild_match<const FOLD: bool>(pat: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        let c = if FOLD {
            text[t].to_ascii_lowercase()
        } else {
            text[t]
        };
        if p < pat.len() && pat[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if p < pat.len() && pat[p] == c {
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
mod tests;
