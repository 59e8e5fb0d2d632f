//! The HTTP client tvm talks to STS with: the verifier's rebuilt
//! `GetCallerIdentity` ([`crate::auth::IdentityTransport`]) and tvm's own signed
//! `AssumeRole` ([`crate::sts::aws`]) share these rules and this code.
//!
//! Owns: [`HyperTransport`] (hyper-util's pooled keep-alive client over rustls,
//! built once), its [`TransportResponse`] and [`TransportError`].
//!
//! Invariants: a request is sent exactly as its caller built it (nothing from a
//! tvm caller is forwarded); TLS is verified against the platform's native
//! roots; plain `http` is refused unless the configured endpoint is `http`;
//! redirects are never followed (hyper has no redirect logic, and a 3xx is
//! classified as an STS error by the verifier); the whole exchange is bounded by
//! [`TRANSPORT_TIMEOUT`] and the body by [`MAX_RESPONSE_BYTES`].

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::StatusCode;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// Deadline for one STS call, connect plus response (defined in
/// [`crate::config`], whose `server.request_timeout` must outlive it).
pub use crate::config::TRANSPORT_TIMEOUT;

/// Deadline for the TCP connect alone, inside [`TRANSPORT_TIMEOUT`].
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Largest STS response body read; beyond it we stop reading and fail. A real
/// `GetCallerIdentity` answer is well under 1 KiB, an `AssumeRole` one under 4 KiB.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// What came back from STS: status, `Content-Type`, request id, and at most
/// [`MAX_RESPONSE_BYTES`] of body.
#[derive(Clone, PartialEq, Eq)]
pub struct TransportResponse {
    /// The HTTP status.
    pub status: StatusCode,
    /// The `Content-Type` header, if present and visible ASCII.
    pub content_type: Option<String>,
    /// `x-amzn-RequestId` (else `x-amz-request-id`), if present and visible
    /// ASCII: the header the AWS SDK reads a request id from.
    pub request_id: Option<String>,
    /// The body.
    pub body: Bytes,
}

impl fmt::Debug for TransportResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportResponse")
            .field("status", &self.status)
            .field("content_type", &self.content_type)
            .field("request_id", &self.request_id)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// Why no response could be obtained.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// Nothing within [`TRANSPORT_TIMEOUT`].
    #[error("timed out")]
    Timeout,
    /// Could not connect (DNS, TCP, TLS handshake, certificate).
    #[error("connect failed: {0}")]
    Connect(String),
    /// The body exceeded [`MAX_RESPONSE_BYTES`].
    #[error("response body exceeds the size cap")]
    BodyTooLarge,
    /// The exchange failed after connecting.
    #[error("request failed: {0}")]
    Request(String),
    /// The client could not be built (e.g. no native root certificates).
    #[error("transport setup failed: {0}")]
    Setup(String),
    /// This replica's cap on concurrent STS calls stayed full: nothing was sent.
    #[error("too many STS calls in flight")]
    Busy,
}

/// The production transport: hyper-util's pooled client over rustls, built once.
#[derive(Clone)]
pub struct HyperTransport {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    pub(crate) timeout: Duration,
}

impl fmt::Debug for HyperTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HyperTransport")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl HyperTransport {
    /// A transport that speaks https with verified TLS, and http only if `allow_http`.
    pub fn new(allow_http: bool) -> Result<Self, TransportError> {
        let provider = rustls::crypto::aws_lc_rs::default_provider();
        let builder = HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(provider)
            .map_err(|e| TransportError::Setup(e.to_string()))?;
        let builder = if allow_http {
            builder.https_or_http()
        } else {
            builder.https_only()
        };
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(CONNECT_TIMEOUT));
        let connector = builder.enable_http1().wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        Ok(Self {
            client,
            timeout: TRANSPORT_TIMEOUT,
        })
    }

    /// Sends `request` and returns the bounded response, all within the
    /// transport's deadline ([`TRANSPORT_TIMEOUT`]).
    pub async fn send_bytes(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<TransportResponse, TransportError> {
        let (parts, body) = request.into_parts();
        let request = http::Request::from_parts(parts, Full::new(body));
        tokio::time::timeout(self.timeout, self.exchange(request))
            .await
            .map_err(|_| TransportError::Timeout)?
    }

    async fn exchange(
        &self,
        request: http::Request<Full<Bytes>>,
    ) -> Result<TransportResponse, TransportError> {
        let response = self.client.request(request).await.map_err(|e| {
            if e.is_connect() {
                TransportError::Connect(error_chain(&e))
            } else {
                TransportError::Request(error_chain(&e))
            }
        })?;
        let status = response.status();
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let headers = response.headers();
        let request_id = ["x-amzn-requestid", "x-amz-request-id"]
            .into_iter()
            .find_map(|name| headers.get(name))
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = Limited::new(response.into_body(), MAX_RESPONSE_BYTES)
            .collect()
            .await
            .map_err(|e| {
                if e.downcast_ref::<LengthLimitError>().is_some() {
                    TransportError::BodyTooLarge
                } else {
                    TransportError::Request(e.to_string())
                }
            })?
            .to_bytes();
        Ok(TransportResponse {
            status,
            content_type,
            request_id,
            body,
        })
    }
}

/// The error and its sources, for the operator's log. hyper's messages name the
/// failure (refused, certificate, reset), never the request URI or headers.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    /// Serves one canned HTTP/1.1 response on 127.0.0.1 and returns its URL base.
    async fn serve_once(response: Vec<u8>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 4096];
            let _ = sock.read(&mut buf).await;
            let _ = sock.write_all(&response).await;
            let _ = sock.shutdown().await;
        });
        format!("http://{addr}")
    }

    fn get(url: &str) -> http::Request<Bytes> {
        http::Request::get(format!("{url}/?Action=GetCallerIdentity"))
            .body(Bytes::new())
            .unwrap()
    }

    #[tokio::test]
    async fn reads_status_content_type_and_body() {
        let base = serve_once(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/xml\r\ncontent-length: 5\r\n\r\nhello".to_vec(),
        )
        .await;
        let t = HyperTransport::new(true).unwrap();
        let r = t.send_bytes(get(&base)).await.unwrap();
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.content_type.as_deref(), Some("text/xml"));
        assert_eq!(&r.body[..], b"hello");
    }

    #[tokio::test]
    async fn does_not_follow_redirects() {
        let base = serve_once(
            b"HTTP/1.1 302 Found\r\nlocation: http://169.254.169.254/\r\ncontent-length: 0\r\n\r\n"
                .to_vec(),
        )
        .await;
        let r = HyperTransport::new(true)
            .unwrap()
            .send_bytes(get(&base))
            .await
            .unwrap();
        assert_eq!(r.status, StatusCode::FOUND);
    }

    #[tokio::test]
    async fn caps_the_body() {
        let body = vec![b'a'; MAX_RESPONSE_BYTES + 1];
        let mut resp =
            format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len()).into_bytes();
        resp.extend_from_slice(&body);
        let base = serve_once(resp).await;
        let err = HyperTransport::new(true)
            .unwrap()
            .send_bytes(get(&base))
            .await
            .unwrap_err();
        assert_eq!(err, TransportError::BodyTooLarge);
    }

    #[tokio::test]
    async fn https_only_refuses_http() {
        let base = serve_once(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n".to_vec()).await;
        let err = HyperTransport::new(false)
            .unwrap()
            .send_bytes(get(&base))
            .await
            .unwrap_err();
        assert!(matches!(err, TransportError::Connect(_)), "{err:?}");
    }

    #[tokio::test]
    async fn times_out() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let hold = tokio::spawn(async move {
            let (_sock, _) = listener.accept().await.unwrap();
            tokio::time::sleep(Duration::from_secs(30)).await;
        });
        let mut t = HyperTransport::new(true).unwrap();
        t.timeout = Duration::from_millis(200);
        let err = t
            .send_bytes(get(&format!("http://{addr}")))
            .await
            .unwrap_err();
        assert_eq!(err, TransportError::Timeout);
        hold.abort();
    }
}
