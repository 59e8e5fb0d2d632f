//! The values of one ledger row (the `sessions` table of migration 0004) and
//! of its completion: what the vend pipeline hands the ledger.
//!
//! Invariants: every value is tvm's own or was verified (the caller by STS,
//! the profile and role by the policy, the stamps built by tvm); the caller
//! access key id is the one that signed the verified proof; nothing here is a
//! secret (an access key id is an identifier, never the secret key or the
//! session token).

/// How a vend was served (`sessions.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    /// A plain vend under an `allow` rule.
    Direct,
    /// A vend under an approved request (a grant).
    Approval,
    /// A break-glass vend.
    BreakGlass,
}

impl SessionKind {
    /// The stored and logged name.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionKind::Direct => "direct",
            SessionKind::Approval => "approval",
            SessionKind::BreakGlass => "break_glass",
        }
    }
}

/// A ledger row as it is inserted, `pending`, before AssumeRole.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The tvm request id of the vend.
    pub request_id: String,
    /// Unix seconds.
    pub created_at: i64,
    /// The planned end (now + duration); STS's Expiration replaces it.
    pub expires_at: i64,
    /// The caller's STS ARN.
    pub caller_arn: String,
    /// The caller's `UserId`.
    pub caller_user_id: String,
    /// The caller's account.
    pub caller_account: String,
    /// The `AROA…` role id of a role-session caller.
    pub caller_role_id: Option<String>,
    /// The lowercased session name of an Identity Center person.
    pub sso_person: Option<String>,
    /// The access key id that signed the caller's proof.
    pub caller_access_key_id: String,
    /// The client address (empty when unknown).
    pub client_address: String,
    /// The caller's username.
    pub username: String,
    /// The profile vended.
    pub profile: String,
    /// The role assumed.
    pub role_arn: String,
    /// The rule that allowed the vend.
    pub rule_name: Option<String>,
    /// How the vend is served.
    pub kind: SessionKind,
    /// The grant or break-glass record id.
    pub grant_id: Option<String>,
    /// The SourceIdentity stamp.
    pub source_identity: String,
    /// The RoleSessionName stamp.
    pub session_name: String,
}

/// What the completion re-checks, in its own transaction, before the
/// credentials may be handed out.
#[derive(Debug, Clone)]
pub struct Recheck {
    /// The caller's access key id (`caller_key` blocks).
    pub caller_key: String,
    /// Every identity key of the caller (`identity` blocks: suspensions).
    pub identity_keys: Vec<String>,
    /// The exact key of an IAM user calling with a temporary (`ASIA…`) key
    /// (`iam_user` blocks: a leaked long-term key mints temporary ones).
    pub iam_user: Option<String>,
    /// The approval request a grant vend is served under (its status must
    /// still be `approved`).
    pub grant: Option<String>,
    /// The caller's §13 identity keys, for the visibility of the vend's
    /// audit event (`None`: admins only).
    pub owner: Option<crate::identity::OwnerKeys>,
}

/// Why the completion refused credentials that STS had issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The caller's key (or every temporary key of its IAM user) is blocked.
    RevokedCredentials,
    /// The caller's identity is suspended.
    Suspended,
    /// The grant was revoked while AssumeRole was in flight.
    GrantRevoked,
}

impl Refusal {
    /// The decision line's reason.
    pub fn reason(self) -> &'static str {
        match self {
            Refusal::RevokedCredentials => "revoked_credentials",
            Refusal::Suspended => "suspended",
            Refusal::GrantRevoked => "grant_revoked",
        }
    }
}

/// How a completion ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completed {
    /// The row is `issued`: the credentials may be handed out.
    Issued,
    /// A block or the grant changed meanwhile: the row is `revoked` and the
    /// credentials must be discarded.
    Refused(Refusal),
}

#[cfg(test)]
impl NewSession {
    /// A plausible row for tests in other modules: a vend of `grant` (if
    /// any) by `caller_arn` at `now` for 900 s.
    pub(crate) fn for_tests(caller_arn: &str, grant: Option<&str>, now: i64) -> Self {
        NewSession {
            request_id: crate::identity::RequestId::generate().to_string(),
            created_at: now,
            expires_at: now + 900,
            caller_arn: caller_arn.to_owned(),
            caller_user_id: "AIDATESTTESTTESTTEST".into(),
            caller_account: "111122223333".into(),
            caller_role_id: None,
            sso_person: None,
            caller_access_key_id: "AKIATESTTESTTESTTEST".into(),
            client_address: "127.0.0.1".into(),
            username: "alice".into(),
            profile: "prod-admin".into(),
            role_arn: "arn:aws:iam::111122223333:role/TvmProdAdmin".into(),
            rule_name: Some("prod".into()),
            kind: match grant {
                Some(_) => SessionKind::Approval,
                None => SessionKind::Direct,
            },
            grant_id: grant.map(str::to_owned),
            source_identity: "tvm.alice.x".into(),
            session_name: "alice".into(),
        }
    }
}

#[cfg(test)]
impl Recheck {
    /// The re-check of a row made by [`NewSession::for_tests`].
    pub(crate) fn for_tests(row: &NewSession) -> Self {
        Recheck {
            caller_key: row.caller_access_key_id.clone(),
            identity_keys: vec![crate::identity::exact_key(
                &row.caller_arn,
                &row.caller_user_id,
            )],
            iam_user: None,
            grant: row.grant_id.clone(),
            owner: None,
        }
    }
}
