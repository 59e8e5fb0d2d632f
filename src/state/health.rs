//! The shared backend's health and metrics.
//!
//! Owns [`BackendHealth`] (since when the backend has been failing, for
//! `/readyz`) and [`StateMetrics`] (`tvm_state_backend_errors_total{operation}`,
//! `tvm_state_backend_duration_seconds{operation}`).
//!
//! Invariant: a backend counts as lost only after it has failed continuously —
//! every call and every probe since the first failure — for the grace period;
//! one success clears it. Label values are the fixed [`OPERATIONS`].

use std::sync::Mutex;
use std::time::{Duration, Instant};

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts};

use crate::metrics::Metrics;

/// The `operation` label values of the backend metrics.
pub const OPERATIONS: [&str; 4] = ["replay_reserve", "replay_release", "rate_limit", "ping"];

/// Since when a shared backend has been failing.
#[derive(Debug, Default)]
pub struct BackendHealth {
    failing_since: Mutex<Option<Instant>>,
}

impl BackendHealth {
    /// Records the outcome of one call or probe.
    pub fn record(&self, ok: bool) {
        let mut since = self.failing_since.lock().unwrap_or_else(|e| e.into_inner());
        match (ok, *since) {
            (true, _) => *since = None,
            (false, None) => *since = Some(Instant::now()),
            (false, Some(_)) => {}
        }
    }

    /// How long it has been failing without a success (`None`: healthy).
    pub fn failing_for(&self) -> Option<Duration> {
        self.failing_since
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .map(|t| t.elapsed())
    }
}

/// Errors and latency of the shared backend, by operation.
#[derive(Debug, Clone)]
pub struct StateMetrics {
    errors: IntCounterVec,
    duration: HistogramVec,
}

impl StateMetrics {
    /// Creates the metrics and registers them with `metrics`.
    pub fn new(metrics: &Metrics) -> Self {
        let errors = IntCounterVec::new(
            Opts::new(
                "tvm_state_backend_errors_total",
                "Shared state backend (Redis) calls that failed or timed out, by operation",
            ),
            &["operation"],
        )
        .expect("valid metric");
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "tvm_state_backend_duration_seconds",
                "Shared state backend (Redis) call latency, by operation",
            )
            .buckets(vec![
                0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
            ]),
            &["operation"],
        )
        .expect("valid metric");
        for op in OPERATIONS {
            errors.with_label_values(&[op]).reset();
        }
        // One backend per registry in practice; a second one's series would
        // simply not be exposed, never break the first.
        let _ = metrics.register(Box::new(errors.clone()));
        let _ = metrics.register(Box::new(duration.clone()));
        Self { errors, duration }
    }

    /// Records one call of `operation` (one of [`OPERATIONS`]).
    pub fn observe(&self, operation: &'static str, seconds: f64, ok: bool) {
        debug_assert!(OPERATIONS.contains(&operation));
        self.duration
            .with_label_values(&[operation])
            .observe(seconds);
        if !ok {
            self.errors.with_label_values(&[operation]).inc();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_success_clears_a_failure_and_failures_keep_their_start() {
        let h = BackendHealth::default();
        assert_eq!(h.failing_for(), None);
        h.record(false);
        let first = h.failing_for().unwrap();
        std::thread::sleep(Duration::from_millis(5));
        h.record(false);
        assert!(h.failing_for().unwrap() > first);
        h.record(true);
        assert_eq!(h.failing_for(), None);
    }

    #[test]
    fn metrics_are_exposed_by_operation() {
        let m = Metrics::new();
        let s = StateMetrics::new(&m);
        s.observe("replay_reserve", 0.001, true);
        s.observe("rate_limit", 0.002, false);
        let text = m.render();
        assert!(text.contains("tvm_state_backend_errors_total{operation=\"rate_limit\"} 1"));
        assert!(text.contains("tvm_state_backend_errors_total{operation=\"replay_reserve\"} 0"));
        assert!(text
            .contains("tvm_state_backend_duration_seconds_count{operation=\"replay_reserve\"} 1"));
    }
}
