//! Who the caller is, for the credentials cache key, found without any network
//! call: the same sources, in the same order, as the aws-config default chain
//! that signs (environment keys, then the selected profile of the shared
//! config and credentials files, then web identity, container, IMDS).
//!
//! Invariants: two callers whose chains would sign with different credentials
//! get different keys — environment keys by their access key id, a profile by
//! its name and every non-secret setting that decides its credentials (the
//! access key id, role, `source_profile` followed to its end, SSO start URL,
//! account and role, `credential_process`, web identity file) — so switching
//! `AWS_SHARED_CREDENTIALS_FILE` or `AWS_ACCESS_KEY_ID` never reuses another
//! identity's session; the result is a SHA-256, so no key id or setting is
//! stored raw; secrets (secret keys, session tokens) are never read into it;
//! when the files cannot be read or parsed the answer is `None` and nothing
//! is cached (the chain would fail the same way).

use std::borrow::Cow;
use std::collections::HashSet;

// The alias is deprecated in favour of aws-runtime's name for the same type;
// it is what `aws_config::profile::load` takes, and naming it here spares a
// direct dependency on aws-runtime for one type name.
#[allow(deprecated)]
use aws_config::profile::profile_file::ProfileFiles;
use aws_config::profile::{Profile, ProfileSet};
use aws_types::os_shim_internal::{Env, Fs};
use sha2::{Digest as _, Sha256};

/// Settings of a profile that decide whose credentials it yields (never a
/// secret: `aws_secret_access_key` and `aws_session_token` are left out).
const IDENTITY_SETTINGS: &[&str] = &[
    "aws_access_key_id",
    "role_arn",
    "credential_source",
    "external_id",
    "role_session_name",
    "mfa_serial",
    "credential_process",
    "sso_session",
    "sso_start_url",
    "sso_region",
    "sso_account_id",
    "sso_role_name",
    "web_identity_token_file",
    "login_session",
];
/// Longest `source_profile` chain followed (aws-config refuses cycles too).
const MAX_SOURCE_PROFILE_HOPS: usize = 16;

/// A hash of `parts`, each length-prefixed so no two lists collide.
fn digest<'a>(parts: impl IntoIterator<Item = &'a str>) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p.as_bytes());
    }
    hex::encode(h.finalize())
}

#[allow(deprecated)] // ProfileFiles, see the import.
/// The caller's identity key for `--aws-profile` `profile` (else
/// `AWS_PROFILE`, else `default`), or `None` when it cannot be told offline.
pub async fn caller_key(profile: Option<&str>) -> Option<String> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    // The chain's first source, whatever profile is named.
    if let (Some(akid), Some(_)) = (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
        return Some(format!("env:{}", digest([akid.as_str()])));
    }
    let set = aws_config::profile::load(
        &Fs::real(),
        &Env::real(),
        &ProfileFiles::default(),
        profile.map(|p| Cow::Owned(p.to_owned())),
    )
    .await
    .ok()?;
    let selected = set.selected_profile();
    if let Some(p) = set.get_profile(selected) {
        let mut parts = vec![selected.to_owned()];
        if describe_profile(&set, p, &mut parts, &mut HashSet::new()) {
            return Some(format!(
                "profile:{}",
                digest(parts.iter().map(String::as_str))
            ));
        }
    }
    if let (Some(file), Some(role)) = (env("AWS_WEB_IDENTITY_TOKEN_FILE"), env("AWS_ROLE_ARN")) {
        return Some(format!("web-identity:{}", digest([&*file, &*role])));
    }
    for var in [
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    ] {
        if let Some(uri) = env(var) {
            return Some(format!("container:{}", digest([var, &*uri])));
        }
    }
    let imds_off = env("AWS_EC2_METADATA_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    (!imds_off).then(|| "imds".to_owned())
}

/// Appends the identity settings of `p` (and of its `source_profile` chain,
/// and of its `sso-session`) to `parts`; whether `p` names any credentials.
fn describe_profile(
    set: &ProfileSet,
    p: &Profile,
    parts: &mut Vec<String>,
    seen: &mut HashSet<String>,
) -> bool {
    if !seen.insert(p.name().to_owned()) || seen.len() > MAX_SOURCE_PROFILE_HOPS {
        parts.push("cycle".into());
        return true;
    }
    let mut any = false;
    for key in IDENTITY_SETTINGS {
        if let Some(v) = p.get(key) {
            any = true;
            parts.push(format!("{key}={v}"));
        }
    }
    if let Some(session) = p.get("sso_session").and_then(|s| set.sso_session(s)) {
        for key in ["sso_start_url", "sso_region"] {
            parts.push(format!(
                "sso-session {key}={}",
                session.get(key).unwrap_or("")
            ));
        }
    }
    if let Some(source) = p.get("source_profile") {
        any = true;
        parts.push(format!("source_profile={source}"));
        if let Some(sp) = set.get_profile(source) {
            describe_profile(set, sp, parts, seen);
        }
    }
    any
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(deprecated)] // ProfileFiles and ProfileFileKind, see the import.
    async fn key_of(config: &str, credentials: &str, profile: Option<&str>) -> Option<String> {
        use aws_config::profile::profile_file::ProfileFileKind;
        let files = ProfileFiles::builder()
            .with_contents(ProfileFileKind::Config, config)
            .with_contents(ProfileFileKind::Credentials, credentials)
            .build();
        let set = aws_config::profile::load(
            &Fs::from_slice(&[]),
            &Env::from_slice(&[]),
            &files,
            profile.map(|p| Cow::Owned(p.to_owned())),
        )
        .await
        .ok()?;
        let p = set.get_profile(set.selected_profile())?;
        let mut parts = vec![set.selected_profile().to_owned()];
        describe_profile(&set, p, &mut parts, &mut HashSet::new())
            .then(|| digest(parts.iter().map(String::as_str)))
    }

    #[tokio::test]
    async fn profiles_are_told_apart_by_what_decides_their_credentials() {
        let alice = "[default]\naws_access_key_id = AKIAALICE\naws_secret_access_key = s1\n";
        let alice_rotated_secret =
            "[default]\naws_access_key_id = AKIAALICE\naws_secret_access_key = s2\n";
        let bob = "[default]\naws_access_key_id = AKIABOB\naws_secret_access_key = s1\n";
        let a = key_of("", alice, None).await.unwrap();
        assert_eq!(key_of("", alice_rotated_secret, None).await.unwrap(), a);
        assert_ne!(key_of("", bob, None).await.unwrap(), a);
        assert!(!a.contains("AKIA"));

        let role = |src_keys: &str| {
            format!(
                "[profile ops]\nrole_arn = arn:aws:iam::1:role/Ops\nsource_profile = base\n\
                 [profile base]\n{src_keys}"
            )
        };
        let via_alice = key_of(&role("aws_access_key_id = AKIAALICE\n"), "", Some("ops")).await;
        let via_bob = key_of(&role("aws_access_key_id = AKIABOB\n"), "", Some("ops")).await;
        assert_ne!(via_alice.unwrap(), via_bob.unwrap());

        let sso = |account: &str| {
            format!(
                "[profile dev]\nsso_session = corp\nsso_account_id = {account}\nsso_role_name = Dev\n\
                 [sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n"
            )
        };
        assert_ne!(
            key_of(&sso("111122223333"), "", Some("dev")).await,
            key_of(&sso("444455556666"), "", Some("dev")).await
        );
        // A profile that names no credentials is not an identity.
        assert_eq!(
            key_of("[default]\nregion = eu-west-1\n", "", None).await,
            None
        );
        // A source_profile cycle ends.
        let cycle = "[profile a]\nsource_profile = b\n[profile b]\nsource_profile = a\n";
        assert!(key_of(cycle, "", Some("a")).await.is_some());
    }
}
