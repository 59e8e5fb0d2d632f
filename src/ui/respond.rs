//! The web page's answers that are not a page's content: an HTML page, a 303
//! to one of our paths, and the stylesheet, each with the strict headers of
//! [`guard::page_headers`].
//!
//! Invariant: every answer built here carries the strict headers; a redirect
//! only ever goes to a path the caller of [`redirect`] chose from tvm's own.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::Markup;

use super::guard;

/// The stylesheet, served by tvm itself (no CDN, no external font).
const STYLESHEET: &str = include_str!("tvm.css");

/// A page with the strict headers.
pub(super) fn page(status: StatusCode, markup: Markup) -> Response {
    let mut resp = (status, markup.into_string()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    guard::page_headers(resp.headers_mut());
    resp
}

/// 303 to `to` (a path of ours), with the strict headers.
pub(super) fn redirect(to: &str) -> Response {
    let mut resp = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    guard::page_headers(resp.headers_mut());
    resp
}

pub(super) async fn stylesheet() -> Response {
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
