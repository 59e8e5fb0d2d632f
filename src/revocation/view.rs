//! The JSON objects of DESIGN §13, PascalCase: a session (a ledger row) and
//! a revocation, with their per-role IAM status.
//!
//! Invariant: a role's `Policy` and `Error` are shown to admins only (the
//! reader decides, [`RevocationView::redact`]); `Target` has exactly one key.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::approvals::rfc3339;

/// `Status` of a session.
pub(crate) fn session_status(expires_at: i64, revoked: bool, now: i64) -> &'static str {
    if revoked {
        "revoked"
    } else if expires_at <= now {
        "expired"
    } else {
        "live"
    }
}

/// A session (DESIGN §13's session object).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct SessionView {
    /// The vended AccessKeyId.
    pub id: String,
    /// tvm's request id of the vend.
    pub request_id: String,
    /// When it was vended.
    pub created_at: String,
    /// When the credentials expire.
    pub expires_at: String,
    /// The caller's STS ARN.
    pub caller: String,
    /// The caller's `UserId`.
    pub caller_user_id: String,
    /// The key that signed the caller's proof.
    pub caller_access_key_id: String,
    /// The client address.
    pub client_address: String,
    /// The username of DESIGN §3.
    pub username: String,
    /// The profile.
    pub profile: String,
    /// The role assumed.
    pub role_arn: String,
    /// The rule that allowed it.
    pub rule: Option<String>,
    /// `direct|approval|break_glass`.
    pub kind: String,
    /// The grant or break-glass record.
    pub grant_id: Option<String>,
    /// The SourceIdentity stamp.
    pub source_identity: String,
    /// The RoleSessionName stamp.
    pub session_name: String,
    /// `live|expired|revoked`.
    pub status: &'static str,
    /// The revocation that ended it.
    pub revocation_id: Option<String>,
}

/// One role of a revocation and its IAM status.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct RoleView {
    /// The role.
    pub role_arn: String,
    /// `pending|applied|failed|manual|skipped|expired`.
    pub status: String,
    /// IAM's error (admins only).
    pub error: Option<String>,
    /// The derived document (admins only).
    pub policy: Option<String>,
    /// The inline policy's name on the role, `tvm-revocations-{prefix}-
    /// {deployment_id}` (admins only; beside `Policy`, so `tvm revocations
    /// ID` prints a command that works as pasted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_name: Option<String>,
}

/// A revocation (DESIGN §13's revocation object).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct RevocationView {
    /// 16 hex (empty for a dry run).
    pub id: String,
    /// `session|grant|credentials|person`.
    pub kind: String,
    /// Exactly one of `SessionId`, `GrantId`, `CallerAccessKeyId`,
    /// `Principal`, `User`.
    pub target: BTreeMap<String, String>,
    /// Why.
    pub reason: String,
    /// Who revoked (STS ARN).
    pub by: String,
    /// When.
    pub created_at: String,
    /// The end of a `person` suspension (`null`: none, or until lifted —
    /// see `Kind`).
    pub suspended_until: Option<String>,
    /// The sessions it revoked (ids).
    pub sessions: Vec<String>,
    /// The caller keys it blocked.
    pub blocked_caller_keys: Vec<String>,
    /// The roles of its sessions and their IAM status.
    pub roles: Vec<RoleView>,
    /// When it was lifted.
    pub lifted_at: Option<String>,
    /// Who lifted it.
    pub lifted_by: Option<String>,
    /// Why it was lifted.
    pub lift_reason: Option<String>,
    /// What the operator must still do (a long-term key: deactivate it in IAM).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advice: Option<String>,
    /// A `person` revocation: the live grants that person approved (not
    /// revoked; for the responder to review).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub approved_grants: Vec<String>,
}

impl RevocationView {
    /// Hides what only admins read (roles' `Policy` and `Error`).
    pub(crate) fn redact(mut self, admin: bool) -> Self {
        if !admin {
            for r in &mut self.roles {
                r.error = None;
                r.policy = None;
                r.policy_name = None;
            }
        }
        self
    }
}

/// What an `AKIA…` revocation tells the operator to do.
const DEACTIVATE_ADVICE: &str = "this is a long-term access key: deactivate it in IAM \
     (aws iam update-access-key --status Inactive --access-key-id KEY); tvm blocks it and every \
     temporary key of its IAM user until this revocation is lifted";

/// The advice for a `credentials` target, if any.
pub(crate) fn advice(key: &str) -> Option<String> {
    key.starts_with("AKIA")
        .then(|| DEACTIVATE_ADVICE.replace("KEY", key))
}

/// RFC 3339 of an optional time.
pub(crate) fn time(t: Option<i64>) -> Option<String> {
    t.map(rfc3339)
}
