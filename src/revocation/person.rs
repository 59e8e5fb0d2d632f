//! The `person` revocation (DESIGN §13): an identity suspended (until lifted
//! or for `suspend_seconds`), every caller key of its ledger rows of the last
//! 36 h blocked, its live sessions and grants revoked, its pending requests
//! denied, its web-page sessions ended, its approvals on still-pending
//! requests withdrawn; the answer lists the live grants it approved.
//!
//! Invariants: admins only; only this identity is touched (an SSO person by
//! name in `sso_accounts`, lowercase with the domain kept; a role by its
//! sessions; anything else by its exact ARN), never a colleague in the same
//! permission set; a dry run rolls back and stores nothing.

use std::collections::BTreeSet;

use sqlx::{Any, Row as _, Transaction};

use super::blocks::{CALLER_KEY, IDENTITY};
use super::error::RevocationError;
use super::keys::Person;
use super::service::{Caller, Revocations};
use super::store::{block, revoke_sessions, sessions_where};
use super::view::RevocationView;
use super::{MAX_SUSPEND_SECONDS, TEMPORARY_KEY_SECONDS};
use crate::identity::{AccountId, RequestId};

/// A `person` target as posted.
#[derive(Debug, Clone)]
pub enum PersonTarget {
    /// `{"Principal": ARN}`.
    Principal(String),
    /// `{"User": NAME}`.
    User(String),
}

/// Whether `arn` (a requester, approver or page session) is `person`.
fn owns_arn(person: &Person, arn: &str, sso: &[AccountId]) -> bool {
    match Person::principal(arn, sso) {
        Ok(Person::Sso(name)) => person.owns_row(arn, Some(&name)),
        _ => person.owns_row(arn, None),
    }
}

type Tx = Transaction<'static, Any>;

impl Revocations {
    /// `POST /revocations {"target": {"Principal"|"User"}}`: admins only.
    pub async fn revoke_person(
        &self,
        caller: &Caller,
        target: &PersonTarget,
        reason: &str,
        suspend_seconds: Option<i64>,
        dry_run: bool,
        http: &RequestId,
    ) -> Result<RevocationView, RevocationError> {
        super::create::check_reason(reason)?;
        if !caller.admin {
            return Err(RevocationError::Denied("admins only"));
        }
        if suspend_seconds.is_some_and(|s| !(1..=MAX_SUSPEND_SECONDS).contains(&s)) {
            return Err(RevocationError::Invalid(
                "suspend_seconds must be between 1 and 31622400",
            ));
        }
        let policy = self.policy.current();
        let sso = policy.sso_accounts();
        let (person, target_type, text) = match target {
            PersonTarget::Principal(arn) => (Person::principal(arn, sso), "Principal", arn),
            PersonTarget::User(name) => (Person::user(name), "User", name),
        };
        let person = person.map_err(RevocationError::Invalid)?;
        let mut draft = self.draft(caller, "person", target_type, text, reason, http);
        let now = draft.created_at;
        draft.suspends = true;
        draft.suspended_until = suspend_seconds.map(|s| now + s);
        let mut tx = self.db.begin().await.map_err(|e| self.db_err(e))?;
        let (condition, value) = person.row_filter();
        let rows: Vec<_> = sessions_where(&mut tx, condition, &value)
            .await
            .map_err(|e| self.db_err(e))?
            .into_iter()
            .filter(|s| person.owns_row(&s.caller_arn, s.sso_person.as_deref()))
            .collect();
        let recent = now - TEMPORARY_KEY_SECONDS;
        let keys: BTreeSet<String> = rows
            .iter()
            .filter(|s| s.created_at > recent)
            .map(|s| s.caller_access_key_id.clone())
            .collect();
        let approved = self
            .approved_grants(&mut tx, &person, sso, now)
            .await
            .map_err(|e| self.db_err(e))?;
        if dry_run {
            let live = rows.iter().filter(|s| s.is_live(now)).map(|s| s.id.clone());
            let mut view = draft.view(live.collect(), keys.into_iter().collect());
            view.id = String::new();
            view.approved_grants = approved;
            return Ok(view);
        }
        draft.insert(&mut tx).await.map_err(|e| self.db_err(e))?;
        let mut roles = BTreeSet::new();
        revoke_sessions(&mut tx, &draft.id, &rows, now, &mut roles)
            .await
            .map_err(|e| self.db_err(e))?;
        for k in &keys {
            // A long-term key stays blocked: only lifting a `credentials`
            // revocation naming it unblocks it.
            let until = (!k.starts_with("AKIA")).then_some(now + TEMPORARY_KEY_SECONDS);
            block(&mut tx, &draft.id, CALLER_KEY, k, until, false)
                .await
                .map_err(|e| self.db_err(e))?;
        }
        block(
            &mut tx,
            &draft.id,
            IDENTITY,
            &person.key(),
            draft.suspended_until,
            true,
        )
        .await
        .map_err(|e| self.db_err(e))?;
        self.end_requests_and_pages(&mut tx, &draft.id, &person, sso, now, &mut roles)
            .await
            .map_err(|e| self.db_err(e))?;
        let mut view = self.commit(tx, &draft, &roles, http).await?;
        view.approved_grants = approved;
        Ok(view)
    }

    /// Denies the person's pending requests, revokes its live grants (and
    /// their sessions), withdraws its approvals on pending requests, and ends
    /// its web-page sessions.
    async fn end_requests_and_pages(
        &self,
        tx: &mut Tx,
        revocation_id: &str,
        person: &Person,
        sso: &[AccountId],
        now: i64,
        roles: &mut BTreeSet<String>,
    ) -> Result<(), sqlx::Error> {
        let requests = sqlx::query(
            "SELECT id, status, requester_arn, grant_expires_at, profile FROM approval_requests \
             WHERE status IN ('pending', 'approved')",
        )
        .fetch_all(&mut **tx)
        .await?;
        for r in requests {
            let (id, status, arn, end, profile): (String, String, String, Option<i64>, String) = (
                r.try_get(0)?,
                r.try_get(1)?,
                r.try_get(2)?,
                r.try_get(3)?,
                r.try_get(4)?,
            );
            if !owns_arn(person, &arn, sso) {
                continue;
            }
            if status == "pending" {
                sqlx::query(
                    "UPDATE approval_requests SET status = 'denied', version = version + 1 \
                     WHERE id = $1 AND status = 'pending'",
                )
                .bind(&id)
                .execute(&mut **tx)
                .await?;
            } else if end.is_some_and(|e| e > now) {
                sqlx::query(
                    "UPDATE approval_requests SET status = 'revoked', revocation_id = $1, \
                     version = version + 1 WHERE id = $2 AND status = 'approved'",
                )
                .bind(revocation_id)
                .bind(&id)
                .execute(&mut **tx)
                .await?;
                if let Some(p) = self.policy.current().profile(&profile) {
                    roles.insert(p.role_arn.clone());
                }
                let rows = sessions_where(tx, "grant_id = $1", &id).await?;
                revoke_sessions(tx, revocation_id, &rows, now, roles).await?;
            }
        }
        let approvals = sqlx::query(
            "SELECT a.request_id, a.approver_arn, a.approver_canonical, a.approver_username \
             FROM approval_approvals a JOIN approval_requests r ON r.id = a.request_id \
             WHERE r.status = 'pending'",
        )
        .fetch_all(&mut **tx)
        .await?;
        for a in approvals {
            let (req, arn, canonical, username): (String, String, String, String) =
                (a.try_get(0)?, a.try_get(1)?, a.try_get(2)?, a.try_get(3)?);
            if owns_arn(person, &arn, sso) {
                sqlx::query(
                    "DELETE FROM approval_approvals WHERE request_id = $1 \
                     AND approver_canonical = $2 AND approver_username = $3",
                )
                .bind(&req)
                .bind(&canonical)
                .bind(&username)
                .execute(&mut **tx)
                .await?;
            }
        }
        let pages = sqlx::query("SELECT session_digest, arn FROM ui_sessions")
            .fetch_all(&mut **tx)
            .await?;
        for p in pages {
            let (digest, arn): (String, String) = (p.try_get(0)?, p.try_get(1)?);
            if owns_arn(person, &arn, sso) {
                sqlx::query("DELETE FROM ui_sessions WHERE session_digest = $1")
                    .bind(&digest)
                    .execute(&mut **tx)
                    .await?;
            }
        }
        Ok(())
    }

    /// The live grants `person` approved (for the responder to review).
    async fn approved_grants(
        &self,
        tx: &mut Tx,
        person: &Person,
        sso: &[AccountId],
        now: i64,
    ) -> Result<Vec<String>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT DISTINCT a.request_id, a.approver_arn FROM approval_approvals a \
             JOIN approval_requests r ON r.id = a.request_id \
             WHERE r.status = 'approved' AND r.grant_expires_at > $1 ORDER BY a.request_id",
        )
        .bind(now)
        .fetch_all(&mut **tx)
        .await?;
        let mut out = Vec::new();
        for r in rows {
            let (id, arn): (String, String) = (r.try_get(0)?, r.try_get(1)?);
            if owns_arn(person, &arn, sso) && !out.contains(&id) {
                out.push(id);
            }
        }
        Ok(out)
    }
}
