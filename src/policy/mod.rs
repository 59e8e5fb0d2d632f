//! The policy engine: which verified caller may have which profile, when, and
//! for how long (DESIGN §5).
//!
//! Owns: the policy file format (`version: 1`, `profiles`, ordered `rules`),
//! its validation at load, and evaluation.
//!
//! Invariants:
//! - a [`Policy`] is immutable once loaded (`Send + Sync`, share it in an
//!   `Arc` and swap the `Arc` to reload); a file that fails validation never
//!   becomes a `Policy`;
//! - evaluation is a pure, synchronous function of (policy, caller, request,
//!   time): first matching rule wins, no match is a deny; no I/O, no clock;
//! - only a [`VerifiedCaller`] reaches [`Policy::evaluate`]; the identity-level
//!   entry points exist for the CLI (`tvm policy eval`) and tests;
//! - an unknown profile is an ordinary [`Outcome::Deny`]; only the
//!   [`Reason`] (for logs) differs, so the HTTP layer cannot leak which
//!   profiles exist;
//! - every allow pins the caller's account: an allow rule binds `accounts`, or
//!   principals whose account field is literal (see `rule.rs`);
//! - a granted duration never exceeds the profile's `max_duration` nor the
//!   rule's; a request above it is [`Outcome::InvalidDuration`], never a
//!   silent cap.
//!
//! Layout: `model` (serde shape) → `load` (validation, compilation, the
//! `Policy::load` family) →
//! `profile`, `rule` (with `patterns`, `glob`, `window`, `tags`, `duration`) → `eval`
//! (`Policy::evaluate` and friends: decisions and explanations, for a
//! `request`); `error` says why a load failed; `locate` maps the key path of a load error
//! back to a line and column of the source.

mod approval;
mod decision;
mod duration;
mod error;
mod eval;
mod glob;
mod load;
mod locate;
mod model;
mod patterns;
mod profile;
mod request;
mod rule;
mod tags;
mod window;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_admins;
#[cfg(test)]
mod tests_approval;
#[cfg(test)]
mod tests_decisions;
#[cfg(test)]
mod tests_load;
#[cfg(test)]
mod tests_locate;
#[cfg(test)]
mod tests_props;

use crate::identity::AccountId;
use std::collections::HashMap;
use std::sync::Arc;

pub use approval::{
    ApprovalSpec, Approvers, BreakGlassSpec, DEFAULT_GRANT_SECONDS, DEFAULT_REASON_MIN_LENGTH,
    MAX_APPROVALS_NEEDED, MAX_BREAK_GLASS_SECONDS, MAX_REASON_CHARS,
};
pub use decision::{
    AllowedProfile, Decision, Explanation, Grant, MatchedRule, Outcome, ProfileKind, Reason,
    RuleStep,
};
pub use duration::{
    DEFAULT_DEFAULT_SECONDS, DEFAULT_MAX_SECONDS, MAX_SESSION_SECONDS, MIN_SESSION_SECONDS,
};
pub use error::PolicyError;
pub use load::{MAX_POLICY_BYTES, MAX_PROFILES, MAX_RULES};
pub use model::Day;
pub use patterns::MAX_RULE_NAME_LEN;
/// The profile-name rule, shared with the client, which holds a server's answers to it.
pub(crate) use profile::check_profile_name;
pub use profile::{Profile, MAX_PROFILE_NAME_LEN, MAX_SESSION_POLICY_BYTES};
pub use request::{VendKind, VendRequest};
pub use rule::{Condition, Effect, Rule, MAX_CONDITION_ITEMS};
pub use tags::{TagContext, TagError, MAX_SESSION_TAGS, MAX_TAG_KEY_CHARS, MAX_TAG_VALUE_CHARS};
pub use window::TimeWindow;

/// A loaded, validated policy.
#[derive(Debug)]
pub struct Policy {
    /// Profiles in file order.
    profiles: Vec<Arc<Profile>>,
    /// Profile name to index in `profiles`.
    by_name: HashMap<String, usize>,
    /// Rules in file order; the first match wins.
    rules: Vec<Rule>,
    /// `sso_accounts`: where an `AWSReservedSSO_*` session names a person
    /// (DESIGN §13), in file order without duplicates.
    sso_accounts: Vec<AccountId>,
    /// `admins` (DESIGN §13): who may revoke anyone's sessions, revoke an
    /// identity or a caller key, lift, and read everything. `None`: nobody.
    admins: Option<Approvers>,
}

impl Policy {
    /// The accounts whose IAM Identity Center sessions name a person across
    /// permission sets (DESIGN §13's identity rules).
    pub fn sso_accounts(&self) -> &[AccountId] {
        &self.sso_accounts
    }

    /// Whether `who` is one of the policy's `admins` (DESIGN §13), matched
    /// like a rule's caller conditions (accounts, principals — the ARN or its
    /// canonical principal — and users). No `admins`: nobody is.
    pub fn is_admin(&self, who: &crate::identity::Identity) -> bool {
        self.admins.as_ref().is_some_and(|a| a.matches(who))
    }

    /// The `admins` block, if any (for `tvm policy check`).
    pub fn admins(&self) -> Option<&Approvers> {
        self.admins.as_ref()
    }

    /// Warnings `tvm policy check` prints about `admins`: role principals
    /// are allowed (security automation) but may not be people.
    pub fn admin_warnings(&self) -> Vec<&'static str> {
        match &self.admins {
            Some(a) if a.principal_patterns().any(approval::pattern_admits_roles) => vec![
                "admins may include role sessions (security automation is allowed); anyone \
                 able to assume such a role can revoke sessions and lift revocations",
            ],
            _ => Vec::new(),
        }
    }

    /// The rule at `index` (from a [`MatchedRule`]).
    pub fn rule(&self, index: usize) -> Option<&Rule> {
        self.rules.get(index)
    }

    /// Whether any rule is `break_glass` (such a policy needs a webhook for
    /// `break_glass.used`).
    pub fn has_break_glass(&self) -> bool {
        self.rules.iter().any(|r| r.effect() == Effect::BreakGlass)
    }

    /// Whether any rule needs the approvals database (`require_approval` or
    /// `break_glass`).
    pub fn needs_approvals(&self) -> bool {
        self.rules
            .iter()
            .any(|r| matches!(r.effect(), Effect::RequireApproval | Effect::BreakGlass))
    }

    /// The profile called `name`, if any.
    pub fn profile(&self, name: &str) -> Option<&Profile> {
        self.profile_arc(name).map(|p| &**p)
    }

    /// The shared handle of the profile called `name`, if any.
    pub fn profile_arc(&self, name: &str) -> Option<&Arc<Profile>> {
        self.by_name.get(name).and_then(|&i| self.profiles.get(i))
    }

    /// All profiles, in file order.
    pub fn profiles(&self) -> impl Iterator<Item = &Profile> {
        self.profiles.iter().map(|p| &**p)
    }

    /// All rules, in evaluation order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }
}
