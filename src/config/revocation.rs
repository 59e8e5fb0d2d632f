//! The `revocation` section (DESIGN §13, "In AWS"): the file's
//! [`RevocationConfig`] and its validation into [`RevocationSettings`] — who
//! writes the per-role deny policies (`role_name`: the revoker role tvm
//! assumes in each protected role's account), which deployment owns them
//! (`deployment_id`), and where IAM is reached (`iam_endpoint_url`).
//!
//! Invariants: `role_name` is an IAM role name and needs `database.url` (the
//! queue lives there) and a `deployment_id`; a `deployment_id` is
//! `[a-z0-9-]{1,16}` (it goes into the policy name and the Sid, so two
//! deployments sharing roles never overwrite each other); the IAM endpoint
//! obeys the STS endpoint's rules (plain `http` only on loopback: the
//! revoker's credentials cross it) and is only accepted with `role_name`;
//! [`RevocationSettings::refuses_profile_role`] is the rule that no profile
//! may vend the revoker role, in any account.

use serde::Deserialize;

use super::{ConfigError, EndpointUrl};

/// Longest `revocation.deployment_id`: the policy name
/// `tvm-revocations-{prefix ≤ 16}-{id}` must stay well inside IAM's 128.
pub const MAX_DEPLOYMENT_ID_LEN: usize = 16;

/// Longest IAM role name (AWS's limit).
const MAX_ROLE_NAME_LEN: usize = 64;

/// The deployment id used in the policy name when none is configured (manual
/// mode only: with `role_name` the id is required).
pub const DEFAULT_DEPLOYMENT_ID: &str = "default";

/// `revocation`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RevocationConfig {
    /// The revoker role's name; `null` = every role `manual` (tvm prints the
    /// document and the command, and writes nothing to IAM).
    pub role_name: Option<String>,
    /// This deployment's id, `[a-z0-9-]{1,16}`; required with `role_name`.
    pub deployment_id: Option<String>,
    /// IAM endpoint override (VPC endpoint, simulator); `null` = the
    /// partition's IAM endpoint.
    pub iam_endpoint_url: Option<String>,
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
#[derive(Debug, Clone, Default)]
pub struct RevocationSettings {
    /// The revoker role's name (`None`: manual mode).
    pub role_name: Option<String>,
    /// The deployment owning the policies ([`DEFAULT_DEPLOYMENT_ID`] in
    /// manual mode when not configured).
    pub deployment_id: DeploymentId,
    /// IAM endpoint override.
    pub iam_endpoint: Option<EndpointUrl>,
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
        role_name: Some(role_name.to_owned()),
        deployment_id,
        iam_endpoint,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(role: Option<&str>, dep: Option<&str>, ep: Option<&str>) -> RevocationConfig {
        RevocationConfig {
            role_name: role.map(Into::into),
            deployment_id: dep.map(Into::into),
            iam_endpoint_url: ep.map(Into::into),
        }
    }

    fn key(r: Result<RevocationSettings, ConfigError>) -> String {
        match r {
            Err(ConfigError::Invalid { key, .. }) => key,
            other => panic!("expected an invalid key, got {other:?}"),
        }
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
