//! The rows of DESIGN §13 as this module reads and writes them: a ledger
//! row ([`SessionRow`]), a revocation row ([`Draft`], [`load_view`]), and the
//! steps every change shares inside its one transaction — revoking sessions
//! (each vended key blocked until it expires), adding blocks, and bumping
//! `revocation_state.version` and each touched role's `desired_version`.
//!
//! Invariants: a session is revoked at most once (`revocation_id IS NULL`
//! in the `UPDATE`); every change bumps the version in its own transaction,
//! so a replica that sees the new version sees the new blocks; a role row
//! missing from the queue is inserted `pending`.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::{Any, AnyConnection, Row as _, Transaction};

use super::blocks::CALLER_KEY;
use super::view::{session_status, time, RevocationView, RoleView, SessionView};
use crate::approvals::rfc3339;

/// The columns of [`SessionRow`], in its order.
pub(super) const SESSION_COLUMNS: &str = "access_key_id, request_id, created_at, expires_at, \
     caller_arn, caller_user_id, caller_access_key_id, client_address, username, profile, \
     role_arn, rule_name, kind, grant_id, source_identity, session_name, revocation_id, \
     sso_person";

/// A vended session of the ledger (state `issued`).
#[derive(Debug, Clone)]
pub(super) struct SessionRow {
    pub(super) id: String,
    pub(super) request_id: String,
    pub(super) created_at: i64,
    pub(super) expires_at: i64,
    pub(super) caller_arn: String,
    pub(super) caller_user_id: String,
    pub(super) caller_access_key_id: String,
    pub(super) client_address: String,
    pub(super) username: String,
    pub(super) profile: String,
    pub(super) role_arn: String,
    pub(super) rule: Option<String>,
    pub(super) kind: String,
    pub(super) grant_id: Option<String>,
    pub(super) source_identity: String,
    pub(super) session_name: String,
    pub(super) revocation_id: Option<String>,
    pub(super) sso_person: Option<String>,
}

impl SessionRow {
    pub(super) fn from_row(r: &sqlx::any::AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: r.try_get(0)?,
            request_id: r.try_get(1)?,
            created_at: r.try_get(2)?,
            expires_at: r.try_get(3)?,
            caller_arn: r.try_get(4)?,
            caller_user_id: r.try_get(5)?,
            caller_access_key_id: r.try_get(6)?,
            client_address: r.try_get(7)?,
            username: r.try_get(8)?,
            profile: r.try_get(9)?,
            role_arn: r.try_get(10)?,
            rule: r.try_get(11)?,
            kind: r.try_get(12)?,
            grant_id: r.try_get(13)?,
            source_identity: r.try_get(14)?,
            session_name: r.try_get(15)?,
            revocation_id: r.try_get(16)?,
            sso_person: r.try_get(17)?,
        })
    }

    pub(super) fn is_live(&self, now: i64) -> bool {
        self.revocation_id.is_none() && self.expires_at > now
    }

    pub(super) fn view(&self, now: i64) -> SessionView {
        SessionView {
            id: self.id.clone(),
            request_id: self.request_id.clone(),
            created_at: rfc3339(self.created_at),
            expires_at: rfc3339(self.expires_at),
            caller: self.caller_arn.clone(),
            caller_user_id: self.caller_user_id.clone(),
            caller_access_key_id: self.caller_access_key_id.clone(),
            client_address: self.client_address.clone(),
            username: self.username.clone(),
            profile: self.profile.clone(),
            role_arn: self.role_arn.clone(),
            rule: self.rule.clone(),
            kind: self.kind.clone(),
            grant_id: self.grant_id.clone(),
            source_identity: self.source_identity.clone(),
            session_name: self.session_name.clone(),
            status: session_status(self.expires_at, self.revocation_id.is_some(), now),
            revocation_id: self.revocation_id.clone(),
        }
    }
}

/// Rows of issued sessions matching `condition` (binding `$1` = `value`).
pub(super) async fn sessions_where(
    conn: &mut AnyConnection,
    condition: &str,
    value: &str,
) -> Result<Vec<SessionRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {SESSION_COLUMNS} FROM sessions WHERE state = 'issued' \
         AND access_key_id IS NOT NULL AND {condition} ORDER BY created_at DESC, access_key_id"
    );
    let rows = sqlx::query(&sql).bind(value).fetch_all(conn).await?;
    rows.iter().map(SessionRow::from_row).collect()
}

/// A revocation about to be written.
#[derive(Debug, Clone)]
pub(super) struct Draft {
    pub(super) id: String,
    pub(super) kind: &'static str,
    pub(super) target_type: &'static str,
    pub(super) target: String,
    pub(super) reason: String,
    pub(super) by_arn: String,
    pub(super) by_user_id: String,
    pub(super) self_service: bool,
    pub(super) suspends: bool,
    pub(super) suspended_until: Option<i64>,
    pub(super) created_at: i64,
    pub(super) request_id: String,
    /// Whose session or grant it ends, `(ARN, UserId)`, when one caller's:
    /// their audit view shows the event too.
    pub(super) subject: Option<(String, String)>,
}

impl Draft {
    pub(super) async fn insert(
        &self,
        tx: &mut Transaction<'static, Any>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO revocations (id, kind, target_type, target, reason, by_arn, by_user_id, \
             self_service, suspends, suspended_until, created_at, request_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&self.id)
        .bind(self.kind)
        .bind(self.target_type)
        .bind(&self.target)
        .bind(&self.reason)
        .bind(&self.by_arn)
        .bind(&self.by_user_id)
        .bind(i64::from(self.self_service))
        .bind(i64::from(self.suspends))
        .bind(self.suspended_until)
        .bind(self.created_at)
        .bind(&self.request_id)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// The object this draft becomes, before anything is stored (a dry run).
    pub(super) fn view(&self, sessions: Vec<String>, keys: Vec<String>) -> RevocationView {
        RevocationView {
            id: self.id.clone(),
            kind: self.kind.to_owned(),
            target: BTreeMap::from([(self.target_type.to_owned(), self.target.clone())]),
            reason: self.reason.clone(),
            by: self.by_arn.clone(),
            created_at: rfc3339(self.created_at),
            suspended_until: time(self.suspended_until),
            sessions,
            blocked_caller_keys: keys,
            roles: Vec::new(),
            lifted_at: None,
            lifted_by: None,
            lift_reason: None,
            advice: None,
            approved_grants: Vec::new(),
        }
    }
}

/// Adds one block (a second block of one value by one revocation is the same).
pub(super) async fn block(
    tx: &mut Transaction<'static, Any>,
    revocation_id: &str,
    block_type: &str,
    value: &str,
    expires_at: Option<i64>,
    liftable: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO revocation_blocks (revocation_id, block_type, value, expires_at, lifted_at, \
         liftable) VALUES ($1, $2, $3, $4, NULL, $5) \
         ON CONFLICT (revocation_id, block_type, value) DO NOTHING",
    )
    .bind(revocation_id)
    .bind(block_type)
    .bind(value)
    .bind(expires_at)
    .bind(i64::from(liftable))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Revokes the live ones of `rows` under `revocation_id`, blocking each
/// one's vended key as a caller key until it expires; returns the ids
/// revoked and adds their roles to `roles`.
pub(super) async fn revoke_sessions(
    tx: &mut Transaction<'static, Any>,
    revocation_id: &str,
    rows: &[SessionRow],
    now: i64,
    roles: &mut BTreeSet<String>,
) -> Result<Vec<String>, sqlx::Error> {
    let mut done = Vec::new();
    for s in rows.iter().filter(|s| s.is_live(now)) {
        let r = sqlx::query(
            "UPDATE sessions SET revocation_id = $1, revoked_at = $2 \
             WHERE access_key_id = $3 AND revocation_id IS NULL",
        )
        .bind(revocation_id)
        .bind(now)
        .bind(&s.id)
        .execute(&mut **tx)
        .await?;
        if r.rows_affected() == 1 {
            block(
                tx,
                revocation_id,
                CALLER_KEY,
                &s.id,
                Some(s.expires_at),
                false,
            )
            .await?;
            roles.insert(s.role_arn.clone());
            done.push(s.id.clone());
        }
    }
    Ok(done)
}

/// Bumps `revocation_state.version` and each role's `desired_version`
/// (inserting a missing role `pending`).
pub(super) async fn bump(
    tx: &mut Transaction<'static, Any>,
    roles: &BTreeSet<String>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE revocation_state SET version = version + 1 WHERE id = 1")
        .execute(&mut **tx)
        .await?;
    for role in roles {
        sqlx::query(
            "INSERT INTO revocation_roles (role_arn, desired_version, applied_version, status, \
             updated_at) VALUES ($1, 1, 0, 'pending', $2) \
             ON CONFLICT (role_arn) DO UPDATE SET \
             desired_version = revocation_roles.desired_version + 1, updated_at = $2",
        )
        .bind(role)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// The stored revocation `id` as its object (all of it: the reader redacts).
pub(super) async fn load_view(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<(RevocationView, String)>, sqlx::Error> {
    let Some(r) = sqlx::query(
        "SELECT id, kind, target_type, target, reason, by_arn, created_at, suspended_until, \
         lifted_at, lifted_by, lift_reason, by_user_id FROM revocations WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let target_type: String = r.try_get(2)?;
    let sessions = sqlx::query(
        "SELECT access_key_id FROM sessions WHERE revocation_id = $1 ORDER BY created_at",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| r.try_get::<String, _>(0))
    .collect::<Result<Vec<_>, _>>()?;
    let keys = sqlx::query(
        "SELECT value FROM revocation_blocks WHERE revocation_id = $1 AND block_type = $2 \
         ORDER BY value",
    )
    .bind(id)
    .bind(CALLER_KEY)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| r.try_get::<String, _>(0))
    .collect::<Result<Vec<_>, _>>()?;
    let roles = sqlx::query(
        "SELECT role_arn, status, error, policy FROM revocation_roles WHERE role_arn IN \
         (SELECT DISTINCT role_arn FROM sessions WHERE revocation_id = $1) ORDER BY role_arn",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        Ok(RoleView {
            role_arn: r.try_get(0)?,
            status: r.try_get(1)?,
            error: r.try_get(2)?,
            policy: r.try_get(3)?,
            policy_name: None,
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let kind: String = r.try_get(1)?;
    let view = RevocationView {
        id: r.try_get(0)?,
        advice: (kind == "credentials")
            .then(|| r.try_get::<String, _>(3).ok())
            .flatten()
            .and_then(|key| super::view::advice(&key)),
        kind,
        target: BTreeMap::from([(target_type, r.try_get(3)?)]),
        reason: r.try_get(4)?,
        by: r.try_get(5)?,
        created_at: rfc3339(r.try_get(6)?),
        suspended_until: time(r.try_get(7)?),
        sessions,
        blocked_caller_keys: keys,
        roles,
        lifted_at: time(r.try_get(8)?),
        lifted_by: r.try_get(9)?,
        lift_reason: r.try_get(10)?,
        approved_grants: Vec::new(),
    };
    let by_user_id: String = r.try_get(11)?;
    Ok(Some((view, by_user_id)))
}
