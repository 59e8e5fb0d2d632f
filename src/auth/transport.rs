//! Sending the rebuilt `GetCallerIdentity` request.
//!
//! Owns: the [`IdentityTransport`] trait (tests inject a recording fake to prove
//! when no dial happened) and which schemes the production transport may speak
//! for the verification target. The client itself, its deadlines, TLS rules and
//! body cap live in [`crate::upstream::transport`], shared with tvm's own
//! `AssumeRole`.
//!
//! Invariant: the request is sent exactly as the verifier built it (a GET with
//! no body); plain `http` only when the configured endpoint is `http`.

use async_trait::async_trait;
use bytes::Bytes;

pub use crate::upstream::transport::{
    HyperTransport, TransportError, TransportResponse, MAX_RESPONSE_BYTES, TRANSPORT_TIMEOUT,
};

use super::VerificationTarget;
use crate::net::{Endpoint, Scheme};

/// Sends one rebuilt `GetCallerIdentity` request.
#[async_trait]
pub trait IdentityTransport: Send + Sync {
    /// Sends `request` (a GET with no body) and returns the bounded response.
    async fn send(&self, request: http::Request<()>) -> Result<TransportResponse, TransportError>;
}

impl HyperTransport {
    /// A transport for `target`: https only, unless the configured endpoint is http.
    pub fn for_target(target: &VerificationTarget) -> Result<Self, TransportError> {
        let allow_http = matches!(
            target,
            VerificationTarget::Endpoint { endpoint: ep, .. } if ep.scheme() == Scheme::Http
        );
        Self::new(allow_http)
    }

    /// A transport for one configured endpoint (`tvm dev`): http allowed only if it is http.
    pub fn for_endpoint(endpoint: &Endpoint) -> Result<Self, TransportError> {
        Self::new(endpoint.scheme() == Scheme::Http)
    }
}

#[async_trait]
impl IdentityTransport for HyperTransport {
    async fn send(&self, request: http::Request<()>) -> Result<TransportResponse, TransportError> {
        let (parts, ()) = request.into_parts();
        self.send_bytes(http::Request::from_parts(parts, Bytes::new()))
            .await
    }
}
