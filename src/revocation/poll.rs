//! The poller that keeps every replica's [`BlockSet`] in step (DESIGN §13):
//! every `revocation.refresh` it reads the one-row `revocation_state.version`
//! and reloads the blocks when it moved (or was never loaded).
//!
//! Invariants: a successful poll (version read, and the blocks reloaded if
//! needed) is what keeps the set fresh; a failed one leaves the set as it was
//! and lets it age toward `max_staleness`; while stale blocks are served
//! (`database.ledger_failure: open`) the gauge says so and one line a minute
//! is logged.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::{AnyPool, Row as _};

use super::blocks::BlockSet;
use crate::clock::Clock;
use crate::metrics::Metrics;

/// How often a replica serving on stale blocks says so in its log.
const STALE_LOG_INTERVAL: Duration = Duration::from_secs(60);

/// Polls until `shutdown` resolves.
pub struct Poller {
    /// The set kept fresh.
    pub blocks: BlockSet,
    /// The database.
    pub pool: AnyPool,
    /// `revocation.refresh`.
    pub refresh: Duration,
    /// Expiry of blocks is judged by this clock.
    pub clock: Arc<dyn Clock>,
    /// The stale gauge.
    pub metrics: Metrics,
}

impl Poller {
    /// One poll: reloads when the version moved.
    pub async fn poll_once(&self) -> Result<(), sqlx::Error> {
        let version: i64 = sqlx::query("SELECT version FROM revocation_state WHERE id = 1")
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
        if version != self.blocks.version() || !self.blocks.is_loaded() {
            self.blocks
                .load(&self.pool, self.clock.now().as_second())
                .await
        } else {
            self.blocks.mark_polled();
            Ok(())
        }
    }

    /// Polls every `refresh` until `shutdown`.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) {
        tokio::pin!(shutdown);
        let mut tick = tokio::time::interval(self.refresh);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_stale_log: Option<Instant> = None;
        loop {
            tokio::select! {
                _ = &mut shutdown => return,
                _ = tick.tick() => {}
            }
            if let Err(e) = self.poll_once().await {
                tracing::warn!(error = %e, "revocation blocks not refreshed");
            }
            let stale = self.blocks.is_stale();
            self.metrics
                .revocation
                .stale
                .set(i64::from(stale && self.blocks.serves_stale()));
            if stale
                && self.blocks.serves_stale()
                && last_stale_log.is_none_or(|t| t.elapsed() >= STALE_LOG_INTERVAL)
            {
                last_stale_log = Some(Instant::now());
                tracing::warn!(
                    "serving on stale revocation blocks (database.ledger_failure: open): \
                     revocations made elsewhere may not be enforced here"
                );
            }
        }
    }
}
