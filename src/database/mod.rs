//! The database every stateful service shares: an sqlx `Any` pool over SQLite
//! (`sqlite://PATH`, one replica) or Postgres (`postgres://…`, several
//! replicas), opened once at start-up with the migrations applied.
//!
//! Today it holds approvals (DESIGN §12) and the approvers' web page; with
//! DESIGN §13 the ledger, the audit events and the revocations share it. Its
//! URL is the config's `database.url`.
//!
//! Layout: `backend` (which backend a URL names) and `error` ([`DbError`])
//! below everything; `sqlite_file` (the SQLite file, owner-only);
//! `migrations` (the embedded, versioned schema); `ids` (row ids); this file
//! opens the pool.
//!
//! Invariants: a SQLite file is created 0600 before sqlx opens it; the pool
//! is only handed out after every migration has run; SQLite gets one
//! connection (it serialises writers anyway, and one connection never meets
//! "database is locked"); no error message holds the URL.

mod backend;
mod error;
mod ids;
mod migrations;
mod sqlite_file;

use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::AnyPool;

pub use backend::{backend_of, Backend};
pub use error::DbError;
pub use ids::{is_id, new_id};
pub use sqlite_file::DATABASE_FILE_MODE;

/// How long a query waits for a pooled connection before failing.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// Most pooled connections to Postgres per replica.
const POSTGRES_MAX_CONNECTIONS: u32 = 10;

/// The pool and which backend it talks to.
#[derive(Debug, Clone)]
pub struct Database {
    /// The pool (the UI's tables use it too).
    pub pool: AnyPool,
    /// The backend.
    pub backend: Backend,
}

/// Opens the database (creating a SQLite file if missing, owner-only: see
/// `sqlite_file`) and runs the migrations.
pub async fn connect(url: &str) -> Result<Database, DbError> {
    sqlx::any::install_default_drivers();
    let backend = backend::backend_of(url)?;
    if backend == Backend::Sqlite {
        sqlite_file::prepare(url)?;
    }
    let (url, max) = match backend {
        // One connection: SQLite serialises writers anyway, and one
        // connection never meets "database is locked".
        Backend::Sqlite if url.contains('?') => (url.to_owned(), 1),
        Backend::Sqlite => (format!("{url}?mode=rwc"), 1),
        Backend::Postgres => (url.to_owned(), POSTGRES_MAX_CONNECTIONS),
    };
    let pool = AnyPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect(&url)
        .await?;
    migrations::run(&pool, backend).await?;
    Ok(Database { pool, backend })
}
