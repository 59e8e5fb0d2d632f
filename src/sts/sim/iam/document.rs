//! The policy-document subset the simulator's IAM accepts for inline role
//! policies, parsed once at `PutRolePolicy`, and its size as IAM counts it.
//!
//! The subset (everything else is `MalformedPolicyDocument`, so a test can
//! never believe the simulator enforced something it silently ignored):
//! a JSON object with `"Version": "2012-10-17"` and `"Statement"` (one
//! statement or a non-empty list); a statement has only `Sid` (letters and
//! digits), `"Effect": "Deny"`, `"Action": "*"` and `"Resource": "*"` (each
//! a string or a list of exactly that), and an optional `Condition` whose
//! operators are `StringEquals`, `StringLike` and `DateLessThan`, each over
//! the keys `aws:SourceIdentity` and `aws:TokenIssueTime` (compared without
//! case, as IAM compares condition keys) with a string or a non-empty list of
//! strings; a `DateLessThan` value must be an RFC 3339 time or epoch seconds.
//!
//! A document with a repeated key in any object is a syntax error (serde_json
//! alone would keep the last one: a statement with two `Effect`s must not be
//! read as either).
//!
//! Invariant: [`policy_size`] counts what IAM's 10,240-character quota for a
//! role's inline policies counts, with the same function tvm's writer uses
//! ([`crate::sts::iam::policy_size`]).

use std::fmt;

use jiff::Timestamp;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// The only policy language version accepted.
pub(crate) const POLICY_VERSION: &str = "2012-10-17";

/// A condition operator of the subset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operator {
    /// Exact, case-sensitive string equality.
    StringEquals,
    /// Case-sensitive glob: `*` any run, `?` one character.
    StringLike,
    /// The key's time is before the value's.
    DateLessThan,
}

/// A condition key of the subset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Key {
    /// `aws:SourceIdentity`: the session's SourceIdentity, if any.
    SourceIdentity,
    /// `aws:TokenIssueTime`: when the session was issued.
    TokenIssueTime,
}

/// One `operator: {key: values}` test; values are OR-ed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Test {
    pub(crate) operator: Operator,
    pub(crate) key: Key,
    pub(crate) values: Vec<String>,
}

/// A `Deny` of every action on every resource when all `tests` hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Statement {
    pub(crate) tests: Vec<Test>,
}

/// A parsed inline policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RolePolicy {
    /// The document exactly as `PutRolePolicy` received it.
    pub(crate) document: String,
    pub(crate) statements: Vec<Statement>,
}

/// Why a document is outside the subset (IAM's `MalformedPolicyDocument`).
pub(crate) type Malformed = String;

/// Parses `document` (see the module docs for the subset).
pub(crate) fn parse(document: &str) -> Result<RolePolicy, Malformed> {
    let Strict(value) =
        serde_json::from_str(document).map_err(|_| "Syntax errors in policy.".to_owned())?;
    let top = value
        .as_object()
        .ok_or("The policy is not a JSON object.")?;
    only(top, &["Version", "Statement"], "policy")?;
    if top.get("Version").and_then(Value::as_str) != Some(POLICY_VERSION) {
        return Err(format!(
            "The policy must have \"Version\": \"{POLICY_VERSION}\"."
        ));
    }
    let statements = match top.get("Statement") {
        Some(Value::Array(list)) if !list.is_empty() => list.iter().collect::<Vec<_>>(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => return Err("The policy must have a Statement.".to_owned()),
    };
    let statements = statements
        .into_iter()
        .map(statement)
        .collect::<Result<_, _>>()?;
    Ok(RolePolicy {
        document: document.to_owned(),
        statements,
    })
}

fn only(object: &Map<String, Value>, allowed: &[&str], what: &str) -> Result<(), Malformed> {
    match object.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(format!(
            "The {what} element {} is not supported by the simulator.",
            super::super::xml::echo(k)
        )),
        None => Ok(()),
    }
}

fn statement(value: &Value) -> Result<Statement, Malformed> {
    let s = value.as_object().ok_or("A statement is not an object.")?;
    only(
        s,
        &["Sid", "Effect", "Action", "Resource", "Condition"],
        "statement",
    )?;
    if let Some(sid) = s.get("Sid") {
        let ok = sid
            .as_str()
            .is_some_and(|v| v.chars().all(|c| c.is_ascii_alphanumeric()));
        if !ok {
            return Err("Statement IDs (SID) must be alpha-numeric.".to_owned());
        }
    }
    if s.get("Effect").and_then(Value::as_str) != Some("Deny") {
        return Err("Only \"Effect\": \"Deny\" is supported by the simulator.".to_owned());
    }
    for field in ["Action", "Resource"] {
        let star = match s.get(field) {
            Some(Value::String(v)) => v == "*",
            Some(Value::Array(list)) => list.len() == 1 && list[0] == "*",
            _ => false,
        };
        if !star {
            return Err(format!(
                "Only \"{field}\": \"*\" is supported by the simulator."
            ));
        }
    }
    let mut tests = Vec::new();
    if let Some(condition) = s.get("Condition") {
        let condition = condition.as_object().ok_or("Condition is not an object.")?;
        for (op, block) in condition {
            let operator = match op.as_str() {
                "StringEquals" => Operator::StringEquals,
                "StringLike" => Operator::StringLike,
                "DateLessThan" => Operator::DateLessThan,
                other => {
                    return Err(format!(
                        "The condition operator {} is not supported by the simulator.",
                        super::super::xml::echo(other)
                    ))
                }
            };
            let block = block
                .as_object()
                .ok_or("A condition block is not an object.")?;
            for (key, values) in block {
                tests.push(test(operator, key, values)?);
            }
        }
    }
    Ok(Statement { tests })
}

fn test(operator: Operator, key: &str, values: &Value) -> Result<Test, Malformed> {
    let key = match key.to_ascii_lowercase().as_str() {
        "aws:sourceidentity" => Key::SourceIdentity,
        "aws:tokenissuetime" => Key::TokenIssueTime,
        _ => {
            return Err(format!(
                "The condition key {} is not supported by the simulator.",
                super::super::xml::echo(key)
            ))
        }
    };
    let values: Vec<String> = match values {
        Value::String(v) => vec![v.clone()],
        Value::Array(list) if !list.is_empty() => list
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<_>>()
            .ok_or("Condition values must be strings.")?,
        _ => return Err("Condition values must be a string or a list of strings.".to_owned()),
    };
    if operator == Operator::DateLessThan && values.iter().any(|v| parse_time(v).is_none()) {
        return Err("DateLessThan values must be dates.".to_owned());
    }
    Ok(Test {
        operator,
        key,
        values,
    })
}

/// An RFC 3339 time, or epoch seconds (the two forms IAM's date operators take).
pub(crate) fn parse_time(value: &str) -> Option<Timestamp> {
    if !value.is_empty() && value.len() <= 12 && value.bytes().all(|b| b.is_ascii_digit()) {
        return value
            .parse::<i64>()
            .ok()
            .and_then(|s| Timestamp::from_second(s).ok());
    }
    value.parse::<Timestamp>().ok()
}

/// The size IAM's quota counts: [`crate::sts::iam::policy_size`], the one
/// count tvm's revocation writer uses too.
pub(crate) fn policy_size(document: &str) -> usize {
    crate::sts::iam::policy_size(document)
}

/// A JSON value read with repeated object keys refused (serde_json's depth
/// limit still applies).
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Strict;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value without repeated keys")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Strict, E> {
        Ok(Strict(Value::Bool(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Strict, E> {
        Ok(Strict(Value::from(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Strict, E> {
        Ok(Strict(Value::from(v)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Strict, E> {
        Ok(Strict(Value::from(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Strict, E> {
        Ok(Strict(Value::String(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Strict, E> {
        Ok(Strict(Value::String(v)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Strict, E> {
        Ok(Strict(Value::Null))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Strict, A::Error> {
        let mut list = Vec::new();
        while let Some(Strict(v)) = seq.next_element()? {
            list.push(v);
        }
        Ok(Strict(Value::Array(list)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Strict, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let Strict(value) = map.next_value()?;
            if object.insert(key, value).is_some() {
                return Err(de::Error::custom("repeated key"));
            }
        }
        Ok(Strict(Value::Object(object)))
    }
}
