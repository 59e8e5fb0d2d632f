//! Decisions on a request (DESIGN §12): approve and deny.
//!
//! Invariants: only an eligible approver who is not the requester (the
//! same-person rule, see `eligibility`) decides; a transition happens only
//! from `pending`, by a conditional `UPDATE … WHERE status = 'pending'` taken
//! first in the transaction, so two approvers (or two replicas) never both
//! transition a request: the second waits for the row and then finds it no
//! longer pending (409); one person approves a request once, whichever of
//! their identities they use; the decision, its audit row and its outbox
//! rows are one transaction.

use sqlx::Row;

use super::error::ApprovalError;
use super::notify::view_text;
use super::service::Approvals;
use super::stored::{fetch, load_view};
use super::view::RequestView;
use super::webhook::WebhookText;
use super::{Actor, MAX_COMMENT_CHARS};
use crate::audit::{self, AuditEvent};
use crate::identity::RequestId;

impl Approvals {
    /// `POST /requests/{id}/approve`.
    pub async fn approve(
        &self,
        actor: &Actor,
        id: &str,
        comment: &str,
        http: &RequestId,
    ) -> Result<RequestView, ApprovalError> {
        self.decide(actor, id, comment, http, true).await
    }

    /// `POST /requests/{id}/deny`.
    pub async fn deny(
        &self,
        actor: &Actor,
        id: &str,
        comment: &str,
        http: &RequestId,
    ) -> Result<RequestView, ApprovalError> {
        self.decide(actor, id, comment, http, false).await
    }

    async fn decide(
        &self,
        actor: &Actor,
        id: &str,
        comment: &str,
        http: &RequestId,
        approve: bool,
    ) -> Result<RequestView, ApprovalError> {
        if comment.chars().count() > MAX_COMMENT_CHARS {
            return Err(ApprovalError::Invalid(
                "comment must be at most 1000 characters",
            ));
        }
        let policy = self.policy.current();
        let now = self.now();
        let mut tx = self.db.begin().await.map_err(|e| self.db_err(e))?;
        let req = fetch(&mut tx, id)
            .await
            .map_err(|e| self.db_err(e))?
            .filter(|r| self.may_see(&policy, actor, r))
            .ok_or(ApprovalError::NotFound)?;
        if !self.may_approve(&policy, actor, &req) {
            return Err(ApprovalError::Denied);
        }
        // Taken first: the row lock (Postgres) or the write lock (SQLite)
        // serialises concurrent deciders; the loser sees no pending row.
        let locked = sqlx::query(
            "UPDATE approval_requests SET version = version + 1 \
             WHERE id = $1 AND status = 'pending' AND expires_at > $2",
        )
        .bind(id)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| self.db_err(e))?;
        if locked.rows_affected() != 1 {
            self.metrics.approval_outcome("conflict");
            return Err(ApprovalError::Conflict);
        }
        let (action, event) = if approve {
            let prior = sqlx::query(
                "SELECT approver_canonical, approver_username FROM approval_approvals \
                 WHERE request_id = $1",
            )
            .bind(id)
            .fetch_all(&mut *tx)
            .await
            .map_err(|e| self.db_err(e))?;
            let mut count = 0i64;
            let mut already = false;
            for row in &prior {
                let (c, u): (String, String) = (
                    row.try_get(0).map_err(|e| self.db_err(e))?,
                    row.try_get(1).map_err(|e| self.db_err(e))?,
                );
                already |= actor.same_person(&c, &u);
                count += 1;
            }
            if !already {
                sqlx::query(
                    "INSERT INTO approval_approvals (request_id, approver_arn, \
                     approver_canonical, approver_username, comment, at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(id)
                .bind(actor.arn())
                .bind(actor.canonical())
                .bind(actor.username())
                .bind(comment)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(|e| self.db_err(e))?;
                count += 1;
            }
            if count >= req.approvals_needed {
                sqlx::query(
                    "UPDATE approval_requests SET status = 'approved', grant_expires_at = $2 \
                     WHERE id = $1 AND status = 'pending'",
                )
                .bind(id)
                .bind(now + req.grant_seconds)
                .execute(&mut *tx)
                .await
                .map_err(|e| self.db_err(e))?;
                ("approved", Some("request.approved"))
            } else {
                ("approval_added", None)
            }
        } else {
            sqlx::query(
                "UPDATE approval_requests SET status = 'denied' WHERE id = $1 AND status = 'pending'",
            )
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(|e| self.db_err(e))?;
            ("denied", Some("request.denied"))
        };
        let logged = audit::record_event(
            &mut tx,
            AuditEvent::new(action, now, http)
                .actor(actor.arn(), self.keys_of(actor.arn(), actor.user_id()))
                .subject(id, self.keys_of(&req.requester_arn, &req.requester_user_id))
                .profile(&req.profile)
                .detail(comment),
        )
        .await
        .map_err(|e| self.db_err(e))?;
        let view = load_view(&mut tx, id, now)
            .await
            .map_err(|e| self.db_err(e))?;
        if let Some(event) = event {
            let verb = if approve { " approved " } else { " denied " };
            let text = view_text(
                WebhookText::new().field(actor.arn()).word(verb),
                "request",
                &view,
            );
            self.webhooks
                .enqueue(&mut tx, event, &text, &view, now)
                .await
                .map_err(|e| self.db_err(e))?;
        }
        tx.commit().await.map_err(|e| self.db_err(e))?;
        logged.emit();
        self.metrics.approval_outcome(action);
        Ok(view)
    }
}
