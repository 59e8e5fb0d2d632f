//! Rules: compiled conditions and the test of one rule against one request.
//!
//! Owns: [`Rule`], its load-time validation, and [`Rule::check`].
//!
//! Invariants (all enforced at load):
//! - names are unique (checked by `load`) and 1..=`MAX_RULE_NAME_LEN` of
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

use super::approval::{ApprovalSpec, BreakGlassSpec};
use super::duration::format_seconds;
use super::glob::Glob;
use super::window::TimeWindow;
use crate::identity::{Identity, PrincipalType};

mod compile;

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

impl Rule {
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
