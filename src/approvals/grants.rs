//! The vend side of a grant (DESIGN §12): the grant a vend with an
//! `approval_id` may use, and the vends made under a grant or break-glass
//! record, read back from the `ledger` (which writes them, with their audit
//! row, when it completes a vend's row).
//!
//! Invariants: a grant serves only its requester (same STS ARN and `UserId`)
//! for its profile, only while approved, its rule unchanged (name and digest)
//! and at least [`MIN_GRANT_LEFT_SECONDS`] left.

use super::error::ApprovalError;
use super::service::Approvals;
use super::stored::fetch;
use super::view::Status;
use super::{Actor, MIN_GRANT_LEFT_SECONDS};

use crate::database::is_id;
use crate::ledger;
use crate::policy::Rule;

/// A grant a vend may use now.
#[derive(Debug, Clone)]
pub struct LiveGrant {
    /// The request id (16 hex).
    pub id: String,
    /// The session length to vend.
    pub duration_seconds: u32,
}

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
        match req.status_at(now) {
            Status::Approved => {}
            Status::Revoked => return Err(ApprovalError::GrantRevoked),
            _ => return Err(ApprovalError::Denied),
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

    /// The vends made under a grant or record: (HTTP request id, SourceIdentity).
    pub async fn vends_of(&self, grant_id: &str) -> Result<Vec<ledger::GrantVend>, ApprovalError> {
        ledger::vends_of_grant(&self.db.read, grant_id)
            .await
            .map_err(|e| self.db_err(e))
    }
}
