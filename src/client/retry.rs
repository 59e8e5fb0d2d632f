//! When the client asks tvm again: 429 (`RATE_LIMITED`) and 503
//! (`STS_THROTTLED`, `UNAVAILABLE`) only, never another 4xx or 5xx.
//!
//! Invariants: the delay is "full jitter" exponential backoff, never shorter
//! than the server's `Retry-After`; no retry starts once [`RETRY_BUDGET`]
//! would be exceeded by its wait, so a command gives up after about that long.
//! The caller mints a fresh token for every attempt (tokens are one-time).

use std::time::Duration;

use rand::Rng as _;

/// The most time spent waiting between attempts of one request.
pub const RETRY_BUDGET: Duration = Duration::from_secs(10);
/// Backoff ceiling of the first retry; doubled each attempt.
const BASE_DELAY: Duration = Duration::from_millis(250);
/// Largest backoff ceiling.
const MAX_DELAY: Duration = Duration::from_secs(4);

/// Whether an answer with this status is worth another attempt.
pub(crate) fn is_retryable(status: u16) -> bool {
    matches!(status, 429 | 503)
}

/// The wait before retry number `attempt + 1`, or `None` when it would end
/// past [`RETRY_BUDGET`] (`elapsed` since the first attempt).
pub(crate) fn next_delay(
    attempt: u32,
    retry_after: Option<Duration>,
    elapsed: Duration,
) -> Option<Duration> {
    let ceiling = BASE_DELAY
        .saturating_mul(1u32.checked_shl(attempt.min(16)).unwrap_or(u32::MAX))
        .min(MAX_DELAY);
    let jitter = rand::rng().random_range(Duration::ZERO..=ceiling);
    let wait = jitter.max(retry_after.unwrap_or_default());
    (elapsed + wait <= RETRY_BUDGET).then_some(wait)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_429_and_503_are_retried() {
        for s in [429, 503] {
            assert!(is_retryable(s));
        }
        for s in [200, 400, 401, 403, 413, 500, 502, 504] {
            assert!(!is_retryable(s), "{s}");
        }
    }

    #[test]
    fn delays_honour_retry_after_and_the_budget() {
        for attempt in 0..40 {
            let d = next_delay(attempt, None, Duration::ZERO).unwrap();
            assert!(d <= MAX_DELAY);
        }
        let d = next_delay(0, Some(Duration::from_secs(3)), Duration::ZERO).unwrap();
        assert!(d >= Duration::from_secs(3));
        assert_eq!(
            next_delay(0, Some(Duration::from_secs(3)), Duration::from_secs(8)),
            None
        );
        assert_eq!(
            next_delay(0, Some(Duration::from_secs(60)), Duration::ZERO),
            None
        );
    }
}
