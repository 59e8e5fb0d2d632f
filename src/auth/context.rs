//! The request a proof came with, as tvm received it, and the one value the
//! verifier derives from it for the rebuilt request (the `METHOD /path` target).
//!
//! Invariant: everything here is hostile input; the verifier only ever compares
//! it with configuration or hashes it, and sends STS values it computed itself.

use http::HeaderValue;

use super::error::VerifyError;

/// The request a proof came with, as tvm received it. Everything here is
/// hostile input; the verifier only ever *compares* it with configuration or
/// hashes it, and sends STS values it computed itself.
#[derive(Debug, Clone, Copy)]
pub struct RequestContext<'a> {
    /// The HTTP method (`POST`).
    pub method: &'a str,
    /// The path as received, without the query string (`/vend`).
    pub path: &'a str,
    /// The exact body bytes received.
    pub body: &'a [u8],
    /// The `X-Tvm-Audience` header, if any: a hint naming the origin signed for.
    pub audience_hint: Option<&'a [u8]>,
    /// The `Host` header, or `X-Forwarded-Host` when the peer is a trusted proxy.
    pub host: Option<&'a [u8]>,
    /// The client's address (the peer, or what a trusted proxy forwarded),
    /// for the ledger and the decision line; never used to verify.
    pub client: Option<std::net::IpAddr>,
}

impl<'a> RequestContext<'a> {
    /// A request with no hint and no `Host` (tests, single-origin services).
    pub fn new(method: &'a str, path: &'a str, body: &'a [u8]) -> Self {
        Self {
            method,
            path,
            body,
            audience_hint: None,
            host: None,
            client: None,
        }
    }
}

/// `{METHOD} {path}` as received. The router only hands over methods and paths
/// that are valid HTTP, hence printable ASCII; anything else is refused.
pub(super) fn target_header(ctx: &RequestContext<'_>) -> Result<HeaderValue, VerifyError> {
    HeaderValue::from_str(&format!("{} {}", ctx.method, ctx.path))
        .map_err(|_| VerifyError::Misconfigured("request target is not a valid header value"))
}
