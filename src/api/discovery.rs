//! `GET /.well-known/tvm`: what a client needs to mint a token. Unauthenticated,
//! so it has its own per-address bucket (cheaper than the API's, and separate so
//! that polling discovery never spends a client's vend budget).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};

use crate::identity::RequestId;
use crate::web::{AddressScope, ApiError, AppState, ClientAddr};

/// Returns the static discovery document, or 429 when the client is over its rate.
pub(super) async fn discovery(
    State(state): State<AppState>,
    Extension(id): Extension<RequestId>,
    client: Option<Extension<ClientAddr>>,
) -> Response {
    if let Err(e) = state
        .rate_check(AddressScope::Discovery, client.as_ref().map(|c| &c.0))
        .await
    {
        return ApiError::from(&e).with_request_id(&id).into_response();
    }
    Json(state.discovery().clone()).into_response()
}
