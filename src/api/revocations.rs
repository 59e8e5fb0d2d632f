//! The routes of DESIGN §13: `GET /sessions`, `GET /sessions/{id}`,
//! `POST /sessions/{id}/revoke`, `POST /requests/{id}/revoke`,
//! `POST /revocations`, `GET /revocations`, `GET /revocations/{id}`,
//! `POST /revocations/{id}/lift` and `GET /revocations/{id}/check`. The work
//! is [`crate::revocation`]'s (the check: [`crate::revocation::iam`]'s).
//!
//! Order, as on every authenticated route: the per-address bucket, the body
//! within its limit, the request's shape (query, body: 400
//! `INVALID_REQUEST`), then the caller proof (an EKS-style token refused,
//! the revocation blocks checked), then the service.

use std::collections::BTreeMap;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};

use super::requests::{malformed, no_store, read, verified};
use crate::identity::RequestId;
use crate::revocation::iam::{CheckError, RoleCheck};
use crate::revocation::{
    Caller, PersonTarget, RevocationError, RevocationStatus, RevocationView, Revocations,
    SessionScope, SessionView,
};
use crate::web::{ApiError, ApiErrorKind, ApiPath, ApiQuery, AppState, ClientAddr};

/// `{"reason"}` of a revoke or a lift.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReasonBody {
    reason: String,
}

/// `POST /revocations` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    target: BTreeMap<String, String>,
    reason: String,
    #[serde(default)]
    suspend_seconds: Option<i64>,
    #[serde(default)]
    dry_run: bool,
}

#[derive(Deserialize)]
pub(super) struct SessionsQuery {
    all: Option<String>,
    user: Option<String>,
    status: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct RevocationsQuery {
    status: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct SessionList {
    sessions: Vec<SessionView>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CheckList {
    roles: Vec<RoleCheck>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RevocationList {
    revocations: Vec<RevocationView>,
}

fn api_error(e: &RevocationError) -> ApiError {
    match e {
        RevocationError::Invalid(m) => ApiError::new(ApiErrorKind::InvalidRequest).with_message(*m),
        RevocationError::Denied(_) => ApiError::new(ApiErrorKind::PolicyDeny),
        RevocationError::NotFound => ApiError::new(ApiErrorKind::NotFound),
        RevocationError::Conflict(m) => ApiError::new(ApiErrorKind::Conflict).with_message(*m),
        RevocationError::Database(_) => ApiError::new(ApiErrorKind::Unavailable),
    }
}

fn refused(id: &RequestId, e: RevocationError) -> Response {
    if matches!(e, RevocationError::Database(_)) {
        tracing::warn!(request_id = %id, error = %e, "revocation call refused");
    } else {
        tracing::info!(request_id = %id, error = %e, "revocation call refused");
    }
    api_error(&e).with_request_id(id).into_response()
}

fn json<T: Serialize>(status: StatusCode, v: &T) -> Response {
    (status, no_store(Json(v).into_response())).into_response()
}

/// 201 with `Location`, or 200 for a dry run (nothing stored, no `Id`).
fn created(id: &RequestId, r: Result<RevocationView, RevocationError>) -> Response {
    match r {
        Ok(v) if v.id.is_empty() => json(StatusCode::OK, &v),
        Ok(v) => {
            let mut resp = json(StatusCode::CREATED, &v);
            if let Ok(loc) = HeaderValue::from_str(&format!("/revocations/{}", v.id)) {
                resp.headers_mut().insert(header::LOCATION, loc);
            }
            resp
        }
        Err(e) => refused(id, e),
    }
}

/// Reads the request, checks its shape with `shape`, verifies the caller,
/// and hands the service, the caller and the parsed shape to the handler.
macro_rules! authed {
    ($state:expr, $id:expr, $client:expr, $req:expr, |$bytes:ident| $shape:expr) => {{
        let (parts, $bytes) = match read(&$state, $client.as_deref(), $req).await {
            Ok(r) => r,
            Err(e) => return e.with_request_id(&$id).into_response(),
        };
        let shape = match $shape {
            Ok(s) => s,
            Err(msg) => return malformed(&$id, msg),
        };
        let caller = match verified(&$state, &$id, $client.as_deref(), &parts, &$bytes).await {
            Ok(c) => c,
            Err(e) => return e.with_request_id(&$id).into_response(),
        };
        let Some(service) = $state.vendor().revocations().cloned() else {
            return ApiError::new(ApiErrorKind::NotConfigured)
                .with_request_id(&$id)
                .into_response();
        };
        let caller: Caller = service.caller(&caller);
        (service, caller, shape)
    }};
}

fn reason_of(bytes: &[u8]) -> Result<String, &'static str> {
    serde_json::from_slice::<ReasonBody>(bytes)
        .map(|b| b.reason)
        .map_err(|_| "body must be {\"reason\": string}")
}

fn empty(bytes: &[u8]) -> Result<(), &'static str> {
    if bytes.is_empty() {
        Ok(())
    } else {
        Err("this request takes no body")
    }
}

/// `GET /sessions[?all=true|?user=NAME][&status=live|all]`.
pub(super) async fn list_sessions(
    State(state): State<AppState>,
    Extension(id): Extension<RequestId>,
    client: Option<Extension<ClientAddr>>,
    ApiQuery(q): ApiQuery<SessionsQuery>,
    req: Request,
) -> Response {
    let scope = match (q.all.as_deref(), q.user) {
        (None | Some("false"), None) => SessionScope::Own,
        (Some("true"), None) => SessionScope::All,
        (None, Some(u)) if !u.is_empty() && u.len() <= 256 => SessionScope::User(u),
        _ => return malformed(&id, "use all=true or user=NAME, not both"),
    };
    let ended = match q.status.as_deref() {
        None | Some("live") => false,
        Some("all") => true,
        _ => return malformed(&id, "status must be live or all"),
    };
    let (service, caller, ()) = authed!(state, id, client, req, |bytes| empty(&bytes));
    match service.sessions(&caller, &scope, ended).await {
        Ok(sessions) => json(StatusCode::OK, &SessionList { sessions }),
        Err(e) => refused(&id, e),
    }
}

/// `GET /sessions/{id}`.
pub(super) async fn show_session(
    State(state): State<AppState>,
    Extension(id): Extension<RequestId>,
    client: Option<Extension<ClientAddr>>,
    ApiPath(session): ApiPath<String>,
    req: Request,
) -> Response {
    let (service, caller, ()) = authed!(state, id, client, req, |bytes| empty(&bytes));
    match service.session(&caller, &session).await {
        Ok(s) => json(StatusCode::OK, &s),
        Err(e) => refused(&id, e),
    }
}

/// `POST /sessions/{id}/revoke {"reason"}`.
pub(super) async fn revoke_session(
    State(state): State<AppState>,
    Extension(id): Extension<RequestId>,
    client: Option<Extension<ClientAddr>>,
    ApiPath(session): ApiPath<String>,
    req: Request,
) -> Response {
    let (service, caller, reason) = authed!(state, id, client, req, |bytes| reason_of(&bytes));
    created(
        &id,
        service
            .revoke_session(&caller, &session, &reason, &id)
            .await,
    )
}

/// `POST /requests/{id}/revoke {"reason"}`.
pub(super) async fn revoke_grant(
    State(state): State<AppState>,
    Extension(id): Extension<RequestId>,
    client: Option<Extension<ClientAddr>>,
    ApiPath(grant): ApiPath<String>,
    req: Request,
) -> Response {
    let (service, caller, reason) = authed!(state, id, client, req, |bytes| reason_of(&bytes));
    created(
        &id,
        service.revoke_grant(&caller, &grant, &reason, &id).await,
    )
}

/// The `target` of `POST /revocations`: exactly one known key.
fn target_of(b: &CreateBody) -> Result<(&str, &str), &'static str> {
    const BAD: &str =
        "target must hold exactly one of SessionId, GrantId, CallerAccessKeyId, Principal, User";
    let mut it = b.target.iter();
    match (it.next(), it.next()) {
        (Some((k, v)), None) => {
            let person = matches!(k.as_str(), "Principal" | "User");
            let known =
                person || matches!(k.as_str(), "SessionId" | "GrantId" | "CallerAccessKeyId");
            if !known {
                return Err(BAD);
            }
            if b.suspend_seconds.is_some() && !person {
                return Err("suspend_seconds only applies to a Principal or User target");
            }
            if b.dry_run && matches!(k.as_str(), "SessionId" | "GrantId") {
                return Err("dry_run applies to CallerAccessKeyId, Principal and User targets");
            }
            Ok((k.as_str(), v.as_str()))
        }
        _ => Err(BAD),
    }
}

async fn create_with(
    service: &Revocations,
    caller: &Caller,
    b: &CreateBody,
    id: &RequestId,
) -> Result<RevocationView, RevocationError> {
    let (kind, value) = target_of(b).map_err(RevocationError::Invalid)?;
    let reason = &b.reason;
    match kind {
        "SessionId" => service.revoke_session(caller, value, reason, id).await,
        "GrantId" => service.revoke_grant(caller, value, reason, id).await,
        "CallerAccessKeyId" => {
            service
                .revoke_credentials(caller, value, reason, b.dry_run, id)
                .await
        }
        "Principal" | "User" => {
            let target = if kind == "User" {
                PersonTarget::User(value.to_owned())
            } else {
                PersonTarget::Principal(value.to_owned())
            };
            service
                .revoke_person(caller, &target, reason, b.suspend_seconds, b.dry_run, id)
                .await
        }
        _ => Err(RevocationError::Invalid("unknown target")),
    }
}

/// `POST /revocations`.
pub(super) async fn create(
    State(state): State<AppState>,
    Extension(id): Extension<RequestId>,
    client: Option<Extension<ClientAddr>>,
    req: Request,
) -> Response {
    let (service, caller, body) = authed!(state, id, client, req, |bytes| {
        serde_json::from_slice::<CreateBody>(&bytes)
            .map_err(|_| {
                "body must be {\"target\": {…}, \"reason\", \"suspend_seconds\", \"dry_run\"}"
            })
            .and_then(|b| target_of(&b).map(|_| ()).map(|()| b))
    });
    created(&id, create_with(&service, &caller, &body, &id).await)
}

/// `GET /revocations[?status=active|lifted|all]`.
pub(super) async fn list(
    State(state): State<AppState>,
    Extension(id): Extension<RequestId>,
    client: Option<Extension<ClientAddr>>,
    ApiQuery(q): ApiQuery<RevocationsQuery>,
    req: Request,
) -> Response {
    let Some(status) = RevocationStatus::parse(q.status.as_deref().unwrap_or("active")) else {
        return malformed(&id, "status must be active, lifted or all");
    };
    let (service, caller, ()) = authed!(state, id, client, req, |bytes| empty(&bytes));
    match service.list(&caller, status).await {
        Ok(revocations) => json(StatusCode::OK, &RevocationList { revocations }),
        Err(e) => refused(&id, e),
    }
}

/// `GET /revocations/{id}`.
pub(super) async fn show(
    State(state): State<AppState>,
    Extension(id): Extension<RequestId>,
    client: Option<Extension<ClientAddr>>,
    ApiPath(revocation): ApiPath<String>,
    req: Request,
) -> Response {
    let (service, caller, ()) = authed!(state, id, client, req, |bytes| empty(&bytes));
    match service.get(&caller, &revocation).await {
        Ok(v) => json(StatusCode::OK, &v),
        Err(e) => refused(&id, e),
    }
}

/// `POST /revocations/{id}/lift {"reason"}`.
pub(super) async fn lift(
    State(state): State<AppState>,
    Extension(id): Extension<RequestId>,
    client: Option<Extension<ClientAddr>>,
    ApiPath(revocation): ApiPath<String>,
    req: Request,
) -> Response {
    let (service, caller, reason) = authed!(state, id, client, req, |bytes| reason_of(&bytes));
    match service.lift(&caller, &revocation, &reason, &id).await {
        Ok(v) => json(StatusCode::OK, &v),
        Err(e) => refused(&id, e),
    }
}

/// `GET /revocations/{id}/check` (admins): each role's policy read back from
/// IAM, `{"Roles": [{"RoleArn", "Check": "in_sync|missing|differs"}]}`. A
/// revocation the caller may not see is 404 like an unknown one; one they
/// may see but not check (not an admin) is 403; without a revoker role
/// there is nothing to read with: 409.
pub(super) async fn check(
    State(state): State<AppState>,
    Extension(id): Extension<RequestId>,
    client: Option<Extension<ClientAddr>>,
    ApiPath(revocation): ApiPath<String>,
    req: Request,
) -> Response {
    let (service, caller, ()) = authed!(state, id, client, req, |bytes| empty(&bytes));
    if let Err(e) = service.get(&caller, &revocation).await {
        return refused(&id, e);
    }
    if !caller.admin {
        return refused(&id, RevocationError::Denied("checking IAM is for admins"));
    }
    let Some(iam) = state.revocation_iam() else {
        return ApiError::new(ApiErrorKind::NotConfigured)
            .with_request_id(&id)
            .into_response();
    };
    match iam.check(&revocation, caller.identity.arn().as_str()).await {
        Ok(roles) => json(StatusCode::OK, &CheckList { roles }),
        Err(CheckError::Manual) => ApiError::new(ApiErrorKind::Conflict)
            .with_message(
                "tvm writes no IAM policy here (no revocation.role_name): see tvm revocations ID",
            )
            .with_request_id(&id)
            .into_response(),
        Err(e) => {
            tracing::warn!(request_id = %id, error = %e, "revocation check failed");
            let kind = match e {
                CheckError::Database(_) => ApiErrorKind::Unavailable,
                _ => ApiErrorKind::StsError,
            };
            ApiError::new(kind).with_request_id(&id).into_response()
        }
    }
}
