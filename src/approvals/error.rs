//! Why an approvals operation failed: the one error of the approvals
//! boundary, mapped to API codes by `http` and to pages by `ui`.
//!
//! Invariant: a database failure is one variant ([`ApprovalError::Database`],
//! 503) whatever its cause, so no caller learns more than "unavailable".

use crate::database::DbError;

/// Why an approvals operation failed; mapped to API codes by `http`.
#[derive(Debug, thiserror::Error)]
pub enum ApprovalError {
    /// 400 `INVALID_REQUEST`.
    #[error("invalid request: {0}")]
    Invalid(&'static str),
    /// 400 `INVALID_DURATION`.
    #[error("invalid duration: {0}")]
    Duration(String),
    /// 403 `POLICY_DENY` (not a person, not eligible, someone else's grant).
    #[error("denied")]
    Denied,
    /// 403 `POLICY_DENY` with the decision reason `grant_revoked`: the
    /// grant a vend names was revoked (DESIGN §13).
    #[error("grant revoked")]
    GrantRevoked,
    /// 403 `APPROVAL_REQUIRED` (grant used up, rule changed).
    #[error("approval required")]
    ApprovalRequired,
    /// 404 `NOT_FOUND` (missing or not visible: the same).
    #[error("not found")]
    NotFound,
    /// 409 `CONFLICT` (no longer pending).
    #[error("conflict: no longer pending")]
    Conflict,
    /// 429 `RATE_LIMITED` (too many pending requests).
    #[error("too many pending requests")]
    TooMany,
    /// 503 `UNAVAILABLE`: the database failed (logged, counted).
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

impl From<DbError> for ApprovalError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Sql(e) => ApprovalError::Database(e),
            other => ApprovalError::Database(sqlx::Error::Protocol(other.to_string())),
        }
    }
}
