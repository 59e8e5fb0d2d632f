//! Session tags of a profile: templates compiled at load, rendered per vend.
//!
//! Owns: the AWS session-tag limits and the `{placeholder}` template language.
//!
//! Invariants:
//! - keys are literal, checked at load: 1..=[`MAX_TAG_KEY_CHARS`] characters of
//!   the AWS tag alphabet, not starting with `aws:` (any case), unique ignoring
//!   case, at most [`MAX_SESSION_TAGS`] per profile;
//! - values are templates over `{user}`, `{account}`, `{principal}`,
//!   `{profile}`, `{request_id}`; any other `{` or `}` is a load error; the
//!   literal parts are checked at load;
//! - **a rendered value that breaks the limits refuses the vend** (a
//!   [`TagError`]); it is never truncated or rewritten. Tags feed ABAC
//!   conditions in AWS, and rewriting (e.g. `,` to `-`) or truncating could make
//!   two callers carry the same tag value; refusing cannot.
//!
//! The AWS alphabet is `[\p{L}\p{Z}\p{N}_.:/=+\-@]`. Without Unicode tables in
//! the dependency tree, non-ASCII letters are approximated by Rust's
//! `Alphabetic` property (a superset of `L` that also holds some combining
//! marks); such a value is at worst refused by STS (a 502), never mis-granted.

use std::collections::HashSet;
use std::fmt;

use thiserror::Error;

/// Most session tags AWS accepts on one `AssumeRole`.
pub const MAX_SESSION_TAGS: usize = 50;

/// Longest tag key AWS accepts, in characters.
pub const MAX_TAG_KEY_CHARS: usize = 128;

/// Longest tag value AWS accepts, in characters.
pub const MAX_TAG_VALUE_CHARS: usize = 256;

/// The values a tag template can refer to, for one vend.
#[derive(Debug, Clone, Copy)]
pub struct TagContext<'a> {
    /// `{user}`: the username of DESIGN §3.
    pub user: &'a str,
    /// `{account}`: the caller's account id.
    pub account: &'a str,
    /// `{principal}`: the caller's canonical principal (the role ARN for a role session).
    pub principal: &'a str,
    /// `{profile}`: the profile name.
    pub profile: &'a str,
    /// `{request_id}`: the tvm request id.
    pub request_id: &'a str,
}

impl<'a> TagContext<'a> {
    /// The context for `identity` vending `profile` in request `request_id`.
    pub fn new(
        identity: &'a crate::identity::Identity,
        profile: &'a str,
        request_id: &'a str,
    ) -> Self {
        Self {
            user: identity.username(),
            account: identity.account().as_str(),
            principal: identity.canonical_principal(),
            profile,
            request_id,
        }
    }
}

/// Why rendered session tags cannot be sent; the vend must be refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TagError {
    /// The rendered value is longer than [`MAX_TAG_VALUE_CHARS`].
    #[error("session tag {key:?}: rendered value longer than {MAX_TAG_VALUE_CHARS} characters")]
    ValueTooLong {
        /// The tag key (from the policy, not caller input).
        key: String,
    },
    /// The rendered value holds a character AWS does not allow in tags.
    #[error("session tag {key:?}: rendered value holds a character not allowed in tags")]
    IllegalCharacter {
        /// The tag key (from the policy, not caller input).
        key: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Var {
    User,
    Account,
    Principal,
    Profile,
    RequestId,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Lit(String),
    Var(Var),
}

/// A compiled tag value template.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct TagTemplate {
    source: String,
    parts: Vec<Part>,
}

impl fmt::Debug for TagTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TagTemplate({:?})", self.source)
    }
}

impl TagTemplate {
    /// Compiles a value template, checking its literal parts.
    pub(crate) fn compile(source: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut rest = source;
        while let Some(c) = rest.chars().next() {
            if c == '{' {
                let close = rest
                    .find('}')
                    .ok_or_else(|| "unclosed `{` in template".to_owned())?;
                let var = match &rest[1..close] {
                    "user" => Var::User,
                    "account" => Var::Account,
                    "principal" => Var::Principal,
                    "profile" => Var::Profile,
                    "request_id" => Var::RequestId,
                    other => {
                        return Err(format!(
                            "unknown placeholder {{{other}}}; known: {{user}}, {{account}}, {{principal}}, {{profile}}, {{request_id}}"
                        ))
                    }
                };
                if !lit.is_empty() {
                    parts.push(Part::Lit(std::mem::take(&mut lit)));
                }
                parts.push(Part::Var(var));
                rest = &rest[close + 1..];
            } else if c == '}' {
                return Err("unmatched `}` in template".into());
            } else {
                if !is_tag_char(c) {
                    return Err(format!("character {c:?} is not allowed in a tag value"));
                }
                lit.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
        if !lit.is_empty() {
            parts.push(Part::Lit(lit));
        }
        let literal_chars: usize = parts
            .iter()
            .map(|p| match p {
                Part::Lit(s) => s.chars().count(),
                Part::Var(_) => 0,
            })
            .sum();
        if literal_chars > MAX_TAG_VALUE_CHARS {
            return Err(format!(
                "value longer than {MAX_TAG_VALUE_CHARS} characters"
            ));
        }
        Ok(Self {
            source: source.to_owned(),
            parts,
        })
    }

    /// The template as written.
    pub(crate) fn source(&self) -> &str {
        &self.source
    }

    /// Renders the template; fails rather than truncate or rewrite.
    pub(crate) fn render(&self, key: &str, ctx: &TagContext<'_>) -> Result<String, TagError> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Lit(s) => out.push_str(s),
                Part::Var(v) => {
                    let value = match v {
                        Var::User => ctx.user,
                        Var::Account => ctx.account,
                        Var::Principal => ctx.principal,
                        Var::Profile => ctx.profile,
                        Var::RequestId => ctx.request_id,
                    };
                    if !value.chars().all(is_tag_char) {
                        return Err(TagError::IllegalCharacter {
                            key: key.to_owned(),
                        });
                    }
                    out.push_str(value);
                }
            }
            // Bounded early: a hostile value never makes a large string.
            if out.len() > MAX_TAG_VALUE_CHARS * 4 {
                return Err(TagError::ValueTooLong {
                    key: key.to_owned(),
                });
            }
        }
        if out.chars().count() > MAX_TAG_VALUE_CHARS {
            return Err(TagError::ValueTooLong {
                key: key.to_owned(),
            });
        }
        Ok(out)
    }
}

/// Whether AWS accepts `c` in a tag key or value (see the module doc).
pub(crate) fn is_tag_char(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric() || " _.:/=+-@".contains(c)
    } else {
        c.is_alphabetic() || c.is_numeric() || is_space_separator(c)
    }
}

/// Unicode `Z` (Zs, Zl, Zp) outside ASCII.
fn is_space_separator(c: char) -> bool {
    matches!(
        c,
        '\u{00A0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200A}' | '\u{2028}' | '\u{2029}' | '\u{202F}' | '\u{205F}' | '\u{3000}'
    )
}

/// Checks a tag key against the AWS limits (not uniqueness).
pub(crate) fn check_key(key: &str) -> Result<(), String> {
    let n = key.chars().count();
    if n == 0 || n > MAX_TAG_KEY_CHARS {
        return Err(format!(
            "tag key must be 1..={MAX_TAG_KEY_CHARS} characters"
        ));
    }
    if !key.chars().all(is_tag_char) {
        return Err(format!(
            "tag key {key:?} holds a character not allowed in tags"
        ));
    }
    if key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("aws:")) {
        return Err(format!("tag key {key:?} uses the reserved `aws:` prefix"));
    }
    Ok(())
}

/// Checks a set of keys for case-insensitive uniqueness and the count limit;
/// returns the offending key's index.
pub(crate) fn check_key_set<'a>(
    keys: impl Iterator<Item = &'a str>,
) -> Result<(), (usize, String)> {
    let mut seen = HashSet::new();
    for (i, key) in keys.enumerate() {
        if i >= MAX_SESSION_TAGS {
            return Err((i, format!("more than {MAX_SESSION_TAGS} session tags")));
        }
        if !seen.insert(key.to_lowercase()) {
            return Err((
                i,
                format!("tag key {key:?} repeats another key (keys are case-insensitive)"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> TagContext<'static> {
        TagContext {
            user: "alice@example.com",
            account: "111122223333",
            principal: "arn:aws:iam::111122223333:role/Admin",
            profile: "prod-admin",
            request_id: "7f3a9c2e4b1d",
        }
    }

    fn render(t: &str, c: &TagContext<'_>) -> Result<String, TagError> {
        TagTemplate::compile(t).expect("template").render("k", c)
    }

    #[test]
    fn renders_every_placeholder() {
        let out = render(
            "{user}|{account}|{principal}|{profile}|{request_id}"
                .replace('|', "/")
                .as_str(),
            &ctx(),
        );
        assert_eq!(
            out.unwrap(),
            "alice@example.com/111122223333/arn:aws:iam::111122223333:role/Admin/prod-admin/7f3a9c2e4b1d"
        );
        assert_eq!(render("static value", &ctx()).unwrap(), "static value");
        assert_eq!(render("", &ctx()).unwrap(), "");
        assert_eq!(
            render("via tvm: {user}", &ctx()).unwrap(),
            "via tvm: alice@example.com"
        );
    }

    #[test]
    fn bad_templates_fail_at_load() {
        for t in [
            "{users}",
            "{user",
            "user}",
            "{}",
            "{{user}}",
            "a,b",
            "a\nb",
            "a#b",
            &"x".repeat(257),
        ] {
            assert!(TagTemplate::compile(t).is_err(), "{t:?}");
        }
        assert!(TagTemplate::compile(&"x".repeat(256)).is_ok());
        assert!(TagTemplate::compile("Grüße 東京 ①").is_ok());
    }

    #[test]
    fn illegal_rendered_values_refuse_the_vend() {
        let mut c = ctx();
        c.user = "bob,admin";
        assert_eq!(
            render("{user}", &c),
            Err(TagError::IllegalCharacter { key: "k".into() })
        );
        c.user = "bob\u{0}";
        assert!(render("{user}", &c).is_err());
        let long = "a".repeat(250);
        c.user = &long;
        assert!(render("{user}", &c).is_ok());
        assert_eq!(
            render("{user}-{user}", &c),
            Err(TagError::ValueTooLong { key: "k".into() })
        );
        let exact = "é".repeat(256);
        c.user = &exact;
        assert!(
            render("{user}", &c).is_ok(),
            "limit counts characters, not bytes"
        );
    }

    #[test]
    fn keys() {
        assert!(check_key("tvm-user").is_ok());
        assert!(check_key("team:name/x=y+z@w_v.u").is_ok());
        assert!(check_key(&"k".repeat(128)).is_ok());
        for k in [
            "",
            "aws:foo",
            "AWS:foo",
            "Aws:x",
            "bad,key",
            "tab\tkey",
            &"k".repeat(129),
        ] {
            assert!(check_key(k).is_err(), "{k:?}");
        }
        assert!(check_key_set(["a", "b"].into_iter()).is_ok());
        assert_eq!(check_key_set(["a", "B", "b"].into_iter()).unwrap_err().0, 2);
        let many: Vec<String> = (0..51).map(|i| format!("k{i}")).collect();
        assert_eq!(
            check_key_set(many.iter().map(String::as_str))
                .unwrap_err()
                .0,
            50
        );
        assert!(check_key_set(many[..50].iter().map(String::as_str)).is_ok());
    }

    #[test]
    fn tag_alphabet() {
        for c in [
            'a', 'Z', '0', ' ', '_', '.', ':', '/', '=', '+', '-', '@', 'é', '東', '①', '\u{3000}',
        ] {
            assert!(is_tag_char(c), "{c:?}");
        }
        for c in [
            ',', '#', '\t', '\n', '\u{0}', '!', '"', '{', '}', '*', '\u{200B}',
        ] {
            assert!(!is_tag_char(c), "{c:?}");
        }
    }
}
