//! The state every route shares ([`AppState`]), assembled once at start-up:
//! the vend pipeline, metrics, readiness, the discovery document, request
//! bounds and the per-address buckets.
//!
//! Invariant: read-only after start-up (the parts that change — the policy,
//! readiness — carry their own synchronisation); a rate check that cannot
//! reach the shared buckets fails closed.

use std::sync::Arc;
use std::time::Duration;

use super::client_addr::ClientAddr;
use super::ratelimit::{AddressLimits, AddressScope};
use super::readiness::Readiness;
use crate::config::ServerLimits;
use crate::metrics::Metrics;
use crate::state::RateError;
use crate::vend::{VendError, Vendor};

/// What `GET /.well-known/tvm` tells clients.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Discovery {
    /// The origins tokens may be signed for (a client signs for the origin it
    /// calls and only uses this list to fail early, never to choose).
    pub audience: Vec<String>,
    /// The STS endpoint tokens must be presigned for.
    pub sts_endpoint: String,
    /// The STS region.
    pub region: String,
    /// Token formats accepted.
    pub token_versions: Vec<&'static str>,
}

/// Shared state of both routers.
#[derive(Clone)]
pub struct AppState(Arc<AppParts>);

/// Everything the routers share, assembled once at start-up.
pub struct AppParts {
    /// The vending pipeline (verifier, policy, STS).
    pub vendor: Vendor,
    /// Metrics registry, shared with the pipeline.
    pub metrics: Metrics,
    /// Readiness latch for `/readyz`.
    pub readiness: Readiness,
    /// Static discovery document.
    pub discovery: Discovery,
    /// Largest request body read.
    pub max_body_bytes: usize,
    /// Upper bound for one request.
    pub request_timeout: Duration,
    /// Per-client-address buckets (API and discovery).
    pub address_limits: AddressLimits,
    /// Trusted proxies and connection bounds of the API listener.
    pub server_limits: ServerLimits,
    /// Revocation's IAM side (DESIGN §13), when a database is configured.
    pub revocation_iam: Option<crate::revocation::iam::IamPolicies>,
}

impl AppState {
    /// Shares the parts between both routers.
    pub fn new(parts: AppParts) -> Self {
        Self(Arc::new(parts))
    }

    /// Takes one request from the client's `scope` budget:
    /// [`VendError::RateLimited`] (already counted) when it is spent,
    /// [`VendError::Unavailable`] when the shared buckets fail closed.
    pub(crate) async fn rate_check(
        &self,
        scope: AddressScope,
        client: Option<&ClientAddr>,
    ) -> Result<(), VendError> {
        match self
            .0
            .address_limits
            .check(scope, client, &self.0.metrics)
            .await
        {
            Ok(()) => Ok(()),
            Err(RateError::Limited(wait)) => Err(VendError::RateLimited(wait)),
            Err(RateError::Unavailable) => Err(VendError::Unavailable("rate_limit_unavailable")),
        }
    }

    /// The readiness latch.
    pub fn readiness(&self) -> &Readiness {
        &self.0.readiness
    }

    /// The metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }

    /// The pipeline.
    pub fn vendor(&self) -> &Vendor {
        &self.0.vendor
    }

    /// Revocation's IAM side, when a database is configured.
    pub fn revocation_iam(&self) -> Option<&crate::revocation::iam::IamPolicies> {
        self.0.revocation_iam.as_ref()
    }

    /// The approvals service, when `approvals` is configured (the web page
    /// calls it with a session's [`crate::approvals::Actor`]).
    pub fn approvals(&self) -> Option<&crate::approvals::Approvals> {
        self.0.vendor.approvals()
    }

    /// Largest request body read.
    pub fn max_body_bytes(&self) -> usize {
        self.0.max_body_bytes
    }

    /// Upper bound for one request.
    pub fn request_timeout(&self) -> Duration {
        self.0.request_timeout
    }

    /// The discovery document (its `audience`: the origins served).
    pub fn discovery(&self) -> &Discovery {
        &self.0.discovery
    }

    /// Trusted proxies and connection bounds of the API listener.
    pub fn server_limits(&self) -> &ServerLimits {
        &self.0.server_limits
    }
}
