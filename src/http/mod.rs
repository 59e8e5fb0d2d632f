//! The HTTP surface: the API router (`POST /vend`, `GET /profiles`,
//! `GET /.well-known/tvm`) and the admin router (`/livez`, `/readyz`,
//! `/healthz`, `/metrics`), with the middleware they share.
//!
//! Owns: request ids (always generated here from a CSPRNG; an incoming
//! `X-Request-Id` is ignored because the id ends up in AWS stamps), the request
//! span, per-request timeout, HTTP metrics, the error wire format, the client
//! address ([`ClientAddr`], trusted proxies), the per-address rate limits, and
//! connection admission (slots, first-byte and idle timeouts).
//! Invariant: handlers read as named steps; nothing here decides policy.

mod activity;
mod admin;
mod client_addr;
mod discovery;
mod error;
mod extract;
mod middleware;
mod profiles;
mod ratelimit;
mod readiness;
mod refused;
mod requests;
mod serve;
mod slots;
mod tls;
mod vend;

use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, HeaderMap, HeaderValue, Method, Uri};
use axum::routing::{get, post};
use axum::Router;

pub use client_addr::{ClientAddr, TrustedProxies};
pub use error::{ApiError, ApiErrorKind};
pub(crate) use middleware::{read_body, BodyError};
pub use ratelimit::{AddressLimits, AddressScope};
pub use readiness::Readiness;
pub(crate) use refused::log as log_refusal;
pub use serve::{serve, ListenerInfo, ServeOptions, HEADER_READ_TIMEOUT};
pub use slots::SlotLimits;
pub use tls::{TlsAcceptor, TlsError, HANDSHAKE_TIMEOUT, RELOAD_POLL_INTERVAL};

use crate::auth::RequestContext;
use crate::config::ServerLimits;
use crate::metrics::Metrics;
use crate::vend::Vendor;

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
}

/// Open connections allowed on the admin listener (probes and scrapes).
pub const ADMIN_MAX_CONNECTIONS: usize = 64;

/// Admin connections one address may hold: a kubelet and a Prometheus need one
/// or two each, so a single address cannot hold the listener.
pub const ADMIN_MAX_CONNECTIONS_PER_ADDRESS: usize = 4;

/// Admin slots only an address without a connection may take, so that probes
/// get in while a few addresses hold the rest (see [`SlotLimits`]).
pub const ADMIN_RESERVED_CONNECTIONS: usize = 16;

/// Share of API slots kept for addresses without a connection (1/16).
const API_RESERVED_SHARE: usize = 16;

impl AppState {
    /// Shares the parts between both routers.
    pub fn new(parts: AppParts) -> Self {
        Self(Arc::new(parts))
    }

    /// How the API listener admits connections.
    pub fn api_serve_options(&self) -> ServeOptions {
        let l = &self.0.server_limits;
        ServeOptions {
            listener: "api",
            slots: SlotLimits {
                max: l.max_connections,
                per_address: l.max_connections_per_address,
                reserved: l.max_connections / API_RESERVED_SHARE,
            },
            first_byte_timeout: l.first_byte_timeout,
            idle_timeout: l.idle_timeout,
            trusted_proxies: TrustedProxies::new(l.trusted_proxies.clone()),
            metrics: self.0.metrics.clone(),
            tls: None,
        }
    }

    /// How the admin listener admits connections: small fixed bounds, and no
    /// trusted proxies (probes come straight from the kubelet).
    pub fn admin_serve_options(&self) -> ServeOptions {
        let l = &self.0.server_limits;
        ServeOptions {
            listener: "admin",
            slots: SlotLimits {
                max: ADMIN_MAX_CONNECTIONS,
                per_address: ADMIN_MAX_CONNECTIONS_PER_ADDRESS,
                reserved: ADMIN_RESERVED_CONNECTIONS,
            },
            first_byte_timeout: l.first_byte_timeout,
            idle_timeout: l.idle_timeout,
            trusted_proxies: TrustedProxies::default(),
            metrics: self.0.metrics.clone(),
            tls: None,
        }
    }

    /// Takes one request from the client's `scope` budget:
    /// [`VendError::RateLimited`] (already counted) when it is spent,
    /// [`VendError::Unavailable`] when the shared buckets fail closed.
    pub(crate) async fn rate_check(
        &self,
        scope: AddressScope,
        client: Option<&ClientAddr>,
    ) -> Result<(), crate::vend::VendError> {
        use crate::state::RateError;
        use crate::vend::VendError;
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

    /// The approvals service, when `approvals` is configured (the web page
    /// calls it with a session's [`crate::approvals::Actor`]).
    pub fn approvals(&self) -> Option<&crate::approvals::Approvals> {
        self.0.vendor.approvals()
    }

    /// Largest request body read.
    pub fn max_body_bytes(&self) -> usize {
        self.0.max_body_bytes
    }

    /// The discovery document (its `audience`: the origins served).
    pub fn discovery(&self) -> &Discovery {
        &self.0.discovery
    }
}

/// Header a client sends with the origin it signed for (DESIGN §2, a hint).
pub const AUDIENCE_HINT_HEADER: &str = "x-tvm-audience";

/// The parts of a request a proof is bound to, as the verifier compares them.
/// `X-Forwarded-Host` is believed only from a trusted proxy; its right-most
/// entry is the one that proxy set.
pub(crate) fn request_context<'a>(
    method: &'a Method,
    uri: &'a Uri,
    headers: &'a HeaderMap,
    body: &'a [u8],
    client: Option<&ClientAddr>,
) -> RequestContext<'a> {
    let forwarded_host = client
        .filter(|c| c.via_trusted_proxy)
        .and_then(|_| headers.get("x-forwarded-host"))
        .map(|v| {
            let v = v.as_bytes();
            let start = v.iter().rposition(|&b| b == b',').map_or(0, |i| i + 1);
            v[start..].trim_ascii()
        });
    RequestContext {
        method: method.as_str(),
        path: uri.path(),
        body,
        audience_hint: headers.get(AUDIENCE_HINT_HEADER).map(HeaderValue::as_bytes),
        host: forwarded_host.or_else(|| headers.get(header::HOST).map(HeaderValue::as_bytes)),
    }
}

/// The API router.
pub fn api_router(state: AppState) -> Router {
    Router::new()
        .route("/vend", post(vend::vend))
        .route("/profiles", get(profiles::profiles))
        .route("/requests", post(requests::create).get(requests::list))
        .route("/requests/{id}", get(requests::show))
        .route("/requests/{id}/approve", post(requests::approve))
        .route("/requests/{id}/deny", post(requests::deny))
        .route("/.well-known/tvm", get(discovery::discovery))
        .merge(crate::ui::router())
        .fallback(middleware::not_found)
        .method_not_allowed_fallback(middleware::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::observe,
        ))
        .layer(axum::middleware::from_fn(crate::ui::strict_headers))
        .with_state(state)
}

/// The admin router (probes and metrics).
pub fn admin_router(state: AppState) -> Router {
    Router::new()
        .route("/livez", get(admin::livez))
        .route("/healthz", get(admin::livez))
        .route("/readyz", get(admin::readyz))
        .route("/metrics", get(admin::metrics))
        .fallback(middleware::not_found)
        .with_state(state)
}
