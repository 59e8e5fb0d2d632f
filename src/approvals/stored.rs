//! One row of `approval_requests` read back, and the request object
//! ([`RequestView`]) built from it with its approvals.
//!
//! Invariants: an id that is not 16 lowercase hex never reaches a query (it
//! is simply not found); a pending request past `expires_at` reads as
//! `expired` whatever the row says, so expiry needs no background job.

use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::view::{rfc3339, ApprovalView, RequestView, Status};
use crate::database::is_id;

/// The columns of `approval_requests` in the order [`Stored::from_row`]
/// reads them.
pub(super) const REQUEST_COLUMNS: &str =
    "id, status, profile, rule_name, rule_digest, approvals_needed, \
     grant_seconds, requester_arn, requester_user_id, requester_canonical, requester_username, \
     reason, duration_seconds, created_at, expires_at, grant_expires_at";

/// One row of `approval_requests`.
pub(super) struct Stored {
    pub(super) id: String,
    pub(super) status: String,
    pub(super) profile: String,
    pub(super) rule_name: String,
    pub(super) rule_digest: String,
    pub(super) approvals_needed: i64,
    pub(super) grant_seconds: i64,
    pub(super) requester_arn: String,
    pub(super) requester_user_id: String,
    pub(super) requester_canonical: String,
    pub(super) requester_username: String,
    pub(super) reason: String,
    pub(super) duration_seconds: i64,
    pub(super) created_at: i64,
    pub(super) expires_at: i64,
    pub(super) grant_expires_at: Option<i64>,
}

impl Stored {
    pub(super) fn from_row(r: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: r.try_get(0)?,
            status: r.try_get(1)?,
            profile: r.try_get(2)?,
            rule_name: r.try_get(3)?,
            rule_digest: r.try_get(4)?,
            approvals_needed: r.try_get(5)?,
            grant_seconds: r.try_get(6)?,
            requester_arn: r.try_get(7)?,
            requester_user_id: r.try_get(8)?,
            requester_canonical: r.try_get(9)?,
            requester_username: r.try_get(10)?,
            reason: r.try_get(11)?,
            duration_seconds: r.try_get(12)?,
            created_at: r.try_get(13)?,
            expires_at: r.try_get(14)?,
            grant_expires_at: r.try_get(15)?,
        })
    }

    /// The status as of `now` (a pending request past `expires_at` is expired).
    pub(super) fn status_at(&self, now: i64) -> Status {
        match Status::parse(&self.status) {
            Some(Status::Pending) if now >= self.expires_at => Status::Expired,
            Some(s) => s,
            None => Status::Expired,
        }
    }
}

pub(super) async fn fetch(
    conn: &mut sqlx::AnyConnection,
    id: &str,
) -> Result<Option<Stored>, sqlx::Error> {
    if !is_id(id) {
        return Ok(None);
    }
    let row = sqlx::query(&format!(
        "SELECT {REQUEST_COLUMNS} FROM approval_requests WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(Stored::from_row).transpose()
}

pub(super) async fn view_of(
    conn: &mut sqlx::AnyConnection,
    req: Stored,
    now: i64,
) -> Result<RequestView, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT approver_arn, comment, at FROM approval_approvals WHERE request_id = $1 ORDER BY at",
    )
    .bind(&req.id)
    .fetch_all(&mut *conn)
    .await?;
    let approvals = rows
        .iter()
        .map(|r| {
            Ok(ApprovalView {
                approver: r.try_get(0)?,
                comment: r.try_get(1)?,
                at: rfc3339(r.try_get(2)?),
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(RequestView {
        status: req.status_at(now).as_str(),
        id: req.id,
        profile: req.profile,
        requester: req.requester_arn,
        reason: req.reason,
        duration_seconds: u32::try_from(req.duration_seconds).unwrap_or(0),
        created_at: rfc3339(req.created_at),
        expires_at: rfc3339(req.expires_at),
        approvals,
        grant_expires_at: req.grant_expires_at.map(rfc3339),
    })
}

pub(super) async fn load_view(
    tx: &mut Transaction<'static, Any>,
    id: &str,
    now: i64,
) -> Result<RequestView, sqlx::Error> {
    let req = fetch(tx, id).await?.ok_or(sqlx::Error::RowNotFound)?;
    view_of(tx, req, now).await
}
