//! The service configuration (DESIGN §5): one YAML file plus `TVM_*` environment
//! overrides, validated once at start-up into a [`ValidatedConfig`].
//!
//! Owns the settings *types* every other module is built from (so the domain
//! modules import them from below): the file as written (`file`, and each
//! section beside its validation: `sts`, `limits`, `state`, `database`, `revocation`; the
//! keys that moved, `moved`), the
//! verifier's settings (`verifier`), and their validation (`validate`).
//!
//! Invariants: unknown keys are errors (in the file and in `TVM_*` variables);
//! a blank value is an error, never "unset" ([`merge`]); every error names the
//! key path; nothing downstream ever sees an unvalidated
//! value (endpoints parsed, durations in range, prefix legal). An `http://` STS
//! endpoint is accepted only on a loopback host, because AssumeRole answers carry
//! credentials.

use std::collections::BTreeMap;
use std::path::Path;

use serde_yaml_ng::Value;

mod cidr;
mod database;
mod duration;
mod endpoint;
mod error;
mod file;
mod limits;
mod merge;
mod moved;
mod proxies;
mod revocation;
mod source;
mod state;
mod sts;
mod validate;
mod verifier;

pub use cidr::{address_key, canonical_ip, Cidr};
pub use database::{
    Backend, DatabaseConfig, DatabaseSettings, LedgerFailure, RetentionDuration, WebhookSettings,
    DEFAULT_RETENTION, EVENTS, MAX_RETENTION, MIN_RETENTION,
};
pub(crate) use duration::to_std;
pub use duration::HumanDuration;
pub use endpoint::EndpointUrl;
pub use error::ConfigError;
pub use file::{
    AdminConfig, AuthConfig, Config, ListenConfig, OneOrMany, PolicyConfig, StampConfig, TlsConfig,
};
pub use limits::{RateLimit, ServerConfig, ServerLimits};
pub use merge::{is_override, ENV_PREFIX};
pub use proxies::{MIN_TRUSTED_PREFIX_V4, MIN_TRUSTED_PREFIX_V6};
pub use revocation::{
    DeploymentId, RevocationConfig, RevocationSettings, DEFAULT_DEPLOYMENT_ID,
    DEFAULT_MAX_STALENESS, DEFAULT_REFRESH, MAX_DEPLOYMENT_ID_LEN,
};
pub use source::{config_path, ConfigSource, CONFIG_ENV, DEFAULT_CONFIG_PATH};
pub use state::{
    redact_url, RateLimitFailure, RedisSettings, StateConfig, StateSettings, REPLAY_CACHE_CAPACITY,
};
pub use sts::{
    StsCallCap, StsConfig, DEFAULT_MAX_CONCURRENT_CALLS, OPERATION_TIMEOUT, TRANSPORT_TIMEOUT,
};
pub use validate::{partition_of, ValidatedConfig};
pub use verifier::{
    is_eks_cluster_id, SettingsError, VerificationTarget, VerifierSettings, DEFAULT_MAX_CLOCK_SKEW,
    MAX_AUDIENCES, MAX_CLOCK_SKEW_LIMIT, MAX_EKS_CLUSTER_ID_LEN,
};

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
    // Before anything else looks at values: an old key is refused with its
    // new name, even when its value would be refused too.
    moved::refuse_approvals_section(value.get("approvals"))?;
    merge::refuse_blank_strings(&value)?;
    let config: Config = serde_path_to_error::deserialize(value).map_err(|e| {
        let key = e.path().to_string();
        ConfigError::invalid(&key, e.into_inner().to_string())
    })?;
    validate::validate(config)
}
