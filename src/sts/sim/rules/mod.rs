//! AWS's parameter rules for `AssumeRole`, applied before any authorization
//! decision, answering `ValidationError` (or `MalformedPolicyDocument`) like STS.
//!
//! Invariants: an [`AssumeRoleRequest`] only exists for parameters that satisfy
//! every documented length, pattern and count constraint; the ExternalId is never
//! echoed in a message.

use std::collections::{BTreeMap, HashSet};

use http::StatusCode;

use super::params::Params;
use super::xml::{echo, StsFault};

/// Shortest and longest DurationSeconds STS accepts (15 minutes, 12 hours).
pub(crate) const DURATION_RANGE: std::ops::RangeInclusive<u32> = 900..=43_200;
/// DurationSeconds when none is given.
pub(crate) const DEFAULT_DURATION: u32 = 3600;
/// Most session tags (and transitive tag keys) per call.
pub(crate) const MAX_TAGS: usize = 50;
/// Longest inline session policy, in characters.
pub(crate) const MAX_POLICY_CHARS: usize = 2048;

/// A syntactically valid `AssumeRole` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AssumeRoleRequest {
    pub(crate) role_arn: String,
    pub(crate) role_session_name: String,
    pub(crate) duration_seconds: u32,
    pub(crate) source_identity: Option<String>,
    pub(crate) external_id: Option<String>,
    pub(crate) tags: Vec<(String, String)>,
    pub(crate) transitive_tag_keys: Vec<String>,
    pub(crate) policy: Option<String>,
}

/// `\w` as AWS's (Java) patterns mean it, plus the given punctuation.
fn word_or(extra: &'static str) -> impl Fn(char) -> bool {
    move |c: char| c.is_ascii_alphanumeric() || c == '_' || extra.contains(c)
}

/// The characters of tag keys and values: `[\p{L}\p{Z}\p{N}_.:/=+\-@]`.
fn tag_char(c: char) -> bool {
    c.is_alphabetic()
        || c.is_numeric()
        || c == ' '
        || (c.is_whitespace() && !c.is_control())
        || "_.:/=+-@".contains(c)
}

fn violation(value: Option<&str>, field: &str, constraint: &str) -> StsFault {
    let value = value.map_or_else(|| "null".to_owned(), |v| format!("'{}'", echo(v)));
    StsFault::validation(format!(
        "1 validation error detected: Value {value} at '{field}' failed to satisfy constraint: {constraint}"
    ))
}

/// Checks length (in characters) and pattern of a string member.
fn check_str(
    value: &str,
    field: &str,
    len: std::ops::RangeInclusive<usize>,
    allowed: impl Fn(char) -> bool,
    pattern: &str,
    secret: bool,
) -> Result<(), StsFault> {
    let shown = Some(if secret { "*** redacted ***" } else { value });
    let n = value.chars().count();
    if n < *len.start() {
        return Err(violation(
            shown,
            field,
            &format!(
                "Member must have length greater than or equal to {}",
                len.start()
            ),
        ));
    }
    if n > *len.end() {
        return Err(violation(
            shown,
            field,
            &format!(
                "Member must have length less than or equal to {}",
                len.end()
            ),
        ));
    }
    if !value.chars().all(allowed) {
        return Err(violation(
            shown,
            field,
            &format!("Member must satisfy regular expression pattern: {pattern}"),
        ));
    }
    Ok(())
}

/// Validates the parameters of an `AssumeRole` call.
pub(crate) fn parse_assume_role(p: &Params) -> Result<AssumeRoleRequest, StsFault> {
    let role_arn = p
        .get("RoleArn")
        .ok_or_else(|| violation(None, "roleArn", "Member must not be null"))?;
    check_str(role_arn, "roleArn", 20..=2048, |c| !c.is_control() || "\t\n\r".contains(c), "[\\u0009\\u000A\\u000D\\u0020-\\u007E\\u0085\\u00A0-\\uD7FF\\uE000-\\uFFFD\\u10000-\\u10FFFF]+", false)?;

    let session = p
        .get("RoleSessionName")
        .ok_or_else(|| violation(None, "roleSessionName", "Member must not be null"))?;
    check_str(
        session,
        "roleSessionName",
        2..=64,
        word_or("+=,.@-"),
        "[\\w+=,.@-]*",
        false,
    )?;

    let duration_seconds = match p.get("DurationSeconds") {
        None => DEFAULT_DURATION,
        Some(raw) => parse_duration(raw)?,
    };

    let source_identity = p.get("SourceIdentity");
    if let Some(si) = source_identity {
        check_str(
            si,
            "sourceIdentity",
            2..=64,
            word_or("+=,.@-"),
            "[\\w+=,.@-]*",
            false,
        )?;
        if si.to_ascii_lowercase().starts_with("aws:") {
            return Err(violation(
                Some(si),
                "sourceIdentity",
                "Member must not start with 'aws:'",
            ));
        }
    }

    let external_id = p.get("ExternalId");
    if let Some(e) = external_id {
        check_str(
            e,
            "externalId",
            2..=1224,
            word_or("+=,.@:/-"),
            "[\\w+=,.@:/-]*",
            true,
        )?;
    }

    let tags = parse_tags(p)?;
    let transitive_tag_keys = parse_transitive(p, &tags)?;

    let policy = p.get("Policy");
    if let Some(doc) = policy {
        let allowed = |c: char| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{FF}');
        let pattern = "[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+";
        check_str(doc, "policy", 1..=MAX_POLICY_CHARS, allowed, pattern, false)?;
        if !matches!(
            serde_json::from_str::<serde_json::Value>(doc),
            Ok(serde_json::Value::Object(_))
        ) {
            return Err(StsFault::new(
                StatusCode::BAD_REQUEST,
                "MalformedPolicyDocument",
                "The policy is not in the valid JSON format.",
            ));
        }
    }

    Ok(AssumeRoleRequest {
        role_arn: role_arn.to_owned(),
        role_session_name: session.to_owned(),
        duration_seconds,
        source_identity: source_identity.map(str::to_owned),
        external_id: external_id.map(str::to_owned),
        tags,
        transitive_tag_keys,
        policy: policy.map(str::to_owned),
    })
}

fn parse_duration(raw: &str) -> Result<u32, StsFault> {
    let value = if !raw.is_empty() && raw.len() <= 10 && raw.bytes().all(|b| b.is_ascii_digit()) {
        raw.parse::<u64>().ok()
    } else {
        None
    };
    let Some(value) = value else {
        return Err(violation(
            Some(raw),
            "durationSeconds",
            "Member must be an integer",
        ));
    };
    if value < u64::from(*DURATION_RANGE.start()) {
        return Err(violation(
            Some(raw),
            "durationSeconds",
            "Member must have value greater than or equal to 900",
        ));
    }
    if value > u64::from(*DURATION_RANGE.end()) {
        return Err(violation(
            Some(raw),
            "durationSeconds",
            "Member must have value less than or equal to 43200",
        ));
    }
    u32::try_from(value)
        .map_err(|_| violation(Some(raw), "durationSeconds", "Member must be an integer"))
}

/// Parses the `N` of a `member.N` list index: a positive decimal, no leading zero.
fn list_index(raw: &str) -> Option<u32> {
    if raw.is_empty()
        || raw.len() > 4
        || raw.starts_with('0')
        || !raw.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    raw.parse().ok()
}

fn parse_tags(p: &Params) -> Result<Vec<(String, String)>, StsFault> {
    let mut members: BTreeMap<u32, (Option<&str>, Option<&str>)> = BTreeMap::new();
    for (rest, value) in p.with_prefix("Tags.member.") {
        let parsed = rest
            .split_once('.')
            .and_then(|(n, field)| list_index(n).map(|n| (n, field)));
        let entry = match parsed {
            Some((n, "Key")) => &mut members.entry(n).or_default().0,
            Some((n, "Value")) => &mut members.entry(n).or_default().1,
            _ => {
                return Err(violation(
                    Some(rest),
                    "tags",
                    "Member must be Tags.member.N.Key or .Value",
                ))
            }
        };
        *entry = Some(value);
        if members.len() > MAX_TAGS {
            return Err(violation(
                None,
                "tags",
                "Member must have length less than or equal to 50",
            ));
        }
    }
    let mut seen = HashSet::new();
    let mut tags = Vec::with_capacity(members.len());
    for (n, (key, value)) in members {
        let key = key.ok_or_else(|| {
            violation(
                None,
                &format!("tags.{n}.member.key"),
                "Member must not be null",
            )
        })?;
        let value = value.ok_or_else(|| {
            violation(
                None,
                &format!("tags.{n}.member.value"),
                "Member must not be null",
            )
        })?;
        check_str(
            key,
            &format!("tags.{n}.member.key"),
            1..=128,
            tag_char,
            "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+",
            false,
        )?;
        check_str(
            value,
            &format!("tags.{n}.member.value"),
            0..=256,
            tag_char,
            "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*",
            false,
        )?;
        let lower = key.to_lowercase();
        if lower.starts_with("aws:") {
            return Err(StsFault::validation(format!(
                "Tag key '{}' uses the reserved prefix 'aws:'.",
                echo(key)
            )));
        }
        if !seen.insert(lower) {
            return Err(StsFault::validation(
                "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
            ));
        }
        tags.push((key.to_owned(), value.to_owned()));
    }
    Ok(tags)
}

fn parse_transitive(p: &Params, tags: &[(String, String)]) -> Result<Vec<String>, StsFault> {
    let mut keys = BTreeMap::new();
    for (rest, value) in p.with_prefix("TransitiveTagKeys.member.") {
        let n = list_index(rest).ok_or_else(|| {
            violation(
                Some(rest),
                "transitiveTagKeys",
                "Member must be TransitiveTagKeys.member.N",
            )
        })?;
        keys.insert(n, value);
        if keys.len() > MAX_TAGS {
            return Err(violation(
                None,
                "transitiveTagKeys",
                "Member must have length less than or equal to 50",
            ));
        }
    }
    let mut out = Vec::with_capacity(keys.len());
    for (n, key) in keys {
        check_str(
            key,
            &format!("transitiveTagKeys.{n}.member"),
            1..=128,
            tag_char,
            "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+",
            false,
        )?;
        let lower = key.to_lowercase();
        if !tags.iter().any(|(k, _)| k.to_lowercase() == lower) {
            return Err(StsFault::validation(format!(
                "The transitive tag key '{}' is not among the session tags.",
                echo(key)
            )));
        }
        out.push(key.to_owned());
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
