//! The pipeline's owner ([`Vendor`]): what it depends on, how start-up
//! assembles it, and its entry points — [`Vendor::vend`] for `POST /vend`
//! (the steps are `pipeline`'s), [`Vendor::reject_early`] for a `/vend`
//! refused before the pipeline, and [`Vendor::authenticate`] and
//! [`Vendor::profiles`] for the other authenticated routes. All three check
//! the caller against the revocation blocks (`calls`' `unblocked`) right
//! after its proof, before its buckets, policy or any other STS call.
//!
//! Invariants: every `/vend` that reaches [`Vendor::vend`] or
//! [`Vendor::reject_early`] writes exactly one decision line and counts one
//! `tvm_vend_total` outcome (except a per-address rate limit, which is only
//! counted); the other routes verify the proof and charge the caller's
//! buckets the same way, and never vend.

use std::sync::Arc;
use std::time::Instant;

use super::limits::CallerLimits;
use super::log::DecisionLog;
use super::outcome::{VendError, Vended};
use crate::approvals::Approvals;
use crate::auth::{RequestContext, VerifiedCaller, Verifier};
use crate::clock::Clock;
use crate::identity::{RequestId, StampPrefix};
use crate::ledger::Ledger;
use crate::metrics::Metrics;
use crate::policy::AllowedProfile;
use crate::reload::PolicyStore;
use crate::revocation::Revocations;
use crate::sts::gate::StsGate;
use crate::sts::Sts;

/// The pipeline and everything it depends on.
#[derive(Clone)]
pub struct Vendor {
    /// Verifies caller proofs (the trust boundary).
    pub(super) verifier: Arc<Verifier>,
    /// The policy being served; swapped atomically on reload.
    pub(super) policy: Arc<PolicyStore>,
    /// Where AssumeRole goes.
    pub(super) sts: Arc<dyn Sts>,
    /// First field of every SourceIdentity.
    pub(super) stamp_prefix: StampPrefix,
    /// Time for policy windows and credential checks.
    pub(super) clock: Arc<dyn Clock>,
    /// Outcome counters and STS timings.
    pub(super) metrics: Metrics,
    /// Per-session and per-role buckets, charged after verification.
    pub(super) caller_limits: CallerLimits,
    /// Grants and break-glass records (absent: no approvals configured).
    pub(super) approvals: Option<Approvals>,
    /// The per-replica cap on concurrent STS calls (`None`: no cap).
    pub(super) sts_gate: Option<StsGate>,
    /// Blocks and suspensions (DESIGN §13), checked right after every
    /// caller proof (absent: no database).
    pub(super) revocations: Option<Revocations>,
    /// The ledger of every vend (absent: no database configured).
    pub(super) ledger: Option<Ledger>,
}

impl Vendor {
    /// Assembles the pipeline.
    pub fn new(
        verifier: Arc<Verifier>,
        policy: Arc<PolicyStore>,
        sts: Arc<dyn Sts>,
        stamp_prefix: StampPrefix,
        clock: Arc<dyn Clock>,
        metrics: Metrics,
    ) -> Self {
        Self {
            verifier,
            policy,
            sts,
            stamp_prefix,
            clock,
            metrics,
            caller_limits: CallerLimits::default(),
            approvals: None,
            sts_gate: None,
            revocations: None,
            ledger: None,
        }
    }

    /// Serves vends under grants and break-glass vends through `approvals`.
    pub fn with_approvals(mut self, approvals: Approvals) -> Self {
        self.approvals = Some(approvals);
        self
    }

    /// Checks every verified caller against `revocations`' blocks.
    pub fn with_revocations(mut self, revocations: Revocations) -> Self {
        self.revocations = Some(revocations);
        self
    }

    /// The revocation service, when a database is configured.
    pub fn revocations(&self) -> Option<&Revocations> {
        self.revocations.as_ref()
    }

    /// Records every vend in `ledger` (DESIGN §13).
    pub fn with_ledger(mut self, ledger: Ledger) -> Self {
        self.ledger = Some(ledger);
        self
    }

    /// The ledger, when a database is configured.
    pub fn ledger(&self) -> Option<&Ledger> {
        self.ledger.as_ref()
    }

    /// The approvals service, when configured.
    pub fn approvals(&self) -> Option<&Approvals> {
        self.approvals.as_ref()
    }

    /// Caps concurrent AssumeRole calls with `gate` (shared with the
    /// GetCallerIdentity transport).
    pub fn with_sts_gate(mut self, gate: StsGate) -> Self {
        self.sts_gate = Some(gate);
        self
    }

    /// The verifier (for the replay-store gauges).
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    /// Charges verified callers to `limits` (by default no per-caller limit).
    pub fn with_caller_limits(mut self, limits: CallerLimits) -> Self {
        self.caller_limits = limits;
        self
    }

    /// The policy store (for reloads).
    pub fn policy(&self) -> &Arc<PolicyStore> {
        &self.policy
    }

    /// Handles one `POST /vend` (`ctx` carries the exact body); logs the
    /// decision line and counts the outcome.
    pub async fn vend(
        &self,
        id: &RequestId,
        authorization: Option<&[u8]>,
        ctx: &RequestContext<'_>,
    ) -> Result<Vended, VendError> {
        let started = Instant::now();
        let mut log = DecisionLog::new(id, &self.metrics);
        let result = self.run(id, authorization, ctx, &mut log).await;
        self.finish(log, result.as_ref(), started);
        result
    }

    /// Records a `/vend` that failed before the pipeline could start (rate limit,
    /// oversized body). A per-address rate limit is only counted (outcome
    /// `rate_limited`; the refusal summary has it): a flood must not become a
    /// log flood. Anything else still gets its decision line.
    pub fn reject_early(&self, id: &RequestId, err: VendError) -> VendError {
        if matches!(err, VendError::RateLimited(_)) {
            self.metrics.vend_outcome("rate_limited");
            return err;
        }
        self.finish(
            DecisionLog::new(id, &self.metrics),
            Err(&err),
            Instant::now(),
        );
        err
    }

    fn finish(&self, mut log: DecisionLog, result: Result<&Vended, &VendError>, started: Instant) {
        let outcome = match result {
            Ok(_) => "issued",
            Err(e) => e.outcome(),
        };
        self.metrics.vend_outcome(outcome);
        log.emit(result, started.elapsed());
    }

    /// Verifies a caller for an approvals operation (`/requests…`): the proof,
    /// the per-caller buckets, and a token kind that binds method, path and
    /// body (an EKS-style token never serves these operations).
    pub async fn authenticate(
        &self,
        authorization: Option<&[u8]>,
        ctx: &RequestContext<'_>,
    ) -> Result<VerifiedCaller, VendError> {
        let caller = self.verify(authorization, ctx).await?;
        self.unblocked(&caller).await?;
        self.limit_caller(&caller).await.map_err(|(_, e)| e)?;
        if !caller.binds_request() {
            return Err(VendError::UnboundToken);
        }
        Ok(caller)
    }

    /// Handles `GET /profiles`: the profiles this caller could be allowed now.
    pub async fn profiles(
        &self,
        authorization: Option<&[u8]>,
        ctx: &RequestContext<'_>,
    ) -> Result<(VerifiedCaller, Vec<AllowedProfile>), VendError> {
        let caller = self.verify(authorization, ctx).await?;
        self.unblocked(&caller).await?;
        self.limit_caller(&caller).await.map_err(|(_, e)| e)?;
        let allowed = self
            .policy
            .current()
            .allowed_profiles(&caller, self.clock.now());
        Ok((caller, allowed))
    }
}
