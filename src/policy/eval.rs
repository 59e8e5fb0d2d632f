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

use std::sync::Arc;

use jiff::Timestamp;

use super::decision::{
    AllowedProfile, Decision, Explanation, Grant, MatchedRule, Outcome, ProfileKind, Reason,
    RuleStep,
};
use super::duration::MIN_SESSION_SECONDS;
use super::profile::{Profile, MAX_PROFILE_NAME_LEN};
use super::request::{VendKind, VendRequest};
use super::rule::{Effect, Rule};
use super::Policy;
use crate::auth::VerifiedCaller;
use crate::identity::Identity;

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
