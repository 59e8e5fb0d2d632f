//! Rate buckets in Redis: one Lua GCRA script per decision, timed by Redis's
//! own `TIME`, so every replica charges one clock; the key lives only until the
//! bucket would be full again. When Redis cannot answer, the bucket follows
//! `state.rate_limit_failure` ([`RateLimitFailure`]).

use std::sync::Arc;
use std::time::Duration;

use super::RedisState;
use crate::config::{RateLimit, RateLimitFailure};
use crate::state::{BucketScope, RateBuckets, RateError};

/// One scope's buckets in Redis (GCRA, equivalent to the in-memory token bucket:
/// `burst` at once, then `per_minute` on average).
#[derive(Debug)]
pub struct RedisBuckets {
    state: Arc<RedisState>,
    scope: BucketScope,
    /// Milliseconds per request.
    interval_ms: u64,
    burst: u32,
}

impl RedisBuckets {
    /// Buckets for `limit` in `scope`; `None` when the limit is off.
    pub fn new(state: Arc<RedisState>, scope: BucketScope, limit: RateLimit) -> Option<Self> {
        limit.is_on().then(|| Self {
            state,
            scope,
            interval_ms: (60_000 / u64::from(limit.per_minute)).max(1),
            burst: limit.burst.max(1),
        })
    }
}

#[async_trait::async_trait]
impl RateBuckets for RedisBuckets {
    async fn take(&self, key: &str) -> Result<(), RateError> {
        let redis_key = self.state.bucket_key(self.scope, key);
        let (interval, burst, script) = (self.interval_ms, self.burst, &self.state.gcra);
        let decision = self
            .state
            .call("rate_limit", |mut c| async move {
                script
                    .key(&redis_key)
                    .arg(interval)
                    .arg(burst)
                    .invoke_async::<i64>(&mut c)
                    .await
            })
            .await;
        match decision {
            Some(0) => Ok(()),
            Some(wait_ms) => {
                let secs = u64::try_from(wait_ms).unwrap_or(1).div_ceil(1000).max(1);
                Err(RateError::Limited(Duration::from_secs(secs)))
            }
            None => match self.state.failure {
                RateLimitFailure::Open => Ok(()),
                RateLimitFailure::Closed => Err(RateError::Unavailable),
            },
        }
    }
}
