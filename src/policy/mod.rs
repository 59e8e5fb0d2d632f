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
//! Layout: `model` (serde shape) → `load` (validation, compilation) →
//! `profile`, `rule` (with `patterns`, `glob`, `window`, `tags`, `duration`) → `eval`
//! (decisions and explanations); `locate` maps the key path of a load error
//! back to a line and column of the source.

mod approval;
mod duration;
mod eval;
mod glob;
mod load;
mod locate;
mod model;
mod patterns;
mod profile;
mod rule;
mod tags;
mod window;

#[cfg(test)]
mod tests;
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

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::Timestamp;
use thiserror::Error;

use crate::auth::VerifiedCaller;
use crate::identity::Identity;

pub use approval::{
    ApprovalSpec, Approvers, BreakGlassSpec, DEFAULT_GRANT_SECONDS, DEFAULT_REASON_MIN_LENGTH,
    MAX_APPROVALS_NEEDED, MAX_BREAK_GLASS_SECONDS, MAX_REASON_CHARS,
};
pub use duration::{
    DEFAULT_DEFAULT_SECONDS, DEFAULT_MAX_SECONDS, MAX_SESSION_SECONDS, MIN_SESSION_SECONDS,
};
pub use eval::{
    AllowedProfile, Decision, Explanation, Grant, MatchedRule, Outcome, ProfileKind, Reason,
    RuleStep,
};
pub use load::{MAX_POLICY_BYTES, MAX_PROFILES, MAX_RULES};
/// The profile-name rule, shared with the client, which holds a server's answers to it.
pub(crate) use profile::check_profile_name;
pub use profile::{Profile, MAX_PROFILE_NAME_LEN, MAX_SESSION_POLICY_BYTES};
pub use rule::{Condition, Effect, Rule, MAX_CONDITION_ITEMS, MAX_RULE_NAME_LEN};
pub use tags::{TagContext, TagError, MAX_SESSION_TAGS, MAX_TAG_KEY_CHARS, MAX_TAG_VALUE_CHARS};
pub use window::{Day, TimeWindow};

/// A loaded, validated policy.
#[derive(Debug)]
pub struct Policy {
    /// Profiles in file order.
    profiles: Vec<Arc<Profile>>,
    /// Profile name to index in `profiles`.
    by_name: HashMap<String, usize>,
    /// Rules in file order; the first match wins.
    rules: Vec<Rule>,
}

/// What the caller asks for (the `/vend` body).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VendRequest<'a> {
    /// The profile name, as sent (untrusted).
    pub profile: &'a str,
    /// The requested session length in seconds, if any (untrusted).
    pub duration_seconds: Option<u32>,
    /// Which rules the request meets (DESIGN §12).
    pub kind: VendKind,
}

/// The three kinds of vend (DESIGN §12); each meets its own rules, first match
/// still winning among them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VendKind {
    /// No `approval_id`, no `reason`: meets allow, deny and require_approval
    /// (the last answers "approval required").
    #[default]
    Plain,
    /// With an `approval_id` (or a new request): meets deny and require_approval.
    Approval,
    /// With a `reason`: meets deny and break_glass.
    BreakGlass,
}

impl VendKind {
    /// Whether a rule of `effect` takes part in this kind of evaluation.
    pub fn meets(self, effect: Effect) -> bool {
        matches!(
            (self, effect),
            (_, Effect::Deny)
                | (VendKind::Plain, Effect::Allow | Effect::RequireApproval)
                | (VendKind::Approval, Effect::RequireApproval)
                | (VendKind::BreakGlass, Effect::BreakGlass)
        )
    }

    /// `"plain"`, `"approval"` or `"break_glass"`, for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            VendKind::Plain => "plain",
            VendKind::Approval => "approval",
            VendKind::BreakGlass => "break_glass",
        }
    }
}

/// Why a policy could not be loaded.
#[derive(Debug, Error)]
pub enum PolicyError {
    /// The YAML did not parse or did not fit the schema (unknown key, wrong
    /// type, duplicate key, missing field).
    #[error("policy: {message} (at {path})")]
    Yaml {
        /// Key path, e.g. `rules[3].principals[0]` (`.` for the document).
        path: String,
        /// 1-based line, when the parser knows it.
        line: Option<usize>,
        /// 1-based column, when the parser knows it.
        column: Option<usize>,
        /// The parser's message (includes the location when known).
        message: String,
    },
    /// The YAML parsed but a value is not acceptable.
    #[error("policy: {path}: {message}")]
    Invalid {
        /// Key path, e.g. `rules[3].principals[0]` or `profiles.prod-admin.role_arn`.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The file could not be read.
    #[error("policy: cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

impl PolicyError {
    /// The key path the error refers to, if any.
    pub fn path(&self) -> Option<&str> {
        match self {
            PolicyError::Yaml { path, .. } | PolicyError::Invalid { path, .. } => Some(path),
            PolicyError::Io { .. } => None,
        }
    }

    /// The 1-based line and column of the error in `text`, the policy source
    /// it came from: the parser's for [`PolicyError::Yaml`], a best-effort
    /// lookup of the key path for [`PolicyError::Invalid`] (`None` when the
    /// lookup is unsure, never a wrong place; see `locate.rs`).
    pub fn location(&self, text: &str) -> Option<(usize, usize)> {
        match self {
            PolicyError::Yaml { line, column, .. } => line.zip(*column),
            PolicyError::Invalid { path, .. } => locate::locate(text, path),
            PolicyError::Io { .. } => None,
        }
    }
}

impl Policy {
    /// Parses and validates policy text.
    pub fn from_yaml(text: &str) -> Result<Policy, PolicyError> {
        load::from_yaml(text)
    }

    /// Reads, parses and validates a policy file (at most [`MAX_POLICY_BYTES`]).
    pub fn load(path: &Path) -> Result<Policy, PolicyError> {
        Policy::from_yaml(&Policy::read_source(path)?)
    }

    /// Reads a policy file's text, bounded like [`Policy::load`], for callers
    /// that also want [`PolicyError::location`].
    pub fn read_source(path: &Path) -> Result<String, PolicyError> {
        load::read_file(path)
    }

    /// Decides a vend request of a verified caller at instant `at`.
    pub fn evaluate(
        &self,
        caller: &VerifiedCaller,
        request: &VendRequest<'_>,
        at: Timestamp,
    ) -> Decision {
        self.evaluate_identity(caller.identity(), request, at)
    }

    /// Decides a vend request for an identity (for the CLI and tests; the
    /// service uses [`Policy::evaluate`]).
    pub fn evaluate_identity(
        &self,
        identity: &Identity,
        request: &VendRequest<'_>,
        at: Timestamp,
    ) -> Decision {
        self.run(identity, request, at, None)
    }

    /// Like [`Policy::evaluate_identity`], with the outcome of every rule up
    /// to and including the match (for `tvm policy eval`).
    pub fn explain(
        &self,
        identity: &Identity,
        request: &VendRequest<'_>,
        at: Timestamp,
    ) -> Explanation {
        let mut steps = Vec::new();
        let decision = self.run(identity, request, at, Some(&mut steps));
        Explanation { steps, decision }
    }

    /// The profiles this caller would be granted at `at` (without a requested
    /// duration), in file order, with their effective durations.
    pub fn allowed_profiles(&self, caller: &VerifiedCaller, at: Timestamp) -> Vec<AllowedProfile> {
        self.allowed_profiles_for(caller.identity(), at)
    }

    /// [`Policy::allowed_profiles`] for an identity (CLI and tests): each
    /// profile the caller could get now, directly, under a grant, or by
    /// break-glass (DESIGN §6 `Kind`), the first of these that applies.
    pub fn allowed_profiles_for(&self, identity: &Identity, at: Timestamp) -> Vec<AllowedProfile> {
        self.profiles
            .iter()
            .filter_map(|p| {
                let request = |kind| VendRequest {
                    profile: &p.name,
                    duration_seconds: None,
                    kind,
                };
                let mut decision = self.run(identity, &request(VendKind::Plain), at, None);
                let mut kind = ProfileKind::Direct;
                if matches!(decision.outcome, Outcome::ApprovalRequired) {
                    decision = self.run(identity, &request(VendKind::Approval), at, None);
                    kind = ProfileKind::Approval;
                } else if !decision.is_allowed() {
                    decision = self.run(identity, &request(VendKind::BreakGlass), at, None);
                    kind = ProfileKind::BreakGlass;
                }
                let rule = decision.rule?;
                match decision.outcome {
                    Outcome::Allow(g) => Some(AllowedProfile {
                        profile: g.profile,
                        max_duration_seconds: g.max_duration_seconds,
                        default_duration_seconds: g.duration_seconds,
                        rule,
                        kind,
                    }),
                    _ => None,
                }
            })
            .collect()
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
