//! The approvals database: an sqlx `Any` pool over SQLite (`sqlite://PATH`,
//! one replica) or Postgres (`postgres://…`, several replicas), and the
//! versioned migrations in `migrations/` run at start-up.
//!
//! Invariants: the schema is written in portable SQL so both backends run
//! the same statements (`$N` placeholders, BIGINT unix seconds, TEXT ids),
//! except where DDL cannot be (an autoincrement column): such a migration has
//! one file per backend under one number;
//! migrations are embedded in the binary and applied in order, each once;
//! other parts (the approvers' web page) add their own numbered files and use
//! the same pool.

use std::borrow::Cow;
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::AnyPool;

/// One embedded migration: its version, description, and its SQL for each
/// backend (the same text when the SQL is portable).
struct Step {
    version: i64,
    description: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

/// The embedded migrations, in order (add new numbered files here). Most are
/// portable SQL; one whose DDL differs per backend (an autoincrement column)
/// has a `.sqlite.sql` and a `.postgres.sql` file under the same number, and
/// each database only ever sees its own.
const MIGRATIONS: &[Step] = &[
    Step {
        version: 1,
        description: "approvals",
        sqlite: include_str!("../../migrations/0001_approvals.sql"),
        postgres: include_str!("../../migrations/0001_approvals.sql"),
    },
    Step {
        version: 2,
        description: "ui sign-in",
        sqlite: include_str!("../../migrations/0002_ui_sign_in.sql"),
        postgres: include_str!("../../migrations/0002_ui_sign_in.sql"),
    },
    Step {
        version: 3,
        description: "audit sequence",
        sqlite: include_str!("../../migrations/0003_audit_seq.sqlite.sql"),
        postgres: include_str!("../../migrations/0003_audit_seq.postgres.sql"),
    },
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
    /// The SQLite file could not be created or made owner-only (the message
    /// names the path, which is not a secret, and the OS error).
    #[error("approvals database file {path}: {source}")]
    File {
        /// The database file.
        path: std::path::PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
}

/// The backend in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded, one replica.
    Sqlite,
    /// Shared by several replicas.
    Postgres,
}

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
    if url.starts_with("sqlite:") {
        Ok(Backend::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Backend::Postgres)
    } else {
        Err(DbError::Scheme)
    }
}

/// Opens the database (creating a SQLite file if missing, owner-only: see
/// [`super::sqlite_file`]) and runs the migrations.
pub async fn connect(url: &str) -> Result<Database, DbError> {
    sqlx::any::install_default_drivers();
    let backend = backend_of(url)?;
    if backend == Backend::Sqlite {
        super::sqlite_file::prepare(url)?;
    }
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
                .map(|m| {
                    let sql = match backend {
                        Backend::Sqlite => m.sqlite,
                        Backend::Postgres => m.postgres,
                    };
                    Migration::new(
                        m.version,
                        Cow::Borrowed(m.description),
                        MigrationType::Simple,
                        Cow::Borrowed(sql),
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
