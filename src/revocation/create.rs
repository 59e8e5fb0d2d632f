//! Creating revocations (DESIGN §13, "Revocation kinds"): `session` and
//! `grant` (by their owner or an admin), `credentials` and `person` (admins
//! only; `person` in `person.rs`), each one object with an audit row and a
//! webhook, written in one transaction with its blocks and the version bump.
//!
//! Invariants: the reason is 1..=[`MAX_REASON_CHARS`] characters, checked
//! before the database is touched; a session or grant the caller may not see
//! is 404 exactly like an unknown one; a self-service revocation (the
//! owner's own) sends `session.ended`, any other `revocation.created`; a dry
//! run rolls its transaction back and stores nothing.

use std::collections::BTreeSet;

use sqlx::{Any, Row as _, Transaction};

use super::blocks::{CALLER_KEY, IAM_USER};
use super::error::RevocationError;
use super::service::{Caller, Revocations};
use super::store::{block, bump, load_view, revoke_sessions, sessions_where, Draft};
use super::view::{advice, RevocationView};
use super::TEMPORARY_KEY_SECONDS;
use crate::approvals::WebhookText;
use crate::audit::{self, AuditEvent};
use crate::database::{is_id, new_id};
use crate::identity::{exact_key, RequestId};
use crate::policy::MAX_REASON_CHARS;

/// Checks a reason's length.
pub(super) fn check_reason(reason: &str) -> Result<(), RevocationError> {
    let n = reason.chars().count();
    if n == 0 || n > MAX_REASON_CHARS as usize {
        return Err(RevocationError::Invalid(
            "reason must be 1 to 1000 characters",
        ));
    }
    Ok(())
}

/// Whether `key` has the shape of an AWS access key id (`AKIA`/`ASIA` and 16
/// upper-case letters or digits).
pub fn is_access_key_id(key: &str) -> bool {
    key.len() == 20
        && (key.starts_with("AKIA") || key.starts_with("ASIA"))
        && key
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

impl Revocations {
    pub(super) fn draft(
        &self,
        caller: &Caller,
        kind: &'static str,
        target_type: &'static str,
        target: &str,
        reason: &str,
        http: &RequestId,
    ) -> Draft {
        Draft {
            id: new_id(),
            kind,
            target_type,
            target: target.to_owned(),
            reason: reason.to_owned(),
            by_arn: caller.identity.arn().as_str().to_owned(),
            by_user_id: caller.user_id.clone(),
            self_service: false,
            suspends: false,
            suspended_until: None,
            created_at: self.now(),
            request_id: http.as_str().to_owned(),
            subject: None,
        }
    }

    /// Writes the version bump, its audit row and its
    /// webhook, commits, applies the blocks here at once, and answers with
    /// the stored object.
    pub(super) async fn commit(
        &self,
        mut tx: Transaction<'static, Any>,
        draft: &Draft,
        roles: &BTreeSet<String>,
        http: &RequestId,
    ) -> Result<RevocationView, RevocationError> {
        let now = draft.created_at;
        bump(&mut tx, roles, now)
            .await
            .map_err(|e| self.db_err(e))?;
        let event = if draft.self_service {
            "session.ended"
        } else {
            "revocation.created"
        };
        let action = match draft.kind {
            "session" => "session.revoked",
            _ => "revocation.created",
        };
        let subject_keys = draft
            .subject
            .as_ref()
            .and_then(|(arn, user_id)| self.keys_of(arn, user_id));
        let logged = audit::record_event(
            &mut tx,
            AuditEvent::new(action, now, http)
                .actor(
                    &draft.by_arn,
                    self.keys_of(&draft.by_arn, &draft.by_user_id),
                )
                .subject(&draft.id, subject_keys)
                .detail(&format!(
                    "{} {}: {}",
                    draft.target_type, draft.target, draft.reason
                )),
        )
        .await
        .map_err(|e| self.db_err(e))?;
        let (view, _) = load_view(&mut tx, &draft.id)
            .await
            .map_err(|e| self.db_err(e))?
            .ok_or(RevocationError::NotFound)?;
        let text = WebhookText::new()
            .field(&draft.by_arn)
            .word(" revoked ")
            .field(draft.kind)
            .word(" ")
            .field(&draft.target)
            .word(": ")
            .field(&draft.reason)
            .word(" (")
            .field(&draft.id)
            .word(")");
        self.webhooks
            .enqueue(&mut tx, event, &text, &view, now)
            .await
            .map_err(|e| self.db_err(e))?;
        tx.commit().await.map_err(|e| self.db_err(e))?;
        logged.emit();
        self.metrics.revocation.created(draft.kind);
        self.apply_now().await;
        tracing::info!(
            revocation_id = %draft.id, kind = draft.kind, by = %draft.by_arn,
            sessions = view.sessions.len(), "revocation created"
        );
        Ok(view)
    }

    /// `POST /sessions/{id}/revoke`: the owner or an admin.
    pub async fn revoke_session(
        &self,
        caller: &Caller,
        session_id: &str,
        reason: &str,
        http: &RequestId,
    ) -> Result<RevocationView, RevocationError> {
        check_reason(reason)?;
        if !is_access_key_id(session_id) {
            return Err(RevocationError::NotFound);
        }
        let mut tx = self.db.begin().await.map_err(|e| self.db_err(e))?;
        let row = sessions_where(&mut tx, "access_key_id = $1", session_id)
            .await
            .map_err(|e| self.db_err(e))?
            .pop()
            .ok_or(RevocationError::NotFound)?;
        let own = self
            .owner_of(&row.caller_arn, &row.caller_user_id)
            .as_deref()
            == Some(caller.owner.as_str());
        if !own && !caller.admin {
            return Err(RevocationError::NotFound);
        }
        let mut draft = self.draft(caller, "session", "SessionId", session_id, reason, http);
        draft.self_service = own;
        draft.subject = Some((row.caller_arn.clone(), row.caller_user_id.clone()));
        let now = draft.created_at;
        draft.insert(&mut tx).await.map_err(|e| self.db_err(e))?;
        let mut roles = BTreeSet::new();
        let done = revoke_sessions(&mut tx, &draft.id, &[row], now, &mut roles)
            .await
            .map_err(|e| self.db_err(e))?;
        if done.is_empty() {
            return Err(RevocationError::Conflict("the session is not live"));
        }
        self.commit(tx, &draft, &roles, http).await
    }

    /// `POST /requests/{id}/revoke`: the requester or an admin; an approved,
    /// unexpired grant only.
    pub async fn revoke_grant(
        &self,
        caller: &Caller,
        grant_id: &str,
        reason: &str,
        http: &RequestId,
    ) -> Result<RevocationView, RevocationError> {
        check_reason(reason)?;
        if !is_id(grant_id) {
            return Err(RevocationError::NotFound);
        }
        let mut tx = self.db.begin().await.map_err(|e| self.db_err(e))?;
        let row = sqlx::query(
            "SELECT status, requester_arn, requester_user_id, grant_expires_at, profile \
             FROM approval_requests WHERE id = $1",
        )
        .bind(grant_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| self.db_err(e))?
        .ok_or(RevocationError::NotFound)?;
        let (status, arn, user_id, grant_end, profile): (
            String,
            String,
            String,
            Option<i64>,
            String,
        ) = (|| {
            Ok::<_, sqlx::Error>((
                row.try_get(0)?,
                row.try_get(1)?,
                row.try_get(2)?,
                row.try_get(3)?,
                row.try_get(4)?,
            ))
        })()
        .map_err(|e| self.db_err(e))?;
        let own = self.owner_of(&arn, &user_id).as_deref() == Some(caller.owner.as_str());
        if !own && !caller.admin {
            return Err(RevocationError::NotFound);
        }
        let mut draft = self.draft(caller, "grant", "GrantId", grant_id, reason, http);
        draft.self_service = own;
        let now = draft.created_at;
        if status != "approved" || grant_end.is_none_or(|end| end <= now) {
            return Err(RevocationError::Conflict(
                "not an approved, unexpired grant",
            ));
        }
        let changed = sqlx::query(
            "UPDATE approval_requests SET status = 'revoked', revocation_id = $1, \
             version = version + 1 WHERE id = $2 AND status = 'approved'",
        )
        .bind(&draft.id)
        .bind(grant_id)
        .execute(&mut *tx)
        .await
        .map_err(|e| self.db_err(e))?;
        if changed.rows_affected() != 1 {
            return Err(RevocationError::Conflict(
                "not an approved, unexpired grant",
            ));
        }
        draft.insert(&mut tx).await.map_err(|e| self.db_err(e))?;
        draft.subject = Some((arn.clone(), user_id.clone()));
        // The grant's own trail (its request page) shows the end too.
        let trail = audit::record_event(
            &mut tx,
            AuditEvent::new("revoked", now, http)
                .actor(
                    &draft.by_arn,
                    self.keys_of(&draft.by_arn, &draft.by_user_id),
                )
                .subject(grant_id, self.keys_of(&arn, &user_id))
                .profile(&profile)
                .detail(reason),
        )
        .await
        .map_err(|e| self.db_err(e))?;
        let mut roles = BTreeSet::new();
        if let Some(p) = self.policy.current().profile(&profile) {
            roles.insert(p.role_arn.clone());
        }
        let rows = sessions_where(&mut tx, "grant_id = $1", grant_id)
            .await
            .map_err(|e| self.db_err(e))?;
        revoke_sessions(&mut tx, &draft.id, &rows, now, &mut roles)
            .await
            .map_err(|e| self.db_err(e))?;
        let view = self.commit(tx, &draft, &roles, http).await?;
        trail.emit();
        Ok(view)
    }

    /// `POST /revocations {"target": {"CallerAccessKeyId"}}`: admins only.
    pub async fn revoke_credentials(
        &self,
        caller: &Caller,
        key: &str,
        reason: &str,
        dry_run: bool,
        http: &RequestId,
    ) -> Result<RevocationView, RevocationError> {
        check_reason(reason)?;
        if !caller.admin {
            return Err(RevocationError::Denied("admins only"));
        }
        if !is_access_key_id(key) {
            return Err(RevocationError::Invalid(
                "CallerAccessKeyId must be an AKIA… or ASIA… access key id",
            ));
        }
        let draft = self.draft(
            caller,
            "credentials",
            "CallerAccessKeyId",
            key,
            reason,
            http,
        );
        let now = draft.created_at;
        let mut tx = self.db.begin().await.map_err(|e| self.db_err(e))?;
        let rows = sessions_where(&mut tx, "caller_access_key_id = $1", key)
            .await
            .map_err(|e| self.db_err(e))?;
        if dry_run {
            let live = rows.iter().filter(|s| s.is_live(now)).map(|s| s.id.clone());
            let mut view = draft.view(live.collect(), vec![key.to_owned()]);
            view.id = String::new();
            view.advice = advice(key);
            return Ok(view);
        }
        draft.insert(&mut tx).await.map_err(|e| self.db_err(e))?;
        let mut roles = BTreeSet::new();
        revoke_sessions(&mut tx, &draft.id, &rows, now, &mut roles)
            .await
            .map_err(|e| self.db_err(e))?;
        let long_term = key.starts_with("AKIA");
        let until = (!long_term).then_some(now + TEMPORARY_KEY_SECONDS);
        block(&mut tx, &draft.id, CALLER_KEY, key, until, true)
            .await
            .map_err(|e| self.db_err(e))?;
        if long_term {
            // Anyone holding the key can mint ASIA… keys of its IAM user.
            let users: BTreeSet<String> = rows
                .iter()
                .filter(|s| s.caller_arn.contains(":user/"))
                .map(|s| exact_key(&s.caller_arn, &s.caller_user_id))
                .collect();
            for u in &users {
                block(&mut tx, &draft.id, IAM_USER, u, None, true)
                    .await
                    .map_err(|e| self.db_err(e))?;
            }
        }
        self.commit(tx, &draft, &roles, http).await
    }
}
