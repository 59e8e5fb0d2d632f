//! tvm's trust boundary: verifying a caller's `tvm-v1` (or EKS) proof and
//! producing the only [`VerifiedCaller`]s that exist.
//!
//! Owns: the [`Verifier`] and its settings, and the steps of DESIGN §2, each in
//! its own pure, table-tested file:
//!
//! ```text
//! Authorization ─▶ token.rs  (step 1: size cap, prefix, nonce, base64url, UTF-8)
//!               ─▶ url.rs    (strict URL grammar, strict query decoding)
//!               ─▶ hosts.rs + proof.rs (steps 2–5: destination, parameters,
//!                              scope, signed headers, time window)
//!               ─▶ replay.rs (step 6: signature reserved once)      [no I/O above]
//!               ─▶ rebuild.rs (step 7: tvm's own request, own header values)
//!               ─▶ transport.rs (one bounded HTTPS GET, no redirects)
//!               ─▶ response.rs (strict GetCallerIdentity parsing) ─▶ VerifiedCaller
//!                  (STS refused it: the replay reservation is released)
//! ```
//!
//! Invariants: every check that needs no network runs before any network call,
//! and a token that fails one never reaches the transport; nothing the caller
//! sent is forwarded — the request is rebuilt from validated values and tvm's
//! own audience, body hash and destination; each rejection logs exactly one
//! line with its reason and never the token, signature or session token;
//! callers only learn the [`VerifyErrorKind`].

mod caller;
mod error;
mod hosts;
mod proof;
mod rebuild;
mod replay;
mod response;
mod token;
mod transport;
mod url;

#[cfg(test)]
mod tests;
#[cfg(test)]
pub(crate) mod testutil;

use std::fmt;
use std::sync::Arc;

use http::HeaderValue;
use jiff::{SignedDuration, Timestamp};

pub use caller::VerifiedCaller;
pub use error::{VerifyError, VerifyErrorKind};
pub use hosts::{is_region_name, Endpoint, EndpointError, MAX_REGION_LEN};
pub use proof::MAX_EXPIRES_SECS;
pub use replay::{InMemoryReplayStore, ReplayError, ReplayKey, ReplayStore, REPLAY_CACHE_CAPACITY};
pub use response::ResponseError;
pub use token::MAX_TOKEN_LEN;
pub use transport::{
    HyperTransport, IdentityTransport, TransportError, TransportResponse, MAX_RESPONSE_BYTES,
    TRANSPORT_TIMEOUT,
};
pub use url::{Scheme, UrlError};

pub(crate) use rebuild::body_sha256;
#[cfg(test)]
pub(crate) use token::is_nonce;
pub(crate) use token::{encode_eks, encode_tvm_v1};
pub(crate) use url::sigv4_encode;

use crate::clock::Clock;
use crate::identity::Partition;
use proof::AllowedTarget;

/// Default for `auth.max_clock_skew`.
pub const DEFAULT_MAX_CLOCK_SKEW: SignedDuration = SignedDuration::from_mins(5);

/// Largest `auth.max_clock_skew` accepted: beyond it the time window, and so the
/// usefulness of a stolen token, grows past what SigV4 itself allows (15 min).
pub const MAX_CLOCK_SKEW_LIMIT: SignedDuration = SignedDuration::from_mins(15);

/// Longest audience accepted; it travels in a signed header. The client's
/// minting uses the same limit ([`is_audience`]).
pub const MAX_AUDIENCE_LEN: usize = 256;

/// Where proofs are verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerificationTarget {
    /// A configured endpoint (simulator, VPC endpoint): tokens must name exactly
    /// its scheme, host and port, and requests go there.
    Endpoint(Endpoint),
    /// Real AWS STS in `partition`: tokens must name an allowlisted host; `region`
    /// (`sts.region`) picks the endpoint advertised to clients.
    Aws {
        /// The partition whose hosts are allowed.
        partition: Partition,
        /// The region advertised in `/.well-known/tvm`.
        region: String,
    },
}

/// What the verifier needs from the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierSettings {
    /// `auth.audience`: the value tvm sends as `x-tvm-audience` / `x-k8s-aws-id`.
    pub audience: String,
    /// Where proofs are verified.
    pub target: VerificationTarget,
    /// `auth.max_clock_skew`: how far `X-Amz-Date` may be from now.
    pub max_clock_skew: SignedDuration,
    /// `auth.accept_eks_tokens`.
    pub accept_eks_tokens: bool,
}

/// Settings the verifier cannot work with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// Audience empty, too long, or not visible ASCII without spaces.
    #[error("audience must be 1..=256 visible ASCII characters without spaces")]
    Audience,
    /// `sts.region` is not a known region of the partition.
    #[error("region is not a known region of the partition")]
    Region,
    /// Clock skew negative or above [`MAX_CLOCK_SKEW_LIMIT`].
    #[error("max_clock_skew must be between 0 and 15 minutes")]
    ClockSkew,
}

impl VerifierSettings {
    /// Checks the settings; config validation calls this at start-up.
    pub fn validate(&self) -> Result<(), SettingsError> {
        audience_header(&self.audience)?;
        if let VerificationTarget::Aws { partition, region } = &self.target {
            hosts::regional_host(*partition, region).ok_or(SettingsError::Region)?;
        }
        if self.max_clock_skew.is_negative() || self.max_clock_skew > MAX_CLOCK_SKEW_LIMIT {
            return Err(SettingsError::ClockSkew);
        }
        Ok(())
    }
}

/// Whether `audience` can be an `auth.audience`: 1..=[`MAX_AUDIENCE_LEN`]
/// visible ASCII characters without spaces (it travels in a signed header).
pub fn is_audience(audience: &str) -> bool {
    (1..=MAX_AUDIENCE_LEN).contains(&audience.len())
        && audience.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

fn audience_header(audience: &str) -> Result<HeaderValue, SettingsError> {
    is_audience(audience)
        .then(|| HeaderValue::from_str(audience).ok())
        .flatten()
        .ok_or(SettingsError::Audience)
}

/// The destinations a token may name, built once from the target.
fn allowed_target(target: &VerificationTarget) -> AllowedTarget {
    match target {
        VerificationTarget::Endpoint(ep) => AllowedTarget::Endpoint(ep.clone()),
        VerificationTarget::Aws { partition, .. } => {
            AllowedTarget::Aws(hosts::Allowlist::for_partition(*partition))
        }
    }
}

/// Verifies caller proofs. Cheap to share (`Arc`); holds no per-request state.
pub struct Verifier {
    settings: VerifierSettings,
    allowed: AllowedTarget,
    audience: Result<HeaderValue, SettingsError>,
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
    /// if the audience did not, every proof fails closed with `Unavailable`.
    pub fn new(
        settings: VerifierSettings,
        clock: Arc<dyn Clock>,
        replay: Arc<dyn ReplayStore>,
        transport: Arc<dyn IdentityTransport>,
    ) -> Self {
        let allowed = allowed_target(&settings.target);
        let audience = audience_header(&settings.audience);
        Self {
            settings,
            allowed,
            audience,
            clock,
            replay,
            transport,
        }
    }

    /// The STS endpoint clients must presign for (`/.well-known/tvm`): the
    /// configured endpoint, or the regional endpoint of `sts.region`.
    pub fn sts_endpoint(&self) -> String {
        match &self.settings.target {
            VerificationTarget::Endpoint(ep) => ep.base_url(),
            VerificationTarget::Aws { partition, region } => {
                format!("https://{}", hosts::sts_host(*partition, region))
            }
        }
    }

    /// The settings this verifier runs with.
    pub fn settings(&self) -> &VerifierSettings {
        &self.settings
    }

    /// Verifies a proof. `authorization` is the raw `Authorization` header value
    /// (or `None`); `body` the exact request body bytes tvm received. Logs one
    /// line per rejection.
    pub async fn verify(
        &self,
        authorization: Option<&[u8]>,
        body: &[u8],
    ) -> Result<VerifiedCaller, VerifyError> {
        let outcome = self.verify_inner(authorization, body).await;
        match &outcome {
            Ok(caller) => tracing::debug!(
                principal_arn = caller.identity().arn().as_str(),
                access_key_id = caller.access_key_id(),
                "caller proof verified"
            ),
            Err(e) => tracing::warn!(
                reason = e.reason(),
                kind = e.kind().as_str(),
                error = %e,
                "caller proof rejected"
            ),
        }
        outcome
    }

    async fn verify_inner(
        &self,
        authorization: Option<&[u8]>,
        body: &[u8],
    ) -> Result<VerifiedCaller, VerifyError> {
        let audience = self
            .audience
            .as_ref()
            .map_err(|_| VerifyError::Misconfigured("audience is not a valid header value"))?;
        let skew = self.settings.max_clock_skew.abs();

        // Steps 1–5: pure.
        let token = token::bearer_token(authorization)?;
        let raw = token::parse_token(token, self.settings.accept_eks_tokens)?;
        let now = self.clock.now();
        let proof = proof::validate(&raw, &self.allowed, skew, now)?;

        // Step 6: reserved before STS is called, so a failed call still uses it
        // up; only an STS refusal gives it back (replay.rs says why that is safe).
        let key = ReplayKey::from_signature(&proof.signature);
        let keep_until = proof
            .expires_at()
            .checked_add(skew)
            .unwrap_or(Timestamp::MAX);
        self.replay
            .check_and_insert(&key, keep_until, now)
            .map_err(|e| match e {
                ReplayError::Replayed => VerifyError::Replayed,
                ReplayError::Full => VerifyError::ReplayCacheFull,
                ReplayError::Unavailable(_) => VerifyError::ReplayStoreUnavailable,
            })?;

        // Step 7 and the call.
        let request = rebuild::request(&proof, audience, body)?;
        let response = self
            .transport
            .send(request)
            .await
            .map_err(|e| VerifyError::StsUnavailable(e.to_string()))?;
        let fields = match response::interpret(&response) {
            Err(refused @ VerifyError::StsRejected { .. }) => {
                self.replay.release(&key, keep_until);
                return Err(refused);
            }
            other => other?,
        };
        let partition = match self.settings.target {
            VerificationTarget::Aws { partition, .. } => Some(partition),
            VerificationTarget::Endpoint(_) => None,
        };
        let (identity, user_id) = response::check_identity(fields, partition)?;
        Ok(VerifiedCaller::new(
            identity,
            user_id,
            proof.access_key_id.clone(),
        ))
    }
}

/// Runs every check of DESIGN §2 that needs no I/O (steps 1–5: bearer header,
/// size cap, prefix, nonce, base64url, UTF-8, URL grammar, destination, query,
/// credential scope, signed headers, time window) and then the pure rebuild of
/// step 7 with an empty body, returning the request tvm would send to STS.
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
    now: Timestamp,
) -> Result<http::Request<()>, VerifyError> {
    let audience = audience_header(&settings.audience)
        .map_err(|_| VerifyError::Misconfigured("audience is not a valid header value"))?;
    let allowed = allowed_target(&settings.target);
    let token = token::bearer_token(Some(authorization))?;
    let raw = token::parse_token(token, settings.accept_eks_tokens)?;
    let proof = proof::validate(&raw, &allowed, settings.max_clock_skew.abs(), now)?;
    rebuild::request(&proof, &audience, b"")
}
