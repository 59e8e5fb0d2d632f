//! Why `tvm exec` could not run the command.
//!
//! Invariant: no variant carries credentials; paths and OS errors only.

use super::profile;
use crate::client::ClientError;

/// Why `tvm exec` could not run the command.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// Talking to tvm, or the caller's credentials.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The caller's AWS file could not be read.
    #[error("cannot read {0}: {1}")]
    ReadConfig(String, std::io::Error),
    /// The caller's profile cannot be copied for the command.
    #[error(transparent)]
    Profile(#[from] profile::ProfileError),
    /// The private directory could not be made.
    #[error("cannot write the command's AWS config: {0}")]
    ChildFiles(std::io::Error),
    /// The signal handlers could not be installed.
    #[error("cannot handle signals: {0}")]
    Signals(std::io::Error),
    /// The command could not be started, or waited for.
    #[error("cannot run {0}: {1}")]
    Spawn(String, std::io::Error),
}
