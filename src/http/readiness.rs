//! A small readiness latch: ready only when the policy is loaded, the STS client
//! is built, and shutdown has not begun.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Shared readiness flags.
#[derive(Debug, Clone, Default)]
pub struct Readiness(Arc<Flags>);

#[derive(Debug, Default)]
struct Flags {
    policy_loaded: AtomicBool,
    sts_ready: AtomicBool,
    shutting_down: AtomicBool,
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

    /// Starts shutdown: `/readyz` turns 503 from now on.
    pub fn begin_shutdown(&self) {
        self.0.shutting_down.store(true, Ordering::SeqCst);
    }

    /// Whether shutdown has begun.
    pub fn is_shutting_down(&self) -> bool {
        self.0.shutting_down.load(Ordering::SeqCst)
    }

    /// Why not ready, or `None` when ready.
    pub fn not_ready_reason(&self) -> Option<&'static str> {
        if self.is_shutting_down() {
            Some("shutting down")
        } else if !self.0.policy_loaded.load(Ordering::SeqCst) {
            Some("policy not loaded")
        } else if !self.0.sts_ready.load(Ordering::SeqCst) {
            Some("sts client not built")
        } else {
            None
        }
    }
}
