//! The approvers' and admins' web page (DESIGN §12, "Web page for
//! approvers", and §13), mounted at
//! `/ui/` on the API router: server-rendered HTML, no script.
//!
//! Layout:
//! ```text
//!  tvm ui ──POST /ui/login-links (tvm-v1 token)──▶ login::links ── code (60 s) ──▶ store
//!  browser ─GET /ui/login?code─▶ login::form   (button only; sets __Host-tvm-login)
//!          ─POST /ui/login────▶ login::sign_in (cookie + echo + Sec-Fetch-Site;
//!                                 spends the code; fresh __Host-tvm-session) ─303─▶ next
//!          ─GET /ui/, /ui/requests/{id}─▶ review (pages.rs) ─▶ approvals service
//!          ─POST /ui/requests/{id}, /ui/logout─▶ CSRF check ─▶ approvals service / store
//!          ─GET /ui/sessions, /ui/revocations[/{id}]─▶ revoking ─▶ revocation service
//!          ─POST …/revoke, /ui/revocations/{id}/lift─▶ CSRF check ─▶ revocation service
//! ```
//! `session` is a page load's signed-in principal (approver or admin, rights
//! re-checked on every load), `review` the request pages, `revoking` the
//! revocation pages (DESIGN §13); `guard` holds the pure defences (transport
//! rule, headers, cookies, CSRF, `next`), `pages` the HTML, `respond` the answers around it (page, 303,
//! stylesheet), `error` the refusals ([`UiError`]'s pages), `backend` the
//! approvals service and `store` the codes and sessions in its database,
//! `view` the page-only rows. This module only routes: its children import
//! each other, never it. A sibling of [`crate::api`] (neither imports the
//! other); what both need is [`crate::web`]'s.
//!
//! Invariants: every page is refused unless the origin is https (directly or
//! via a trusted proxy's `X-Forwarded-Proto`) or the listener is loopback;
//! every answer under `/ui` — pages, the JSON of `/ui/login-links`, and the
//! router's own 404 and 405 — carries the strict headers of
//! [`guard::page_headers`] ([`strict_headers`]); a malformed path or query is
//! the page's 400, never axum's text (`extract`); every
//! state-changing form needs the session's CSRF token; approvals go through
//! the same `approvals` service as the JSON API, so its rules (people only, no
//! self-approval, visibility) hold here without a second copy, and sessions
//! and revocations through the same `revocation` service (own or admin,
//! visibility 404s, admin-only lifts, 409s); login codes
//! and session ids are never logged and only stored as digests.

mod backend;
mod error;
mod extract;
mod guard;
mod login;
mod pages;
mod respond;
mod review;
mod revoking;
mod session;
mod store;
mod view;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;

pub use guard::{
    csrf_token, next_ok, transport_ok, CONTENT_SECURITY_POLICY, LOGIN_COOKIE, SESSION_COOKIE,
};
pub use login::{LOGIN_CODE_TTL, LOGIN_NONCE_TTL, SESSION_TTL};
pub use review::BREAK_GLASS_WINDOW;
pub use store::{Principal, UiStore};
pub use view::{AuditEntry, BreakGlassUse};

use crate::web::AppState;

/// The routes under `/ui/` (state added by the API router).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ui", get(|| async { respond::redirect("/ui/") }))
        .route("/ui/", get(review::overview))
        .route(
            "/ui/requests/{id}",
            get(review::detail).post(review::decide),
        )
        .route("/ui/requests/{id}/revoke", post(revoking::revoke_grant))
        .route("/ui/sessions", get(revoking::sessions))
        .route("/ui/sessions/{id}/revoke", post(revoking::revoke_session))
        .route("/ui/revocations", get(revoking::revocations))
        .route("/ui/revocations/{id}", get(revoking::revocation))
        .route("/ui/revocations/{id}/lift", post(revoking::lift))
        .route("/ui/login-links", post(login::links))
        .route("/ui/login", get(login::form).post(login::sign_in))
        .route("/ui/logout", post(login::logout))
        .route(pages::STYLESHEET_PATH, get(respond::stylesheet))
}

/// Whether `path` is the web page's: `/ui` or anything under `/ui/`.
fn is_page_path(path: &str) -> bool {
    path == "/ui" || path.starts_with("/ui/")
}

/// Middleware of the API router: every answer to a path of the web page
/// carries the strict headers of [`guard::page_headers`], including those no
/// handler of the page wrote (the router's 404 and 405, a timeout); headers an
/// answer set itself are kept.
pub async fn strict_headers(req: Request, next: Next) -> Response {
    let page_path = is_page_path(req.uri().path());
    let mut resp = next.run(req).await;
    if page_path {
        guard::fill_page_headers(resp.headers_mut());
    }
    resp
}

/// The matched route templates of [`router`], for the HTTP metrics label.
pub const ROUTES: &[&str] = &[
    "/ui",
    "/ui/",
    "/ui/requests/{id}",
    "/ui/requests/{id}/revoke",
    "/ui/sessions",
    "/ui/sessions/{id}/revoke",
    "/ui/revocations",
    "/ui/revocations/{id}",
    "/ui/revocations/{id}/lift",
    "/ui/login-links",
    "/ui/login",
    "/ui/logout",
    pages::STYLESHEET_PATH,
];
