//! The service configuration (DESIGN §5): one YAML file plus `TVM_*` environment
//! overrides, validated once at start-up into a [`ValidatedConfig`].
//!
//! Invariants: unknown keys are errors (in the file and in `TVM_*` variables);
//! a blank value is an error, never "unset" ([`merge`]); every error names the
//! key path; nothing downstream ever sees an unvalidated
//! value (endpoints parsed, durations in range, prefix legal). An `http://` STS
//! endpoint is accepted only on a loopback host, because AssumeRole answers carry
//! credentials.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::SignedDuration;
use serde::{Deserialize, Deserializer};
use serde_yaml_ng::Value;

/// A configuration error, with the key path it concerns.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A key is unknown, missing, of the wrong type, or has an invalid value.
    #[error("invalid config at `{key}`: {message}")]
    Invalid {
        /// Dotted key path, e.g. `auth.max_clock_skew`.
        key: String,
        /// What is wrong.
        message: String,
    },
}

impl ConfigError {
    fn invalid(key: &str, message: impl Into<String>) -> Self {
        ConfigError::Invalid {
            key: key.to_owned(),
            message: message.into(),
        }
    }
}

/// A duration written as `5m`, `1h30m`, `900s` (jiff's friendly format).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HumanDuration(pub SignedDuration);

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse::<SignedDuration>().map(HumanDuration).map_err(|_| {
            serde::de::Error::custom(format!("`{s}` is not a duration like 30s, 5m or 1h"))
        })
    }
}

/// The file, as written. See `config/tvm.yaml` for the documented example.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The API listener.
    #[serde(default)]
    pub listen: ListenConfig,
    /// The admin listener (probes and metrics).
    #[serde(default)]
    pub admin: AdminConfig,
    /// Caller verification.
    pub auth: AuthConfig,
    /// The STS used to vend.
    #[serde(default)]
    pub sts: StsConfig,
    /// SourceIdentity stamp.
    #[serde(default)]
    pub stamp: StampConfig,
    /// The policy file.
    pub policy: PolicyConfig,
    /// HTTP server limits.
    #[serde(default)]
    pub server: ServerConfig,
    /// Shared state (replay cache, rate limits).
    #[serde(default)]
    pub state: StateConfig,
    /// Approvals and break-glass (DESIGN §12); absent = neither is available,
    /// and a policy using them is refused.
    #[serde(default)]
    pub approvals: Option<ApprovalsConfig>,
}

/// `approvals`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalsConfig {
    /// `sqlite://PATH` (one replica) or `postgres://…` (several; needs
    /// `state.redis_url`).
    #[serde(default = "default_database_url")]
    pub database_url: String,
    /// Notifications.
    #[serde(default)]
    pub webhooks: Vec<crate::approvals::WebhookSettings>,
}

/// The default approvals database.
pub const DEFAULT_DATABASE_URL: &str = "sqlite:///var/lib/tvm/approvals.db";

fn default_database_url() -> String {
    DEFAULT_DATABASE_URL.to_owned()
}

/// `listen`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ListenConfig {
    /// Address of the API listener.
    pub addr: SocketAddr,
    /// HTTPS on the API listener; `null` = plain HTTP (behind a TLS-terminating
    /// proxy or for loopback).
    pub tls: Option<TlsConfig>,
}

impl Default for ListenConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([0, 0, 0, 0], 8080)),
            tls: None,
        }
    }
}

/// `listen.tls`: PEM files, reloaded when they change (cert-manager rotates them).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// The certificate chain, leaf first.
    pub cert_file: PathBuf,
    /// The private key (PKCS#8, PKCS#1 or SEC1).
    pub key_file: PathBuf,
}

/// `admin`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    /// Address of the admin listener.
    pub addr: SocketAddr,
}

impl Default for AdminConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([0, 0, 0, 0], 9090)),
        }
    }
}

/// `auth`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// The origins clients reach tvm by (`https://tvm.example.com`); a token
    /// must be signed for one of them. One string or a list.
    pub audience: OneOrMany,
    /// Allowed difference between X-Amz-Date and now.
    #[serde(default = "default_skew")]
    pub max_clock_skew: HumanDuration,
    /// When set, `k8s-aws-v1.` tokens made for this cluster id are accepted
    /// (plain vends and `GET /profiles` only).
    #[serde(default)]
    pub eks_cluster_id: Option<String>,
    /// Removed: replaced by `eks_cluster_id`. Kept only so that a config that
    /// still sets it gets an error saying what to write instead.
    #[serde(default)]
    pub accept_eks_tokens: Option<Value>,
    /// Where GetCallerIdentity goes; default `sts.endpoint_url`, else real AWS.
    #[serde(default)]
    pub sts_endpoint_url: Option<String>,
}

/// A YAML value that may be one string or a list of strings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// `audience: https://tvm.example.com`
    One(String),
    /// `audience: [https://tvm.example.com, https://tvm.internal.example.com]`
    Many(Vec<String>),
}

impl OneOrMany {
    /// The values, in order.
    pub fn values(&self) -> Vec<&str> {
        match self {
            OneOrMany::One(s) => vec![s.as_str()],
            OneOrMany::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

fn default_skew() -> HumanDuration {
    HumanDuration(SignedDuration::from_mins(5))
}

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
            max_concurrent_calls: crate::sts::gate::DEFAULT_MAX_CONCURRENT_CALLS,
            queue_timeout: HumanDuration(SignedDuration::from_secs(2)),
        }
    }
}

/// `stamp`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StampConfig {
    /// First field of the SourceIdentity.
    pub prefix: String,
}

impl Default for StampConfig {
    fn default() -> Self {
        Self {
            prefix: "tvm".into(),
        }
    }
}

/// `policy`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    /// The policy file; relative paths are relative to the working directory.
    pub file: PathBuf,
    /// How often the file is checked for changes (SIGHUP reloads at once).
    #[serde(default = "default_poll_interval")]
    pub poll_interval: HumanDuration,
}

fn default_poll_interval() -> HumanDuration {
    HumanDuration(SignedDuration::from_secs(2))
}

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
            replay_capacity: crate::auth::REPLAY_CACHE_CAPACITY,
        }
    }
}

mod cidr;
mod endpoint;
mod limits;
pub use cidr::{address_key, canonical_ip, Cidr};
pub use endpoint::EndpointUrl;
pub use limits::{RateLimit, ServerLimits};

mod merge;
mod proxies;
mod source;
pub use merge::{is_override, ENV_PREFIX};
pub use proxies::{MIN_TRUSTED_PREFIX_V4, MIN_TRUSTED_PREFIX_V6};
mod state;
pub use source::{config_path, ConfigSource, CONFIG_ENV, DEFAULT_CONFIG_PATH};
pub use state::{redact_url, RedisSettings, StateSettings};

mod validate;
pub use validate::{partition_of, ValidatedConfig};

/// Reads `path`, applies `TVM_*` overrides from `env`, and validates.
pub fn load(
    path: &Path,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<ValidatedConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    from_yaml(&text, env)
}

/// Parses YAML text, applies `TVM_*` overrides from `env`, and validates.
pub fn from_yaml(
    text: &str,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<ValidatedConfig, ConfigError> {
    let mut value: Value = serde_yaml_ng::from_str(text).map_err(|e| {
        let key = e
            .location()
            .map(|l| format!("line {} column {}", l.line(), l.column()))
            .unwrap_or_else(|| "<file>".into());
        ConfigError::invalid(&key, e.to_string())
    })?;
    if value.is_null() {
        value = Value::Mapping(Default::default());
    }
    let overrides: BTreeMap<String, String> =
        env.into_iter().filter(|(k, _)| is_override(k)).collect();
    for (key, raw) in overrides {
        merge::apply_override(&mut value, &key, &raw)?;
    }
    merge::refuse_blank_strings(&value)?;
    let config: Config = serde_path_to_error::deserialize(value).map_err(|e| {
        let key = e.path().to_string();
        ConfigError::invalid(&key, e.into_inner().to_string())
    })?;
    validate::validate(config)
}

/// Converts a validated, positive duration to std.
pub(crate) fn to_std(d: SignedDuration) -> Duration {
    d.unsigned_abs()
}
