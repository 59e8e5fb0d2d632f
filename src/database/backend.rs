//! Which database a URL names: SQLite (`sqlite:…`, embedded, one replica) or
//! Postgres (`postgres://…`, shared by several replicas).
//!
//! Invariant: any other scheme is refused ([`DbError::Scheme`]), so a typo
//! never falls back to a default backend. The scheme rule itself is
//! [`Backend::of_url`], in `config`, which checks `database.url` at start-up.

use super::error::DbError;

pub use crate::config::Backend;

/// The backend a URL names.
pub fn backend_of(url: &str) -> Result<Backend, DbError> {
    Backend::of_url(url).ok_or(DbError::Scheme)
}
