//! Metrics of the ledger (DESIGN §13): every ledger write counted by result
//! and timed from the vend's side (queueing, batching and commit included).
//!
//! Invariant: the labels are the fixed [`LEDGER_WRITE_RESULTS`]; the series
//! a vend touches are resolved once, so a write costs no label lookup.

use prometheus::{Histogram, HistogramOpts, IntCounter, IntCounterVec, Opts, Registry};

/// Results of `tvm_ledger_writes_total{result}`.
pub const LEDGER_WRITE_RESULTS: [&str; 2] = ["ok", "error"];

/// Buckets of `tvm_ledger_write_duration_seconds`: a batched commit takes
/// well under a millisecond on SQLite, a round trip on Postgres about one.
const WRITE_BUCKETS: &[f64] = &[
    0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0,
];

/// The ledger metrics.
#[derive(Clone)]
pub struct LedgerMetrics {
    ok: IntCounter,
    error: IntCounter,
    /// `tvm_ledger_write_duration_seconds`.
    duration: Histogram,
}

impl LedgerMetrics {
    /// Builds and registers them.
    pub(super) fn register(registry: &Registry) -> Self {
        let writes = IntCounterVec::new(
            Opts::new(
                "tvm_ledger_writes_total",
                "Ledger writes (pending rows, completions, failures) by result",
            ),
            &["result"],
        )
        .expect("valid metric");
        let duration = Histogram::with_opts(
            HistogramOpts::new(
                "tvm_ledger_write_duration_seconds",
                "Ledger write latency as a vend waits for it",
            )
            .buckets(WRITE_BUCKETS.to_vec()),
        )
        .expect("valid metric");
        registry
            .register(Box::new(writes.clone()))
            .expect("unique metric names");
        registry
            .register(Box::new(duration.clone()))
            .expect("unique metric names");
        Self {
            ok: writes.with_label_values(&[LEDGER_WRITE_RESULTS[0]]),
            error: writes.with_label_values(&[LEDGER_WRITE_RESULTS[1]]),
            duration,
        }
    }

    /// Counts and times one write.
    pub fn write(&self, ok: bool, seconds: f64) {
        if ok { &self.ok } else { &self.error }.inc();
        self.duration.observe(seconds);
    }
}
