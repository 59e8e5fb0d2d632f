//! The backend a server runs on: the replay store, a maker of rate buckets
//! and, when shared, its health.
//!
//! Invariant: one replica keeps everything in this process; several share
//! everything through one Redis — replay reservations and buckets never split
//! between the two.

use std::sync::Arc;

use super::health::BackendHealth;
use super::memory::MemoryBuckets;
use super::redis::{RedisBuckets, RedisState};
use super::replay::{InMemoryReplayStore, ReplayStore};
use super::{BucketScope, RateBuckets};
use crate::config::RateLimit;

/// Where a server keeps its state: the replay store, a maker of rate buckets and,
/// for a shared backend, its health for `/readyz`.
#[derive(Clone)]
pub struct Backend {
    /// The replay store the verifier reserves signatures in.
    pub replay: Arc<dyn ReplayStore>,
    /// `None`: in-memory buckets; `Some`: buckets in the shared store.
    shared: Option<Arc<RedisState>>,
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backend")
            .field("shared", &self.shared.is_some())
            .finish_non_exhaustive()
    }
}

impl Backend {
    /// One replica: everything in this process.
    pub fn in_memory(replay_capacity: usize) -> Self {
        Self::with_replay(Arc::new(InMemoryReplayStore::with_capacity(
            replay_capacity,
        )))
    }

    /// In-memory buckets around a given replay store (tests, `tvm dev`).
    pub fn with_replay(replay: Arc<dyn ReplayStore>) -> Self {
        Self {
            replay,
            shared: None,
        }
    }

    /// Several replicas: replay store and buckets in Redis.
    pub fn shared(state: Arc<RedisState>) -> Self {
        Self {
            replay: state.clone(),
            shared: Some(state),
        }
    }

    /// The buckets for `scope` sized by `limit`; `None` when the limit is off.
    pub fn buckets(&self, scope: BucketScope, limit: RateLimit) -> Option<Arc<dyn RateBuckets>> {
        match &self.shared {
            None => MemoryBuckets::new(limit).map(|b| Arc::new(b) as Arc<dyn RateBuckets>),
            Some(s) => RedisBuckets::new(s.clone(), scope, limit)
                .map(|b| Arc::new(b) as Arc<dyn RateBuckets>),
        }
    }

    /// The shared backend's health, when there is one.
    pub fn health(&self) -> Option<Arc<BackendHealth>> {
        self.shared.as_ref().map(|s| s.health())
    }
}
