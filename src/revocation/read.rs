//! Reading sessions and revocations (DESIGN §13): `GET /sessions[/{id}]` and
//! `GET /revocations[/{id}]`, with the visibility rules.
//!
//! Invariants: a caller sees its own sessions (by [`crate::identity::OwnerKeys::owner`])
//! and the revocations it made; admins see everything; anything else is
//! [`RevocationError::NotFound`], exactly like an unknown id; a role's
//! `Policy` and `Error` reach admins only; lists are bounded by
//! [`MAX_LISTED`].

use sqlx::Row as _;

use super::create::is_access_key_id;
use super::error::RevocationError;
use super::service::{Caller, Revocations};
use super::store::{load_view, SessionRow, SESSION_COLUMNS};
use super::view::{RevocationView, SessionView};
use crate::database::is_id;

/// Most sessions or revocations one list returns.
pub const MAX_LISTED: i64 = 500;

/// Most revocations scanned for a non-admin's own (filtered by owner).
const MAX_SCANNED: i64 = 5_000;

/// Whose sessions `GET /sessions` lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionScope {
    /// The caller's own.
    Own,
    /// Everyone's (admins).
    All,
    /// One user's: an Identity Center person or a username (admins).
    User(String),
}

/// `GET /revocations?status=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationStatus {
    /// Not lifted.
    Active,
    /// Lifted.
    Lifted,
    /// Both.
    All,
}

impl RevocationStatus {
    /// Parses the query value.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "active" => Self::Active,
            "lifted" => Self::Lifted,
            "all" => Self::All,
            _ => return None,
        })
    }
}

impl Revocations {
    /// `GET /sessions/{id}`.
    pub async fn session(&self, caller: &Caller, id: &str) -> Result<SessionView, RevocationError> {
        if !is_access_key_id(id) {
            return Err(RevocationError::NotFound);
        }
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE access_key_id = $1 AND state = 'issued'"
        );
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.db.pool)
            .await
            .map_err(|e| self.db_err(e))?
            .ok_or(RevocationError::NotFound)?;
        let s = SessionRow::from_row(&row).map_err(|e| self.db_err(e))?;
        let own = self.owner_of(&s.caller_arn, &s.caller_user_id).as_deref()
            == Some(caller.owner.as_str());
        if !own && !caller.admin {
            return Err(RevocationError::NotFound);
        }
        Ok(s.view(self.now()))
    }

    /// `GET /sessions[?all=true|?user=NAME][&status=all]`: live sessions
    /// unless `include_ended`, newest first.
    pub async fn sessions(
        &self,
        caller: &Caller,
        scope: &SessionScope,
        include_ended: bool,
    ) -> Result<Vec<SessionView>, RevocationError> {
        if *scope != SessionScope::Own && !caller.admin {
            return Err(RevocationError::Denied("admins only"));
        }
        let now = self.now();
        let live = if include_ended {
            ""
        } else {
            " AND revocation_id IS NULL AND expires_at > $3"
        };
        let (condition, a, b) = match scope {
            SessionScope::All => ("$1 = $2".to_owned(), String::new(), String::new()),
            SessionScope::User(name) => (
                "(sso_person = $1 OR username = $2)".to_owned(),
                name.to_lowercase(),
                name.clone(),
            ),
            SessionScope::Own => match caller.owner.strip_prefix("sso ") {
                Some(name) => (
                    "sso_person = $1 AND $2 = $2".to_owned(),
                    name.to_owned(),
                    String::new(),
                ),
                None => (
                    "caller_arn = $1 AND caller_user_id = $2".to_owned(),
                    caller.identity.arn().as_str().to_owned(),
                    caller.user_id.clone(),
                ),
            },
        };
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE state = 'issued' \
             AND access_key_id IS NOT NULL AND {condition}{live} \
             ORDER BY created_at DESC, access_key_id LIMIT {MAX_LISTED}"
        );
        let mut q = sqlx::query(&sql).bind(a).bind(b);
        if !include_ended {
            q = q.bind(now);
        }
        let rows = q
            .fetch_all(&self.db.pool)
            .await
            .map_err(|e| self.db_err(e))?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let s = SessionRow::from_row(r).map_err(|e| self.db_err(e))?;
            out.push(s.view(now));
        }
        Ok(out)
    }

    /// `GET /revocations/{id}`: its `By` and admins.
    pub async fn get(&self, caller: &Caller, id: &str) -> Result<RevocationView, RevocationError> {
        if !is_id(id) {
            return Err(RevocationError::NotFound);
        }
        let mut conn = self.db.pool.acquire().await.map_err(|e| self.db_err(e))?;
        let (view, by_user_id) = load_view(&mut conn, id)
            .await
            .map_err(|e| self.db_err(e))?
            .ok_or(RevocationError::NotFound)?;
        let own = self.owner_of(&view.by, &by_user_id).as_deref() == Some(caller.owner.as_str());
        if !own && !caller.admin {
            return Err(RevocationError::NotFound);
        }
        // The IAM side reads on its own connection (SQLite has one).
        drop(conn);
        let view = self.with_roles(view).await.map_err(|e| self.db_err(e))?;
        Ok(view.redact(caller.admin))
    }

    /// `GET /revocations?status=`: the caller's own, everyone's for admins;
    /// newest first.
    pub async fn list(
        &self,
        caller: &Caller,
        status: RevocationStatus,
    ) -> Result<Vec<RevocationView>, RevocationError> {
        let filter = match status {
            RevocationStatus::Active => "WHERE lifted_at IS NULL",
            RevocationStatus::Lifted => "WHERE lifted_at IS NOT NULL",
            RevocationStatus::All => "",
        };
        let limit = if caller.admin {
            MAX_LISTED
        } else {
            MAX_SCANNED
        };
        let sql = format!(
            "SELECT id, by_arn, by_user_id FROM revocations {filter} \
             ORDER BY created_at DESC LIMIT {limit}"
        );
        let rows = sqlx::query(&sql)
            .fetch_all(&self.db.pool)
            .await
            .map_err(|e| self.db_err(e))?;
        let mut conn = self.db.pool.acquire().await.map_err(|e| self.db_err(e))?;
        let mut out = Vec::new();
        for r in rows {
            let (id, by, by_user_id): (String, String, String) = (
                r.try_get(0).map_err(|e| self.db_err(e))?,
                r.try_get(1).map_err(|e| self.db_err(e))?,
                r.try_get(2).map_err(|e| self.db_err(e))?,
            );
            let own = self.owner_of(&by, &by_user_id).as_deref() == Some(caller.owner.as_str());
            if !(caller.admin || own) {
                continue;
            }
            if let Some((view, _)) = load_view(&mut conn, &id)
                .await
                .map_err(|e| self.db_err(e))?
            {
                out.push(view);
            }
            if out.len() as i64 >= MAX_LISTED {
                break;
            }
        }
        // The IAM side reads on its own connection (SQLite has one).
        drop(conn);
        let mut shown = Vec::with_capacity(out.len());
        for view in out {
            let view = self.with_roles(view).await.map_err(|e| self.db_err(e))?;
            shown.push(view.redact(caller.admin));
        }
        Ok(shown)
    }
}
