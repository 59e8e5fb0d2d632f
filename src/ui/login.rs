//! Signing in and out (DESIGN §12): `POST /ui/login-links` trades a tvm-v1
//! token of an approver or admin for a one-time code; `GET /ui/login` shows only a
//! button and sets the form's nonce cookie; `POST /ui/login` spends the code
//! and starts a session; `POST /ui/logout` ends it.
//!
//! Invariants: a link is made only for an approver or one of the policy's
//! `admins` (`Backend::may_use_page`, else 403 `POLICY_DENY`); a GET never spends a code (chat link
//! scanners fetch links); the sign-in post is refused — without spending the
//! code — unless it carries the `__Host-tvm-login` cookie, the same value in
//! the form and `Sec-Fetch-Site: same-origin`, so another site cannot sign a
//! victim in as someone else; a session id is always fresh (never one the
//! browser brought); codes appear in no log line.

use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};

use super::backend::Backend;
use super::error::{rate_refusal, UiError};
use super::extract::PageQuery;
use super::guard::{self, LOGIN_COOKIE, SESSION_COOKIE};
use super::pages;
use super::respond::{page, redirect};
use super::store::Principal;
use crate::approvals::Actor;
use crate::auth::Origin;
use crate::identity::RequestId;
use crate::web::{
    log_refusal, read_body, request_context, AddressScope, ApiError, ApiErrorKind, AppState,
    BodyError, ClientAddr, ListenerInfo, AUDIENCE_HINT_HEADER,
};

/// How long a sign-in link works (DESIGN §12: single use, 60 s).
pub const LOGIN_CODE_TTL: Duration = Duration::from_secs(60);

/// How long a session lasts (DESIGN §12: at most 1 h); no sliding renewal, so
/// a stolen cookie dies within the hour.
pub const SESSION_TTL: Duration = Duration::from_secs(3600);

/// How long the sign-in form's nonce cookie lives: long enough to click.
pub const LOGIN_NONCE_TTL: Duration = Duration::from_secs(300);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkBody {
    #[serde(default)]
    next: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct LinkAnswer {
    url: String,
}

/// The origin the link is made for: the one the caller signed its token for
/// (the audience hint, accepted by the verifier), else the only configured
/// one, else the one whose host the request named.
fn link_origin(configured: &[String], headers: &HeaderMap) -> Option<String> {
    let origins: Vec<Origin> = configured
        .iter()
        .filter_map(|o| Origin::parse(o).ok())
        .collect();
    let hint = headers
        .get(AUDIENCE_HINT_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| Origin::parse(v).ok());
    if let Some(h) = hint.filter(|h| origins.contains(h)) {
        return Some(h.as_str().to_owned());
    }
    if let [only] = origins.as_slice() {
        return Some(only.as_str().to_owned());
    }
    let host = headers.get(header::HOST)?.as_bytes();
    origins
        .iter()
        .find(|o| o.matches_host(host))
        .map(|o| o.as_str().to_owned())
}

/// `POST /ui/login-links` (JSON API, tvm-v1 token bound to this target).
pub(super) async fn links(
    State(state): State<AppState>,
    Extension(id): Extension<RequestId>,
    client: Option<Extension<ClientAddr>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let api = |kind: ApiErrorKind| ApiError::new(kind).with_request_id(&id).into_response();
    if let Err(e) = state
        .rate_check(AddressScope::Api, client.as_ref().map(|c| &c.0))
        .await
    {
        return ApiError::from(&e).with_request_id(&id).into_response();
    }
    let bytes = match read_body(&headers, body, state.max_body_bytes()).await {
        Ok(b) => b,
        Err(BodyError::TooLarge) => return api(ApiErrorKind::PayloadTooLarge),
        Err(BodyError::Unreadable) => return api(ApiErrorKind::InvalidRequest),
    };
    // The shape first, as on every route: a malformed request is refused
    // before its token is looked at.
    let next = match serde_json::from_slice::<LinkBody>(&bytes) {
        Ok(LinkBody { next: None }) => "/ui/".to_owned(),
        Ok(LinkBody { next: Some(n) }) if guard::next_ok(&n) => n,
        _ => return api(ApiErrorKind::InvalidRequest),
    };
    let authorization = headers
        .get(header::AUTHORIZATION)
        .map(HeaderValue::as_bytes);
    let ctx = request_context(&method, &uri, &headers, &bytes, client.as_deref());
    let caller = match state.vendor().authenticate(authorization, &ctx).await {
        Ok(c) => c,
        Err(e) => {
            log_refusal("login link refused", &id, &e);
            return ApiError::from(&e).with_request_id(&id).into_response();
        }
    };
    let actor = Actor::from_caller(&caller);
    let Some(backend) = Backend::of(&state) else {
        return api(ApiErrorKind::PolicyDeny);
    };
    if !backend.may_use_page(&actor) {
        tracing::info!(
            principal_arn = actor.arn(),
            "login link refused: neither an approver nor an admin"
        );
        return api(ApiErrorKind::PolicyDeny);
    }
    let Some(origin) = link_origin(&state.discovery().audience, &headers) else {
        return api(ApiErrorKind::InvalidRequest);
    };
    let code = guard::new_secret();
    let now = backend.now();
    let store = &backend.store;
    let who = Principal {
        arn: actor.arn().to_owned(),
        user_id: actor.user_id().to_owned(),
        access_key_id: Some(caller.access_key_id().to_owned()),
    };
    let stored = async {
        store.purge(now).await?;
        store
            .put_code(
                &guard::digest("code", &code),
                &who,
                &next,
                now + LOGIN_CODE_TTL.as_secs() as i64,
            )
            .await
    };
    if let Err(e) = stored.await {
        tracing::error!(error = %e, "cannot store a login code");
        return api(ApiErrorKind::Unavailable);
    }
    tracing::info!(principal_arn = actor.arn(), "login link issued");
    // A one-time sign-in URL: no cache may keep it.
    let mut resp = Json(LinkAnswer {
        url: format!("{origin}/ui/login?code={code}"),
    })
    .into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

#[derive(Deserialize)]
pub(super) struct CodeQuery {
    #[serde(default)]
    code: String,
}

/// `GET /ui/login?code=…`: the button only; the code is not looked up.
pub(super) async fn form(
    listener: Option<Extension<ListenerInfo>>,
    client: Option<Extension<ClientAddr>>,
    headers: HeaderMap,
    query: Result<PageQuery<CodeQuery>, UiError>,
) -> Response {
    if !guard::transport_ok(listener.as_deref(), client.as_deref(), &headers) {
        return UiError::Transport.into_response();
    }
    let code = query.map(|q| q.0.code).unwrap_or_default();
    if !guard::is_secret(&code) {
        return UiError::BadRequest.into_response();
    }
    let nonce = guard::new_secret();
    let mut resp = page(StatusCode::OK, pages::sign_in(&code, &nonce));
    resp.headers_mut().append(
        header::SET_COOKIE,
        guard::set_cookie(LOGIN_COOKIE, &nonce, LOGIN_NONCE_TTL.as_secs()),
    );
    resp
}

#[derive(Deserialize)]
struct SignInForm {
    code: String,
    login: String,
}

/// `POST /ui/login`.
pub(super) async fn sign_in(
    State(state): State<AppState>,
    listener: Option<Extension<ListenerInfo>>,
    client: Option<Extension<ClientAddr>>,
    Extension(http): Extension<RequestId>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match sign_in_inner(&state, listener, client, &http, &headers, body).await {
        Ok(resp) => resp,
        Err(e) => e.into_response(),
    }
}

async fn sign_in_inner(
    state: &AppState,
    listener: Option<Extension<ListenerInfo>>,
    client: Option<Extension<ClientAddr>>,
    http: &RequestId,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, UiError> {
    if !guard::transport_ok(listener.as_deref(), client.as_deref(), headers) {
        return Err(UiError::Transport);
    }
    state
        .rate_check(AddressScope::Api, client.as_deref())
        .await
        .map_err(rate_refusal)?;
    let bytes = read_body(headers, body, state.max_body_bytes())
        .await
        .map_err(|_| UiError::BadRequest)?;
    let form: SignInForm = serde_urlencoded::from_bytes(&bytes).map_err(|_| UiError::BadRequest)?;
    // Checked before the code is touched: a refused post spends nothing.
    let same_origin = headers
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes() == b"same-origin");
    let echoed = guard::cookie(headers, LOGIN_COOKIE)
        .is_some_and(|c| guard::is_secret(c) && guard::secrets_equal(c, &form.login));
    if !same_origin || !echoed {
        tracing::info!(same_origin, echoed, "sign-in post refused");
        return Err(UiError::SignInRefused);
    }
    if !guard::is_secret(&form.code) {
        return Err(UiError::CodeSpent);
    }
    let backend = Backend::of(state).ok_or(UiError::NotFound)?;
    let now = backend.now();
    let store = &backend.store;
    let Some((who, next)) = store
        .take_code(&guard::digest("code", &form.code), now)
        .await?
    else {
        tracing::info!("sign-in refused: link used or expired");
        return Err(UiError::CodeSpent);
    };
    backend.unblocked(&who).await?;
    let session = guard::new_secret();
    store
        .put_session(
            &guard::digest("session", &session),
            &who,
            now,
            now + SESSION_TTL.as_secs() as i64,
            backend.page_event("page.signed_in", &who, http),
        )
        .await?
        .emit();
    tracing::info!(principal_arn = %who.arn, "web page session started");
    let mut resp = redirect(if guard::next_ok(&next) { &next } else { "/ui/" });
    let h = resp.headers_mut();
    h.append(
        header::SET_COOKIE,
        guard::set_cookie(SESSION_COOKIE, &session, SESSION_TTL.as_secs()),
    );
    h.append(header::SET_COOKIE, guard::clear_cookie(LOGIN_COOKIE));
    Ok(resp)
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /ui/logout`: ends the session (CSRF-checked) and clears the cookie.
pub(super) async fn logout(
    State(state): State<AppState>,
    listener: Option<Extension<ListenerInfo>>,
    client: Option<Extension<ClientAddr>>,
    Extension(http): Extension<RequestId>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let ended = async {
        if !guard::transport_ok(listener.as_deref(), client.as_deref(), &headers) {
            return Err(UiError::Transport);
        }
        let bytes = read_body(&headers, body, state.max_body_bytes())
            .await
            .map_err(|_| UiError::BadRequest)?;
        let form: CsrfForm =
            serde_urlencoded::from_bytes(&bytes).map_err(|_| UiError::BadRequest)?;
        let session = guard::cookie(&headers, SESSION_COOKIE)
            .filter(|s| guard::is_secret(s))
            .ok_or(UiError::Forbidden)?;
        if !guard::csrf_ok(session, &form.csrf) {
            return Err(UiError::Forbidden);
        }
        let backend = Backend::of(&state).ok_or(UiError::NotFound)?;
        let ended = backend
            .store
            .end_session(&guard::digest("session", session), |who| {
                backend.page_event("page.signed_out", who, &http)
            })
            .await?;
        if let Some(logged) = ended {
            logged.emit();
        }
        Ok(())
    };
    match ended.await {
        Ok(()) => {
            let mut resp = redirect("/ui/");
            resp.headers_mut()
                .append(header::SET_COOKIE, guard::clear_cookie(SESSION_COOKIE));
            resp
        }
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_link_names_the_origin_the_caller_signed_for() {
        let two = vec![
            "https://tvm.example.com".to_owned(),
            "https://tvm.internal:8443".to_owned(),
        ];
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("tvm.internal:8443"));
        assert_eq!(
            link_origin(&two, &h).as_deref(),
            Some("https://tvm.internal:8443")
        );
        h.insert(
            AUDIENCE_HINT_HEADER,
            HeaderValue::from_static("https://TVM.example.com:443"),
        );
        assert_eq!(
            link_origin(&two, &h).as_deref(),
            Some("https://tvm.example.com")
        );
        h.insert(
            AUDIENCE_HINT_HEADER,
            HeaderValue::from_static("https://evil.example.com"),
        );
        h.insert(header::HOST, HeaderValue::from_static("evil.example.com"));
        assert_eq!(link_origin(&two, &h), None);
        assert_eq!(
            link_origin(&two[..1], &h).as_deref(),
            Some("https://tvm.example.com")
        );
    }
}
