//! The audit trail of DESIGN §13: the `audit_events` table, one row per
//! state change, written in the change's own transaction, and read back in
//! the order the backend numbered them (`Seq`).
//!
//! Layout:
//! - this file: [`AuditEvent`] (what one row says), [`record_event`] (the
//!   insert, inside the caller's transaction), [`Logged`] (the JSON `audit`
//!   log line, emitted by the caller *after* its commit), [`record`] (the
//!   §12 form the approvals code was written against), [`trail`] (one
//!   subject's rows, for the web page) and [`prune`] (retention).
//! - `page`: `GET /audit`'s read — a page of events in `Seq` order for one
//!   reader (visibility), served only once old enough, and its cursor.
//!
//! Invariants: rows are inserted, never updated; only [`prune`] deletes, by
//! age; a row is written in the same transaction as the change it records
//! (no change without its row, no row without its change); the backend
//! assigns the monotonic `seq` (migration 0008: AUTOINCREMENT / identity), so
//! replicas never hand out the same number; the log line is written only
//! after the commit, so a SIEM never sees an event that was rolled back; no
//! field ever holds a token, a signature or a credential (events name ids,
//! ARNs, SourceIdentities and caller-written reasons only).
//!
//! Visibility ("one's own, everyone's for admins"): each row stores the
//! identity keys ([`OwnerKeys`]) of its actor and of its subject's owner as
//! they were when it was written; a reader sees a row when its exact key or
//! its Identity Center person key equals the actor's or the subject's. Rows
//! without keys (moved from §12's `approval_audit`, or events about no
//! person) are for admins only.

mod page;

pub use page::{decode_cursor, encode_cursor, page, Page, PageQuery, Reader, MAX_PAGE};

use serde::Serialize;
use sqlx::{Any, Row, Transaction};

use crate::database::new_id;
use crate::identity::{OwnerKeys, RequestId};

/// One row of a subject's trail: (event, actor ARN, HTTP request id, unix
/// seconds).
pub type TrailEntry = (String, String, String, i64);

/// One audit event, as written (DESIGN §13's `At, Event, Actor, Subject,
/// Profile, SourceIdentity, RequestId, Detail`; `Seq` is the backend's).
#[derive(Debug, Clone, Default)]
pub struct AuditEvent {
    /// Unix seconds.
    pub at: i64,
    /// What happened (`created`, `approved`, `vended`, `revocation.created`…).
    pub event: String,
    /// Who did it: an STS ARN, or `tvm` for the service itself.
    pub actor: String,
    /// The actor's identity keys (`None`: nobody but admins sees the row as
    /// the actor's).
    pub actor_keys: Option<OwnerKeys>,
    /// What it was done to: a request, grant, session or revocation id, or
    /// an ARN.
    pub subject: String,
    /// The identity keys of whoever owns the subject (a request's requester,
    /// a session's caller, a revoked person).
    pub subject_keys: Option<OwnerKeys>,
    /// The profile concerned, if any.
    pub profile: String,
    /// The SourceIdentity concerned (a vend), if any.
    pub source_identity: String,
    /// The HTTP request id of the change.
    pub request_id: String,
    /// Free text: a reason, a comment, a count.
    pub detail: String,
}

impl AuditEvent {
    /// An event `event` at `at`, made by the HTTP request `http`.
    pub fn new(event: &str, at: i64, http: &RequestId) -> Self {
        Self {
            at,
            event: event.to_owned(),
            request_id: http.as_str().to_owned(),
            ..Self::default()
        }
    }

    /// Who did it, with their identity keys.
    pub fn actor(mut self, arn: &str, keys: Option<OwnerKeys>) -> Self {
        arn.clone_into(&mut self.actor);
        self.actor_keys = keys;
        self
    }

    /// What it was done to, with its owner's identity keys.
    pub fn subject(mut self, subject: &str, keys: Option<OwnerKeys>) -> Self {
        subject.clone_into(&mut self.subject);
        self.subject_keys = keys;
        self
    }

    /// The profile concerned.
    pub fn profile(mut self, profile: &str) -> Self {
        profile.clone_into(&mut self.profile);
        self
    }

    /// The SourceIdentity concerned.
    pub fn source_identity(mut self, source_identity: &str) -> Self {
        source_identity.clone_into(&mut self.source_identity);
        self
    }

    /// Free text.
    pub fn detail(mut self, detail: &str) -> Self {
        detail.clone_into(&mut self.detail);
        self
    }
}

/// An event as stored and served (`GET /audit`, the log line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StoredEvent {
    /// RFC 3339 UTC.
    pub at: String,
    /// The backend's sequence number.
    pub seq: i64,
    /// What happened.
    pub event: String,
    /// Who did it.
    pub actor: String,
    /// What it was done to.
    pub subject: String,
    /// The profile concerned, or "".
    pub profile: String,
    /// The SourceIdentity concerned, or "".
    pub source_identity: String,
    /// The HTTP request id.
    pub request_id: String,
    /// Free text.
    pub detail: String,
}

/// A written event whose log line is still owed: call [`Logged::emit`] once
/// the transaction has committed (never before: a rolled-back change must
/// not reach a SIEM).
#[must_use = "emit the audit log line after the transaction commits"]
#[derive(Debug)]
pub struct Logged(StoredEvent);

impl Logged {
    /// The line of `ev`, stored as number `seq`.
    fn stored(ev: AuditEvent, seq: i64) -> Self {
        Logged(StoredEvent {
            at: rfc3339(ev.at),
            seq,
            event: ev.event,
            actor: ev.actor,
            subject: ev.subject,
            profile: ev.profile,
            source_identity: ev.source_identity,
            request_id: ev.request_id,
            detail: ev.detail,
        })
    }

    /// Writes the JSON `audit` log line; caller-written text (a reason, an
    /// ARN) shows hidden characters as `\u{…}`, so it cannot forge a line.
    pub fn emit(self) {
        use crate::telemetry::text::display as shown;
        let e = self.0;
        tracing::info!(
            target: "tvm::audit",
            at = %e.at,
            seq = e.seq,
            event = %e.event,
            actor = %shown(&e.actor),
            subject = %shown(&e.subject),
            profile = %shown(&e.profile),
            source_identity = %shown(&e.source_identity),
            request_id = %shown(&e.request_id),
            detail = %shown(&e.detail),
            "audit"
        );
    }

    /// The event as stored.
    pub fn event(&self) -> &StoredEvent {
        &self.0
    }
}

/// The insert of one event; `$1…$13` in the order of [`Columns`].
const INSERT: &str = "INSERT INTO audit_events (id, at, event, actor, actor_key, actor_sso, \
     subject, subject_key, subject_sso, profile, source_identity, request_id, detail) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING seq";

/// The key columns of one event, beside its own fields.
struct Columns {
    id: String,
    actor_key: String,
    actor_sso: String,
    subject_key: String,
    subject_sso: String,
}

impl Columns {
    fn of(ev: &AuditEvent) -> Self {
        let (actor_key, actor_sso) = key_columns(ev.actor_keys.as_ref());
        let (subject_key, subject_sso) = key_columns(ev.subject_keys.as_ref());
        Columns {
            id: new_id(),
            actor_key,
            actor_sso,
            subject_key,
            subject_sso,
        }
    }
}

/// Writes `ev` inside the change's transaction; the caller emits the
/// returned log line after its commit.
pub async fn record_event(
    tx: &mut Transaction<'static, Any>,
    ev: AuditEvent,
) -> Result<Logged, sqlx::Error> {
    let c = Columns::of(&ev);
    let row = sqlx::query(INSERT)
        .bind(c.id)
        .bind(ev.at)
        .bind(&ev.event)
        .bind(&ev.actor)
        .bind(c.actor_key)
        .bind(c.actor_sso)
        .bind(&ev.subject)
        .bind(c.subject_key)
        .bind(c.subject_sso)
        .bind(&ev.profile)
        .bind(&ev.source_identity)
        .bind(&ev.request_id)
        .bind(&ev.detail)
        .fetch_one(&mut **tx)
        .await?;
    Ok(Logged::stored(ev, row.try_get(0)?))
}

/// [`record_event`] on a SQLite connection of its own (the ledger's writer
/// thread), inside the transaction open on `conn`.
pub fn record_event_sqlite(
    conn: &rusqlite::Connection,
    ev: AuditEvent,
) -> Result<Logged, rusqlite::Error> {
    let c = Columns::of(&ev);
    let seq = conn.prepare_cached(INSERT)?.query_row(
        rusqlite::params![
            c.id,
            ev.at,
            ev.event,
            ev.actor,
            c.actor_key,
            c.actor_sso,
            ev.subject,
            c.subject_key,
            c.subject_sso,
            ev.profile,
            ev.source_identity,
            ev.request_id,
            ev.detail,
        ],
        |r| r.get(0),
    )?;
    Ok(Logged::stored(ev, seq))
}

/// The exact and person key columns of `keys` ("" when absent).
fn key_columns(keys: Option<&OwnerKeys>) -> (String, String) {
    match keys {
        Some(k) => (k.exact.clone(), k.sso.clone().unwrap_or_default()),
        None => (String::new(), String::new()),
    }
}

/// The trail of one subject (a request or break-glass record id) in the
/// order it was written (the monotonic `seq`).
pub async fn trail(pool: &sqlx::AnyPool, subject: &str) -> Result<Vec<TrailEntry>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT event, actor, request_id, at FROM audit_events WHERE subject = $1 ORDER BY seq",
    )
    .bind(subject)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)))
        .collect()
}

/// Unix seconds as RFC 3339 UTC (`2026-01-02T03:04:05Z`).
pub fn rfc3339(secs: i64) -> String {
    jiff::Timestamp::from_second(secs)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
