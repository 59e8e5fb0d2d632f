//! The form-encoded bodies of tvm's two STS calls (the query protocol,
//! `Version=2011-06-15`), parameter for parameter what `aws-sdk-sts` sends.
//!
//! Invariant: every name and value is percent-encoded except RFC 3986's
//! unreserved characters, so no value can add, end or split a parameter; lists
//! are numbered from 1 (`Tags.member.1.Key`); an absent or empty optional
//! parameter is left out, as the SDK does.

use std::fmt::Write as _;

use super::super::{AssumeRoleInput, StsError};

/// `sts:GetCallerIdentity`'s whole body.
pub(crate) const GET_CALLER_IDENTITY: &str = "Action=GetCallerIdentity&Version=2011-06-15";

/// The body of `sts:AssumeRole` for `input`, in the SDK's parameter order.
pub(crate) fn assume_role(input: &AssumeRoleInput) -> Result<String, StsError> {
    // The SDK's field is an i32: a larger value never leaves tvm.
    if i32::try_from(input.duration_seconds).is_err() {
        return Err(StsError::Rejected {
            code: "ValidationError".into(),
            message: "duration out of range".into(),
        });
    }
    let mut body = String::with_capacity(512 + input.policy.as_ref().map_or(0, |p| 3 * p.len()));
    body.push_str("Action=AssumeRole&Version=2011-06-15");
    param(&mut body, "RoleArn", &input.role_arn);
    param(
        &mut body,
        "RoleSessionName",
        input.role_session_name.as_str(),
    );
    if let Some(policy) = &input.policy {
        param(&mut body, "Policy", policy);
    }
    // Writing to a String cannot fail.
    let _ = write!(body, "&DurationSeconds={}", input.duration_seconds);
    for (i, (key, value)) in input.tags.iter().enumerate() {
        let n = i + 1;
        param(&mut body, &format!("Tags.member.{n}.Key"), key);
        param(&mut body, &format!("Tags.member.{n}.Value"), value);
    }
    for (i, key) in input.transitive_tag_keys.iter().enumerate() {
        param(
            &mut body,
            &format!("TransitiveTagKeys.member.{}", i + 1),
            key,
        );
    }
    if let Some(external_id) = &input.external_id {
        param(&mut body, "ExternalId", external_id);
    }
    param(&mut body, "SourceIdentity", input.source_identity.as_str());
    Ok(body)
}

/// Appends `&name=value`, both encoded.
pub(crate) fn param(body: &mut String, name: &str, value: &str) {
    body.push('&');
    encode(body, name);
    body.push('=');
    encode(body, value);
}

/// Percent-encodes every byte but `A-Z a-z 0-9 - _ . ~`.
pub(crate) fn encode(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xF)]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_keeps_only_unreserved_characters() {
        let mut out = String::new();
        encode(&mut out, "a b+c&d=e/%~_.-é\u{0}");
        assert_eq!(out, "a%20b%2Bc%26d%3De%2F%25~_.-%C3%A9%00");
    }
}
