//! What the revocation side needs of IAM, behind small traits: [`Iam`] (the
//! three inline-policy calls on one account) and [`IamAccess`] (an [`Iam`]
//! acting as the revoker role in a protected role's account), with the
//! typed [`IamError`] and [`RoleRef`], a protected role's ARN taken apart.
//!
//! Invariants: an [`IamError`]'s text is for the operator (the role's
//! `Error`, logs), never a caller's answer; [`IamError::is_transient`] alone
//! decides whether a write is retried as `pending` or recorded `failed`;
//! documents and credentials never appear in an error.

use std::sync::Arc;

use async_trait::async_trait;

use crate::identity::{AccountId, Partition};
use crate::sts::StsError;

/// Why an IAM call (or the AssumeRole before it) failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IamError {
    /// `NoSuchEntity`: the role or the policy does not exist.
    #[error("NoSuchEntity: {0}")]
    NoSuchEntity(String),
    /// `LimitExceeded`: the role's inline policies would pass 10,240 characters.
    #[error("LimitExceeded: {0}")]
    LimitExceeded(String),
    /// `MalformedPolicyDocument`.
    #[error("MalformedPolicyDocument: {0}")]
    Malformed(String),
    /// `AccessDenied` (the revoker role's permissions or boundary condition).
    #[error("AccessDenied: {0}")]
    AccessDenied(String),
    /// `Throttling` and friends: retried.
    #[error("Throttling: {0}")]
    Throttled(String),
    /// Any other IAM error code.
    #[error("{code}: {message}")]
    Other {
        /// IAM's error code.
        code: String,
        /// IAM's message.
        message: String,
    },
    /// IAM could not be reached, timed out, or answered garbage: retried.
    #[error("IAM unavailable: {0}")]
    Unavailable(String),
    /// Assuming the revoker role failed.
    #[error("assuming the revoker role failed: {0}")]
    AssumeRole(String),
    /// Assuming the revoker role failed for a reason worth retrying.
    #[error("assuming the revoker role failed (will retry): {0}")]
    AssumeRoleTransient(String),
}

impl IamError {
    /// Whether the same write may well succeed later unchanged (throttling,
    /// an outage): the role stays `pending` and is retried.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            IamError::Throttled(_) | IamError::Unavailable(_) | IamError::AssumeRoleTransient(_)
        )
    }

    /// The error of assuming the revoker role.
    pub fn from_sts(e: StsError) -> Self {
        match e {
            StsError::Throttled(_) | StsError::Unavailable(_) => {
                IamError::AssumeRoleTransient(e.to_string())
            }
            StsError::Rejected { .. } => IamError::AssumeRole(e.to_string()),
        }
    }

    /// A bounded name for logs and webhook texts.
    pub fn code(&self) -> &'static str {
        match self {
            IamError::NoSuchEntity(_) => "NoSuchEntity",
            IamError::LimitExceeded(_) => "LimitExceeded",
            IamError::Malformed(_) => "MalformedPolicyDocument",
            IamError::AccessDenied(_) => "AccessDenied",
            IamError::Throttled(_) => "Throttling",
            IamError::Other { .. } => "IamError",
            IamError::Unavailable(_) => "Unavailable",
            IamError::AssumeRole(_) | IamError::AssumeRoleTransient(_) => "AssumeRoleFailed",
        }
    }
}

/// The inline-policy calls of IAM, in one account, with one set of
/// credentials. `role_name` is the role's name (IAM's `RoleName`, no path).
#[async_trait]
pub trait Iam: Send + Sync {
    /// `iam:GetRolePolicy`: the document (URL-decoded), `None` when the
    /// policy does not exist.
    async fn get_role_policy(
        &self,
        role_name: &str,
        policy_name: &str,
    ) -> Result<Option<String>, IamError>;

    /// `iam:PutRolePolicy`.
    async fn put_role_policy(
        &self,
        role_name: &str,
        policy_name: &str,
        document: &str,
    ) -> Result<(), IamError>;

    /// `iam:DeleteRolePolicy`.
    async fn delete_role_policy(&self, role_name: &str, policy_name: &str) -> Result<(), IamError>;
}

/// On whose behalf a write is made: the revocation it serves (its id goes
/// into the `rvk-` marker) and who made it (the stamp's user).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnBehalf {
    /// The revocation's id (16 hex).
    pub revocation_id: String,
    /// The ARN of whoever made it.
    pub by_arn: String,
}

/// Gets an [`Iam`] that writes in a protected role's account.
#[async_trait]
pub trait IamAccess: Send + Sync {
    /// An IAM client acting as the revoker role in `role`'s account.
    async fn connect(&self, role: &RoleRef, on_behalf: &OnBehalf)
        -> Result<Arc<dyn Iam>, IamError>;
}

/// A protected role's ARN, `arn:{partition}:iam::{account}:role/{path}{name}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRef {
    /// The ARN as stored.
    pub arn: String,
    /// Its partition.
    pub partition: Partition,
    /// Its account.
    pub account: AccountId,
    /// The role's name (IAM's `RoleName`: the last path segment).
    pub name: String,
}

impl RoleRef {
    /// Takes a role ARN apart; `None` for anything else.
    pub fn parse(arn: &str) -> Option<Self> {
        let rest = arn.strip_prefix("arn:")?;
        let (partition, rest) = rest.split_once(':')?;
        let rest = rest.strip_prefix("iam::")?;
        let (account, path) = rest.split_once(":role/")?;
        let name = path.rsplit('/').next()?;
        if name.is_empty() {
            return None;
        }
        Some(Self {
            arn: arn.to_owned(),
            partition: Partition::parse(partition)?,
            account: AccountId::parse(account).ok()?,
            name: name.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns_parse_with_paths_and_partitions() {
        let r = RoleRef::parse("arn:aws-cn:iam::111122223333:role/ops/TvmProd").unwrap();
        assert_eq!(r.partition, Partition::AwsCn);
        assert_eq!(r.account.as_str(), "111122223333");
        assert_eq!(r.name, "TvmProd");
        for bad in [
            "arn:aws:iam::111122223333:user/alice",
            "arn:aws:iam::1111:role/R",
            "arn:aws:sts::111122223333:assumed-role/R/s",
            "arn:nope:iam::111122223333:role/R",
            "arn:aws:iam::111122223333:role/",
        ] {
            assert_eq!(RoleRef::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn only_throttling_and_outages_are_retried() {
        assert!(IamError::Throttled("x".into()).is_transient());
        assert!(IamError::Unavailable("x".into()).is_transient());
        assert!(IamError::from_sts(StsError::Unavailable("x".into())).is_transient());
        assert!(!IamError::from_sts(StsError::Rejected {
            code: "AccessDenied".into(),
            message: "no".into()
        })
        .is_transient());
        assert!(!IamError::LimitExceeded("x".into()).is_transient());
        assert!(!IamError::AccessDenied("x".into()).is_transient());
    }
}
