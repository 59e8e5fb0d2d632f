//! The request object of the API and the webhooks (DESIGN §12), PascalCase.

use serde::Serialize;

/// `Status` of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Waiting for approvers.
    Pending,
    /// Approved: a grant until `GrantExpiresAt`.
    Approved,
    /// Denied by an approver.
    Denied,
    /// No decision before `ExpiresAt`.
    Expired,
    /// An approved grant ended early (DESIGN §13: `POST /requests/{id}/revoke`
    /// or a `person` revocation of its requester).
    Revoked,
}

impl Status {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Approved => "approved",
            Status::Denied => "denied",
            Status::Expired => "expired",
            Status::Revoked => "revoked",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => Status::Pending,
            "approved" => Status::Approved,
            "denied" => Status::Denied,
            "expired" => Status::Expired,
            "revoked" => Status::Revoked,
            _ => return None,
        })
    }
}

/// One approval of a request.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct ApprovalView {
    /// The approver's STS ARN.
    pub approver: String,
    /// The approver's comment.
    pub comment: String,
    /// RFC 3339 UTC.
    pub at: String,
}

/// A request as the API shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct RequestView {
    /// 16 lowercase hex.
    pub id: String,
    /// `pending`, `approved`, `denied` or `expired`.
    pub status: &'static str,
    /// The profile asked for.
    pub profile: String,
    /// The requester's STS ARN.
    pub requester: String,
    /// Why.
    pub reason: String,
    /// Longest session a vend under the grant may ask for.
    pub duration_seconds: u32,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// When a pending request expires, RFC 3339 UTC.
    pub expires_at: String,
    /// Approvals so far.
    pub approvals: Vec<ApprovalView>,
    /// End of the grant, once approved.
    pub grant_expires_at: Option<String>,
}

/// A break-glass record, as the `break_glass.used` webhook carries it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct BreakGlassView {
    /// 16 lowercase hex.
    pub id: String,
    /// The profile vended.
    pub profile: String,
    /// The caller's STS ARN.
    pub caller: String,
    /// The reason given.
    pub reason: String,
    /// Session length.
    pub duration_seconds: u32,
    /// The HTTP request id of the vend (in the SourceIdentity).
    pub request_id: String,
    /// RFC 3339 UTC.
    pub at: String,
}

/// Unix seconds as RFC 3339 UTC (`2026-01-02T03:04:05Z`).
pub fn rfc3339(secs: i64) -> String {
    jiff::Timestamp::from_second(secs)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}
