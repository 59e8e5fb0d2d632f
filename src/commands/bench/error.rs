//! Why a bench could not run: the one error type of `tvm bench`'s steps
//! (bad flags exit 64, everything else 1).

/// Why a bench could not run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// Bad flags.
    #[error("{0}")]
    Usage(String),
    /// A child process did not start or become ready.
    #[error("{0}: {1}")]
    Start(&'static str, String),
    /// Tokens or requests could not be made.
    #[error("cannot prepare requests: {0}")]
    Prepare(String),
    /// Files, threads, runtime.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}
