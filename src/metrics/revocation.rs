//! Metrics of revocation (DESIGN §13): bounded labels only.

use prometheus::{IntCounterVec, IntGauge, Opts, Registry};

/// `tvm_revocations_total{kind}`.
pub const REVOCATION_KINDS: [&str; 4] = ["session", "grant", "credentials", "person"];

/// `tvm_revocation_refusals_total{reason}`.
pub const REVOCATION_REFUSAL_REASONS: [&str; 4] = [
    "revoked_credentials",
    "suspended",
    "grant_revoked",
    "revocations_stale",
];

/// The revocation metrics.
#[derive(Clone)]
pub struct RevocationMetrics {
    /// `tvm_revocations_total{kind}`: revocations created.
    pub revocations: IntCounterVec,
    /// `tvm_revocation_refusals_total{reason}`: callers refused by a block,
    /// a suspension, a revoked grant, or stale blocks.
    pub refusals: IntCounterVec,
    /// `tvm_revocation_blocks_stale`: 1 while this replica serves on blocks
    /// older than `revocation.max_staleness` (`database.ledger_failure: open`).
    pub stale: IntGauge,
}

impl RevocationMetrics {
    /// Builds and registers them.
    pub(super) fn register(registry: &Registry) -> Self {
        let revocations = IntCounterVec::new(
            Opts::new("tvm_revocations_total", "Revocations created by kind"),
            &["kind"],
        )
        .expect("valid metric");
        for k in REVOCATION_KINDS {
            revocations.with_label_values(&[k]);
        }
        let refusals = IntCounterVec::new(
            Opts::new(
                "tvm_revocation_refusals_total",
                "Callers refused by a revocation, by reason",
            ),
            &["reason"],
        )
        .expect("valid metric");
        for r in REVOCATION_REFUSAL_REASONS {
            refusals.with_label_values(&[r]);
        }
        let stale = IntGauge::new(
            "tvm_revocation_blocks_stale",
            "1 while serving on revocation blocks older than revocation.max_staleness",
        )
        .expect("valid metric");
        for c in [
            Box::new(revocations.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(refusals.clone()),
            Box::new(stale.clone()),
        ] {
            registry.register(c).expect("unique metric names");
        }
        Self {
            revocations,
            refusals,
            stale,
        }
    }

    /// Counts one revocation of `kind` (one of [`REVOCATION_KINDS`]).
    pub fn created(&self, kind: &'static str) {
        self.revocations.with_label_values(&[kind]).inc();
    }

    /// Counts one refusal (`reason` one of [`REVOCATION_REFUSAL_REASONS`]).
    pub fn refusal(&self, reason: &'static str) {
        self.refusals.with_label_values(&[reason]).inc();
    }
}
