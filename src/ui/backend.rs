//! What the pages need from the server ([`Backend`]): the approvals service
//! (its clock is the pages' clock too) and the web page's tables in its
//! database.
//!
//! Invariant: there is no backend, hence no page, when `approvals` is not
//! configured; the pages call the same approvals service as the JSON API.

use super::store::UiStore;
use crate::approvals::Approvals;
use crate::web::AppState;

/// What the pages need from the server: the approvals service (its clock is
/// the pages' clock too) and the web page's tables in its database.
pub(super) struct Backend {
    pub(super) approvals: Approvals,
    pub(super) store: UiStore,
}

impl Backend {
    /// `None` when `approvals` is not configured: no page then.
    pub(super) fn of(state: &AppState) -> Option<Self> {
        let approvals = state.approvals()?.clone();
        let store = UiStore::new(approvals.database().pool.clone());
        Some(Self { approvals, store })
    }

    /// Now, in unix seconds, on the approvals service's clock.
    pub(super) fn now(&self) -> i64 {
        self.approvals.clock().now().as_second()
    }
}
