//! The database side of the IAM queue: the values a role must deny (from the
//! ledger's revoked sessions and the revoked grants), the roles a revocation
//! touched, and the `revocation_roles` rows — which are due, leasing one,
//! and recording the outcome.
//!
//! Invariants: a role is written by one worker at a time — a lease is taken
//! by one conditional `UPDATE` (only when free or expired) and an outcome is
//! recorded only by the lease's holder; a role is due only when its last
//! write is at least [`super::WRITE_INTERVAL_SECS`] old, which is what
//! coalesces a burst into one write; portable SQL (`$N`, BIGINT seconds).

use sqlx::{AnyPool, Row};

use super::document::{session_pattern, DenyValue, Naming};
use super::{RECHECK_INTERVAL_SECS, WRITE_INTERVAL_SECS};

/// A role's values and who last revoked on it.
#[derive(Debug, Clone, Default)]
pub(super) struct RoleValues {
    /// Every value with an unexpired session or grant, and the ones that
    /// expired (so a revocation's status can say `expired`).
    pub(super) values: Vec<DenyValue>,
    /// The newest revocation with a value on this role: `(id, by_arn)`.
    pub(super) newest: Option<(String, String)>,
}

/// Whatever a worker reads of a `revocation_roles` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RoleRow {
    /// The role.
    pub(super) role_arn: String,
    /// Bumped by every change of what the role must deny.
    pub(super) desired_version: i64,
    /// The version last written (or recorded failed / manual).
    pub(super) applied_version: i64,
    /// `pending|applied|failed|manual|expired`.
    pub(super) status: String,
    /// The last error, for admins.
    pub(super) error: Option<String>,
    /// The document last derived (written, or to write by hand).
    pub(super) policy: Option<String>,
}

/// The values `role_arn` must deny. `since` bounds how far back expired
/// values are read (they matter only to say `expired`).
pub(super) async fn role_values(
    pool: &AnyPool,
    naming: &Naming,
    role_arn: &str,
    since: i64,
) -> Result<RoleValues, sqlx::Error> {
    let mut out = RoleValues::default();
    let mut newest: Option<(i64, String, String)> = None;
    let sessions = sqlx::query(
        "SELECT s.request_id, s.source_identity, s.expires_at, r.id, r.created_at, \
         r.self_service, r.by_arn FROM sessions s JOIN revocations r ON r.id = s.revocation_id \
         WHERE s.role_arn = $1 AND s.revocation_id IS NOT NULL AND s.state <> 'failed' \
         AND s.expires_at > $2",
    )
    .bind(role_arn)
    .bind(since)
    .fetch_all(pool)
    .await?;
    for row in &sessions {
        let (request_id, si): (String, String) = (row.try_get(0)?, row.try_get(1)?);
        let v = DenyValue {
            pattern: session_pattern(naming.prefix(), &si, &request_id),
            expires_at: row.try_get(2)?,
            revocation_id: row.try_get(3)?,
            revoked_at: row.try_get(4)?,
            self_service: row.try_get::<i64, _>(5)? != 0,
        };
        note_newest(&mut newest, v.revoked_at, &v.revocation_id, row.try_get(6)?);
        out.values.push(v);
    }
    let grants = sqlx::query(
        "SELECT a.id, a.grant_expires_at, r.id, r.created_at, r.self_service, r.by_arn \
         FROM approval_requests a JOIN revocations r ON r.id = a.revocation_id \
         WHERE a.status = 'revoked' AND a.grant_expires_at > $2 \
         AND EXISTS (SELECT 1 FROM sessions s WHERE s.grant_id = a.id AND s.role_arn = $1)",
    )
    .bind(role_arn)
    .bind(since)
    .fetch_all(pool)
    .await?;
    for row in &grants {
        let grant_id: String = row.try_get(0)?;
        let v = DenyValue {
            pattern: naming.grant_pattern(&grant_id),
            expires_at: row.try_get(1)?,
            revocation_id: row.try_get(2)?,
            revoked_at: row.try_get(3)?,
            self_service: row.try_get::<i64, _>(4)? != 0,
        };
        note_newest(&mut newest, v.revoked_at, &v.revocation_id, row.try_get(5)?);
        out.values.push(v);
    }
    out.newest = newest.map(|(_, id, by)| (id, by));
    Ok(out)
}

fn note_newest(newest: &mut Option<(i64, String, String)>, at: i64, id: &str, by: String) {
    let newer = match newest {
        None => true,
        Some((t, i, _)) => (at, id) > (*t, i.as_str()),
    };
    if newer {
        *newest = Some((at, id.to_owned(), by));
    }
}

/// The newest revocation that ever had a value on `role_arn`, whatever its
/// expiry: on whose behalf a role whose values all expired is cleaned up.
pub(super) async fn newest_revocation(
    pool: &AnyPool,
    role_arn: &str,
) -> Result<Option<(String, String)>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT r.id, r.by_arn FROM sessions s JOIN revocations r ON r.id = s.revocation_id \
         WHERE s.role_arn = $1 AND s.revocation_id IS NOT NULL \
         ORDER BY r.created_at DESC, r.id DESC LIMIT 1",
    )
    .bind(role_arn)
    .fetch_optional(pool)
    .await?;
    row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
}

/// The roles `revocation_id` put values on: its sessions' roles and the roles
/// its grant was vended for.
pub(super) async fn roles_of(
    pool: &AnyPool,
    revocation_id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT role_arn FROM sessions WHERE revocation_id = $1 AND state <> 'failed' \
         UNION SELECT s.role_arn FROM sessions s JOIN approval_requests a ON a.id = s.grant_id \
         WHERE a.revocation_id = $1",
    )
    .bind(revocation_id)
    .fetch_all(pool)
    .await?;
    let mut roles: Vec<String> = rows
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
    roles.sort();
    roles.dedup();
    Ok(roles)
}

/// The row of `role_arn`, if any.
pub(super) async fn role_row(
    pool: &AnyPool,
    role_arn: &str,
) -> Result<Option<RoleRow>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT role_arn, desired_version, applied_version, status, error, policy \
         FROM revocation_roles WHERE role_arn = $1",
    )
    .bind(role_arn)
    .fetch_optional(pool)
    .await?;
    row.map(|r| {
        Ok(RoleRow {
            role_arn: r.try_get(0)?,
            desired_version: r.try_get(1)?,
            applied_version: r.try_get(2)?,
            status: r.try_get(3)?,
            error: r.try_get(4)?,
            policy: r.try_get(5)?,
        })
    })
    .transpose()
}

/// Roles due at `now`: a change not yet applied, a value that expired, a
/// re-check [`RECHECK_INTERVAL_SECS`] old, or (when tvm writes IAM) a role
/// left `manual` by a deployment without a revoker role — and never within
/// [`WRITE_INTERVAL_SECS`] of the last write, nor while leased.
pub(super) async fn due_roles(
    pool: &AnyPool,
    now: i64,
    writes_iam: bool,
    limit: i64,
) -> Result<Vec<String>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT role_arn FROM revocation_roles \
         WHERE (lease_until IS NULL OR lease_until < $1) \
         AND (last_write_at IS NULL OR last_write_at <= $2) \
         AND (desired_version > applied_version \
              OR (next_expiry IS NOT NULL AND next_expiry <= $1) \
              OR (status IN ('applied', 'failed') AND next_expiry IS NOT NULL \
                  AND (checked_at IS NULL OR checked_at <= $3)) \
              OR ($5 = 1 AND status = 'manual')) \
         ORDER BY updated_at, role_arn LIMIT $4",
    )
    .bind(now)
    .bind(now - WRITE_INTERVAL_SECS)
    .bind(now - RECHECK_INTERVAL_SECS)
    .bind(limit)
    .bind(i64::from(writes_iam))
    .fetch_all(pool)
    .await?;
    rows.iter().map(|r| r.try_get(0)).collect()
}

/// Takes the lease of `role_arn` for `owner` until `until`; `false` when
/// another worker holds it.
pub(super) async fn lease(
    pool: &AnyPool,
    role_arn: &str,
    owner: &str,
    now: i64,
    until: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE revocation_roles SET lease_owner = $1, lease_until = $2 \
         WHERE role_arn = $3 AND (lease_until IS NULL OR lease_until < $4)",
    )
    .bind(owner)
    .bind(until)
    .bind(role_arn)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives the lease back without recording anything.
pub(super) async fn release(
    pool: &AnyPool,
    role_arn: &str,
    owner: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE revocation_roles SET lease_owner = NULL, lease_until = NULL \
         WHERE role_arn = $1 AND lease_owner = $2",
    )
    .bind(role_arn)
    .bind(owner)
    .execute(pool)
    .await?;
    Ok(())
}

/// What one pass decided for a role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Outcome {
    /// The version it settles (the old `applied_version` for a retry).
    pub(super) applied_version: i64,
    /// The new status.
    pub(super) status: &'static str,
    /// The error, if any.
    pub(super) error: Option<String>,
    /// The derived document.
    pub(super) policy: Option<String>,
    /// Whether a write (or a write attempt) was made: starts the 10 s wait.
    pub(super) wrote: bool,
    /// When the document changes next by expiry.
    pub(super) next_expiry: Option<i64>,
}

/// Records `outcome` if `owner` still holds the lease, in `tx`; `false`
/// when the lease was lost (another worker took over an expired one).
pub(super) async fn finish(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    role_arn: &str,
    owner: &str,
    outcome: &Outcome,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE revocation_roles SET applied_version = $1, status = $2, error = $3, policy = $4, \
         last_write_at = CASE WHEN $5 = 1 THEN $6 ELSE last_write_at END, checked_at = $6, \
         next_expiry = $7, updated_at = $6, lease_owner = NULL, lease_until = NULL \
         WHERE role_arn = $8 AND lease_owner = $9",
    )
    .bind(outcome.applied_version)
    .bind(outcome.status)
    .bind(&outcome.error)
    .bind(&outcome.policy)
    .bind(i64::from(outcome.wrote))
    .bind(now)
    .bind(outcome.next_expiry)
    .bind(role_arn)
    .bind(owner)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Role rows per status (for `tvm_revocation_roles{status}`).
pub(super) async fn status_counts(pool: &AnyPool) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let rows = sqlx::query("SELECT status, COUNT(*) FROM revocation_roles GROUP BY status")
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}
