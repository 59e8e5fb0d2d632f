//! What evaluation answers: a [`Decision`] (outcome, matched rule, reason),
//! the traced [`Explanation`] of `tvm policy eval`, and the profiles a caller
//! could get now ([`AllowedProfile`]).
//!
//! Invariant: a [`Decision`] is allowed only with an [`Outcome::Allow`] grant;
//! every other outcome, unknown profiles included, reads as a deny to callers
//! and differs only in its [`Reason`], for logs.

use std::fmt;
use std::sync::Arc;

use super::duration::format_seconds;
use super::profile::Profile;
use super::rule::{Condition, Effect};

/// The rule that decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchedRule {
    /// Position in `rules` (0-based).
    pub index: usize,
    /// The rule's name.
    pub name: Arc<str>,
}

/// Why the decision came out as it did; for logs, never for callers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// An allow rule matched.
    AllowedByRule,
    /// A deny rule matched.
    DeniedByRule,
    /// No rule matched (default deny).
    NoMatchingRule,
    /// The requested profile does not exist.
    UnknownProfile,
    /// An allow rule matched but the requested duration is outside
    /// `15m..=effective max`.
    DurationOutOfRange,
    /// A plain vend met a `require_approval` rule.
    ApprovalRequired,
    /// A `require_approval` rule matched a vend with an approval id or a new
    /// request (the grant is checked by the approvals service).
    ApprovalRule,
    /// A `break_glass` rule matched a vend with a reason.
    BreakGlassRule,
}

impl Reason {
    /// A stable snake_case name for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::AllowedByRule => "allowed_by_rule",
            Reason::DeniedByRule => "denied_by_rule",
            Reason::NoMatchingRule => "no_matching_rule",
            Reason::UnknownProfile => "unknown_profile",
            Reason::DurationOutOfRange => "duration_out_of_range",
            Reason::ApprovalRequired => "approval_required",
            Reason::ApprovalRule => "approval_rule",
            Reason::BreakGlassRule => "break_glass_rule",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What tvm may do for an allowed request.
#[derive(Debug, Clone)]
pub struct Grant {
    /// The profile to vend.
    pub profile: Arc<Profile>,
    /// The session length to ask STS for, in seconds.
    pub duration_seconds: u32,
    /// The effective maximum (profile max capped by the rule), in seconds.
    pub max_duration_seconds: u32,
}

/// The outcome of a decision.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Vend the grant.
    Allow(Grant),
    /// The caller may have the profile, but not for the requested duration
    /// (HTTP 400 `INVALID_DURATION`). Nothing may be vended.
    InvalidDuration {
        /// What the caller asked for, in seconds.
        requested_seconds: u32,
        /// The shortest acceptable duration (STS minimum).
        min_seconds: u32,
        /// The longest acceptable duration (effective max).
        max_seconds: u32,
    },
    /// A plain vend met a `require_approval` rule (HTTP 403
    /// `APPROVAL_REQUIRED`): the caller may ask for a grant.
    ApprovalRequired,
    /// Refuse (HTTP 403 `POLICY_DENY`), whatever the reason.
    Deny,
}

impl Outcome {
    /// `"allow"`, `"invalid_duration"` or `"deny"`, for logs.
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Allow(_) => "allow",
            Outcome::InvalidDuration { .. } => "invalid_duration",
            Outcome::ApprovalRequired => "approval_required",
            Outcome::Deny => "deny",
        }
    }
}

/// The result of evaluating one request.
#[derive(Debug, Clone)]
pub struct Decision {
    /// What to do.
    pub outcome: Outcome,
    /// The rule that matched, if any (also set for a deny rule).
    pub rule: Option<MatchedRule>,
    /// Why, for logs.
    pub reason: Reason,
}

impl Decision {
    pub(super) fn deny(rule: Option<MatchedRule>, reason: Reason) -> Self {
        Self {
            outcome: Outcome::Deny,
            rule,
            reason,
        }
    }

    /// Whether credentials may be vended.
    pub fn is_allowed(&self) -> bool {
        matches!(self.outcome, Outcome::Allow(_))
    }

    /// The grant, when allowed.
    pub fn grant(&self) -> Option<&Grant> {
        match &self.outcome {
            Outcome::Allow(g) => Some(g),
            _ => None,
        }
    }

    /// `Allow` only when credentials may be vended; `Deny` otherwise.
    pub fn effect(&self) -> Effect {
        if self.is_allowed() {
            Effect::Allow
        } else {
            Effect::Deny
        }
    }
}

/// One rule visited by [`Policy::explain`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleStep {
    /// Position in `rules`.
    pub index: usize,
    /// The rule's name.
    pub name: Arc<str>,
    /// The rule's effect.
    pub effect: Effect,
    /// `None` when the rule matched; otherwise the first condition that failed.
    pub failed: Option<Condition>,
}

/// A decision with the trace of every rule visited (up to the match).
#[derive(Debug, Clone)]
pub struct Explanation {
    /// The rules visited, in order; the last one matched if `decision.rule` is set.
    pub steps: Vec<RuleStep>,
    /// The decision, identical to what `evaluate` returns.
    pub decision: Decision,
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for s in &self.steps {
            match s.failed {
                None => writeln!(
                    f,
                    "rule {} {:?} ({}): matched",
                    s.index,
                    &*s.name,
                    s.effect.as_str()
                )?,
                Some(c) => writeln!(
                    f,
                    "rule {} {:?} ({}): no match ({c})",
                    s.index,
                    &*s.name,
                    s.effect.as_str()
                )?,
            }
        }
        let d = &self.decision;
        match &d.outcome {
            Outcome::Allow(g) => write!(
                f,
                "decision: allow profile {:?} for {} (max {})",
                g.profile.name,
                format_seconds(g.duration_seconds),
                format_seconds(g.max_duration_seconds)
            )?,
            Outcome::InvalidDuration {
                requested_seconds,
                min_seconds,
                max_seconds,
            } => write!(
                f,
                "decision: invalid duration {requested_seconds}s (allowed {min_seconds}..={max_seconds}s)"
            )?,
            Outcome::ApprovalRequired => write!(
                f,
                "decision: approval required (POST /requests, then vend with the approval_id)"
            )?,
            Outcome::Deny => write!(f, "decision: deny")?,
        }
        write!(f, " [{}]", d.reason)
    }
}

/// A profile the caller could be granted now, for `GET /profiles`.
#[derive(Debug, Clone)]
pub struct AllowedProfile {
    /// The profile.
    pub profile: Arc<Profile>,
    /// Longest session the caller could get, in seconds.
    pub max_duration_seconds: u32,
    /// Session length when the caller does not ask for one, in seconds.
    pub default_duration_seconds: u32,
    /// The rule that grants it.
    pub rule: MatchedRule,
    /// How it is granted.
    pub kind: ProfileKind,
}

/// How a listed profile is granted (`Kind` of `GET /profiles`, DESIGN §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileKind {
    /// Vended at once.
    Direct,
    /// Needs a grant (`POST /requests`).
    Approval,
    /// Vended with a reason, and notified.
    BreakGlass,
}

impl ProfileKind {
    /// `direct`, `approval` or `break_glass`.
    pub fn as_str(self) -> &'static str {
        match self {
            ProfileKind::Direct => "direct",
            ProfileKind::Approval => "approval",
            ProfileKind::BreakGlass => "break_glass",
        }
    }
}
