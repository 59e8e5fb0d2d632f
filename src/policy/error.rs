//! Why a policy could not be loaded, with where in the source the fault is.
//!
//! Invariant: a location is the parser's own, or a lookup of the key path that
//! is sure of itself (`locate.rs`); never a guess.

use std::path::PathBuf;

use thiserror::Error;

use super::locate;

/// Why a policy could not be loaded.
#[derive(Debug, Error)]
pub enum PolicyError {
    /// The YAML did not parse or did not fit the schema (unknown key, wrong
    /// type, duplicate key, missing field).
    #[error("policy: {message} (at {path})")]
    Yaml {
        /// Key path, e.g. `rules[3].principals[0]` (`.` for the document).
        path: String,
        /// 1-based line, when the parser knows it.
        line: Option<usize>,
        /// 1-based column, when the parser knows it.
        column: Option<usize>,
        /// The parser's message (includes the location when known).
        message: String,
    },
    /// The YAML parsed but a value is not acceptable.
    #[error("policy: {path}: {message}")]
    Invalid {
        /// Key path, e.g. `rules[3].principals[0]` or `profiles.prod-admin.role_arn`.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The file could not be read.
    #[error("policy: cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

impl PolicyError {
    /// The key path the error refers to, if any.
    pub fn path(&self) -> Option<&str> {
        match self {
            PolicyError::Yaml { path, .. } | PolicyError::Invalid { path, .. } => Some(path),
            PolicyError::Io { .. } => None,
        }
    }

    /// The 1-based line and column of the error in `text`, the policy source
    /// it came from: the parser's for [`PolicyError::Yaml`], a best-effort
    /// lookup of the key path for [`PolicyError::Invalid`] (`None` when the
    /// lookup is unsure, never a wrong place; see `locate.rs`).
    pub fn location(&self, text: &str) -> Option<(usize, usize)> {
        match self {
            PolicyError::Yaml { line, column, .. } => line.zip(*column),
            PolicyError::Invalid { path, .. } => locate::locate(text, path),
            PolicyError::Io { .. } => None,
        }
    }
}
