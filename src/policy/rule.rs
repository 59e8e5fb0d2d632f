//! Rules: compiled conditions and the test of one rule against one request.
//!
//! Owns: [`Rule`], its load-time validation, and [`Rule::check`].
//!
//! Invariants (all enforced at load):
//! - names are unique (checked by `load`) and 1..=[`MAX_RULE_NAME_LEN`] of
//!   `[A-Za-z0-9._-]`;
//! - an allow rule binds `accounts` or `principals`, and when it has no
//!   `accounts`, every principal pattern names a literal 12-digit account: so an
//!   allow always pins the caller's account;
//! - present lists are non-empty; principal patterns have the ARN's six fields
//!   with `arn` and an empty region literal; user patterns hold no `:`;
//!   profile patterns each match at least one profile;
//! - `max_duration` is only allowed on allow rules.
//!
//! Matching: a rule matches when every present condition matches; a present
//! list matches when any element matches. `principals` (from the resource
//! field on) and `users` match names ignoring ASCII case; accounts,
//! partitions, services and profiles match exactly. A root caller matches an
//! **allow** rule only when the rule names root (`principal_types: [root]` or
//! a principal pattern whose resource is literally `root`, in any case). Deny
//! rules apply to root like to anyone, so a freeze rule at the top freezes
//! root too.

use std::fmt;
use std::sync::Arc;

use jiff::Timestamp;

use sha2::{Digest, Sha256};

use super::approval::{ApprovalSpec, BreakGlassSpec, MAX_BREAK_GLASS_SECONDS};
use super::duration::{format_seconds, parse_session_duration};
use super::glob::Glob;
use super::model::{RawEffect, RawPrincipalType, RawRule};
use super::patterns::{
    check_rule_name, compile_principal, compile_profile_pattern, compile_user_pattern,
    ARN_NAME_FIELD,
};
use super::profile::is_account_id;
use super::window::TimeWindow;
use crate::identity::{Identity, PrincipalType};

/// Longest rule name accepted (names go to logs).
pub const MAX_RULE_NAME_LEN: usize = 128;

/// Longest list in one condition; a sanity bound on policy size.
pub const MAX_CONDITION_ITEMS: usize = 1_000;

/// What a rule does when it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    /// Grant the profile.
    Allow,
    /// Refuse.
    Deny,
    /// Grant only under a grant approved by others (DESIGN §12).
    RequireApproval,
    /// Grant at once to a vend that carries a reason, and notify (DESIGN §12).
    BreakGlass,
}

impl Effect {
    /// `"allow"` or `"deny"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "allow",
            Effect::Deny => "deny",
            Effect::RequireApproval => "require_approval",
            Effect::BreakGlass => "break_glass",
        }
    }

    /// Whether the rule can hand out credentials (and so must pin an account).
    pub fn grants(self) -> bool {
        self != Effect::Deny
    }
}

/// The condition of a rule that did not match (for `explain`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Condition {
    /// The caller is root and this allow rule does not name root.
    RootNotNamed,
    /// `accounts`.
    Accounts,
    /// `principal_types`.
    PrincipalTypes,
    /// `principals`.
    Principals,
    /// `users`.
    Users,
    /// `profiles`.
    Profiles,
    /// `time`.
    Time,
}

impl Condition {
    /// The policy key (or a short phrase for the root guard).
    pub fn as_str(self) -> &'static str {
        match self {
            Condition::RootNotNamed => "root not named",
            Condition::Accounts => "accounts",
            Condition::PrincipalTypes => "principal_types",
            Condition::Principals => "principals",
            Condition::Users => "users",
            Condition::Profiles => "profiles",
            Condition::Time => "time",
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    name: Arc<str>,
    effect: Effect,
    accounts: Option<Vec<String>>,
    principal_types: Option<Vec<PrincipalType>>,
    principals: Option<Vec<Glob>>,
    users: Option<Vec<Glob>>,
    profiles: Option<Vec<Glob>>,
    time: Option<TimeWindow>,
    max_duration_seconds: Option<u32>,
    names_root: bool,
    approval: Option<ApprovalSpec>,
    break_glass: Option<BreakGlassSpec>,
    /// SHA-256 (hex) of the rule as written, so a grant can tell that the
    /// rule it was approved under has not changed since.
    digest: Arc<str>,
}

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

    /// Tests this rule; `Err` names the first condition (in the order of
    /// [`Condition`]) that did not match.
    pub(crate) fn check(
        &self,
        who: &Identity,
        profile: &str,
        at: Timestamp,
    ) -> Result<(), Condition> {
        if self.effect.grants() && who.principal_type() == PrincipalType::Root && !self.names_root {
            return Err(Condition::RootNotNamed);
        }
        if let Some(accounts) = &self.accounts {
            let account = who.account().as_str();
            if !accounts.iter().any(|a| a == account) {
                return Err(Condition::Accounts);
            }
        }
        if let Some(types) = &self.principal_types {
            if !types.contains(&who.principal_type()) {
                return Err(Condition::PrincipalTypes);
            }
        }
        if let Some(globs) = &self.principals {
            let (arn, canonical) = (who.arn().as_str(), who.canonical_principal());
            if !globs.iter().any(|g| g.matches(arn) || g.matches(canonical)) {
                return Err(Condition::Principals);
            }
        }
        if let Some(globs) = &self.users {
            if !globs.iter().any(|g| g.matches(who.username())) {
                return Err(Condition::Users);
            }
        }
        if let Some(globs) = &self.profiles {
            if !globs.iter().any(|g| g.matches(profile)) {
                return Err(Condition::Profiles);
            }
        }
        if let Some(window) = &self.time {
            if !window.contains(at) {
                return Err(Condition::Time);
            }
        }
        Ok(())
    }

    /// The rule's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn shared_name(&self) -> Arc<str> {
        Arc::clone(&self.name)
    }

    /// The rule's effect.
    pub fn effect(&self) -> Effect {
        self.effect
    }

    /// The `require_approval` parameters, for such a rule.
    pub fn approval(&self) -> Option<&ApprovalSpec> {
        self.approval.as_ref()
    }

    /// The `break_glass` parameters, for such a rule.
    pub fn break_glass(&self) -> Option<&BreakGlassSpec> {
        self.break_glass.as_ref()
    }

    /// SHA-256 (hex) of the rule as written; a grant stores it.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// The rule's cap on session length, in seconds, if it sets one.
    pub fn max_duration_seconds(&self) -> Option<u32> {
        self.max_duration_seconds
    }

    /// Whether the rule's `profiles` condition admits `profile` (a rule
    /// without one admits every profile).
    pub fn admits_profile(&self, profile: &str) -> bool {
        match &self.profiles {
            Some(globs) => globs.iter().any(|g| g.matches(profile)),
            None => true,
        }
    }

    /// The accounts the rule names, if it has an `accounts` condition.
    pub fn accounts(&self) -> Option<&[String]> {
        self.accounts.as_deref()
    }

    /// The principal patterns as written, if the rule has a `principals` condition.
    pub fn principal_patterns(&self) -> Option<Vec<&str>> {
        self.principals
            .as_ref()
            .map(|g| g.iter().map(Glob::as_str).collect())
    }

    /// Advice for `tvm policy check`: conditions that are legal but rest on a
    /// name the caller chooses (a role session name), so they protect less than
    /// they seem to.
    pub fn warnings(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        fn people<'a>(mut patterns: impl Iterator<Item = &'a str>) -> bool {
            patterns.any(super::approval::pattern_admits_roles)
        }
        if matches!(self.effect, Effect::RequireApproval | Effect::BreakGlass) {
            let requesters = self.principals.iter().flatten().map(Glob::as_str);
            if self.principals.is_none() || people(requesters) {
                out.push(
                    "requesters may include role sessions that are not people (IAM users or \
                     AWSReservedSSO_* sessions); such callers are refused at run time",
                );
            }
        }
        if let Some(a) = &self.approval {
            if people(a.approvers.principal_patterns()) {
                out.push(
                    "approvers may include role sessions that are not people (IAM users or \
                     AWSReservedSSO_* sessions); such callers are refused at run time",
                );
            }
        }
        if self.users.is_some() && self.principals.is_none() {
            out.push(match self.effect {
                Effect::Allow | Effect::RequireApproval | Effect::BreakGlass => {
                    "matches `users` without `principals`: for role sessions the username \
                     is the session name, chosen by whoever assumed the role; bind the roles \
                     in `principals` too"
                }
                Effect::Deny => {
                    "denies by `users` without `principals`: a role session can be assumed \
                     again under another name; deny the principal instead"
                }
            });
        }
        out
    }

    /// One line describing the conditions, for `tvm policy check`.
    pub fn describe(&self) -> String {
        let mut parts = vec![self.effect.as_str().to_owned()];
        let globs = |g: &[Glob]| g.iter().map(Glob::as_str).collect::<Vec<_>>().join(", ");
        if let Some(a) = &self.accounts {
            parts.push(format!("accounts [{}]", a.join(", ")));
        }
        if let Some(t) = &self.principal_types {
            let t: Vec<&str> = t.iter().map(|t| t.as_str()).collect();
            parts.push(format!("principal_types [{}]", t.join(", ")));
        }
        if let Some(g) = &self.principals {
            parts.push(format!("principals [{}]", globs(g)));
        }
        if let Some(g) = &self.users {
            parts.push(format!("users [{}]", globs(g)));
        }
        if let Some(g) = &self.profiles {
            parts.push(format!("profiles [{}]", globs(g)));
        }
        if let Some(w) = &self.time {
            parts.push(format!("time {}", w.describe()));
        }
        if let Some(m) = self.max_duration_seconds {
            parts.push(format!("max_duration {}", format_seconds(m)));
        }
        if let Some(a) = &self.approval {
            parts.push(a.describe());
        }
        if let Some(b) = &self.break_glass {
            parts.push(format!("reason_min_length {}", b.reason_min_length));
        }
        parts.join("; ")
    }
}
