//! Approvals and break-glass (DESIGN §12): requests, approvals, grants,
//! break-glass records and the webhook outbox. The database they live in is
//! [`crate::database`]; their audit rows are written through [`crate::audit`]
//! and the vends under a grant are listed through [`crate::ledger`].
//!
//! Layout: `actor` (who acts; people only; same-person rule) → `error`
//! ([`ApprovalError`]) → `service` ([`Approvals`]: what every operation
//! shares) → `stored` (a request row and its view) and `eligibility` (who may
//! see and decide) → the operations, one file each: `lifecycle` (create,
//! list, get, expiry, audit trail), `decisions` (approve, deny), `grants` (a
//! grant serving a vend, its vends), `break_glass` (records) and
//! `break_glass_list` (who sees which) → `notify` (webhook texts, the
//! deliverer); `view` is the JSON request object, `webhook` the outbox and
//! deliverer, `text` how caller-written text is shown and measured (web
//! page, webhook `text`, `reason_min_length`).
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
mod break_glass;
mod break_glass_list;
mod decisions;
mod eligibility;
mod error;
mod grants;
mod lifecycle;
mod notify;
mod service;
mod stored;
mod text;
mod view;
mod webhook;

#[cfg(test)]
mod tests;

pub use actor::{person_key, same_person, Actor};
pub use break_glass_list::MAX_BREAK_GLASS_LISTED;
pub use error::ApprovalError;
pub use grants::LiveGrant;
pub use lifecycle::NewRequest;
pub use service::Approvals;
pub use text::{display, is_hidden, visible_len, webhook_field};
pub use view::{rfc3339, ApprovalView, BreakGlassView, RequestView, Status};
pub use webhook::{
    sign, Deliverer, WebhookSettings, WebhookTarget, WebhookText, Webhooks, EVENTS,
    MAX_DELIVERY_AGE,
};
// The database moved to `crate::database`; these names stay importable here.
pub use crate::database::{
    backend_of, connect, is_id, new_id, Backend, Database, DbError, DATABASE_FILE_MODE,
};

/// Validated `database` and `webhooks` config (a settings type of
/// [`crate::config`]).
pub use crate::config::DatabaseSettings;

impl DatabaseSettings {
    /// The policy check of DESIGN §12: a `break_glass` rule needs a webhook
    /// for `break_glass.used`.
    pub fn check_policy(&self, policy: &crate::policy::Policy) -> Result<(), String> {
        if policy.has_break_glass() && !self.notifies("break_glass.used") {
            return Err(
                "a break_glass rule needs a webhook subscribed to break_glass.used \
                 (webhooks)"
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
