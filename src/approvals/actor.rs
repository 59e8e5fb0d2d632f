//! Who acts on an approval: the caller's identity, as a token verified it this
//! request or as the UI reconstructs it from a stored session.
//!
//! Invariants: only *people* (IAM users and IAM Identity Center sessions,
//! `AWSReservedSSO_*`, whose names AWS sets) may request, approve or use
//! break-glass; two actors are the same person when their canonical principals
//! are equal or their usernames are, compared lowercase with any `@domain`
//! removed (DESIGN §12).

use crate::auth::VerifiedCaller;
use crate::identity::{ArnError, Identity, PrincipalType};

/// A verified identity acting on approvals.
#[derive(Debug, Clone)]
pub struct Actor {
    identity: Identity,
    user_id: String,
}

impl Actor {
    /// The caller a tvm-v1 token proved this request.
    pub fn from_caller(caller: &VerifiedCaller) -> Self {
        Self {
            identity: caller.identity().clone(),
            user_id: caller.user_id().to_owned(),
        }
    }

    /// An identity proven earlier (a UI session stores the STS ARN and
    /// `UserId` it was created for).
    pub fn from_session(arn: &str, user_id: &str) -> Result<Self, ArnError> {
        Ok(Self {
            identity: Identity::from_arn(arn)?,
            user_id: user_id.to_owned(),
        })
    }

    /// The identity.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The STS ARN as GetCallerIdentity returned it.
    pub fn arn(&self) -> &str {
        self.identity.arn().as_str()
    }

    /// The `UserId` STS returned.
    pub fn user_id(&self) -> &str {
        &self.user_id
    }

    /// The canonical principal (DESIGN §3).
    pub fn canonical(&self) -> &str {
        self.identity.canonical_principal()
    }

    /// The username (DESIGN §3).
    pub fn username(&self) -> &str {
        self.identity.username()
    }

    /// Whether AWS, not the caller, chose this identity's name: an IAM user or
    /// an IAM Identity Center session.
    pub fn is_person(&self) -> bool {
        match self.identity.principal_type() {
            PrincipalType::User => true,
            PrincipalType::AssumedRole => self
                .identity
                .arn()
                .role_name()
                .is_some_and(|r| r.starts_with("AWSReservedSSO_")),
            _ => false,
        }
    }

    /// Whether this actor and (`canonical`, `username`) are the same person.
    pub fn same_person(&self, canonical: &str, username: &str) -> bool {
        same_person(self.canonical(), self.username(), canonical, username)
    }
}

/// A username compared across identities: lowercase, `@domain` removed.
pub fn person_key(username: &str) -> String {
    let lower = username.to_lowercase();
    match lower.split_once('@') {
        Some((local, _)) => local.to_owned(),
        None => lower,
    }
}

/// DESIGN §12: same canonical principal, or same [`person_key`].
pub fn same_person(canonical_a: &str, user_a: &str, canonical_b: &str, user_b: &str) -> bool {
    canonical_a == canonical_b || person_key(user_a) == person_key(user_b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(arn: &str) -> Actor {
        Actor::from_session(arn, "AIDAEXAMPLE").unwrap()
    }

    #[test]
    fn people_are_users_and_identity_center_sessions() {
        assert!(actor("arn:aws:iam::111122223333:user/eng/alice").is_person());
        assert!(actor(
            "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123abcd/alice@example.com"
        )
        .is_person());
        assert!(!actor("arn:aws:sts::111122223333:assumed-role/Deploy/alice").is_person());
        assert!(!actor("arn:aws:sts::111122223333:federated-user/bob").is_person());
        assert!(!actor("arn:aws:iam::111122223333:root").is_person());
    }

    #[test]
    fn same_person_by_principal_or_normalised_username() {
        let a = actor("arn:aws:iam::111122223333:user/eng/alice");
        assert!(a.same_person("arn:aws:iam::111122223333:user/eng/alice", "x"));
        assert!(a.same_person(
            "arn:aws:iam::111122223333:role/AWSReservedSSO_A_1",
            "Alice@Example.com"
        ));
        assert!(!a.same_person("arn:aws:iam::111122223333:user/eng/bob", "bob"));
        let sso = actor(
            "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123abcd/alice@example.com",
        );
        // Another permission set of the same person.
        assert!(sso.same_person(
            "arn:aws:iam::111122223333:role/AWSReservedSSO_Read_99",
            "alice@example.com"
        ));
        assert_eq!(person_key("Bob@Example.COM"), "bob");
    }
}
