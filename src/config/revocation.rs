//! The `revocation` section (DESIGN §13): the file's [`RevocationConfig`]
//! and its validation into [`RevocationSettings`] — how often a replica polls
//! the database for changed blocks (`refresh`) and how old its last
//! successful poll may get before vends are refused (`max_staleness`); and,
//! "In AWS", who writes the per-role deny policies (`role_name`: the revoker
//! role tvm assumes in each protected role's account), which deployment owns
//! them (`deployment_id`), and where IAM is reached (`iam_endpoint_url`).
//!
//! Invariants: `refresh` is 100 ms..=1 min and `max_staleness` is at least
//! twice `refresh` (one missed poll never refuses vends) and at most 10 min,
//! so a replica never serves on blocks older than that without saying so;
//! `role_name` is an IAM role name and needs `database.url` (the
//! queue lives there) and a `deployment_id`; a `deployment_id` is
//! `[a-z0-9-]{1,16}` (it goes into the policy name and the Sid, so two
//! deployments sharing roles never overwrite each other); the IAM endpoint
//! obeys the STS endpoint's rules (plain `http` only on loopback: the
//! revoker's credentials cross it) and is only accepted with `role_name`;
//! [`RevocationSettings::refuses_profile_role`] is the rule that no profile
//! may vend the revoker role, in any account.

use std::time::Duration;

use jiff::SignedDuration;
use serde::Deserialize;

use super::duration::duration_in;
use super::{ConfigError, EndpointUrl, HumanDuration};

/// The default of `revocation.refresh` (DESIGN §13: 2 s).
pub const DEFAULT_REFRESH: Duration = Duration::from_secs(2);

/// The default of `revocation.max_staleness` (DESIGN §13: 10 s).
pub const DEFAULT_MAX_STALENESS: Duration = Duration::from_secs(10);

/// Longest `revocation.deployment_id`: the policy name
/// `tvm-revocations-{prefix ≤ 16}-{id}` must stay well inside IAM's 128.
pub const MAX_DEPLOYMENT_ID_LEN: usize = 16;

/// Longest IAM role name (AWS's limit).
const MAX_ROLE_NAME_LEN: usize = 64;

/// The deployment id used in the policy name when none is configured (manual
/// mode only: with `role_name` the id is required).
pub const DEFAULT_DEPLOYMENT_ID: &str = "default";

/// `revocation`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RevocationConfig {
    /// How often the one-row version is polled.
    pub refresh: HumanDuration,
    /// How old the last successful poll may be before vends answer 503.
    pub max_staleness: HumanDuration,
    /// The revoker role's name; `null` = every role `manual` (tvm prints the
    /// document and the command, and writes nothing to IAM).
    pub role_name: Option<String>,
    /// This deployment's id, `[a-z0-9-]{1,16}`; required with `role_name`.
    pub deployment_id: Option<String>,
    /// IAM endpoint override (VPC endpoint, simulator); `null` = the
    /// partition's IAM endpoint.
    pub iam_endpoint_url: Option<String>,
}

impl Default for RevocationConfig {
    fn default() -> Self {
        let d = |d: Duration| HumanDuration(SignedDuration::from_millis(d.as_millis() as i64));
        Self {
            refresh: d(DEFAULT_REFRESH),
            max_staleness: d(DEFAULT_MAX_STALENESS),
            role_name: None,
            deployment_id: None,
            iam_endpoint_url: None,
        }
    }
}

/// A validated `revocation.deployment_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentId(String);

impl DeploymentId {
    /// Accepts `[a-z0-9-]{1,16}`.
    pub fn parse(s: &str) -> Option<Self> {
        let ok = (1..=MAX_DEPLOYMENT_ID_LEN).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        ok.then(|| Self(s.to_owned()))
    }

    /// The id as configured.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for DeploymentId {
    fn default() -> Self {
        Self(DEFAULT_DEPLOYMENT_ID.to_owned())
    }
}

/// Validated `revocation`.
#[derive(Debug, Clone)]
pub struct RevocationSettings {
    /// How often the version is polled.
    pub refresh: Duration,
    /// Oldest last successful poll vends are served on.
    pub max_staleness: Duration,
    /// The revoker role's name (`None`: manual mode).
    pub role_name: Option<String>,
    /// The deployment owning the policies ([`DEFAULT_DEPLOYMENT_ID`] in
    /// manual mode when not configured).
    pub deployment_id: DeploymentId,
    /// IAM endpoint override.
    pub iam_endpoint: Option<EndpointUrl>,
}

impl Default for RevocationSettings {
    fn default() -> Self {
        Self {
            refresh: DEFAULT_REFRESH,
            max_staleness: DEFAULT_MAX_STALENESS,
            role_name: None,
            deployment_id: DeploymentId::default(),
            iam_endpoint: None,
        }
    }
}

impl RevocationSettings {
    /// Whether tvm writes the policies itself (else every role is `manual`).
    pub fn writes_iam(&self) -> bool {
        self.role_name.is_some()
    }

    /// The refusal for a profile vending `role_arn` when it is the revoker
    /// role, in any account (IAM role names are unique regardless of case,
    /// so they are compared that way); `None` when the profile is fine.
    pub fn refuses_profile_role(&self, role_arn: &str) -> Option<String> {
        let revoker = self.role_name.as_deref()?;
        let name = role_arn
            .split_once(":role/")
            .map(|(_, path)| path.rsplit('/').next().unwrap_or(path))?;
        name.eq_ignore_ascii_case(revoker).then(|| {
            format!(
                "profile role {role_arn} is the revoker role (revocation.role_name): \
                 vending it would let a caller rewrite the revocation policies"
            )
        })
    }
}

/// Whether `s` is an IAM role name (`[\w+=,.@-]{1,64}`).
fn is_role_name(s: &str) -> bool {
    (1..=MAX_ROLE_NAME_LEN).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b))
}

/// Validates `revocation` against whether a database is configured.
pub(super) fn validate(
    c: &RevocationConfig,
    has_database: bool,
) -> Result<RevocationSettings, ConfigError> {
    let (refresh, max_staleness) = polling(c)?;
    let deployment_id = match c.deployment_id.as_deref() {
        None => None,
        Some(s) => Some(DeploymentId::parse(s).ok_or_else(|| {
            ConfigError::invalid(
                "revocation.deployment_id",
                "must be 1 to 16 characters of a-z, 0-9 and -",
            )
        })?),
    };
    let iam_endpoint = c
        .iam_endpoint_url
        .as_deref()
        .map(|v| {
            EndpointUrl::parse(v)
                .map_err(|m| ConfigError::invalid("revocation.iam_endpoint_url", m))
        })
        .transpose()?;
    let Some(role_name) = c.role_name.as_deref() else {
        if iam_endpoint.is_some() {
            return Err(ConfigError::invalid(
                "revocation.iam_endpoint_url",
                "needs revocation.role_name: without it tvm never calls IAM",
            ));
        }
        return Ok(RevocationSettings {
            refresh,
            max_staleness,
            role_name: None,
            deployment_id: deployment_id.unwrap_or_default(),
            iam_endpoint: None,
        });
    };
    if !is_role_name(role_name) {
        return Err(ConfigError::invalid(
            "revocation.role_name",
            "must be an IAM role name (1 to 64 of A-Z a-z 0-9 _+=,.@-), not an ARN",
        ));
    }
    if !has_database {
        return Err(ConfigError::invalid(
            "revocation.role_name",
            "needs database.url: the per-role queue lives in the database",
        ));
    }
    let Some(deployment_id) = deployment_id else {
        return Err(ConfigError::invalid(
            "revocation.deployment_id",
            "is required with revocation.role_name: it names this deployment's policy \
             (tvm-revocations-{prefix}-{deployment_id}) so deployments sharing roles \
             never overwrite each other",
        ));
    };
    Ok(RevocationSettings {
        refresh,
        max_staleness,
        role_name: Some(role_name.to_owned()),
        deployment_id,
        iam_endpoint,
    })
}

/// Checks the polling ranges: `(refresh, max_staleness)`.
fn polling(c: &RevocationConfig) -> Result<(Duration, Duration), ConfigError> {
    let refresh = duration_in(
        "revocation.refresh",
        c.refresh.0,
        SignedDuration::from_millis(100),
        SignedDuration::from_mins(1),
    )?;
    let max_staleness = duration_in(
        "revocation.max_staleness",
        c.max_staleness.0,
        SignedDuration::from_millis(200),
        SignedDuration::from_mins(10),
    )?;
    if max_staleness < refresh * 2 {
        return Err(ConfigError::invalid(
            "revocation.max_staleness",
            "must be at least twice revocation.refresh (one missed poll must not refuse vends)",
        ));
    }
    Ok((refresh, max_staleness))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(role: Option<&str>, dep: Option<&str>, ep: Option<&str>) -> RevocationConfig {
        RevocationConfig {
            role_name: role.map(Into::into),
            deployment_id: dep.map(Into::into),
            iam_endpoint_url: ep.map(Into::into),
            ..RevocationConfig::default()
        }
    }

    fn key(r: Result<RevocationSettings, ConfigError>) -> String {
        match r {
            Err(ConfigError::Invalid { key, .. }) => key,
            other => panic!("expected an invalid key, got {other:?}"),
        }
    }

    fn parse(yaml: &str) -> Result<RevocationSettings, ConfigError> {
        validate(
            &serde_yaml_ng::from_str::<RevocationConfig>(yaml).unwrap(),
            true,
        )
    }

    #[test]
    fn polling_defaults_and_ranges() {
        let d = parse("{}").unwrap();
        assert_eq!(
            (d.refresh, d.max_staleness),
            (DEFAULT_REFRESH, DEFAULT_MAX_STALENESS)
        );
        let s = parse("{refresh: 100ms, max_staleness: 1s}").unwrap();
        assert_eq!(s.refresh, Duration::from_millis(100));
        assert!(parse("{refresh: 50ms}").is_err());
        assert!(parse("{refresh: 2m}").is_err());
        assert!(parse("{refresh: 5s, max_staleness: 6s}").is_err());
        assert!(parse("{max_staleness: 11m}").is_err());
        assert!(serde_yaml_ng::from_str::<RevocationConfig>("{x: 1}").is_err());
    }

    #[test]
    fn absent_section_is_manual_mode() {
        let s = validate(&RevocationConfig::default(), false).unwrap();
        assert!(!s.writes_iam());
        assert_eq!(s.deployment_id.as_str(), DEFAULT_DEPLOYMENT_ID);
        assert_eq!(
            s.refuses_profile_role("arn:aws:iam::1:role/TvmRevoker"),
            None
        );
    }

    #[test]
    fn role_name_needs_deployment_id_and_database() {
        let k = key(validate(&cfg(Some("TvmRevoker"), None, None), true));
        assert_eq!(k, "revocation.deployment_id");
        let k = key(validate(
            &cfg(Some("TvmRevoker"), Some("prod"), None),
            false,
        ));
        assert_eq!(k, "revocation.role_name");
        let s = validate(&cfg(Some("TvmRevoker"), Some("prod-eu1"), None), true).unwrap();
        assert!(s.writes_iam());
        assert_eq!(s.deployment_id.as_str(), "prod-eu1");
    }

    #[test]
    fn deployment_id_grammar() {
        for bad in [
            "",
            "Prod",
            "prod_eu",
            "prod.eu",
            "a23456789012345678",
            "prod eu",
        ] {
            let k = key(validate(&cfg(Some("R"), Some(bad), None), true));
            assert_eq!(k, "revocation.deployment_id", "{bad:?}");
        }
        for good in ["a", "prod", "0-9", "abcdefghijklmnop"] {
            validate(&cfg(Some("R"), Some(good), None), true).unwrap();
        }
    }

    #[test]
    fn role_name_is_a_name_not_an_arn() {
        for bad in ["arn:aws:iam::1:role/R", "a/b", "a b", &"r".repeat(65)] {
            let k = key(validate(&cfg(Some(bad), Some("prod"), None), true));
            assert_eq!(k, "revocation.role_name", "{bad:?}");
        }
    }

    #[test]
    fn iam_endpoint_follows_sts_endpoint_rules() {
        let k = key(validate(
            &cfg(Some("R"), Some("p"), Some("http://iam.example.com")),
            true,
        ));
        assert_eq!(k, "revocation.iam_endpoint_url");
        let k = key(validate(&cfg(None, None, Some("http://127.0.0.1:1")), true));
        assert_eq!(k, "revocation.iam_endpoint_url", "needs role_name");
        let s = validate(
            &cfg(Some("R"), Some("p"), Some("http://127.0.0.1:4599")),
            true,
        )
        .unwrap();
        assert_eq!(s.iam_endpoint.unwrap().to_url(), "http://127.0.0.1:4599");
    }

    #[test]
    fn revoker_role_is_refused_as_a_profile_in_any_account() {
        let s = validate(&cfg(Some("TvmRevoker"), Some("prod"), None), true).unwrap();
        for arn in [
            "arn:aws:iam::111122223333:role/TvmRevoker",
            "arn:aws-cn:iam::444455556666:role/tvmrevoker",
            "arn:aws:iam::111122223333:role/some/path/TvmRevoker",
        ] {
            assert!(s.refuses_profile_role(arn).is_some(), "{arn}");
        }
        for arn in [
            "arn:aws:iam::111122223333:role/TvmRevokerX",
            "arn:aws:iam::111122223333:role/TvmRevoker/Other",
        ] {
            assert_eq!(s.refuses_profile_role(arn), None, "{arn}");
        }
    }
}
