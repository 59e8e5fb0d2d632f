//! Why the ledger could not record a vend: the one error of the `ledger`
//! boundary.
//!
//! Invariant: no message holds a credential or the database URL; the cause
//! is logged once where the vend decides what to do with it.

use std::sync::Arc;

/// Why a ledger write failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LedgerError {
    /// The database refused or failed the write (shared by every vend of a
    /// batch that failed as a whole).
    #[error("ledger write failed: {0}")]
    Database(Arc<dyn std::error::Error + Send + Sync>),
    /// The writer task is gone (shutting down, or it panicked).
    #[error("the ledger writer has stopped")]
    Stopped,
    /// The pending row to complete is no longer there, or no longer pending.
    #[error("the ledger row of this vend is missing")]
    Missing,
}

impl From<sqlx::Error> for LedgerError {
    fn from(e: sqlx::Error) -> Self {
        LedgerError::Database(Arc::new(e))
    }
}

impl From<rusqlite::Error> for LedgerError {
    fn from(e: rusqlite::Error) -> Self {
        LedgerError::Database(Arc::new(e))
    }
}

/// The writer thread could not be started.
impl From<std::io::Error> for LedgerError {
    fn from(e: std::io::Error) -> Self {
        LedgerError::Database(Arc::new(e))
    }
}
