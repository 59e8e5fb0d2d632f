//! The per-replica cap on concurrent outbound STS calls (GetCallerIdentity and
//! AssumeRole together): a flood that passed the rate limits, or a slow STS,
//! cannot pile up unbounded calls; beyond the cap a call waits at most
//! [`StsCallCap::wait`] for a slot, then the request gets 503 `UNAVAILABLE`
//! without calling STS, counted in `tvm_sts_queue_timeouts_total{operation}`.
//!
//! Invariant: a call holds its slot ([`StsPermit`]) until it has finished, and a
//! refused call never reached STS.

use std::sync::Arc;
use std::time::Duration;

use prometheus::{IntCounterVec, Opts};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::metrics::Metrics;

/// The validated cap and its default (settings types of [`crate::config`]).
pub use crate::config::{StsCallCap, DEFAULT_MAX_CONCURRENT_CALLS};

/// A slot for one STS call; dropping it frees the slot.
#[derive(Debug)]
pub struct StsPermit(#[allow(dead_code)] OwnedSemaphorePermit);

/// No slot came free in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many STS calls in flight on this replica")]
pub struct StsBusy;

/// The shared slots.
#[derive(Debug, Clone)]
pub struct StsGate {
    slots: Arc<Semaphore>,
    wait: Duration,
    timeouts: IntCounterVec,
}

impl StsGate {
    /// A gate for `cap`, its metric registered with `metrics` (at most one gate
    /// per registry is exposed).
    pub fn new(cap: StsCallCap, metrics: &Metrics) -> Self {
        let timeouts = IntCounterVec::new(
            Opts::new(
                "tvm_sts_queue_timeouts_total",
                "STS calls refused (503) because this replica's cap on concurrent STS calls stayed full",
            ),
            &["operation"],
        )
        .expect("valid metric");
        for op in ["GetCallerIdentity", "AssumeRole"] {
            timeouts.with_label_values(&[op]).reset();
        }
        let _ = metrics.register(Box::new(timeouts.clone()));
        Self {
            slots: Arc::new(Semaphore::new(cap.max)),
            wait: cap.wait,
            timeouts,
        }
    }

    /// Waits for a slot for `operation` (`GetCallerIdentity` or `AssumeRole`).
    pub async fn enter(&self, operation: &'static str) -> Result<StsPermit, StsBusy> {
        match tokio::time::timeout(self.wait, self.slots.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(StsPermit(permit)),
            _ => {
                self.timeouts.with_label_values(&[operation]).inc();
                Err(StsBusy)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_gate_refuses_after_the_wait_and_counts_it() {
        let m = Metrics::new();
        let gate = StsGate::new(
            StsCallCap {
                max: 1,
                wait: Duration::from_millis(20),
            },
            &m,
        );
        let held = gate.enter("AssumeRole").await.unwrap();
        assert_eq!(gate.enter("AssumeRole").await.unwrap_err(), StsBusy);
        drop(held);
        assert!(gate.enter("GetCallerIdentity").await.is_ok());
        assert!(m
            .render()
            .contains("tvm_sts_queue_timeouts_total{operation=\"AssumeRole\"} 1"));
    }
}
