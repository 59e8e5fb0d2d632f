//! tvm's trust boundary: verifying a caller's `tvm-v1` (or EKS) proof and
//! producing the only [`VerifiedCaller`]s that exist.
//!
//! Owns: the [`Verifier`] and its settings, and the steps of DESIGN §2, each in
//! its own pure, table-tested file:
//!
//! ```text
//! Authorization ─▶ token.rs  (step 1: size cap, prefix, nonce, base64url, UTF-8)
//!               ─▶ net::url  (strict URL grammar, strict query decoding)
//!               ─▶ net::hosts + proof.rs (steps 2–5: destination, parameters,
//!                              scope, signed headers, time window)
//!               ─▶ state::replay (step 6: signature reserved once; in memory
//!                              or shared in Redis)          [no I/O above]
//!               ─▶ net::origin (step 7: which configured origin this request names)
//!               ─▶ rebuild.rs (step 7: tvm's own request, own header values:
//!                              origin, body hash, method and path, nonce)
//!               ─▶ transport.rs (one bounded HTTPS GET, no redirects)
//!               ─▶ response.rs (strict GetCallerIdentity parsing) ─▶ VerifiedCaller
//!                  (STS refused it: the replay reservation is released)
//! ```
//!
//! Invariants: every check that needs no network runs before any network call,
//! and a token that fails one never reaches the transport; nothing the caller
//! sent is forwarded — the request is rebuilt from validated values and tvm's
//! own audience (one of its configured origins, chosen by the request but never
//! taken from it), body hash, target and destination; a rejection is returned,
//! not logged here: its request's one line (written by `vend` or `http`) names
//! [`VerifyError::reason`], never the token, signature or session token;
//! callers only learn the [`VerifyErrorKind`].

mod caller;
mod context;
mod error;
mod prepare;
mod proof;
mod rebuild;
mod response;
mod token;
mod transport;

#[cfg(test)]
mod tests;
#[cfg(test)]
pub(crate) mod testutil;

use std::fmt;
use std::sync::Arc;

use jiff::Timestamp;

pub use crate::config::{
    is_eks_cluster_id, SettingsError, VerificationTarget, VerifierSettings, DEFAULT_MAX_CLOCK_SKEW,
    MAX_AUDIENCES, MAX_CLOCK_SKEW_LIMIT, MAX_EKS_CLUSTER_ID_LEN,
};
pub use crate::net::{
    is_known_region, is_region_name, Endpoint, EndpointError, Origin, OriginError, Scheme,
    UrlError, MAX_ORIGIN_LEN, MAX_REGION_LEN,
};
use crate::state::replay;
pub use crate::state::replay::{
    InMemoryReplayStore, ReplayError, ReplayKey, ReplayStore, REPLAY_CACHE_CAPACITY,
    REPLAY_CLOCK_MARGIN,
};
pub use caller::VerifiedCaller;
pub use context::RequestContext;
pub use error::{VerifyError, VerifyErrorKind};
pub use proof::MAX_EXPIRES_SECS;
pub use response::ResponseError;
pub use token::MAX_TOKEN_LEN;
pub use transport::{
    HyperTransport, IdentityTransport, TransportError, TransportResponse, MAX_RESPONSE_BYTES,
    TRANSPORT_TIMEOUT,
};

pub(crate) use crate::net::sigv4_encode;
pub(crate) use rebuild::body_sha256;
#[cfg(test)]
pub(crate) use token::is_nonce;
pub(crate) use token::{encode_eks, encode_tvm_v1};

use crate::clock::Clock;
use context::target_header;
use prepare::{allowed_target, Prepared};
use proof::AllowedTarget;
use token::TokenKind;

/// Verifies caller proofs. Cheap to share (`Arc`); holds no per-request state.
pub struct Verifier {
    settings: VerifierSettings,
    allowed: AllowedTarget,
    prepared: Result<Prepared, VerifyError>,
    clock: Arc<dyn Clock>,
    replay: Arc<dyn ReplayStore>,
    transport: Arc<dyn IdentityTransport>,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// Builds a verifier. Settings should have passed [`VerifierSettings::validate`];
    /// if the header values cannot be built, every proof fails closed with
    /// `Unavailable`.
    pub fn new(
        settings: VerifierSettings,
        clock: Arc<dyn Clock>,
        replay: Arc<dyn ReplayStore>,
        transport: Arc<dyn IdentityTransport>,
    ) -> Self {
        let allowed = allowed_target(&settings.target);
        let prepared = Prepared::new(&settings);
        Self {
            settings,
            allowed,
            prepared,
            clock,
            replay,
            transport,
        }
    }

    /// The STS endpoint clients must presign for (`/.well-known/tvm`): the
    /// configured endpoint, or the regional endpoint of `sts.region`.
    pub fn sts_endpoint(&self) -> String {
        match &self.settings.target {
            VerificationTarget::Endpoint { endpoint, .. } => endpoint.base_url(),
            VerificationTarget::Aws { partition, region } => {
                format!("https://{}", crate::net::sts_host(*partition, region))
            }
        }
    }

    /// The settings this verifier runs with.
    pub fn settings(&self) -> &VerifierSettings {
        &self.settings
    }

    /// The replay store's `(live entries, capacity)`, when it can tell.
    pub fn replay_usage(&self) -> Option<(usize, usize)> {
        self.replay.usage()
    }

    /// Verifies a proof. `authorization` is the raw `Authorization` header value
    /// (or `None`); `ctx` the request it came with. Logs nothing on a
    /// rejection: the request's one line (the `/vend` decision line, or the
    /// refusal line of another route) carries [`VerifyError::reason`] and the
    /// error, at INFO for a caller's fault and WARN for an upstream one.
    pub async fn verify(
        &self,
        authorization: Option<&[u8]>,
        ctx: &RequestContext<'_>,
    ) -> Result<VerifiedCaller, VerifyError> {
        let outcome = self.verify_inner(authorization, ctx).await;
        if let Ok(caller) = &outcome {
            tracing::debug!(
                principal_arn = caller.identity().arn().as_str(),
                access_key_id = caller.access_key_id(),
                "caller proof verified"
            );
        }
        outcome
    }

    async fn verify_inner(
        &self,
        authorization: Option<&[u8]>,
        ctx: &RequestContext<'_>,
    ) -> Result<VerifiedCaller, VerifyError> {
        let prepared = self.prepared.as_ref().map_err(Clone::clone)?;
        let skew = self.settings.max_clock_skew.abs();

        // Steps 1–5: pure.
        let now = self.clock.now();
        let (kind, proof) = prepared.proof(&self.allowed, authorization, ctx, skew, now)?;

        // Step 6: reserved before STS is called, so a failed call still uses it
        // up; only a refusal gives it back (replay.rs says why that is safe).
        let key = ReplayKey::from_signature(&proof.signature);
        let keep_until = replay::keep_until(proof.signed_at, proof.expires_at(), skew);
        self.replay
            .check_and_insert(&key, keep_until, now)
            .await
            .map_err(|e| match e {
                ReplayError::Replayed => VerifyError::Replayed,
                ReplayError::Full => VerifyError::ReplayCacheFull,
                ReplayError::Unavailable(_) => VerifyError::ReplayStoreUnavailable,
            })?;

        // Step 7: tvm's own binding values, then the call. A request whose
        // audience cannot be resolved never reaches STS and gives its
        // reservation back, like a token STS refused.
        let target = target_header(ctx)?;
        let binding = match prepared.binding(&kind, ctx, &target) {
            Ok(b) => b,
            Err(e) => {
                self.replay.release(&key, keep_until).await;
                return Err(e);
            }
        };
        let request = rebuild::request(&proof, &binding)?;
        let response = match self.transport.send(request).await {
            Ok(r) => r,
            // Nothing was sent: like an unresolved audience, give the token back.
            Err(TransportError::Busy) => {
                self.replay.release(&key, keep_until).await;
                return Err(VerifyError::StsBusy);
            }
            Err(e) => return Err(VerifyError::StsUnavailable(e.to_string())),
        };
        let fields = match response::interpret(&response) {
            Err(refused @ VerifyError::StsRejected { .. }) => {
                self.replay.release(&key, keep_until).await;
                return Err(refused);
            }
            other => other?,
        };
        let (identity, user_id) =
            response::check_identity(fields, self.settings.target.partition())?;
        Ok(VerifiedCaller::new(
            identity,
            user_id,
            proof.access_key_id.clone(),
            kind == TokenKind::Eks,
        ))
    }
}

/// Runs every check of DESIGN §2 that needs no I/O (steps 1–5: bearer header,
/// size cap, prefix, nonce, base64url, UTF-8, URL grammar, destination, query,
/// credential scope, signed headers, time window) and then the pure rebuild of
/// step 7 for `ctx`, returning the request tvm would send to STS.
///
/// Only for the fuzz targets under `fuzz/`, which are a separate crate and so can
/// reach nothing `pub(crate)`. It is a plain function rather than one behind a
/// cargo feature so that the fuzzed code is exactly the code that ships, with no
/// second build configuration to keep in step. Exposing it grants nothing: it
/// makes no network call, touches no replay store and yields no
/// [`VerifiedCaller`]; [`Verifier::verify`] runs the same steps in the same order.
#[doc(hidden)]
pub fn fuzz_check_token(
    authorization: &[u8],
    settings: &VerifierSettings,
    ctx: &RequestContext<'_>,
    now: Timestamp,
) -> Result<http::Request<()>, VerifyError> {
    let prepared = Prepared::new(settings)?;
    let allowed = allowed_target(&settings.target);
    let skew = settings.max_clock_skew.abs();
    let (kind, proof) = prepared.proof(&allowed, Some(authorization), ctx, skew, now)?;
    let target = target_header(ctx)?;
    rebuild::request(&proof, &prepared.binding(&kind, ctx, &target)?)
}
