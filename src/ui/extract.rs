//! The web page's extractors: [`PagePath`] and [`PageQuery`] wrap axum's `Path`
//! and `Query` and answer a malformed path or query with the page's own 400
//! ([`UiError::BadRequest`], HTML with the strict headers) where axum would
//! answer `text/plain` with its parser's text. The JSON API's counterparts are
//! `crate::web`'s `ApiPath` and `ApiQuery`.
//!
//! Invariant: no handler under `/ui/` takes axum's `Path` or `Query` directly.

use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::UiError;

/// Path parameters parsed as `T`; a malformed one is the 400 page.
#[derive(Debug)]
pub(super) struct PagePath<T>(pub(super) T);

/// A query string parsed as `T`; a malformed one is the 400 page.
#[derive(Debug)]
pub(super) struct PageQuery<T>(pub(super) T);

impl<S, T> FromRequestParts<S> for PagePath<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = UiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| Self(v))
            .map_err(|_| UiError::BadRequest)
    }
}

impl<S, T> FromRequestParts<S> for PageQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = UiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| Self(v))
            .map_err(|_| UiError::BadRequest)
    }
}
