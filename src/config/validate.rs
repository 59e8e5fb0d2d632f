//! Turns a parsed [`Config`] into a [`ValidatedConfig`], or the first error with
//! its key path; each section's own checks live beside its type (`limits`,
//! `state`, `sts`, `verifier`) and are called from here.
//!
//! Invariant: nothing else builds a [`ValidatedConfig`] from a file, so every
//! value in one has passed these checks.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use jiff::SignedDuration;

use super::duration::duration_in;
use super::{
    Config, ConfigError, DatabaseSettings, EndpointUrl, OneOrMany, RevocationSettings,
    ServerLimits, SettingsError, StateSettings, StsCallCap, TlsConfig, VerificationTarget,
    VerifierSettings, OPERATION_TIMEOUT, TRANSPORT_TIMEOUT,
};
use crate::identity::{Partition, StampPrefix};
use crate::net::{is_known_region, is_region_name, Endpoint, Origin};

/// Everything tvm needs to start, already checked.
#[derive(Debug, Clone)]
pub struct ValidatedConfig {
    /// API listener address.
    pub listen_addr: SocketAddr,
    /// HTTPS on the API listener (`None` = plain HTTP).
    pub listen_tls: Option<TlsConfig>,
    /// Admin listener address.
    pub admin_addr: SocketAddr,
    /// Caller verification: audience, where proofs are verified, skew, EKS.
    pub verifier: VerifierSettings,
    /// STS region.
    pub sts_region: String,
    /// AssumeRole endpoint, if not real AWS.
    pub sts_endpoint: Option<EndpointUrl>,
    /// SourceIdentity prefix.
    pub stamp_prefix: StampPrefix,
    /// Policy file.
    pub policy_file: PathBuf,
    /// How often the policy file is polled.
    pub policy_poll_interval: Duration,
    /// Per-request time limit.
    pub request_timeout: Duration,
    /// Body size limit.
    pub max_body_bytes: usize,
    /// Drain time after SIGTERM.
    pub shutdown_timeout: Duration,
    /// Time `/readyz` says 503 before the API listener closes.
    pub shutdown_delay: Duration,
    /// Most live replay-store entries.
    pub replay_capacity: usize,
    /// Trusted proxies, connection bounds and rate buckets.
    pub limits: ServerLimits,
    /// The database and webhooks (approvals and break-glass); `None` when
    /// `database` is not configured.
    pub database: Option<DatabaseSettings>,
    /// Where replay reservations and rate buckets live (memory or Redis).
    pub state: StateSettings,
    /// The per-replica cap on concurrent STS calls.
    pub sts_cap: StsCallCap,
    /// Revocation (DESIGN §13): the revoker role, deployment id, IAM endpoint.
    pub revocation: RevocationSettings,
}

fn endpoint(key: &str, value: Option<&str>) -> Result<Option<EndpointUrl>, ConfigError> {
    value
        .map(|v| EndpointUrl::parse(v).map_err(|m| ConfigError::invalid(key, m)))
        .transpose()
}

/// The partition of an AWS region name.
pub fn partition_of(region: &str) -> Partition {
    if region.starts_with("cn-") {
        Partition::AwsCn
    } else if region.starts_with("us-gov-") {
        Partition::AwsUsGov
    } else {
        Partition::Aws
    }
}

/// Builds the verifier settings and checks them with the verifier's own rules,
/// so the config and the trust boundary can never disagree.
fn verifier_settings(
    c: &Config,
    sts_endpoint: Option<&EndpointUrl>,
) -> Result<VerifierSettings, ConfigError> {
    let (key, url) = match (&c.auth.sts_endpoint_url, sts_endpoint) {
        (Some(url), _) => ("auth.sts_endpoint_url", Some(url.clone())),
        (None, Some(ep)) => ("sts.endpoint_url", Some(ep.to_url())),
        (None, None) => ("sts.region", None),
    };
    let target = match url {
        Some(url) => {
            EndpointUrl::parse(&url).map_err(|m| ConfigError::invalid(key, m))?;
            let ep = Endpoint::parse(&url).map_err(|e| ConfigError::invalid(key, e.to_string()))?;
            VerificationTarget::Endpoint {
                endpoint: ep,
                partition: partition_of(&c.sts.region),
            }
        }
        None => VerificationTarget::Aws {
            partition: partition_of(&c.sts.region),
            region: c.sts.region.clone(),
        },
    };
    if c.auth.accept_eks_tokens.is_some() {
        return Err(ConfigError::invalid(
            "auth.accept_eks_tokens",
            "was removed: EKS-style tokens are now turned on by naming the cluster id they \
             are made for, `auth.eks_cluster_id: <id>` (the name clients pass to \
             `aws eks get-token --cluster-name`; never the name of a real cluster); \
             delete accept_eks_tokens",
        ));
    }
    let settings = VerifierSettings {
        audiences: origins(&c.auth.audience)?,
        target,
        max_clock_skew: c.auth.max_clock_skew.0,
        eks_cluster_id: c.auth.eks_cluster_id.clone(),
    };
    settings.validate().map_err(|e| {
        let key = match e {
            SettingsError::AudienceCount
            | SettingsError::InsecureOrigin(_)
            | SettingsError::DuplicateOrigin(_) => "auth.audience",
            SettingsError::EksClusterId => "auth.eks_cluster_id",
            SettingsError::Region => "sts.region",
            SettingsError::ClockSkew => "auth.max_clock_skew",
        };
        ConfigError::invalid(key, e.to_string())
    })?;
    Ok(settings)
}

/// `auth.audience` as origins. A value that is not even shaped like a URL is
/// the old free-form audience: say what to write instead.
fn origins(audience: &OneOrMany) -> Result<Vec<Origin>, ConfigError> {
    audience
        .values()
        .into_iter()
        .enumerate()
        .map(|(i, value)| {
            let key = match audience {
                OneOrMany::One(_) => "auth.audience".to_owned(),
                OneOrMany::Many(_) => format!("auth.audience[{i}]"),
            };
            Origin::parse(value).map_err(|e| {
                let message = if value.contains("://") {
                    format!("`{value}` is not an origin: it {e}; write scheme://host[:port], e.g. https://tvm.example.com")
                } else {
                    format!(
                        "`{value}` is not an origin. auth.audience now lists the origins clients \
                         call tvm by (tokens are signed for the origin of the URL the client uses), \
                         e.g. `audience: [https://tvm.example.com]`"
                    )
                };
                ConfigError::invalid(&key, message)
            })
        })
        .collect()
}

pub(super) fn validate(c: Config) -> Result<ValidatedConfig, ConfigError> {
    if c.listen.addr == c.admin.addr {
        return Err(ConfigError::invalid(
            "admin.addr",
            "must differ from listen.addr",
        ));
    }
    if !is_region_name(&c.sts.region) {
        return Err(ConfigError::invalid(
            "sts.region",
            "must be an AWS region such as us-east-1",
        ));
    }
    let sts_endpoint = endpoint("sts.endpoint_url", c.sts.endpoint_url.as_deref())?;
    // AssumeRole goes to the regional AWS endpoint unless an endpoint is set: a
    // typo such as `us-eest-1` must stop start-up, not fail every vend.
    if sts_endpoint.is_none() && !is_known_region(&c.sts.region) {
        return Err(ConfigError::invalid(
            "sts.region",
            format!(
                "`{}` is not a known AWS region (set sts.endpoint_url for a custom STS)",
                c.sts.region
            ),
        ));
    }
    if let Some(tls) = &c.listen.tls {
        if tls.cert_file.as_os_str().is_empty() {
            return Err(ConfigError::invalid(
                "listen.tls.cert_file",
                "must not be empty",
            ));
        }
        if tls.key_file.as_os_str().is_empty() {
            return Err(ConfigError::invalid(
                "listen.tls.key_file",
                "must not be empty",
            ));
        }
    }
    if c.auth.max_clock_skew.0 < SignedDuration::from_secs(1) {
        return Err(ConfigError::invalid(
            "auth.max_clock_skew",
            "must be between 1s and 15m",
        ));
    }
    let verifier = verifier_settings(&c, sts_endpoint.as_ref())?;
    let stamp_prefix = StampPrefix::parse(&c.stamp.prefix)
        .map_err(|e| ConfigError::invalid("stamp.prefix", e.to_string()))?;
    if c.policy.file.as_os_str().is_empty() {
        return Err(ConfigError::invalid("policy.file", "must not be empty"));
    }
    let policy_poll_interval = duration_in(
        "policy.poll_interval",
        c.policy.poll_interval.0,
        SignedDuration::from_millis(100),
        SignedDuration::from_hours(1),
    )?;
    let state = super::state::validate(&c.state)?;
    let sts_cap = super::sts::sts_cap(&c.sts)?;
    if !(1_000..=100_000_000).contains(&c.state.replay_capacity) {
        return Err(ConfigError::invalid(
            "state.replay_capacity",
            "must be between 1000 and 100000000 (about 130 bytes of memory each)",
        ));
    }
    let database = super::database::validate(
        c.database.as_ref(),
        &c.webhooks,
        c.state.redis_url.is_some(),
    )?;
    let revocation = super::revocation::validate(&c.revocation, database.is_some())?;
    let s = &c.server;
    // A request must be allowed to outlive both STS calls, or a timeout could drop
    // a vend after AssumeRole succeeded.
    let min_request = TRANSPORT_TIMEOUT + OPERATION_TIMEOUT + std::time::Duration::from_secs(1);
    let request_timeout = duration_in(
        "server.request_timeout",
        s.request_timeout.0,
        SignedDuration::try_from(min_request).unwrap_or(SignedDuration::from_secs(15)),
        SignedDuration::from_mins(5),
    )?;
    if !(256..=1024 * 1024).contains(&s.max_body_bytes) {
        return Err(ConfigError::invalid(
            "server.max_body_bytes",
            "must be between 256 and 1048576",
        ));
    }
    let limits = super::limits::validate(s)?;
    let shutdown_timeout = duration_in(
        "server.shutdown_timeout",
        s.shutdown_timeout.0,
        SignedDuration::ZERO,
        SignedDuration::from_mins(10),
    )?;
    let shutdown_delay = duration_in(
        "server.shutdown_delay",
        s.shutdown_delay.0,
        SignedDuration::ZERO,
        SignedDuration::from_mins(5),
    )?;
    Ok(ValidatedConfig {
        listen_addr: c.listen.addr,
        listen_tls: c.listen.tls,
        admin_addr: c.admin.addr,
        verifier,
        sts_region: c.sts.region,
        sts_endpoint,
        stamp_prefix,
        policy_file: c.policy.file,
        policy_poll_interval,
        request_timeout,
        max_body_bytes: s.max_body_bytes,
        shutdown_timeout,
        shutdown_delay,
        replay_capacity: c.state.replay_capacity,
        limits,
        database,
        revocation,
        state,
        sts_cap,
    })
}

#[cfg(test)]
mod tests;
