//! Prometheus metrics (DESIGN §7), held in a registry owned by the app (no
//! global singletons, so tests run side by side).
//!
//! Invariant: label values are bounded sets chosen by tvm (route templates,
//! status codes, fixed outcome names); never an ARN, a username, a profile name
//! or anything else a caller controls.

mod approvals;
mod hot;
mod labels;
mod ledger;
mod revocation;
mod revocation_iam;
mod summary;
pub use approvals::{ApprovalMetrics, APPROVAL_OUTCOMES, WEBHOOK_RESULTS};
pub use labels::VEND_OUTCOMES;
pub use ledger::{LedgerMetrics, LEDGER_WRITE_RESULTS};
pub use revocation::{RevocationMetrics, REVOCATION_KINDS, REVOCATION_REFUSAL_REASONS};
pub use revocation_iam::{RevocationIamMetrics, APPLY_RESULTS, ROLE_STATUSES};

use std::sync::Arc;

pub use summary::{RefusalSummary, SUMMARY_INTERVAL};

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

/// The scopes of `tvm_rate_limited_total`: which bucket refused.
pub const RATE_LIMIT_SCOPES: [&str; 4] = ["address", "discovery", "principal", "role"];

/// The listeners of `tvm_connections_refused_total`.
pub const LISTENERS: [&str; 2] = ["api", "admin"];

/// The reasons of `tvm_connections_refused_total`: the listener is full, the
/// client address holds its share, only the reserved slots are left (kept for
/// addresses without a connection), the client sent nothing in time, or its TLS
/// handshake failed or timed out.
pub const REFUSAL_REASONS: [&str; 5] = [
    "limit",
    "per_address",
    "reserved",
    "first_byte_timeout",
    "tls_handshake",
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
    /// `tvm_rate_limited_total{scope}`.
    pub rate_limited: IntCounterVec,
    /// `tvm_connections_refused_total{listener,reason}`.
    pub connections_refused: IntCounterVec,
    /// The periodic log line for refusals.
    refusals: Arc<RefusalSummary>,
    /// The series a vend touches, resolved once.
    hot: Arc<hot::Hot>,
    /// `tvm_sts_identity_verified`: 1 once tvm's own credentials passed the
    /// start-up `GetCallerIdentity` check, 0 before and while it fails.
    pub identity_verified: IntGauge,
    /// `tvm_sts_identity_checks_total{result}`: start-up identity check attempts.
    pub identity_checks: IntCounterVec,
    /// `tvm_tls_reloads_total{result}`: loads of the API certificate.
    pub tls_reloads: IntCounterVec,
    /// Approvals, break-glass, database and webhook metrics.
    pub approvals: ApprovalMetrics,
    /// Revocation metrics (DESIGN §13).
    pub revocation: RevocationMetrics,
    /// Ledger writes (DESIGN §13).
    pub ledger: LedgerMetrics,
    /// Revocation's IAM side: roles per status, queue passes.
    pub revocation_iam: RevocationIamMetrics,
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
        let rate_limited = IntCounterVec::new(
            Opts::new(
                "tvm_rate_limited_total",
                "Requests refused by a rate limit, by the bucket that refused",
            ),
            &["scope"],
        )
        .expect("valid metric");
        let connections_refused = IntCounterVec::new(
            Opts::new(
                "tvm_connections_refused_total",
                "Connections closed unserved, by listener and reason",
            ),
            &["listener", "reason"],
        )
        .expect("valid metric");
        for scope in RATE_LIMIT_SCOPES {
            rate_limited.with_label_values(&[scope]).reset();
        }
        for listener in LISTENERS {
            for reason in REFUSAL_REASONS {
                connections_refused
                    .with_label_values(&[listener, reason])
                    .reset();
            }
        }
        let identity_verified = IntGauge::new(
            "tvm_sts_identity_verified",
            "1 when tvm's own AWS credentials passed the start-up GetCallerIdentity check",
        )
        .expect("valid metric");
        let identity_checks = IntCounterVec::new(
            Opts::new(
                "tvm_sts_identity_checks_total",
                "Start-up GetCallerIdentity checks of tvm's own credentials by result",
            ),
            &["result"],
        )
        .expect("valid metric");
        let tls_reloads = IntCounterVec::new(
            Opts::new(
                "tvm_tls_reloads_total",
                "Loads of the API listener's TLS certificate by result",
            ),
            &["result"],
        )
        .expect("valid metric");
        for result in ["success", "error"] {
            identity_checks.with_label_values(&[result]).reset();
            tls_reloads.with_label_values(&[result]).reset();
        }
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
            Box::new(rate_limited.clone()),
            Box::new(connections_refused.clone()),
            Box::new(identity_verified.clone()),
            Box::new(identity_checks.clone()),
            Box::new(tls_reloads.clone()),
        ] {
            registry.register(c).expect("unique metric names");
        }
        register_process_metrics(&registry);
        let approvals = ApprovalMetrics::register(&registry);
        let revocation = RevocationMetrics::register(&registry);
        let ledger = LedgerMetrics::register(&registry);
        let revocation_iam = RevocationIamMetrics::register(&registry);
        Self {
            revocation,
            approvals,
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
            rate_limited,
            connections_refused,
            refusals: Arc::new(RefusalSummary::new(SUMMARY_INTERVAL)),
            hot: Arc::default(),
            identity_verified,
            identity_checks,
            tls_reloads,
            ledger,
            revocation_iam,
        }
    }

    /// Registers the metrics of a part built later (the state backend, the STS
    /// call cap); fails if a metric of that name is already registered.
    pub fn register(
        &self,
        collector: Box<dyn prometheus::core::Collector>,
    ) -> Result<(), prometheus::Error> {
        self.registry.register(collector)
    }

    /// Sets the replay-store gauges (called at each scrape).
    pub fn replay_usage(&self, entries: usize, capacity: usize) {
        self.replay_entries
            .set(i64::try_from(entries).unwrap_or(i64::MAX));
        self.replay_capacity
            .set(i64::try_from(capacity).unwrap_or(i64::MAX));
    }

    /// Counts a request refused by the `scope` bucket (one of
    /// [`RATE_LIMIT_SCOPES`]), for the metric and the periodic summary line.
    pub fn rate_limited(&self, scope: &'static str) {
        debug_assert!(RATE_LIMIT_SCOPES.contains(&scope));
        self.rate_limited.with_label_values(&[scope]).inc();
        self.refusals.note(match scope {
            "address" => "rate_limited.address",
            "discovery" => "rate_limited.discovery",
            "principal" => "rate_limited.principal",
            _ => "rate_limited.role",
        });
    }

    /// Counts a connection closed unserved on `listener` (one of [`LISTENERS`])
    /// for `reason` (one of [`REFUSAL_REASONS`]).
    pub fn connection_refused(&self, listener: &'static str, reason: &'static str) {
        debug_assert!(LISTENERS.contains(&listener) && REFUSAL_REASONS.contains(&reason));
        self.connections_refused
            .with_label_values(&[listener, reason])
            .inc();
        self.refusals.note(match (listener, reason) {
            ("api", "limit") => "connections_refused.api.limit",
            ("api", "per_address") => "connections_refused.api.per_address",
            ("api", "reserved") => "connections_refused.api.reserved",
            ("api", "tls_handshake") => "connections_refused.api.tls_handshake",
            ("api", _) => "connections_refused.api.first_byte_timeout",
            (_, "limit") => "connections_refused.admin.limit",
            (_, "per_address") => "connections_refused.admin.per_address",
            (_, "reserved") => "connections_refused.admin.reserved",
            _ => "connections_refused.admin.first_byte_timeout",
        });
    }

    /// Writes the refusal summary line if one is due; called on a timer so the
    /// last refusals of a burst are reported too.
    pub fn flush_refusal_summary(&self) {
        self.refusals.flush();
    }

    /// Counts one `/vend` outcome; `outcome` must be one of [`VEND_OUTCOMES`].
    pub fn vend_outcome(&self, outcome: &'static str) {
        debug_assert!(VEND_OUTCOMES.contains(&outcome));
        self.hot.vend(&self.vend, outcome).inc();
    }

    /// Records one STS call: its outcome and how long it took.
    pub fn sts_call(&self, operation: &'static str, outcome: &'static str, seconds: f64) {
        self.sts_count(operation, outcome);
        self.sts_latency(operation, seconds);
    }

    /// Counts one STS call in `tvm_sts_requests_total`.
    pub fn sts_count(&self, operation: &'static str, outcome: &'static str) {
        self.hot
            .sts_requests(&self.sts_requests, operation, outcome)
            .inc();
    }

    /// Observes one STS call's latency in `tvm_sts_request_duration_seconds`.
    pub fn sts_latency(&self, operation: &'static str, seconds: f64) {
        self.hot
            .sts_duration(&self.sts_duration, operation, seconds);
    }

    /// Counts one HTTP request on `route` (a template or `unmatched`) answered
    /// `code` after `seconds`.
    pub fn http_request(&self, route: &'static str, code: http::StatusCode, seconds: f64) {
        self.hot.http(
            &self.http_requests,
            &self.http_duration,
            route,
            code,
            seconds,
        );
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

/// The standard `process_*` metrics (CPU, resident memory, open and max file
/// descriptors, start time) that operators' dashboards expect, read from
/// `/proc/self` at scrape time.
#[cfg(target_os = "linux")]
fn register_process_metrics(registry: &Registry) {
    let collector = prometheus::process_collector::ProcessCollector::for_self();
    registry
        .register(Box::new(collector))
        .expect("unique metric names");
}

#[cfg(not(target_os = "linux"))]
fn register_process_metrics(_: &Registry) {}

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
            "tvm_rate_limited_total{scope=\"principal\"} 0",
            "tvm_connections_refused_total{listener=\"admin\",reason=\"per_address\"} 0",
            "tvm_sts_identity_verified 0",
            "tvm_sts_identity_checks_total{result=\"error\"} 0",
        ] {
            assert!(text.contains(name), "missing {name} in\n{text}");
        }
        #[cfg(target_os = "linux")]
        for name in [
            "process_cpu_seconds_total",
            "process_resident_memory_bytes",
            "process_open_fds",
            "process_max_fds",
            "process_start_time_seconds",
        ] {
            assert!(text.contains(name), "missing {name}");
        }
    }
}
