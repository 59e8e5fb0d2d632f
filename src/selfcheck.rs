//! The start-up identity check: an operator's first deploy fails loudly, not at
//! the first vend.
//!
//! `tvm serve` resolves its own AWS credentials (the default chain: IRSA, EKS Pod
//! Identity, instance profile, environment) and calls `sts:GetCallerIdentity`
//! with them through the [`Sts`] trait. Success logs the ARN tvm runs as — the
//! line an operator checks IRSA or Pod Identity with, and the principal the
//! protected roles must trust. Failure keeps `/readyz` at 503 with the reason,
//! sets `tvm_sts_identity_verified` to 0, and retries with capped exponential
//! backoff, so a broken rollout stops at its first pod.
//!
//! Invariants: readiness is required (503) before the first attempt; only a
//! successful answer makes the pod ready; the reason shown by `/readyz` names the
//! error class and STS error code only (the full text goes to the log).

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::metrics::Metrics;
use crate::sts::{Sts, StsError};
use crate::web::Readiness;

/// First wait after a failed check.
pub const INITIAL_BACKOFF: Duration = Duration::from_secs(1);
/// Longest wait between checks, so a fixed IAM setup is noticed within a minute.
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// How often to retry.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// Wait after the first failure; doubled after each further one.
    pub initial: Duration,
    /// Upper bound of the wait.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            initial: INITIAL_BACKOFF,
            max: MAX_BACKOFF,
        }
    }
}

/// The `/readyz` text for a failed check: class and STS code, no message.
fn reason(e: &StsError) -> String {
    let detail = match e {
        StsError::Rejected { code, .. } => format!("rejected ({code})"),
        StsError::Throttled(_) => "throttled".into(),
        StsError::Unavailable(_) => "no credentials or STS unreachable".into(),
    };
    format!("tvm's AWS identity check failed: {detail}; see the log")
}

/// Marks readiness as pending and spawns the check loop; it ends on success.
pub fn spawn(
    sts: Arc<dyn Sts>,
    readiness: Readiness,
    metrics: Metrics,
    backoff: Backoff,
) -> JoinHandle<()> {
    readiness.require_identity();
    metrics.identity_verified.set(0);
    tokio::spawn(check_until_verified(sts, readiness, metrics, backoff))
}

/// Calls `GetCallerIdentity` until it succeeds (see the module docs).
pub async fn check_until_verified(
    sts: Arc<dyn Sts>,
    readiness: Readiness,
    metrics: Metrics,
    backoff: Backoff,
) {
    let mut wait = backoff.initial;
    loop {
        match sts.get_caller_identity().await {
            Ok(id) => {
                metrics
                    .identity_checks
                    .with_label_values(&["success"])
                    .inc();
                metrics.identity_verified.set(1);
                readiness.set_identity_verified();
                tracing::info!(
                    arn = %id.arn,
                    account = %id.account,
                    "tvm's own AWS identity verified; the protected roles must trust this principal"
                );
                return;
            }
            Err(e) => {
                metrics.identity_checks.with_label_values(&["error"]).inc();
                metrics.identity_verified.set(0);
                readiness.set_identity_failed(reason(&e));
                tracing::error!(
                    error = %e,
                    retry_in_ms = wait.as_millis() as u64,
                    "cannot verify tvm's own AWS credentials with sts:GetCallerIdentity; \
                     not ready until this succeeds (check IRSA / Pod Identity and sts.region)"
                );
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(backoff.max);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;
    use crate::sts::sim::{Fault, Simulator};

    fn fast() -> Backoff {
        Backoff {
            initial: Duration::from_millis(5),
            max: Duration::from_millis(20),
        }
    }

    fn ready() -> Readiness {
        let r = Readiness::default();
        r.set_policy_loaded();
        r.set_sts_ready();
        r
    }

    #[tokio::test]
    async fn success_makes_ready_and_sets_the_gauge() {
        let sim = Simulator::new(Arc::new(SystemClock));
        let key = sim
            .create_access_key("arn:aws:iam::111122223333:user/tvm")
            .unwrap();
        let (r, m) = (ready(), Metrics::new());
        let task = spawn(
            Arc::new(sim.sts_client(&key.access_key_id)),
            r.clone(),
            m.clone(),
            fast(),
        );
        assert!(r.not_ready_reason().is_some(), "pending before the answer");
        task.await.unwrap();
        assert_eq!(r.not_ready_reason(), None);
        assert_eq!(m.identity_verified.get(), 1);
        assert_eq!(sim.calls()[0].action.as_deref(), Some("GetCallerIdentity"));
    }

    #[tokio::test]
    async fn failure_keeps_not_ready_and_retries_until_it_works() {
        let sim = Simulator::new(Arc::new(SystemClock));
        let arn = "arn:aws:iam::111122223333:user/tvm";
        let (r, m) = (ready(), Metrics::new());
        // The key is unknown at first: InvalidClientTokenId, as with stale credentials.
        let sts = Arc::new(sim.sts_client("AKIAUNKNOWNKEY000001"));
        let task = spawn(sts, r.clone(), m.clone(), fast());
        tokio::time::sleep(Duration::from_millis(60)).await;
        let why = r.not_ready_reason().expect("not ready");
        assert!(why.contains("rejected (InvalidClientTokenId)"), "{why}");
        assert_eq!(m.identity_verified.get(), 0);
        let failures = m.identity_checks.with_label_values(&["error"]).get();
        assert!(failures >= 2, "retried: {failures}");
        sim.add_user(arn, "AKIAUNKNOWNKEY000001", "s3cr3t-s3cr3t-s3cr3t-s3cr3t")
            .unwrap();
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .expect("stops retrying once verified")
            .unwrap();
        assert_eq!(r.not_ready_reason(), None);
        assert_eq!(m.identity_verified.get(), 1);
    }

    #[tokio::test]
    async fn throttling_is_a_failure_too() {
        let sim = Simulator::new(Arc::new(SystemClock));
        let key = sim
            .create_access_key("arn:aws:iam::111122223333:user/tvm")
            .unwrap();
        sim.set_fault("GetCallerIdentity", Some(Fault::Throttle));
        let (r, m) = (ready(), Metrics::new());
        let task = spawn(
            Arc::new(sim.sts_client(&key.access_key_id)),
            r.clone(),
            m.clone(),
            fast(),
        );
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert!(r.not_ready_reason().unwrap().contains("throttled"));
        task.abort();
    }
}
