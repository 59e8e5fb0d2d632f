//! `GET /profiles`: the profiles the verified caller could be allowed now, with
//! their durations; nothing about any other profile.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Serialize;

use crate::identity::RequestId;
use crate::web::{log_refusal, request_context, AddressScope, ApiError, AppState, ClientAddr};

/// One entry of the answer (DESIGN §6, PascalCase like AWS's APIs).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ProfileEntry {
    name: String,
    max_duration_seconds: u32,
    default_duration_seconds: u32,
    /// `direct`, `approval` (needs a grant) or `break_glass`.
    kind: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ProfilesResponse {
    profiles: Vec<ProfileEntry>,
}

/// Lists the caller's profiles. The token is bound to an empty body.
pub(super) async fn profiles(
    State(state): State<AppState>,
    Extension(id): Extension<RequestId>,
    client: Option<Extension<ClientAddr>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Err(e) = state
        .rate_check(AddressScope::Api, client.as_ref().map(|c| &c.0))
        .await
    {
        return ApiError::from(&e).with_request_id(&id).into_response();
    }
    let authorization = headers
        .get(header::AUTHORIZATION)
        .map(HeaderValue::as_bytes);
    let ctx = request_context(&method, &uri, &headers, b"", client.as_deref());
    match state.vendor().profiles(authorization, &ctx).await {
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
                    kind: a.kind.as_str(),
                })
                .collect();
            Json(ProfilesResponse { profiles }).into_response()
        }
        Err(e) => {
            log_refusal("profiles refused", &id, &e);
            ApiError::from(&e).with_request_id(&id).into_response()
        }
    }
}
