//! Who a caller is for DESIGN §13 ("own" sessions, revoking a person): the
//! identity keys a ledger row, a suspension or a block is compared by.
//!
//! Owns: the key strings. An IAM user, and any caller that is not an
//! Identity Center person, is its exact STS ARN and `UserId`
//! (`"{arn} {user_id}"`); an IAM Identity Center person is the session name
//! of an `AWSReservedSSO_*` role session, lowercased with the domain kept
//! (`"sso {name}"`), but only in the policy's `sso_accounts`; every session
//! of a role is `"role {account} {role id}"` (the `AROA…` part of the
//! `UserId`, which a new session name cannot change).
//!
//! Invariants: this is *not* the §12 same-person rule (no domain stripping,
//! no canonical principal): two callers share a key only when §13 says they
//! are the same identity; a session of an `AWSReservedSSO_*` role outside
//! `sso_accounts` is an ordinary role session (anyone can run Identity
//! Center in their own account with a user named `alice@example.com`); keys
//! hold no separator a part could forge (ARNs, user ids and account ids hold
//! no space; the SSO name is the last part).

use super::{AccountId, CallerArn};

/// The prefix of an IAM Identity Center permission-set role's name.
pub const SSO_ROLE_PREFIX: &str = "AWSReservedSSO_";

/// The prefix of a role's unique id (the first part of a role session's
/// `UserId`, `AROA…:session`).
const ROLE_ID_PREFIX: &str = "AROA";

/// The identity keys of one caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerKeys {
    /// `"{arn} {user_id}"`: always present.
    pub exact: String,
    /// `"sso {name}"` for an Identity Center person in `sso_accounts`.
    pub sso: Option<String>,
    /// `"role {account} {role id}"` for a role session.
    pub role: Option<String>,
}

impl OwnerKeys {
    /// The keys of the caller with this STS ARN and `UserId`, under the
    /// policy's `sso_accounts`.
    pub fn of(arn: &CallerArn, user_id: &str, sso_accounts: &[AccountId]) -> Self {
        let exact = exact_key(arn.as_str(), user_id);
        let sso = match (arn.role_name(), arn.session_name()) {
            (Some(role), Some(session))
                if role.starts_with(SSO_ROLE_PREFIX) && sso_accounts.contains(arn.account()) =>
            {
                Some(sso_key(session))
            }
            _ => None,
        };
        let role = arn
            .role_name()
            .and_then(|_| role_id_of(user_id))
            .map(|id| role_key(arn.account().as_str(), id));
        Self { exact, sso, role }
    }

    /// The key that decides "own": the person for an Identity Center
    /// session in `sso_accounts` (across permission sets), else the exact
    /// caller.
    pub fn owner(&self) -> &str {
        self.sso.as_deref().unwrap_or(&self.exact)
    }

    /// Every key a suspension of this caller could be stored under.
    pub fn all(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.exact.as_str())
            .chain(self.sso.as_deref())
            .chain(self.role.as_deref())
    }
}

/// The key of an exact caller: its STS ARN and `UserId`.
pub fn exact_key(arn: &str, user_id: &str) -> String {
    format!("{arn} {user_id}")
}

/// The key of an Identity Center person: the session name, lowercased,
/// domain kept.
pub fn sso_key(name: &str) -> String {
    format!("sso {}", name.to_lowercase())
}

/// The key of every session of one role: its account and unique role id.
pub fn role_key(account: &str, role_id: &str) -> String {
    format!("role {account} {role_id}")
}

/// The role id (`AROA…`) of a role session's `UserId` (`AROA…:session`).
pub fn role_id_of(user_id: &str) -> Option<&str> {
    let (id, _) = user_id.split_once(':')?;
    (id.starts_with(ROLE_ID_PREFIX) && id.len() > ROLE_ID_PREFIX.len()).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acct(s: &str) -> AccountId {
        AccountId::parse(s).unwrap()
    }

    fn keys(arn: &str, user_id: &str, sso: &[&str]) -> OwnerKeys {
        let sso: Vec<AccountId> = sso.iter().map(|a| acct(a)).collect();
        OwnerKeys::of(&arn.parse().unwrap(), user_id, &sso)
    }

    #[test]
    fn an_sso_person_is_one_identity_across_permission_sets_in_listed_accounts() {
        let a = keys(
            "arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_ReadOnly_abc/Alice@Example.com",
            "AROAAAAAAAAAAAAAAAAA1:Alice@Example.com",
            &["111111111111"],
        );
        let b = keys(
            "arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_Admin_def/alice@example.com",
            "AROAAAAAAAAAAAAAAAAA2:alice@example.com",
            &["111111111111"],
        );
        assert_eq!(a.owner(), "sso alice@example.com");
        assert_eq!(a.owner(), b.owner());
        assert_ne!(a.exact, b.exact);
        assert_ne!(a.role, b.role);
    }

    #[test]
    fn the_domain_is_kept_and_other_accounts_are_ordinary_role_sessions() {
        let other_domain = keys(
            "arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_ReadOnly_abc/alice@other.com",
            "AROAAAAAAAAAAAAAAAAA1:alice@other.com",
            &["111111111111"],
        );
        assert_eq!(other_domain.owner(), "sso alice@other.com");
        let foreign = keys(
            "arn:aws:sts::999999999999:assumed-role/AWSReservedSSO_ReadOnly_abc/alice@example.com",
            "AROAAAAAAAAAAAAAAAAA9:alice@example.com",
            &["111111111111"],
        );
        assert_eq!(foreign.sso, None);
        assert_eq!(foreign.owner(), foreign.exact);
        assert!(foreign.owner().starts_with("arn:aws:sts::999999999999:"));
    }

    #[test]
    fn colleagues_in_one_permission_set_share_only_the_role_key() {
        let alice = keys(
            "arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_Dev_abc/alice@example.com",
            "AROAAAAAAAAAAAAAAAAA1:alice@example.com",
            &["111111111111"],
        );
        let erin = keys(
            "arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_Dev_abc/erin@example.com",
            "AROAAAAAAAAAAAAAAAAA1:erin@example.com",
            &["111111111111"],
        );
        assert_ne!(alice.owner(), erin.owner());
        assert_eq!(alice.role, erin.role);
        assert_eq!(
            alice.role.as_deref(),
            Some("role 111111111111 AROAAAAAAAAAAAAAAAAA1")
        );
    }

    #[test]
    fn iam_users_and_federated_users_are_their_exact_arn_and_user_id() {
        let user = keys(
            "arn:aws:iam::111111111111:user/eng/alice",
            "AIDAAAAAAAAAAAAAAAAAA",
            &[],
        );
        assert_eq!(
            user.owner(),
            "arn:aws:iam::111111111111:user/eng/alice AIDAAAAAAAAAAAAAAAAAA"
        );
        assert_eq!(user.role, None);
        // A re-created user of the same name has a new UserId: not the same
        // identity.
        let again = keys(
            "arn:aws:iam::111111111111:user/eng/alice",
            "AIDABBBBBBBBBBBBBBBBB",
            &[],
        );
        assert_ne!(user.owner(), again.owner());
        assert_eq!(user.all().count(), 1);
    }

    #[test]
    fn role_ids_come_only_from_role_session_user_ids() {
        assert_eq!(role_id_of("AROAXYZ:ci"), Some("AROAXYZ"));
        assert_eq!(role_id_of("AIDAXYZ"), None);
        assert_eq!(role_id_of("AROA:ci"), None);
        assert_eq!(role_id_of("123456789012:bob"), None);
    }
}
