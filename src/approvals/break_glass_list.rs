//! Who may see which break-glass uses (the web page's "Recent break-glass
//! uses").
//!
//! Invariants: a record is shown to the person who made it (same STS ARN, as
//! a request is to its requester) and to the people who may approve requests
//! for its profile: the approvers of a `require_approval` rule admitting that
//! profile, in the policy being served *now* (so a reload that removes an
//! approver hides the records at their next page load); anyone else sees
//! nothing of it, not even that it exists. Only people see records of others.

use sqlx::Row;

use super::error::ApprovalError;
use super::service::Approvals;
use super::view::{rfc3339, BreakGlassView};
use super::Actor;
use crate::policy::{Effect, Policy, Rule};

/// Most break-glass uses listed.
pub const MAX_BREAK_GLASS_LISTED: usize = 100;

/// Most records read to pick the visible ones from (break-glass is rare; a
/// flood beyond this shows only its newest part).
const MAX_BREAK_GLASS_SCANNED: i64 = 2_000;

/// Whether `actor` may approve requests for `profile` under `policy`.
fn approves_for(policy: &Policy, actor: &Actor, profile: &str) -> bool {
    actor.is_person()
        && policy
            .rules()
            .iter()
            .filter(|r| r.effect() == Effect::RequireApproval && r.admits_profile(profile))
            .filter_map(Rule::approval)
            .any(|a| a.approvers.matches(actor.identity()))
}

impl Approvals {
    /// Break-glass uses since `since` (unix seconds) that `actor` may see,
    /// newest first, at most [`MAX_BREAK_GLASS_LISTED`].
    pub async fn break_glass_visible(
        &self,
        actor: &Actor,
        since: i64,
    ) -> Result<Vec<BreakGlassView>, ApprovalError> {
        let policy = self.policy.current();
        let rows = sqlx::query(
            "SELECT id, profile, caller_arn, reason, duration_seconds, http_request_id, at \
             FROM break_glass_records WHERE at >= $1 ORDER BY at DESC LIMIT $2",
        )
        .bind(since)
        .bind(MAX_BREAK_GLASS_SCANNED)
        .fetch_all(&self.db.pool)
        .await
        .map_err(|e| self.db_err(e))?;
        let mut out = Vec::new();
        for r in &rows {
            let record = (|| {
                Ok::<_, sqlx::Error>(BreakGlassView {
                    id: r.try_get(0)?,
                    profile: r.try_get(1)?,
                    caller: r.try_get(2)?,
                    reason: r.try_get(3)?,
                    duration_seconds: u32::try_from(r.try_get::<i64, _>(4)?).unwrap_or(0),
                    request_id: r.try_get(5)?,
                    at: rfc3339(r.try_get(6)?),
                })
            })()
            .map_err(|e| self.db_err(e))?;
            if record.caller == actor.arn() || approves_for(&policy, actor, &record.profile) {
                out.push(record);
                if out.len() == MAX_BREAK_GLASS_LISTED {
                    break;
                }
            }
        }
        Ok(out)
    }
}
