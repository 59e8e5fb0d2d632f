//! Per-client rate limiting (DESIGN §1, 429 `RATE_LIMITED`): a token bucket per
//! TCP peer address, checked before any token processing, so one client cannot
//! flood the replay store or make tvm hammer STS.
//!
//! Invariants: memory is bounded ([`MAX_TRACKED_CLIENTS`]; idle, refilled
//! buckets are dropped first, and when every tracked client is active a new
//! client is refused rather than letting the table grow); the key is the TCP
//! peer, never a header. Behind a load balancer that hides client addresses,
//! size the limit for the whole balancer (or disable it with 0).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Most client addresses tracked at once.
pub const MAX_TRACKED_CLIENTS: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Token buckets keyed by client address.
#[derive(Debug)]
pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

impl RateLimiter {
    /// `per_minute` requests per minute on average, bursts of `burst`;
    /// `None` when `per_minute` is 0 (disabled).
    pub fn new(per_minute: u32, burst: u32) -> Option<Self> {
        (per_minute > 0).then(|| Self {
            per_second: f64::from(per_minute) / 60.0,
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        })
    }

    /// Takes one token for `client`; `Err(retry_after)` when none is left.
    pub fn check(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if !buckets.contains_key(&client) && buckets.len() >= MAX_TRACKED_CLIENTS {
            let (rate, burst) = (self.per_second, self.burst);
            buckets.retain(|_, b| Self::refill(rate, burst, *b, now).tokens < burst);
            if buckets.len() >= MAX_TRACKED_CLIENTS {
                return Err(Duration::from_secs(1));
            }
        }
        let bucket = buckets.entry(client).or_insert(Bucket {
            tokens: self.burst,
            updated: now,
        });
        *bucket = Self::refill(self.per_second, self.burst, *bucket, now);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) / self.per_second;
            Err(Duration::from_secs_f64(wait.ceil().max(1.0)))
        }
    }

    fn refill(per_second: f64, burst: f64, b: Bucket, now: Instant) -> Bucket {
        let elapsed = now.saturating_duration_since(b.updated).as_secs_f64();
        Bucket {
            tokens: (b.tokens + elapsed * per_second).min(burst),
            updated: now,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, n])
    }

    #[test]
    fn allows_a_burst_then_refills_at_the_rate() {
        let rl = RateLimiter::new(60, 3).unwrap();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(rl.check(ip(1), t0).is_ok());
        }
        let wait = rl.check(ip(1), t0).unwrap_err();
        assert_eq!(wait, Duration::from_secs(1));
        // Other clients are unaffected.
        assert!(rl.check(ip(2), t0).is_ok());
        // One token per second comes back.
        assert!(rl.check(ip(1), t0 + Duration::from_millis(1000)).is_ok());
        assert!(rl.check(ip(1), t0 + Duration::from_millis(1000)).is_err());
    }

    #[test]
    fn zero_disables() {
        assert!(RateLimiter::new(0, 10).is_none());
    }

    #[test]
    fn table_is_bounded_and_idle_clients_are_dropped_first() {
        let rl = RateLimiter::new(60, 1).unwrap();
        let t0 = Instant::now();
        for i in 0..MAX_TRACKED_CLIENTS as u32 {
            let addr = IpAddr::from(std::net::Ipv4Addr::from(i));
            assert!(rl.check(addr, t0).is_ok());
        }
        // Every tracked client is active: a newcomer is refused, not tracked.
        assert!(rl.check(ip(250), t0).is_err());
        // A second later all buckets are full again, so they can be dropped.
        assert!(rl.check(ip(250), t0 + Duration::from_secs(1)).is_ok());
        assert!(rl.buckets.lock().unwrap().len() <= 2);
    }
}
