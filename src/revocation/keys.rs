//! What a revocation is compared by: a caller's identity keys (DESIGN §13's
//! identities, [`crate::identity::OwnerKeys`], plus the ARN keys an admin's
//! `Principal` target names) and the `person` targets, resolved to the keys
//! a suspension stores and the ledger rows it ends.
//!
//! Invariants: an `AWSReservedSSO_*` session is a person only in the
//! policy's `sso_accounts` (elsewhere it is its exact ARN); a `User` target is
//! an Identity Center person, compared lowercase with the domain kept; a role
//! target is every session of that role (its ARN without path, which is the
//! canonical principal of its sessions); an ARN key (`"arn {ARN}"`) never
//! equals another kind of key (those start `arn:`, `sso ` or `role `).

use crate::identity::{sso_key, AccountId, CallerArn, Identity, OwnerKeys, SSO_ROLE_PREFIX};

/// Longest `User` target (an Identity Center user name), in bytes.
pub const MAX_USER_NAME_LEN: usize = 256;

/// Longest `Principal` target, in bytes.
pub const MAX_PRINCIPAL_LEN: usize = crate::identity::MAX_ARN_LEN;

/// The key of a principal named by its ARN (a `Principal` target).
pub(crate) fn arn_key(arn: &str) -> String {
    format!("arn {arn}")
}

/// Every key a suspension of this caller could be stored under: its
/// [`OwnerKeys`], its ARN, and its role's ARN for a role session.
pub fn subject_keys(identity: &Identity, user_id: &str, sso_accounts: &[AccountId]) -> Vec<String> {
    let owner = OwnerKeys::of(identity.arn(), user_id, sso_accounts);
    let mut keys: Vec<String> = owner.all().map(str::to_owned).collect();
    keys.push(arn_key(identity.arn().as_str()));
    if identity.canonical_principal() != identity.arn().as_str() {
        keys.push(arn_key(identity.canonical_principal()));
    }
    keys
}

/// A `person` target, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Person {
    /// An Identity Center person (lowercased name, domain kept).
    Sso(String),
    /// Every session of a role: its ARN without path, and the prefix of its
    /// sessions' STS ARNs.
    Role { arn: String, sessions: String },
    /// One caller, by its exact ARN (IAM user, role session, federated user).
    Exact(String),
}

impl Person {
    /// `{"User": NAME}`.
    pub(crate) fn user(name: &str) -> Result<Self, &'static str> {
        if name.is_empty()
            || name.len() > MAX_USER_NAME_LEN
            || name.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err("User must be 1 to 256 characters without spaces");
        }
        Ok(Person::Sso(name.to_lowercase()))
    }

    /// `{"Principal": ARN}`: a role ARN, or a caller's ARN.
    pub(crate) fn principal(arn: &str, sso_accounts: &[AccountId]) -> Result<Self, &'static str> {
        const BAD: &str = "Principal must be an IAM user, role or STS session ARN";
        if arn.len() > MAX_PRINCIPAL_LEN {
            return Err(BAD);
        }
        if let Some(role) = role_arn(arn) {
            return Ok(role);
        }
        let parsed: CallerArn = arn.parse().map_err(|_| BAD)?;
        if let (Some(role), Some(session)) = (parsed.role_name(), parsed.session_name()) {
            if role.starts_with(SSO_ROLE_PREFIX) && sso_accounts.contains(parsed.account()) {
                return Ok(Person::Sso(session.to_lowercase()));
            }
        }
        Ok(Person::Exact(parsed.as_str().to_owned()))
    }

    /// The identity key its suspension is stored under.
    pub(crate) fn key(&self) -> String {
        match self {
            Person::Sso(name) => sso_key(name),
            Person::Role { arn, .. } | Person::Exact(arn) => arn_key(arn),
        }
    }

    /// Whether a ledger row (its caller's STS ARN and SSO person) is this
    /// person's.
    pub(crate) fn owns_row(&self, caller_arn: &str, sso_person: Option<&str>) -> bool {
        match self {
            Person::Sso(name) => sso_person == Some(name.as_str()),
            Person::Role { sessions, .. } => caller_arn.starts_with(sessions.as_str()),
            Person::Exact(arn) => caller_arn == arn,
        }
    }

    /// The SQL condition on `sessions` selecting (a superset of) its rows,
    /// and the value bound to it; [`Person::owns_row`] filters exactly.
    pub(crate) fn row_filter(&self) -> (&'static str, String) {
        match self {
            Person::Sso(name) => ("sso_person = $1", name.clone()),
            Person::Role { sessions, .. } => (
                "caller_arn LIKE $1 ESCAPE '\\'",
                format!("{}%", like_escape(sessions)),
            ),
            Person::Exact(arn) => ("caller_arn = $1", arn.clone()),
        }
    }
}

fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `arn:P:iam::A:role/[path/]NAME` as a role target (path dropped).
fn role_arn(arn: &str) -> Option<Person> {
    let rest = arn.strip_prefix("arn:")?;
    let (partition, rest) = rest.split_once(':')?;
    let rest = rest.strip_prefix("iam::")?;
    let (account, resource) = rest.split_once(':')?;
    let path = resource.strip_prefix("role/")?;
    let name = path.rsplit('/').next()?;
    let partition_ok = matches!(partition, "aws" | "aws-cn" | "aws-us-gov");
    let name_ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b));
    if !partition_ok || AccountId::parse(account).is_err() || !name_ok {
        return None;
    }
    Some(Person::Role {
        arn: format!("arn:{partition}:iam::{account}:role/{name}"),
        sessions: format!("arn:{partition}:sts::{account}:assumed-role/{name}/"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sso() -> Vec<AccountId> {
        vec![AccountId::parse("111122223333").unwrap()]
    }

    #[test]
    fn principal_targets_resolve_to_the_identity_section_13_names() {
        let p = "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Dev_1/Alice@Example.com";
        assert_eq!(
            Person::principal(p, &sso()).unwrap(),
            Person::Sso("alice@example.com".into())
        );
        let foreign =
            "arn:aws:sts::999999999999:assumed-role/AWSReservedSSO_Dev_1/alice@example.com";
        assert_eq!(
            Person::principal(foreign, &sso()).unwrap(),
            Person::Exact(foreign.into())
        );
        let role = Person::principal("arn:aws:iam::111122223333:role/ci/deployer", &sso()).unwrap();
        assert_eq!(role.key(), "arn arn:aws:iam::111122223333:role/deployer");
        assert!(role.owns_row(
            "arn:aws:sts::111122223333:assumed-role/deployer/gha-1",
            None
        ));
        assert!(!role.owns_row("arn:aws:sts::111122223333:assumed-role/deployer2/x", None));
        for bad in ["", "alice", "arn:aws:iam::1:role/x", "arn:aws:s3:::bucket"] {
            assert!(Person::principal(bad, &sso()).is_err(), "{bad}");
        }
        assert!(Person::user("").is_err());
        assert!(Person::user("a b").is_err());
        assert_eq!(
            Person::user("Alice@Example.com").unwrap().key(),
            "sso alice@example.com"
        );
    }

    #[test]
    fn a_role_sessions_keys_include_its_role_arn() {
        let id =
            Identity::from_arn("arn:aws:sts::111122223333:assumed-role/deployer/gha-1").unwrap();
        let keys = subject_keys(&id, "AROAX:gha-1", &sso());
        assert!(keys.contains(&"arn arn:aws:iam::111122223333:role/deployer".to_owned()));
        assert!(keys.contains(&"role 111122223333 AROAX".to_owned()));
    }
}
