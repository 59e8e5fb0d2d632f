//! The signed-in session of a page load ([`Session`]): the transport rule,
//! the `__Host-tvm-session` cookie, the block check, and the rights the
//! principal holds under the policy served *now* — an approver of some rule,
//! or one of the policy's `admins` (DESIGN §13).
//!
//! Invariants: rights are re-checked on every load, never carried from
//! sign-in (a reload that removes an approver or an admin refuses its next
//! page at once); a session of a blocked or suspended principal is refused
//! before anything else is read; the [`Caller`] handed to the revocation
//! service is rebuilt from the stored ARN and `UserId` on each load, so its
//! `admin` flag is today's.

use axum::http::HeaderMap;

use super::backend::Backend;
use super::error::UiError;
use super::guard::{self, SESSION_COOKIE};
use super::pages::SignedIn;
use crate::approvals::Actor;
use crate::revocation::{Caller, Revocations};
use crate::web::{AppState, ClientAddr, ListenerInfo};

/// A signed-in approver or admin: the raw session id (for the CSRF token),
/// who, and the services that answer for them.
pub(super) struct Session {
    pub(super) id: String,
    pub(super) actor: Actor,
    pub(super) backend: Backend,
    /// Who acts on the revocation service (absent without it).
    pub(super) caller: Option<Caller>,
    /// The session's CSRF token.
    pub(super) csrf: String,
}

impl Session {
    /// The layout's view of who is signed in.
    pub(super) fn signed_in(&self) -> SignedIn<'_> {
        SignedIn {
            arn: self.actor.arn(),
            csrf: &self.csrf,
        }
    }

    /// The revocation service and this principal as its caller; the page is
    /// not there (404) when the server has no revocation service.
    pub(super) fn revocations(&self) -> Result<(&Revocations, &Caller), UiError> {
        match (&self.backend.revocations, &self.caller) {
            (Some(r), Some(c)) => Ok((r, c)),
            _ => Err(UiError::NotFound),
        }
    }

    /// Whether the principal is one of the policy's admins now.
    pub(super) fn is_admin(&self) -> bool {
        self.caller.as_ref().is_some_and(|c| c.admin)
    }

    /// Now, on the service clock, as a timestamp.
    pub(super) fn now(&self) -> jiff::Timestamp {
        jiff::Timestamp::from_second(self.backend.now()).unwrap_or_default()
    }
}

/// The transport rule, then the session of the cookie, if live.
pub(super) async fn session(
    state: &AppState,
    listener: Option<&ListenerInfo>,
    client: Option<&ClientAddr>,
    headers: &HeaderMap,
) -> Result<Option<Session>, UiError> {
    if !guard::transport_ok(listener, client, headers) {
        return Err(UiError::Transport);
    }
    let backend = Backend::of(state).ok_or(UiError::NotFound)?;
    let Some(id) = guard::cookie(headers, SESSION_COOKIE).filter(|s| guard::is_secret(s)) else {
        return Ok(None);
    };
    let found = backend
        .store
        .session(&guard::digest("session", id), backend.now())
        .await?;
    let Some(found) = found else {
        return Ok(None);
    };
    backend.unblocked(&found).await?;
    let Ok(actor) = Actor::from_session(&found.arn, &found.user_id) else {
        return Ok(None);
    };
    // The rights a session was signed in with are re-checked on every page
    // load against the policy served now: an approver or admin a reload
    // removed is refused at once, not when the session ends.
    if !backend.may_use_page(&actor) {
        return Err(UiError::Denied);
    }
    let caller = backend.caller(&actor);
    Ok(Some(Session {
        csrf: guard::csrf_token(id),
        id: id.to_owned(),
        actor,
        backend,
        caller,
    }))
}

/// The public base URL for the signed-out page's command.
pub(super) fn base_url(state: &AppState) -> String {
    state
        .discovery()
        .audience
        .first()
        .cloned()
        .unwrap_or_else(|| "https://tvm.example.com".into())
}
