//! Approvals and break-glass (DESIGN §12): requests, approvals, grants,
//! break-glass records, their audit trail and the webhook outbox.
//!
//! Layout: `actor` (who acts; people only; same-person rule) → `db` (pool and
//! versioned migrations, SQLite or Postgres) → this file, the service
//! ([`Approvals`]: create, list, get, approve, deny, and the two vend hooks)
//! → `view` (the JSON request object) → `webhook` (outbox and deliverer).
//!
//! Invariants:
//! - every state change runs in one transaction with its append-only audit row
//!   (who, what, when, HTTP request id) and its outbox rows;
//! - a transition happens only from `pending`, by a conditional
//!   `UPDATE … WHERE status = 'pending'` taken first in the transaction, so two
//!   approvers (or two replicas) never both transition a request: the second
//!   waits for the row and then finds it no longer pending (409);
//! - the requester and every approver are different people, and only people
//!   act ([`Actor::is_person`]); an approver must match the approvers of the
//!   request's rule in the policy being served;
//! - a request a caller may not see answers exactly like a missing one;
//! - a grant serves only its requester (same STS ARN and `UserId`), only while
//!   its rule is unchanged (digest) and still the first to match.

mod actor;
mod db;
mod grants;
mod service;
mod view;
mod webhook;

#[cfg(test)]
mod tests;

pub use actor::{person_key, same_person, Actor};
pub use db::{backend_of, connect, Backend, Database, DbError};
pub use service::{ApprovalError, Approvals, LiveGrant, NewRequest};
pub use view::{rfc3339, ApprovalView, BreakGlassView, RequestView, Status};
pub use webhook::{
    escape_text, sign, Deliverer, WebhookSettings, WebhookTarget, Webhooks, EVENTS,
    MAX_DELIVERY_AGE,
};

/// Validated `approvals` config (a settings type of [`crate::config`]).
pub use crate::config::ApprovalsSettings;

impl ApprovalsSettings {
    /// The policy check of DESIGN §12: a `break_glass` rule needs a webhook
    /// for `break_glass.used`.
    pub fn check_policy(&self, policy: &crate::policy::Policy) -> Result<(), String> {
        if policy.has_break_glass() && !self.notifies("break_glass.used") {
            return Err(
                "a break_glass rule needs a webhook subscribed to break_glass.used \
                 (approvals.webhooks)"
                    .into(),
            );
        }
        Ok(())
    }
}

/// Most pending requests one requester may have (DESIGN §12; more: 429).
pub const MAX_PENDING_PER_REQUESTER: i64 = 5;

/// How long a pending request waits for approvers (DESIGN §12: 24h).
pub const REQUEST_TTL_SECONDS: i64 = 24 * 3_600;

/// A vend under a grant needs at least this much grant left (STS's shortest
/// session): with less, 403 `APPROVAL_REQUIRED`.
pub const MIN_GRANT_LEFT_SECONDS: i64 = 900;

/// Longest approve/deny comment, in characters.
pub const MAX_COMMENT_CHARS: usize = 1_000;

/// Most requests `GET /requests` returns.
pub const MAX_LISTED: i64 = 500;

/// A new 16-lowercase-hex id from the CSPRNG (request and record ids).
pub fn new_id() -> String {
    use rand::RngCore;
    let mut b = [0u8; 8];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// Whether `s` looks like an id (16 lowercase hex).
pub fn is_id(s: &str) -> bool {
    s.len() == 16 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}
