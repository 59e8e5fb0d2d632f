//! What a connection is doing, for the first-byte and idle timeouts of
//! [`super::serve`]: the stream wrapper notes every byte read, the service notes
//! requests in flight. hyper has no idle timeout of its own (its header-read
//! timer, also set, bounds a slow request head).
//!
//! Invariant: a connection with a request in flight is never idle, so a vend
//! waiting on STS is not cut off; the request timeout bounds it instead.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;

/// The shared activity record of one connection.
#[derive(Debug)]
pub(super) struct Activity {
    opened: Instant,
    /// Milliseconds after `opened` of the last byte read or response finished.
    last_ms: AtomicU64,
    in_flight: AtomicUsize,
    any_bytes: AtomicBool,
}

/// When the connection should be closed unless something happens first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Deadline {
    /// A request is in flight: no deadline.
    Busy,
    /// Nothing was ever sent: close at this instant (a first-byte timeout).
    FirstByte(Instant),
    /// Idle between requests (or mid-head): close at this instant.
    Idle(Instant),
}

impl Activity {
    pub(super) fn new() -> Arc<Self> {
        Arc::new(Self {
            opened: Instant::now(),
            last_ms: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            any_bytes: AtomicBool::new(false),
        })
    }

    fn touch(&self) {
        let ms = Instant::now()
            .saturating_duration_since(self.opened)
            .as_millis();
        self.last_ms
            .fetch_max(u64::try_from(ms).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// A request head was parsed and handed to the router.
    pub(super) fn request_started(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.touch();
    }

    /// The router produced the response.
    pub(super) fn request_finished(&self) {
        self.touch();
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
    }

    /// The current deadline for `first_byte` and `idle` timeouts.
    pub(super) fn deadline(&self, first_byte: Duration, idle: Duration) -> Deadline {
        if self.in_flight.load(Ordering::Relaxed) > 0 {
            return Deadline::Busy;
        }
        if !self.any_bytes.load(Ordering::Relaxed) {
            return Deadline::FirstByte(self.opened + first_byte);
        }
        let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        Deadline::Idle(self.opened + last + idle)
    }
}

/// A stream that records reads in an [`Activity`].
#[derive(Debug)]
pub(super) struct ActivityStream<S> {
    inner: S,
    activity: Arc<Activity>,
}

impl<S> ActivityStream<S> {
    pub(super) fn new(inner: S, activity: Arc<Activity>) -> Self {
        Self { inner, activity }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for ActivityStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let res = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.any_bytes.store(true, Ordering::Relaxed);
            self.activity.touch();
        }
        res
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for ActivityStream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn deadlines_follow_bytes_and_requests() {
        let (mut client, server) = tokio::io::duplex(64);
        let activity = Activity::new();
        let opened = Instant::now();
        let (first, idle) = (Duration::from_secs(2), Duration::from_secs(5));
        let Deadline::FirstByte(t) = activity.deadline(first, idle) else {
            panic!("a new connection waits for its first byte");
        };
        assert!(t <= opened + first);
        let mut stream = ActivityStream::new(server, activity.clone());
        tokio::time::sleep(Duration::from_millis(20)).await;
        client.write_all(b"G").await.unwrap();
        let mut b = [0u8; 1];
        stream.read_exact(&mut b).await.unwrap();
        let after_byte = Instant::now();
        let Deadline::Idle(t) = activity.deadline(first, idle) else {
            panic!("after a byte, the idle timeout applies");
        };
        assert!(t + Duration::from_millis(5) >= after_byte - Duration::from_millis(20) + idle);
        activity.request_started();
        assert_eq!(activity.deadline(first, idle), Deadline::Busy);
        tokio::time::sleep(Duration::from_millis(50)).await;
        activity.request_finished();
        let Deadline::Idle(later) = activity.deadline(first, idle) else {
            panic!("idle again after the answer");
        };
        assert!(
            later >= t + Duration::from_millis(40),
            "the answer restarts the idle clock"
        );
    }
}
