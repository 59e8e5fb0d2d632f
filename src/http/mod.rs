//! The router owner: builds the API router (the JSON routes of [`crate::api`]
//! and the web page of [`crate::ui`] under one middleware stack) and the admin
//! router (`/livez`, `/readyz`, `/healthz`, `/metrics`), and serves them:
//! connection admission (slots, first-byte and idle timeouts), TLS, and the
//! middleware every API request passes.
//!
//! Owns: request ids (always generated here from a CSPRNG; an incoming
//! `X-Request-Id` is ignored because the id ends up in AWS stamps), the request
//! span, per-request timeout, HTTP metrics, the JSON fallbacks for unknown
//! routes and methods, the 501 `NOT_CONFIGURED` of the routes that need a
//! database on a tvm without one, and how each listener admits connections.
//! What the routes share (state, client address, error format, readiness,
//! rate limits, extractors) is [`crate::web`]'s, one layer below.
//! Invariant: nothing here decides policy or answers a route of its own
//! besides the fallbacks, the admin probes and `NOT_CONFIGURED`.

mod activity;
mod admin;
mod middleware;
mod not_configured;
mod serve;
mod slots;
mod tls;

use axum::routing::get;
use axum::Router;

pub use serve::{serve, ServeOptions, HEADER_READ_TIMEOUT};
pub use slots::SlotLimits;
pub use tls::{TlsAcceptor, TlsError, HANDSHAKE_TIMEOUT, RELOAD_POLL_INTERVAL};

// What startup and the tests reach under `http` lives in `web`.
pub use crate::web::{
    AddressLimits, AddressScope, ApiError, ApiErrorKind, AppParts, AppState, ClientAddr, Discovery,
    ListenerInfo, Readiness, TrustedProxies, AUDIENCE_HINT_HEADER,
};

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
    /// How the API listener admits connections.
    pub fn api_serve_options(&self) -> ServeOptions {
        let l = self.server_limits();
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
            metrics: self.metrics().clone(),
            tls: None,
        }
    }

    /// How the admin listener admits connections: small fixed bounds, and no
    /// trusted proxies (probes come straight from the kubelet).
    pub fn admin_serve_options(&self) -> ServeOptions {
        let l = self.server_limits();
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
            metrics: self.metrics().clone(),
            tls: None,
        }
    }
}

/// The API router: the JSON API and the web page, with the request middleware
/// and the JSON fallbacks.
pub fn api_router(state: AppState) -> Router {
    Router::new()
        .merge(crate::api::router())
        .merge(crate::ui::router())
        .fallback(middleware::not_found)
        .method_not_allowed_fallback(middleware::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            not_configured::require_database,
        ))
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
