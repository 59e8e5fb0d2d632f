//! Extractors whose rejections are tvm's own error answers: [`ApiQuery`] and
//! [`ApiPath`] wrap axum's `Query` and `Path` and answer 400 `INVALID_REQUEST`
//! in the JSON error shape (DESIGN §6) with the request id, where axum would
//! answer `text/plain` with its parser's text (which echoes the caller's
//! input). The web page's counterpart is `crate::ui`'s `PagePath`.
//!
//! Invariants: no handler of the API router takes axum's `Query` or `Path`
//! directly (nor `Json` or `Form` as an extractor: bodies are read within the
//! size limit and parsed by the handler, whose 400s use the same shape); the
//! message is fixed per extractor, never the parser's text. Extractors run before the handler, so
//! such a 400 comes before authentication, like every shape check of a request
//! (query, path, body): the token is neither checked nor used up, and STS is
//! not called. It tells nothing the caller did not send.

use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::{ApiError, ApiErrorKind};
use crate::identity::RequestId;

/// A query string parsed as `T`; a malformed one is 400 `INVALID_REQUEST`.
#[derive(Debug)]
pub(crate) struct ApiQuery<T>(pub(crate) T);

/// Path parameters parsed as `T`; a malformed one (e.g. a percent-encoding
/// that is not UTF-8) is 400 `INVALID_REQUEST`.
#[derive(Debug)]
pub(crate) struct ApiPath<T>(pub(crate) T);

/// The 400 answer of a rejected extractor, with the request id the
/// middleware gave the request.
fn invalid(parts: &Parts, message: &'static str) -> ApiError {
    let err = ApiError::new(ApiErrorKind::InvalidRequest).with_message(message);
    match parts.extensions.get::<RequestId>() {
        Some(id) => err.with_request_id(id),
        None => err,
    }
}

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(Self(v)),
            Err(_) => Err(invalid(parts, "the query string is malformed")),
        }
    }
}

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(Self(v)),
            Err(_) => Err(invalid(parts, "the path is malformed")),
        }
    }
}
