//! Webhooks (DESIGN §12): events written to an outbox table in the transaction
//! of the change, delivered by a background task with backoff until delivered
//! or [`MAX_DELIVERY_AGE`] old.
//!
//! Invariants: a body is `{"id", "event", "text", "request"}` with `id` stable
//! across attempts; each attempt is signed afresh (`X-Tvm-Timestamp`,
//! `X-Tvm-Signature: sha256=HMAC("{ts}.{body}")`); `text` is a
//! [`WebhookText`], whose every interpolated field is escaped (`&<>` as
//! entities, no control, line break or bidi character, no Markdown link); a
//! webhook URL is a secret and never logged (the outbox keeps a digest of it,
//! and log lines name the webhook by index); delivery never blocks or fails a
//! vend. Several replicas may run the deliverer: a row is
//! leased by a conditional update of `next_attempt_at` before it is sent.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hmac::{Hmac, Mac};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{Any, Row, Transaction};

use crate::clock::Clock;
use crate::metrics::Metrics;

/// The events a webhook may subscribe to, and a webhook as configured: settings
/// types of [`crate::config`].
pub use crate::config::{WebhookSettings, EVENTS};

/// An event not delivered within this long is given up (DESIGN §12: 24h).
pub const MAX_DELIVERY_AGE: Duration = Duration::from_secs(24 * 3_600);

/// Longest wait between two attempts.
const MAX_BACKOFF_SECS: i64 = 300;

/// How long one attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// How often the deliverer looks for due rows.
const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// A row is leased to one deliverer this long while it is being sent.
const LEASE_SECS: i64 = 60;

/// Rows taken per poll.
const BATCH: i64 = 50;

/// A webhook ready to deliver to.
#[derive(Clone)]
pub struct WebhookTarget {
    url: String,
    events: Vec<String>,
    secret: Vec<u8>,
    /// Digest of the URL: the outbox's name for it.
    key: String,
}

impl std::fmt::Debug for WebhookTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookTarget")
            .field("events", &self.events)
            .finish_non_exhaustive()
    }
}

impl WebhookTarget {
    /// Builds a target from its URL, events and secret.
    pub fn new(url: String, events: Vec<String>, secret: Vec<u8>) -> Self {
        let key = hex::encode(Sha256::digest(url.as_bytes()));
        Self {
            url,
            events,
            secret,
            key,
        }
    }

    /// Reads `secret_file` (trailing newline dropped).
    pub fn load(s: &WebhookSettings) -> std::io::Result<Self> {
        let mut secret = std::fs::read(&s.secret_file)?;
        while secret.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            secret.pop();
        }
        Ok(Self::new(s.url.clone(), s.events.clone(), secret))
    }

    /// Whether it is subscribed to `event`.
    pub fn wants(&self, event: &str) -> bool {
        self.events.iter().any(|e| e == event)
    }
}

/// The configured webhooks.
pub struct Webhooks {
    targets: Vec<WebhookTarget>,
}

#[derive(Serialize)]
struct Envelope<'a, T: Serialize> {
    id: &'a str,
    event: &'a str,
    text: &'a str,
    request: &'a T,
}

/// A webhook's one-line `text`: fixed words of tvm's own, and caller-written
/// fields, each escaped by [`super::text::webhook_field`] (no control, line
/// break, bidi or invisible character; no chat link). The only way to build
/// the `text` [`Webhooks::enqueue`] takes, so no field can skip the escaping.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct WebhookText(String);

impl WebhookText {
    /// An empty text.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends tvm's own words (a literal: never caller data).
    pub fn word(mut self, s: &'static str) -> Self {
        self.0.push_str(s);
        self
    }

    /// Appends a caller-written or stored value, escaped.
    pub fn field(mut self, s: &str) -> Self {
        self.0.push_str(&super::text::webhook_field(s));
        self
    }

    /// The text as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `sha256={hex HMAC-SHA256 of "{timestamp}.{body}"}`.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes any key");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

impl Webhooks {
    /// The targets as configured (tvm serve builds them through `Approvals`;
    /// `tvm revocations lift --config` on its own).
    pub fn new(targets: Vec<WebhookTarget>) -> Self {
        Self { targets }
    }

    /// Writes the event's outbox rows inside the change's transaction.
    pub(crate) async fn enqueue<T: Serialize>(
        &self,
        tx: &mut Transaction<'static, Any>,
        event: &str,
        text: &WebhookText,
        request: &T,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        let id = crate::database::new_id();
        let body = serde_json::to_string(&Envelope {
            id: &id,
            event,
            text: text.as_str(),
            request,
        })
        .map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        for t in self.targets.iter().filter(|t| t.wants(event)) {
            sqlx::query(
                "INSERT INTO webhook_outbox (event_id, webhook, event, body, created_at, \
                 attempts, next_attempt_at, delivered_at) VALUES ($1, $2, $3, $4, $5, 0, $5, NULL)",
            )
            .bind(&id)
            .bind(&t.key)
            .bind(event)
            .bind(&body)
            .bind(now)
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }
}

/// The background deliverer.
pub struct Deliverer {
    pool: sqlx::AnyPool,
    webhooks: Arc<Webhooks>,
    clock: Arc<dyn Clock>,
    metrics: Metrics,
}

impl Deliverer {
    /// A deliverer over `pool`'s outbox (the service builds one with
    /// `Deliverer::new`, in `notify`).
    pub(super) fn from_parts(
        pool: sqlx::AnyPool,
        webhooks: Arc<Webhooks>,
        clock: Arc<dyn Clock>,
        metrics: Metrics,
    ) -> Self {
        Self {
            pool,
            webhooks,
            clock,
            metrics,
        }
    }

    /// Delivers until `shutdown` resolves.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        if self.webhooks.targets.is_empty() {
            return;
        }
        tokio::pin!(shutdown);
        loop {
            if let Err(e) = self.once().await {
                self.metrics.database_error();
                tracing::warn!(error = %e, "webhook outbox: database error");
            }
            tokio::select! {
                _ = &mut shutdown => return,
                _ = tokio::time::sleep(POLL_INTERVAL) => {}
            }
        }
    }

    /// One pass over the due rows.
    pub async fn once(&self) -> Result<(), sqlx::Error> {
        let now = self.clock.now().as_second();
        let oldest = now - MAX_DELIVERY_AGE.as_secs() as i64;
        let expired = sqlx::query(
            "SELECT event FROM webhook_outbox WHERE delivered_at IS NULL AND created_at < $1",
        )
        .bind(oldest)
        .fetch_all(&self.pool)
        .await?;
        for row in &expired {
            let event: String = row.try_get(0)?;
            self.metrics.webhook_delivery(label(&event), "expired");
        }
        // Given up rows are marked delivered at -1, so they stop counting.
        sqlx::query(
            "UPDATE webhook_outbox SET delivered_at = -1 WHERE delivered_at IS NULL AND created_at < $1",
        )
        .bind(oldest)
        .execute(&self.pool)
        .await?;
        let rows = sqlx::query(
            "SELECT event_id, webhook, event, body, attempts, next_attempt_at FROM webhook_outbox \
             WHERE delivered_at IS NULL AND next_attempt_at <= $1 ORDER BY created_at LIMIT $2",
        )
        .bind(now)
        .bind(BATCH)
        .fetch_all(&self.pool)
        .await?;
        for row in rows {
            let (event_id, key, event, body, attempts, due): (
                String,
                String,
                String,
                String,
                i64,
                i64,
            ) = (
                row.try_get(0)?,
                row.try_get(1)?,
                row.try_get(2)?,
                row.try_get(3)?,
                row.try_get(4)?,
                row.try_get(5)?,
            );
            let leased = sqlx::query(
                "UPDATE webhook_outbox SET next_attempt_at = $1 WHERE event_id = $2 \
                 AND webhook = $3 AND next_attempt_at = $4 AND delivered_at IS NULL",
            )
            .bind(now + LEASE_SECS)
            .bind(&event_id)
            .bind(&key)
            .bind(due)
            .execute(&self.pool)
            .await?;
            if leased.rows_affected() != 1 {
                continue;
            }
            let Some((index, target)) = self
                .webhooks
                .targets
                .iter()
                .enumerate()
                .find(|(_, t)| t.key == key)
            else {
                // The webhook was removed from the config; retry later in case
                // it comes back, until the row is too old.
                continue;
            };
            let ok = deliver(target, &body, self.clock.now().as_second()).await;
            self.metrics
                .webhook_delivery(label(&event), if ok { "delivered" } else { "failed" });
            if ok {
                sqlx::query(
                    "UPDATE webhook_outbox SET delivered_at = $1, attempts = attempts + 1 \
                     WHERE event_id = $2 AND webhook = $3",
                )
                .bind(self.clock.now().as_second())
                .bind(&event_id)
                .bind(&key)
                .execute(&self.pool)
                .await?;
            } else {
                let backoff = (1i64 << attempts.clamp(0, 16)).min(MAX_BACKOFF_SECS);
                tracing::warn!(webhook = index, event = %event, attempts = attempts + 1, "webhook delivery failed; will retry");
                sqlx::query(
                    "UPDATE webhook_outbox SET attempts = attempts + 1, next_attempt_at = $1 \
                     WHERE event_id = $2 AND webhook = $3",
                )
                .bind(self.clock.now().as_second() + backoff)
                .bind(&event_id)
                .bind(&key)
                .execute(&self.pool)
                .await?;
            }
        }
        let pending: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM webhook_outbox WHERE delivered_at IS NULL")
                .fetch_one(&self.pool)
                .await?;
        self.metrics.webhook_undelivered(pending);
        Ok(())
    }
}

/// The metric label of an event (bounded: one of [`EVENTS`]).
fn label(event: &str) -> &'static str {
    EVENTS
        .iter()
        .find(|e| **e == event)
        .copied()
        .unwrap_or("other")
}

/// One signed attempt; `true` on a 2xx answer.
async fn deliver(target: &WebhookTarget, body: &str, now: i64) -> bool {
    let Ok(connector) = hyper_rustls::HttpsConnectorBuilder::new().with_native_roots() else {
        return false;
    };
    let connector = connector.https_or_http().enable_http1().build();
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build(connector);
    let req = http::Request::post(&target.url)
        .header("content-type", "application/json")
        .header("x-tvm-timestamp", now.to_string())
        .header(
            "x-tvm-signature",
            sign(&target.secret, now, body.as_bytes()),
        )
        .body(Full::new(Bytes::copy_from_slice(body.as_bytes())));
    let Ok(req) = req else { return false };
    match tokio::time::timeout(ATTEMPT_TIMEOUT, client.request(req)).await {
        Ok(Ok(resp)) => resp.status().is_success(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_escaped_and_words_are_not() {
        let t = WebhookText::new()
            .field("<https://evil|click> & [x](y)\nnext")
            .word(" took ")
            .field("prod");
        assert_eq!(
            t.as_str(),
            "&lt;https://evil|click&gt; &amp; \\[x\\](y)\\u{a}next took prod"
        );
    }

    #[test]
    fn signature_is_hmac_of_timestamp_dot_body() {
        // HMAC-SHA256("key", "1700000000.{}") computed independently.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(b"key").unwrap();
        mac.update(b"1700000000.{}");
        let want = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        assert_eq!(sign(b"key", 1_700_000_000, b"{}"), want);
        assert_ne!(sign(b"key", 1_700_000_001, b"{}"), want);
    }
}
