//! Break-glass records (DESIGN §12): written before a vend under a
//! `break_glass` rule, and always notified.
//!
//! Invariants: only people use break-glass; the record, its audit row and
//! its `break_glass.used` outbox rows are one transaction, committed before
//! the vend reaches STS (so no break-glass credentials exist without their
//! record and notification). Who may see which records: `break_glass_list`.

use super::error::ApprovalError;
use super::notify::break_glass_text;
use super::service::Approvals;
use super::view::{rfc3339, BreakGlassView};
use super::Actor;
use crate::audit::{self, AuditEvent};
use crate::database::new_id;
use crate::identity::RequestId;

impl Approvals {
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
        let mut tx = self.db.begin().await.map_err(|e| self.db_err(e))?;
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
        let keys = self.keys_of(actor.arn(), actor.user_id());
        let logged = audit::record_event(
            &mut tx,
            AuditEvent::new("break_glass", now, http)
                .actor(actor.arn(), keys.clone())
                .subject(&id, keys)
                .profile(profile)
                .detail(reason),
        )
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
        let text = break_glass_text(actor.arn(), profile, duration_seconds, reason);
        self.webhooks
            .enqueue(&mut tx, "break_glass.used", &text, &record, now)
            .await
            .map_err(|e| self.db_err(e))?;
        tx.commit().await.map_err(|e| self.db_err(e))?;
        logged.emit();
        Ok(id)
    }
}
