//! What the §13 commands accept from a server before printing or acting on
//! any of it: ids with a grammar are held to it (so none can steer a token
//! to another path, or carry an escape sequence to a terminal), statuses
//! and kinds are from their fixed sets, times are RFC 3339. One bad value
//! refuses the whole answer ([`Refused`]), named only in escaped form.
//!
//! Invariants: a session id (a vended `ASIA…` key) or a caller key is 16–128
//! of `[A-Z0-9]`; a request id 12 lowercase hex; a grant or revocation id 16
//! lowercase hex; a SourceIdentity or RoleSessionName 2–64 of `[\w+=,.@-]`
//! (DESIGN §4); a revocation `Target` holds exactly one of its five keys.
//! Free text (ARNs, usernames, reasons, IAM errors) has no grammar and is
//! shown through [`crate::client::visible`].

use crate::client::checked::{is_request_id as is_hex16, Refused};
use crate::identity::REQUEST_ID_HEX_LEN;
use crate::policy::check_profile_name;

use super::wire::{CheckAnswer, RevocationInfo, SessionInfo};

/// The keys a revocation `Target` may hold (exactly one).
pub const TARGET_KEYS: [&str; 5] = [
    "SessionId",
    "GrantId",
    "CallerAccessKeyId",
    "Principal",
    "User",
];

fn refuse(what: impl Into<String>, value: &str, rule: &'static str) -> Refused {
    Refused {
        what: what.into(),
        value: value.to_owned(),
        rule,
    }
}

/// Whether `s` is an AWS access key id as tvm handles them.
pub fn is_access_key_id(s: &str) -> bool {
    (16..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// Whether `s` is a request id (DESIGN §4: 12 lowercase hex).
pub fn is_vend_request_id(s: &str) -> bool {
    s.len() == REQUEST_ID_HEX_LEN && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Whether `s` has the characters and length of a SourceIdentity or
/// RoleSessionName (DESIGN §4).
pub fn is_stamp(s: &str) -> bool {
    (2..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b))
}

fn time(what: &str, t: &str) -> Result<(), Refused> {
    t.parse::<jiff::Timestamp>()
        .map(|_| ())
        .map_err(|_| refuse(what, t, "an RFC 3339 time"))
}

fn opt_time(what: &str, t: Option<&str>) -> Result<(), Refused> {
    t.map_or(Ok(()), |t| time(what, t))
}

fn key(what: &str, s: &str) -> Result<(), Refused> {
    if is_access_key_id(s) {
        Ok(())
    } else {
        Err(refuse(what, s, "16 to 128 of [A-Z0-9]"))
    }
}

fn hex16(what: &str, s: &str) -> Result<(), Refused> {
    if is_hex16(s) {
        Ok(())
    } else {
        Err(refuse(what, s, "16 lowercase hex characters"))
    }
}

fn one_of(what: &str, s: &str, set: &[&str], rule: &'static str) -> Result<(), Refused> {
    if set.contains(&s) {
        Ok(())
    } else {
        Err(refuse(what, s, rule))
    }
}

/// Checks one session object.
pub fn session(s: &SessionInfo) -> Result<(), Refused> {
    key("session Id", &s.id)?;
    if !is_vend_request_id(&s.request_id) {
        return Err(refuse(
            "RequestId",
            &s.request_id,
            "12 lowercase hex characters",
        ));
    }
    time("CreatedAt", &s.created_at)?;
    time("ExpiresAt", &s.expires_at)?;
    if !s.caller_access_key_id.is_empty() {
        key("CallerAccessKeyId", &s.caller_access_key_id)?;
    }
    check_profile_name(&s.profile).map_err(|_| {
        refuse(
            "profile name",
            &s.profile,
            "1 to 64 of [A-Za-z0-9._-], starting with a letter or digit",
        )
    })?;
    one_of(
        "session Kind",
        &s.kind,
        &["direct", "approval", "break_glass"],
        "one of direct, approval, break_glass",
    )?;
    if let Some(g) = &s.grant_id {
        hex16("GrantId", g)?;
    }
    for (what, v) in [
        ("SourceIdentity", &s.source_identity),
        ("SessionName", &s.session_name),
    ] {
        if !is_stamp(v) {
            return Err(refuse(what, v, "2 to 64 of [A-Za-z0-9_+=,.@-]"));
        }
    }
    one_of(
        "session Status",
        &s.status,
        &["live", "expired", "revoked"],
        "one of live, expired, revoked",
    )?;
    if let Some(r) = &s.revocation_id {
        hex16("RevocationId", r)?;
    }
    Ok(())
}

/// Checks every session of a listing.
pub fn sessions(list: &[SessionInfo]) -> Result<(), Refused> {
    list.iter().try_for_each(session)
}

/// Checks one revocation object (or a dry run's preview: no `Id`).
pub fn revocation(r: &RevocationInfo) -> Result<(), Refused> {
    if let Some(id) = &r.id {
        hex16("revocation Id", id)?;
    }
    one_of(
        "revocation Kind",
        &r.kind,
        &["session", "grant", "credentials", "person"],
        "one of session, grant, credentials, person",
    )?;
    let mut keys = r.target.keys();
    let (Some(k), None) = (keys.next(), keys.next()) else {
        let shown: Vec<&str> = r.target.keys().map(String::as_str).collect();
        return Err(refuse("Target", &shown.join(","), "exactly one key"));
    };
    let v = &r.target[k];
    match k.as_str() {
        "SessionId" | "CallerAccessKeyId" => key(k, v)?,
        "GrantId" => hex16(k, v)?,
        "Principal" | "User" => {}
        _ => {
            return Err(refuse(
                "Target key",
                k,
                "one of SessionId, GrantId, CallerAccessKeyId, Principal, User",
            ))
        }
    }
    opt_time("CreatedAt", r.created_at.as_deref())?;
    opt_time("SuspendedUntil", r.suspended_until.as_deref())?;
    opt_time("LiftedAt", r.lifted_at.as_deref())?;
    for s in &r.sessions {
        key("revoked session", s)?;
    }
    for s in &r.blocked_caller_keys {
        key("blocked caller key", s)?;
    }
    for g in &r.approved_grants {
        hex16("approved grant", g)?;
    }
    for role in &r.roles {
        one_of(
            "role Status",
            &role.status,
            &[
                "pending", "applied", "failed", "manual", "skipped", "expired",
            ],
            "one of pending, applied, failed, manual, skipped, expired",
        )?;
        if let Some(n) = &role.policy_name {
            if !(1..=128).contains(&n.len())
                || !n
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b))
            {
                return Err(refuse("PolicyName", n, "1 to 128 of [A-Za-z0-9_+=,.@-]"));
            }
        }
    }
    Ok(())
}

/// Checks a `/check` answer.
pub fn check(c: &CheckAnswer) -> Result<(), Refused> {
    for r in &c.roles {
        one_of(
            "check result",
            &r.status,
            &["in_sync", "missing", "differs"],
            "one of in_sync, missing, differs",
        )?;
    }
    Ok(())
}
