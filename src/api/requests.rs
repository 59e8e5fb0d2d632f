//! The approvals API (DESIGN §12): `POST /requests`, `GET /requests`,
//! `GET /requests/{id}`, `POST /requests/{id}/approve` and `/deny`. Each call
//! is authenticated with the caller's own tvm-v1 token, bound to its method,
//! path and body; the work is the approvals service's.
//!
//! Order, as for `/vend`: the per-address bucket, the body within its limit,
//! the request's shape (query, path, JSON body: 400 `INVALID_REQUEST`), then
//! the token; a malformed request never reaches authentication.

use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};

use crate::approvals::{Actor, ApprovalError, NewRequest, RequestView, Status};
use crate::auth::VerifiedCaller;
use crate::identity::RequestId;
use crate::vend::VendError;
use crate::web::{
    log_refusal, read_body, request_context, AddressScope, ApiError, ApiErrorKind, ApiPath,
    ApiQuery, AppState, BodyError, ClientAddr,
};

/// `POST /requests` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    profile: String,
    #[serde(default)]
    duration_seconds: Option<u32>,
    reason: String,
}

/// `POST /requests/{id}/approve|deny` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DecideBody {
    #[serde(default)]
    comment: String,
}

#[derive(Deserialize)]
pub(super) struct ListQuery {
    status: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListResponse {
    requests: Vec<RequestView>,
}

fn api_error(e: &ApprovalError) -> ApiError {
    match e {
        ApprovalError::Invalid(m) => ApiError::new(ApiErrorKind::InvalidRequest).with_message(*m),
        ApprovalError::Duration(m) => {
            ApiError::new(ApiErrorKind::InvalidDuration).with_message(m.clone())
        }
        ApprovalError::Denied | ApprovalError::GrantRevoked => {
            ApiError::new(ApiErrorKind::PolicyDeny)
        }
        ApprovalError::ApprovalRequired => ApiError::new(ApiErrorKind::ApprovalRequired),
        ApprovalError::NotFound => ApiError::new(ApiErrorKind::NotFound),
        ApprovalError::Conflict => ApiError::new(ApiErrorKind::Conflict),
        ApprovalError::TooMany => ApiError::new(ApiErrorKind::RateLimited).with_retry_after(60),
        ApprovalError::Database(_) => ApiError::new(ApiErrorKind::Unavailable),
    }
}

/// The request's parts and its exact body, after the per-address bucket.
pub(super) async fn read(
    state: &AppState,
    client: Option<&ClientAddr>,
    req: Request,
) -> Result<(Parts, bytes::Bytes), ApiError> {
    let (parts, body) = req.into_parts();
    if let Err(e) = state.rate_check(AddressScope::Api, client).await {
        return Err(ApiError::from(&e));
    }
    match read_body(&parts.headers, body, state.max_body_bytes()).await {
        Ok(b) => Ok((parts, b)),
        Err(BodyError::TooLarge) => Err(ApiError::from(&VendError::TooLarge)),
        Err(BodyError::Unreadable) => Err(ApiError::new(ApiErrorKind::InvalidRequest)),
    }
}

/// The verified actor of this request (its proof bound to `parts` and `body`).
/// Called after the request's shape was checked: a malformed request is
/// refused before its token is looked at.
pub(super) async fn actor(
    state: &AppState,
    id: &RequestId,
    client: Option<&ClientAddr>,
    parts: &Parts,
    body: &[u8],
) -> Result<Actor, ApiError> {
    Ok(Actor::from_caller(
        &verified(state, id, client, parts, body).await?,
    ))
}

/// The verified caller of this request (its proof bound to `parts` and
/// `body`, an EKS-style token refused, the revocation blocks checked).
pub(super) async fn verified(
    state: &AppState,
    id: &RequestId,
    client: Option<&ClientAddr>,
    parts: &Parts,
    body: &[u8],
) -> Result<VerifiedCaller, ApiError> {
    let authorization = parts
        .headers
        .get(header::AUTHORIZATION)
        .map(HeaderValue::as_bytes);
    let ctx = request_context(&parts.method, &parts.uri, &parts.headers, body, client);
    let caller = state
        .vendor()
        .authenticate(authorization, &ctx)
        .await
        .map_err(|e| {
            log_refusal("authenticated call refused", id, &e);
            ApiError::from(&e)
        })?;
    Ok(caller)
}

/// 400 `INVALID_REQUEST` with tvm's own `message`.
pub(super) fn malformed(id: &RequestId, message: &'static str) -> Response {
    ApiError::new(ApiErrorKind::InvalidRequest)
        .with_message(message)
        .with_request_id(id)
        .into_response()
}

fn answer(id: &RequestId, status: StatusCode, r: Result<RequestView, ApprovalError>) -> Response {
    match r {
        Ok(view) => (status, no_store(Json(view).into_response())).into_response(),
        Err(e) => {
            // One line, like every refusal: a database fault is tvm's (WARN),
            // anything else the caller's (INFO).
            if matches!(e, ApprovalError::Database(_)) {
                tracing::warn!(request_id = %id, error = %e, "approvals call refused");
            } else {
                tracing::info!(request_id = %id, error = %e, "approvals call refused");
            }
            api_error(&e).with_request_id(id).into_response()
        }
    }
}

pub(super) fn no_store(mut r: Response) -> Response {
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

macro_rules! service_or_deny {
    ($state:expr, $id:expr) => {
        match $state.vendor().approvals() {
            Some(s) => s.clone(),
            None => {
                return ApiError::new(ApiErrorKind::NotConfigured)
                    .with_request_id(&$id)
                    .into_response()
            }
        }
    };
}

/// `POST /requests`.
pub(super) async fn create(
    State(state): State<AppState>,
    Extension(id): Extension<RequestId>,
    client: Option<Extension<ClientAddr>>,
    req: Request,
) -> Response {
    let (parts, bytes) = match read(&state, client.as_deref(), req).await {
        Ok(r) => r,
        Err(e) => return e.with_request_id(&id).into_response(),
    };
    let Ok(b) = serde_json::from_slice::<CreateBody>(&bytes) else {
        return malformed(
            &id,
            "body must be {\"profile\", \"duration_seconds\", \"reason\"}",
        );
    };
    let actor = match actor(&state, &id, client.as_deref(), &parts, &bytes).await {
        Ok(a) => a,
        Err(e) => return e.with_request_id(&id).into_response(),
    };
    let service = service_or_deny!(state, id);
    let input = NewRequest {
        profile: b.profile,
        duration_seconds: b.duration_seconds,
        reason: b.reason,
    };
    answer(
        &id,
        StatusCode::CREATED,
        service.create(&actor, input, &id).await,
    )
}

/// `GET /requests[?status=pending]`.
pub(super) async fn list(
    State(state): State<AppState>,
    Extension(id): Extension<RequestId>,
    client: Option<Extension<ClientAddr>>,
    ApiQuery(q): ApiQuery<ListQuery>,
    req: Request,
) -> Response {
    let status = match q.status.as_deref().map(Status::parse) {
        None => None,
        Some(Some(s)) => Some(s),
        Some(None) => return malformed(&id, "status must be pending, approved, denied or expired"),
    };
    let (parts, bytes) = match read(&state, client.as_deref(), req).await {
        Ok(r) => r,
        Err(e) => return e.with_request_id(&id).into_response(),
    };
    let actor = match actor(&state, &id, client.as_deref(), &parts, &bytes).await {
        Ok(a) => a,
        Err(e) => return e.with_request_id(&id).into_response(),
    };
    let service = service_or_deny!(state, id);
    match service.list_visible(&actor, status).await {
        Ok(requests) => no_store(Json(ListResponse { requests }).into_response()),
        Err(e) => api_error(&e).with_request_id(&id).into_response(),
    }
}

/// `GET /requests/{id}`.
pub(super) async fn show(
    State(state): State<AppState>,
    Extension(id): Extension<RequestId>,
    client: Option<Extension<ClientAddr>>,
    ApiPath(request): ApiPath<String>,
    req: Request,
) -> Response {
    let (parts, bytes) = match read(&state, client.as_deref(), req).await {
        Ok(r) => r,
        Err(e) => return e.with_request_id(&id).into_response(),
    };
    let actor = match actor(&state, &id, client.as_deref(), &parts, &bytes).await {
        Ok(a) => a,
        Err(e) => return e.with_request_id(&id).into_response(),
    };
    let service = service_or_deny!(state, id);
    answer(&id, StatusCode::OK, service.get(&actor, &request).await)
}

async fn decide(
    state: AppState,
    id: RequestId,
    client: Option<Extension<ClientAddr>>,
    request: String,
    req: Request,
    approve: bool,
) -> Response {
    let (parts, bytes) = match read(&state, client.as_deref(), req).await {
        Ok(r) => r,
        Err(e) => return e.with_request_id(&id).into_response(),
    };
    let comment = if bytes.is_empty() {
        String::new()
    } else {
        match serde_json::from_slice::<DecideBody>(&bytes) {
            Ok(b) => b.comment,
            Err(_) => return malformed(&id, "body must be {\"comment\": string}"),
        }
    };
    let actor = match actor(&state, &id, client.as_deref(), &parts, &bytes).await {
        Ok(a) => a,
        Err(e) => return e.with_request_id(&id).into_response(),
    };
    let service = service_or_deny!(state, id);
    let r = if approve {
        service.approve(&actor, &request, &comment, &id).await
    } else {
        service.deny(&actor, &request, &comment, &id).await
    };
    answer(&id, StatusCode::OK, r)
}

/// `POST /requests/{id}/approve`.
pub(super) async fn approve(
    State(state): State<AppState>,
    Extension(id): Extension<RequestId>,
    client: Option<Extension<ClientAddr>>,
    ApiPath(request): ApiPath<String>,
    req: Request,
) -> Response {
    decide(state, id, client, request, req, true).await
}

/// `POST /requests/{id}/deny`.
pub(super) async fn deny(
    State(state): State<AppState>,
    Extension(id): Extension<RequestId>,
    client: Option<Extension<ClientAddr>>,
    ApiPath(request): ApiPath<String>,
    req: Request,
) -> Response {
    decide(state, id, client, request, req, false).await
}
