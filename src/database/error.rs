//! Why the database could not be opened or used: the one error of the
//! `database` boundary.
//!
//! Invariant: no message holds the database URL (it may carry a password);
//! a SQLite file's path is named, since it is not a secret.

/// Why the database could not be opened or used.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The URL is not `sqlite://…` or `postgres://…`.
    #[error("database.url must start with sqlite:// or postgres://")]
    Scheme,
    /// Connecting or migrating failed (the message never holds the URL).
    #[error("database: {0}")]
    Sql(#[from] sqlx::Error),
    /// A migration failed.
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The SQLite file could not be created or made owner-only (the message
    /// names the path, which is not a secret, and the OS error).
    #[error("database file {path}: {source}")]
    File {
        /// The database file.
        path: std::path::PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
}
