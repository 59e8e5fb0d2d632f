//! The pipeline's calls out, each counted where it is made: the caller proof
//! (the verifier's GetCallerIdentity), the caller's buckets, and AssumeRole
//! behind the per-replica STS call cap; and the check of what STS returned.
//!
//! Invariants: a refusal by a caller bucket is counted here (its scope in
//! `tvm_rate_limited_total`); AssumeRole is called only through
//! `Vendor::assume_role`, inside a slot of the STS call cap when one is set
//! (a full cap is 503 `sts_busy`, STS not called); empty or already expired
//! credentials are never handed out.

use std::time::Instant;

use super::limits::CallerScope;
use super::outcome::VendError;
use super::vendor::Vendor;
use crate::auth::{RequestContext, VerifiedCaller, VerifyError};
use crate::revocation::{Refusal, Subject};
use crate::state::RateError;
use crate::sts::{AssumeRoleInput, AssumedRole, Credentials};

impl Vendor {
    /// Verifies the proof and counts the GetCallerIdentity call, if one was made.
    pub(super) async fn verify(
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

    /// The revocation check (DESIGN §13) every authenticated route makes
    /// right after the caller's own GetCallerIdentity: a blocked caller key,
    /// a temporary key of a blocked IAM user or a suspended identity is 403
    /// `POLICY_DENY` (reason `revoked_credentials` / `suspended`); blocks not
    /// loaded or too old are 503 (STS not called either way).
    pub(super) async fn unblocked(&self, caller: &VerifiedCaller) -> Result<(), VendError> {
        let Some(r) = &self.revocations else {
            return Ok(());
        };
        let subject = Subject {
            identity: caller.identity(),
            user_id: caller.user_id(),
            access_key_id: Some(caller.access_key_id()),
        };
        match r.check(subject).await {
            Ok(()) => Ok(()),
            Err(Refusal::Stale) => Err(VendError::Unavailable("revocations_stale")),
            Err(refusal) => {
                if refusal == Refusal::RevokedCredentials {
                    r.learn_iam_user(
                        caller.access_key_id(),
                        caller.identity().arn().as_str(),
                        caller.user_id(),
                    )
                    .await;
                }
                Err(VendError::Revoked(refusal.reason()))
            }
        }
    }

    /// Charges the verified caller's session and role buckets; a refusal is
    /// counted here.
    pub(super) async fn limit_caller(
        &self,
        caller: &VerifiedCaller,
    ) -> Result<(), (CallerScope, VendError)> {
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

    /// AssumeRole, inside a slot of the STS call cap, timed and counted.
    pub(super) async fn assume_role(
        &self,
        input: AssumeRoleInput,
    ) -> Result<AssumedRole, VendError> {
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
    pub(super) fn check_credentials(&self, c: &Credentials) -> Result<(), VendError> {
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
}
