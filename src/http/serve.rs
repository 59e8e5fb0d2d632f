//! The accept loop for both listeners, on hyper directly so that slow, idle or
//! numerous clients cannot hold resources: connection slots per listener and per
//! client address with a reserve for newcomers ([`SlotLimits`]), a first-byte
//! timeout for new connections, an idle timeout between keep-alive requests, a
//! header-read timeout (hyper only enforces it with a timer, which
//! `axum::serve` does not set), and graceful shutdown that lets in-flight
//! requests finish.
//!
//! Invariants: every request carries a [`ClientAddr`] resolved from the TCP peer
//! (and `X-Forwarded-For` only when the peer is a trusted proxy); a refused or
//! timed-out connection is counted in `tvm_connections_refused_total` and in the
//! periodic refusal summary, never logged one line each.
//!
//! With a [`TlsAcceptor`] in the options, the handshake runs in the connection's
//! own task (a slow handshake never stalls the accept loop), inside its slot and
//! over the same activity tracking, before the same HTTP serving.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::http::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

use super::activity::{Activity, ActivityStream, Deadline};
use super::slots::{Slot, SlotLimits, Slots};
use super::tls::TlsAcceptor;
use crate::metrics::Metrics;
use crate::web::{ClientAddr, ListenerInfo, TrustedProxies};

/// Time a client has to send a complete request head (hyper's timer also runs
/// while a keep-alive connection waits for its next request, so it caps the
/// idle timeout too): slowloris clients are cut off.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a connection closed for idleness may take to finish writing before
/// it is dropped outright (a client that never reads its answers).
const CLOSE_GRACE: Duration = Duration::from_secs(5);

/// How often the accept loop writes the refusal summary, if one is due.
const SUMMARY_TICK: Duration = Duration::from_secs(1);

/// How one listener admits and keeps connections.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// `api` or `admin`: the `listener` label of refused connections.
    pub listener: &'static str,
    /// Connection slots.
    pub slots: SlotLimits,
    /// A new connection that sends nothing for this long is closed.
    pub first_byte_timeout: Duration,
    /// A keep-alive connection idle this long is closed.
    pub idle_timeout: Duration,
    /// Peers whose `X-Forwarded-For` is believed; exempt from the per-address cap.
    pub trusted_proxies: TrustedProxies,
    /// Where refusals are counted.
    pub metrics: Metrics,
    /// HTTPS when set (`listen.tls`); plain HTTP otherwise.
    pub tls: Option<TlsAcceptor>,
}

/// Serves `router` on `listener` until `shutdown` resolves; then stops
/// accepting and waits for open connections to finish their requests.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    options: ServeOptions,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let options = Arc::new(options);
    let slots = Slots::new(options.slots);
    let info = ListenerInfo {
        tls: options.tls.is_some(),
        loopback: listener.local_addr()?.ip().is_loopback(),
    };
    let (stop, stopped) = watch::channel(false);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .keep_alive(true);
    let mut summary = tokio::time::interval(SUMMARY_TICK);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => break,
            _ = summary.tick() => {
                options.metrics.flush_refusal_summary();
                continue;
            }
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let trusted = options.trusted_proxies.contains(peer.ip());
        let slot = match slots.try_acquire(peer.ip(), trusted) {
            Ok(slot) => slot,
            Err(refused) => {
                options
                    .metrics
                    .connection_refused(options.listener, refused.reason());
                drop(stream);
                continue;
            }
        };
        let activity = Activity::new();
        let service = {
            let (options, started, finished) =
                (options.clone(), activity.clone(), activity.clone());
            router
                .clone()
                .map_request(move |mut req: Request<Incoming>| {
                    let client = options.trusted_proxies.resolve(peer, req.headers());
                    req.extensions_mut().insert::<ClientAddr>(client);
                    req.extensions_mut().insert::<ListenerInfo>(info);
                    started.request_started();
                    req
                })
                .map_response(move |resp| {
                    finished.request_finished();
                    resp
                })
        };
        let io = ActivityStream::new(stream, activity.clone());
        let service = TowerToHyperService::new(service);
        let Some(tls) = options.tls.clone() else {
            let conn = http.serve_connection(TokioIo::new(io), service);
            tokio::spawn(drive(
                conn,
                activity,
                options.clone(),
                stopped.clone(),
                slot,
            ));
            continue;
        };
        let (http, options, stopped) = (http.clone(), options.clone(), stopped.clone());
        tokio::spawn(async move {
            match tls.accept(io).await {
                Ok(io) => {
                    let conn = http.serve_connection(TokioIo::new(io), service);
                    drive(conn, activity, options, stopped, slot).await;
                }
                Err(e) => {
                    tracing::debug!(error = %e, %peer, "TLS handshake failed");
                    options
                        .metrics
                        .connection_refused(options.listener, "tls_handshake");
                }
            }
        });
    }
    drop(listener);
    let _ = stop.send(true);
    slots.wait_empty().await;
    Ok(())
}

/// Runs one connection to its end: closes it when it stays silent past its
/// deadline or when the server stops, and frees its slot last.
async fn drive<I, S>(
    conn: hyper::server::conn::http1::Connection<TokioIo<I>, S>,
    activity: Arc<Activity>,
    options: Arc<ServeOptions>,
    mut stopped: watch::Receiver<bool>,
    slot: Slot,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    S: hyper::service::HttpService<Incoming>,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    S::ResBody: 'static,
    <S::ResBody as hyper::body::Body>::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    tokio::pin!(conn);
    let (first_byte, idle) = (options.first_byte_timeout, options.idle_timeout);
    loop {
        // Deadlines move as bytes and requests come (and a request in flight
        // has none), so look again at least every half of the shorter timeout.
        let recheck = tokio::time::Instant::now() + first_byte.min(idle) / 2;
        let wake = match activity.deadline(first_byte, idle) {
            Deadline::Busy => recheck,
            Deadline::FirstByte(t) | Deadline::Idle(t) => t.min(recheck),
        };
        let sleep = tokio::time::sleep_until(wake);
        tokio::select! {
            _ = conn.as_mut() => break,
            _ = until_stopped(&mut stopped) => {
                conn.as_mut().graceful_shutdown();
                let _ = conn.as_mut().await;
                break;
            }
            _ = sleep => {
                let now = tokio::time::Instant::now();
                match activity.deadline(first_byte, idle) {
                    Deadline::FirstByte(t) if t <= now => options
                        .metrics
                        .connection_refused(options.listener, "first_byte_timeout"),
                    Deadline::Idle(t) if t <= now => {}
                    _ => continue,
                }
                conn.as_mut().graceful_shutdown();
                let _ = tokio::time::timeout(CLOSE_GRACE, conn.as_mut()).await;
                break;
            }
        }
    }
    drop(slot);
}

/// Resolves once the server stops.
async fn until_stopped(rx: &mut watch::Receiver<bool>) {
    loop {
        if *rx.borrow_and_update() {
            return;
        }
        if rx.changed().await.is_err() {
            return std::future::pending().await;
        }
    }
}

#[cfg(test)]
mod tests;
