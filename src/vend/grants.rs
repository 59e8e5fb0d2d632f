//! The approvals step of a vend (DESIGN §12): which marker the stamp carries
//! and, for a vend under a grant or a break-glass vend, the record it is
//! served under; and, once credentials are handed out, counting a
//! break-glass vend (the ledger lists the vend with its record).
//!
//! Invariants: a plain vend is `direct` and touches no record; a vend with an
//! `approval_id` needs a live grant of this caller for the matched rule (the
//! grant's duration wins); a break-glass vend needs a person and a reason a
//! reader can see of at least the rule's length, and its record is written
//! before STS is called; without a matched rule or an approvals service such
//! a vend is denied.

use super::body::VendBody;
use super::outcome::{approval_error, VendError};
use super::vendor::Vendor;
use crate::approvals::Actor;
use crate::auth::VerifiedCaller;
use crate::identity::{Marker, RequestId};
use crate::policy::{Grant, Rule, VendKind};

/// The session tag that carries the full grant or break-glass record id.
pub const GRANT_ID_TAG: &str = "tvm-grant-id";

impl Vendor {
    /// The stamp's marker and the id of the grant or break-glass record the
    /// vend is served under (`None` for a plain vend); a grant's duration
    /// replaces the policy's in `grant`.
    pub(super) async fn grant(
        &self,
        id: &RequestId,
        caller: &VerifiedCaller,
        body: &VendBody,
        rule: Option<&Rule>,
        grant: &mut Grant,
    ) -> Result<(Marker, Option<String>), VendError> {
        match (body.kind(), rule) {
            (VendKind::Plain, _) => Ok((Marker::Direct, None)),
            (_, None) => Err(VendError::Denied),
            (VendKind::Approval, Some(rule)) => {
                let approvals = self.approvals.as_ref().ok_or(VendError::Denied)?;
                let live = approvals
                    .grant_for_vend(
                        &Actor::from_caller(caller),
                        body.approval_id.as_deref().unwrap_or_default(),
                        &body.profile,
                        rule,
                        body.duration_seconds,
                    )
                    .await
                    .map_err(|e| {
                        let e = approval_error(e);
                        if let VendError::Revoked(reason) = e {
                            self.metrics.revocation.refusal(reason);
                        }
                        e
                    })?;
                grant.duration_seconds = live.duration_seconds;
                let marker = Marker::approval(&live.id).map_err(|_| VendError::Denied)?;
                Ok((marker, Some(live.id)))
            }
            (VendKind::BreakGlass, Some(rule)) => {
                let approvals = self.approvals.as_ref().ok_or(VendError::Denied)?;
                let reason = body.reason.as_deref().unwrap_or_default();
                let min = rule.break_glass().map_or(u32::MAX, |b| b.reason_min_length);
                // Only what a reader sees counts: 25 zero-width spaces or
                // Hangul fillers are no reason (approvals::text).
                if crate::approvals::visible_len(reason) < min as usize {
                    return Err(VendError::BadRequest(
                        "a break-glass vend needs a longer reason",
                    ));
                }
                let actor = Actor::from_caller(caller);
                if !actor.is_person() {
                    return Err(VendError::Denied);
                }
                let id = approvals
                    .break_glass(
                        &actor,
                        &body.profile,
                        rule.name(),
                        reason,
                        grant.duration_seconds,
                        id,
                    )
                    .await
                    .map_err(approval_error)?;
                let marker = Marker::break_glass(&id).map_err(|_| VendError::Denied)?;
                Ok((marker, Some(id)))
            }
        }
    }

    /// Once credentials are handed out: counts a break-glass vend.
    pub(super) fn count_issued(&self, kind: VendKind) {
        if kind == VendKind::BreakGlass {
            // Counted once credentials exist (DESIGN §7: break-glass vends
            // count as `issued`, and in their own counter), not when the
            // record is written: a failed AssumeRole issued nothing.
            self.metrics.break_glass_used();
        }
    }
}
