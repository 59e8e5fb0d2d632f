//! Whose fault a [`VendError`] is, and the reason its request's one log line
//! names.
//!
//! Owns: [`VendError::reason`] (the stable, machine-readable reason of the
//! decision line and of the refusal lines of the other authenticated routes),
//! [`VendError::effect`] (`deny` or `error` on the decision line) and
//! [`VendError::is_server_fault`] (the level of that line).
//!
//! Invariants: a request writes one line, whatever refused it; a caller's
//! fault (a bad, expired or replayed token, a policy deny, a malformed body, a
//! rate limit) is not a server warning and is logged at INFO; only a fault of
//! tvm or its upstreams (STS failing or throttling, the replay store or shared
//! rate limits lost, the STS call cap full, unusable credentials) is a WARN, so
//! an operator's alert on warnings fires on outages, not on callers' mistakes.

use super::outcome::VendError;
use crate::auth::VerifyErrorKind;

impl VendError {
    /// The reason the request's log line names: the verifier's own reason for a
    /// refused proof (`bad_signature`, `replayed`, …), else a fixed label per
    /// variant. The decision line may name a finer one it learnt on the way
    /// (the rule's reason of a deny, the bucket of a rate limit).
    pub fn reason(&self) -> &'static str {
        match self {
            VendError::BadRequest(_) => "bad_request",
            VendError::BadDuration(_) => "bad_duration",
            VendError::TooLarge => "payload_too_large",
            VendError::RateLimited(_) => "rate_limited",
            VendError::Verify(v) => v.reason(),
            VendError::Denied => "denied",
            VendError::Revoked(reason) => reason,
            VendError::ApprovalRequired => "approval_required",
            VendError::UnboundToken => "token_binds_no_request",
            VendError::Sts(e) => e.outcome(),
            VendError::Credentials(_) => "bad_credentials",
            VendError::Unavailable(reason) => reason,
            VendError::Ledger => "ledger_error",
        }
    }

    /// The decision line's `effect`: `error` when AssumeRole or a dependency
    /// failed after the request was found acceptable so far, else `deny`.
    pub fn effect(&self) -> &'static str {
        match self {
            VendError::Sts(_)
            | VendError::Credentials(_)
            | VendError::Unavailable(_)
            | VendError::Ledger => "error",
            _ => "deny",
        }
    }

    /// Whether tvm or an upstream failed (logged at WARN) rather than the
    /// caller (logged at INFO).
    pub fn is_server_fault(&self) -> bool {
        match self {
            VendError::Verify(v) => matches!(
                v.kind(),
                VerifyErrorKind::Throttled
                    | VerifyErrorKind::StsError
                    | VerifyErrorKind::Unavailable
            ),
            VendError::Sts(_)
            | VendError::Credentials(_)
            | VendError::Unavailable(_)
            | VendError::Ledger => true,
            VendError::BadRequest(_)
            | VendError::Revoked(_)
            | VendError::BadDuration(_)
            | VendError::TooLarge
            | VendError::RateLimited(_)
            | VendError::Denied
            | VendError::ApprovalRequired
            | VendError::UnboundToken => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::auth::VerifyError;
    use crate::sts::StsError;

    #[test]
    fn caller_faults_are_not_server_faults() {
        for e in [
            VendError::Verify(VerifyError::BadSignature),
            VendError::Verify(VerifyError::MissingToken),
            VendError::Verify(VerifyError::Replayed),
            VendError::Verify(VerifyError::TokenExpired),
            VendError::Verify(VerifyError::StsRejected {
                status: 403,
                code: None,
            }),
            VendError::BadRequest("x"),
            VendError::BadDuration("x".into()),
            VendError::TooLarge,
            VendError::RateLimited(Duration::from_secs(1)),
            VendError::Denied,
            VendError::ApprovalRequired,
            VendError::UnboundToken,
            VendError::Revoked("suspended"),
        ] {
            assert!(!e.is_server_fault(), "{e}");
            assert_eq!(e.effect(), "deny", "{e}");
        }
    }

    #[test]
    fn upstream_and_own_failures_are_server_faults() {
        for e in [
            VendError::Verify(VerifyError::StsUnavailable("timeout".into())),
            VendError::Verify(VerifyError::StsThrottled { status: 429 }),
            VendError::Verify(VerifyError::ReplayStoreUnavailable),
            VendError::Verify(VerifyError::ReplayCacheFull),
            VendError::Sts(StsError::Unavailable("down".into())),
            VendError::Credentials("empty".into()),
            VendError::Unavailable("sts_busy"),
            VendError::Ledger,
        ] {
            assert!(e.is_server_fault(), "{e}");
        }
    }

    #[test]
    fn a_refused_proof_names_the_verifiers_reason() {
        assert_eq!(
            VendError::Verify(VerifyError::BadSignature).reason(),
            VerifyError::BadSignature.reason()
        );
        assert_eq!(VendError::Unavailable("sts_busy").reason(), "sts_busy");
    }
}
