//! The trust-boundary type: a caller whose proof was verified by STS.

use crate::identity::Identity;

/// A caller whose `tvm-v1` (or EKS) proof STS accepted. Only [`crate::auth`] can
/// construct one, so anything that takes a `&VerifiedCaller` (notably
/// [`crate::policy::Policy::evaluate`]) cannot be handed unverified input.
#[derive(Debug, Clone)]
pub struct VerifiedCaller {
    identity: Identity,
    user_id: String,
    access_key_id: String,
    /// The proof was an EKS-style token: it bound no target and no body.
    unbound: bool,
}

impl VerifiedCaller {
    /// Only the verifier builds these.
    pub(in crate::auth) fn new(
        identity: Identity,
        user_id: String,
        access_key_id: String,
        unbound: bool,
    ) -> Self {
        Self {
            identity,
            user_id,
            access_key_id,
            unbound,
        }
    }

    /// Whether the proof bound the request's target and body (`tvm-v1`), as
    /// opposed to an EKS-style token, which binds neither and so may only serve
    /// a plain vend or a profile listing (DESIGN §2).
    pub fn binds_request(&self) -> bool {
        !self.unbound
    }

    /// The verified identity.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The `UserId` STS returned (unique id, plus `:session` for role sessions).
    pub fn user_id(&self) -> &str {
        &self.user_id
    }

    /// The access key id that signed the proof (not a secret; useful in logs).
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// For tests in other modules only: a caller that was never verified.
    #[cfg(test)]
    pub(crate) fn for_tests(identity: Identity) -> Self {
        Self::new(
            identity,
            "AIDATESTTESTTESTTEST".into(),
            "AKIATESTTESTTESTTEST".into(),
            false,
        )
    }
}
