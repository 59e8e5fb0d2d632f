//! The ledger's writes as SQL, each run inside a transaction it is handed:
//! insert a `pending` row; complete it (`issued`, with the re-check of
//! blocks and grant and the vend's audit row); mark it `failed`. The SQL
//! and what a re-check's answer means live here once; this file runs them
//! through sqlx (Postgres, an in-memory SQLite), `writer` through the SQLite
//! file's own connection.
//!
//! Invariants: a completion only ever moves a row that is still `pending`
//! (zero rows moved is an error, never a silent success); the re-check reads
//! the blocks and the grant inside the completion's transaction, so a block
//! or a grant revocation committed before the completion is always seen; a
//! refused completion stores the vended key id (the credentials exist in AWS)
//! with `state = 'revoked'` and the revocation that caused it, so the IAM
//! side can deny them too; every `issued` completion writes the vend's audit
//! event in the same transaction (DESIGN §13), whose log line is owed until
//! the commit.

use std::borrow::Cow;
use std::sync::LazyLock;

use sqlx::{Any, AnyConnection, Row, Transaction};

use super::error::LedgerError;
use super::row::{Completed, NewSession, Recheck, Refusal};
use crate::audit::{AuditEvent, Logged};
use crate::database::Database;

/// Marks a pending row failed: `$1` row id.
pub(super) const FAIL: &str =
    "UPDATE sessions SET state = 'failed' WHERE row_id = $1 AND state = 'pending'";

/// Inserts the pending row: `$1` row id, then [`NewSession`]'s fields in
/// their declared order.
pub(super) const INSERT: &str =
    "INSERT INTO sessions (row_id, state, request_id, created_at, expires_at, caller_arn, \
     caller_user_id, caller_account, caller_role_id, sso_person, caller_access_key_id, \
     client_address, username, profile, role_arn, rule_name, kind, grant_id, \
     source_identity, session_name) VALUES ($1, 'pending', $2, $3, $4, $5, $6, $7, $8, $9, \
     $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)";

/// Completes a row `issued`: `$1` vended key, `$2` expiry, `$3` row id.
pub(super) const ISSUE: &str =
    "UPDATE sessions SET state = 'issued', access_key_id = $1, expires_at = $2 \
     WHERE row_id = $3 AND state = 'pending'";

/// Completes a row `revoked` (the re-check refused it): `$1` vended key,
/// `$2` expiry, `$3` revocation id, `$4` now, `$5` row id.
pub(super) const REVOKE: &str =
    "UPDATE sessions SET state = 'revoked', access_key_id = $1, expires_at = $2, \
     revocation_id = $3, revoked_at = $4 WHERE row_id = $5 AND state = 'pending'";

/// A grant's status and the revocation that ended it: `$1` grant id.
pub(super) const GRANT: &str = "SELECT status, revocation_id FROM approval_requests WHERE id = $1";

/// [`blocks_sql`] for up to this many identity keys is built once (a caller
/// has one to three); more are built on the spot.
const PREBUILT_KEYS: usize = 8;

/// The first active block covering a caller with `keys` identity keys:
/// `$1` now, `$2` the caller key, `$3` the IAM user (or NULL), `$4…` the
/// identity keys. Answers (block_type, revocation_id). Every completion
/// runs it, so the common texts are built once, not per vend.
pub(super) fn blocks_sql(keys: usize) -> Cow<'static, str> {
    static PREBUILT: LazyLock<Vec<String>> =
        LazyLock::new(|| (0..=PREBUILT_KEYS).map(build_blocks_sql).collect());
    match PREBUILT.get(keys) {
        Some(sql) => Cow::Borrowed(sql.as_str()),
        None => Cow::Owned(build_blocks_sql(keys)),
    }
}

fn build_blocks_sql(keys: usize) -> String {
    let keys = if keys == 0 {
        "NULL".to_owned()
    } else {
        (0..keys)
            .map(|i| format!("${}", i + 4))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "SELECT block_type, revocation_id FROM revocation_blocks \
         WHERE lifted_at IS NULL AND (expires_at IS NULL OR expires_at > $1) \
         AND ((block_type = 'caller_key' AND value = $2) \
         OR (block_type = 'iam_user' AND value = $3) \
         OR (block_type = 'identity' AND value IN ({keys}))) LIMIT 1"
    )
}

/// What an active block of `block_type` refuses.
pub(super) fn block_refusal(block_type: &str) -> Refusal {
    if block_type == "identity" {
        Refusal::Suspended
    } else {
        Refusal::RevokedCredentials
    }
}

/// What the grant's row (status, revocation id), if any, refuses.
pub(super) fn grant_refusal(
    row: Option<(String, Option<String>)>,
) -> Option<(Refusal, Option<String>)> {
    match row {
        Some((status, _)) if status == "approved" => None,
        Some((_, revocation)) => Some((Refusal::GrantRevoked, revocation)),
        None => Some((Refusal::GrantRevoked, None)),
    }
}

/// One write of the ledger.
#[derive(Debug)]
pub(super) enum Op {
    /// Insert the `pending` row.
    Insert {
        row_id: String,
        row: Box<NewSession>,
    },
    /// Complete the row with the vended key and STS's expiry, after the
    /// re-check.
    Complete(Box<Completion>),
    /// Mark a pending row `failed` (AssumeRole failed).
    Fail { row_id: String },
}

/// What a completion needs.
#[derive(Debug)]
pub(super) struct Completion {
    pub(super) row_id: String,
    pub(super) access_key_id: String,
    pub(super) expires_at: i64,
    pub(super) recheck: Recheck,
    /// The vend's audit event (written only when `issued`).
    pub(super) audit: AuditEvent,
}

/// What a write did.
#[derive(Debug)]
pub(super) enum Done {
    /// Inserted, or marked failed.
    Written,
    /// Completed; an `issued` completion's audit line, to emit once the
    /// transaction committed.
    Completed(Completed, Option<Box<Logged>>),
}

/// Runs `op` in its own transaction on the pool.
pub(super) async fn alone(db: &Database, op: &Op, now: i64) -> Result<Done, LedgerError> {
    let mut tx = db.begin().await?;
    let done = apply(&mut tx, op, now).await?;
    tx.commit().await?;
    Ok(done)
}

/// Runs `op` inside `tx` at `now`.
async fn apply(tx: &mut Transaction<'static, Any>, op: &Op, now: i64) -> Result<Done, sqlx::Error> {
    match op {
        Op::Complete(c) => complete(tx, c, now).await,
        other => write(tx, other).await,
    }
}

/// The writes that need no audit row.
async fn write(conn: &mut AnyConnection, op: &Op) -> Result<Done, sqlx::Error> {
    match op {
        Op::Insert { row_id, row } => insert(conn, row_id, row).await,
        Op::Complete(_) => unreachable!("a completion goes through apply"),
        Op::Fail { row_id } => {
            sqlx::query(FAIL)
                .bind(row_id.as_str())
                .execute(&mut *conn)
                .await?;
            Ok(Done::Written)
        }
    }
}

async fn insert(
    conn: &mut AnyConnection,
    row_id: &str,
    r: &NewSession,
) -> Result<Done, sqlx::Error> {
    sqlx::query(INSERT)
        .bind(row_id)
        .bind(r.request_id.as_str())
        .bind(r.created_at)
        .bind(r.expires_at)
        .bind(r.caller_arn.as_str())
        .bind(r.caller_user_id.as_str())
        .bind(r.caller_account.as_str())
        .bind(r.caller_role_id.as_deref())
        .bind(r.sso_person.as_deref())
        .bind(r.caller_access_key_id.as_str())
        .bind(r.client_address.as_str())
        .bind(r.username.as_str())
        .bind(r.profile.as_str())
        .bind(r.role_arn.as_str())
        .bind(r.rule_name.as_deref())
        .bind(r.kind.as_str())
        .bind(r.grant_id.as_deref())
        .bind(r.source_identity.as_str())
        .bind(r.session_name.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(Done::Written)
}

async fn complete(
    tx: &mut Transaction<'static, Any>,
    c: &Completion,
    now: i64,
) -> Result<Done, sqlx::Error> {
    let refused = recheck(tx, &c.recheck, now).await?;
    let moved = match &refused {
        None => sqlx::query(ISSUE)
            .bind(c.access_key_id.as_str())
            .bind(c.expires_at)
            .bind(c.row_id.as_str()),
        Some((_, revocation)) => sqlx::query(REVOKE)
            .bind(c.access_key_id.as_str())
            .bind(c.expires_at)
            .bind(revocation.as_deref())
            .bind(now)
            .bind(c.row_id.as_str()),
    }
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if moved != 1 {
        return Err(sqlx::Error::RowNotFound);
    }
    if let Some((why, _)) = refused {
        return Ok(Done::Completed(Completed::Refused(why), None));
    }
    let logged = crate::audit::record_event(tx, c.audit.clone()).await?;
    Ok(Done::Completed(Completed::Issued, Some(Box::new(logged))))
}

/// The first active block that covers this caller, or a grant no longer
/// approved, with the revocation that caused it (when known).
async fn recheck(
    conn: &mut AnyConnection,
    r: &Recheck,
    now: i64,
) -> Result<Option<(Refusal, Option<String>)>, sqlx::Error> {
    let sql = blocks_sql(r.identity_keys.len());
    let mut q = sqlx::query(&sql)
        .bind(now)
        .bind(r.caller_key.as_str())
        .bind(r.iam_user.as_deref());
    for k in &r.identity_keys {
        q = q.bind(k.as_str());
    }
    if let Some(row) = q.fetch_optional(&mut *conn).await? {
        let kind: String = row.try_get(0)?;
        return Ok(Some((block_refusal(&kind), Some(row.try_get(1)?))));
    }
    let Some(grant) = &r.grant else {
        return Ok(None);
    };
    let row = sqlx::query(GRANT)
        .bind(grant.as_str())
        .fetch_optional(&mut *conn)
        .await?;
    let row = match row {
        Some(row) => Some((row.try_get(0)?, row.try_get(1)?)),
        None => None,
    };
    Ok(grant_refusal(row))
}
