//! A minimal HTTP client for the tvm API (discovery and vend), over TLS with the
//! system roots, or plain HTTP to loopback only: vended credentials never cross
//! a network in clear.
//!
//! Invariants: one request, one deadline ([`REQUEST_TIMEOUT`], body included),
//! at most [`MAX_RESPONSE_BYTES`] read; a server's bytes reach a terminal only
//! through [`printable`].

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use super::error::ClientError;
use super::visible::visible_bytes;

/// Largest response body read from tvm.
pub(crate) const MAX_RESPONSE_BYTES: usize = 64 * 1024;
/// Time allowed for one request to tvm.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// An answer from tvm.
#[derive(Debug)]
pub(crate) struct Response {
    /// HTTP status.
    pub(crate) status: u16,
    /// `Retry-After` in seconds, when given as a number.
    pub(crate) retry_after: Option<Duration>,
    /// The body (at most [`MAX_RESPONSE_BYTES`]).
    pub(crate) body: Bytes,
}

/// A server's answer as text safe to print on a terminal ([`visible_bytes`]).
pub(crate) fn printable(body: &[u8]) -> String {
    visible_bytes(body)
}

/// Checks the tvm base URL: https, or http to a loopback host.
pub fn check_base_url(url: &str) -> Result<String, ClientError> {
    let base = url.trim_end_matches('/');
    let endpoint = crate::config::EndpointUrl::parse(base).map_err(ClientError::Url)?;
    Ok(endpoint.to_url())
}

/// Sends one request; the answer may be at most [`MAX_RESPONSE_BYTES`].
pub(crate) async fn send(
    method: http::Method,
    url: &str,
    headers: &[(&str, String)],
    body: Bytes,
) -> Result<Response, ClientError> {
    send_limited(method, url, headers, body, MAX_RESPONSE_BYTES).await
}

/// [`send`] with another cap on the answer (a page of the audit export).
pub(crate) async fn send_limited(
    method: http::Method,
    url: &str,
    headers: &[(&str, String)],
    body: Bytes,
    max_response_bytes: usize,
) -> Result<Response, ClientError> {
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()
        .map_err(|e| ClientError::Transport(format!("no TLS roots: {e}")))?
        .https_or_http()
        .enable_http1()
        .build();
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build(connector);
    let mut req = http::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let req = req
        .body(Full::new(body))
        .map_err(|e| ClientError::Url(e.to_string()))?;
    // One deadline for the whole exchange, body included.
    let exchange = async {
        let resp = client
            .request(req)
            .await
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = Limited::new(resp.into_body(), max_response_bytes)
            .collect()
            .await
            .map_err(|e| ClientError::Transport(e.to_string()))?
            .to_bytes();
        Ok(Response {
            status,
            retry_after,
            body,
        })
    };
    tokio::time::timeout(REQUEST_TIMEOUT, exchange)
        .await
        .map_err(|_| ClientError::Transport("timed out".into()))?
}

#[cfg(test)]
mod tests {
    use super::printable;
    use crate::client::error::describe_error;

    #[test]
    fn server_text_is_printed_without_control_characters() {
        let shown = printable(b"{\"Code\":\"X\"}\x1b]52;c;ZXZpbA==\x07\r\x1b[2Jok\xff");
        assert!(!shown.chars().any(char::is_control), "{shown:?}");
        let line = describe_error(
            "{\"Code\":\"X\\u001b[2J\",\"Message\":\"a\\u2028b\\u202ec\\nd\",\"RequestId\":\"r\"}",
        );
        assert_eq!(line, "X\\u{1b}[2J: a\\u{2028}b\\u{202e}c\\nd (RequestId r)");
        assert!(
            shown.starts_with("{\"Code\":\"X\"}\\u{1b}]52;c;ZXZpbA=="),
            "{shown:?}"
        );
        assert!(shown.ends_with("ok\u{fffd}"), "{shown:?}");
    }
}
