//! The audit trail: append-only rows, one per state change, written in the
//! change's own transaction, and read back in the order they were written.
//!
//! Today it owns the `approval_audit` table of DESIGN §12: every change of a
//! request or break-glass record (created, approval added, approved, denied,
//! break-glass used, a vend under a grant) writes one row naming who, what,
//! when and the HTTP request id; the approvers' web page shows a request's
//! trail. DESIGN §13 turns this into the `audit_events` table (with `Seq`,
//! `Actor`, `Subject`, `Profile`, `SourceIdentity`, `Detail`), the `audit`
//! JSON log line, `GET /audit` and `tvm audit`; those belong here.
//!
//! Invariants: rows are inserted, never updated or deleted; a row is written
//! in the same transaction as the change it records (so there is no change
//! without its row, and no row without its change); the backend assigns the
//! monotonic `seq` (migration 0003), so rows written within one second keep
//! their order and replicas never hand out the same number.

use sqlx::{Any, Row, Transaction};

use crate::database::new_id;
use crate::identity::RequestId;

/// One row of a subject's trail: (action, actor ARN, HTTP request id, unix
/// seconds).
pub type TrailEntry = (String, String, String, i64);

/// Appends one audit row inside the change's transaction.
pub async fn record(
    tx: &mut Transaction<'static, Any>,
    subject: &str,
    action: &str,
    actor: &str,
    detail: &str,
    http: &RequestId,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO approval_audit (id, subject_id, action, actor_arn, detail, \
         http_request_id, at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(new_id())
    .bind(subject)
    .bind(action)
    .bind(actor)
    .bind(detail)
    .bind(http.as_str())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The trail of one subject (a request or break-glass record id) in the
/// order it was written (the monotonic `seq`).
pub async fn trail(pool: &sqlx::AnyPool, subject: &str) -> Result<Vec<TrailEntry>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT action, actor_arn, http_request_id, at FROM approval_audit \
         WHERE subject_id = $1 ORDER BY seq",
    )
    .bind(subject)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)))
        .collect()
}
