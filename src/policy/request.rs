//! What a caller asks the policy for: a [`VendRequest`] of one [`VendKind`].
//!
//! Invariant: every field is untrusted input; the policy validates the
//! profile name and the duration, and the kind only selects which rules take
//! part (DESIGN §12).

use super::rule::Effect;

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
