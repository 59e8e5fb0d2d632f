//! Why a revocation operation failed: the one error of this boundary,
//! mapped to API codes by `crate::api`.
//!
//! Invariant: a database failure is one variant (503) whatever its cause; a
//! session or revocation the caller may not see is [`RevocationError::NotFound`],
//! exactly like an unknown one.

/// Why a revocation operation failed.
#[derive(Debug, thiserror::Error)]
pub enum RevocationError {
    /// 400 `INVALID_REQUEST` with this message.
    #[error("invalid request: {0}")]
    Invalid(&'static str),
    /// 403 `POLICY_DENY`: admins only, or lifting one that targets yourself.
    #[error("denied: {0}")]
    Denied(&'static str),
    /// 404 `NOT_FOUND` (missing or not visible: the same).
    #[error("not found")]
    NotFound,
    /// 409 `CONFLICT`: nothing (left) to revoke or lift.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// 503 `UNAVAILABLE`: the database failed (logged, counted).
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}
