//! What the pages need from the server ([`Backend`]): the approvals service
//! (its clock is the pages' clock too) and the web page's tables in its
//! database.
//!
//! Invariant: there is no backend, hence no page, when `approvals` is not
//! configured; the pages call the same approvals and revocation services as
//! the JSON API; who may use the page (an approver of some rule, or one of
//! the policy's `admins`) is decided here, once, for sign-in and every load.

use super::error::UiError;
use super::store::{Principal, UiStore};
use crate::approvals::{Actor, Approvals};
use crate::audit::AuditEvent;
use crate::identity::{Identity, RequestId};
use crate::revocation::{Caller, Refusal, Revocations, Subject};
use crate::web::AppState;

/// What the pages need from the server: the approvals service (its clock is
/// the pages' clock too) and the web page's tables in its database.
pub(super) struct Backend {
    pub(super) approvals: Approvals,
    pub(super) store: UiStore,
    /// Blocks and suspensions (DESIGN §13), checked on every sign-in and
    /// every page load of a session.
    pub(super) revocations: Option<Revocations>,
}

impl Backend {
    /// `None` when `approvals` is not configured: no page then.
    pub(super) fn of(state: &AppState) -> Option<Self> {
        let approvals = state.approvals()?.clone();
        let store = UiStore::new(approvals.database().clone());
        let revocations = state.vendor().revocations().cloned();
        Some(Self {
            approvals,
            store,
            revocations,
        })
    }

    /// Refuses a page session (or a sign-in) of a suspended identity or
    /// opened with a blocked caller key: 403, or 503 while the blocks are
    /// stale. An unreadable ARN is refused too.
    pub(super) async fn unblocked(&self, who: &Principal) -> Result<(), UiError> {
        let Some(r) = &self.revocations else {
            return Ok(());
        };
        let identity = Identity::from_arn(&who.arn).map_err(|_| UiError::Denied)?;
        let subject = Subject {
            identity: &identity,
            user_id: &who.user_id,
            access_key_id: who.access_key_id.as_deref(),
        };
        match r.check(subject).await {
            Ok(()) => Ok(()),
            Err(Refusal::Stale) => Err(UiError::Unavailable),
            Err(refusal) => {
                tracing::info!(
                    principal_arn = %who.arn, reason = refusal.reason(),
                    "web page session refused: revoked"
                );
                Err(UiError::Denied)
            }
        }
    }

    /// `actor` as the revocation service's caller, judged against the policy
    /// served now (`None` without the service).
    pub(super) fn caller(&self, actor: &Actor) -> Option<Caller> {
        self.revocations
            .as_ref()
            .map(|r| r.caller_of(actor.identity().clone(), actor.user_id()))
    }

    /// Whether `actor` may use the page now: an approver of some rule, or
    /// one of the policy's `admins` (DESIGN §13).
    pub(super) fn may_use_page(&self, actor: &Actor) -> bool {
        self.approvals.is_approver(actor) || self.caller(actor).is_some_and(|c| c.admin)
    }

    /// The audit event `event` of `who`'s page session (its sign-in or
    /// sign-out), made by the HTTP request `http`.
    pub(super) fn page_event(&self, event: &str, who: &Principal, http: &RequestId) -> AuditEvent {
        let keys = self.approvals.keys_of(&who.arn, &who.user_id);
        AuditEvent::new(event, self.now(), http)
            .actor(&who.arn, keys.clone())
            .subject(&who.arn, keys)
            .detail("web page")
    }

    /// Now, in unix seconds, on the approvals service's clock.
    pub(super) fn now(&self) -> i64 {
        self.approvals.clock().now().as_second()
    }
}
