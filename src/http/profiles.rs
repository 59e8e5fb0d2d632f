//! `GET /profiles`: the profiles the verified caller could be allowed now, with
//! their durations; nothing about any other profile.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Serialize;

use super::{ApiError, AppState, ClientAddr};
use crate::identity::RequestId;
use crate::vend::VendError;

#[derive(Serialize)]
struct ProfileEntry {
    name: String,
    max_duration_seconds: u32,
    default_duration_seconds: u32,
}

#[derive(Serialize)]
struct ProfilesResponse {
    profiles: Vec<ProfileEntry>,
}

/// Lists the caller's profiles. The token is bound to an empty body.
pub(super) async fn profiles(
    State(state): State<AppState>,
    Extension(id): Extension<RequestId>,
    client: Option<Extension<ClientAddr>>,
    headers: HeaderMap,
) -> Response {
    if let Err(wait) = state.rate_check(client.as_ref().map(|c| &c.0)) {
        return ApiError::from(&VendError::RateLimited(wait))
            .with_request_id(&id)
            .into_response();
    }
    let authorization = headers
        .get(header::AUTHORIZATION)
        .map(HeaderValue::as_bytes);
    match state.vendor().profiles(authorization).await {
        Ok((caller, allowed)) => {
            tracing::info!(
                principal_arn = %caller.identity().arn(),
                count = allowed.len(),
                "profiles listed"
            );
            let profiles = allowed
                .into_iter()
                .map(|a| ProfileEntry {
                    name: a.profile.name.clone(),
                    max_duration_seconds: a.max_duration_seconds,
                    default_duration_seconds: a.default_duration_seconds,
                })
                .collect();
            Json(ProfilesResponse { profiles }).into_response()
        }
        Err(e) => {
            tracing::info!(reason = e.outcome(), error = %e, "profiles refused");
            ApiError::from(&e).with_request_id(&id).into_response()
        }
    }
}
