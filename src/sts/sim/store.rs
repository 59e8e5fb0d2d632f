//! The simulator's accounts: users, roles, role sessions and the keys that sign
//! as them, plus the CSPRNG-made identifiers STS hands out.
//!
//! Invariants: an access key id maps to exactly one principal; secrets and
//! session tokens live in [`Secret`] (redacted `Debug`, constant-time
//! comparison); every generated key, secret, token and id comes from the
//! thread-local CSPRNG of `rand` (ChaCha, seeded from the OS).

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use base64::Engine as _;
use jiff::{SignedDuration, Timestamp};
use rand::RngCore as _;
use subtle::ConstantTimeEq as _;

use super::iam::document::RolePolicy;
use super::types::{SimError, SimRole};

/// How long an expired session's key is kept, so that it is answered with
/// `ExpiredToken` rather than `InvalidClientTokenId`; bounds the store's growth
/// in a long-running `tvm dev`.
pub(crate) const EXPIRED_SESSION_RETENTION: SignedDuration = SignedDuration::from_hours(24);

/// A secret value (secret access key, session token): redacted `Debug`,
/// compared in constant time.
#[derive(Clone)]
pub(crate) struct Secret(String);

impl Secret {
    pub(crate) fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for signing or for the one response that returns it.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// Constant-time equality with a presented value.
    pub(crate) fn matches(&self, presented: &str) -> bool {
        bool::from(self.0.as_bytes().ct_eq(presented.as_bytes()))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The parts of an IAM ARN the simulator needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IamArn {
    pub(crate) partition: String,
    pub(crate) account: String,
    /// The last path segment (`alice`, `Admin`), or `root`.
    pub(crate) name: String,
}

/// Parses `arn:P:iam::A:{kind}/path/Name` (or `arn:P:iam::A:root` for kind `user`).
pub(crate) fn parse_iam_arn(arn: &str, kind: &'static str) -> Result<IamArn, SimError> {
    let bad = || SimError::InvalidArn {
        kind,
        arn: arn.to_owned(),
    };
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("iam"), Some(""), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(bad());
    };
    if !matches!(partition, "aws" | "aws-cn" | "aws-us-gov")
        || account.len() != 12
        || !account.bytes().all(|b| b.is_ascii_digit())
        || arn.len() > 2048
    {
        return Err(bad());
    }
    let name = if kind == "user" && resource == "root" {
        "root"
    } else {
        let rest = resource
            .strip_prefix(kind)
            .and_then(|r| r.strip_prefix('/'))
            .ok_or_else(bad)?;
        let name = rest.rsplit('/').next().unwrap_or_default();
        let valid = |c: char| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c);
        if name.is_empty() || name.len() > 64 || !name.chars().all(valid) {
            return Err(bad());
        }
        if !rest.split('/').all(|seg| !seg.is_empty()) {
            return Err(bad());
        }
        name
    };
    Ok(IamArn {
        partition: partition.to_owned(),
        account: account.to_owned(),
        name: name.to_owned(),
    })
}

/// A role session: made by `AssumeRole` or registered by a test.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    /// The role ARN as registered, path included.
    pub(crate) role_arn: String,
    pub(crate) role: IamArn,
    /// `AROA...`, stable per role.
    pub(crate) role_id: String,
    pub(crate) session_name: String,
    pub(crate) source_identity: Option<String>,
    pub(crate) expiration: Timestamp,
    /// When the session was issued (`aws:TokenIssueTime`); for a session
    /// registered with `add_role_session`, when it was registered.
    pub(crate) issued_at: Timestamp,
    pub(crate) session_token: Secret,
}

impl Session {
    /// `arn:P:sts::A:assumed-role/Name/session`.
    pub(crate) fn assumed_role_arn(&self) -> String {
        format!(
            "arn:{}:sts::{}:assumed-role/{}/{}",
            self.role.partition, self.role.account, self.role.name, self.session_name
        )
    }

    /// `AROA...:session`.
    pub(crate) fn assumed_role_id(&self) -> String {
        format!("{}:{}", self.role_id, self.session_name)
    }
}

/// Who a key signs as.
#[derive(Debug, Clone)]
pub(crate) enum Principal {
    /// An IAM user (or the account root), with a long-term key.
    User {
        arn: String,
        parsed: IamArn,
        /// `AIDA...`, or the account id for root.
        user_id: String,
    },
    /// A role session, with a temporary key and a session token.
    Session(Session),
}

impl Principal {
    /// The ARN `GetCallerIdentity` returns.
    pub(crate) fn arn(&self) -> String {
        match self {
            Principal::User { arn, .. } => arn.clone(),
            Principal::Session(s) => s.assumed_role_arn(),
        }
    }

    /// The `UserId` `GetCallerIdentity` returns.
    pub(crate) fn user_id(&self) -> String {
        match self {
            Principal::User { user_id, .. } => user_id.clone(),
            Principal::Session(s) => s.assumed_role_id(),
        }
    }

    fn iam(&self) -> &IamArn {
        match self {
            Principal::User { parsed, .. } => parsed,
            Principal::Session(s) => &s.role,
        }
    }

    /// The account id.
    pub(crate) fn account(&self) -> &str {
        &self.iam().account
    }

    /// The partition.
    pub(crate) fn partition(&self) -> &str {
        &self.iam().partition
    }

    /// The user ARN, or the role ARN for a role session.
    pub(crate) fn canonical_principal(&self) -> String {
        match self {
            Principal::User { arn, .. } => arn.clone(),
            Principal::Session(s) => s.role_arn.clone(),
        }
    }

    /// Whether this is the account root (which may not assume roles).
    pub(crate) fn is_root(&self) -> bool {
        matches!(self, Principal::User { arn, .. } if arn.ends_with(":root"))
    }

    /// The session, for a role session.
    pub(crate) fn session(&self) -> Option<&Session> {
        match self {
            Principal::User { .. } => None,
            Principal::Session(s) => Some(s),
        }
    }
}

/// A registered access key.
#[derive(Debug, Clone)]
pub(crate) struct KeyEntry {
    pub(crate) secret: Secret,
    pub(crate) principal: Principal,
}

/// A registered role.
#[derive(Debug, Clone)]
pub(crate) struct RoleEntry {
    pub(crate) role: SimRole,
    pub(crate) parsed: IamArn,
    pub(crate) role_id: String,
    /// Its inline policies by name (the simulator's IAM subset).
    pub(crate) policies: BTreeMap<String, RolePolicy>,
}

impl RoleEntry {
    /// Whether the role's trust policy admits `caller`.
    pub(crate) fn trusts(&self, caller: &Principal) -> bool {
        let canonical = caller.canonical_principal();
        let arn = caller.arn();
        let account_root = format!("arn:{}:iam::{}:root", caller.partition(), caller.account());
        self.parsed.partition == caller.partition()
            && self
                .role
                .trusted_principals
                .iter()
                .any(|t| *t == canonical || *t == arn || *t == account_root)
    }
}

/// A web identity token the simulator accepts, as if its issuer's signature
/// had verified (the stand-in for OIDC JWT validation).
#[derive(Debug, Clone)]
pub(crate) struct WebIdentity {
    /// `arn:P:iam::A:oidc-provider/ISSUER`, what a role's trust names.
    pub(crate) provider_arn: String,
    pub(crate) token: Secret,
    /// The token's `sub`.
    pub(crate) subject: String,
}

/// Every key, role and id the simulator knows.
#[derive(Debug, Default)]
pub(crate) struct Store {
    pub(crate) keys: HashMap<String, KeyEntry>,
    pub(crate) roles: HashMap<String, RoleEntry>,
    pub(crate) web_identities: Vec<WebIdentity>,
    /// Unique ids of roles and users by ARN, so they stay stable.
    ids: HashMap<String, String>,
}

impl Store {
    /// The stable unique id of an ARN, made with `prefix` on first use.
    pub(crate) fn unique_id(&mut self, arn: &str, prefix: &str) -> String {
        self.ids
            .entry(arn.to_owned())
            .or_insert_with(|| random_id(prefix, 17))
            .clone()
    }

    /// Registers a key; refuses a key id already in use.
    pub(crate) fn insert_key(
        &mut self,
        access_key_id: &str,
        entry: KeyEntry,
    ) -> Result<(), SimError> {
        if self.keys.contains_key(access_key_id) {
            return Err(SimError::DuplicateAccessKey(access_key_id.to_owned()));
        }
        self.keys.insert(access_key_id.to_owned(), entry);
        Ok(())
    }

    /// Forgets sessions that expired more than [`EXPIRED_SESSION_RETENTION`] ago.
    pub(crate) fn prune(&mut self, now: Timestamp) {
        self.keys.retain(|_, k| match &k.principal {
            Principal::Session(s) => s
                .expiration
                .checked_add(EXPIRED_SESSION_RETENTION)
                .map_or(true, |t| t > now),
            Principal::User { .. } => true,
        });
    }
}

/// Checks a registered access key id: 16..=128 ASCII letters and digits.
pub(crate) fn check_access_key_id(id: &str) -> Result<(), SimError> {
    if (16..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(SimError::InvalidValue {
            field: "access_key_id",
            reason: "must be 16..=128 ASCII letters and digits",
        })
    }
}

/// `prefix` followed by `len` characters of AWS's id alphabet (A-Z, 2-7).
pub(crate) fn random_id(prefix: &str, len: usize) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut bytes = vec![0u8; len];
    rand::rng().fill_bytes(&mut bytes);
    let mut out = String::with_capacity(prefix.len() + len);
    out.push_str(prefix);
    // 256 is a multiple of 32: no modulo bias.
    out.extend(
        bytes
            .iter()
            .map(|b| char::from(ALPHABET[usize::from(b % 32)])),
    );
    out
}

/// A 40-character secret access key (base64 alphabet, like AWS's).
pub(crate) fn random_secret() -> Secret {
    let mut bytes = [0u8; 30];
    rand::rng().fill_bytes(&mut bytes);
    Secret::new(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// A session token: 128 random bytes in standard base64, so it contains `+`,
/// `/` and `=` as real tokens do and exercises the clients' URL encoding.
pub(crate) fn random_session_token() -> Secret {
    let mut bytes = [0u8; 128];
    rand::rng().fill_bytes(&mut bytes);
    Secret::new(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// A request id in STS's UUID form.
pub(crate) fn request_id() -> String {
    let mut b = [0u8; 16];
    rand::rng().fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_user_role_and_root_arns() {
        let u = parse_iam_arn("arn:aws:iam::111122223333:user/dev/alice", "user").unwrap();
        assert_eq!(
            (u.partition.as_str(), u.account.as_str(), u.name.as_str()),
            ("aws", "111122223333", "alice")
        );
        let r = parse_iam_arn("arn:aws-cn:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_abc", "role").unwrap();
        assert_eq!(r.name, "AWSReservedSSO_Admin_abc");
        assert_eq!(
            parse_iam_arn("arn:aws:iam::111122223333:root", "user")
                .unwrap()
                .name,
            "root"
        );
        for bad in [
            "arn:aws:iam::111122223333:root",
            "arn:aws:iam::11112222333:role/R",
            "arn:aws:sts::111122223333:role/R",
            "arn:aws:iam:us-east-1:111122223333:role/R",
            "arn:evil:iam::111122223333:role/R",
            "arn:aws:iam::111122223333:role/",
            "arn:aws:iam::111122223333:role//R",
            "arn:aws:iam::111122223333:user/R",
            "arn:aws:iam::111122223333:role/R:x",
        ] {
            assert!(parse_iam_arn(bad, "role").is_err(), "{bad}");
        }
    }

    #[test]
    fn ids_have_aws_shapes() {
        let id = random_id("AROA", 17);
        assert_eq!(id.len(), 21);
        assert!(id.starts_with("AROA"));
        assert_eq!(random_secret().expose().len(), 40);
        assert_ne!(
            random_session_token().expose(),
            random_session_token().expose()
        );
        let rid = request_id();
        assert_eq!(rid.len(), 36);
        assert_eq!(rid.as_bytes()[14], b'4');
    }

    #[test]
    fn secret_compares_and_redacts() {
        let s = Secret::new("abc");
        assert!(s.matches("abc"));
        assert!(!s.matches("abd"));
        assert!(!s.matches("ab"));
        assert_eq!(format!("{s:?}"), "<redacted>");
    }
}
