//! Webhook composition: the one-line `text` of each event of approvals, and
//! the deliverer built from the service.
//!
//! Invariant: every stored or caller-written value goes into a text through
//! [`WebhookText::field`] (escaped); only tvm's own literal words go through
//! [`WebhookText::word`].

use std::sync::Arc;

use super::service::Approvals;
use super::view::RequestView;
use super::webhook::{Deliverer, WebhookText};
use crate::clock::Clock;
use crate::metrics::Metrics;

/// `text` then "{requester} {verb} {profile} for {n}s: {reason} ({id})", every
/// stored value escaped as a field.
pub(super) fn view_text(text: WebhookText, verb: &'static str, v: &RequestView) -> WebhookText {
    text.field(&v.requester)
        .word(" ")
        .word(verb)
        .word(" ")
        .field(&v.profile)
        .word(" for ")
        .field(&v.duration_seconds.to_string())
        .word("s: ")
        .field(&v.reason)
        .word(" (")
        .field(&v.id)
        .word(")")
}

/// "BREAK-GLASS: {caller} took {profile} for {n}s: {reason}", every value
/// escaped as a field.
pub(super) fn break_glass_text(
    caller: &str,
    profile: &str,
    duration_seconds: u32,
    reason: &str,
) -> WebhookText {
    WebhookText::new()
        .word("BREAK-GLASS: ")
        .field(caller)
        .word(" took ")
        .field(profile)
        .word(" for ")
        .field(&duration_seconds.to_string())
        .word("s: ")
        .field(reason)
}

impl Deliverer {
    /// A deliverer for the service's outbox.
    pub fn new(approvals: &Approvals, clock: Arc<dyn Clock>, metrics: Metrics) -> Self {
        Self::from_parts(
            approvals.database().pool.clone(),
            approvals.webhooks().clone(),
            clock,
            metrics,
        )
    }
}
