//! In-memory token buckets for one replica (the default backend).
//!
//! A `Mutex<HashMap>` rather than `governor`'s keyed limiters: governor's keyed
//! store grows with every new key and only shrinks on an explicit
//! `retain_recent`, with no way to refuse a key atomically when full, so it
//! cannot keep the bound below without a lock of our own around it anyway.
//!
//! Invariants: memory is bounded ([`MAX_TRACKED_KEYS`]; idle, refilled buckets
//! are dropped first, and when every tracked key is active a new key is refused
//! rather than letting the table grow).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{RateBuckets, RateError};
use crate::config::RateLimit;

/// Most keys tracked at once per bucket set (~100 B each: ~10 MB at the cap).
pub const MAX_TRACKED_KEYS: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Token buckets keyed by string, in this process.
#[derive(Debug)]
pub struct MemoryBuckets {
    per_second: f64,
    burst: f64,
    max_keys: usize,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl MemoryBuckets {
    /// Buckets for `limit`; `None` when the limit is off.
    pub fn new(limit: RateLimit) -> Option<Self> {
        Self::with_max_keys(limit, MAX_TRACKED_KEYS)
    }

    /// As [`MemoryBuckets::new`] with another bound on tracked keys (tests).
    pub fn with_max_keys(limit: RateLimit, max_keys: usize) -> Option<Self> {
        limit.is_on().then(|| Self {
            per_second: f64::from(limit.per_minute) / 60.0,
            burst: f64::from(limit.burst.max(1)),
            max_keys,
            buckets: Mutex::new(HashMap::new()),
        })
    }

    /// Takes one token for `key` at `now`; `Err(retry_after)` when none is left.
    pub fn take_at(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        // A known key (every request of a caller after its first): one hash,
        // no allocation. A new key is hashed again to insert it.
        let bucket = match buckets.get_mut(key) {
            Some(bucket) => bucket,
            None => {
                if buckets.len() >= self.max_keys {
                    let (rate, burst) = (self.per_second, self.burst);
                    buckets.retain(|_, b| refill(rate, burst, *b, now).tokens < burst);
                    if buckets.len() >= self.max_keys {
                        return Err(Duration::from_secs(1));
                    }
                }
                buckets.entry(key.to_owned()).or_insert(Bucket {
                    tokens: self.burst,
                    updated: now,
                })
            }
        };
        *bucket = refill(self.per_second, self.burst, *bucket, now);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) / self.per_second;
            Err(Duration::from_secs_f64(wait.ceil().max(1.0)))
        }
    }

    /// Keys tracked now.
    pub fn tracked(&self) -> usize {
        self.buckets.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

#[async_trait::async_trait]
impl RateBuckets for MemoryBuckets {
    async fn take(&self, key: &str) -> Result<(), RateError> {
        self.take_at(key, Instant::now())
            .map_err(RateError::Limited)
    }
}

fn refill(per_second: f64, burst: f64, b: Bucket, now: Instant) -> Bucket {
    let elapsed = now.saturating_duration_since(b.updated).as_secs_f64();
    Bucket {
        tokens: (b.tokens + elapsed * per_second).min(burst),
        updated: now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(per_minute: u32, burst: u32) -> RateLimit {
        RateLimit { per_minute, burst }
    }

    #[test]
    fn allows_a_burst_then_refills_at_the_rate() {
        let rl = MemoryBuckets::new(limit(60, 3)).unwrap();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(rl.take_at("a", t0).is_ok());
        }
        assert_eq!(rl.take_at("a", t0).unwrap_err(), Duration::from_secs(1));
        // Other keys are unaffected.
        assert!(rl.take_at("b", t0).is_ok());
        // One token per second comes back.
        assert!(rl.take_at("a", t0 + Duration::from_millis(1000)).is_ok());
        assert!(rl.take_at("a", t0 + Duration::from_millis(1000)).is_err());
    }

    #[test]
    fn zero_disables() {
        assert!(MemoryBuckets::new(RateLimit::OFF).is_none());
    }

    #[test]
    fn table_is_bounded_and_idle_keys_are_dropped_first() {
        let rl = MemoryBuckets::with_max_keys(limit(60, 1), 1000).unwrap();
        let t0 = Instant::now();
        for i in 0..1000 {
            assert!(rl.take_at(&i.to_string(), t0).is_ok());
        }
        // Every tracked key is active: a newcomer is refused, not tracked.
        assert!(rl.take_at("new", t0).is_err());
        assert_eq!(rl.tracked(), 1000);
        // A second later all buckets are full again, so they can be dropped.
        assert!(rl.take_at("new", t0 + Duration::from_secs(1)).is_ok());
        assert!(rl.tracked() <= 2);
    }

    #[test]
    fn a_full_table_still_serves_the_keys_it_tracks() {
        let rl = MemoryBuckets::with_max_keys(limit(60, 2), 2).unwrap();
        let t0 = Instant::now();
        assert!(rl.take_at("a", t0).is_ok());
        assert!(rl.take_at("b", t0).is_ok());
        // Both buckets are active (not refilled): a newcomer is refused...
        assert!(rl.take_at("c", t0).is_err());
        // ...while a tracked key still spends its own tokens, and then waits.
        assert!(rl.take_at("a", t0).is_ok());
        assert_eq!(rl.take_at("a", t0).unwrap_err(), Duration::from_secs(1));
        assert_eq!(rl.tracked(), 2);
    }

    #[test]
    fn production_bound_holds() {
        let rl = MemoryBuckets::new(limit(60, 1)).unwrap();
        let t0 = Instant::now();
        for i in 0..MAX_TRACKED_KEYS {
            let _ = rl.take_at(&i.to_string(), t0);
        }
        assert!(rl.take_at("one more", t0).is_err());
        assert_eq!(rl.tracked(), MAX_TRACKED_KEYS);
    }
}
