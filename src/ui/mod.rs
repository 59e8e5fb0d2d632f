//! The approvers' web page (DESIGN §12, "Web page for approvers"), mounted at
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
//! ```
//! `guard` holds the pure defences (transport rule, headers, cookies, CSRF,
//! `next`), `pages` the HTML, `store` the codes and sessions in the approvals
//! database, `view` the page-only rows.
//!
//! Invariants: every page is refused unless the origin is https (directly or
//! via a trusted proxy's `X-Forwarded-Proto`) or the listener is loopback;
//! every answer under `/ui` — pages, the JSON of `/ui/login-links`, and the
//! router's own 404 and 405 — carries the strict headers of
//! [`guard::page_headers`] ([`strict_headers`]); a malformed path or query is
//! the page's 400, never axum's text (`extract`); every
//! state-changing form needs the session's CSRF token; approvals go through
//! the same `approvals` service as the JSON API, so its rules (people only, no
//! self-approval, visibility) hold here without a second copy; login codes
//! and session ids are never logged and only stored as digests.

mod extract;
mod guard;
mod login;
mod pages;
mod review;
mod store;
mod view;

use std::time::Duration;

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::Markup;

pub use guard::{
    csrf_token, next_ok, transport_ok, CONTENT_SECURITY_POLICY, LOGIN_COOKIE, SESSION_COOKIE,
};
pub use store::{Principal, UiStore};
pub use view::{AuditEntry, BreakGlassUse};

use crate::approvals::Approvals;
use crate::http::AppState;

/// How long a sign-in link works (DESIGN §12: single use, 60 s).
pub const LOGIN_CODE_TTL: Duration = Duration::from_secs(60);

/// How long a session lasts (DESIGN §12: at most 1 h); no sliding renewal, so
/// a stolen cookie dies within the hour.
pub const SESSION_TTL: Duration = Duration::from_secs(3600);

/// How long the sign-in form's nonce cookie lives: long enough to click.
pub const LOGIN_NONCE_TTL: Duration = Duration::from_secs(300);

/// How far back the overview lists break-glass uses.
pub const BREAK_GLASS_WINDOW: Duration = Duration::from_secs(7 * 24 * 3600);

/// The stylesheet, served by tvm itself (no CDN, no external font).
const STYLESHEET: &str = include_str!("tvm.css");

/// The routes under `/ui/` (state added by the API router).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ui", get(|| async { redirect("/ui/") }))
        .route("/ui/", get(review::overview))
        .route(
            "/ui/requests/{id}",
            get(review::detail).post(review::decide),
        )
        .route("/ui/login-links", post(login::links))
        .route("/ui/login", get(login::form).post(login::sign_in))
        .route("/ui/logout", post(login::logout))
        .route(pages::STYLESHEET_PATH, get(stylesheet))
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
    "/ui/login-links",
    "/ui/login",
    "/ui/logout",
    pages::STYLESHEET_PATH,
];

/// What the pages need from the server: the approvals service (its clock is
/// the pages' clock too) and the web page's tables in its database.
struct Backend {
    approvals: Approvals,
    store: UiStore,
}

impl Backend {
    /// `None` when `approvals` is not configured: no page then.
    fn of(state: &AppState) -> Option<Self> {
        let approvals = state.approvals()?.clone();
        let store = UiStore::new(approvals.database().pool.clone());
        Some(Self { approvals, store })
    }

    /// Now, in unix seconds, on the approvals service's clock.
    fn now(&self) -> i64 {
        self.approvals.clock().now().as_second()
    }
}

/// A page with the strict headers.
fn page(status: StatusCode, markup: Markup) -> Response {
    let mut resp = (status, markup.into_string()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    guard::page_headers(resp.headers_mut());
    resp
}

/// 303 to `to` (a path of ours), with the strict headers.
fn redirect(to: &str) -> Response {
    let mut resp = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    guard::page_headers(resp.headers_mut());
    resp
}

async fn stylesheet() -> Response {
    let mut resp = STYLESHEET.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    guard::page_headers(h);
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    resp
}

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
                "There is no such request, or it is not yours to see.",
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
        }
    }

    /// The error page, for `who` when signed in.
    fn page(self, who: Option<&pages::SignedIn<'_>>) -> Response {
        let (status, title, text) = self.parts();
        page(status, pages::error(title, text, who))
    }
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        self.page(None)
    }
}

/// The page for a refused rate check: 429, or 503 when the shared buckets
/// fail closed.
fn rate_refusal(e: crate::vend::VendError) -> UiError {
    match e {
        crate::vend::VendError::RateLimited(_) => UiError::RateLimited,
        _ => UiError::Unavailable,
    }
}

impl From<sqlx::Error> for UiError {
    fn from(e: sqlx::Error) -> Self {
        tracing::error!(error = %e, "web page database error");
        UiError::Unavailable
    }
}
