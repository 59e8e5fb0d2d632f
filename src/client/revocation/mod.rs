//! The session and revocation commands of DESIGN §13: `tvm sessions`,
//! `tvm revoke` (a session, a grant, a caller key, a person) and
//! `tvm revocations` (list, show with per-role status, `--check`, `lift`).
//!
//! - [`wire`]: the JSON objects (session, revocation, check);
//! - [`checked`]: what each must satisfy before anything is printed or used;
//! - [`api`]: the signed calls, as methods of [`crate::client::Server`];
//! - [`show`]: the tables and texts;
//! - [`sessions`], [`revoke`], [`revocations`]: the commands.
//!
//! Invariants: as for every client command — a token per call, bound to its
//! method and path; ids checked before they reach a path; every answer
//! checked before it is printed, free text shown escaped; a failure is one
//! line on stderr and exit 1 (64 for a usage error).
//!
//! This file is an index: it declares the modules and re-exports, and holds
//! no code.

pub mod api;
pub mod checked;
pub mod revocations;
pub mod revoke;
pub mod sessions;
pub mod show;
#[cfg(test)]
mod tests;
pub mod wire;

pub use revocations::{revocations_command, RevocationsArgs};
pub use revoke::{drop_cached, revoke_command, RevokeArgs};
pub use sessions::{sessions_command, SessionsArgs};
