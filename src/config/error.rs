//! [`ConfigError`]: the one error of configuration loading.
//!
//! Invariant: every error names the key path it concerns (`auth.audience[1]`,
//! `state.redis_url`) or the file, and never repeats a value that may be a
//! secret (callers build the message; see `merge` and `state`).

use std::path::PathBuf;

/// A configuration error, with the key path it concerns.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A key is unknown, missing, of the wrong type, or has an invalid value.
    #[error("invalid config at `{key}`: {message}")]
    Invalid {
        /// Dotted key path, e.g. `auth.max_clock_skew`.
        key: String,
        /// What is wrong.
        message: String,
    },
}

impl ConfigError {
    pub(super) fn invalid(key: &str, message: impl Into<String>) -> Self {
        ConfigError::Invalid {
            key: key.to_owned(),
            message: message.into(),
        }
    }
}
