//! `GET /audit?since=&until=&limit=&cursor=` (DESIGN §13): the audit trail
//! in `Seq` order, one page at a time, `{"Events": [...], "Next"}`.
//!
//! Order, as every route: the per-address bucket, then the query's shape
//! (400 `INVALID_REQUEST` before the token is looked at), then the caller's
//! proof (bound to method, path and body; EKS-style tokens refused), then
//! the read. Visibility is decided on every page from the caller proven
//! *this* request — admins (`Policy::is_admin`) read everything, anyone
//! else their own events ([`crate::audit::Reader`]) — never from the cursor,
//! which only names a position. A row is served only once it is older than
//! the request timeout + [`COMMIT_MARGIN_SECONDS`].

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};

use super::requests::{actor, read};
use crate::audit::{self, PageQuery, Reader, StoredEvent, MAX_PAGE};
use crate::identity::{OwnerKeys, RequestId};
use crate::web::{ApiError, ApiErrorKind, ApiQuery, AppState, ClientAddr};

/// Events per page when `limit` is not given.
const DEFAULT_PAGE: u32 = 500;

/// Added to the request timeout before a row is served: a transaction
/// lasts at most the request timeout, and replicas' clocks may differ by a
/// few seconds; by then every row numbered before it has committed.
const COMMIT_MARGIN_SECONDS: i64 = 5;

/// The query string.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AuditQuery {
    since: Option<String>,
    until: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

/// The answer.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AuditPage {
    events: Vec<StoredEvent>,
    next: Option<String>,
}

/// A time bound: RFC 3339 (`2026-01-02T03:04:05Z`) or unix seconds.
fn parse_time(s: &str) -> Option<i64> {
    if !s.is_empty() && s.len() <= 12 && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().ok();
    }
    s.parse::<jiff::Timestamp>().ok().map(|t| t.as_second())
}

/// The query's bounds (without `served_before`), or the 400 message.
fn bounds(q: &AuditQuery, now: i64) -> Result<PageQuery, &'static str> {
    let since = match q.since.as_deref() {
        None => 0,
        Some(s) => parse_time(s).ok_or("since must be RFC 3339 or unix seconds")?,
    };
    let until = match q.until.as_deref() {
        None => now + 1,
        Some(s) => parse_time(s).ok_or("until must be RFC 3339 or unix seconds")?,
    };
    if until < since {
        return Err("until must not be before since");
    }
    let limit = match q.limit.as_deref() {
        None => DEFAULT_PAGE,
        Some(s) => s
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or("limit must be between 1 and 1000")?,
    };
    let after = match q.cursor.as_deref() {
        None => 0,
        Some(c) => audit::decode_cursor(c).ok_or("cursor is not one this server gave")?,
    };
    Ok(PageQuery {
        since,
        until,
        after,
        limit,
        served_before: 0,
    })
}

/// `GET /audit`.
pub(super) async fn list(
    State(state): State<AppState>,
    Extension(id): Extension<RequestId>,
    client: Option<Extension<ClientAddr>>,
    ApiQuery(q): ApiQuery<AuditQuery>,
    req: Request,
) -> Response {
    let Some(service) = state.approvals().cloned() else {
        return refuse(&id, ApiError::new(ApiErrorKind::NotConfigured));
    };
    let now = service.clock().now().as_second();
    let mut query = match bounds(&q, now) {
        Ok(b) => b,
        Err(m) => {
            return refuse(
                &id,
                ApiError::new(ApiErrorKind::InvalidRequest).with_message(m),
            )
        }
    };
    let (parts, bytes) = match read(&state, client.as_deref(), req).await {
        Ok(r) => r,
        Err(e) => return refuse(&id, e),
    };
    let caller = match actor(&state, &id, client.as_deref(), &parts, &bytes).await {
        Ok(a) => a,
        Err(e) => return refuse(&id, e),
    };
    let timeout = i64::try_from(state.request_timeout().as_secs()).unwrap_or(i64::MAX / 2);
    query.served_before = now - timeout.saturating_add(COMMIT_MARGIN_SECONDS);
    let policy = state.vendor().policy().current();
    let keys = OwnerKeys::of(
        caller.identity().arn(),
        caller.user_id(),
        policy.sso_accounts(),
    );
    let reader = if policy.is_admin(caller.identity()) {
        Reader::Admin
    } else {
        Reader::Own(&keys)
    };
    match audit::page(&service.database().pool, reader, query).await {
        Ok(page) => {
            let body = AuditPage {
                events: page.events,
                next: page.next.map(audit::encode_cursor),
            };
            let mut r = Json(body).into_response();
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(e) => {
            state.metrics().database_error();
            tracing::warn!(request_id = %id, error = %e, "audit read failed");
            refuse(&id, ApiError::new(ApiErrorKind::Unavailable))
        }
    }
}

fn refuse(id: &RequestId, e: ApiError) -> Response {
    e.with_request_id(id).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(since: Option<&str>, until: Option<&str>, limit: Option<&str>) -> AuditQuery {
        AuditQuery {
            since: since.map(Into::into),
            until: until.map(Into::into),
            limit: limit.map(Into::into),
            cursor: None,
        }
    }

    #[test]
    fn bounds_take_rfc3339_or_unix_seconds_and_refuse_the_rest() {
        let b = bounds(
            &q(Some("2026-01-02T03:04:05Z"), Some("1800000000"), None),
            5,
        )
        .unwrap();
        assert_eq!(
            (b.since, b.until, b.limit),
            (1_767_323_045, 1_800_000_000, 500)
        );
        assert_eq!(bounds(&q(None, None, None), 99).unwrap().until, 100);
        for bad in [
            q(Some("yesterday"), None, None),
            q(None, Some("-1"), None),
            q(Some("20"), Some("10"), None),
            q(None, None, Some("0")),
            q(None, None, Some("1001")),
            q(None, None, Some("ten")),
        ] {
            assert!(bounds(&bad, 0).is_err());
        }
        assert_eq!(bounds(&q(None, None, Some("1000")), 0).unwrap().limit, 1000);
    }
}
