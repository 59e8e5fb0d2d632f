//! The record of what was vended: today, the vends made under a grant or a
//! break-glass record (the `grant_vends` table of DESIGN §12), listed with
//! their grant on the approvers' web page.
//!
//! DESIGN §13's ledger replaces `grant_vends` and lives here: a `pending` row
//! for every vend of any kind before AssumeRole, completed (with the re-check
//! of blocks and grant) in one transaction after it, the session objects of
//! `GET /sessions`, the batching SQLite writer and retention.
//!
//! Invariants: a row is written only once the credentials exist, in the same
//! transaction as the audit row of the vend; (grant, HTTP request id) is
//! unique, so one vend is listed once; rows are read back in the order they
//! were written.

use sqlx::{Any, Row, Transaction};

use crate::identity::RequestId;

/// One vend under a grant: (HTTP request id, SourceIdentity).
pub type GrantVend = (String, String);

/// Lists a vend under `grant_id` (a request or break-glass record id), inside
/// the caller's transaction.
pub async fn record_grant_vend(
    tx: &mut Transaction<'static, Any>,
    grant_id: &str,
    http: &RequestId,
    source_identity: &str,
    duration_seconds: u32,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO grant_vends (grant_id, http_request_id, source_identity, \
         duration_seconds, at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(grant_id)
    .bind(http.as_str())
    .bind(source_identity)
    .bind(i64::from(duration_seconds))
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The vends made under a grant or record, oldest first.
pub async fn vends_of_grant(
    pool: &sqlx::AnyPool,
    grant_id: &str,
) -> Result<Vec<GrantVend>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT http_request_id, source_identity FROM grant_vends WHERE grant_id = $1 ORDER BY at",
    )
    .bind(grant_id)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}
