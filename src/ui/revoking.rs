//! The revocation pages (DESIGN §13): `GET /ui/sessions` (live sessions,
//! a revoke form each), `POST /ui/sessions/{id}/revoke`, `GET
//! /ui/revocations[?status=]`, `GET /ui/revocations/{id}` (per-role status,
//! the lift form), `POST /ui/revocations/{id}/lift` and `POST
//! /ui/requests/{id}/revoke` (end a grant).
//!
//! Invariants: everything shown and done goes through the revocation
//! service for the session's principal ([`Session::revocations`]), so its
//! rules — own sessions for everyone, anyone's for admins, visibility 404s,
//! admin-only lifts, no lift of one that targets yourself, 409 when nothing
//! is left, the reason's length — hold here without a second copy; every
//! post needs the session's CSRF token and answers 303 to the revocation's
//! page (POST-redirect-GET); nothing here reads a table.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde::Deserialize;

use super::error::{rate_refusal, UiError};
use super::extract::{PagePath, PageQuery};
use super::guard;
use super::pages::{self, RevocationPage, SessionsPage};
use super::respond::{page, redirect};
use super::session::{session, Session};
use crate::identity::RequestId;
use crate::revocation::{RevocationError, RevocationStatus, SessionScope};
use crate::web::{read_body, AddressScope, AppState, ClientAddr, ListenerInfo};

/// The revocation service's refusal as the page's.
fn service_error(e: RevocationError) -> UiError {
    match e {
        RevocationError::Invalid(why) => UiError::Invalid(why),
        RevocationError::Denied(why) => UiError::NotAllowed(why),
        RevocationError::NotFound => UiError::NotFound,
        RevocationError::Conflict(why) => UiError::NothingToDo(why),
        RevocationError::Database(_) => UiError::Unavailable,
    }
}

/// The signed-in session of a GET, or the answer instead: the signed-out
/// page (the `tvm ui` command) or the refusal.
async fn signed_in(
    state: &AppState,
    listener: Option<&ListenerInfo>,
    client: Option<&ClientAddr>,
    headers: &HeaderMap,
) -> Result<Session, Response> {
    match session(state, listener, client, headers).await {
        Ok(Some(s)) => Ok(s),
        Ok(None) => Err(page(
            StatusCode::OK,
            pages::signed_out(&super::session::base_url(state), None),
        )),
        Err(e) => Err(e.into_response()),
    }
}

/// The form every revocation post sends.
#[derive(Deserialize)]
struct ReasonForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

/// Where a request came from: what the transport rule and the session
/// read.
struct From<'a> {
    listener: Option<&'a ListenerInfo>,
    client: Option<&'a ClientAddr>,
    headers: &'a HeaderMap,
}

/// A post's rate check, body and CSRF token, then its form.
async fn posted(
    state: &AppState,
    s: &Session,
    from: &From<'_>,
    body: Body,
) -> Result<ReasonForm, UiError> {
    state
        .rate_check(AddressScope::Api, from.client)
        .await
        .map_err(rate_refusal)?;
    let bytes = read_body(from.headers, body, state.max_body_bytes())
        .await
        .map_err(|_| UiError::BadRequest)?;
    let form: ReasonForm = serde_urlencoded::from_bytes(&bytes).map_err(|_| UiError::BadRequest)?;
    if !guard::csrf_ok(&s.id, &form.csrf) {
        return Err(UiError::Forbidden);
    }
    Ok(form)
}

/// Which revocation post.
#[derive(Clone, Copy)]
enum Act {
    Session,
    Grant,
    Lift,
}

/// Runs one post: session (a post without one is refused), CSRF, the
/// service, then 303 to the revocation's page; a refusal is its error page.
async fn act(
    state: &AppState,
    http: &RequestId,
    from: From<'_>,
    id: &str,
    body: Body,
    what: Act,
) -> Response {
    let s = match session(state, from.listener, from.client, from.headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return UiError::Forbidden.into_response(),
        Err(e) => return e.into_response(),
    };
    let done = async {
        let form = posted(state, &s, &from, body).await?;
        let (svc, caller) = s.revocations()?;
        let reason = form.reason.as_str();
        let r = match what {
            Act::Session => svc.revoke_session(caller, id, reason, http).await,
            Act::Grant => svc.revoke_grant(caller, id, reason, http).await,
            Act::Lift => svc.lift(caller, id, reason, http).await,
        };
        r.map_err(service_error)
    };
    match done.await {
        Ok(v) => redirect(&format!("/ui/revocations/{}", v.id)),
        Err(e) => e.page(Some(&s.signed_in())),
    }
}

/// `GET /ui/sessions`: the viewer's own live sessions; everyone's for admins.
pub(super) async fn sessions(
    State(state): State<AppState>,
    listener: Option<Extension<ListenerInfo>>,
    client: Option<Extension<ClientAddr>>,
    headers: HeaderMap,
) -> Response {
    let s = match signed_in(&state, listener.as_deref(), client.as_deref(), &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let listed = async {
        let (svc, caller) = s.revocations()?;
        let scope = if caller.admin {
            SessionScope::All
        } else {
            SessionScope::Own
        };
        svc.sessions(caller, &scope, false)
            .await
            .map_err(service_error)
    };
    match listed.await {
        Ok(list) => page(
            StatusCode::OK,
            pages::sessions(
                &s.signed_in(),
                &SessionsPage {
                    sessions: &list,
                    everyone: s.is_admin(),
                },
                s.now(),
            ),
        ),
        Err(e) => e.page(Some(&s.signed_in())),
    }
}

#[derive(Deserialize)]
pub(super) struct StatusQuery {
    #[serde(default)]
    status: Option<String>,
}

/// `GET /ui/revocations[?status=active|lifted|all]` (default `active`).
pub(super) async fn revocations(
    State(state): State<AppState>,
    listener: Option<Extension<ListenerInfo>>,
    client: Option<Extension<ClientAddr>>,
    headers: HeaderMap,
    query: Result<PageQuery<StatusQuery>, UiError>,
) -> Response {
    let s = match signed_in(&state, listener.as_deref(), client.as_deref(), &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let listed = async {
        let status = match query?.0.status.as_deref() {
            None => RevocationStatus::Active,
            Some(v) => RevocationStatus::parse(v).ok_or(UiError::BadRequest)?,
        };
        let (svc, caller) = s.revocations()?;
        let list = svc.list(caller, status).await.map_err(service_error)?;
        Ok::<_, UiError>((status, list))
    };
    match listed.await {
        Ok((status, list)) => page(
            StatusCode::OK,
            pages::revocations(&s.signed_in(), &list, status, s.is_admin()),
        ),
        Err(e) => e.page(Some(&s.signed_in())),
    }
}

/// `GET /ui/revocations/{id}`.
pub(super) async fn revocation(
    State(state): State<AppState>,
    listener: Option<Extension<ListenerInfo>>,
    client: Option<Extension<ClientAddr>>,
    headers: HeaderMap,
    PagePath(id): PagePath<String>,
) -> Response {
    let s = match signed_in(&state, listener.as_deref(), client.as_deref(), &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let found = async {
        let (svc, caller) = s.revocations()?;
        svc.get(caller, &id).await.map_err(service_error)
    };
    match found.await {
        Ok(v) => page(
            StatusCode::OK,
            pages::revocation(
                &s.signed_in(),
                &RevocationPage {
                    revocation: &v,
                    admin: s.is_admin(),
                },
            ),
        ),
        Err(e) => e.page(Some(&s.signed_in())),
    }
}

/// `POST /ui/sessions/{id}/revoke`.
pub(super) async fn revoke_session(
    State(state): State<AppState>,
    Extension(http): Extension<RequestId>,
    listener: Option<Extension<ListenerInfo>>,
    client: Option<Extension<ClientAddr>>,
    headers: HeaderMap,
    PagePath(id): PagePath<String>,
    body: Body,
) -> Response {
    let from = From {
        listener: listener.as_deref(),
        client: client.as_deref(),
        headers: &headers,
    };
    act(&state, &http, from, &id, body, Act::Session).await
}

/// `POST /ui/requests/{id}/revoke`: ends a grant.
pub(super) async fn revoke_grant(
    State(state): State<AppState>,
    Extension(http): Extension<RequestId>,
    listener: Option<Extension<ListenerInfo>>,
    client: Option<Extension<ClientAddr>>,
    headers: HeaderMap,
    PagePath(id): PagePath<String>,
    body: Body,
) -> Response {
    let from = From {
        listener: listener.as_deref(),
        client: client.as_deref(),
        headers: &headers,
    };
    act(&state, &http, from, &id, body, Act::Grant).await
}

/// `POST /ui/revocations/{id}/lift`.
pub(super) async fn lift(
    State(state): State<AppState>,
    Extension(http): Extension<RequestId>,
    listener: Option<Extension<ListenerInfo>>,
    client: Option<Extension<ClientAddr>>,
    headers: HeaderMap,
    PagePath(id): PagePath<String>,
    body: Body,
) -> Response {
    let from = From {
        listener: listener.as_deref(),
        client: client.as_deref(),
        headers: &headers,
    };
    act(&state, &http, from, &id, body, Act::Lift).await
}
