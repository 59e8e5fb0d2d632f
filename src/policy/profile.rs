//! Profiles: what a caller can ask for by name, and the role behind it.
//!
//! Owns: [`Profile`] and its load-time validation (role ARN shape, durations,
//! external id, session tags, transitive tag keys, inline session policy).
//!
//! Invariants: a [`Profile`] only exists after every field passed validation,
//! and cannot be built outside this module (it has a private field); its
//! durations satisfy `15m <= default <= max <= 12h`; its session policy is
//! compact JSON of at most [`MAX_SESSION_POLICY_BYTES`] bytes.

use std::fmt;

use super::duration::{
    format_seconds, parse_session_duration, DEFAULT_DEFAULT_SECONDS, DEFAULT_MAX_SECONDS,
};
use super::model::{RawProfile, StrictJson};
use super::tags::{check_key, check_key_set, TagContext, TagError, TagTemplate};

/// Longest profile name accepted; names also appear in logs and URLs.
pub const MAX_PROFILE_NAME_LEN: usize = 64;

/// Largest inline session policy (compact JSON bytes) accepted at load; the
/// AWS limit on the plaintext `Policy` parameter of `AssumeRole`.
pub const MAX_SESSION_POLICY_BYTES: usize = 2_048;

/// Longest role path AWS allows (`/` included).
const MAX_ROLE_PATH: usize = 512;

/// Longest role name AWS allows.
const MAX_ROLE_NAME: usize = 64;

/// External id length range of `AssumeRole`.
const EXTERNAL_ID_LEN: std::ops::RangeInclusive<usize> = 2..=1_224;

/// A validated profile.
#[derive(Clone)]
pub struct Profile {
    /// The name callers ask for.
    pub name: String,
    /// The role tvm assumes for this profile (validated ARN).
    pub role_arn: String,
    /// The longest session any rule can grant for this profile, in seconds.
    pub max_duration_seconds: u32,
    /// The session length when the caller does not ask for one, in seconds.
    pub default_duration_seconds: u32,
    /// `ExternalId` passed to `AssumeRole`, if any (redacted in `Debug`).
    pub external_id: Option<String>,
    /// Inline session policy (compact JSON), if any.
    pub session_policy: Option<String>,
    /// Session tag keys marked transitive; each is a key of the session tags.
    pub transitive_tag_keys: Vec<String>,
    session_tags: Vec<(String, TagTemplate)>,
}

impl fmt::Debug for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Profile")
            .field("name", &self.name)
            .field("role_arn", &self.role_arn)
            .field("max_duration_seconds", &self.max_duration_seconds)
            .field("default_duration_seconds", &self.default_duration_seconds)
            .field(
                "external_id",
                &self.external_id.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "session_policy",
                &self.session_policy.as_ref().map(String::len),
            )
            .field("transitive_tag_keys", &self.transitive_tag_keys)
            .field("session_tags", &self.session_tags)
            .finish()
    }
}

impl Profile {
    /// Renders the session tags for one vend, in file order. An error means the
    /// vend must be refused: a value is never truncated or rewritten, since tags feed
    /// ABAC conditions and two callers must never end up with the same value.
    pub fn session_tags(&self, ctx: &TagContext<'_>) -> Result<Vec<(String, String)>, TagError> {
        self.session_tags
            .iter()
            .map(|(k, t)| Ok((k.clone(), t.render(k, ctx)?)))
            .collect()
    }

    /// The session tag keys and their templates as written (for summaries).
    pub fn session_tag_templates(&self) -> impl Iterator<Item = (&str, &str)> {
        self.session_tags
            .iter()
            .map(|(k, t)| (k.as_str(), t.source()))
    }

    /// Compiles a raw profile; errors carry the key (relative to the profile) and message.
    pub(crate) fn compile(name: &str, raw: &RawProfile) -> Result<Self, (String, String)> {
        let err = |key: &str, msg: String| (key.to_owned(), msg);
        check_profile_name(name).map_err(|m| err("", m))?;
        check_role_arn(&raw.role_arn).map_err(|m| err("role_arn", m))?;
        let max = match &raw.max_duration {
            Some(t) => parse_session_duration(t).map_err(|m| err("max_duration", m))?,
            None => DEFAULT_MAX_SECONDS,
        };
        let default = match &raw.default_duration {
            Some(t) => parse_session_duration(t).map_err(|m| err("default_duration", m))?,
            None => DEFAULT_DEFAULT_SECONDS,
        };
        if default > max {
            return Err(err(
                "default_duration",
                format!(
                    "default_duration {} exceeds max_duration {}",
                    format_seconds(default),
                    format_seconds(max)
                ),
            ));
        }
        if let Some(id) = &raw.external_id {
            check_external_id(id).map_err(|m| err("external_id", m))?;
        }
        let mut session_tags = Vec::with_capacity(raw.session_tags.0.len());
        for (key, value) in &raw.session_tags.0 {
            let path = format!("session_tags.{key}");
            check_key(key).map_err(|m| err(&path, m))?;
            let template = TagTemplate::compile(value).map_err(|m| err(&path, m))?;
            session_tags.push((key.clone(), template));
        }
        check_key_set(session_tags.iter().map(|(k, _)| k.as_str()))
            .map_err(|(i, m)| err(&format!("session_tags.{}", session_tags[i].0), m))?;
        for (i, key) in raw.transitive_tag_keys.iter().enumerate() {
            let path = format!("transitive_tag_keys[{i}]");
            if !session_tags.iter().any(|(k, _)| k == key) {
                return Err(err(&path, format!("{key:?} is not a key of session_tags")));
            }
            if raw.transitive_tag_keys[..i].contains(key) {
                return Err(err(&path, format!("{key:?} listed twice")));
            }
        }
        let session_policy = match &raw.session_policy {
            None => None,
            Some(v) => Some(pack_session_policy(&v.0).map_err(|m| err("session_policy", m))?),
        };
        Ok(Self {
            name: name.to_owned(),
            role_arn: raw.role_arn.clone(),
            max_duration_seconds: max,
            default_duration_seconds: default,
            external_id: raw.external_id.clone(),
            session_policy,
            transitive_tag_keys: raw.transitive_tag_keys.clone(),
            session_tags,
        })
    }
}

/// Profile names: `[A-Za-z0-9][A-Za-z0-9._-]*`, at most [`MAX_PROFILE_NAME_LEN`].
pub(crate) fn check_profile_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= MAX_PROFILE_NAME_LEN
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "profile name {name:?} must be 1..={MAX_PROFILE_NAME_LEN} of [A-Za-z0-9._-], starting with a letter or digit"
        ))
    }
}

/// Role ARNs: `arn:{aws|aws-cn|aws-us-gov}:iam::{12 digits}:role/{path/}name`.
pub(crate) fn check_role_arn(arn: &str) -> Result<(), String> {
    let bad = |why: &str| format!("invalid role ARN {arn:?}: {why}");
    let fields: Vec<&str> = arn.splitn(6, ':').collect();
    let [scheme, partition, service, region, account, resource] = fields[..] else {
        return Err(bad("expected arn:PARTITION:iam::ACCOUNT:role/NAME"));
    };
    if scheme != "arn" || service != "iam" || !region.is_empty() {
        return Err(bad("expected arn:PARTITION:iam::ACCOUNT:role/NAME"));
    }
    if !matches!(partition, "aws" | "aws-cn" | "aws-us-gov") {
        return Err(bad("unknown partition"));
    }
    if !is_account_id(account) {
        return Err(bad("account must be 12 digits"));
    }
    let Some(path_and_name) = resource.strip_prefix("role/") else {
        return Err(bad("resource must be role/[PATH/]NAME"));
    };
    let (path, name) = match path_and_name.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, path_and_name),
    };
    let name_char = |b: u8| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b);
    if name.is_empty() || name.len() > MAX_ROLE_NAME || !name.bytes().all(name_char) {
        return Err(bad("role name must be 1..=64 of [A-Za-z0-9+=,.@_-]"));
    }
    // `role/a/b/Name` has path `/a/b/`; every segment is non-empty.
    if path.is_some_and(|p| {
        p.len() + 2 > MAX_ROLE_PATH
            || !p
                .split('/')
                .all(|s| !s.is_empty() && s.bytes().all(name_char))
    }) {
        return Err(bad(
            "role path must be /SEGMENT/.../ of [A-Za-z0-9+=,.@_-], at most 512",
        ));
    }
    Ok(())
}

/// Exactly 12 ASCII digits.
pub(crate) fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// `ExternalId`: 2..=1224 of `[\w+=,.@:/-]`.
fn check_external_id(id: &str) -> Result<(), String> {
    let ok = EXTERNAL_ID_LEN.contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@:/-".contains(&b));
    if ok {
        Ok(())
    } else {
        // The value itself is not echoed: it is a shared secret of sorts.
        Err("external_id must be 2..=1224 of [A-Za-z0-9_+=,.@:/-]".into())
    }
}

/// Turns the YAML value into compact JSON: a mapping is taken as the document,
/// a string is parsed as JSON text. The result must be an object with a
/// `Statement` and fit [`MAX_SESSION_POLICY_BYTES`].
fn pack_session_policy(value: &serde_json::Value) -> Result<String, String> {
    let doc = match value {
        serde_json::Value::String(text) => {
            serde_json::from_str::<StrictJson>(text)
                .map_err(|e| format!("not valid JSON: {e}"))?
                .0
        }
        other => other.clone(),
    };
    let Some(obj) = doc.as_object() else {
        return Err("must be a JSON object (an IAM policy document)".into());
    };
    if !obj.contains_key("Statement") {
        return Err("policy document has no `Statement`".into());
    }
    let packed = serde_json::to_string(&doc).map_err(|e| format!("cannot serialise: {e}"))?;
    if packed.len() > MAX_SESSION_POLICY_BYTES {
        return Err(format!(
            "packed size {} bytes exceeds {MAX_SESSION_POLICY_BYTES}",
            packed.len()
        ));
    }
    Ok(packed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns() {
        for ok in [
            "arn:aws:iam::111122223333:role/Admin",
            "arn:aws-cn:iam::111122223333:role/a/b/Admin",
            "arn:aws-us-gov:iam::011122223333:role/service-role/x+=,.@_-",
        ] {
            assert_eq!(check_role_arn(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "arn:aws:iam::111122223333:role/",
            "arn:aws:iam::111122223333:role//Admin",
            "arn:aws:iam::111122223333:user/Admin",
            "arn:aws:sts::111122223333:role/Admin",
            "arn:aws:iam:us-east-1:111122223333:role/Admin",
            "arn:aws:iam::11112222333:role/Admin",
            "arn:aws:iam::1111222233334:role/Admin",
            "arn:aws-iso:iam::111122223333:role/Admin",
            "arn:aws:iam::111122223333:role/Ad min",
            "arn:aws:iam::111122223333:role/Admin:x",
            "arn:aws:iam::*:role/Admin",
            "ARN:aws:iam::111122223333:role/Admin",
        ] {
            assert!(check_role_arn(bad).is_err(), "{bad}");
        }
        let long_name = format!("arn:aws:iam::111122223333:role/{}", "n".repeat(65));
        assert!(check_role_arn(&long_name).is_err());
        let long_path = format!("arn:aws:iam::111122223333:role/{}/n", "p".repeat(511));
        assert!(check_role_arn(&long_path).is_err());
    }

    #[test]
    fn profile_names() {
        for ok in ["prod-admin", "a", "ci.deploy_2", &"x".repeat(64)] {
            assert!(check_profile_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "-x",
            ".x",
            "a b",
            "a/b",
            "a:b",
            "a*",
            "é",
            &"x".repeat(65),
        ] {
            assert!(check_profile_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn external_ids() {
        assert!(check_external_id("ab").is_ok());
        assert!(check_external_id("a").is_err());
        assert!(check_external_id("a b").is_err());
        assert!(check_external_id(&"x".repeat(1_225)).is_err());
        let msg = check_external_id("s3cr3t value").unwrap_err();
        assert!(!msg.contains("s3cr3t"));
    }

    #[test]
    fn session_policies() {
        let from_text = serde_json::Value::String(
            r#"{ "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Action": "s3:Get*", "Resource": "*" } ] }"#.into(),
        );
        assert_eq!(
            pack_session_policy(&from_text).unwrap(),
            // Compact; serde_json orders keys, which IAM does not care about.
            r#"{"Statement":[{"Action":"s3:Get*","Effect":"Allow","Resource":"*"}],"Version":"2012-10-17"}"#
        );
        assert!(pack_session_policy(&serde_json::Value::String("{not json".into())).is_err());
        let dup = r#"{"Statement": [], "Statement": [{"Effect": "Allow"}]}"#;
        let err = pack_session_policy(&serde_json::Value::String(dup.into())).unwrap_err();
        assert!(err.contains("duplicate key"), "{err}");
        assert!(pack_session_policy(&serde_json::json!(["Statement"])).is_err());
        assert!(pack_session_policy(&serde_json::json!({"Version": "2012-10-17"})).is_err());
        let big =
            serde_json::json!({"Statement": [{"Effect": "Allow", "Action": "x".repeat(2_100)}]});
        assert!(pack_session_policy(&big).unwrap_err().contains("exceeds"));
    }
}
