//! The AWS side of revocation (DESIGN §13, "In AWS"): each role a revoked
//! session was vended for carries the inline policy
//! `tvm-revocations-{prefix}-{deployment_id}`, one `Deny` on the revoked
//! sessions' and grants' SourceIdentities, derived wholly from the database
//! and written through a leased per-role queue.
//!
//! ```text
//!  revoke (another module) ── bumps revocation_roles.desired_version ─┐
//!                                                                     ▼
//!  Applier::once (every replica) ── store::due_roles ─▶ store::lease (one writer)
//!        │  store::role_values ─▶ document::derive (pure: sorted values,
//!        │                         expiry, 60% rule) ─▶ Derived
//!        ▼
//!  IamAccess::connect (revoker: AssumeRole, rvk- stamp) ─▶ Iam: Get ─▶ Put | Delete
//!        │
//!        └─▶ store::finish (status, applied_version) + revocation.failed webhook
//!  IamPolicies::roles   → a revocation's `Roles` (status)
//!  IamPolicies::check   → GET /revocations/{id}/check (in_sync|missing|differs)
//!  manual::instructions → `tvm revocations ID` text (command, fallback, SCP)
//! ```
//!
//! Layout: `document` (naming, derivation), `client` (the [`Iam`] and
//! [`IamAccess`] traits, [`IamError`]), `revoker` (the revoker role), `aws`
//! (the traits on tvm's own IAM client, `crate::sts::iam`),
//! `store` (the SQL), `applier` (the worker), `service` ([`IamPolicies`]),
//! `status`, `check`, `manual`.
//!
//! Invariants: see each file; overall, the vend path never waits for IAM,
//! and every replica derives the same document from the same rows.

mod applier;
mod aws;
mod check;
mod client;
mod document;
mod manual;
mod revoker;
mod service;
mod status;
mod store;

#[cfg(test)]
mod tests;

use std::time::Duration;

pub use applier::Applier;
pub use aws::aws_client_factory;
pub use check::{CheckError, CheckState, RoleCheck};
pub use client::{Iam, IamAccess, IamError, OnBehalf, RoleRef};
pub use document::{
    derive, foreign_sid, render, same_document, session_pattern, DenyValue, Derived, Naming,
    IAM_INLINE_LIMIT, SELF_SERVICE_SHARE_PERCENT, SID_BASE,
};
pub use manual::{instructions, scp_statement, AWS_REVOKE_POLICY_NAME};
pub use revoker::{IamClientFactory, RevokerAccess};
pub use service::IamPolicies;
pub use status::RevocationRole;

/// At most one write per role this often (DESIGN §13: 10 s), so a burst of
/// revocations on one role coalesces into the next write.
pub const WRITE_INTERVAL_SECS: i64 = 10;

/// Every role with live values is read back this often (DESIGN §13: 10
/// minutes): a tool managing inline policies exclusively may remove ours.
pub const RECHECK_INTERVAL_SECS: i64 = 600;

/// A worker holds a role this long; a pass is cut off well before
/// ([`PASS_TIMEOUT`]), so a lease never outlives its worker's work.
pub const LEASE_SECS: i64 = 60;

/// The longest one role's pass (AssumeRole and up to three IAM calls) may take.
pub const PASS_TIMEOUT: Duration = Duration::from_secs(45);

/// How far back expired values are read: only to tell a revocation whose
/// values all ended (`expired`) from one never applied. 36 h: the longest
/// any AWS temporary credential lives.
pub const EXPIRED_LOOKBACK_SECS: i64 = 36 * 3_600;

/// How often a replica's worker looks for due roles.
pub const DEFAULT_TICK: Duration = Duration::from_secs(1);
