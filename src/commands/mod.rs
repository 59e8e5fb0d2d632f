//! The `tvm` subcommands that run the service or its tools, one module each:
//! its argument struct (clap derive; the doc comments are the help text) and
//! its `run` function returning the process exit code ([`crate::exit`]).
//! [`crate::cli`] parses the command line and dispatches here (and to the
//! client commands in [`crate::client`]).
//!
//! - [`serve`]: `tvm serve`, and `--check-config` ([`config_check`]).
//! - [`dev`]: `tvm dev`, the service with an in-process simulator and a demo
//!   policy.
//! - [`sim`]: `tvm sim`, the STS simulator as its own process.
//! - [`policy`]: `tvm policy check` and `tvm policy eval`.
//! - [`bench`]: `tvm bench` and its hidden zero-cost upstream.
//! - [`demo`]: the demo account, people and keys that `dev`, `sim` and
//!   `bench` share (below all three, so none imports another for it).
//!
//! Invariants: flags, help texts and exit codes are the command-line contract
//! (DESIGN §9; `tests/api/cli.rs`); a command may use the wiring
//! ([`crate::startup`]) and everything below, never [`crate::cli`].

pub mod bench;
pub mod config_check;
pub mod demo;
pub mod dev;
pub mod policy;
pub mod revocations;
pub mod serve;
pub mod sim;
