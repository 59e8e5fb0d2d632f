//! Metrics of approvals and break-glass (DESIGN §7, §12): bounded labels only.

use prometheus::{IntCounter, IntCounterVec, IntGauge, Opts, Registry};

/// Outcomes of approvals operations (`tvm_approvals_total{outcome}`).
pub const APPROVAL_OUTCOMES: [&str; 5] = [
    "created",
    "approval_added",
    "approved",
    "denied",
    "conflict",
];

/// Results of webhook attempts (`tvm_webhook_deliveries_total{event,result}`).
pub const WEBHOOK_RESULTS: [&str; 3] = ["delivered", "failed", "expired"];

/// The approvals metrics.
#[derive(Clone)]
pub struct ApprovalMetrics {
    /// `tvm_approvals_total{outcome}`.
    pub approvals: IntCounterVec,
    /// `tvm_break_glass_total`: break-glass vends (also `issued` in `tvm_vend_total`).
    pub break_glass: IntCounter,
    /// `tvm_database_errors_total`: approvals database errors.
    pub database_errors: IntCounter,
    /// `tvm_webhook_deliveries_total{event,result}`.
    pub webhook_deliveries: IntCounterVec,
    /// `tvm_webhook_undelivered`: outbox rows not yet delivered.
    pub webhook_undelivered: IntGauge,
}

impl ApprovalMetrics {
    /// Builds and registers them.
    pub(super) fn register(registry: &Registry) -> Self {
        let approvals = IntCounterVec::new(
            Opts::new("tvm_approvals_total", "Approvals operations by outcome"),
            &["outcome"],
        )
        .expect("valid metric");
        for o in APPROVAL_OUTCOMES {
            approvals.with_label_values(&[o]);
        }
        let break_glass =
            IntCounter::new("tvm_break_glass_total", "Break-glass vends").expect("valid metric");
        let database_errors =
            IntCounter::new("tvm_database_errors_total", "Approvals database errors")
                .expect("valid metric");
        let webhook_deliveries = IntCounterVec::new(
            Opts::new(
                "tvm_webhook_deliveries_total",
                "Webhook delivery attempts by event and result",
            ),
            &["event", "result"],
        )
        .expect("valid metric");
        let webhook_undelivered = IntGauge::new(
            "tvm_webhook_undelivered",
            "Webhook events not yet delivered",
        )
        .expect("valid metric");
        for c in [
            Box::new(approvals.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(break_glass.clone()),
            Box::new(database_errors.clone()),
            Box::new(webhook_deliveries.clone()),
            Box::new(webhook_undelivered.clone()),
        ] {
            registry.register(c).expect("unique metric names");
        }
        Self {
            approvals,
            break_glass,
            database_errors,
            webhook_deliveries,
            webhook_undelivered,
        }
    }
}

impl super::Metrics {
    /// Counts an approvals outcome (one of [`APPROVAL_OUTCOMES`]).
    pub fn approval_outcome(&self, outcome: &'static str) {
        debug_assert!(APPROVAL_OUTCOMES.contains(&outcome));
        self.approvals.approvals.with_label_values(&[outcome]).inc();
    }

    /// Counts a break-glass vend.
    pub fn break_glass_used(&self) {
        self.approvals.break_glass.inc();
    }

    /// Counts an approvals database error.
    pub fn database_error(&self) {
        self.approvals.database_errors.inc();
    }

    /// Counts one webhook attempt.
    pub fn webhook_delivery(&self, event: &'static str, result: &'static str) {
        debug_assert!(WEBHOOK_RESULTS.contains(&result));
        self.approvals
            .webhook_deliveries
            .with_label_values(&[event, result])
            .inc();
    }

    /// Sets the undelivered-events gauge.
    pub fn webhook_undelivered(&self, n: i64) {
        self.approvals.webhook_undelivered.set(n);
    }
}
