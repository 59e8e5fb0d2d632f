//! The `server` section: the file's [`ServerConfig`], and the server's abuse
//! limits, validated: who is a trusted proxy, how many
//! connections one address may hold and for how long, and the rate buckets.
//!
//! The defaults are sized so that a CI fleet behind one NAT address is not
//! throttled by normal use while one client still cannot take the service from
//! everyone (numbers and reasoning in `config/tvm.yaml` and the README's security
//! section). Invariant: every count is at least 1 and every timeout inside its
//! range, or loading fails with the key path (exit 64).

use std::time::Duration;

use jiff::SignedDuration;
use serde::Deserialize;

use super::{to_std, Cidr, ConfigError, HumanDuration};

/// `server`. The limit keys are documented in `config/tvm.yaml` and validated
/// into [`ServerLimits`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Upper bound for one API request, STS calls included.
    pub request_timeout: HumanDuration,
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// How long in-flight requests may take to finish after SIGTERM.
    pub shutdown_timeout: HumanDuration,
    /// How long `/readyz` reports 503 before the listener stops accepting, so that
    /// load balancers stop sending traffic first.
    pub shutdown_delay: HumanDuration,
    /// Networks (CIDR) of proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<String>,
    /// Most open API connections; further ones are closed at once.
    pub max_connections: usize,
    /// Most open API connections from one client address (trusted proxies exempt).
    pub max_connections_per_address: usize,
    /// Time a new connection has to send its first byte.
    pub first_byte_timeout: HumanDuration,
    /// Time a keep-alive connection may sit idle between requests.
    pub idle_timeout: HumanDuration,
    /// Per-client-address average rate for `/vend` and `/profiles` (0 = off;
    /// then the per-ARN and per-role rates below are off too unless set).
    pub rate_limit_per_minute: u32,
    /// Per-client-address burst.
    pub rate_limit_burst: u32,
    /// Per-client-address rate for `GET /.well-known/tvm` (0 = off).
    pub discovery_rate_limit_per_minute: u32,
    /// Per-client-address burst for discovery.
    pub discovery_rate_limit_burst: u32,
    /// Per verified STS ARN (one session) rate, after verification (0 = off;
    /// unset: the default, or off when `rate_limit_per_minute` is 0).
    pub caller_rate_limit_per_minute: Option<u32>,
    /// Per verified STS ARN burst.
    pub caller_rate_limit_burst: u32,
    /// Per canonical principal (a role, all its sessions) rate (0 = off;
    /// unset as for the per-ARN rate).
    pub role_rate_limit_per_minute: Option<u32>,
    /// Per canonical principal burst.
    pub role_rate_limit_burst: u32,
}

impl Default for ServerConfig {
    fn default() -> Self {
        let d = ServerLimits::default();
        let secs = |d: std::time::Duration| {
            HumanDuration(SignedDuration::try_from(d).unwrap_or(SignedDuration::ZERO))
        };
        Self {
            request_timeout: HumanDuration(SignedDuration::from_secs(15)),
            max_body_bytes: 16 * 1024,
            shutdown_timeout: HumanDuration(SignedDuration::from_secs(20)),
            shutdown_delay: HumanDuration(SignedDuration::from_secs(5)),
            trusted_proxies: Vec::new(),
            max_connections: d.max_connections,
            max_connections_per_address: d.max_connections_per_address,
            first_byte_timeout: secs(d.first_byte_timeout),
            idle_timeout: secs(d.idle_timeout),
            rate_limit_per_minute: d.address_rate.per_minute,
            rate_limit_burst: d.address_rate.burst,
            discovery_rate_limit_per_minute: d.discovery_rate.per_minute,
            discovery_rate_limit_burst: d.discovery_rate.burst,
            caller_rate_limit_per_minute: None,
            caller_rate_limit_burst: d.caller_rate.burst,
            role_rate_limit_per_minute: None,
            role_rate_limit_burst: d.role_rate.burst,
        }
    }
}

/// A token bucket: `per_minute` on average, bursts of `burst`; `per_minute` 0
/// turns the bucket off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Average requests per minute (0 = unlimited).
    pub per_minute: u32,
    /// Requests allowed at once after a quiet spell.
    pub burst: u32,
}

impl RateLimit {
    /// No limit.
    pub const OFF: RateLimit = RateLimit {
        per_minute: 0,
        burst: 0,
    };

    /// Whether this bucket limits anything.
    pub fn is_on(self) -> bool {
        self.per_minute > 0
    }
}

/// Limits of the API listener and the rate buckets, ready to use.
#[derive(Debug, Clone)]
pub struct ServerLimits {
    /// Peers whose `X-Forwarded-For` is believed (empty: none).
    pub trusted_proxies: Vec<Cidr>,
    /// Most open API connections.
    pub max_connections: usize,
    /// Most open API connections per client address (IPv6: per /64); trusted
    /// proxies are exempt since they carry everyone's traffic.
    pub max_connections_per_address: usize,
    /// A new connection that sends nothing for this long is closed.
    pub first_byte_timeout: Duration,
    /// A keep-alive connection idle this long between requests is closed.
    pub idle_timeout: Duration,
    /// Per client address, before any token work: `/vend` and `/profiles`.
    pub address_rate: RateLimit,
    /// Per client address: `GET /.well-known/tvm` (its own, cheaper bucket).
    pub discovery_rate: RateLimit,
    /// Per verified STS ARN (one person's session), before policy and STS.
    pub caller_rate: RateLimit,
    /// Per canonical principal (all sessions of one role), the backstop.
    pub role_rate: RateLimit,
}

/// Longest `first_byte_timeout` / `idle_timeout`: hyper's header-read timer
/// ([`crate::http::HEADER_READ_TIMEOUT`]) also runs while a keep-alive
/// connection waits for its next request, so a longer idle time would not apply.
const MAX_IDLE: Duration = Duration::from_secs(10);

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            trusted_proxies: Vec::new(),
            max_connections: 1024,
            max_connections_per_address: 64,
            first_byte_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(10),
            // 10/s sustained from one address, 300 at once: a few hundred CI
            // runners behind one NAT starting jobs together.
            address_rate: RateLimit {
                per_minute: 600,
                burst: 300,
            },
            discovery_rate: RateLimit {
                per_minute: 300,
                burst: 100,
            },
            // One session: 2/s sustained; `tvm credentials` caches, so a person
            // or a job needs a handful per hour.
            caller_rate: RateLimit {
                per_minute: 120,
                burst: 60,
            },
            // All sessions of one role (an SSO permission set, a CI role): ten
            // sessions' worth, so one engineer cannot throttle the others.
            role_rate: RateLimit {
                per_minute: 1200,
                burst: 600,
            },
        }
    }
}

fn rate(key: &str, per_minute: u32, burst: u32) -> Result<RateLimit, ConfigError> {
    if per_minute > 0 && burst == 0 {
        return Err(ConfigError::invalid(
            &format!("server.{key}_burst"),
            "must be at least 1 when the limit is on",
        ));
    }
    Ok(RateLimit { per_minute, burst })
}

fn timeout(key: &str, d: jiff::SignedDuration) -> Result<Duration, ConfigError> {
    let min = jiff::SignedDuration::from_millis(100);
    let max = jiff::SignedDuration::try_from(MAX_IDLE).unwrap_or(min);
    if d < min || d > max {
        return Err(ConfigError::invalid(
            key,
            format!("must be between {min:#} and {max:#}"),
        ));
    }
    Ok(to_std(d))
}

/// Validates the limit keys of `server`.
pub(super) fn validate(s: &ServerConfig) -> Result<ServerLimits, ConfigError> {
    // `rate_limit_per_minute: 0` means "no request rate limits" to an operator
    // (a load test, a private deployment): the per-ARN and per-role buckets
    // follow it unless they are set explicitly.
    let defaults = ServerLimits::default();
    let follow = |set: Option<u32>, default: u32| match set {
        Some(v) => v,
        None if s.rate_limit_per_minute == 0 => 0,
        None => default,
    };
    let trusted_proxies = super::proxies::trusted_proxies(&s.trusted_proxies)?;
    if !(1..=1_000_000).contains(&s.max_connections) {
        return Err(ConfigError::invalid(
            "server.max_connections",
            "must be between 1 and 1000000",
        ));
    }
    if !(1..=s.max_connections).contains(&s.max_connections_per_address) {
        return Err(ConfigError::invalid(
            "server.max_connections_per_address",
            "must be between 1 and server.max_connections",
        ));
    }
    Ok(ServerLimits {
        trusted_proxies,
        max_connections: s.max_connections,
        max_connections_per_address: s.max_connections_per_address,
        first_byte_timeout: timeout("server.first_byte_timeout", s.first_byte_timeout.0)?,
        idle_timeout: timeout("server.idle_timeout", s.idle_timeout.0)?,
        address_rate: rate("rate_limit", s.rate_limit_per_minute, s.rate_limit_burst)?,
        discovery_rate: rate(
            "discovery_rate_limit",
            s.discovery_rate_limit_per_minute,
            s.discovery_rate_limit_burst,
        )?,
        caller_rate: rate(
            "caller_rate_limit",
            follow(
                s.caller_rate_limit_per_minute,
                defaults.caller_rate.per_minute,
            ),
            s.caller_rate_limit_burst,
        )?,
        role_rate: rate(
            "role_rate_limit",
            follow(s.role_rate_limit_per_minute, defaults.role_rate.per_minute),
            s.role_rate_limit_burst,
        )?,
    })
}
