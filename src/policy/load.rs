//! Loading: YAML text to a validated, compiled [`Policy`].
//!
//! Owns: the parse step (with line, column and key path in errors), the
//! file-level limits, and the cross-checks between profiles and rules.
//!
//! Invariants: nothing is returned unless every profile and rule compiled;
//! `version` is 1; profile and rule names are unique; the file is at most
//! [`MAX_POLICY_BYTES`]. Everything a request needs (globs, time zones, tag
//! templates) is compiled here, never per request.

use crate::identity::AccountId;
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use super::approval::Approvers;
use super::error::PolicyError;
use super::model::RawPolicy;
use super::profile::Profile;
use super::rule::Rule;
use super::Policy;

/// Largest policy file accepted; a policy is operator input, but a runaway
/// generator or a wrong path (a log file, a device) must not exhaust memory.
pub const MAX_POLICY_BYTES: usize = 4 * 1024 * 1024;

/// Most profiles in one policy.
pub const MAX_PROFILES: usize = 10_000;

/// Most rules in one policy (evaluation is linear in the rule count).
pub const MAX_RULES: usize = 10_000;

/// The only policy format version.
const VERSION: u32 = 1;

fn invalid(path: impl Into<String>, message: impl Into<String>) -> PolicyError {
    PolicyError::Invalid {
        path: path.into(),
        message: message.into(),
    }
}

/// Reads `path`, at most one byte more than [`MAX_POLICY_BYTES`] so that
/// [`from_yaml`] refuses an oversized file.
pub(super) fn read_file(path: &Path) -> Result<String, PolicyError> {
    let io = |source| PolicyError::Io {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut text = String::new();
    file.take(MAX_POLICY_BYTES as u64 + 1)
        .read_to_string(&mut text)
        .map_err(io)?;
    Ok(text)
}

/// Parses and compiles policy text.
pub(super) fn from_yaml(text: &str) -> Result<Policy, PolicyError> {
    if text.len() > MAX_POLICY_BYTES {
        return Err(invalid(
            ".",
            format!("policy larger than {MAX_POLICY_BYTES} bytes"),
        ));
    }
    let de = serde_yaml_ng::Deserializer::from_str(text);
    let raw: RawPolicy = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let loc = inner.location();
        PolicyError::Yaml {
            path,
            line: loc.as_ref().map(|l| l.line()),
            column: loc.as_ref().map(|l| l.column()),
            message: inner.to_string(),
        }
    })?;
    compile(raw)
}

/// Validates and compiles the parsed file.
fn compile(raw: RawPolicy) -> Result<Policy, PolicyError> {
    if raw.version != VERSION {
        return Err(invalid(
            "version",
            format!("unsupported version {}; expected 1", raw.version),
        ));
    }
    if raw.profiles.0.len() > MAX_PROFILES {
        return Err(invalid(
            "profiles",
            format!("more than {MAX_PROFILES} profiles"),
        ));
    }
    if raw.rules.len() > MAX_RULES {
        return Err(invalid("rules", format!("more than {MAX_RULES} rules")));
    }
    let mut profiles = Vec::with_capacity(raw.profiles.0.len());
    let mut by_name = HashMap::with_capacity(raw.profiles.0.len());
    for (name, rp) in &raw.profiles.0 {
        let profile = Profile::compile(name, rp).map_err(|(key, msg)| {
            let path = if key.is_empty() {
                format!("profiles.{name}")
            } else {
                format!("profiles.{name}.{key}")
            };
            invalid(path, msg)
        })?;
        by_name.insert(name.clone(), profiles.len());
        profiles.push(Arc::new(profile));
    }
    let names: Vec<&str> = raw.profiles.0.iter().map(|(n, _)| n.as_str()).collect();
    let mut rules = Vec::with_capacity(raw.rules.len());
    let mut rule_names = HashSet::with_capacity(raw.rules.len());
    for (i, rr) in raw.rules.iter().enumerate() {
        let rule = Rule::compile(rr, &names).map_err(|(key, msg)| {
            let path = if key.is_empty() {
                format!("rules[{i}]")
            } else {
                format!("rules[{i}].{key}")
            };
            invalid(path, format!("rule {:?}: {msg}", rr.name))
        })?;
        if !rule_names.insert(rr.name.clone()) {
            return Err(invalid(
                format!("rules[{i}].name"),
                format!("duplicate rule name {:?}", rr.name),
            ));
        }
        rules.push(rule);
    }
    let mut sso_accounts: Vec<AccountId> = Vec::with_capacity(raw.sso_accounts.len());
    for (i, a) in raw.sso_accounts.iter().enumerate() {
        let account = AccountId::parse(&a.0)
            .map_err(|e| invalid(format!("sso_accounts[{i}]"), e.to_string()))?;
        if !sso_accounts.contains(&account) {
            sso_accounts.push(account);
        }
    }
    let admins = raw
        .admins
        .as_ref()
        .map(Approvers::compile)
        .transpose()
        .map_err(|(key, msg)| invalid(format!("admins.{key}"), msg))?;
    Ok(Policy {
        profiles,
        by_name,
        rules,
        sso_accounts,
        admins,
    })
}

impl Policy {
    /// Parses and validates policy text.
    pub fn from_yaml(text: &str) -> Result<Policy, PolicyError> {
        from_yaml(text)
    }

    /// Reads, parses and validates a policy file (at most [`MAX_POLICY_BYTES`]).
    pub fn load(path: &Path) -> Result<Policy, PolicyError> {
        Policy::from_yaml(&Policy::read_source(path)?)
    }

    /// Reads a policy file's text, bounded like [`Policy::load`], for callers
    /// that also want [`PolicyError::location`].
    pub fn read_source(path: &Path) -> Result<String, PolicyError> {
        read_file(path)
    }
}
