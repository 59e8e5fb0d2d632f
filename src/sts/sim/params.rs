//! Query-protocol parameters: strict `application/x-www-form-urlencoded`
//! decoding of the query string and the form body, and the parameter map the
//! actions read.
//!
//! Invariants: a malformed percent escape or non-UTF-8 value is an error, never
//! a lossy guess; a request carries at most [`MAX_PARAMS`] parameters; a name
//! given twice is reported (the first value is kept for the record only, the
//! request is rejected); the recorded copy never contains `X-Amz-Signature` or
//! `X-Amz-Security-Token`.

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;

use http::StatusCode;

use super::xml::{echo, StsFault};

/// Most parameters one request may carry (AssumeRole's worst case is about 160:
/// 50 tags of two fields, 50 transitive keys, 10 policy ARNs and scalars).
pub(crate) const MAX_PARAMS: usize = 512;

/// Parameter names never kept in a [`RecordedCall`](super::RecordedCall):
/// they are authentication material.
const UNRECORDED: [&str; 3] = [
    "X-Amz-Signature",
    "X-Amz-Security-Token",
    "WebIdentityToken",
];

/// Decodes one `x-www-form-urlencoded` component: `+` is a space, `%XX` a byte.
pub(crate) fn decode_component(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let mut byte = [0u8; 1];
                hex::decode_to_slice(hex, &mut byte).ok()?;
                out.push(byte[0]);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// Splits a form/query string into raw `(name, value)` slices, skipping empty
/// segments; a segment without `=` has an empty value.
pub(crate) fn raw_pairs(raw: &str) -> impl Iterator<Item = (&str, &str)> {
    raw.split('&')
        .filter(|s| !s.is_empty())
        .map(|s| s.split_once('=').unwrap_or((s, "")))
}

/// Decodes a whole form/query string.
pub(crate) fn decode_form(raw: &str) -> Result<Vec<(String, String)>, StsFault> {
    raw_pairs(raw)
        .map(|(k, v)| match (decode_component(k), decode_component(v)) {
            (Some(k), Some(v)) => Ok((k, v)),
            _ => Err(malformed(
                "The query string or body is not valid URL encoding.",
            )),
        })
        .collect()
}

fn malformed(message: &str) -> StsFault {
    StsFault::new(StatusCode::BAD_REQUEST, "MalformedQueryString", message)
}

/// The decoded parameters of one request (query and form body together).
#[derive(Debug, Default, Clone)]
pub(crate) struct Params {
    map: BTreeMap<String, String>,
    duplicate: Option<String>,
    too_many: bool,
}

impl Params {
    /// Collects pairs; the first value of a repeated name is kept and the
    /// repetition remembered for [`Params::check`].
    pub(crate) fn collect(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut params = Params::default();
        for (k, v) in pairs {
            if params.map.len() >= MAX_PARAMS {
                params.too_many = true;
                break;
            }
            match params.map.entry(k) {
                Entry::Occupied(e) => {
                    params.duplicate.get_or_insert_with(|| e.key().clone());
                }
                Entry::Vacant(e) => {
                    e.insert(v);
                }
            }
        }
        params
    }

    /// Rejects a repeated name or too many parameters.
    pub(crate) fn check(&self) -> Result<(), StsFault> {
        if self.too_many {
            return Err(malformed("The request has too many parameters."));
        }
        if let Some(name) = &self.duplicate {
            return Err(malformed(&format!(
                "The parameter {} is given more than once.",
                echo(name)
            )));
        }
        Ok(())
    }

    /// The value of `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.map.get(name).map(String::as_str)
    }

    /// All parameters whose name starts with `prefix`, with the prefix removed.
    pub(crate) fn with_prefix<'a>(
        &'a self,
        prefix: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.map
            .range::<str, _>((
                std::ops::Bound::Included(prefix),
                std::ops::Bound::Unbounded,
            ))
            .map_while(move |(k, v)| k.strip_prefix(prefix).map(|rest| (rest, v.as_str())))
    }

    /// The copy kept in the call record: everything but authentication material.
    pub(crate) fn recorded(&self) -> BTreeMap<String, String> {
        self.map
            .iter()
            .filter(|(k, _)| !UNRECORDED.iter().any(|u| u.eq_ignore_ascii_case(k)))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decodes_strictly() {
        assert_eq!(decode_component("a+b%2Bc%3d").as_deref(), Some("a b+c="));
        assert_eq!(decode_component("%E2%82%AC").as_deref(), Some("€"));
        assert_eq!(decode_component("%"), None);
        assert_eq!(decode_component("%4"), None);
        assert_eq!(decode_component("%zz"), None);
        assert_eq!(decode_component("%FF"), None);
        assert_eq!(
            decode_form("Action=GetCallerIdentity&&Version=2011-06-15&flag").unwrap(),
            vec![
                ("Action".into(), "GetCallerIdentity".into()),
                ("Version".into(), "2011-06-15".into()),
                ("flag".into(), String::new()),
            ]
        );
        assert_eq!(
            decode_form("a=%G0").unwrap_err().code,
            "MalformedQueryString"
        );
    }

    #[test]
    fn params_detect_duplicates_and_filter_secrets() {
        let p = Params::collect(
            [
                ("A", "1"),
                ("X-Amz-Signature", "s"),
                ("x-amz-security-token", "t"),
                ("A", "2"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
        );
        assert_eq!(p.get("A"), Some("1"));
        assert_eq!(p.check().unwrap_err().code, "MalformedQueryString");
        let rec = p.recorded();
        assert_eq!(rec.len(), 1);
        assert_eq!(rec["A"], "1");
    }

    #[test]
    fn prefix_iteration_stops_at_the_prefix_end() {
        let p = Params::collect(
            [
                "Tags.member.1.Key",
                "Tags.member.1.Value",
                "TagsX",
                "Tag",
                "Z",
            ]
            .map(|k| (k.to_owned(), "v".to_owned())),
        );
        let got: Vec<_> = p.with_prefix("Tags.member.").map(|(k, _)| k).collect();
        assert_eq!(got, ["1.Key", "1.Value"]);
    }

    #[test]
    fn too_many_params_are_rejected() {
        let p = Params::collect((0..MAX_PARAMS + 1).map(|i| (format!("p{i}"), String::new())));
        assert!(p.check().is_err());
    }

    proptest! {
        #[test]
        fn decode_never_panics(s in ".{0,64}") {
            let _ = decode_form(&s);
        }

        #[test]
        fn percent_encoding_round_trips(s in "\\PC{0,32}") {
            let encoded: String = s.bytes().map(|b| format!("%{b:02X}")).collect();
            prop_assert_eq!(decode_component(&encoded), Some(s));
        }
    }
}
