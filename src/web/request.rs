//! What a handler reads off a request besides its body: the listener it came
//! in on ([`ListenerInfo`], put there by `crate::http`'s accept loop), the
//! header names tvm reads and writes, and the parts a caller proof is bound to
//! ([`request_context`]).
//!
//! Invariants: `X-Forwarded-Host` is believed only from a trusted proxy, and
//! only its right-most entry (the one that proxy set); an incoming
//! `X-Request-Id` is never read (the id ends up in AWS stamps, so the
//! middleware always generates it).

use axum::http::{header, HeaderMap, HeaderValue, Method, Uri};

use super::client_addr::ClientAddr;
use crate::auth::RequestContext;

/// Header a client sends with the origin it signed for (DESIGN §2, a hint).
pub const AUDIENCE_HINT_HEADER: &str = "x-tvm-audience";

/// The response header carrying the request id.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// What every request learns about the listener it came in on (the web page
/// is served only over https or on a loopback listener, DESIGN §12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListenerInfo {
    /// The connection is TLS (`listen.tls`).
    pub tls: bool,
    /// The listener is bound to a loopback address, so only this machine
    /// reaches it.
    pub loopback: bool,
}

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
        client: client.map(|c| c.ip),
    }
}
