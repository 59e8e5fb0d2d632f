//! Reading a request body within its limit, for every route that takes one
//! (`/vend`, the approvals API, the web page's forms and `/ui/login-links`).
//!
//! Invariants: never more than `limit` bytes are buffered; an announced
//! `Content-Length` over the limit is refused before a byte is read; the
//! caller decides the answer (413 or 400) from [`BodyError`].

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap};

/// Reads at most `limit` bytes of body; `Err(())` when it is larger (or the
/// client announced a larger `Content-Length`) or could not be read.
pub(crate) async fn read_body(
    headers: &HeaderMap,
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
