//! The process exit codes of `tvm` (DESIGN §9), in one leaf module so every
//! command and the wiring below them name the same numbers.
//!
//! 0 success and 1 failure are [`std::process::ExitCode::SUCCESS`] and
//! [`std::process::ExitCode::FAILURE`]; the two below follow sysexits (as
//! linkerd2-proxy does). Invariant: these values are part of the command-line
//! contract (scripts and init containers test them) and never change.

/// Exit code for an invalid configuration, policy file or usage (`EX_USAGE`).
pub const EXIT_CONFIG: u8 = 64;

/// Exit code for an internal error: no async runtime, no logging, no transport
/// (`EX_SOFTWARE`).
pub const EXIT_INTERNAL: u8 = 70;
