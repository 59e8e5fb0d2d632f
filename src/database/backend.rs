//! Which database a URL names: SQLite (`sqlite:…`, embedded, one replica) or
//! Postgres (`postgres://…`, shared by several replicas).
//!
//! Invariant: any other scheme is refused ([`DbError::Scheme`]), so a typo
//! never falls back to a default backend.

use super::error::DbError;

/// The backend in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded, one replica.
    Sqlite,
    /// Shared by several replicas.
    Postgres,
}

/// The backend a URL names.
pub fn backend_of(url: &str) -> Result<Backend, DbError> {
    if url.starts_with("sqlite:") {
        Ok(Backend::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Backend::Postgres)
    } else {
        Err(DbError::Scheme)
    }
}
