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
//! is only handed out after every migration has run; on SQLite the writes
//! go through one connection of the pool ([`Database::pool`]) and, for the
//! ledger, one of its own (`ledger::writer`): SQLite serialises writers, so
//! every write transaction begins `IMMEDIATE` ([`Database::begin`]; it takes
//! the write lock before it reads, so it never meets a stale read snapshot
//! in a read-then-write transaction) and each connection waits for the
//! other's lock (busy timeout) rather than failing; all run in WAL mode
//! with `synchronous=NORMAL` (a commit is durable against a crash of tvm,
//! and costs no fsync); reads that need no transaction with a write may use
//! [`Database::read`], a pool of read-only connections that WAL lets run
//! beside the writer (an in-memory database has one connection, so there
//! `read` is the writer itself); no error message holds the URL.

mod backend;
mod error;
mod ids;
mod migrations;
mod sqlite_file;

use std::path::PathBuf;
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::{Any, AnyPool, Transaction};

pub use backend::{backend_of, Backend};
pub use error::DbError;
pub use ids::{is_id, new_id};
pub use sqlite_file::DATABASE_FILE_MODE;

/// How long a query waits for a pooled connection before failing.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// Most pooled connections to Postgres per replica.
const POSTGRES_MAX_CONNECTIONS: u32 = 10;

/// Read-only SQLite connections beside the one writer: enough for the web
/// page and the ledger's listings to read while the writer commits.
const SQLITE_READERS: u32 = 4;

/// The pragmas of every SQLite connection: WAL (readers never block the
/// writer nor it them; persistent in the file) and `synchronous=NORMAL` (in
/// WAL mode a commit survives a crash of tvm; only a power loss may undo the
/// last commits, for no fsync per commit).
const SQLITE_PRAGMAS: [&str; 2] = ["PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL"];

/// The pool and which backend it talks to.
#[derive(Debug, Clone)]
pub struct Database {
    /// Every write, and reads inside a write's transaction (the UI's tables
    /// use it too). On SQLite: one connection (the ledger has its own:
    /// `ledger::writer`).
    pub pool: AnyPool,
    /// Reads outside a write's transaction. On SQLite: read-only
    /// connections beside the writer; on Postgres (and an in-memory SQLite):
    /// the same pool as [`Database::pool`].
    pub read: AnyPool,
    /// The backend.
    pub backend: Backend,
    /// The SQLite database file (`None`: Postgres, or in memory).
    pub file: Option<PathBuf>,
}

impl Database {
    /// Begins a write transaction on [`Database::pool`]: on SQLite
    /// `BEGIN IMMEDIATE` (see the module's invariants), on Postgres a plain
    /// `BEGIN`.
    pub async fn begin(&self) -> Result<Transaction<'static, Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }
}

/// Opens the database (creating a SQLite file if missing, owner-only: see
/// `sqlite_file`) and runs the migrations.
pub async fn connect(url: &str) -> Result<Database, DbError> {
    sqlx::any::install_default_drivers();
    let backend = backend::backend_of(url)?;
    if backend == Backend::Postgres {
        let pool = options(POSTGRES_MAX_CONNECTIONS).connect(url).await?;
        migrations::run(&pool, backend).await?;
        return Ok(Database {
            read: pool.clone(),
            pool,
            backend,
            file: None,
        });
    }
    let file = sqlite_file::path_of(url)?;
    sqlite_file::prepare(url)?;
    let writer_url = if url.contains('?') {
        url.to_owned()
    } else {
        format!("{url}?mode=rwc")
    };
    let pool = sqlite_options(1).connect(&writer_url).await?;
    migrations::run(&pool, backend).await?;
    // Readers open the file the writer made (and put in WAL mode); an
    // in-memory database exists only on the writer's connection.
    let read = if file.is_some() {
        sqlite_options(SQLITE_READERS)
            .connect(&with_param(url, "mode=ro"))
            .await?
    } else {
        pool.clone()
    };
    Ok(Database {
        pool,
        read,
        backend,
        file,
    })
}

/// The pool settings every backend shares.
fn options(max: u32) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .idle_timeout(None)
        .max_lifetime(None)
}

/// A SQLite pool whose connections run [`SQLITE_PRAGMAS`] when opened. No
/// ping before each use: the file is local (there is no connection to
/// lose), and the ping is a round trip to SQLite's worker thread on every
/// ledger batch.
fn sqlite_options(max: u32) -> AnyPoolOptions {
    options(max)
        .test_before_acquire(false)
        .after_connect(|conn, _| {
            Box::pin(async move {
                for pragma in SQLITE_PRAGMAS {
                    sqlx::query(pragma).fetch_all(&mut *conn).await?;
                }
                Ok(())
            })
        })
}

/// `url` with `param` appended last (sqlx reads parameters in order, so the
/// last `mode` wins).
fn with_param(url: &str, param: &str) -> String {
    if url.contains('?') {
        format!("{url}&{param}")
    } else {
        format!("{url}?{param}")
    }
}
