//! The AWS config `tvm exec` writes for its child: the settings of the caller's
//! profile that an SDK needs to reach AWS (region, endpoint URLs and their
//! `[services …]` section, CA bundle, retries, S3 settings, CLI output
//! settings…), under a `[default]` profile that holds no credentials, so every
//! SDK's chain passes the shared files and ends at the container endpoint.
//!
//! The caller's profile is read from the config file (`[default]` /
//! `[profile NAME]`), then from the credentials file (`[NAME]`), whose settings
//! win, as botocore merges them ([`super::ini`] reads both as botocore does).
//!
//! Invariants: only keys of the allow-lists [`COPIED`] and [`NESTED`] are
//! copied, so nothing that yields or selects credentials (`aws_access_key_id`,
//! `aws_secret_access_key`, `aws_session_token`, `credential_process`,
//! `credential_source`, `sso_*`, `role_arn`, `source_profile`,
//! `web_identity_token_file`, `login_session`…) ever reaches the child; every
//! copied value is checked first ([`check_value`]) and one with a control
//! character or a line break stops `tvm exec` (naming the file, line and key,
//! escaped) rather than reaching the file; the keys written are the
//! allow-lists' own constants or checked service ids, and the only sections
//! written are `[default]` and, when the profile names one, `[services NAME]`
//! with a checked NAME. Other profiles are not copied: inside `tvm exec` there
//! is one profile, the vended session.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::ini::{self, IniError, Section, Setting};

/// Plain settings copied into the child's `[default]`: where and how to reach
/// AWS, none of which names or yields credentials.
pub const COPIED: &[&str] = &[
    "region",
    "output",
    "endpoint_url",
    "ignore_configured_endpoint_urls",
    "services",
    "ca_bundle",
    "retry_mode",
    "max_attempts",
    "defaults_mode",
    "use_fips_endpoint",
    "use_dualstack_endpoint",
    "sts_regional_endpoints",
    "parameter_validation",
    "tcp_keepalive",
    "disable_request_compression",
    "request_min_compression_size_bytes",
    "request_checksum_calculation",
    "response_checksum_validation",
    "account_id_endpoint_mode",
    "sdk_ua_app_id",
    "sigv4a_signing_region_set",
    "auth_scheme_preference",
    "disable_host_prefix_injection",
    "s3_use_arn_region",
    "s3_disable_multiregion_access_points",
    "cli_pager",
    "cli_timestamp_format",
    "cli_binary_format",
    "cli_follow_urlparam",
    "cli_auto_prompt",
];

/// Nested settings copied, with the sub-keys each may hold (`None`: any
/// botocore service name, as in `api_versions`).
pub const NESTED: &[(&str, Option<&[&str]>)] = &[
    (
        "s3",
        Some(&[
            "addressing_style",
            "use_accelerate_endpoint",
            "use_dualstack_endpoint",
            "payload_signing_enabled",
            "use_arn_region",
            "us_east_1_regional_endpoint",
            "max_concurrent_requests",
            "max_queue_size",
            "multipart_threshold",
            "multipart_chunksize",
            "max_bandwidth",
            "preferred_transfer_client",
            "target_bandwidth",
        ]),
    ),
    ("api_versions", None),
];

/// The only sub-key copied from a `[services NAME]` section's entries.
const SERVICE_SETTINGS: &[&str] = &["endpoint_url"];

/// Longest value copied; a longer one is refused.
pub const MAX_VALUE_CHARS: usize = 4096;

/// Longest `services` section name or service id.
const MAX_NAME_CHARS: usize = 64;

/// A caller profile that cannot be copied safely.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// A file botocore would refuse too.
    #[error("{file}: {source}")]
    Parse {
        /// Which file.
        file: String,
        /// Why.
        source: IniError,
    },
    /// A setting that would be copied holds something that must not be.
    #[error(
        "{file}, line {line}: the setting `{key}` of your AWS profile {} {problem}; \
         tvm exec copies it for the command, fix it first",
        .profile.escape_debug()
    )]
    Value {
        /// Which file.
        file: String,
        /// 1-based line.
        line: usize,
        /// The key (an allow-list constant).
        key: &'static str,
        /// The profile name.
        profile: String,
        /// What is wrong.
        problem: &'static str,
    },
}

/// A `[services NAME]` section's entries: (service id, endpoint settings).
type ServiceEntries = Vec<(String, Vec<(String, String)>)>;

/// One copied setting.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Copied {
    Plain(String),
    Nested(Vec<(String, String)>),
}

/// The child's profile: checked settings, ready to render.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ChildProfile {
    /// Copied settings in allow-list order.
    settings: Vec<(&'static str, Copied)>,
    /// The `[services NAME]` section: its name and entries.
    services: Option<(String, ServiceEntries)>,
}

/// One of the caller's files: its name (for messages) and text.
pub struct Source<'a> {
    /// Path, for messages.
    pub file: &'a str,
    /// Contents.
    pub text: &'a str,
}

/// The copyable settings of `profile` from the config and credentials files.
pub fn child_profile(
    config: &Source<'_>,
    credentials: &Source<'_>,
    profile: &str,
) -> Result<ChildProfile, ProfileError> {
    let parse = |s: &Source<'_>| {
        ini::parse(s.text).map_err(|source| ProfileError::Parse {
            file: s.file.to_owned(),
            source,
        })
    };
    let config_sections = parse(config)?;
    let credentials_sections = parse(credentials)?;
    // Key → (setting, file); the credentials file's settings win.
    let mut found: BTreeMap<&str, (&Setting, &str)> = BTreeMap::new();
    let in_config = config_sections
        .iter()
        .rfind(|s| config_profile_name(&s.name) == Some(profile));
    let in_credentials = credentials_sections.iter().find(|s| s.name == profile);
    for (section, file) in [(in_config, config.file), (in_credentials, credentials.file)] {
        for s in section.iter().flat_map(|s| &s.settings) {
            found.insert(&s.key, (s, file));
        }
    }
    let bad = |(s, file): (&Setting, &str), key: &'static str, problem| ProfileError::Value {
        file: file.to_owned(),
        line: s.line,
        key,
        profile: profile.to_owned(),
        problem,
    };
    let mut child = ChildProfile::default();
    for key in COPIED {
        let Some(&(s, file)) = found.get(key) else {
            continue;
        };
        if s.nested().is_some() {
            return Err(bad((s, file), key, "is nested where a plain value belongs"));
        }
        check_value(&s.value).map_err(|p| bad((s, file), key, p))?;
        if s.value.is_empty() {
            continue;
        }
        if *key == "services" {
            check_name(&s.value).map_err(|p| bad((s, file), key, p))?;
            // A reference to no section is dropped with it.
            let Some(entries) = services(&config_sections, &s.value, config.file, profile)? else {
                continue;
            };
            child.services = Some((s.value.clone(), entries));
        }
        child.settings.push((key, Copied::Plain(s.value.clone())));
    }
    for (key, allowed) in NESTED {
        let Some(&(s, file)) = found.get(key) else {
            continue;
        };
        let Some(pairs) = s.nested() else {
            return Err(bad(
                (s, file),
                key,
                "is a plain value where a nested one belongs",
            ));
        };
        let pairs = copy_pairs(pairs, *allowed).map_err(|e| match e {
            PairError::Ini(source) => ProfileError::Parse {
                file: file.to_owned(),
                source,
            },
            PairError::Value(p) => bad((s, file), key, p),
        })?;
        if !pairs.is_empty() {
            child.settings.push((key, Copied::Nested(pairs)));
        }
    }
    Ok(child)
}

/// The profile a config-file section defines: `default`, or NAME of
/// `profile NAME` (botocore splits the header with `shlex`; a NAME that needs
/// quoting is no profile tvm looks up).
fn config_profile_name(section: &str) -> Option<&str> {
    if section == "default" {
        return Some("default");
    }
    let rest = section.strip_prefix("profile")?;
    let name = rest.trim();
    let ok = rest.starts_with(char::is_whitespace)
        && !name.is_empty()
        && !name.contains(|c: char| c.is_whitespace() || c == '"' || c == '\'');
    ok.then_some(name)
}

/// The endpoint settings of `[services NAME]` in the config file, if there is one.
fn services(
    sections: &[Section],
    name: &str,
    file: &str,
    profile: &str,
) -> Result<Option<ServiceEntries>, ProfileError> {
    let Some(section) = sections.iter().find(|s| {
        s.name
            .strip_prefix("services")
            .is_some_and(|r| r.starts_with(char::is_whitespace) && r.trim() == name)
    }) else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for s in &section.settings {
        let Some(pairs) = s.nested() else { continue };
        if check_name(&s.key).is_err() {
            continue;
        }
        let pairs = copy_pairs(pairs, Some(SERVICE_SETTINGS)).map_err(|e| match e {
            PairError::Ini(source) => ProfileError::Parse {
                file: file.to_owned(),
                source,
            },
            PairError::Value(problem) => ProfileError::Value {
                file: file.to_owned(),
                line: s.line,
                key: "services",
                profile: profile.to_owned(),
                problem,
            },
        })?;
        if !pairs.is_empty() {
            out.push((s.key.clone(), pairs));
        }
    }
    Ok(Some(out))
}

enum PairError {
    Ini(IniError),
    Value(&'static str),
}

/// The pairs whose key is allowed (`None`: any service name), values checked.
fn copy_pairs(
    pairs: Result<Vec<(String, String)>, IniError>,
    allowed: Option<&[&str]>,
) -> Result<Vec<(String, String)>, PairError> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (k, v) in pairs.map_err(PairError::Ini)? {
        let keep = match allowed {
            Some(list) => list.contains(&k.as_str()),
            None => is_service_name(&k),
        };
        if !keep || v.is_empty() {
            continue;
        }
        check_value(&v).map_err(PairError::Value)?;
        // botocore keeps the last of a repeated sub-key.
        out.retain(|(seen, _)| *seen != k);
        out.push((k, v));
    }
    Ok(out)
}

/// A value may be copied: no control character (C0, DEL, C1), no Unicode line
/// or paragraph separator (Python's `splitlines` breaks at all of them), at
/// most [`MAX_VALUE_CHARS`].
pub fn check_value(v: &str) -> Result<(), &'static str> {
    if v.chars().count() > MAX_VALUE_CHARS {
        return Err("is too long");
    }
    if v.chars()
        .any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}'))
    {
        return Err("holds a control character or a line break");
    }
    Ok(())
}

/// A botocore service name, as `api_versions` keys them (`ec2`,
/// `resource-groups`): `[a-z0-9-]`, at most [`MAX_NAME_CHARS`].
fn is_service_name(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= MAX_NAME_CHARS
        && k.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// A section name or service id: `[A-Za-z0-9._-]`, at most [`MAX_NAME_CHARS`].
fn check_name(v: &str) -> Result<(), &'static str> {
    let ok = !v.is_empty()
        && v.len() <= MAX_NAME_CHARS
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    ok.then_some(())
        .ok_or("is not a name of letters, digits, '.', '_' and '-'")
}

impl ChildProfile {
    /// The config file text.
    pub fn render(&self) -> String {
        let mut out = String::from(
            "# Written by tvm exec for the command it runs: the settings of your AWS\n\
             # profile, without credentials (the command's come from tvm).\n[default]\n",
        );
        let nested = |out: &mut String, pairs: &[(String, String)]| {
            for (k, v) in pairs {
                let _ = writeln!(out, "  {k} = {v}");
            }
        };
        for (key, value) in &self.settings {
            match value {
                Copied::Plain(v) => {
                    let _ = writeln!(out, "{key} = {v}");
                }
                Copied::Nested(pairs) => {
                    let _ = writeln!(out, "{key} =");
                    nested(&mut out, pairs);
                }
            }
        }
        if let Some((name, entries)) = &self.services {
            let _ = writeln!(out, "\n[services {name}]");
            for (service, pairs) in entries {
                let _ = writeln!(out, "{service} =");
                nested(&mut out, pairs);
            }
        }
        out
    }
}

#[cfg(test)]
#[path = "profile_tests.rs"]
mod tests;
