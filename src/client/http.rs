//! A minimal HTTP client for the tvm API (discovery and vend), over TLS with the
//! system roots, or plain HTTP to loopback only: vended credentials never cross
//! a network in clear.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// Largest response body read from tvm.
pub(crate) const MAX_RESPONSE_BYTES: usize = 64 * 1024;
/// Time allowed for one request to tvm.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A failed request to tvm.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The URL is not acceptable.
    #[error("invalid tvm URL: {0}")]
    Url(String),
    /// Transport failure.
    #[error("request to tvm failed: {0}")]
    Transport(String),
    /// tvm answered with an error.
    #[error("tvm answered {status}: {body}")]
    Status {
        /// HTTP status.
        status: u16,
        /// The error body (tvm's generic JSON error, no secrets).
        body: String,
    },
    /// The answer could not be understood.
    #[error("unexpected answer from tvm: {0}")]
    Decode(String),
    /// Local credentials could not be loaded or used.
    #[error("{0}")]
    Credentials(String),
}

/// Checks the tvm base URL: https, or http to a loopback host.
pub fn check_base_url(url: &str) -> Result<String, ClientError> {
    let base = url.trim_end_matches('/');
    let endpoint = crate::config::EndpointUrl::parse(base).map_err(ClientError::Url)?;
    Ok(endpoint.to_url())
}

/// Sends one request and returns (status, body).
pub(crate) async fn send(
    method: http::Method,
    url: &str,
    headers: &[(&str, String)],
    body: Bytes,
) -> Result<(u16, Bytes), ClientError> {
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
        let body = Limited::new(resp.into_body(), MAX_RESPONSE_BYTES)
            .collect()
            .await
            .map_err(|e| ClientError::Transport(e.to_string()))?
            .to_bytes();
        Ok((status, body))
    };
    tokio::time::timeout(REQUEST_TIMEOUT, exchange)
        .await
        .map_err(|_| ClientError::Transport("timed out".into()))?
}
