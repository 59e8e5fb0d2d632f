//! Middleware of the API router: request id, span, timeout, metrics; and the
//! JSON fallbacks for unknown routes and methods.
//!
//! Invariant: the route label of a metric is a template of [`crate::api::ROUTES`]
//! or [`crate::ui::ROUTES`] or `unmatched`, never the raw path.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

use crate::identity::RequestId;
use crate::web::{ApiError, ApiErrorKind, AppState, REQUEST_ID_HEADER};

/// Wraps every API request: a fresh request id (an incoming one is ignored; it
/// would end up in AWS stamps), a span carrying it, the request timeout, and the
/// HTTP metrics. The route label is the matched route template, never the raw
/// path, so callers cannot create label values.
///
/// An error answer to a request that carries a body says `Connection: close`:
/// early refusals (429, 413) do not read the body, and hyper then cannot reuse
/// the connection; announcing it lets the client's next request go on a new
/// connection instead of dying with a reset.
pub(super) async fn observe(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let id = RequestId::generate();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .and_then(|p| route_label(p.as_str()))
        .unwrap_or("unmatched");
    req.extensions_mut().insert(id.clone());
    let has_body = declares_body(req.headers());
    let span = tracing::info_span!("request", request_id = %id, route);
    let timeout = state.request_timeout();
    let mut resp = match tokio::time::timeout(timeout, next.run(req).instrument(span.clone())).await
    {
        Ok(resp) => resp,
        Err(_) => {
            span.in_scope(|| {
                tracing::warn!(timeout_ms = timeout.as_millis() as u64, "request timed out")
            });
            ApiError::new(ApiErrorKind::Unavailable)
                .with_message("the request timed out")
                .with_request_id(&id)
                .into_response()
        }
    };
    if let Ok(v) = HeaderValue::from_str(id.as_str()) {
        resp.headers_mut().insert(REQUEST_ID_HEADER, v);
    }
    if has_body && !resp.status().is_success() {
        resp.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    state
        .metrics()
        .http_request(route, resp.status(), started.elapsed().as_secs_f64());
    resp
}

/// The metrics label of a matched route template: one of the API's or the web
/// page's own templates (`'static`, so a label is never built from a request).
fn route_label(matched: &str) -> Option<&'static str> {
    crate::api::ROUTES
        .iter()
        .chain(crate::ui::ROUTES)
        .find(|r| **r == matched)
        .copied()
}

/// Whether a request announces a body (a non-zero `Content-Length`, or any
/// `Transfer-Encoding`).
fn declares_body(headers: &axum::http::HeaderMap) -> bool {
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() != b"0")
}

/// 404 in the API error format.
pub(super) async fn not_found(req: Request) -> Response {
    with_id(ApiError::new(ApiErrorKind::NotFound), &req)
}

/// 405 in the API error format.
pub(super) async fn method_not_allowed(req: Request) -> Response {
    with_id(ApiError::new(ApiErrorKind::MethodNotAllowed), &req)
}

fn with_id(err: ApiError, req: &Request) -> Response {
    match req.extensions().get::<RequestId>() {
        Some(id) => err.with_request_id(id).into_response(),
        None => err.into_response(),
    }
}
