//! What the client accepts from a server before printing or writing any of it:
//! each value with a fixed grammar is held to the server's own rule, and one
//! bad entry refuses the whole answer ([`Refused`]), so a hostile or broken
//! tvm cannot smuggle a `credential_process` line into `tvm configure`'s
//! stanzas, nor escape sequences into a table.
//!
//! Invariants: profile names follow the policy's rule
//! ([`crate::policy::check_profile_name`]); a profile `Kind` is one of
//! [`ProfileKind`]'s wire names; durations satisfy `0 < default <= max <=`
//! [`MAX_SESSION_SECONDS`]; a request id is 16 lowercase hex, a status one of
//! [`Status`]'s, times RFC 3339; discovery's STS endpoint and region pass the
//! same grammar the token is minted with; vended credentials are printable
//! ASCII with an RFC 3339 expiry (secrets never shown). A refused value is named only in
//! [`escaped`] form. Free text (reasons, ARNs, comments) has no grammar: it is
//! shown through [`super::visible::visible`] wherever it is printed.

use crate::approvals::Status;
use crate::auth::{is_region_name, Endpoint};
use crate::policy::{check_profile_name, ProfileKind, MAX_SESSION_SECONDS};

use super::visible::escaped;
use super::wire::{Discovery, ProfileInfo, RequestInfo, VendedCredentials};

/// A server answer refused because one of its values breaks its rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "refused the server's answer: invalid {what} {} ({rule}); nothing from it was used",
    escaped(.value)
)]
pub struct Refused {
    /// Which value (`profile name`, `Kind of profile "x"`...).
    pub what: String,
    /// The value as sent (shown only through [`escaped`]).
    pub value: String,
    /// The rule it breaks.
    pub rule: &'static str,
}

fn refuse(what: impl Into<String>, value: impl Into<String>, rule: &'static str) -> Refused {
    Refused {
        what: what.into(),
        value: value.into(),
        rule,
    }
}

const PROFILE_NAME_RULE: &str =
    "a profile name is 1 to 64 of [A-Za-z0-9._-], starting with a letter or digit";

fn profile_name(name: &str) -> Result<(), Refused> {
    check_profile_name(name).map_err(|_| refuse("profile name", name, PROFILE_NAME_RULE))
}

/// The [`ProfileKind`] whose wire name is `s`.
pub fn profile_kind(s: &str) -> Option<ProfileKind> {
    [
        ProfileKind::Direct,
        ProfileKind::Approval,
        ProfileKind::BreakGlass,
    ]
    .into_iter()
    .find(|k| k.as_str() == s)
}

/// Checks every entry of a `GET /profiles` answer.
pub fn profiles(list: &[ProfileInfo]) -> Result<(), Refused> {
    for p in list {
        profile_name(&p.name)?;
        if profile_kind(&p.kind).is_none() {
            return Err(refuse(
                format!("Kind of profile {}", p.name),
                &p.kind,
                "one of direct, approval, break_glass",
            ));
        }
        let (d, m) = (p.default_duration_seconds, p.max_duration_seconds);
        if d == 0 || d > m || m > MAX_SESSION_SECONDS {
            return Err(refuse(
                format!("durations of profile {}", p.name),
                format!("default {d}, max {m}"),
                "0 < default <= max <= 43200 seconds",
            ));
        }
    }
    Ok(())
}

/// Whether `id` is a request id (16 lowercase hex, DESIGN §12): what a
/// request id must be before it goes into a path or is shown.
pub fn is_request_id(id: &str) -> bool {
    id.len() == 16 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn timestamp(what: &str, t: Option<&str>) -> Result<(), Refused> {
    match t {
        Some(t) if t.parse::<jiff::Timestamp>().is_err() => {
            Err(refuse(what, t, "an RFC 3339 time"))
        }
        _ => Ok(()),
    }
}

/// Checks one request object (a listing entry, a create or decide answer).
pub fn request(r: &RequestInfo) -> Result<(), Refused> {
    if !is_request_id(&r.id) {
        return Err(refuse("request id", &r.id, "16 lowercase hex characters"));
    }
    if Status::parse(&r.status).is_none() {
        return Err(refuse(
            format!("status of request {}", r.id),
            &r.status,
            "one of pending, approved, denied, expired",
        ));
    }
    profile_name(&r.profile)?;
    timestamp("CreatedAt", r.created_at.as_deref())?;
    timestamp("ExpiresAt", r.expires_at.as_deref())?;
    timestamp("GrantExpiresAt", r.grant_expires_at.as_deref())?;
    for a in &r.approvals {
        timestamp("approval time", a.at.as_deref())?;
    }
    Ok(())
}

/// Checks every entry of a `GET /requests` answer.
pub fn requests(list: &[RequestInfo]) -> Result<(), Refused> {
    list.iter().try_for_each(request)
}

/// Checks a `POST /vend` answer before it is printed, cached or served to an
/// SDK: every field printable ASCII without spaces (what AWS issues), the
/// expiry an RFC 3339 time. A secret field is named, never shown.
pub fn vended(v: &VendedCredentials) -> Result<(), Refused> {
    let printable = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic());
    for (what, value, secret) in [
        ("AccessKeyId", &v.access_key_id, false),
        ("SecretAccessKey", &v.secret_access_key, true),
        ("Token", &v.token, true),
        ("SourceIdentity", &v.source_identity, false),
        ("RoleArn", &v.role_arn, false),
    ] {
        if !printable(value) {
            let shown = if secret {
                "(not shown)"
            } else {
                value.as_str()
            };
            return Err(refuse(what, shown, "printable ASCII without spaces"));
        }
    }
    timestamp("Expiration", Some(&v.expiration))
}

/// Checks the discovery values the client may use or show.
pub fn discovery(d: &Discovery) -> Result<(), Refused> {
    if Endpoint::parse(&d.sts_endpoint).is_err() {
        return Err(refuse(
            "sts_endpoint",
            &d.sts_endpoint,
            "scheme://host[:port] of printable ASCII",
        ));
    }
    if !is_region_name(&d.region) {
        return Err(refuse("region", &d.region, "a region name"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(name: &str, kind: &str, d: u32, m: u32) -> ProfileInfo {
        ProfileInfo {
            name: name.into(),
            kind: kind.into(),
            default_duration_seconds: d,
            max_duration_seconds: m,
        }
    }

    #[test]
    fn one_bad_profile_refuses_the_whole_answer_naming_it_escaped() {
        let good = profile("readonly", "direct", 3600, 3600);
        assert_eq!(profiles(std::slice::from_ref(&good)), Ok(()));
        for kind in ["direct", "approval", "break_glass"] {
            assert_eq!(profiles(&[profile("a.b-c_9", kind, 900, 43200)]), Ok(()));
        }
        let injected = "readonly]\n credential_process = sh -c 'touch /tmp/pwned'\n [profile z";
        let cases = [
            (
                profile(injected, "direct", 900, 900),
                "readonly]\\n credential_process",
            ),
            (profile("", "direct", 900, 900), "profile name \"\""),
            (profile("-x", "direct", 900, 900), "\"-x\""),
            (profile(&"a".repeat(65), "direct", 900, 900), "profile name"),
            (profile("x\u{1b}[2J", "direct", 900, 900), "x\\u{1b}[2J"),
            (profile("r\u{202e}o", "direct", 900, 900), "r\\u{202e}o"),
            (
                profile("x", "Direct", 900, 900),
                "Kind of profile x \"Direct\"",
            ),
            (profile("x", "direct\u{7}", 900, 900), "\"direct\\u{7}\""),
            (profile("x", "direct", 0, 900), "default 0, max 900"),
            (profile("x", "direct", 901, 900), "durations"),
            (profile("x", "direct", 900, 50000), "durations"),
        ];
        for (bad, named) in cases {
            let err = profiles(&[good.clone(), bad]).unwrap_err().to_string();
            assert!(err.contains(named), "{err}");
            assert!(
                err.chars().all(|c| c.is_ascii_graphic() || c == ' '),
                "{err:?}"
            );
        }
    }

    fn req(id: &str, status: &str, profile: &str, created: &str) -> RequestInfo {
        serde_json::from_value(serde_json::json!({
            "Id": id, "Status": status, "Profile": profile,
            "Requester": "arn:aws:sts::1:assumed-role/x/\u{1b}[2J", "Reason": "\u{202e}free text",
            "CreatedAt": created,
        }))
        .unwrap()
    }

    #[test]
    fn requests_are_held_to_their_grammar_and_free_text_is_left_to_escaping() {
        let t = "2026-01-01T10:00:00Z";
        assert_eq!(
            requests(&[req("0123456789abcdef", "pending", "p", t)]),
            Ok(())
        );
        for (bad, named) in [
            (req("0123456789ABCDEF", "pending", "p", t), "request id"),
            (req("0123456789abcdef", "gone\n", "p", t), "\"gone\\n\""),
            (
                req("0123456789abcdef", "pending", "p]\n[x", t),
                "profile name",
            ),
            (
                req("0123456789abcdef", "pending", "p", "yesterday"),
                "CreatedAt",
            ),
        ] {
            let err = requests(&[bad]).unwrap_err().to_string();
            assert!(err.contains(named), "{err}");
        }
    }

    #[test]
    fn vended_credentials_are_printable_ascii_and_secrets_are_never_shown() {
        let good = VendedCredentials {
            access_key_id: "ASIAEXAMPLE".into(),
            secret_access_key: "abc/DEF+g=".into(),
            token: "IQoJb3JpZ2luX2VjE//=".into(),
            expiration: "2026-01-01T10:00:00Z".into(),
            source_identity: "tvm.alice.direct.0123456789ab".into(),
            role_arn: "arn:aws:iam::111122223333:role/R".into(),
        };
        assert_eq!(vended(&good), Ok(()));
        let mut bad = good.clone();
        bad.secret_access_key = "top secret\u{1b}[2J".into();
        let err = vended(&bad).unwrap_err().to_string();
        assert!(err.contains("SecretAccessKey \"(not shown)\""), "{err}");
        assert!(!err.contains("top secret"), "{err}");
        let mut bad = good.clone();
        bad.source_identity = "tvm.\u{202e}x".into();
        assert!(vended(&bad).unwrap_err().to_string().contains("\\u{202e}"));
        let mut bad = good;
        bad.expiration = "in an hour".into();
        assert!(vended(&bad).is_err());
    }

    #[test]
    fn discovery_values_pass_the_minting_grammar() {
        let d = |ep: &str, region: &str| Discovery {
            audience: vec![],
            sts_endpoint: ep.into(),
            region: region.into(),
            token_versions: vec![],
        };
        assert_eq!(
            discovery(&d("https://sts.us-east-1.amazonaws.com", "us-east-1")),
            Ok(())
        );
        let err = discovery(&d("https://x\u{1b}]0;pwn\u{7}", "us-east-1")).unwrap_err();
        assert!(err.to_string().contains("\\u{1b}]0;pwn\\u{7}"), "{err}");
        assert!(discovery(&d("https://sts.amazonaws.com", "us-east-1\n")).is_err());
    }
}
