//! The `sts` section: the file's [`StsConfig`], the per-replica cap on
//! concurrent STS calls ([`StsCallCap`], enforced by `crate::sts::gate`), and
//! the fixed deadlines of the two STS calls a vend makes, which
//! `server.request_timeout` must outlive.
//!
//! Invariants: a validated cap allows 1 to 10000 calls and waits at most 30 s
//! for a slot; the deadlines are constants, defined here so that config
//! validation and the callers (`crate::auth` for GetCallerIdentity,
//! `crate::sts::aws` for AssumeRole) use the same values.

use std::time::Duration;

use jiff::SignedDuration;
use serde::Deserialize;

use super::duration::duration_in;
use super::{ConfigError, HumanDuration};

/// Deadline for one verification call, connect plus response. A slow or hanging
/// STS must not hold request slots (and the caller) for long.
pub const TRANSPORT_TIMEOUT: Duration = Duration::from_secs(5);

/// Time allowed for one AssumeRole call including retries; well inside the
/// request timeout so the caller gets an STS error, not a generic timeout.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(8);

/// Default `sts.max_concurrent_calls`: well above what one replica needs at
/// hundreds of vends per second with STS answering in tens of milliseconds,
/// well below what would get tvm's own role throttled by STS.
pub const DEFAULT_MAX_CONCURRENT_CALLS: usize = 64;

/// `sts`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StsConfig {
    /// The region of the STS client.
    pub region: String,
    /// A custom STS endpoint (VPC endpoint, simulator); `null` = real AWS.
    #[serde(default)]
    pub endpoint_url: Option<String>,
    /// Most STS calls (GetCallerIdentity and AssumeRole) one replica makes at once.
    pub max_concurrent_calls: usize,
    /// How long a call waits for a free slot before the request gets 503.
    pub queue_timeout: HumanDuration,
}

impl Default for StsConfig {
    fn default() -> Self {
        Self {
            region: "us-east-1".into(),
            endpoint_url: None,
            max_concurrent_calls: DEFAULT_MAX_CONCURRENT_CALLS,
            queue_timeout: HumanDuration(SignedDuration::from_secs(2)),
        }
    }
}

/// The validated cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StsCallCap {
    /// Most calls in flight.
    pub max: usize,
    /// Longest wait for a slot.
    pub wait: Duration,
}

impl Default for StsCallCap {
    fn default() -> Self {
        Self {
            max: DEFAULT_MAX_CONCURRENT_CALLS,
            wait: Duration::from_secs(2),
        }
    }
}

/// Validates `sts.max_concurrent_calls` and `sts.queue_timeout`.
pub(super) fn sts_cap(s: &StsConfig) -> Result<StsCallCap, ConfigError> {
    if !(1..=10_000).contains(&s.max_concurrent_calls) {
        return Err(ConfigError::invalid(
            "sts.max_concurrent_calls",
            "must be between 1 and 10000",
        ));
    }
    let wait = duration_in(
        "sts.queue_timeout",
        s.queue_timeout.0,
        SignedDuration::ZERO,
        SignedDuration::from_secs(30),
    )?;
    Ok(StsCallCap {
        max: s.max_concurrent_calls,
        wait,
    })
}
