//! Evaluation: the pure function from (policy, caller, request, time) to a
//! [`Decision`], and its traced twin [`Explanation`].
//!
//! Owns: first-match-wins evaluation, default deny, duration capping.
//!
//! Invariants:
//! - `evaluate` and `explain` run the same code (`run`), so an explanation
//!   always agrees with the decision;
//! - no match, a deny rule, and an unknown profile all give
//!   [`Outcome::Deny`]; only [`Reason`] (for logs) tells them apart;
//! - [`Outcome::InvalidDuration`] is only reported to a caller an allow rule
//!   matched, so it leaks nothing to a denied caller; a granted duration is
//!   always within `15m..=min(profile max, rule max)`;
//! - no I/O, no clock reads, no allocation beyond the decision itself.

use std::fmt;
use std::sync::Arc;

use jiff::Timestamp;

use super::duration::{format_seconds, MIN_SESSION_SECONDS};
use super::profile::{Profile, MAX_PROFILE_NAME_LEN};
use super::request::{VendKind, VendRequest};
use super::rule::{Condition, Effect, Rule};
use super::Policy;
use crate::auth::VerifiedCaller;
use crate::identity::Identity;

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
    fn deny(rule: Option<MatchedRule>, reason: Reason) -> Self {
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

impl Policy {
    /// The evaluation itself; `trace` collects steps for `explain`.
    pub(super) fn run(
        &self,
        who: &Identity,
        request: &VendRequest<'_>,
        at: Timestamp,
        mut trace: Option<&mut Vec<RuleStep>>,
    ) -> Decision {
        let profile = if request.profile.len() <= MAX_PROFILE_NAME_LEN {
            self.profile_arc(request.profile)
        } else {
            None
        };
        let Some(profile) = profile else {
            return Decision::deny(None, Reason::UnknownProfile);
        };
        for (index, rule) in self.rules.iter().enumerate() {
            if !request.kind.meets(rule.effect()) {
                continue;
            }
            let result = rule.check(who, request.profile, at);
            if let Some(steps) = trace.as_deref_mut() {
                steps.push(RuleStep {
                    index,
                    name: rule.shared_name(),
                    effect: rule.effect(),
                    failed: result.err(),
                });
            }
            if result.is_ok() {
                return decide(rule, index, profile, request);
            }
        }
        Decision::deny(None, Reason::NoMatchingRule)
    }
}

/// The decision once `rule` matched.
fn decide(
    rule: &Rule,
    index: usize,
    profile: &Arc<Profile>,
    request: &VendRequest<'_>,
) -> Decision {
    let requested = request.duration_seconds;
    let matched = Some(MatchedRule {
        index,
        name: rule.shared_name(),
    });
    let reason = match (rule.effect(), request.kind) {
        (Effect::Deny, _) => return Decision::deny(matched, Reason::DeniedByRule),
        (Effect::RequireApproval, VendKind::Plain) => {
            return Decision {
                outcome: Outcome::ApprovalRequired,
                rule: matched,
                reason: Reason::ApprovalRequired,
            }
        }
        (Effect::RequireApproval, _) => Reason::ApprovalRule,
        (Effect::BreakGlass, _) => Reason::BreakGlassRule,
        (Effect::Allow, _) => Reason::AllowedByRule,
    };
    let max = rule
        .max_duration_seconds()
        .map_or(profile.max_duration_seconds, |m| {
            m.min(profile.max_duration_seconds)
        });
    let default = profile.default_duration_seconds.min(max);
    let outcome = match requested {
        None => Outcome::Allow(Grant {
            profile: Arc::clone(profile),
            duration_seconds: default,
            max_duration_seconds: max,
        }),
        Some(d) if (MIN_SESSION_SECONDS..=max).contains(&d) => Outcome::Allow(Grant {
            profile: Arc::clone(profile),
            duration_seconds: d,
            max_duration_seconds: max,
        }),
        Some(d) => {
            return Decision {
                outcome: Outcome::InvalidDuration {
                    requested_seconds: d,
                    min_seconds: MIN_SESSION_SECONDS,
                    max_seconds: max,
                },
                rule: matched,
                reason: Reason::DurationOutOfRange,
            }
        }
    };
    Decision {
        outcome,
        rule: matched,
        reason,
    }
}

impl Policy {
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
}
