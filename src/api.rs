//! The JSON API (DESIGN §6, §12, §13): `POST /vend`, `GET /profiles`,
//! `GET /.well-known/tvm`, the approvals API under `/requests`, the
//! sessions and revocations of `/sessions` and `/revocations`, and the
//! audit trail at `GET /audit`. Each
//! handler reads as named steps: the per-address bucket, the body within its
//! limit, the request's shape, then the caller proof and the service's work.
//!
//! Invariants: answers are JSON in [`crate::web::ApiError`]'s shape, never
//! axum's text; a malformed request (query, path, body) is refused before its
//! token is looked at; nothing here decides policy (the vend pipeline and the
//! approvals service do). A sibling of [`crate::ui`]: neither imports the
//! other; both take what they share from [`crate::web`], and `crate::http`
//! mounts both.

mod audit;
mod discovery;
mod profiles;
mod requests;
mod revocations;
mod vend;

use axum::routing::{get, post};
use axum::Router;

use crate::web::AppState;

/// The JSON routes (state added by the API router).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/vend", post(vend::vend))
        .route("/profiles", get(profiles::profiles))
        .route("/requests", post(requests::create).get(requests::list))
        .route("/requests/{id}", get(requests::show))
        .route("/requests/{id}/approve", post(requests::approve))
        .route("/requests/{id}/deny", post(requests::deny))
        .route("/requests/{id}/revoke", post(revocations::revoke_grant))
        .route("/sessions", get(revocations::list_sessions))
        .route("/sessions/{id}", get(revocations::show_session))
        .route("/sessions/{id}/revoke", post(revocations::revoke_session))
        .route(
            "/revocations",
            post(revocations::create).get(revocations::list),
        )
        .route("/revocations/{id}", get(revocations::show))
        .route("/revocations/{id}/lift", post(revocations::lift))
        .route("/revocations/{id}/check", get(revocations::check))
        .route("/audit", get(audit::list))
        .route("/.well-known/tvm", get(discovery::discovery))
}

/// The routes of [`router`] that need the database (DESIGN §12, §13): on a
/// tvm without `database.url` they answer 501 `NOT_CONFIGURED` before
/// anything else (`crate::http` applies this).
pub const DATABASE_ROUTES: &[&str] = &[
    "/requests",
    "/requests/{id}",
    "/requests/{id}/approve",
    "/requests/{id}/deny",
    "/requests/{id}/revoke",
    "/sessions",
    "/sessions/{id}",
    "/sessions/{id}/revoke",
    "/revocations",
    "/revocations/{id}",
    "/revocations/{id}/lift",
    "/revocations/{id}/check",
    "/audit",
];

/// The matched route templates of [`router`], for the HTTP metrics label.
pub const ROUTES: &[&str] = &[
    "/vend",
    "/profiles",
    "/requests",
    "/requests/{id}",
    "/requests/{id}/approve",
    "/requests/{id}/deny",
    "/requests/{id}/revoke",
    "/sessions",
    "/sessions/{id}",
    "/sessions/{id}/revoke",
    "/revocations",
    "/revocations/{id}",
    "/revocations/{id}/lift",
    "/revocations/{id}/check",
    "/audit",
    "/.well-known/tvm",
];
