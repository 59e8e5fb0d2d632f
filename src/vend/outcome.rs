//! How a vend ends: [`Vended`] (the credentials, the stamp STS recorded and the
//! role) or [`VendError`], with its `tvm_vend_total` outcome label; and how a
//! failure of the approvals service during a vend maps onto it.
//!
//! Invariants: every failure of the pipeline is one variant here, mapped to
//! the API's codes by [`crate::web::ApiError`]; an approvals failure never
//! tells a caller more than a deny would (not found, conflict and too many
//! are all [`VendError::Denied`]); a database failure is 503, never a vend.

use crate::approvals::ApprovalError;
use crate::auth::{VerifyError, VerifyErrorKind};
use crate::identity::SourceIdentity;
use crate::sts::{Credentials, StsError};

/// Credentials handed to the caller.
#[derive(Debug, Clone)]
pub struct Vended {
    /// The STS credentials.
    pub credentials: Credentials,
    /// The stamp STS recorded.
    pub source_identity: SourceIdentity,
    /// The role that was assumed.
    pub role_arn: String,
}

/// Why a vend failed; mapped to the API's codes by [`crate::web::ApiError`].
#[derive(Debug, thiserror::Error)]
pub enum VendError {
    /// The body is not a valid vend request (400 `INVALID_REQUEST`).
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    /// The duration is out of range (400 `INVALID_DURATION`).
    #[error("bad duration: {0}")]
    BadDuration(String),
    /// The body is over the limit (413).
    #[error("body too large")]
    TooLarge,
    /// The client sent too many requests (429); retry after this long.
    #[error("rate limited")]
    RateLimited(std::time::Duration),
    /// The caller proof failed.
    #[error("caller verification failed: {0}")]
    Verify(#[from] VerifyError),
    /// The policy said no, or the profile is unknown (403, same body for both).
    #[error("denied by policy")]
    Denied,
    /// A revocation refuses this caller or grant (DESIGN §13), before
    /// policy, or after AssumeRole when a block or the grant changed while it
    /// was in flight (the credentials discarded): 403 `POLICY_DENY`, the text
    /// the decision reason (`revoked_credentials`, `suspended`,
    /// `grant_revoked`).
    #[error("revoked: {0}")]
    Revoked(&'static str),
    /// A plain vend met a `require_approval` rule, or a grant cannot serve
    /// (403 `APPROVAL_REQUIRED`).
    #[error("approval required")]
    ApprovalRequired,
    /// An EKS-style token, which binds no target or body, was used for a vend
    /// with an `approval_id` or a `reason` (401 `INVALID_TOKEN`).
    #[error("this token kind only serves plain vends")]
    UnboundToken,
    /// AssumeRole failed.
    #[error("assume role failed: {0}")]
    Sts(#[from] StsError),
    /// STS answered with credentials tvm will not hand out.
    #[error("unusable credentials from sts: {0}")]
    Credentials(String),
    /// A dependency of this replica is saturated or lost (the STS call cap
    /// stayed full, or the shared rate limits failed closed): 503 `UNAVAILABLE`,
    /// STS not called. The text is the decision line's reason.
    #[error("unavailable: {0}")]
    Unavailable(&'static str),
    /// The vend's ledger row could not be written (DESIGN §13): 503
    /// `UNAVAILABLE`, outcome `ledger_error`; before AssumeRole STS is not
    /// called, after it the credentials are discarded.
    #[error("the ledger is unavailable")]
    Ledger,
}

impl VendError {
    /// The `tvm_vend_total` outcome label.
    pub fn outcome(&self) -> &'static str {
        match self {
            VendError::BadRequest(_) | VendError::BadDuration(_) | VendError::TooLarge => {
                "bad_request"
            }
            VendError::Verify(v) => match v.kind() {
                VerifyErrorKind::InvalidToken | VerifyErrorKind::Expired => "invalid_token",
                VerifyErrorKind::Replayed => "replayed",
                VerifyErrorKind::Throttled => "sts_throttled",
                VerifyErrorKind::StsError | VerifyErrorKind::Unavailable => "sts_error",
            },
            VendError::Denied | VendError::Revoked(_) => "denied",
            VendError::Ledger => "ledger_error",
            VendError::ApprovalRequired => "approval_required",
            VendError::UnboundToken => "invalid_token",
            VendError::RateLimited(_) => "rate_limited",
            VendError::Sts(StsError::Throttled(_)) => "sts_throttled",
            VendError::Sts(_) | VendError::Credentials(_) | VendError::Unavailable(_) => {
                "sts_error"
            }
        }
    }
}

/// Maps a failure of the approvals service during a vend.
pub(super) fn approval_error(e: ApprovalError) -> VendError {
    match e {
        ApprovalError::Invalid(m) => VendError::BadRequest(m),
        ApprovalError::Duration(m) => VendError::BadDuration(m),
        ApprovalError::ApprovalRequired => VendError::ApprovalRequired,
        ApprovalError::GrantRevoked => VendError::Revoked("grant_revoked"),
        ApprovalError::Database(_) => VendError::Unavailable("approvals_unavailable"),
        ApprovalError::Denied
        | ApprovalError::NotFound
        | ApprovalError::Conflict
        | ApprovalError::TooMany => VendError::Denied,
    }
}
