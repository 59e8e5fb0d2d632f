//! What the verifier computes once from its settings, so the hot path
//! allocates nothing and a bad setting fails every proof closed: each
//! configured origin's header value, the EKS cluster header, the destinations a
//! token may name — and the no-I/O steps that use them.
//!
//! Invariant: nothing here makes a network call or touches the replay store.

use http::HeaderValue;
use jiff::{SignedDuration, Timestamp};

use super::context::RequestContext;
use super::error::VerifyError;
use super::proof::AllowedTarget;
use super::token::TokenKind;
use super::{proof, rebuild, token};
use crate::config::{is_eks_cluster_id, VerificationTarget, VerifierSettings};
use crate::net::Origin;

/// The only targets an EKS token (no target or body binding) may be used for.
const EKS_TARGETS: [(&str, &str); 2] = [("POST", "/vend"), ("GET", "/profiles")];

/// The destinations a token may name, built once from the target.
pub(super) fn allowed_target(target: &VerificationTarget) -> AllowedTarget {
    match target {
        VerificationTarget::Endpoint { endpoint, .. } => AllowedTarget::Endpoint(endpoint.clone()),
        VerificationTarget::Aws { partition, .. } => {
            AllowedTarget::Aws(crate::net::Allowlist::for_partition(*partition))
        }
    }
}

/// Header values precomputed from the settings, so that a bad setting fails
/// every proof closed instead of panicking, and the hot path allocates nothing.
pub(super) struct Prepared {
    /// Each configured origin with its `x-tvm-audience` value.
    origins: Vec<(Origin, HeaderValue)>,
    /// The `x-k8s-aws-id` value, when EKS tokens are on.
    eks: Option<HeaderValue>,
}

impl Prepared {
    pub(super) fn new(settings: &VerifierSettings) -> Result<Self, VerifyError> {
        let bad = || VerifyError::Misconfigured("audience is not a valid header value");
        let origins = settings
            .audiences
            .iter()
            .map(|o| {
                Ok((
                    o.clone(),
                    HeaderValue::from_str(o.as_str()).map_err(|_| bad())?,
                ))
            })
            .collect::<Result<Vec<_>, VerifyError>>()?;
        if origins.is_empty() {
            return Err(VerifyError::Misconfigured("no audience configured"));
        }
        let eks = match &settings.eks_cluster_id {
            Some(id) if is_eks_cluster_id(id) => {
                Some(HeaderValue::from_str(id).map_err(|_| bad())?)
            }
            Some(_) => return Err(VerifyError::Misconfigured("eks_cluster_id is invalid")),
            None => None,
        };
        Ok(Self { origins, eks })
    }

    /// Steps 1–5 (pure): the token's kind and its validated proof. EKS tokens
    /// are refused for anything but the targets they may serve.
    pub(super) fn proof(
        &self,
        allowed: &AllowedTarget,
        authorization: Option<&[u8]>,
        ctx: &RequestContext<'_>,
        skew: SignedDuration,
        now: Timestamp,
    ) -> Result<(TokenKind, proof::ValidatedProof), VerifyError> {
        let token = token::bearer_token(authorization)?;
        let raw = token::parse_token(token, self.eks.is_some())?;
        if raw.kind == TokenKind::Eks && !EKS_TARGETS.contains(&(ctx.method, ctx.path)) {
            return Err(VerifyError::EksTargetRefused);
        }
        let proof = proof::validate(&raw, allowed, skew, now)?;
        Ok((raw.kind, proof))
    }

    /// Step 7's values for a proof of `kind`: tvm's own, never the caller's.
    pub(super) fn binding<'a>(
        &'a self,
        kind: &TokenKind,
        ctx: &RequestContext<'a>,
        target: &'a HeaderValue,
    ) -> Result<rebuild::Binding<'a>, VerifyError> {
        Ok(match kind {
            TokenKind::Eks => rebuild::Binding {
                audience: self.eks.as_ref().ok_or(VerifyError::EksTokensDisabled)?,
                target: &EMPTY_HEADER,
                body: b"",
            },
            TokenKind::TvmV1 { .. } => rebuild::Binding {
                audience: self.audience(ctx)?,
                target,
                body: ctx.body,
            },
        })
    }

    /// DESIGN §2 step 7, which audience: the hint if it names a configured
    /// origin (a hint naming anything else is refused); else the only origin;
    /// else the one whose `host[:port]` the request's host names.
    fn audience(&self, ctx: &RequestContext<'_>) -> Result<&HeaderValue, VerifyError> {
        if let Some(hint) = ctx.audience_hint {
            let hint = std::str::from_utf8(hint)
                .ok()
                .and_then(|h| Origin::parse(h.trim()).ok())
                .ok_or(VerifyError::UnknownAudienceHint)?;
            return self
                .origins
                .iter()
                .find(|(o, _)| *o == hint)
                .map(|(_, v)| v)
                .ok_or(VerifyError::UnknownAudienceHint);
        }
        if let [(_, only)] = self.origins.as_slice() {
            return Ok(only);
        }
        let host = ctx.host.ok_or(VerifyError::AudienceUnresolved)?;
        self.origins
            .iter()
            .find(|(o, _)| o.matches_host(host))
            .map(|(_, v)| v)
            .ok_or(VerifyError::AudienceUnresolved)
    }
}

static EMPTY_HEADER: HeaderValue = HeaderValue::from_static("");
