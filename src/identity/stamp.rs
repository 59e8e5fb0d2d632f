//! The stamps tvm writes into AWS: SourceIdentity and RoleSessionName
//! (DESIGN §4), and the request id they share with the logs.
//!
//! Invariants: every stamp satisfies AWS's `[\w+=,.@-]{2,64}` and never starts
//! with `aws:`; the username inside is sanitised and truncated but never emptied;
//! a username that had to be cut ends in `-` and 8 lowercase hex of SHA-256 of
//! the caller's full ARN ([`TRUNCATION_TAG_LEN`]), so two principals whose long
//! names share a beginning still get different stamps; a SourceIdentity parses
//! back unambiguously from the right, because neither the prefix, the marker nor
//! the request id can contain a `.`.

use std::fmt;

use rand::TryRngCore;
use sha2::{Digest, Sha256};

use super::arn::is_iam_name_char;

/// AWS's limit for SourceIdentity and RoleSessionName.
pub const MAX_STAMP_LEN: usize = 64;

/// Characters that end a truncated username: `-` and the first 8 lowercase hex
/// of SHA-256(principal ARN). Cutting a name to fit 64 characters would
/// otherwise give two people whose names share a beginning the same stamp;
/// the ARN (as STS returned it) tells them apart, and 32 bits keep accidental
/// collisions out of reach of any one organisation's principals while leaving
/// most of the name readable. Only `-` and hex: within AWS's `[\w+=,.@-]`, and
/// free of the `.` the SourceIdentity is parsed by.
pub const TRUNCATION_TAG_LEN: usize = 9;

/// Hex characters in a request id: 48 bits from the OS CSPRNG, so ids do not
/// collide in practice and cannot be guessed or chosen by a caller.
pub const REQUEST_ID_HEX_LEN: usize = 12;

/// Why a stamp component was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StampError {
    /// The configured prefix is not `[A-Za-z0-9]{1,16}`.
    #[error("stamp prefix must be 1 to 16 ASCII letters or digits")]
    Prefix,
    /// Not 12 lowercase hex characters.
    #[error("request id must be 12 lowercase hex characters")]
    RequestId,
    /// Not `direct`, `apr-`, `bg-` or `rvk-` and 8 lowercase hex characters.
    #[error("marker must be `direct`, or `apr-`, `bg-` or `rvk-` and 8 lowercase hex characters")]
    Marker,
    /// Not of the form `{prefix}.{user}.{marker}.{request_id}`.
    #[error("not a tvm SourceIdentity")]
    Shape,
}

/// The configured first field of a SourceIdentity (`stamp.prefix`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StampPrefix(String);

impl StampPrefix {
    /// Accepts `[A-Za-z0-9]{1,16}`.
    pub fn parse(s: &str) -> Result<Self, StampError> {
        if (1..=16).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Ok(Self(s.to_owned()))
        } else {
            Err(StampError::Prefix)
        }
    }

    /// The prefix.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for StampPrefix {
    fn default() -> Self {
        Self("tvm".to_owned())
    }
}

fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The id of one tvm request: `X-Request-Id`, the logs, and both stamps.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestId(String);

impl RequestId {
    /// A fresh id from the OS CSPRNG.
    pub fn generate() -> Self {
        let mut bytes = [0u8; REQUEST_ID_HEX_LEN / 2];
        rand::rngs::OsRng
            .try_fill_bytes(&mut bytes)
            .unwrap_or_else(|_| {
                // The OS RNG failing is unrecoverable: a predictable id is not an option.
                panic!("operating system random number generator failed")
            });
        Self(hex::encode(bytes))
    }

    /// Accepts exactly 12 lowercase hex characters.
    pub fn parse(s: &str) -> Result<Self, StampError> {
        if is_lower_hex(s, REQUEST_ID_HEX_LEN) {
            Ok(Self(s.to_owned()))
        } else {
            Err(StampError::RequestId)
        }
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How access was granted (DESIGN §4): directly by policy, under an approval,
/// or by break-glass. Each variant holds the text as stamped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Marker {
    /// Granted by a policy rule: `direct`.
    Direct,
    /// Granted under the approval whose id starts with these 8 hex: `apr-{8 hex}`.
    Approval(String),
    /// A break-glass vend, record id starting with these 8 hex: `bg-{8 hex}`.
    BreakGlass(String),
    /// tvm's own session with the revoker role (DESIGN §13), writing for the
    /// revocation whose id starts with these 8 hex: `rvk-{8 hex}`.
    Revoker(String),
}

/// Hex characters of a grant or record id a marker carries.
pub const MARKER_ID_HEX_LEN: usize = 8;

impl Marker {
    /// The marker of a vend under the grant `id` (16 hex; its first 8 are kept).
    pub fn approval(id: &str) -> Result<Self, StampError> {
        Self::parse(&format!(
            "apr-{}",
            id.get(..MARKER_ID_HEX_LEN).unwrap_or(id)
        ))
    }

    /// The marker of a break-glass vend with record `id` (its first 8 hex).
    pub fn break_glass(id: &str) -> Result<Self, StampError> {
        Self::parse(&format!("bg-{}", id.get(..MARKER_ID_HEX_LEN).unwrap_or(id)))
    }

    /// The marker of tvm's session with the revoker role, writing for the
    /// revocation `id` (its first 8 hex).
    pub fn revoker(id: &str) -> Result<Self, StampError> {
        Self::parse(&format!(
            "rvk-{}",
            id.get(..MARKER_ID_HEX_LEN).unwrap_or(id)
        ))
    }

    /// Parses `direct`, `apr-{8 hex}`, `bg-{8 hex}` or `rvk-{8 hex}`.
    pub fn parse(s: &str) -> Result<Self, StampError> {
        if s == "direct" {
            return Ok(Marker::Direct);
        }
        if let Some(hex) = s.strip_prefix("apr-") {
            if is_lower_hex(hex, MARKER_ID_HEX_LEN) {
                return Ok(Marker::Approval(s.to_owned()));
            }
        }
        if let Some(hex) = s.strip_prefix("bg-") {
            if is_lower_hex(hex, MARKER_ID_HEX_LEN) {
                return Ok(Marker::BreakGlass(s.to_owned()));
            }
        }
        if let Some(hex) = s.strip_prefix("rvk-") {
            if is_lower_hex(hex, MARKER_ID_HEX_LEN) {
                return Ok(Marker::Revoker(s.to_owned()));
            }
        }
        Err(StampError::Marker)
    }

    /// The marker as stamped.
    pub fn as_str(&self) -> &str {
        match self {
            Marker::Direct => "direct",
            Marker::Approval(m) | Marker::BreakGlass(m) | Marker::Revoker(m) => m,
        }
    }
}

/// Replaces every character outside `[\w+=,.@-]` by `-` (so the result is
/// ASCII: one byte per character) and fits it into `max` characters (at least
/// one: a username is never emptied). A name that fits is kept whole; one that
/// does not keeps its beginning and ends in the [`TRUNCATION_TAG_LEN`]-character
/// tag of `principal_arn`.
fn sanitise_user(user: &str, principal_arn: &str, max: usize) -> String {
    let max = max.max(1);
    let mut out: String = user
        .chars()
        .map(|c| if is_iam_name_char(c) { c } else { '-' })
        .collect();
    if out.is_empty() {
        out.push('-');
    }
    if out.len() <= max {
        return out;
    }
    let digest = Sha256::digest(principal_arn.as_bytes());
    let tag = format!("-{}", hex::encode(&digest[..(TRUNCATION_TAG_LEN - 1) / 2]));
    if max <= tag.len() {
        // No room for any of the name (not reachable with the configurable
        // parts' bounds): the hex alone still tells principals apart.
        return tag[tag.len() - max.min(tag.len() - 1)..].to_owned();
    }
    out.truncate(max - tag.len());
    out.push_str(&tag);
    out
}

/// `{prefix}.{user}.{marker}.{request_id}`, at most 64 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceIdentity(String);

/// A SourceIdentity taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedSourceIdentity {
    /// The prefix.
    pub prefix: StampPrefix,
    /// The (sanitised, possibly truncated) username.
    pub user: String,
    /// The marker.
    pub marker: Marker,
    /// The request id.
    pub request_id: RequestId,
}

impl SourceIdentity {
    /// Builds the stamp, sanitising `username` and, when it must be cut to
    /// fit, ending it with the tag of `principal_arn` (the caller's ARN as STS
    /// returned it).
    pub fn new(
        prefix: &StampPrefix,
        username: &str,
        principal_arn: &str,
        marker: &Marker,
        id: &RequestId,
    ) -> Self {
        let fixed = prefix.as_str().len() + marker.as_str().len() + id.as_str().len() + 3;
        let user = sanitise_user(username, principal_arn, MAX_STAMP_LEN.saturating_sub(fixed));
        Self(format!(
            "{}.{user}.{}.{}",
            prefix.as_str(),
            marker.as_str(),
            id.as_str()
        ))
    }

    /// Parses a stamp back, from the right: request id, marker, then the prefix
    /// (which has no `.`), and the user is whatever lies between.
    pub fn parse(s: &str) -> Result<ParsedSourceIdentity, StampError> {
        if s.len() > MAX_STAMP_LEN || !s.chars().all(is_iam_name_char) {
            return Err(StampError::Shape);
        }
        let mut right = s.rsplitn(3, '.');
        let (Some(id), Some(marker), Some(rest)) = (right.next(), right.next(), right.next())
        else {
            return Err(StampError::Shape);
        };
        let (prefix, user) = rest.split_once('.').ok_or(StampError::Shape)?;
        if user.is_empty() {
            return Err(StampError::Shape);
        }
        Ok(ParsedSourceIdentity {
            prefix: StampPrefix::parse(prefix)?,
            user: user.to_owned(),
            marker: Marker::parse(marker)?,
            request_id: RequestId::parse(id)?,
        })
    }

    /// The stamp.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SourceIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `tvm-{user}-{request_id}`, at most 64 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleSessionName(String);

impl RoleSessionName {
    /// Builds the session name, sanitising `username` and, when it must be
    /// cut to fit, ending it with the tag of `principal_arn`.
    pub fn new(username: &str, principal_arn: &str, id: &RequestId) -> Self {
        let fixed = "tvm-".len() + 1 + id.as_str().len();
        let user = sanitise_user(username, principal_arn, MAX_STAMP_LEN - fixed);
        Self(format!("tvm-{user}-{}", id.as_str()))
    }

    /// The session name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RoleSessionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests;
