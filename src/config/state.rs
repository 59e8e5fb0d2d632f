//! The `state` section (where replay reservations and rate buckets live): the
//! file's [`StateConfig`] and its validation, reading the Redis password and CA
//! files at start-up so a missing file exits 64 with its key path.
//!
//! Owns [`StateConfig`], [`RateLimitFailure`], [`REPLAY_CACHE_CAPACITY`] (the
//! default capacity; its sizing is explained in `crate::state::replay`),
//! [`RedisSettings`] (how to reach Redis; `Debug` redacts) and [`redact_url`].
//!
//! Invariants: a Redis URL is `redis://` or `rediss://` with no `#insecure`
//! fragment (certificates are always verified); no message quotes the URL's
//! password or the password file's contents.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use jiff::SignedDuration;
use serde::Deserialize;

use super::duration::duration_in;
use super::{ConfigError, HumanDuration};

/// Default `state.replay_capacity`: most live replay-store entries, about
/// 130 B each in memory (measured and explained in `crate::state::replay`).
pub const REPLAY_CACHE_CAPACITY: usize = 1_000_000;

/// `state`: where the replay reservations and rate buckets live.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StateConfig {
    /// Redis for state shared across replicas (`redis://` or `rediss://`);
    /// `null` = in memory, for one replica. May carry the password; never logged.
    pub redis_url: Option<String>,
    /// A file holding the Redis password (overrides one in the URL).
    pub redis_password_file: Option<PathBuf>,
    /// PEM CA bundle that `rediss://` certificates must chain to (default: the
    /// system roots).
    pub redis_ca_file: Option<PathBuf>,
    /// Prefix of every Redis key, so several deployments can share one Redis.
    pub key_prefix: String,
    /// Most time to open a Redis connection.
    pub connect_timeout: HumanDuration,
    /// Most time for one Redis command; past it the call counts as failed.
    pub command_timeout: HumanDuration,
    /// `open` (default) or `closed`: what the rate buckets do when Redis cannot
    /// answer. Replay protection always fails closed.
    pub rate_limit_failure: RateLimitFailure,
    /// How long Redis must fail continuously before `/readyz` says 503.
    pub readiness_grace: HumanDuration,
    /// Most live replay-store entries (about 130 B each in memory); full means
    /// 503 for new tokens, never a forgotten live one. In-memory backend only.
    pub replay_capacity: usize,
}

/// `state.rate_limit_failure`: what a shared rate bucket does when Redis
/// cannot decide. The replay store has no such choice: it always fails closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RateLimitFailure {
    /// Let the request through (default): replay protection still fails
    /// closed, so a lost Redis never lets a token be used twice, and the
    /// per-replica cap on concurrent STS calls still protects STS.
    #[default]
    Open,
    /// Refuse the request with 503 `UNAVAILABLE`.
    Closed,
}

impl Default for StateConfig {
    fn default() -> Self {
        Self {
            redis_url: None,
            redis_password_file: None,
            redis_ca_file: None,
            key_prefix: "tvm:".into(),
            connect_timeout: HumanDuration(SignedDuration::from_secs(2)),
            command_timeout: HumanDuration(SignedDuration::from_secs(1)),
            rate_limit_failure: RateLimitFailure::Open,
            readiness_grace: HumanDuration(SignedDuration::from_secs(30)),
            replay_capacity: REPLAY_CACHE_CAPACITY,
        }
    }
}

/// Longest `state.key_prefix`.
const MAX_KEY_PREFIX_LEN: usize = 64;

/// How to reach Redis (`state.*`), validated.
#[derive(Clone)]
pub struct RedisSettings {
    /// `redis://` or `rediss://` URL; may hold a password, so never printed.
    pub url: String,
    /// A password read from `state.redis_password_file` (overrides the URL's).
    pub password: Option<String>,
    /// PEM CA bundle for `rediss://` instead of the system roots.
    pub ca_pem: Option<Vec<u8>>,
    /// Prefix of every key.
    pub key_prefix: String,
    /// Most time to open a connection.
    pub connect_timeout: Duration,
    /// Most time for one command (including waiting for a reconnect).
    pub command_timeout: Duration,
    /// What rate buckets do when Redis cannot answer.
    pub rate_limit_failure: RateLimitFailure,
}

impl fmt::Debug for RedisSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisSettings")
            .field("url", &redact_url(&self.url))
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("ca_pem", &self.ca_pem.as_ref().map(Vec::len))
            .field("key_prefix", &self.key_prefix)
            .field("connect_timeout", &self.connect_timeout)
            .field("command_timeout", &self.command_timeout)
            .field("rate_limit_failure", &self.rate_limit_failure)
            .finish()
    }
}

/// `url` with any password replaced by `***` (for logs and errors).
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "<unparsable url>".into();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        None => url.to_owned(),
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or("", |(u, _)| u);
            format!("{scheme}://{user}:***@{host}{tail}")
        }
    }
}

/// The validated `state` section.
#[derive(Debug, Clone)]
pub struct StateSettings {
    /// `None`: in memory (one replica).
    pub redis: Option<RedisSettings>,
    /// How long Redis must fail before `/readyz` says 503.
    pub readiness_grace: Duration,
}

impl Default for StateSettings {
    fn default() -> Self {
        Self {
            redis: None,
            readiness_grace: Duration::from_secs(30),
        }
    }
}

/// Validates `state`.
pub(super) fn validate(s: &StateConfig) -> Result<StateSettings, ConfigError> {
    let readiness_grace = duration_in(
        "state.readiness_grace",
        s.readiness_grace.0,
        SignedDuration::ZERO,
        SignedDuration::from_mins(10),
    )?;
    let connect_timeout = duration_in(
        "state.connect_timeout",
        s.connect_timeout.0,
        SignedDuration::from_millis(100),
        SignedDuration::from_secs(30),
    )?;
    let command_timeout = duration_in(
        "state.command_timeout",
        s.command_timeout.0,
        SignedDuration::from_millis(50),
        SignedDuration::from_secs(10),
    )?;
    let prefix_ok = !s.key_prefix.is_empty()
        && s.key_prefix.len() <= MAX_KEY_PREFIX_LEN
        && s.key_prefix.bytes().all(|b| b.is_ascii_graphic());
    if !prefix_ok {
        return Err(ConfigError::invalid(
            "state.key_prefix",
            format!("must be 1 to {MAX_KEY_PREFIX_LEN} printable ASCII characters without spaces"),
        ));
    }
    let Some(url) = &s.redis_url else {
        if s.redis_password_file.is_some() || s.redis_ca_file.is_some() {
            return Err(ConfigError::invalid(
                "state.redis_url",
                "is required when state.redis_password_file or state.redis_ca_file is set",
            ));
        }
        return Ok(StateSettings {
            redis: None,
            readiness_grace,
        });
    };
    let tls = url.starts_with("rediss://");
    if !(tls || url.starts_with("redis://")) {
        return Err(ConfigError::invalid(
            "state.redis_url",
            format!(
                "`{}` must start with redis:// or rediss://",
                redact_url(url)
            ),
        ));
    }
    if url.contains('#') {
        return Err(ConfigError::invalid(
            "state.redis_url",
            "must not have a fragment: `#insecure` (no certificate verification) is not supported",
        ));
    }
    if s.redis_ca_file.is_some() && !tls {
        return Err(ConfigError::invalid(
            "state.redis_ca_file",
            "only applies to rediss:// URLs",
        ));
    }
    let password = match &s.redis_password_file {
        None => None,
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                ConfigError::invalid(
                    "state.redis_password_file",
                    format!("cannot read {}: {}", path.display(), e.kind()),
                )
            })?;
            let password = text.trim_end_matches(['\n', '\r']).to_owned();
            if password.is_empty() {
                return Err(ConfigError::invalid(
                    "state.redis_password_file",
                    format!("{} is empty", path.display()),
                ));
            }
            Some(password)
        }
    };
    let ca_pem = match &s.redis_ca_file {
        None => None,
        Some(path) => Some(std::fs::read(path).map_err(|e| {
            ConfigError::invalid(
                "state.redis_ca_file",
                format!("cannot read {}: {}", path.display(), e.kind()),
            )
        })?),
    };
    Ok(StateSettings {
        redis: Some(RedisSettings {
            url: url.clone(),
            password,
            ca_pem,
            key_prefix: s.key_prefix.clone(),
            connect_timeout,
            command_timeout,
            rate_limit_failure: s.rate_limit_failure,
        }),
        readiness_grace,
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::config::from_yaml;

    const BASE: &str = "auth: {audience: https://tvm.example.com}\npolicy: {file: p.yaml}\n";

    #[test]
    fn memory_is_the_default_and_redis_settings_are_read_with_the_password_file() {
        let c = from_yaml(BASE, Vec::new()).unwrap();
        assert!(c.state.redis.is_none());
        assert_eq!(c.state.readiness_grace.as_secs(), 30);
        assert_eq!(
            c.sts_cap.max,
            crate::sts::gate::DEFAULT_MAX_CONCURRENT_CALLS
        );

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pw");
        std::fs::write(&file, "s3cret-from-file\n").unwrap();
        let yaml = format!(
            "{BASE}state: {{redis_url: 'rediss://default:s3cret-in-url@redis.example:6380', \
             redis_password_file: {}, rate_limit_failure: closed, key_prefix: 'prod:', \
             readiness_grace: 10s}}\nsts: {{max_concurrent_calls: 8, queue_timeout: 500ms}}\n",
            file.display()
        );
        let c = from_yaml(&yaml, Vec::new()).unwrap();
        let r = c.state.redis.as_ref().unwrap();
        assert_eq!(r.password.as_deref(), Some("s3cret-from-file"));
        assert_eq!(r.rate_limit_failure, RateLimitFailure::Closed);
        assert_eq!(r.key_prefix, "prod:");
        assert_eq!(c.state.readiness_grace.as_secs(), 10);
        assert_eq!(c.sts_cap.max, 8);
        assert_eq!(c.sts_cap.wait.as_millis(), 500);
        let printed = format!("{c:?}");
        assert!(!printed.contains("s3cret"), "{printed}");
    }

    #[test]
    fn urls_lose_their_password_when_printed() {
        assert_eq!(
            redact_url("rediss://default:s3cret@redis.example:6380/0"),
            "rediss://default:***@redis.example:6380/0"
        );
        assert_eq!(
            redact_url("redis://:s3cret@10.0.0.1"),
            "redis://:***@10.0.0.1"
        );
        assert_eq!(
            redact_url("redis://s3cret@10.0.0.1/"),
            "redis://:***@10.0.0.1/"
        );
        assert_eq!(redact_url("redis://10.0.0.1:6379"), "redis://10.0.0.1:6379");
        let s = RedisSettings {
            url: "redis://u:hunter2@h".into(),
            password: Some("hunter3".into()),
            ca_pem: None,
            key_prefix: "tvm:".into(),
            connect_timeout: Duration::from_secs(1),
            command_timeout: Duration::from_secs(1),
            rate_limit_failure: RateLimitFailure::Open,
        };
        let printed = format!("{s:?}");
        assert!(!printed.contains("hunter"), "{printed}");
    }

    #[test]
    fn errors_never_quote_the_password() {
        let yaml = format!("{BASE}state: {{redis_url: 'http://u:s3cret@h'}}\n");
        let err = from_yaml(&yaml, Vec::new()).unwrap_err().to_string();
        assert!(err.contains("state.redis_url"), "{err}");
        assert!(!err.contains("s3cret"), "{err}");
    }
}
