//! `GET /audit`'s read: one page of events in `Seq` order for one reader.
//!
//! Invariants:
//! - visibility is applied in the query of every page (a cursor names only a
//!   position, never who may read): a forged or replayed cursor can skip or
//!   repeat the reader's own rows, never reveal another's;
//! - a row is served only once its `at` is older than `served_before` (the
//!   route passes now − request timeout − 5 s): a transaction lasts at most
//!   the request timeout, so by then every row numbered before it has
//!   committed (Postgres hands out `seq` at insert, not at commit). The page
//!   stops at the first visible row, in `Seq` order, that is not yet old
//!   enough, and has no `Next` then: the export never steps over a row that
//!   may still be joined by an earlier-numbered one;
//! - `until` is exclusive, `since` inclusive, both on `at`;
//! - a page holds at most [`MAX_PAGE`] events.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sqlx::Row;

use super::{rfc3339, StoredEvent};
use crate::identity::OwnerKeys;

/// The most events one page may hold (DESIGN §13: `limit` ≤ 1,000).
pub const MAX_PAGE: u32 = 1000;

/// The prefix of a cursor's decoded text (a version, so the format can
/// change without old cursors being misread).
const CURSOR_PREFIX: &str = "tvm-audit-v1:";

/// Who reads.
#[derive(Debug, Clone, Copy)]
pub enum Reader<'a> {
    /// An admin: every event.
    Admin,
    /// Anyone else: events whose actor or subject owner is this identity.
    Own(&'a OwnerKeys),
}

/// One page's bounds.
#[derive(Debug, Clone, Copy)]
pub struct PageQuery {
    /// Inclusive lower bound on `at` (unix seconds).
    pub since: i64,
    /// Exclusive upper bound on `at`.
    pub until: i64,
    /// Serve only rows with `seq` above this (0: from the start).
    pub after: i64,
    /// At most this many events (1..=[`MAX_PAGE`]).
    pub limit: u32,
    /// Serve only rows with `at` below this (now − timeout − 5 s).
    pub served_before: i64,
}

/// One page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The events, in `Seq` order.
    pub events: Vec<StoredEvent>,
    /// The `seq` to continue after, when more rows are already servable.
    pub next: Option<i64>,
}

/// Reads one page for `reader`.
pub async fn page(
    pool: &sqlx::AnyPool,
    reader: Reader<'_>,
    q: PageQuery,
) -> Result<Page, sqlx::Error> {
    let limit = q.limit.clamp(1, MAX_PAGE);
    let base = "SELECT seq, at, event, actor, subject, profile, source_identity, request_id, \
                detail FROM audit_events WHERE seq > $1 AND at >= $2 AND at < $3";
    let (sql, keys) = match reader {
        Reader::Admin => (format!("{base} ORDER BY seq LIMIT $4"), None),
        Reader::Own(k) => (
            format!(
                "{base} AND (actor_key = $5 OR subject_key = $5 OR \
                 ($6 <> '' AND (actor_sso = $6 OR subject_sso = $6))) ORDER BY seq LIMIT $4"
            ),
            Some(k),
        ),
    };
    let mut query = sqlx::query(&sql)
        .bind(q.after)
        .bind(q.since)
        .bind(q.until)
        .bind(i64::from(limit) + 1);
    if let Some(k) = keys {
        query = query
            .bind(k.exact.clone())
            .bind(k.sso.clone().unwrap_or_default());
    }
    let rows = query.fetch_all(pool).await?;
    let mut events = Vec::new();
    for row in &rows {
        let at: i64 = row.try_get(1)?;
        if at >= q.served_before {
            // Not yet old enough: stop here, and say nothing follows yet.
            return Ok(Page { events, next: None });
        }
        if events.len() == limit as usize {
            let next = events.last().map(|e: &StoredEvent| e.seq);
            return Ok(Page { events, next });
        }
        events.push(StoredEvent {
            seq: row.try_get(0)?,
            at: rfc3339(at),
            event: row.try_get(2)?,
            actor: row.try_get(3)?,
            subject: row.try_get(4)?,
            profile: row.try_get(5)?,
            source_identity: row.try_get(6)?,
            request_id: row.try_get(7)?,
            detail: row.try_get(8)?,
        });
    }
    Ok(Page { events, next: None })
}

/// The opaque cursor that continues after `seq`.
pub fn encode_cursor(seq: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{seq}"))
}

/// The `seq` a cursor continues after, or `None` for anything that is not
/// exactly a cursor [`encode_cursor`] makes.
pub fn decode_cursor(cursor: &str) -> Option<i64> {
    if cursor.len() > 64 {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let text = std::str::from_utf8(&bytes).ok()?;
    let digits = text.strip_prefix(CURSOR_PREFIX)?;
    if digits.is_empty() || digits.len() > 19 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let seq: i64 = digits.parse().ok()?;
    (encode_cursor(seq) == cursor).then_some(seq)
}
