//! The JSON bodies of DESIGN §13 as the client reads them: a session
//! object, a revocation object with its per-role status, a `/check` answer.
//!
//! Invariant: nothing here is trusted until it passed its rule in
//! [`super::checked`]; the free text (ARNs, reasons, usernames, errors,
//! policy documents) is only ever printed through
//! [`crate::client::visible`] or [`crate::client::ascii_json`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A session object (`GET /sessions`, `GET /sessions/{id}`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SessionInfo {
    /// The vended AccessKeyId.
    pub id: String,
    /// The vend's request id (12 hex).
    pub request_id: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub expires_at: String,
    /// The caller's STS ARN.
    pub caller: String,
    /// The caller's `UserId`.
    #[serde(default)]
    pub caller_user_id: String,
    /// The caller's access key id (from the token's credential scope).
    #[serde(default)]
    pub caller_access_key_id: String,
    /// Where the vend came from.
    #[serde(default)]
    pub client_address: String,
    /// The caller's username (DESIGN §3).
    #[serde(default)]
    pub username: String,
    /// The profile vended.
    pub profile: String,
    /// The role assumed.
    pub role_arn: String,
    /// The rule that allowed it.
    #[serde(default)]
    pub rule: Option<String>,
    /// `direct`, `approval` or `break_glass`.
    pub kind: String,
    /// The grant (request or break-glass record) it was vended under.
    #[serde(default)]
    pub grant_id: Option<String>,
    /// The SourceIdentity stamp.
    pub source_identity: String,
    /// The RoleSessionName.
    pub session_name: String,
    /// `live`, `expired` or `revoked`.
    pub status: String,
    /// The revocation that ended it.
    #[serde(default)]
    pub revocation_id: Option<String>,
}

/// `GET /sessions`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SessionList {
    /// The sessions.
    pub sessions: Vec<SessionInfo>,
}

/// One role of a revocation and where its IAM policy stands.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RoleInfo {
    /// The role.
    pub role_arn: String,
    /// `pending|applied|failed|manual|skipped|expired`.
    pub status: String,
    /// IAM's error (admins only).
    #[serde(default)]
    pub error: Option<String>,
    /// The inline policy document (admins only).
    #[serde(default)]
    pub policy: Option<serde_json::Value>,
    /// The inline policy's name, when the server gives it.
    #[serde(default)]
    pub policy_name: Option<String>,
}

/// A revocation object (DESIGN §13); a dry run answers a preview of the
/// same shape with what would match.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RevocationInfo {
    /// 16 hex (absent in a dry run).
    #[serde(default)]
    pub id: Option<String>,
    /// `session|grant|credentials|person`.
    pub kind: String,
    /// Exactly one of `SessionId`, `GrantId`, `CallerAccessKeyId`,
    /// `Principal`, `User`.
    pub target: BTreeMap<String, String>,
    /// Why.
    #[serde(default)]
    pub reason: String,
    /// Who revoked (STS ARN).
    #[serde(default)]
    pub by: String,
    /// RFC 3339.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Until when a person is suspended.
    #[serde(default)]
    pub suspended_until: Option<String>,
    /// The sessions revoked (vended AccessKeyIds).
    #[serde(default)]
    pub sessions: Vec<String>,
    /// The caller keys blocked.
    #[serde(default)]
    pub blocked_caller_keys: Vec<String>,
    /// Per role: the IAM side.
    #[serde(default)]
    pub roles: Vec<RoleInfo>,
    /// When it was lifted.
    #[serde(default)]
    pub lifted_at: Option<String>,
    /// Who lifted it.
    #[serde(default)]
    pub lifted_by: Option<String>,
    /// Why.
    #[serde(default)]
    pub lift_reason: Option<String>,
    /// What the operator should do next (e.g. deactivate a long-term key).
    #[serde(default)]
    pub message: Option<String>,
    /// A person revocation: the grants this identity approved (not revoked).
    #[serde(default)]
    pub approved_grants: Vec<String>,
}

/// `GET /revocations`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RevocationList {
    /// The revocations.
    pub revocations: Vec<RevocationInfo>,
}

/// One role of `GET /revocations/{id}/check`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RoleCheck {
    /// The role.
    pub role_arn: String,
    /// `in_sync|missing|differs`.
    #[serde(alias = "Check", alias = "Result")]
    pub status: String,
}

/// `GET /revocations/{id}/check`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CheckAnswer {
    /// Per role.
    pub roles: Vec<RoleCheck>,
}
