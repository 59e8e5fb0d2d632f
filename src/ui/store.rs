//! Sign-in codes and sessions of the web page, in the approvals database
//! (migration `0002_ui_sign_in.sql`), so any replica honours them; and the
//! ids of the grants in force (who sees which break-glass uses is the
//! approvals service's call).
//!
//! Invariants: only digests of codes and session ids are stored
//! ([`super::guard::digest`]); a code is spent by one `DELETE … RETURNING`, so
//! of two concurrent sign-ins (or two replicas) exactly one gets it, and an
//! expired code is deleted and refused the same way; a session is honoured
//! only before its expiry; expired rows are purged as sign-ins happen; a
//! session starts and ends (sign-out) in one transaction with its audit
//! event (DESIGN §13: every change writes one), whose log line the caller
//! emits after the commit.

use sqlx::AnyPool;
use sqlx::Row as _;

use crate::audit::{record_event, AuditEvent, Logged};
use crate::database::Database;

/// The identity a code or session was made for (STS ARN and `UserId`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The STS ARN GetCallerIdentity returned.
    pub arn: String,
    /// The `UserId` it returned.
    pub user_id: String,
    /// The access key that signed the sign-in proof (DESIGN §13: a blocked
    /// caller key ends the page sessions it opened). `None` for a session
    /// stored before migration 0006.
    pub access_key_id: Option<String>,
}

/// Most grants in force listed.
const MAX_GRANTS_LISTED: i64 = 100;

/// The web page's tables.
#[derive(Debug, Clone)]
pub struct UiStore {
    db: Database,
    pool: AnyPool,
}

impl UiStore {
    /// Uses the approvals database (migrated already).
    pub fn new(db: Database) -> Self {
        Self {
            pool: db.pool.clone(),
            db,
        }
    }

    /// Stores a code (its digest) for `who`, landing on `next`, until `expires_at`.
    pub async fn put_code(
        &self,
        code_digest: &str,
        who: &Principal,
        next: &str,
        expires_at: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO ui_login_codes (code_digest, arn, user_id, next_path, expires_at, \
             caller_access_key_id) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(code_digest)
        .bind(&who.arn)
        .bind(&who.user_id)
        .bind(next)
        .bind(expires_at)
        .bind(&who.access_key_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Spends a code: removes it and returns whom it was for and where to go,
    /// if it existed and had not expired at `now`.
    pub async fn take_code(
        &self,
        code_digest: &str,
        now: i64,
    ) -> Result<Option<(Principal, String)>, sqlx::Error> {
        let row = sqlx::query(
            "DELETE FROM ui_login_codes WHERE code_digest = $1 \
             RETURNING arn, user_id, next_path, expires_at, caller_access_key_id",
        )
        .bind(code_digest)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let expires_at: i64 = row.try_get(3)?;
        if now >= expires_at {
            return Ok(None);
        }
        Ok(Some((
            Principal {
                arn: row.try_get(0)?,
                user_id: row.try_get(1)?,
                access_key_id: row.try_get(4)?,
            },
            row.try_get(2)?,
        )))
    }

    /// Stores a session (its digest) for `who`, from `now` until
    /// `expires_at`, with its audit event `event`.
    pub async fn put_session(
        &self,
        session_digest: &str,
        who: &Principal,
        now: i64,
        expires_at: i64,
        event: AuditEvent,
    ) -> Result<Logged, sqlx::Error> {
        let mut tx = self.db.begin().await?;
        sqlx::query(
            "INSERT INTO ui_sessions (session_digest, arn, user_id, created_at, expires_at, \
             caller_access_key_id) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(session_digest)
        .bind(&who.arn)
        .bind(&who.user_id)
        .bind(now)
        .bind(expires_at)
        .bind(&who.access_key_id)
        .execute(&mut *tx)
        .await?;
        let logged = record_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(logged)
    }

    /// Whom a live session belongs to.
    pub async fn session(
        &self,
        session_digest: &str,
        now: i64,
    ) -> Result<Option<Principal>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT arn, user_id, caller_access_key_id FROM ui_sessions \
             WHERE session_digest = $1 AND expires_at > $2",
        )
        .bind(session_digest)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(Principal {
                arn: r.try_get(0)?,
                user_id: r.try_get(1)?,
                access_key_id: r.try_get(2)?,
            })
        })
        .transpose()
    }

    /// Ends a session (sign-out) with the audit event `event` makes of
    /// whose it was; `None` when it was gone already (nothing written).
    pub async fn end_session(
        &self,
        session_digest: &str,
        event: impl FnOnce(&Principal) -> AuditEvent,
    ) -> Result<Option<Logged>, sqlx::Error> {
        let mut tx = self.db.begin().await?;
        let row = sqlx::query(
            "DELETE FROM ui_sessions WHERE session_digest = $1 \
             RETURNING arn, user_id, caller_access_key_id",
        )
        .bind(session_digest)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let who = Principal {
            arn: row.try_get(0)?,
            user_id: row.try_get(1)?,
            access_key_id: row.try_get(2)?,
        };
        let logged = record_event(&mut tx, event(&who)).await?;
        tx.commit().await?;
        Ok(Some(logged))
    }

    /// Deletes codes and sessions expired at `now`.
    pub async fn purge(&self, now: i64) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM ui_login_codes WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await?;
        sqlx::query("DELETE FROM ui_sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Ids of approved requests whose grant is still live at `now`, soonest
    /// to end first (who may see each is the approvals service's call).
    pub async fn live_grant_ids(&self, now: i64) -> Result<Vec<String>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id FROM approval_requests WHERE status = 'approved' AND grant_expires_at > $1 \
             ORDER BY grant_expires_at LIMIT $2",
        )
        .bind(now)
        .bind(MAX_GRANTS_LISTED)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| r.try_get(0)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::guard::{digest, new_secret};

    async fn store() -> UiStore {
        let db = crate::approvals::connect("sqlite::memory:").await.unwrap();
        UiStore::new(db)
    }

    fn alice() -> Principal {
        Principal {
            arn: "arn:aws:iam::111122223333:user/alice".into(),
            user_id: "AIDAALICE".into(),
            access_key_id: Some("AKIAALICEALICEALICE1".into()),
        }
    }

    #[tokio::test]
    async fn a_code_is_spent_once_and_never_after_it_expires() {
        let s = store().await;
        let (code, other) = (digest("code", &new_secret()), digest("code", &new_secret()));
        s.put_code(&code, &alice(), "/ui/", 1_060).await.unwrap();
        s.put_code(&other, &alice(), "/ui/x", 1_060).await.unwrap();
        assert_eq!(
            s.take_code(&code, 1_059).await.unwrap(),
            Some((alice(), "/ui/".into()))
        );
        assert_eq!(s.take_code(&code, 1_059).await.unwrap(), None, "single use");
        assert_eq!(
            s.take_code(&other, 1_060).await.unwrap(),
            None,
            "60 s, not 61"
        );
        assert_eq!(
            s.take_code(&other, 1_000).await.unwrap(),
            None,
            "spent by the refusal"
        );
    }

    #[tokio::test]
    async fn sessions_live_until_expiry_or_logout() {
        let s = store().await;
        let (a, b) = (
            digest("session", &new_secret()),
            digest("session", &new_secret()),
        );
        let http = crate::identity::RequestId::generate();
        let event = |name: &str| AuditEvent::new(name, 1_000, &http).actor(&alice().arn, None);
        s.put_session(&a, &alice(), 1_000, 4_600, event("page.signed_in"))
            .await
            .unwrap()
            .emit();
        s.put_session(&b, &alice(), 1_000, 4_600, event("page.signed_in"))
            .await
            .unwrap()
            .emit();
        assert_eq!(s.session(&a, 4_599).await.unwrap(), Some(alice()));
        assert_eq!(s.session(&a, 4_600).await.unwrap(), None);
        let ended = s
            .end_session(&a, |who| {
                assert_eq!(who, &alice());
                event("page.signed_out")
            })
            .await
            .unwrap();
        assert_eq!(ended.unwrap().event().event, "page.signed_out");
        assert!(
            s.end_session(&a, |_| event("page.signed_out"))
                .await
                .unwrap()
                .is_none(),
            "an ended session writes nothing"
        );
        let events: Vec<String> = sqlx::query_scalar("SELECT event FROM audit_events ORDER BY seq")
            .fetch_all(&s.pool)
            .await
            .unwrap();
        assert_eq!(
            events,
            ["page.signed_in", "page.signed_in", "page.signed_out"]
        );
        assert_eq!(s.session(&a, 2_000).await.unwrap(), None);
        assert_eq!(s.session(&b, 2_000).await.unwrap(), Some(alice()));
        s.purge(4_600).await.unwrap();
        assert_eq!(s.session(&b, 2_000).await.unwrap(), None, "purged");
        assert!(s.live_grant_ids(0).await.unwrap().is_empty());
    }
}
