//! Prometheus metrics (DESIGN §7), held in a registry owned by the app (no
//! global singletons, so tests run side by side).
//!
//! Invariant: label values are bounded sets chosen by tvm (route templates,
//! status codes, fixed outcome names); never an ARN, a username, a profile name
//! or anything else a caller controls.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

/// The outcomes of `tvm_vend_total`.
pub const VEND_OUTCOMES: [&str; 8] = [
    "issued",
    "denied",
    "invalid_token",
    "replayed",
    "rate_limited",
    "sts_error",
    "sts_throttled",
    "bad_request",
];

/// All of tvm's metrics.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// `tvm_http_requests_total{route,code}`.
    pub http_requests: IntCounterVec,
    /// `tvm_http_request_duration_seconds{route}`.
    pub http_duration: HistogramVec,
    /// `tvm_vend_total{outcome}`.
    pub vend: IntCounterVec,
    /// `tvm_sts_requests_total{operation,outcome}`.
    pub sts_requests: IntCounterVec,
    /// `tvm_sts_request_duration_seconds{operation}`.
    pub sts_duration: HistogramVec,
    /// `tvm_policy_reloads_total{result}`.
    pub policy_reloads: IntCounterVec,
    /// `tvm_policy_rules`.
    pub policy_rules: IntGauge,
    /// `tvm_replay_store_entries`: live replay reservations (set at scrape).
    pub replay_entries: IntGauge,
    /// `tvm_replay_store_capacity`: the most it holds before failing closed.
    pub replay_capacity: IntGauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

impl Metrics {
    /// Builds and registers every metric, with known label values at zero.
    pub fn new() -> Self {
        let registry = Registry::new();
        let http_requests = IntCounterVec::new(
            Opts::new(
                "tvm_http_requests_total",
                "HTTP requests by route and status",
            ),
            &["route", "code"],
        )
        .expect("valid metric");
        let http_duration = HistogramVec::new(
            HistogramOpts::new(
                "tvm_http_request_duration_seconds",
                "HTTP request latency by route",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["route"],
        )
        .expect("valid metric");
        let vend = IntCounterVec::new(
            Opts::new("tvm_vend_total", "Vend requests by outcome"),
            &["outcome"],
        )
        .expect("valid metric");
        let sts_requests = IntCounterVec::new(
            Opts::new(
                "tvm_sts_requests_total",
                "STS calls by operation and outcome",
            ),
            &["operation", "outcome"],
        )
        .expect("valid metric");
        let sts_duration = HistogramVec::new(
            HistogramOpts::new("tvm_sts_request_duration_seconds", "STS call latency")
                .buckets(LATENCY_BUCKETS.to_vec()),
            &["operation"],
        )
        .expect("valid metric");
        let policy_reloads = IntCounterVec::new(
            Opts::new("tvm_policy_reloads_total", "Policy loads by result"),
            &["result"],
        )
        .expect("valid metric");
        let policy_rules =
            IntGauge::new("tvm_policy_rules", "Rules in the policy being served").expect("valid");
        let replay_entries = IntGauge::new(
            "tvm_replay_store_entries",
            "Live entries in the replay store (tokens accepted and not yet past their window)",
        )
        .expect("valid metric");
        let replay_capacity = IntGauge::new(
            "tvm_replay_store_capacity",
            "Most live entries the replay store holds; when full, new tokens get 503",
        )
        .expect("valid metric");
        let build_info = IntGaugeVec::new(
            Opts::new("tvm_build_info", "Build information; always 1"),
            &["version"],
        )
        .expect("valid metric");
        build_info
            .with_label_values(&[env!("CARGO_PKG_VERSION")])
            .set(1);
        for outcome in VEND_OUTCOMES {
            vend.with_label_values(&[outcome]).reset();
        }
        for result in ["success", "error"] {
            policy_reloads.with_label_values(&[result]).reset();
        }
        for c in [
            Box::new(http_requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(http_duration.clone()),
            Box::new(vend.clone()),
            Box::new(sts_requests.clone()),
            Box::new(sts_duration.clone()),
            Box::new(policy_reloads.clone()),
            Box::new(policy_rules.clone()),
            Box::new(replay_entries.clone()),
            Box::new(replay_capacity.clone()),
            Box::new(build_info),
        ] {
            registry.register(c).expect("unique metric names");
        }
        Self {
            registry,
            http_requests,
            http_duration,
            vend,
            sts_requests,
            sts_duration,
            policy_reloads,
            policy_rules,
            replay_entries,
            replay_capacity,
        }
    }

    /// Sets the replay-store gauges (called at each scrape).
    pub fn replay_usage(&self, entries: usize, capacity: usize) {
        self.replay_entries
            .set(i64::try_from(entries).unwrap_or(i64::MAX));
        self.replay_capacity
            .set(i64::try_from(capacity).unwrap_or(i64::MAX));
    }

    /// Counts one `/vend` outcome; `outcome` must be one of [`VEND_OUTCOMES`].
    pub fn vend_outcome(&self, outcome: &'static str) {
        debug_assert!(VEND_OUTCOMES.contains(&outcome));
        self.vend.with_label_values(&[outcome]).inc();
    }

    /// Records one STS call: its outcome and how long it took.
    pub fn sts_call(&self, operation: &'static str, outcome: &'static str, seconds: f64) {
        self.sts_count(operation, outcome);
        self.sts_latency(operation, seconds);
    }

    /// Counts one STS call in `tvm_sts_requests_total`.
    pub fn sts_count(&self, operation: &'static str, outcome: &'static str) {
        self.sts_requests
            .with_label_values(&[operation, outcome])
            .inc();
    }

    /// Observes one STS call's latency in `tvm_sts_request_duration_seconds`.
    pub fn sts_latency(&self, operation: &'static str, seconds: f64) {
        self.sts_duration
            .with_label_values(&[operation])
            .observe(seconds);
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .expect("encoding to a Vec cannot fail");
        String::from_utf8(out).expect("prometheus text is UTF-8")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposes_every_documented_metric() {
        let m = Metrics::new();
        m.vend_outcome("issued");
        m.sts_call("AssumeRole", "success", 0.01);
        m.http_requests.with_label_values(&["/vend", "200"]).inc();
        m.http_duration.with_label_values(&["/vend"]).observe(0.02);
        let text = m.render();
        for name in [
            "tvm_http_requests_total",
            "tvm_http_request_duration_seconds",
            "tvm_vend_total{outcome=\"issued\"} 1",
            "tvm_vend_total{outcome=\"replayed\"} 0",
            "tvm_sts_requests_total",
            "tvm_sts_request_duration_seconds",
            "tvm_policy_reloads_total",
            "tvm_policy_rules",
            "tvm_build_info{version=",
        ] {
            assert!(text.contains(name), "missing {name} in\n{text}");
        }
    }
}
