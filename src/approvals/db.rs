//! The approvals database: an sqlx `Any` pool over SQLite (`sqlite://PATH`,
//! one replica) or Postgres (`postgres://…`, several replicas), and the
//! versioned migrations in `migrations/` run at start-up.
//!
//! Invariants: the schema is written once in portable SQL so both backends run
//! the same statements (`$N` placeholders, BIGINT unix seconds, TEXT ids);
//! migrations are embedded in the binary and applied in order, each once;
//! other parts (the approvers' web page) add their own numbered files and use
//! the same pool.

use std::borrow::Cow;
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::AnyPool;

/// The embedded migrations, in order (add new numbered files here).
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "approvals",
        include_str!("../../migrations/0001_approvals.sql"),
    ),
    (
        2,
        "ui sign-in",
        include_str!("../../migrations/0002_ui_sign_in.sql"),
    ),
];

/// How long a query waits for a pooled connection before failing.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the database could not be opened or used.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The URL is not `sqlite://…` or `postgres://…`.
    #[error("approvals.database_url must start with sqlite:// or postgres://")]
    Scheme,
    /// Connecting or migrating failed (the message never holds the URL).
    #[error("approvals database: {0}")]
    Sql(#[from] sqlx::Error),
    /// A migration failed.
    #[error("approvals database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// The backend in use (a settings type of [`crate::config`]).
pub use crate::config::Backend;

/// The pool and which backend it talks to.
#[derive(Debug, Clone)]
pub struct Database {
    /// The pool (the UI's tables use it too).
    pub pool: AnyPool,
    /// The backend.
    pub backend: Backend,
}

/// The backend a URL names.
pub fn backend_of(url: &str) -> Result<Backend, DbError> {
    Backend::of_url(url).ok_or(DbError::Scheme)
}

/// Opens the database (creating a SQLite file if missing) and runs the
/// migrations.
pub async fn connect(url: &str) -> Result<Database, DbError> {
    sqlx::any::install_default_drivers();
    let backend = backend_of(url)?;
    let (url, max) = match backend {
        // One connection: SQLite serialises writers anyway, and one
        // connection never meets "database is locked".
        Backend::Sqlite if url.contains('?') => (url.to_owned(), 1),
        Backend::Sqlite => (format!("{url}?mode=rwc"), 1),
        Backend::Postgres => (url.to_owned(), 10),
    };
    let pool = AnyPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect(&url)
        .await?;
    let migrator = Migrator {
        migrations: Cow::Owned(
            MIGRATIONS
                .iter()
                .map(|(v, d, sql)| {
                    Migration::new(
                        *v,
                        Cow::Borrowed(*d),
                        MigrationType::Simple,
                        Cow::Borrowed(*sql),
                        false,
                    )
                })
                .collect(),
        ),
        ..Migrator::DEFAULT
    };
    migrator.run(&pool).await?;
    Ok(Database { pool, backend })
}
