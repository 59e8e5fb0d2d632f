//! The vend side of approvals: a grant serving a vend, the vends listed with
//! their grant, break-glass records, and the audit trail read back.
//!
//! Invariants: a grant serves only its requester (same STS ARN and `UserId`)
//! for its profile, only while approved, its rule unchanged (name and digest)
//! and at least [`MIN_GRANT_LEFT_SECONDS`] left; a break-glass record and its
//! `break_glass.used` outbox rows are written in one transaction before the
//! vend.

use sqlx::Row;

use super::service::{audit, fetch, ApprovalError, Approvals, LiveGrant};
use super::view::{rfc3339, BreakGlassView, Status};
use super::webhook::WebhookText;
use super::{is_id, new_id, Actor, MIN_GRANT_LEFT_SECONDS};
use crate::identity::RequestId;
use crate::policy::Rule;

impl Approvals {
    /// The grant `approval_id` for a vend of `profile` by `actor` under `rule`
    /// (the first `require_approval` rule the vend met), with the session
    /// length to vend: `requested`, or the request's duration, never past the
    /// grant's end.
    pub async fn grant_for_vend(
        &self,
        actor: &Actor,
        approval_id: &str,
        profile: &str,
        rule: &Rule,
        requested: Option<u32>,
    ) -> Result<LiveGrant, ApprovalError> {
        if !is_id(approval_id) {
            return Err(ApprovalError::Denied);
        }
        let mut conn = self.db.pool.acquire().await.map_err(|e| self.db_err(e))?;
        let req = fetch(&mut conn, approval_id)
            .await
            .map_err(|e| self.db_err(e))?
            .filter(|r| r.requester_arn == actor.arn() && r.requester_user_id == actor.user_id())
            .filter(|r| r.profile == profile)
            .ok_or(ApprovalError::Denied)?;
        let now = self.now();
        if req.status_at(now) != Status::Approved {
            return Err(ApprovalError::Denied);
        }
        if req.rule_name != rule.name() || req.rule_digest != rule.digest() {
            return Err(ApprovalError::ApprovalRequired);
        }
        let left = req.grant_expires_at.unwrap_or(0) - now;
        if left < MIN_GRANT_LEFT_SECONDS {
            return Err(ApprovalError::ApprovalRequired);
        }
        let cap = req.duration_seconds.min(left);
        let duration = match requested {
            None => cap,
            Some(d) if i64::from(d) <= cap => i64::from(d),
            Some(_) => {
                return Err(ApprovalError::Duration(format!(
                    "duration_seconds must be at most {cap} under this grant"
                )))
            }
        };
        Ok(LiveGrant {
            id: req.id,
            duration_seconds: u32::try_from(duration).unwrap_or(u32::MAX),
        })
    }

    /// Lists a vend under a grant or break-glass record with it; the audit
    /// row names the caller (`caller_arn`, the STS ARN that got the
    /// credentials).
    pub async fn record_vend(
        &self,
        grant_id: &str,
        caller_arn: &str,
        http: &RequestId,
        source_identity: &str,
        duration_seconds: u32,
    ) -> Result<(), ApprovalError> {
        let now = self.now();
        let mut tx = self.db.pool.begin().await.map_err(|e| self.db_err(e))?;
        sqlx::query(
            "INSERT INTO grant_vends (grant_id, http_request_id, source_identity, \
             duration_seconds, at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(grant_id)
        .bind(http.as_str())
        .bind(source_identity)
        .bind(i64::from(duration_seconds))
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| self.db_err(e))?;
        audit(
            &mut tx,
            grant_id,
            "vended",
            caller_arn,
            source_identity,
            http,
            now,
        )
        .await
        .map_err(|e| self.db_err(e))?;
        tx.commit().await.map_err(|e| self.db_err(e))
    }

    /// Writes a break-glass record (and its `break_glass.used` outbox rows)
    /// before the vend; returns its id.
    pub async fn break_glass(
        &self,
        actor: &Actor,
        profile: &str,
        rule: &str,
        reason: &str,
        duration_seconds: u32,
        http: &RequestId,
    ) -> Result<String, ApprovalError> {
        if !actor.is_person() {
            return Err(ApprovalError::Denied);
        }
        let now = self.now();
        let id = new_id();
        let mut tx = self.db.pool.begin().await.map_err(|e| self.db_err(e))?;
        sqlx::query(
            "INSERT INTO break_glass_records (id, profile, rule_name, caller_arn, \
             caller_user_id, reason, duration_seconds, http_request_id, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&id)
        .bind(profile)
        .bind(rule)
        .bind(actor.arn())
        .bind(actor.user_id())
        .bind(reason)
        .bind(i64::from(duration_seconds))
        .bind(http.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| self.db_err(e))?;
        audit(&mut tx, &id, "break_glass", actor.arn(), reason, http, now)
            .await
            .map_err(|e| self.db_err(e))?;
        let record = BreakGlassView {
            id: id.clone(),
            profile: profile.to_owned(),
            caller: actor.arn().to_owned(),
            reason: reason.to_owned(),
            duration_seconds,
            request_id: http.as_str().to_owned(),
            at: rfc3339(now),
        };
        let text = WebhookText::new()
            .word("BREAK-GLASS: ")
            .field(actor.arn())
            .word(" took ")
            .field(profile)
            .word(" for ")
            .field(&duration_seconds.to_string())
            .word("s: ")
            .field(reason);
        self.webhooks
            .enqueue(&mut tx, "break_glass.used", &text, &record, now)
            .await
            .map_err(|e| self.db_err(e))?;
        tx.commit().await.map_err(|e| self.db_err(e))?;
        Ok(id)
    }

    /// The audit trail of a request or record in the order it was written
    /// (the monotonic `seq`, so rows of one second keep their order): (action,
    /// actor ARN, HTTP request id, unix seconds).
    pub async fn audit_trail(
        &self,
        subject: &str,
    ) -> Result<Vec<(String, String, String, i64)>, ApprovalError> {
        let rows = sqlx::query(
            "SELECT action, actor_arn, http_request_id, at FROM approval_audit \
             WHERE subject_id = $1 ORDER BY seq",
        )
        .bind(subject)
        .fetch_all(&self.db.pool)
        .await
        .map_err(|e| self.db_err(e))?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(|e| self.db_err(e))
    }

    /// The vends made under a grant or record: (HTTP request id, SourceIdentity).
    pub async fn vends_of(&self, grant_id: &str) -> Result<Vec<(String, String)>, ApprovalError> {
        let rows = sqlx::query(
            "SELECT http_request_id, source_identity FROM grant_vends WHERE grant_id = $1 ORDER BY at",
        )
        .bind(grant_id)
        .fetch_all(&self.db.pool)
        .await
        .map_err(|e| self.db_err(e))?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(|e| self.db_err(e))
    }
}
