//! State that tvm keeps about callers between requests. Today: the rate buckets
//! (DESIGN §1 "limit per client address" and "limit per caller"), in memory.
//!
//! Owns the [`RateBuckets`] interface that the HTTP layer (per client address)
//! and the vending pipeline (per STS ARN and per role) charge; the shared
//! backend of issue #9 (Redis, for several replicas) plugs in behind the same
//! trait, next to [`memory::MemoryBuckets`]. Invariants: a backend's memory is
//! bounded; when it cannot track a new key it refuses (fails closed) rather than
//! letting the key through unlimited.

pub mod memory;

use std::time::Duration;

pub use memory::{MemoryBuckets, MAX_TRACKED_KEYS};

/// Token buckets keyed by an opaque string (an address, an ARN).
pub trait RateBuckets: Send + Sync + std::fmt::Debug {
    /// Takes one token from `key`'s bucket; `Err(retry_after)` when it is empty.
    fn take(&self, key: &str) -> Result<(), Duration>;
}
