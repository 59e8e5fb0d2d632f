//! `GET /revocations/{id}/check` (DESIGN §13, admins): reads each role's
//! policy back with `iam:GetRolePolicy` (as the revoker role, stamped with
//! this revocation) and compares it with the document derived now:
//! `in_sync`, `missing` (a document is due and IAM has none) or `differs`.
//!
//! Invariants: read-only — nothing is written here (a difference is repaired
//! by the queue's re-check); documents are compared as JSON; without a
//! revoker role there is nothing to read with ([`CheckError::Manual`]).

use serde::Serialize;

use super::client::{IamError, OnBehalf, RoleRef};
use super::document::{derive, same_document};
use super::service::IamPolicies;
use super::store;
use super::EXPIRED_LOOKBACK_SECS;

/// What IAM holds for one role, against what it should.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckState {
    /// IAM holds the derived document (or neither exists).
    InSync,
    /// A document is due and IAM has none.
    Missing,
    /// IAM holds something else (or a policy that should be gone).
    Differs,
}

/// One role's check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleCheck {
    /// The protected role.
    #[serde(rename = "RoleArn")]
    pub role_arn: String,
    /// The result.
    #[serde(rename = "Check")]
    pub state: CheckState,
}

/// Why a check could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// No `revocation.role_name`: tvm has no IAM access to read with.
    #[error("revocation.role_name is not configured: tvm cannot read IAM")]
    Manual,
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// IAM (or assuming the revoker role) failed for a role.
    #[error("reading {role_arn}: {error}")]
    Iam {
        /// The role.
        role_arn: String,
        /// The failure.
        error: IamError,
    },
}

impl IamPolicies {
    /// Checks every role of revocation `id`, reading as `checker_arn`.
    pub async fn check(&self, id: &str, checker_arn: &str) -> Result<Vec<RoleCheck>, CheckError> {
        let Some(access) = &self.access else {
            return Err(CheckError::Manual);
        };
        let now = self.clock.now().as_second();
        let name = self.naming.policy_name();
        let mut out = Vec::new();
        for role_arn in store::roles_of(&self.pool, id).await? {
            let iam_err = |error| CheckError::Iam {
                role_arn: role_arn.clone(),
                error,
            };
            let role = RoleRef::parse(&role_arn)
                .ok_or_else(|| iam_err(IamError::Malformed("not a role ARN".into())))?;
            let values = store::role_values(
                &self.pool,
                &self.naming,
                &role_arn,
                now - EXPIRED_LOOKBACK_SECS,
            )
            .await?;
            let expected = derive(&self.naming.sid(), &values.values, now).document;
            let on_behalf = OnBehalf {
                revocation_id: id.to_owned(),
                by_arn: checker_arn.to_owned(),
            };
            let iam = access.connect(&role, &on_behalf).await.map_err(iam_err)?;
            let actual = iam
                .get_role_policy(&role.name, &name)
                .await
                .map_err(iam_err)?;
            let state = match (expected, actual) {
                (None, None) => CheckState::InSync,
                (Some(_), None) => CheckState::Missing,
                (Some(e), Some(a)) if same_document(&e, &a) => CheckState::InSync,
                _ => CheckState::Differs,
            };
            out.push(RoleCheck { role_arn, state });
        }
        Ok(out)
    }
}
