//! Middleware shared by the API routes: request id, span, timeout, metrics; and
//! the JSON fallbacks for unknown routes and methods.

use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

use super::{ApiError, ApiErrorKind, AppState};
use crate::identity::RequestId;

/// The response header carrying the request id.
pub(super) const REQUEST_ID_HEADER: &str = "x-request-id";

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
        .map_or("unmatched", |p| match p.as_str() {
            "/vend" => "/vend",
            "/profiles" => "/profiles",
            "/requests" => "/requests",
            "/requests/{id}" => "/requests/{id}",
            "/requests/{id}/approve" => "/requests/{id}/approve",
            "/requests/{id}/deny" => "/requests/{id}/deny",
            "/.well-known/tvm" => "/.well-known/tvm",
            p => crate::ui::ROUTES
                .iter()
                .find(|r| **r == p)
                .copied()
                .unwrap_or("unmatched"),
        });
    req.extensions_mut().insert(id.clone());
    let has_body = declares_body(req.headers());
    let span = tracing::info_span!("request", request_id = %id, route);
    let timeout = state.0.request_timeout;
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

/// Whether a request announces a body (a non-zero `Content-Length`, or any
/// `Transfer-Encoding`).
fn declares_body(headers: &axum::http::HeaderMap) -> bool {
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() != b"0")
}

/// Reads at most `limit` bytes of body; `Err(())` when it is larger (or the
/// client announced a larger `Content-Length`) or could not be read.
pub(crate) async fn read_body(
    headers: &axum::http::HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Bytes, BodyError> {
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > limit as u64) {
        return Err(BodyError::TooLarge);
    }
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        let too_large = std::error::Error::source(&e)
            .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
        if too_large {
            BodyError::TooLarge
        } else {
            BodyError::Unreadable
        }
    })
}

/// Why a body could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyError {
    /// Over the configured limit.
    TooLarge,
    /// The connection failed while reading.
    Unreadable,
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
