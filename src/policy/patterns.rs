//! Load-time checks of the names and patterns a rule holds.
//!
//! Owns: rule-name syntax, principal-pattern shape, profile-pattern syntax,
//! and which parts of a pattern match ignoring case (the names: an ARN's
//! resource field and usernames; never partitions, services or accounts).
//!
//! Invariants: a principal pattern keeps the six ARN fields with a literal
//! `arn` and an empty region, a known partition and service when literal, and a
//! 12-digit account when literal; an allow rule without `accounts` only gets
//! principal patterns with a literal account; a profile pattern matches at
//! least one profile. So a typo cannot silently match nothing, or everything.

use super::glob::Glob;
use super::profile::is_account_id;

/// Longest rule name accepted (names go to logs).
pub const MAX_RULE_NAME_LEN: usize = 128;

/// Rule names: 1..=[`MAX_RULE_NAME_LEN`] of `[A-Za-z0-9._-]`.
pub(super) fn check_rule_name(name: &str) -> Result<(), String> {
    if !name.is_empty()
        && name.len() <= MAX_RULE_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    {
        Ok(())
    } else {
        Err(format!(
            "rule name {name:?} must be 1..={MAX_RULE_NAME_LEN} of [A-Za-z0-9._-]"
        ))
    }
}

/// The first `:`-field of an ARN that holds names (type, path, role, session
/// or user name): matched ignoring case, since IAM and Identity Center names
/// are unique regardless of case. The fields before it (`arn`, partition,
/// service, region, account) stay exact.
pub(super) const ARN_NAME_FIELD: usize = 5;

/// Principal patterns keep the ARN's field structure so a typo cannot silently
/// match nothing (or, with a wildcard account, everything). Their resource
/// field matches ignoring ASCII case ([`ARN_NAME_FIELD`]).
pub(super) fn compile_principal(
    p: &str,
    pins_account: bool,
    accounts: Option<&[String]>,
) -> Result<Glob, String> {
    let g = Glob::folding_from(p, ARN_NAME_FIELD)?;
    let shape =
        "expected arn:PARTITION:SERVICE::ACCOUNT:RESOURCE (each `*` stays within one field)";
    if g.field_count() != 6
        || g.field(0) != Some("arn")
        || !g.field_is_literal(0)
        || g.field(3) != Some("")
    {
        return Err(format!("principal pattern {p:?}: {shape}"));
    }
    if g.field_is_literal(1) && !matches!(g.field(1), Some("aws" | "aws-cn" | "aws-us-gov")) {
        return Err(format!("principal pattern {p:?}: unknown partition"));
    }
    if g.field_is_literal(2) && !matches!(g.field(2), Some("iam" | "sts")) {
        return Err(format!(
            "principal pattern {p:?}: service must be iam or sts"
        ));
    }
    if g.field(ARN_NAME_FIELD).is_none_or(str::is_empty) {
        return Err(format!("principal pattern {p:?}: empty resource"));
    }
    let account = g.field(4).unwrap_or_default();
    if g.field_is_literal(4) {
        if !is_account_id(account) {
            return Err(format!(
                "principal pattern {p:?}: account must be 12 digits or a glob"
            ));
        }
        if let Some(accounts) = accounts {
            if !accounts.iter().any(|a| a == account) {
                return Err(format!(
                    "principal pattern {p:?}: account {account} is not in this rule's `accounts`, so it can never match"
                ));
            }
        }
    } else if !pins_account {
        return Err(format!(
            "principal pattern {p:?}: an allow rule without `accounts` must name the account literally"
        ));
    }
    Ok(g)
}

/// Username patterns hold no `:` (no username does) and match ignoring ASCII
/// case, like the names in ARNs.
pub(super) fn compile_user_pattern(u: &str) -> Result<Glob, String> {
    let g = Glob::folding_from(u, 0)?;
    if u.contains(':') {
        return Err("user patterns cannot hold `:` (no username does)".into());
    }
    Ok(g)
}

/// Profile patterns use the profile-name alphabet plus `*` and must match a profile.
pub(super) fn compile_profile_pattern(p: &str, profile_names: &[&str]) -> Result<Glob, String> {
    if !p
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"._-*".contains(&b))
    {
        return Err(format!("profile pattern {p:?} must be of [A-Za-z0-9._-*]"));
    }
    let g = Glob::new(p)?;
    if !profile_names.iter().any(|n| g.matches(n)) {
        return Err(if g.is_literal() {
            format!("unknown profile {p:?}")
        } else {
            format!("profile pattern {p:?} matches no profile")
        });
    }
    Ok(g)
}
