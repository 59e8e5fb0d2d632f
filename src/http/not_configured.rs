//! Routes that need the database (DESIGN §13, "Database and webhooks keys"):
//! on a tvm without `database.url` they answer 501 `NOT_CONFIGURED`.
//!
//! Invariants: the answer comes before anything else of the route runs — no
//! rate bucket, no body read, no token verification, so no STS call — and is
//! the same for every caller, so it reveals nothing but the configuration;
//! which routes need the database is decided by their matched template
//! ([`crate::api::DATABASE_ROUTES`] and every route of [`crate::ui::ROUTES`]),
//! never the raw path, and an unknown path stays 404.

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::identity::RequestId;
use crate::web::{ApiError, ApiErrorKind, AppState};

/// Whether the route template `matched` needs the database: the approvals
/// API and the web page (DESIGN §12).
pub(super) fn needs_database(matched: &str) -> bool {
    crate::api::DATABASE_ROUTES
        .iter()
        .chain(crate::ui::ROUTES)
        .any(|r| *r == matched)
}

/// Middleware of the API router (inside `observe`, so the request id is
/// set): a route of [`needs_database`] on a tvm without a database answers
/// 501 `NOT_CONFIGURED`.
pub(super) async fn require_database(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let matched = req
        .extensions()
        .get::<MatchedPath>()
        .is_some_and(|p| needs_database(p.as_str()));
    if matched && state.approvals().is_none() {
        let err = ApiError::new(ApiErrorKind::NotConfigured);
        return match req.extensions().get::<RequestId>() {
            Some(id) => err.with_request_id(id).into_response(),
            None => err.into_response(),
        };
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::needs_database;

    #[test]
    fn approvals_routes_and_the_web_page_need_the_database_vends_do_not() {
        for r in [
            "/requests",
            "/requests/{id}",
            "/requests/{id}/approve",
            "/requests/{id}/deny",
            "/ui",
            "/ui/",
            "/ui/login",
            "/ui/login-links",
            "/ui/logout",
            "/ui/requests/{id}",
        ] {
            assert!(needs_database(r), "{r}");
        }
        for r in ["/vend", "/profiles", "/.well-known/tvm", "/requests/x"] {
            assert!(!needs_database(r), "{r}");
        }
    }
}
