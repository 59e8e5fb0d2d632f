//! `revocation` (DESIGN §13): how often a replica polls the database for
//! changed blocks (`refresh`) and how old its last successful poll may get
//! before vends are refused (`max_staleness`).
//!
//! Invariants: `refresh` is 100 ms..=1 min and `max_staleness` is at least
//! twice `refresh` (one missed poll never refuses vends) and at most 10 min,
//! so a replica never serves on blocks older than that without saying so.

use std::time::Duration;

use jiff::SignedDuration;
use serde::Deserialize;

use super::duration::duration_in;
use super::{ConfigError, HumanDuration};

/// The default of `revocation.refresh` (DESIGN §13: 2 s).
pub const DEFAULT_REFRESH: Duration = Duration::from_secs(2);

/// The default of `revocation.max_staleness` (DESIGN §13: 10 s).
pub const DEFAULT_MAX_STALENESS: Duration = Duration::from_secs(10);

/// `revocation`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RevocationConfig {
    /// How often the one-row version is polled.
    pub refresh: HumanDuration,
    /// How old the last successful poll may be before vends answer 503.
    pub max_staleness: HumanDuration,
}

impl Default for RevocationConfig {
    fn default() -> Self {
        let d = |d: Duration| HumanDuration(SignedDuration::from_millis(d.as_millis() as i64));
        Self {
            refresh: d(DEFAULT_REFRESH),
            max_staleness: d(DEFAULT_MAX_STALENESS),
        }
    }
}

/// Validated `revocation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RevocationSettings {
    /// How often the version is polled.
    pub refresh: Duration,
    /// Oldest last successful poll vends are served on.
    pub max_staleness: Duration,
}

impl Default for RevocationSettings {
    fn default() -> Self {
        Self {
            refresh: DEFAULT_REFRESH,
            max_staleness: DEFAULT_MAX_STALENESS,
        }
    }
}

/// Checks the ranges.
pub(super) fn validate(c: &RevocationConfig) -> Result<RevocationSettings, ConfigError> {
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
    Ok(RevocationSettings {
        refresh,
        max_staleness,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<RevocationSettings, ConfigError> {
        validate(&serde_yaml_ng::from_str::<RevocationConfig>(yaml).unwrap())
    }

    #[test]
    fn defaults_and_ranges() {
        assert_eq!(parse("{}").unwrap(), RevocationSettings::default());
        let s = parse("{refresh: 100ms, max_staleness: 1s}").unwrap();
        assert_eq!(s.refresh, Duration::from_millis(100));
        assert!(parse("{refresh: 50ms}").is_err());
        assert!(parse("{refresh: 2m}").is_err());
        assert!(parse("{refresh: 5s, max_staleness: 6s}").is_err());
        assert!(parse("{max_staleness: 11m}").is_err());
        assert!(serde_yaml_ng::from_str::<RevocationConfig>("{x: 1}").is_err());
    }
}
