//! The JSON bodies the client exchanges with a tvm (DESIGN §6, §12): the
//! discovery document, the `POST /vend` request and answer, a `GET /profiles`
//! entry and a request object. Plain values, nothing else: they import nothing
//! from the rest of the client, so the rules that check them ([`super::checked`])
//! and every command can sit above them.
//!
//! Invariants: a value read here is untrusted until it passed its rule in
//! [`super::checked`]; [`VendedCredentials`]' `Debug` never shows the secret
//! access key or the session token.

use serde::{Deserialize, Serialize};

/// `GET /.well-known/tvm`.
#[derive(Debug, Clone, Deserialize)]
pub struct Discovery {
    /// The origins the service accepts tokens for.
    pub audience: Vec<String>,
    /// Where tokens must be presigned for.
    pub sts_endpoint: String,
    /// The STS region.
    pub region: String,
    /// Token formats the server accepts.
    #[serde(default)]
    pub token_versions: Vec<String>,
}

/// The `POST /vend` answer.
#[derive(Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VendedCredentials {
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
    /// Session token.
    pub token: String,
    /// RFC 3339 expiry.
    pub expiration: String,
    /// The SourceIdentity stamp.
    pub source_identity: String,
    /// The role assumed.
    pub role_arn: String,
}

impl std::fmt::Debug for VendedCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VendedCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("expiration", &self.expiration)
            .field("source_identity", &self.source_identity)
            .field("role_arn", &self.role_arn)
            .finish_non_exhaustive()
    }
}

/// The body of `POST /vend` (DESIGN §6, §12).
#[derive(Debug, Clone, Default, Serialize)]
pub struct VendRequest {
    /// The profile.
    pub profile: String,
    /// Session length in seconds (default: the profile's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<u32>,
    /// A grant from an approval (§12).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval_id: Option<String>,
    /// A break-glass reason (§12).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One entry of `GET /profiles`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProfileInfo {
    /// The profile name.
    pub name: String,
    /// The longest session it may have.
    pub max_duration_seconds: u32,
    /// The session length when none is asked.
    pub default_duration_seconds: u32,
    /// `direct`, `approval` or `break_glass`.
    pub kind: String,
}

/// One approval of a request.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ApprovalInfo {
    /// The approver's STS ARN.
    pub approver: String,
    /// Their comment.
    #[serde(default)]
    pub comment: Option<String>,
    /// When (RFC 3339).
    #[serde(default)]
    pub at: Option<String>,
}

/// A request object (DESIGN §12); the create answer carries only some fields.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RequestInfo {
    /// 16 lowercase hex.
    pub id: String,
    /// `pending`, `approved`, `denied` or `expired`.
    pub status: String,
    /// The profile asked for.
    pub profile: String,
    /// The requester's STS ARN.
    pub requester: String,
    /// Why.
    #[serde(default)]
    pub reason: String,
    /// The session length asked for.
    #[serde(default)]
    pub duration_seconds: Option<u32>,
    /// When it was made.
    #[serde(default)]
    pub created_at: Option<String>,
    /// When a pending request expires.
    #[serde(default)]
    pub expires_at: Option<String>,
    /// Approvals so far.
    #[serde(default)]
    pub approvals: Vec<ApprovalInfo>,
    /// Until when an approved request's grant may be used.
    #[serde(default)]
    pub grant_expires_at: Option<String>,
}
