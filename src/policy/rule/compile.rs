//! Compiling a rule from the policy file: every load-time check of `rule.rs`'s
//! invariants, in the order the keys appear in the file.
//!
//! Invariant: a [`Rule`] exists only if it passed here; an error names the key
//! (relative to the rule) and what is wrong.

use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::{Effect, Rule, MAX_CONDITION_ITEMS};
use crate::identity::PrincipalType;
use crate::policy::approval::{ApprovalSpec, BreakGlassSpec, MAX_BREAK_GLASS_SECONDS};
use crate::policy::duration::parse_session_duration;
use crate::policy::model::{RawEffect, RawPrincipalType, RawRule};
use crate::policy::patterns::{
    check_rule_name, compile_principal, compile_profile_pattern, compile_user_pattern,
    ARN_NAME_FIELD,
};
use crate::policy::profile::is_account_id;
use crate::policy::window::TimeWindow;

type CompileError = (String, String);

fn err(key: impl Into<String>, msg: impl Into<String>) -> CompileError {
    (key.into(), msg.into())
}

/// Compiles a present list with `f`, rejecting empty and over-long lists.
fn list<T, U>(
    key: &str,
    items: &Option<Vec<T>>,
    mut f: impl FnMut(&T) -> Result<U, String>,
) -> Result<Option<Vec<U>>, CompileError> {
    let Some(items) = items else { return Ok(None) };
    if items.is_empty() {
        return Err(err(key, format!("empty list (omit `{key}` to match any)")));
    }
    if items.len() > MAX_CONDITION_ITEMS {
        return Err(err(key, format!("more than {MAX_CONDITION_ITEMS} entries")));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| f(item).map_err(|m| err(format!("{key}[{i}]"), m)))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

impl Rule {
    /// Compiles a raw rule; `profile_names` are the policy's profiles.
    pub(crate) fn compile(raw: &RawRule, profile_names: &[&str]) -> Result<Self, CompileError> {
        check_rule_name(&raw.name).map_err(|m| err("name", m))?;
        let effect = match raw.effect {
            RawEffect::Allow => Effect::Allow,
            RawEffect::Deny => Effect::Deny,
            RawEffect::RequireApproval => Effect::RequireApproval,
            RawEffect::BreakGlass => Effect::BreakGlass,
        };
        let accounts = list("accounts", &raw.accounts, |a| {
            if is_account_id(&a.0) {
                Ok(a.0.clone())
            } else {
                Err(format!("{:?} is not a 12-digit account id", a.0))
            }
        })?;
        let principal_types = list("principal_types", &raw.principal_types, |t| {
            Ok(match t {
                RawPrincipalType::User => PrincipalType::User,
                RawPrincipalType::AssumedRole => PrincipalType::AssumedRole,
                RawPrincipalType::FederatedUser => PrincipalType::FederatedUser,
                RawPrincipalType::Root => PrincipalType::Root,
            })
        })?;
        let pins_account = accounts.is_some() || effect == Effect::Deny;
        let principals = list("principals", &raw.principals, |p| {
            compile_principal(p, pins_account, accounts.as_deref())
        })?;
        let users = list("users", &raw.users, |u| compile_user_pattern(u))?;
        let profiles = list("profiles", &raw.profiles, |p| {
            compile_profile_pattern(p, profile_names)
        })?;
        let time = match &raw.time {
            None => None,
            Some(t) => Some(TimeWindow::compile(t).map_err(|(k, m)| {
                let key = if k.is_empty() {
                    "time".to_owned()
                } else {
                    format!("time.{k}")
                };
                err(key, m)
            })?),
        };
        if effect.grants() && accounts.is_none() && principals.is_none() {
            return Err(err(
                "",
                format!("an {} rule must bind `accounts` or `principals` (a username alone is chosen by the caller)", effect.as_str()),
            ));
        }
        let max_duration_seconds = match (&raw.max_duration, effect) {
            (None, Effect::BreakGlass) => Some(MAX_BREAK_GLASS_SECONDS),
            (None, _) => None,
            (Some(_), Effect::Deny) => {
                return Err(err(
                    "max_duration",
                    "max_duration has no meaning on a deny rule",
                ))
            }
            (Some(t), e) => {
                let secs = parse_session_duration(t).map_err(|m| err("max_duration", m))?;
                if e == Effect::BreakGlass && secs > MAX_BREAK_GLASS_SECONDS {
                    return Err(err("max_duration", "a break_glass session is at most 1h"));
                }
                Some(secs)
            }
        };
        let only = |present: bool, key: &str, on: Effect| {
            if present && effect != on {
                Err(err(
                    key,
                    format!("`{key}` belongs on a {} rule only", on.as_str()),
                ))
            } else {
                Ok(())
            }
        };
        only(
            raw.approvers.is_some(),
            "approvers",
            Effect::RequireApproval,
        )?;
        only(
            raw.approvals_needed.is_some(),
            "approvals_needed",
            Effect::RequireApproval,
        )?;
        only(
            raw.grant_duration.is_some(),
            "grant_duration",
            Effect::RequireApproval,
        )?;
        only(
            raw.reason_min_length.is_some(),
            "reason_min_length",
            Effect::BreakGlass,
        )?;
        let approval = match effect {
            Effect::RequireApproval => Some(ApprovalSpec::compile(
                raw.approvers.as_ref(),
                raw.approvals_needed,
                raw.grant_duration.as_deref(),
            )?),
            _ => None,
        };
        let break_glass = match effect {
            Effect::BreakGlass => Some(BreakGlassSpec::compile(raw.reason_min_length)?),
            _ => None,
        };
        let digest: Arc<str> = hex::encode(Sha256::digest(format!("{raw:?}").as_bytes())).into();
        for (i, t) in principal_types.iter().flatten().enumerate() {
            if principal_types.iter().flatten().take(i).any(|u| u == t) {
                return Err(err(format!("principal_types[{i}]"), "listed twice"));
            }
        }
        let names_root = principal_types
            .iter()
            .flatten()
            .any(|t| *t == PrincipalType::Root)
            || principals.iter().flatten().any(|g| {
                g.field_is_literal(ARN_NAME_FIELD) && g.field(ARN_NAME_FIELD) == Some("root")
            });
        Ok(Self {
            name: raw.name.as_str().into(),
            effect,
            accounts,
            principal_types,
            principals,
            users,
            profiles,
            time,
            max_duration_seconds,
            names_root,
            approval,
            break_glass,
            digest,
        })
    }
}
