//! The signed-in pages: `GET /ui/` (pending requests, grants in force, recent
//! break-glass uses), `GET /ui/requests/{id}` (a request with its audit
//! trail and the decision form) and `POST /ui/requests/{id}` (approve or deny).
//!
//! Invariants: a session is honoured only while its principal is an approver
//! under the policy served now (checked on every load, not at sign-in);
//! what a page shows and what a decision does are decided by the
//! approvals service for the session's principal (the same checks as the JSON
//! API: visibility, people only, no self-approval, 409 once decided); a
//! decision needs the session's CSRF token; without a session a page shows the
//! `tvm ui` command and a post is refused.

use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde::Deserialize;

use super::backend::Backend;
use super::error::{rate_refusal, UiError};
use super::extract::PagePath;
use super::guard::{self, SESSION_COOKIE};
use super::pages::{self, Detail, Overview, SignedIn};
use super::respond::{page, redirect};
use super::view::{AuditEntry, BreakGlassUse};
use crate::approvals::{rfc3339, Actor, ApprovalError, RequestView, Status};
use crate::identity::RequestId;
use crate::web::{read_body, AddressScope, AppState, ClientAddr, ListenerInfo};

/// How far back the overview lists break-glass uses.
pub const BREAK_GLASS_WINDOW: Duration = Duration::from_secs(7 * 24 * 3600);

/// A signed-in approver: the raw session id (for the CSRF token), who, and
/// the service that answers for them.
struct Session {
    id: String,
    actor: Actor,
    backend: Backend,
}

impl Session {
    fn csrf(&self) -> String {
        guard::csrf_token(&self.id)
    }
}

/// The transport rule, then the session of the cookie, if live.
async fn session(
    state: &AppState,
    listener: Option<&ListenerInfo>,
    client: Option<&ClientAddr>,
    headers: &HeaderMap,
) -> Result<Option<Session>, UiError> {
    if !guard::transport_ok(listener, client, headers) {
        return Err(UiError::Transport);
    }
    let backend = Backend::of(state).ok_or(UiError::NotFound)?;
    let Some(id) = guard::cookie(headers, SESSION_COOKIE).filter(|s| guard::is_secret(s)) else {
        return Ok(None);
    };
    let found = backend
        .store
        .session(&guard::digest("session", id), backend.now())
        .await?;
    let Some(found) = found else {
        return Ok(None);
    };
    backend.unblocked(&found).await?;
    let Ok(actor) = Actor::from_session(&found.arn, &found.user_id) else {
        return Ok(None);
    };
    // The rights a session was signed in with are re-checked on every page
    // load against the policy served now: an approver a reload removed is
    // refused at once, not when the session ends.
    if !backend.approvals.is_approver(&actor) {
        return Err(UiError::Denied);
    }
    Ok(Some(Session {
        id: id.to_owned(),
        actor,
        backend,
    }))
}

fn service_error(e: ApprovalError) -> UiError {
    match e {
        ApprovalError::NotFound => UiError::NotFound,
        ApprovalError::Conflict => UiError::Conflict,
        ApprovalError::Denied | ApprovalError::GrantRevoked | ApprovalError::ApprovalRequired => {
            UiError::Denied
        }
        ApprovalError::Invalid(_) | ApprovalError::Duration(_) => UiError::BadRequest,
        ApprovalError::TooMany => UiError::RateLimited,
        ApprovalError::Database(_) => UiError::Unavailable,
    }
}

/// Whether `actor` is the same person as the requester `requester_arn` (an
/// unreadable ARN counts as the same: no form is offered then).
fn is_own(actor: &Actor, requester_arn: &str) -> bool {
    Actor::from_session(requester_arn, "")
        .map(|r| actor.same_person(r.canonical(), r.username()))
        .unwrap_or(true)
}

/// The public base URL for the signed-out page's command.
fn base_url(state: &AppState) -> String {
    state
        .discovery()
        .audience
        .first()
        .cloned()
        .unwrap_or_else(|| "https://tvm.example.com".into())
}

/// `GET /ui/`.
pub(super) async fn overview(
    State(state): State<AppState>,
    listener: Option<Extension<ListenerInfo>>,
    client: Option<Extension<ClientAddr>>,
    headers: HeaderMap,
) -> Response {
    let s = match session(&state, listener.as_deref(), client.as_deref(), &headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return page(StatusCode::OK, pages::signed_out(&base_url(&state), None)),
        Err(e) => return e.into_response(),
    };
    let csrf = s.csrf();
    let who = SignedIn {
        arn: s.actor.arn(),
        csrf: &csrf,
    };
    match overview_parts(&s).await {
        Ok((to_review, own, grants, break_glass)) => page(
            StatusCode::OK,
            pages::overview(
                &who,
                &Overview {
                    to_review: &to_review,
                    own: &own,
                    grants: &grants,
                    break_glass: &break_glass,
                },
                jiff::Timestamp::from_second(s.backend.now()).unwrap_or_default(),
            ),
        ),
        Err(e) => e.page(Some(&who)),
    }
}

type OverviewParts = (
    Vec<RequestView>,
    Vec<RequestView>,
    Vec<RequestView>,
    Vec<BreakGlassUse>,
);

async fn overview_parts(s: &Session) -> Result<OverviewParts, UiError> {
    let (approvals, store, actor) = (&s.backend.approvals, &s.backend.store, &s.actor);
    let pending = approvals
        .list_visible(actor, Some(Status::Pending))
        .await
        .map_err(service_error)?;
    // "Own" by person, not by ARN: another session of the requester (another
    // permission set) cannot approve either, so it is not shown as waiting.
    let (own, to_review) = pending
        .into_iter()
        .partition::<Vec<_>, _>(|r| is_own(actor, &r.requester));
    let now = s.backend.now();
    // Which grants this approver may see is the service's call (`get`).
    let mut grants = Vec::new();
    for id in store.live_grant_ids(now).await? {
        match approvals.get(actor, &id).await {
            Ok(r) => grants.push(r),
            Err(ApprovalError::NotFound) => {}
            Err(e) => return Err(service_error(e)),
        }
    }
    // Scoped like requests: the user's own and those of profiles this
    // approver may approve for, under the policy served now.
    let since = now - BREAK_GLASS_WINDOW.as_secs() as i64;
    let break_glass = approvals
        .break_glass_visible(actor, since)
        .await
        .map_err(service_error)?
        .into_iter()
        .map(|b| BreakGlassUse {
            caller: b.caller,
            profile: b.profile,
            reason: b.reason,
            duration_seconds: u64::from(b.duration_seconds),
            at: b.at,
        })
        .collect();
    Ok((to_review, own, grants, break_glass))
}

/// `GET /ui/requests/{id}`.
pub(super) async fn detail(
    State(state): State<AppState>,
    listener: Option<Extension<ListenerInfo>>,
    client: Option<Extension<ClientAddr>>,
    headers: HeaderMap,
    PagePath(id): PagePath<String>,
) -> Response {
    let s = match session(&state, listener.as_deref(), client.as_deref(), &headers).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            let id = crate::approvals::is_id(&id).then_some(id.as_str());
            return page(StatusCode::OK, pages::signed_out(&base_url(&state), id));
        }
        Err(e) => return e.into_response(),
    };
    let csrf = s.csrf();
    let who = SignedIn {
        arn: s.actor.arn(),
        csrf: &csrf,
    };
    let approvals = &s.backend.approvals;
    let shown = async {
        let request = approvals.get(&s.actor, &id).await.map_err(service_error)?;
        let audit = approvals
            .audit_trail(&id)
            .await
            .map_err(service_error)?
            .into_iter()
            .map(|(action, actor, http_request_id, at)| AuditEntry {
                action,
                actor,
                http_request_id,
                at: rfc3339(at),
            })
            .collect::<Vec<_>>();
        let vends = approvals.vends_of(&id).await.map_err(service_error)?;
        Ok::<_, UiError>((request, audit, vends))
    };
    match shown.await {
        Ok((request, audit, vends)) => {
            let can_decide =
                request.status == Status::Pending.as_str() && !is_own(&s.actor, &request.requester);
            page(
                StatusCode::OK,
                pages::detail(
                    &who,
                    &Detail {
                        request: &request,
                        audit: &audit,
                        vends: &vends,
                        can_decide,
                    },
                    jiff::Timestamp::from_second(s.backend.now()).unwrap_or_default(),
                ),
            )
        }
        Err(e) => e.page(Some(&who)),
    }
}

#[derive(Deserialize)]
struct DecisionForm {
    #[serde(default)]
    csrf: String,
    decision: String,
    #[serde(default)]
    comment: String,
}

/// `POST /ui/requests/{id}`: approve or deny, then back to the request's page.
pub(super) async fn decide(
    State(state): State<AppState>,
    Extension(http_id): Extension<RequestId>,
    listener: Option<Extension<ListenerInfo>>,
    client: Option<Extension<ClientAddr>>,
    headers: HeaderMap,
    PagePath(id): PagePath<String>,
    body: Body,
) -> Response {
    let s = match session(&state, listener.as_deref(), client.as_deref(), &headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return UiError::Forbidden.into_response(),
        Err(e) => return e.into_response(),
    };
    let csrf = s.csrf();
    let who = SignedIn {
        arn: s.actor.arn(),
        csrf: &csrf,
    };
    let decided = async {
        state
            .rate_check(AddressScope::Api, client.as_deref())
            .await
            .map_err(rate_refusal)?;
        let bytes = read_body(&headers, body, state.max_body_bytes())
            .await
            .map_err(|_| UiError::BadRequest)?;
        let form: DecisionForm =
            serde_urlencoded::from_bytes(&bytes).map_err(|_| UiError::BadRequest)?;
        if !guard::csrf_ok(&s.id, &form.csrf) {
            return Err(UiError::Forbidden);
        }
        let approvals = &s.backend.approvals;
        let result = match form.decision.as_str() {
            "approve" => {
                approvals
                    .approve(&s.actor, &id, &form.comment, &http_id)
                    .await
            }
            "deny" => approvals.deny(&s.actor, &id, &form.comment, &http_id).await,
            _ => return Err(UiError::BadRequest),
        };
        result.map_err(service_error)
    };
    match decided.await {
        Ok(r) => redirect(&format!("/ui/requests/{}", r.id)),
        Err(e) => e.page(Some(&who)),
    }
}
