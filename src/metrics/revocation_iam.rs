//! Metrics of revocation's IAM side (DESIGN §13): the roles per status, read
//! from the database (every replica reports the same value, so dashboards
//! aggregate with `max`), and the queue's passes per result.

use prometheus::{IntCounterVec, IntGaugeVec, Opts, Registry};

/// `tvm_revocation_roles{status}`: the statuses of a role's queue row.
pub const ROLE_STATUSES: [&str; 5] = ["pending", "applied", "failed", "manual", "expired"];

/// `tvm_revocation_applies_total{result}`: what one pass over a role did.
pub const APPLY_RESULTS: [&str; 6] = [
    "written",
    "deleted",
    "unchanged",
    "failed",
    "retry",
    "manual",
];

/// The metrics.
#[derive(Clone)]
pub struct RevocationIamMetrics {
    /// `tvm_revocation_roles{status}`.
    pub roles: IntGaugeVec,
    /// `tvm_revocation_applies_total{result}`.
    pub applies: IntCounterVec,
}

impl RevocationIamMetrics {
    /// Builds and registers them, every label at zero.
    pub(super) fn register(registry: &Registry) -> Self {
        let roles = IntGaugeVec::new(
            Opts::new(
                "tvm_revocation_roles",
                "Protected roles in the revocation queue by status (from the database)",
            ),
            &["status"],
        )
        .expect("valid metric");
        let applies = IntCounterVec::new(
            Opts::new(
                "tvm_revocation_applies_total",
                "Passes of the revocation queue over a role by result",
            ),
            &["result"],
        )
        .expect("valid metric");
        for s in ROLE_STATUSES {
            roles.with_label_values(&[s]).set(0);
        }
        for r in APPLY_RESULTS {
            applies.with_label_values(&[r]).reset();
        }
        registry
            .register(Box::new(roles.clone()))
            .expect("unique metric names");
        registry
            .register(Box::new(applies.clone()))
            .expect("unique metric names");
        Self { roles, applies }
    }
}

impl super::Metrics {
    /// Counts one pass (`result` one of [`APPLY_RESULTS`]).
    pub fn revocation_apply(&self, result: &'static str) {
        debug_assert!(APPLY_RESULTS.contains(&result));
        self.revocation_iam
            .applies
            .with_label_values(&[result])
            .inc();
    }

    /// Sets the roles gauge from `(status, count)` rows; a status absent from
    /// them is zero, an unknown one is ignored (bounded labels).
    pub fn revocation_roles(&self, counts: &[(String, i64)]) {
        for s in ROLE_STATUSES {
            let n = counts
                .iter()
                .filter(|(status, _)| status == s)
                .map(|(_, n)| *n)
                .sum();
            self.revocation_iam.roles.with_label_values(&[s]).set(n);
        }
    }
}
