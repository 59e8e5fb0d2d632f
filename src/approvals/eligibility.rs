//! Who may see and who may decide a request (DESIGN §12).
//!
//! Invariants: only people act ([`Actor::is_person`]); an approver must match
//! the approvers of the request's rule in the policy being served *now* (a
//! reload that removes an approver takes the right away at once); the
//! requester never approves their own request, nor through another identity
//! of the same person (the same-person rule, [`Actor::same_person`]); a
//! request a caller may not see answers exactly like a missing one.

use super::service::Approvals;
use super::stored::Stored;
use super::Actor;
use crate::policy::{Effect, Policy, Rule};

impl Approvals {
    /// Whether any rule's approvers match `actor` (who may use the web page).
    pub fn is_approver(&self, actor: &Actor) -> bool {
        actor.is_person()
            && self
                .policy
                .current()
                .rules()
                .iter()
                .filter_map(Rule::approval)
                .any(|a| a.approvers.matches(actor.identity()))
    }

    /// Whether `actor` matches the approvers of `req`'s rule in the policy
    /// being served (and is a person).
    pub(super) fn is_listed_approver(&self, policy: &Policy, actor: &Actor, req: &Stored) -> bool {
        actor.is_person()
            && policy
                .rules()
                .iter()
                .find(|r| r.name() == req.rule_name && r.effect() == Effect::RequireApproval)
                .and_then(Rule::approval)
                .is_some_and(|a| a.approvers.matches(actor.identity()))
    }

    /// Whether `actor` may approve `req`: a listed approver who is not the
    /// requester (neither the same principal nor the same person).
    pub(super) fn may_approve(&self, policy: &Policy, actor: &Actor, req: &Stored) -> bool {
        self.is_listed_approver(policy, actor, req)
            && !actor.same_person(&req.requester_canonical, &req.requester_username)
    }

    /// Whether `actor` may see `req` at all (others get 404, as for a
    /// missing request).
    pub(super) fn may_see(&self, policy: &Policy, actor: &Actor, req: &Stored) -> bool {
        actor.arn() == req.requester_arn || self.is_listed_approver(policy, actor, req)
    }
}
