//! The policy file as written (DESIGN §5), before validation.
//!
//! Owns: the serde shape of the file.
//!
//! Invariants: every struct denies unknown fields; mappings keyed by name
//! (`profiles`, `session_tags`) reject duplicate keys instead of letting the
//! last one win; account ids must be quoted strings (an unquoted YAML integer
//! would silently lose a leading zero). Nothing here is trusted yet: `load`
//! validates and compiles it.

use std::collections::HashSet;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPolicy {
    pub(crate) version: u32,
    #[serde(default)]
    pub(crate) profiles: UniqueMap<RawProfile>,
    #[serde(default)]
    pub(crate) rules: Vec<RawRule>,
    /// The accounts whose IAM Identity Center sessions name a person
    /// (DESIGN §13).
    #[serde(default)]
    pub(crate) sso_accounts: Vec<AccountText>,
    /// Who may revoke anyone's sessions, lift and read everything (DESIGN
    /// §13); matched as a rule's caller conditions, `principals` required.
    #[serde(default)]
    pub(crate) admins: Option<RawApprovers>,
}

/// One entry of `profiles`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawProfile {
    pub(crate) role_arn: String,
    #[serde(default)]
    pub(crate) max_duration: Option<String>,
    #[serde(default)]
    pub(crate) default_duration: Option<String>,
    #[serde(default)]
    pub(crate) external_id: Option<String>,
    #[serde(default)]
    pub(crate) session_tags: UniqueMap<String>,
    #[serde(default)]
    pub(crate) transitive_tag_keys: Vec<String>,
    /// A JSON document given either as a YAML mapping or as a JSON string.
    #[serde(default)]
    pub(crate) session_policy: Option<StrictJson>,
}

/// `effect:` of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RawEffect {
    Allow,
    Deny,
    #[serde(rename = "require_approval")]
    RequireApproval,
    #[serde(rename = "break_glass")]
    BreakGlass,
}

/// `approvers:` of a `require_approval` rule (DESIGN §12), and the
/// top-level `admins:` (DESIGN §13), which has the same shape.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawApprovers {
    #[serde(default)]
    pub(crate) accounts: Option<Vec<AccountText>>,
    #[serde(default)]
    pub(crate) principals: Option<Vec<String>>,
    #[serde(default)]
    pub(crate) users: Option<Vec<String>>,
}

/// `principal_types:` entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum RawPrincipalType {
    User,
    AssumedRole,
    FederatedUser,
    Root,
}

/// One entry of `rules`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRule {
    pub(crate) name: String,
    pub(crate) effect: RawEffect,
    #[serde(default)]
    pub(crate) accounts: Option<Vec<AccountText>>,
    #[serde(default)]
    pub(crate) principals: Option<Vec<String>>,
    #[serde(default)]
    pub(crate) users: Option<Vec<String>>,
    #[serde(default)]
    pub(crate) principal_types: Option<Vec<RawPrincipalType>>,
    #[serde(default)]
    pub(crate) profiles: Option<Vec<String>>,
    #[serde(default)]
    pub(crate) time: Option<RawTime>,
    #[serde(default)]
    pub(crate) max_duration: Option<String>,
    /// `require_approval`: who may approve.
    #[serde(default)]
    pub(crate) approvers: Option<RawApprovers>,
    /// `require_approval`: distinct approvers needed (default 1).
    #[serde(default)]
    pub(crate) approvals_needed: Option<u32>,
    /// `require_approval`: how long a grant stays usable (default 1h).
    #[serde(default)]
    pub(crate) grant_duration: Option<String>,
    /// `break_glass`: shortest reason accepted (default 20).
    #[serde(default)]
    pub(crate) reason_min_length: Option<u32>,
}

/// `time:` of a rule.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTime {
    #[serde(default)]
    pub(crate) days: Option<Vec<Day>>,
    #[serde(default)]
    pub(crate) hours: Option<RawHours>,
    #[serde(default)]
    pub(crate) timezone: Option<String>,
}

/// `hours:` of a time condition.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawHours {
    pub(crate) start: String,
    pub(crate) end: String,
}

/// An account id; only a YAML string is accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AccountText(pub(crate) String);

impl<'de> Deserialize<'de> for AccountText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = AccountText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a 12-digit account id as a quoted string, e.g. \"111122223333\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<AccountText, E> {
                Ok(AccountText(v.to_owned()))
            }
        }
        // `deserialize_any` so an unquoted number reaches `visit_u64` and is
        // refused, instead of being handed over as its decimal text.
        d.deserialize_any(V)
    }
}

/// Any JSON-shaped value, from YAML or JSON text, with duplicate object keys
/// refused at every depth (serde_json's own `Value` keeps the last one).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StrictJson(pub(crate) serde_json::Value);

impl<'de> Deserialize<'de> for StrictJson {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde_json::Value;
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StrictJson;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<StrictJson, E> {
                Ok(StrictJson(Value::Bool(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<StrictJson, E> {
                Ok(StrictJson(Value::from(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<StrictJson, E> {
                Ok(StrictJson(Value::from(v)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<StrictJson, E> {
                serde_json::Number::from_f64(v)
                    .map(|n| StrictJson(Value::Number(n)))
                    .ok_or_else(|| E::custom("non-finite number"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<StrictJson, E> {
                Ok(StrictJson(Value::String(v.to_owned())))
            }
            fn visit_unit<E: de::Error>(self) -> Result<StrictJson, E> {
                Ok(StrictJson(Value::Null))
            }
            fn visit_none<E: de::Error>(self) -> Result<StrictJson, E> {
                Ok(StrictJson(Value::Null))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<StrictJson, D::Error> {
                StrictJson::deserialize(d)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<StrictJson, A::Error> {
                let mut out = Vec::new();
                while let Some(StrictJson(v)) = seq.next_element()? {
                    out.push(v);
                }
                Ok(StrictJson(Value::Array(out)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<StrictJson, A::Error> {
                let mut out = serde_json::Map::new();
                while let Some(key) = map.next_key::<String>()? {
                    let StrictJson(v) = map.next_value()?;
                    if out.contains_key(&key) {
                        return Err(de::Error::custom(format!("duplicate key {key:?}")));
                    }
                    out.insert(key, v);
                }
                Ok(StrictJson(Value::Object(out)))
            }
        }
        d.deserialize_any(V)
    }
}

/// A mapping from names to `T` that keeps file order and rejects duplicate keys.
#[derive(Debug)]
pub(crate) struct UniqueMap<T>(pub(crate) Vec<(String, T)>);

impl<T> Default for UniqueMap<T> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for UniqueMap<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = UniqueMap<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping with unique keys")
            }
            fn visit_unit<E: de::Error>(self) -> Result<UniqueMap<T>, E> {
                Ok(UniqueMap::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<UniqueMap<T>, A::Error> {
                let mut seen = HashSet::new();
                let mut out = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    if !seen.insert(key.clone()) {
                        return Err(de::Error::custom(format!("duplicate key {key:?}")));
                    }
                    let value = map.next_value::<T>()?;
                    out.push((key, value));
                }
                Ok(UniqueMap(out))
            }
        }
        d.deserialize_map(V(PhantomData))
    }
}

/// A day of the week as written in the policy (`mon` .. `sun`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Day {
    /// Monday.
    Mon,
    /// Tuesday.
    Tue,
    /// Wednesday.
    Wed,
    /// Thursday.
    Thu,
    /// Friday.
    Fri,
    /// Saturday.
    Sat,
    /// Sunday.
    Sun,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<RawPolicy, String> {
        serde_yaml_ng::from_str(text).map_err(|e| e.to_string())
    }

    #[test]
    fn duplicate_profile_names_are_errors() {
        let err =
            parse("version: 1\nprofiles:\n  a: {role_arn: x}\n  a: {role_arn: y}\n").unwrap_err();
        assert!(err.contains("duplicate"), "{err}");
    }

    #[test]
    fn duplicate_struct_keys_are_errors() {
        let err = parse("version: 1\nversion: 1\n").unwrap_err();
        assert!(err.contains("duplicate"), "{err}");
    }

    #[test]
    fn unknown_keys_are_errors() {
        assert!(parse("version: 1\nextra: 1\n").is_err());
        assert!(parse("version: 1\nprofiles:\n  a: {role_arn: x, maxduration: 1h}\n").is_err());
        assert!(
            parse("version: 1\nrules:\n  - {name: r, effect: allow, account: [\"1\"]}\n").is_err()
        );
        assert!(
            parse("version: 1\nrules:\n  - {name: r, effect: allow, time: {day: [mon]}}\n")
                .is_err()
        );
    }

    #[test]
    fn accounts_must_be_strings() {
        let err =
            parse("version: 1\nrules:\n  - {name: r, effect: allow, accounts: [111122223333]}\n")
                .unwrap_err();
        assert!(err.contains("quoted string"), "{err}");
        assert!(parse(
            "version: 1\nrules:\n  - {name: r, effect: allow, accounts: [\"011122223333\"]}\n"
        )
        .is_ok());
    }

    #[test]
    fn effect_and_types_are_closed_sets() {
        assert!(parse("version: 1\nrules:\n  - {name: r, effect: permit}\n").is_err());
        assert!(parse("version: 1\nrules:\n  - {name: r, effect: Allow}\n").is_err());
        assert!(parse(
            "version: 1\nrules:\n  - {name: r, effect: deny, principal_types: [robot]}\n"
        )
        .is_err());
        let p = parse("version: 1\nrules:\n  - {name: r, effect: deny, principal_types: [assumed-role, federated-user]}\n").unwrap();
        assert_eq!(
            p.rules[0].principal_types,
            Some(vec![
                RawPrincipalType::AssumedRole,
                RawPrincipalType::FederatedUser
            ])
        );
    }

    #[test]
    fn empty_profiles_mapping_is_allowed() {
        let p = parse("version: 1\nprofiles:\nrules: []\n").unwrap();
        assert!(p.profiles.0.is_empty());
    }
}
