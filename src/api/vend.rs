//! `POST /vend`: read the body within the limit, run the pipeline, answer in the
//! container-credentials shape.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Serialize;

use crate::identity::RequestId;
use crate::vend::{VendError, Vended};
use crate::web::{
    read_body, request_context, AddressScope, ApiError, AppState, BodyError, ClientAddr,
};

/// The 200 body (DESIGN §6).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct VendResponse<'a> {
    access_key_id: &'a str,
    secret_access_key: &'a str,
    token: &'a str,
    expiration: String,
    source_identity: &'a str,
    role_arn: &'a str,
}

/// Handles one vend.
pub(super) async fn vend(
    State(state): State<AppState>,
    Extension(id): Extension<RequestId>,
    client: Option<Extension<ClientAddr>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let vendor = state.vendor();
    if let Err(e) = state
        .rate_check(AddressScope::Api, client.as_ref().map(|c| &c.0))
        .await
    {
        let e = vendor.reject_early(&id, e);
        return ApiError::from(&e).with_request_id(&id).into_response();
    }
    let result = match read_body(&headers, body, state.max_body_bytes()).await {
        Ok(bytes) => {
            let authorization = headers
                .get(header::AUTHORIZATION)
                .map(HeaderValue::as_bytes);
            let ctx = request_context(&method, &uri, &headers, &bytes, client.as_deref());
            vendor.vend(&id, authorization, &ctx).await
        }
        Err(BodyError::TooLarge) => Err(vendor.reject_early(&id, VendError::TooLarge)),
        Err(BodyError::Unreadable) => Err(vendor.reject_early(
            &id,
            VendError::BadRequest("the request body could not be read"),
        )),
    };
    match result {
        Ok(v) => credentials_response(&v),
        Err(e) => ApiError::from(&e).with_request_id(&id).into_response(),
    }
}

fn credentials_response(v: &Vended) -> Response {
    let c = &v.credentials;
    let body = VendResponse {
        access_key_id: &c.access_key_id,
        secret_access_key: &c.secret_access_key,
        token: &c.session_token,
        expiration: c.expiration.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        source_identity: v.source_identity.as_str(),
        role_arn: &v.role_arn,
    };
    let mut resp = Json(body).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}
