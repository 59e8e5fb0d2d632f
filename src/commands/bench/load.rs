//! The load generator: a fixed number of workers, each with one keep-alive
//! HTTP/1.1 connection (hyper's low-level client), taking pre-built shots from a
//! shared list until the deadline or the list runs out.
//!
//! A shot is what one vend costs the caller: one request (`POST /vend` to tvm)
//! or, for the direct ceiling, the two STS calls a vend makes, back to back on
//! the worker's connection. Its latency, from the first byte sent to the last
//! byte of the last answer read, goes into the worker's HDR histogram; any
//! answer other than 200 (or a connection failure) counts as an error of its
//! kind and not as a latency sample.
//!
//! Invariants: each shot is used at most once (tokens are one-time); nothing is
//! built or signed inside the timed loop except the `http::Request` around the
//! pre-built parts.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use http::{HeaderMap, Method, Request};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// Highest latency the histograms hold (longer samples are clamped to it).
pub(crate) const MAX_LATENCY: Duration = Duration::from_secs(60);

/// One pre-built request.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    /// `GET` or `POST`.
    pub(crate) method: Method,
    /// Path and query.
    pub(crate) target: String,
    /// Every header, `host` included (hyper's low-level client adds none).
    pub(crate) headers: HeaderMap,
    /// The body.
    pub(crate) body: Bytes,
}

/// What one vend sends.
pub(crate) type Shot = Vec<Prepared>;

/// The outcome of one timed run.
#[derive(Debug)]
pub(crate) struct LoadResult {
    /// Shots answered 200 throughout.
    pub(crate) ok: u64,
    /// Failed shots by kind (`HTTP 403`, `connect`, `io`).
    pub(crate) errors: BTreeMap<String, u64>,
    /// Latency of the successful shots, in microseconds.
    pub(crate) latency: Histogram<u64>,
    /// From start until the last worker stopped.
    pub(crate) elapsed: Duration,
    /// The shots ran out before the deadline.
    pub(crate) exhausted: bool,
}

/// Drives `addr` with `concurrency` workers for `duration` (or until `shots`
/// run out), on a single-threaded runtime of its own thread like `wrk -t1`.
pub(crate) fn run(
    addr: SocketAddr,
    shots: Arc<Vec<Shot>>,
    concurrency: usize,
    duration: Duration,
) -> std::io::Result<LoadResult> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let next = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        let deadline = started + duration;
        let workers: Vec<_> = (0..concurrency)
            .map(|_| tokio::spawn(worker(addr, shots.clone(), next.clone(), deadline)))
            .collect();
        let mut total = LoadResult {
            ok: 0,
            errors: BTreeMap::new(),
            latency: new_histogram(),
            elapsed: Duration::ZERO,
            exhausted: false,
        };
        for w in workers {
            let out = w.await.map_err(std::io::Error::other)?;
            total.ok += out.ok;
            total.exhausted |= out.exhausted;
            for (k, v) in out.errors {
                *total.errors.entry(k).or_default() += v;
            }
            total
                .latency
                .add(&out.latency)
                .map_err(std::io::Error::other)?;
        }
        total.elapsed = started.elapsed();
        Ok(total)
    })
}

fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY.as_micros() as u64, 3).expect("valid bounds")
}

async fn worker(
    addr: SocketAddr,
    shots: Arc<Vec<Shot>>,
    next: Arc<AtomicUsize>,
    deadline: Instant,
) -> LoadResult {
    let mut out = LoadResult {
        ok: 0,
        errors: BTreeMap::new(),
        latency: new_histogram(),
        elapsed: Duration::ZERO,
        exhausted: false,
    };
    let mut conn: Option<SendRequest<Full<Bytes>>> = None;
    while Instant::now() < deadline {
        let Some(shot) = shots.get(next.fetch_add(1, Ordering::Relaxed)) else {
            out.exhausted = true;
            break;
        };
        let start = Instant::now();
        let mut failure = None;
        for prepared in shot {
            if conn.is_none() {
                conn = connect(addr).await;
                if conn.is_none() {
                    failure = Some("connect".to_owned());
                    break;
                }
            }
            let Some(sender) = conn.as_mut() else { break };
            let answer = send(sender, prepared).await;
            if matches!(answer, Ok((_, true))) {
                // tvm closes after an error answer to a request with a body.
                conn = None;
            }
            match answer {
                Ok((200, _)) => {}
                Ok((status, _)) => {
                    failure = Some(format!("HTTP {status}"));
                    break;
                }
                Err(_) => {
                    conn = None;
                    failure = Some("io".to_owned());
                    break;
                }
            }
        }
        match failure {
            None => {
                out.ok += 1;
                out.latency
                    .saturating_record(start.elapsed().as_micros().max(1) as u64);
            }
            Some(kind) => {
                if kind == "connect" {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                *out.errors.entry(kind).or_default() += 1;
            }
        }
    }
    out
}

/// One keep-alive HTTP/1.1 connection to `addr`, or `None` if it cannot be had.
async fn connect(addr: SocketAddr) -> Option<SendRequest<Full<Bytes>>> {
    let stream = TcpStream::connect(addr).await.ok()?;
    let _ = stream.set_nodelay(true);
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .ok()?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Some(sender)
}

/// Sends one prepared request and reads the whole answer; returns the status
/// and whether the server closes the connection after it (`Connection: close`).
async fn send(
    sender: &mut SendRequest<Full<Bytes>>,
    prepared: &Prepared,
) -> Result<(u16, bool), hyper::Error> {
    sender.ready().await?;
    let mut request = Request::new(Full::new(prepared.body.clone()));
    *request.method_mut() = prepared.method.clone();
    *request.uri_mut() = prepared
        .target
        .parse()
        .unwrap_or_else(|_| http::Uri::from_static("/"));
    *request.headers_mut() = prepared.headers.clone();
    let response = sender.send_request(request).await?;
    let status = response.status().as_u16();
    let closing = response
        .headers()
        .get(http::header::CONNECTION)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"close"));
    response.into_body().collect().await?;
    Ok((status, closing))
}

/// `GET http://ADDR{path}` on a fresh connection: the status, or `None`.
pub(crate) async fn get_status(addr: SocketAddr, path: &str) -> Option<u16> {
    let mut sender = connect(addr).await?;
    let mut headers = HeaderMap::new();
    headers.insert(http::header::HOST, addr.to_string().parse().ok()?);
    let prepared = Prepared {
        method: Method::GET,
        target: path.to_owned(),
        headers,
        body: Bytes::new(),
    };
    tokio::time::timeout(Duration::from_secs(2), send(&mut sender, &prepared))
        .await
        .ok()?
        .ok()
        .map(|(status, _)| status)
}
