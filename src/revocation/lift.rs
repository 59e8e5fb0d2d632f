//! Lifting a revocation (DESIGN §13): `POST /revocations/{id}/lift` by an
//! admin, and `tvm revocations lift --config F ID` on the database directly
//! (recovery when no admin is left).
//!
//! Invariants: a lift ends only what is `liftable` — a suspension, or the
//! key (and IAM user) a `credentials` revocation named; revoked sessions and
//! grants, their vended keys and the keys a `person` revocation collected
//! stay revoked; nobody lifts one that targets themselves (their identity,
//! or the role their session belongs to): 403; nothing left to lift is 409;
//! the lift, its audit row, its `revocation.lifted` webhook and the version
//! bump are one transaction.

use std::collections::BTreeSet;

use sqlx::{Any, Row as _, Transaction};

use super::blocks::{CALLER_KEY, IAM_USER, IDENTITY};
use super::error::RevocationError;
use super::service::{Caller, Revocations};
use super::store::{bump, load_view, sessions_where};
use super::view::RevocationView;
use crate::approvals::{WebhookText, Webhooks};
use crate::audit::{self, AuditEvent};
use crate::database::{is_id, Database};
use crate::identity::{exact_key, OwnerKeys, RequestId};

/// Who an offline lift is recorded as.
pub const OFFLINE_LIFTER: &str = "tvm revocations lift (offline)";

/// The identity keys a revocation's liftable blocks stand for (to refuse a
/// lift of one's own).
async fn targeted_keys(
    tx: &mut Transaction<'static, Any>,
    id: &str,
    now: i64,
) -> Result<(BTreeSet<String>, usize), sqlx::Error> {
    let rows = sqlx::query(
        "SELECT block_type, value FROM revocation_blocks WHERE revocation_id = $1 \
         AND liftable = 1 AND lifted_at IS NULL AND (expires_at IS NULL OR expires_at > $2)",
    )
    .bind(id)
    .bind(now)
    .fetch_all(&mut **tx)
    .await?;
    let mut keys = BTreeSet::new();
    for r in &rows {
        let (kind, value): (String, String) = (r.try_get(0)?, r.try_get(1)?);
        match kind.as_str() {
            IDENTITY | IAM_USER => {
                keys.insert(value);
            }
            CALLER_KEY => {
                for s in sessions_where(tx, "caller_access_key_id = $1", &value).await? {
                    keys.insert(exact_key(&s.caller_arn, &s.caller_user_id));
                }
            }
            _ => {}
        }
    }
    Ok((keys, rows.len()))
}

/// Lifts `id` in `tx` as `by`: 404 unknown, 409 nothing left.
async fn lift_in(
    tx: &mut Transaction<'static, Any>,
    webhooks: &Webhooks,
    id: &str,
    by: (&str, Option<OwnerKeys>),
    reason: &str,
    http: &RequestId,
    now: i64,
) -> Result<(RevocationView, audit::Logged), sqlx::Error> {
    let (by, by_keys) = by;
    sqlx::query(
        "UPDATE revocation_blocks SET lifted_at = $1 WHERE revocation_id = $2 AND liftable = 1 \
         AND lifted_at IS NULL",
    )
    .bind(now)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "UPDATE revocations SET lifted_at = $1, lifted_by = $2, lift_reason = $3 WHERE id = $4",
    )
    .bind(now)
    .bind(by)
    .bind(reason)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    bump(tx, &BTreeSet::new(), now).await?;
    let logged = audit::record_event(
        tx,
        AuditEvent::new("revocation.lifted", now, http)
            .actor(by, by_keys)
            .subject(id, None)
            .detail(reason),
    )
    .await?;
    let (view, _) = load_view(tx, id).await?.ok_or(sqlx::Error::RowNotFound)?;
    let text = WebhookText::new()
        .field(by)
        .word(" lifted revocation ")
        .field(id)
        .word(": ")
        .field(reason);
    webhooks
        .enqueue(tx, "revocation.lifted", &text, &view, now)
        .await?;
    Ok((view, logged))
}

impl Revocations {
    /// `POST /revocations/{id}/lift`: admins only, never one's own.
    pub async fn lift(
        &self,
        caller: &Caller,
        id: &str,
        reason: &str,
        http: &RequestId,
    ) -> Result<RevocationView, RevocationError> {
        super::create::check_reason(reason)?;
        if !caller.admin {
            // Not an admin: a revocation it may see (its own) is 403, any
            // other is as unknown.
            return match self.get(caller, id).await {
                Ok(_) => Err(RevocationError::Denied("admins only")),
                Err(e) => Err(e),
            };
        }
        if !is_id(id) {
            return Err(RevocationError::NotFound);
        }
        let now = self.now();
        let mut tx = self.db.begin().await.map_err(|e| self.db_err(e))?;
        let exists = sqlx::query("SELECT lifted_at FROM revocations WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| self.db_err(e))?
            .ok_or(RevocationError::NotFound)?;
        let (targets, left) = targeted_keys(&mut tx, id, now)
            .await
            .map_err(|e| self.db_err(e))?;
        if caller.keys.iter().any(|k| targets.contains(k)) {
            return Err(RevocationError::Denied(
                "a revocation that targets yourself",
            ));
        }
        let lifted: Option<i64> = exists.try_get(0).map_err(|e| self.db_err(e))?;
        if lifted.is_some() || left == 0 {
            return Err(RevocationError::Conflict("nothing left to lift"));
        }
        let by = caller.identity.arn().as_str();
        let keys = self.keys_of(by, &caller.user_id);
        let (view, logged) = lift_in(&mut tx, &self.webhooks, id, (by, keys), reason, http, now)
            .await
            .map_err(|e| self.db_err(e))?;
        tx.commit().await.map_err(|e| self.db_err(e))?;
        logged.emit();
        self.apply_now().await;
        tracing::info!(revocation_id = %id, by = %by, "revocation lifted");
        Ok(view.redact(true))
    }
}

/// `tvm revocations lift --config F ID --reason T`: lifts on the database
/// directly (no admin needed: whoever can read the config and reach the
/// database already holds everything). Replicas pick it up on their next
/// poll. Errors: unknown (`NotFound`), nothing left (`Conflict`).
pub async fn lift_offline(
    db: &Database,
    webhooks: &Webhooks,
    id: &str,
    reason: &str,
    now: i64,
) -> Result<RevocationView, RevocationError> {
    super::create::check_reason(reason)?;
    if !is_id(id) {
        return Err(RevocationError::NotFound);
    }
    let mut tx = db.begin().await?;
    let row = sqlx::query("SELECT lifted_at FROM revocations WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(RevocationError::NotFound)?;
    let lifted: Option<i64> = row.try_get(0)?;
    let (_, left) = targeted_keys(&mut tx, id, now).await?;
    if lifted.is_some() || left == 0 {
        return Err(RevocationError::Conflict("nothing left to lift"));
    }
    let http = RequestId::generate();
    let (view, logged) = lift_in(
        &mut tx,
        webhooks,
        id,
        (OFFLINE_LIFTER, None),
        reason,
        &http,
        now,
    )
    .await?;
    tx.commit().await?;
    logged.emit();
    Ok(view)
}
