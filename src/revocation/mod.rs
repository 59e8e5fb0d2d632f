//! Revocation (DESIGN §13): ending exactly one session, one grant, one
//! leaked caller key, or everything one identity holds, and refusing the
//! revoked at tvm itself on every authenticated route, on every replica.
//!
//! Layout:
//! ```text
//!  keys (identity keys, person targets) ─▶ blocks (BlockSet: the in-memory check)
//!        ▲                                    ▲            ▲
//!  service (Revocations, Caller) ─────────────┘      poll (version every refresh)
//!        ├─ create (session, grant, credentials) + person ─▶ store (rows, blocks, bump)
//!        ├─ learn (a blocked AKIA key's IAM user, once seen)
//!        ├─ lift (admin lift, offline lift)
//!        └─ read (GET /sessions…, /revocations…)   view (JSON objects)   error
//! ```
//! [`iam`] is the AWS side: the per-role inline deny policy derived from
//! the database, the leased per-role queue that writes it through the
//! revoker role, manual mode's instructions, and the read-back check; a vend
//! never waits for it.
//! The routes are `crate::api`'s; the check runs in `crate::vend`'s
//! `Vendor::verify`, the one step every authenticated API route passes
//! right after the caller's GetCallerIdentity, and in `crate::ui` for
//! web-page sessions.
//!
//! Invariants:
//! - every change (revocation, lift) is one transaction with its audit row,
//!   its webhook outbox row, `revocation_state.version + 1` and each touched
//!   role's `desired_version + 1`; the writing replica reloads its blocks at
//!   once, the others within `revocation.refresh`;
//! - a blocked caller key, a temporary key of a blocked IAM user, or a
//!   suspended identity is refused before policy and before any other STS
//!   call; blocks not loaded yet, or older than `max_staleness`, refuse
//!   (503) unless the operator chose `database.ledger_failure: open`;
//! - what a caller may not see answers exactly like what does not exist.

mod blocks;
mod create;
mod error;
pub mod iam;
mod keys;
mod learn;
mod lift;
mod person;
mod poll;
mod read;
mod service;
mod store;
mod view;

pub use blocks::{BlockSet, Refusal, Subject};
pub use create::is_access_key_id;
pub use error::RevocationError;
pub use keys::{subject_keys, MAX_PRINCIPAL_LEN, MAX_USER_NAME_LEN};
pub use lift::{lift_offline, OFFLINE_LIFTER};
pub use person::PersonTarget;
pub use poll::Poller;
pub use read::{RevocationStatus, SessionScope, MAX_LISTED};
pub use service::{Caller, Revocations};
pub use view::{RevocationView, RoleView, SessionView};

/// How long a temporary caller key is blocked, and how far back a `person`
/// revocation collects caller keys: 36 h, the longest any AWS temporary
/// credential lives.
pub const TEMPORARY_KEY_SECONDS: i64 = 36 * 3_600;

/// The longest `suspend_seconds` (366 days); longer: until lifted.
pub const MAX_SUSPEND_SECONDS: i64 = 366 * 86_400;
