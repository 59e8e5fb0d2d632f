//! State that tvm keeps about callers between requests: the replay reservations
//! (DESIGN §2 step 6) and the rate buckets (DESIGN §1 "limit per client address"
//! and "limit per caller"), in this process or shared by every replica in Redis.
//!
//! Layout:
//!
//! ```text
//! mod.rs     the bucket trait (RateBuckets) and its scopes
//! backend.rs the backend a server runs on (Backend): memory or Redis
//! replay.rs  ReplayKey, the ReplayStore trait, the in-memory store, keep_until
//! memory.rs  in-memory token buckets (one replica)
//! redis.rs   the shared backend: SET NX PX reservations, one Lua GCRA call per
//!            rate decision, Redis TIME as the one clock
//! health.rs  backend health for /readyz (grace period) and the backend metrics
//! ```
//!
//! `auth` and `http`/`vend` use the traits, never Redis directly.
//!
//! Invariants: a backend's memory is bounded and every Redis key has a TTL; when
//! a bucket cannot track a new key it refuses (fails closed) rather than letting
//! the key through unlimited; a replay store that cannot answer refuses the token
//! (503, nothing vended); a rate bucket that cannot answer follows
//! `state.rate_limit_failure` ([`crate::config::RateLimitFailure`]).

mod backend;
pub mod health;
pub mod memory;
pub mod redis;
pub mod replay;

use std::time::Duration;

pub use backend::Backend;
pub use health::{BackendHealth, StateMetrics};
pub use memory::{MemoryBuckets, MAX_TRACKED_KEYS};
pub use replay::{InMemoryReplayStore, ReplayError, ReplayKey, ReplayStore};

/// Why a bucket did not let a request through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateError {
    /// The bucket is empty; retry after this long.
    Limited(Duration),
    /// The shared backend could not decide and the policy is `closed` (503).
    Unavailable,
}

/// Token buckets keyed by an opaque string (an address, an ARN).
#[async_trait::async_trait]
pub trait RateBuckets: Send + Sync + std::fmt::Debug {
    /// Takes one token from `key`'s bucket.
    async fn take(&self, key: &str) -> Result<(), RateError>;
}

/// The buckets tvm charges, by scope; each scope has its own key space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BucketScope {
    /// Per client address, `/vend` and `/profiles`.
    Address,
    /// Per client address, `/.well-known/tvm`.
    Discovery,
    /// Per STS ARN.
    Principal,
    /// Per canonical principal.
    Role,
}

impl BucketScope {
    /// The short name used in Redis keys.
    pub fn as_str(self) -> &'static str {
        match self {
            BucketScope::Address => "address",
            BucketScope::Discovery => "discovery",
            BucketScope::Principal => "principal",
            BucketScope::Role => "role",
        }
    }
}
