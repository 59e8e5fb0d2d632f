//! A small readiness latch: ready only when the policy is loaded, the STS client
//! is built, tvm's own AWS identity has been verified (when that check is
//! required, as `tvm serve` requires it), the shared state backend (Redis) has
//! not been failing for longer than its grace period, and shutdown has not begun.
//!
//! Invariant: once [`Readiness::require_identity`] is called, `/readyz` stays 503
//! until [`Readiness::set_identity_verified`], so a pod whose credentials do not
//! work never receives traffic.
//!
//! Why a grace period for Redis: every replica shares the one Redis, so a blip
//! fails all of them at the same moment; if `/readyz` followed it at once, the
//! Service would drop every endpoint together and clients would get connection
//! errors instead of a clear, retryable 503 `UNAVAILABLE` (and a long outage
//! still takes the pods out, so traffic can go to a healthy deployment).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use crate::state::BackendHealth;

/// Shared readiness flags.
#[derive(Debug, Clone, Default)]
pub struct Readiness(Arc<Flags>);

#[derive(Debug, Default)]
struct Flags {
    policy_loaded: AtomicBool,
    sts_ready: AtomicBool,
    shutting_down: AtomicBool,
    /// Why tvm's own identity is not verified yet; `None` once verified or when
    /// the check is not required.
    identity: Mutex<Option<String>>,
    /// The shared state backend and how long it may fail before not ready.
    state: OnceLock<(Arc<BackendHealth>, Duration)>,
    revocations: OnceLock<crate::revocation::BlockSet>,
}

impl Readiness {
    /// Marks the policy as loaded.
    pub fn set_policy_loaded(&self) {
        self.0.policy_loaded.store(true, Ordering::SeqCst);
    }

    /// Marks the STS client as built.
    pub fn set_sts_ready(&self) {
        self.0.sts_ready.store(true, Ordering::SeqCst);
    }

    /// Requires the start-up identity check: not ready until it succeeds.
    pub fn require_identity(&self) {
        self.set_identity_failed("tvm's AWS identity not verified yet".into());
    }

    /// Records why the identity check failed (shown by `/readyz`; never a secret).
    pub fn set_identity_failed(&self, reason: String) {
        *self.identity() = Some(reason);
    }

    /// Records that the identity check succeeded.
    pub fn set_identity_verified(&self) {
        *self.identity() = None;
    }

    fn identity(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        // A poisoned lock still holds a meaningful reason.
        self.0.identity.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes readiness follow a shared state backend: not ready once it has
    /// failed continuously for longer than `grace`. Set once; later calls are
    /// ignored.
    pub fn watch_state_backend(&self, health: Arc<BackendHealth>, grace: Duration) {
        let _ = self.0.state.set((health, grace));
    }

    /// Holds `/readyz` at 503 until `blocks` were loaded once (DESIGN §13).
    pub fn watch_revocations(&self, blocks: crate::revocation::BlockSet) {
        let _ = self.0.revocations.set(blocks);
    }

    /// Starts shutdown: `/readyz` turns 503 from now on.
    pub fn begin_shutdown(&self) {
        self.0.shutting_down.store(true, Ordering::SeqCst);
    }

    /// Whether shutdown has begun.
    pub fn is_shutting_down(&self) -> bool {
        self.0.shutting_down.load(Ordering::SeqCst)
    }

    /// Why not ready, or `None` when ready.
    pub fn not_ready_reason(&self) -> Option<String> {
        if self.is_shutting_down() {
            Some("shutting down".into())
        } else if !self.0.policy_loaded.load(Ordering::SeqCst) {
            Some("policy not loaded".into())
        } else if !self.0.sts_ready.load(Ordering::SeqCst) {
            Some("sts client not built".into())
        } else if self.0.revocations.get().is_some_and(|b| !b.is_loaded()) {
            Some("revocation blocks not loaded yet".into())
        } else if let Some(reason) = self.state_backend_lost() {
            Some(reason)
        } else {
            self.identity().clone()
        }
    }
}

impl Readiness {
    fn state_backend_lost(&self) -> Option<String> {
        let (health, grace) = self.0.state.get()?;
        let failing = health.failing_for()?;
        (failing > *grace)
            .then(|| format!("state backend (redis) failing for {}s", failing.as_secs()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lost_state_backend_gates_readiness_only_after_the_grace() {
        let r = Readiness::default();
        r.set_policy_loaded();
        r.set_sts_ready();
        let health = Arc::new(BackendHealth::default());
        r.watch_state_backend(health.clone(), Duration::from_millis(30));
        health.record(false);
        assert_eq!(r.not_ready_reason(), None, "inside the grace");
        std::thread::sleep(Duration::from_millis(60));
        assert!(r.not_ready_reason().unwrap().contains("redis"));
        health.record(true);
        assert_eq!(r.not_ready_reason(), None);
    }

    #[test]
    fn identity_check_gates_readiness_once_required() {
        let r = Readiness::default();
        r.set_policy_loaded();
        r.set_sts_ready();
        assert_eq!(r.not_ready_reason(), None);
        r.require_identity();
        assert!(r.not_ready_reason().unwrap().contains("identity"));
        r.set_identity_failed("sts identity check failed: rejected".into());
        assert_eq!(
            r.not_ready_reason().as_deref(),
            Some("sts identity check failed: rejected")
        );
        r.set_identity_verified();
        assert_eq!(r.not_ready_reason(), None);
        r.begin_shutdown();
        assert_eq!(r.not_ready_reason().as_deref(), Some("shutting down"));
    }
}
