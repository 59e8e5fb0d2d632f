//! A grant's vends, read back from the ledger for the approvers' web page
//! (what §12's `grant_vends` table held; migration 0005 moved its rows into
//! `sessions` and dropped it).
//!
//! Invariants: only vends whose credentials exist are listed (`issued`, or
//! `revoked` since); rows come back in the order they were created.

use sqlx::Row;

/// One vend under a grant: (tvm request id, SourceIdentity).
pub type GrantVend = (String, String);

/// The vends made under a grant or break-glass record, oldest first, read on
/// `pool` (the read pool: no transaction with a write).
pub async fn vends_of_grant(
    pool: &sqlx::AnyPool,
    grant_id: &str,
) -> Result<Vec<GrantVend>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT request_id, source_identity FROM sessions \
         WHERE grant_id = $1 AND state IN ('issued', 'revoked') ORDER BY created_at, row_id",
    )
    .bind(grant_id)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}
