//! Which config file `tvm serve` reads (DESIGN §5): `--config`, else
//! `$TVM_CONFIG`, else `/etc/tvm/tvm.yaml`, with where it came from for the
//! start-up log line.

use std::path::{Path, PathBuf};

/// The variable naming the config file when `--config` is not given.
pub const CONFIG_ENV: &str = "TVM_CONFIG";

/// The config file used when neither `--config` nor [`CONFIG_ENV`] is given.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/tvm/tvm.yaml";

/// Where the config file path came from, for the start-up log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigSource {
    /// `--config`.
    Flag,
    /// The [`CONFIG_ENV`] variable.
    Env,
    /// [`DEFAULT_CONFIG_PATH`].
    Default,
}

impl ConfigSource {
    /// A short name for logs: `--config`, `TVM_CONFIG` or `default`.
    pub fn as_str(self) -> &'static str {
        match self {
            ConfigSource::Flag => "--config",
            ConfigSource::Env => CONFIG_ENV,
            ConfigSource::Default => "default",
        }
    }
}

/// The config file to read: `flag`, else a non-empty `TVM_CONFIG` from `env`,
/// else [`DEFAULT_CONFIG_PATH`] (DESIGN §5).
pub fn config_path(
    flag: Option<&Path>,
    env: impl IntoIterator<Item = (String, String)>,
) -> (PathBuf, ConfigSource) {
    if let Some(p) = flag {
        return (p.to_owned(), ConfigSource::Flag);
    }
    match env
        .into_iter()
        .find(|(k, v)| k == CONFIG_ENV && !v.is_empty())
    {
        Some((_, v)) => (PathBuf::from(v), ConfigSource::Env),
        None => (PathBuf::from(DEFAULT_CONFIG_PATH), ConfigSource::Default),
    }
}
