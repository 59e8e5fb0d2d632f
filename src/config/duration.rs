//! Durations in the config: [`HumanDuration`] as written (`5m`, `1h30m`,
//! `900s`), and the range check that turns one into a std [`Duration`].
//!
//! Invariant: a duration leaves this module only after its range check
//! ([`duration_in`]) or a caller's own, so it is never negative.

use std::time::Duration;

use jiff::SignedDuration;
use serde::{Deserialize, Deserializer};

use super::ConfigError;

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

/// `d` as a std duration, or an error naming `key` when it is outside `min..=max`.
pub(super) fn duration_in(
    key: &str,
    d: SignedDuration,
    min: SignedDuration,
    max: SignedDuration,
) -> Result<Duration, ConfigError> {
    if d < min || d > max {
        return Err(ConfigError::invalid(
            key,
            format!("must be between {min:#} and {max:#}"),
        ));
    }
    Ok(to_std(d))
}

/// Converts a validated, positive duration to std.
pub(crate) fn to_std(d: SignedDuration) -> Duration {
    d.unsigned_abs()
}
