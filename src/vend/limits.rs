//! The post-verification rate limits (DESIGN §1 "limit per caller"): after the
//! caller is verified and before policy and AssumeRole, one bucket per STS ARN
//! (one person's session) and a larger backstop per canonical principal (every
//! session of a role, e.g. one SSO permission set), so one AWS identity cannot
//! flood STS from many addresses, and one engineer cannot use up a whole role's
//! budget.
//!
//! Invariant: keys come only from a [`VerifiedCaller`], never from the request;
//! the buckets are the state backend's (shared by every replica with Redis).

use std::sync::Arc;

use crate::auth::VerifiedCaller;
use crate::config::ServerLimits;
use crate::state::{Backend, BucketScope, RateBuckets, RateError};

/// Which caller bucket refused (the `scope` of `tvm_rate_limited_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CallerScope {
    /// The STS ARN.
    Principal,
    /// The canonical principal (the role).
    Role,
}

impl CallerScope {
    pub(super) fn label(self) -> &'static str {
        match self {
            CallerScope::Principal => "principal",
            CallerScope::Role => "role",
        }
    }

    /// The decision line's reason.
    pub(super) fn reason(self) -> &'static str {
        match self {
            CallerScope::Principal => "rate_limited_principal",
            CallerScope::Role => "rate_limited_role",
        }
    }
}

/// Per-caller buckets; a `None` bucket is off.
#[derive(Debug, Clone, Default)]
pub struct CallerLimits {
    principal: Option<Arc<dyn RateBuckets>>,
    role: Option<Arc<dyn RateBuckets>>,
}

impl CallerLimits {
    /// Buckets in `backend`, sized by the config.
    pub fn new(backend: &Backend, limits: &ServerLimits) -> Self {
        Self {
            principal: backend.buckets(BucketScope::Principal, limits.caller_rate),
            role: backend.buckets(BucketScope::Role, limits.role_rate),
        }
    }

    /// In-memory buckets sized by the config.
    pub fn in_memory(limits: &ServerLimits) -> Self {
        Self::new(&Backend::in_memory(1_000), limits)
    }

    /// Charges `caller`'s session, then its role; the first refusal wins.
    pub(super) async fn check(
        &self,
        caller: &VerifiedCaller,
    ) -> Result<(), (CallerScope, RateError)> {
        let identity = caller.identity();
        if let Some(b) = &self.principal {
            b.take(identity.arn().as_str())
                .await
                .map_err(|e| (CallerScope::Principal, e))?;
        }
        if let Some(b) = &self.role {
            b.take(identity.canonical_principal())
                .await
                .map_err(|e| (CallerScope::Role, e))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RateLimit;
    use crate::identity::Identity;

    fn caller(arn: &str) -> VerifiedCaller {
        VerifiedCaller::for_tests(Identity::from_arn(arn).unwrap())
    }

    #[tokio::test]
    async fn sessions_have_their_own_buckets_and_the_role_a_backstop() {
        let limits = CallerLimits::in_memory(&ServerLimits {
            caller_rate: RateLimit {
                per_minute: 1,
                burst: 2,
            },
            role_rate: RateLimit {
                per_minute: 1,
                burst: 3,
            },
            ..ServerLimits::default()
        });
        let role = "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123/";
        let (alice, bob, carol) = (
            caller(&format!("{role}alice@example.com")),
            caller(&format!("{role}bob@example.com")),
            caller(&format!("{role}carol@example.com")),
        );
        assert!(limits.check(&alice).await.is_ok());
        assert!(limits.check(&alice).await.is_ok());
        assert_eq!(
            limits.check(&alice).await.unwrap_err().0,
            CallerScope::Principal
        );
        // Bob's session is not throttled by Alice's...
        assert!(limits.check(&bob).await.is_ok());
        // ...until the role's backstop is spent.
        assert_eq!(limits.check(&carol).await.unwrap_err().0, CallerScope::Role);
    }
}
