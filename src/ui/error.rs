//! Why a page was refused ([`UiError`]): each reason maps to a status and a
//! fixed explanation, shown as the web page's own error page.
//!
//! Invariant: the explanation is fixed per reason, never a cause's text (a
//! database error is logged, not shown) — the revocation service's refusals
//! carry its own fixed `&'static str`, never caller text; every error page
//! carries the strict headers.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::{pages, respond};
use crate::vend::VendError;

/// Why a page was refused; each maps to a status and a fixed explanation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UiError {
    /// Plain http on a non-loopback listener.
    Transport,
    /// A form without a valid CSRF token, or without a session.
    Forbidden,
    /// A sign-in post without its cookie, echo or same-origin fetch.
    SignInRefused,
    /// The link was used already or is older than 60 s.
    CodeSpent,
    /// The request is not there, or not for this approver.
    NotFound,
    /// The approvals service refused (self-approval, not an approver).
    Denied,
    /// No longer pending.
    Conflict,
    /// A malformed form or link.
    BadRequest,
    /// Too many requests from this address.
    RateLimited,
    /// The database failed.
    Unavailable,
    /// The revocation service refused (admins only, a revocation that
    /// targets yourself): its fixed explanation.
    NotAllowed(&'static str),
    /// The revocation service found nothing (left) to do: its fixed
    /// explanation.
    NothingToDo(&'static str),
    /// The revocation service found the form invalid (the reason's length):
    /// its fixed explanation.
    Invalid(&'static str),
}

impl UiError {
    fn parts(self) -> (StatusCode, &'static str, &'static str) {
        use UiError::*;
        match self {
            Transport => (
                StatusCode::FORBIDDEN,
                "HTTPS required",
                "This page is only served over https, or on a loopback address.",
            ),
            Forbidden => (
                StatusCode::FORBIDDEN,
                "Refused",
                "The form was not sent from a page of your current session. Reload the page and try again.",
            ),
            SignInRefused => (
                StatusCode::FORBIDDEN,
                "Sign-in refused",
                "The sign-in was not sent from the sign-in page in this browser. Open the link again.",
            ),
            CodeSpent => (
                StatusCode::FORBIDDEN,
                "Link used or expired",
                "A sign-in link works once, within 60 seconds. Run tvm ui again for a new one.",
            ),
            NotFound => (
                StatusCode::NOT_FOUND,
                "Not found",
                "There is no such page, or it is not yours to see.",
            ),
            Denied => (
                StatusCode::FORBIDDEN,
                "Not allowed",
                "The policy does not let you decide this request (nobody approves their own request).",
            ),
            Conflict => (
                StatusCode::CONFLICT,
                "Already decided",
                "This request is no longer pending.",
            ),
            BadRequest => (
                StatusCode::BAD_REQUEST,
                "Bad request",
                "The form or link is malformed.",
            ),
            RateLimited => (
                StatusCode::TOO_MANY_REQUESTS,
                "Too many requests",
                "Slow down and try again in a moment.",
            ),
            Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Unavailable",
                "The service cannot answer right now; try again shortly.",
            ),
            NotAllowed(_) => (
                StatusCode::FORBIDDEN,
                "Not allowed",
                "The revocation rules refuse this",
            ),
            NothingToDo(_) => (
                StatusCode::CONFLICT,
                "Nothing to do",
                "Nothing is left to revoke or lift",
            ),
            Invalid(_) => (StatusCode::BAD_REQUEST, "Bad request", "The form is invalid"),
        }
    }

    /// The error page, for `who` when signed in.
    pub(super) fn page(self, who: Option<&pages::SignedIn<'_>>) -> Response {
        let (status, title, text) = self.parts();
        let text = match self {
            UiError::NotAllowed(why) | UiError::NothingToDo(why) | UiError::Invalid(why) => {
                format!("{text}: {why}.")
            }
            _ => text.to_owned(),
        };
        respond::page(status, pages::error(title, &text, who))
    }
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        self.page(None)
    }
}

/// The page for a refused rate check: 429, or 503 when the shared buckets
/// fail closed.
pub(super) fn rate_refusal(e: VendError) -> UiError {
    match e {
        VendError::RateLimited(_) => UiError::RateLimited,
        _ => UiError::Unavailable,
    }
}

impl From<sqlx::Error> for UiError {
    fn from(e: sqlx::Error) -> Self {
        tracing::error!(error = %e, "web page database error");
        UiError::Unavailable
    }
}
