//! The stamps tvm writes into AWS: SourceIdentity and RoleSessionName
//! (DESIGN §4), and the request id they share with the logs.
//!
//! Invariants: every stamp satisfies AWS's `[\w+=,.@-]{2,64}` and never starts
//! with `aws:`; the username inside is sanitised and truncated but never emptied;
//! a SourceIdentity parses back unambiguously from the right, because neither the
//! prefix, the marker nor the request id can contain a `.`.

use std::fmt;

use rand::TryRngCore;

use super::arn::is_iam_name_char;

/// AWS's limit for SourceIdentity and RoleSessionName.
pub const MAX_STAMP_LEN: usize = 64;

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
    /// Not `direct` or 8 lowercase hex characters.
    #[error("marker must be `direct` or 8 lowercase hex characters")]
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

/// How access was granted: directly by policy, or (later) by an approval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Marker {
    /// Granted by a policy rule.
    Direct,
    /// Granted by the approval with this 8-hex id.
    Approval(String),
}

impl Marker {
    /// Parses `direct` or 8 lowercase hex.
    pub fn parse(s: &str) -> Result<Self, StampError> {
        match s {
            "direct" => Ok(Marker::Direct),
            s if is_lower_hex(s, 8) => Ok(Marker::Approval(s.to_owned())),
            _ => Err(StampError::Marker),
        }
    }

    /// The marker as stamped.
    pub fn as_str(&self) -> &str {
        match self {
            Marker::Direct => "direct",
            Marker::Approval(id) => id,
        }
    }
}

/// Replaces every character outside `[\w+=,.@-]` by `-` and keeps at most
/// `max` characters (at least one: a username is never emptied).
fn sanitise_user(user: &str, max: usize) -> String {
    let mut out: String = user
        .chars()
        .map(|c| if is_iam_name_char(c) { c } else { '-' })
        .take(max.max(1))
        .collect();
    if out.is_empty() {
        out.push('-');
    }
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
    /// Builds the stamp, sanitising and truncating `username` to fit.
    pub fn new(prefix: &StampPrefix, username: &str, marker: &Marker, id: &RequestId) -> Self {
        let fixed = prefix.as_str().len() + marker.as_str().len() + id.as_str().len() + 3;
        let user = sanitise_user(username, MAX_STAMP_LEN - fixed);
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
    /// Builds the session name, sanitising and truncating `username` to fit.
    pub fn new(username: &str, id: &RequestId) -> Self {
        let fixed = "tvm-".len() + 1 + id.as_str().len();
        let user = sanitise_user(username, MAX_STAMP_LEN - fixed);
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
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn valid_aws_stamp(s: &str) -> bool {
        (2..=MAX_STAMP_LEN).contains(&s.len())
            && s.chars().all(is_iam_name_char)
            && !s.starts_with("aws:")
    }

    #[test]
    fn documented_example() {
        let id = RequestId::parse("7f3a9c2e4b1d").unwrap();
        let si = SourceIdentity::new(
            &StampPrefix::default(),
            "alice@example.com",
            &Marker::Direct,
            &id,
        );
        assert_eq!(si.as_str(), "tvm.alice@example.com.direct.7f3a9c2e4b1d");
        let back = SourceIdentity::parse(si.as_str()).unwrap();
        assert_eq!(back.user, "alice@example.com");
        assert_eq!(back.marker, Marker::Direct);
        assert_eq!(back.request_id, id);
        let rsn = RoleSessionName::new("alice@example.com", &id);
        assert_eq!(rsn.as_str(), "tvm-alice@example.com-7f3a9c2e4b1d");
    }

    #[test]
    fn long_and_odd_usernames_are_sanitised_and_truncated() {
        let id = RequestId::generate();
        let prefix = StampPrefix::parse("ABCDEFGHIJKLMNOP").unwrap();
        let marker = Marker::parse("0badc0de").unwrap();
        let si = SourceIdentity::new(&prefix, &"x:y ".repeat(40), &marker, &id);
        assert_eq!(si.as_str().len(), MAX_STAMP_LEN);
        assert!(valid_aws_stamp(si.as_str()));
        assert!(si.as_str().starts_with("ABCDEFGHIJKLMNOP.x-y-"));
        let rsn = RoleSessionName::new("Jürgen Müller", &id);
        assert_eq!(rsn.as_str(), format!("tvm-J-rgen-M-ller-{id}"));
    }

    #[test]
    fn request_ids_are_fresh_hex() {
        let a = RequestId::generate();
        let b = RequestId::generate();
        assert_ne!(a, b);
        assert!(RequestId::parse(a.as_str()).is_ok());
        assert!(RequestId::parse("7F3A9C2E4B1D").is_err());
        assert!(RequestId::parse("7f3a9c2e4b1").is_err());
    }

    #[test]
    fn bad_components_are_refused() {
        assert!(StampPrefix::parse("").is_err());
        assert!(StampPrefix::parse("a.b").is_err());
        assert!(StampPrefix::parse("ABCDEFGHIJKLMNOPQ").is_err());
        assert!(Marker::parse("Direct").is_err());
        assert!(SourceIdentity::parse("tvm.direct.7f3a9c2e4b1d").is_err());
        assert!(SourceIdentity::parse("tvm..direct.7f3a9c2e4b1d").is_err());
        assert!(SourceIdentity::parse("tvm:alice:direct:7f3a9c2e4b1d").is_err());
    }

    proptest! {
        #[test]
        fn any_username_gives_a_valid_stamp_that_parses_back(
            user in "\\PC{1,100}",
            prefix in "[A-Za-z0-9]{1,16}",
            approval in proptest::option::of("[0-9a-f]{8}"),
        ) {
            let id = RequestId::generate();
            let prefix = StampPrefix::parse(&prefix).unwrap();
            let marker = approval.map_or(Marker::Direct, Marker::Approval);
            let si = SourceIdentity::new(&prefix, &user, &marker, &id);
            prop_assert!(valid_aws_stamp(si.as_str()), "{}", si);
            let back = SourceIdentity::parse(si.as_str()).unwrap();
            prop_assert_eq!(&back.prefix, &prefix);
            prop_assert_eq!(&back.marker, &marker);
            prop_assert_eq!(&back.request_id, &id);
            prop_assert!(!back.user.is_empty());
            let rsn = RoleSessionName::new(&user, &id);
            prop_assert!(valid_aws_stamp(rsn.as_str()), "{}", rsn);
        }
    }
}
