//! The vending pipeline for one request (DESIGN §1): body → caller proof →
//! policy → stamps → `AssumeRole` → credentials, and the one decision log line
//! and `tvm_vend_total` outcome every `/vend` produces.
//!
//! Invariants: pure checks (body shape, duration range) run before any network
//! call; a verified caller is charged to its per-caller buckets
//! ([`CallerLimits`]) before policy and AssumeRole; a request refused by the
//! per-address bucket before the pipeline is counted, not logged one line each;
//! nothing reaches STS unless the policy allowed it; every field sent to
//! STS is tvm's (validated profile, stamps built here); credentials never reach
//! a log line.

mod body;
mod fault;
mod limits;
mod log;

use std::sync::Arc;
use std::time::Instant;

use crate::approvals::{Actor, ApprovalError, Approvals};
use crate::auth::{RequestContext, VerifiedCaller, Verifier, VerifyError, VerifyErrorKind};
use crate::clock::Clock;
use crate::identity::{Marker, RequestId, RoleSessionName, SourceIdentity, StampPrefix};
use crate::metrics::Metrics;
use crate::policy::{AllowedProfile, Outcome, TagContext, VendKind, VendRequest};
use crate::reload::PolicyStore;
use crate::state::RateError;
use crate::sts::gate::StsGate;
use crate::sts::{AssumeRoleInput, Credentials, Sts, StsError};

pub use body::VendBody;
pub use limits::CallerLimits;
use log::DecisionLog;

/// Why a vend failed; mapped to the API's codes by [`crate::http`].
#[derive(Debug, thiserror::Error)]
pub enum VendError {
    /// The body is not a valid vend request (400 `INVALID_REQUEST`).
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    /// The duration is out of range (400 `INVALID_DURATION`).
    #[error("bad duration: {0}")]
    BadDuration(String),
    /// The body is over the limit (413).
    #[error("body too large")]
    TooLarge,
    /// The client sent too many requests (429); retry after this long.
    #[error("rate limited")]
    RateLimited(std::time::Duration),
    /// The caller proof failed.
    #[error("caller verification failed: {0}")]
    Verify(#[from] VerifyError),
    /// The policy said no, or the profile is unknown (403, same body for both).
    #[error("denied by policy")]
    Denied,
    /// A plain vend met a `require_approval` rule, or a grant cannot serve
    /// (403 `APPROVAL_REQUIRED`).
    #[error("approval required")]
    ApprovalRequired,
    /// An EKS-style token, which binds no target or body, was used for a vend
    /// with an `approval_id` or a `reason` (401 `INVALID_TOKEN`).
    #[error("this token kind only serves plain vends")]
    UnboundToken,
    /// AssumeRole failed.
    #[error("assume role failed: {0}")]
    Sts(#[from] StsError),
    /// STS answered with credentials tvm will not hand out.
    #[error("unusable credentials from sts: {0}")]
    Credentials(String),
    /// A dependency of this replica is saturated or lost (the STS call cap
    /// stayed full, or the shared rate limits failed closed): 503 `UNAVAILABLE`,
    /// STS not called. The text is the decision line's reason.
    #[error("unavailable: {0}")]
    Unavailable(&'static str),
}

impl VendError {
    /// The `tvm_vend_total` outcome label.
    pub fn outcome(&self) -> &'static str {
        match self {
            VendError::BadRequest(_) | VendError::BadDuration(_) | VendError::TooLarge => {
                "bad_request"
            }
            VendError::Verify(v) => match v.kind() {
                VerifyErrorKind::InvalidToken | VerifyErrorKind::Expired => "invalid_token",
                VerifyErrorKind::Replayed => "replayed",
                VerifyErrorKind::Throttled => "sts_throttled",
                VerifyErrorKind::StsError | VerifyErrorKind::Unavailable => "sts_error",
            },
            VendError::Denied => "denied",
            VendError::ApprovalRequired => "approval_required",
            VendError::UnboundToken => "invalid_token",
            VendError::RateLimited(_) => "rate_limited",
            VendError::Sts(StsError::Throttled(_)) => "sts_throttled",
            VendError::Sts(_) | VendError::Credentials(_) | VendError::Unavailable(_) => {
                "sts_error"
            }
        }
    }
}

/// The session tag that carries the full grant or break-glass record id.
pub const GRANT_ID_TAG: &str = "tvm-grant-id";

/// Maps a failure of the approvals service during a vend.
fn approval_error(e: ApprovalError) -> VendError {
    match e {
        ApprovalError::Invalid(m) => VendError::BadRequest(m),
        ApprovalError::Duration(m) => VendError::BadDuration(m),
        ApprovalError::ApprovalRequired => VendError::ApprovalRequired,
        ApprovalError::Database(_) => VendError::Unavailable("approvals_unavailable"),
        ApprovalError::Denied
        | ApprovalError::NotFound
        | ApprovalError::Conflict
        | ApprovalError::TooMany => VendError::Denied,
    }
}

/// Credentials handed to the caller.
#[derive(Debug, Clone)]
pub struct Vended {
    /// The STS credentials.
    pub credentials: Credentials,
    /// The stamp STS recorded.
    pub source_identity: SourceIdentity,
    /// The role that was assumed.
    pub role_arn: String,
}

/// The pipeline and everything it depends on.
#[derive(Clone)]
pub struct Vendor {
    /// Verifies caller proofs (the trust boundary).
    verifier: Arc<Verifier>,
    /// The policy being served; swapped atomically on reload.
    policy: Arc<PolicyStore>,
    /// Where AssumeRole goes.
    sts: Arc<dyn Sts>,
    /// First field of every SourceIdentity.
    stamp_prefix: StampPrefix,
    /// Time for policy windows and credential checks.
    clock: Arc<dyn Clock>,
    /// Outcome counters and STS timings.
    metrics: Metrics,
    /// Per-session and per-role buckets, charged after verification.
    caller_limits: CallerLimits,
    /// Grants and break-glass records (absent: no approvals configured).
    approvals: Option<Approvals>,
    /// The per-replica cap on concurrent STS calls (`None`: no cap).
    sts_gate: Option<StsGate>,
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
        }
    }

    /// Serves vends under grants and break-glass vends through `approvals`.
    pub fn with_approvals(mut self, approvals: Approvals) -> Self {
        self.approvals = Some(approvals);
        self
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

    async fn run(
        &self,
        id: &RequestId,
        authorization: Option<&[u8]>,
        ctx: &RequestContext<'_>,
        log: &mut DecisionLog,
    ) -> Result<Vended, VendError> {
        let body = VendBody::parse(ctx.body)?;
        log.profile = Some(body.profile.clone());
        let caller = self.verify(authorization, ctx).await?;
        log.caller(&caller);
        if let Err((scope, e)) = self.limit_caller(&caller).await {
            if matches!(e, VendError::RateLimited(_)) {
                log.reason = Some(scope.reason());
            }
            return Err(e);
        }

        let kind = body.kind();
        if kind != VendKind::Plain && !caller.binds_request() {
            return Err(VendError::UnboundToken);
        }
        let policy = self.policy.current();
        let request = VendRequest {
            profile: &body.profile,
            duration_seconds: body.duration_seconds,
            kind,
        };
        let decision = policy.evaluate(&caller, &request, self.clock.now());
        log.decision(&decision);
        let rule = decision.rule.as_ref().and_then(|m| policy.rule(m.index));
        let mut grant = match decision.outcome {
            Outcome::Allow(grant) => grant,
            Outcome::Deny => return Err(VendError::Denied),
            Outcome::ApprovalRequired => return Err(VendError::ApprovalRequired),
            Outcome::InvalidDuration {
                min_seconds,
                max_seconds,
                ..
            } => {
                return Err(VendError::BadDuration(format!(
                "duration_seconds must be between {min_seconds} and {max_seconds} for this profile"
            )))
            }
        };
        let (marker, grant_id) = match (kind, rule) {
            (VendKind::Plain, _) => (Marker::Direct, None),
            (_, None) => return Err(VendError::Denied),
            (VendKind::Approval, Some(rule)) => {
                let approvals = self.approvals.as_ref().ok_or(VendError::Denied)?;
                let live = approvals
                    .grant_for_vend(
                        &Actor::from_caller(&caller),
                        body.approval_id.as_deref().unwrap_or_default(),
                        &body.profile,
                        rule,
                        body.duration_seconds,
                    )
                    .await
                    .map_err(approval_error)?;
                grant.duration_seconds = live.duration_seconds;
                let marker = Marker::approval(&live.id).map_err(|_| VendError::Denied)?;
                (marker, Some(live.id))
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
                let actor = Actor::from_caller(&caller);
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
                (marker, Some(id))
            }
        };
        let profile = &grant.profile;
        let identity = caller.identity();
        let mut tags = profile
            .session_tags(&TagContext::new(identity, &profile.name, id.as_str()))
            .map_err(|e| {
                log.reason = Some("session_tags_invalid");
                tracing::warn!(error = %e, "session tags cannot be rendered for this caller");
                VendError::Denied
            })?;
        if let Some(g) = &grant_id {
            tags.retain(|(k, _)| !k.eq_ignore_ascii_case(GRANT_ID_TAG));
            tags.push((GRANT_ID_TAG.to_owned(), g.clone()));
        }
        let source_identity = SourceIdentity::new(
            &self.stamp_prefix,
            identity.username(),
            identity.arn().as_str(),
            &marker,
            id,
        );
        log.source_identity = Some(source_identity.to_string());
        log.duration_seconds = Some(grant.duration_seconds);
        let input = AssumeRoleInput {
            role_arn: profile.role_arn.clone(),
            role_session_name: RoleSessionName::new(
                identity.username(),
                identity.arn().as_str(),
                id,
            ),
            source_identity: source_identity.clone(),
            duration_seconds: grant.duration_seconds,
            external_id: profile.external_id.clone(),
            tags,
            transitive_tag_keys: profile.transitive_tag_keys.clone(),
            policy: profile.session_policy.clone(),
        };
        let assumed = self.assume_role(input).await?;
        log.sts_request_id = assumed.sts_request_id.clone();
        self.check_credentials(&assumed.credentials)?;
        if kind == VendKind::BreakGlass {
            // Counted once credentials exist (DESIGN §7: break-glass vends
            // count as `issued`, and in their own counter), not when the
            // record is written: a failed AssumeRole issued nothing.
            self.metrics.break_glass_used();
        }
        if let (Some(g), Some(approvals)) = (&grant_id, &self.approvals) {
            // The credentials exist: list the vend with its grant; a database
            // failure here is logged and counted, never a failed vend.
            if let Err(e) = approvals
                .record_vend(
                    g,
                    identity.arn().as_str(),
                    id,
                    source_identity.as_str(),
                    grant.duration_seconds,
                )
                .await
            {
                tracing::error!(error = %e, "vend could not be listed with its grant");
            }
        }
        Ok(Vended {
            credentials: assumed.credentials,
            source_identity,
            role_arn: profile.role_arn.clone(),
        })
    }

    /// Verifies the proof and counts the GetCallerIdentity call, if one was made.
    async fn verify(
        &self,
        authorization: Option<&[u8]>,
        ctx: &RequestContext<'_>,
    ) -> Result<VerifiedCaller, VerifyError> {
        let result = self.verifier.verify(authorization, ctx).await;
        let outcome = match &result {
            Ok(_) => Some("success"),
            Err(e) => e.sts_outcome(),
        };
        if let Some(outcome) = outcome {
            self.metrics.sts_count("GetCallerIdentity", outcome);
        }
        result
    }

    /// Charges the verified caller's session and role buckets; a refusal is
    /// counted here.
    async fn limit_caller(
        &self,
        caller: &VerifiedCaller,
    ) -> Result<(), (limits::CallerScope, VendError)> {
        match self.caller_limits.check(caller).await {
            Ok(()) => Ok(()),
            Err((scope, RateError::Limited(wait))) => {
                self.metrics.rate_limited(scope.label());
                Err((scope, VendError::RateLimited(wait)))
            }
            Err((scope, RateError::Unavailable)) => {
                Err((scope, VendError::Unavailable("rate_limit_unavailable")))
            }
        }
    }

    async fn assume_role(
        &self,
        input: AssumeRoleInput,
    ) -> Result<crate::sts::AssumedRole, VendError> {
        let _slot = match &self.sts_gate {
            Some(gate) => Some(
                gate.enter("AssumeRole")
                    .await
                    .map_err(|_| VendError::Unavailable("sts_busy"))?,
            ),
            None => None,
        };
        let started = Instant::now();
        let result = self.sts.assume_role(input).await;
        let outcome = match &result {
            Ok(_) => "success",
            Err(e) => e.outcome(),
        };
        self.metrics
            .sts_call("AssumeRole", outcome, started.elapsed().as_secs_f64());
        Ok(result?)
    }

    /// Refuses to pass on credentials that are empty or already expired.
    fn check_credentials(&self, c: &Credentials) -> Result<(), VendError> {
        if c.access_key_id.is_empty()
            || c.secret_access_key.is_empty()
            || c.session_token.is_empty()
        {
            return Err(VendError::Credentials("empty credential field".into()));
        }
        if c.expiration <= self.clock.now() {
            return Err(VendError::Credentials("credentials already expired".into()));
        }
        Ok(())
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
        self.limit_caller(&caller).await.map_err(|(_, e)| e)?;
        let allowed = self
            .policy
            .current()
            .allowed_profiles(&caller, self.clock.now());
        Ok((caller, allowed))
    }
}
