//! Who writes (DESIGN §13): with `revocation.role_name: NAME`, tvm assumes
//! `arn:{partition}:iam::{account of the protected role}:role/NAME` through
//! its ordinary AssumeRole upstream, stamped
//! `{prefix}.{revoker}.rvk-{revocation id[..8]}.{request id}`, and calls IAM
//! with those credentials ([`RevokerAccess`]).
//!
//! Invariants: every IAM write is made in a fresh revoker session (the
//! shortest STS allows) whose SourceIdentity names the revocation it serves,
//! so CloudTrail ties each write to a revocation and a person; the session
//! is narrowed by a session policy to the three inline-policy actions on the
//! one role being written; credentials live only as long as the write.

use std::sync::Arc;

use async_trait::async_trait;

use super::client::{Iam, IamAccess, IamError, OnBehalf, RoleRef};
use crate::identity::{
    Identity, Marker, Partition, RequestId, RoleSessionName, SourceIdentity, StampPrefix,
};
use crate::sts::{AssumeRoleInput, Credentials, Sts};

/// STS's shortest session: the revoker's credentials serve one write.
const REVOKER_SESSION_SECONDS: u32 = 900;

/// The stamp's user when the revocation's author has no parsable ARN (tvm's
/// own offline tools).
const FALLBACK_USER: &str = "tvm";

/// Builds the concrete IAM client from the revoker's credentials for a
/// partition (its endpoint, or `revocation.iam_endpoint_url`).
pub type IamClientFactory = Arc<dyn Fn(Credentials, Partition) -> Arc<dyn Iam> + Send + Sync>;

/// [`IamAccess`] through the revoker role.
pub struct RevokerAccess {
    sts: Arc<dyn Sts>,
    prefix: StampPrefix,
    role_name: String,
    client: IamClientFactory,
}

impl RevokerAccess {
    /// Assumes `role_name` with `sts` and builds clients with `client`.
    pub fn new(
        sts: Arc<dyn Sts>,
        prefix: StampPrefix,
        role_name: String,
        client: IamClientFactory,
    ) -> Self {
        Self {
            sts,
            prefix,
            role_name,
            client,
        }
    }

    /// The AssumeRole input of the revoker session writing `role`.
    pub fn input(&self, role: &RoleRef, on_behalf: &OnBehalf) -> Result<AssumeRoleInput, IamError> {
        let marker = Marker::revoker(&on_behalf.revocation_id)
            .map_err(|e| IamError::AssumeRole(format!("revocation id: {e}")))?;
        let user = Identity::from_arn(&on_behalf.by_arn)
            .map(|i| i.username().to_owned())
            .unwrap_or_else(|_| FALLBACK_USER.to_owned());
        let request_id = RequestId::generate();
        let session_policy = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Action": ["iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy"],
                "Resource": role.arn,
            }],
        });
        Ok(AssumeRoleInput {
            role_arn: format!(
                "arn:{}:iam::{}:role/{}",
                role.partition,
                role.account.as_str(),
                self.role_name
            ),
            role_session_name: RoleSessionName::new(&user, &on_behalf.by_arn, &request_id),
            source_identity: SourceIdentity::new(
                &self.prefix,
                &user,
                &on_behalf.by_arn,
                &marker,
                &request_id,
            ),
            duration_seconds: REVOKER_SESSION_SECONDS,
            external_id: None,
            tags: Vec::new(),
            transitive_tag_keys: Vec::new(),
            policy: Some(session_policy.to_string()),
        })
    }
}

#[async_trait]
impl IamAccess for RevokerAccess {
    async fn connect(
        &self,
        role: &RoleRef,
        on_behalf: &OnBehalf,
    ) -> Result<Arc<dyn Iam>, IamError> {
        let input = self.input(role, on_behalf)?;
        let assumed = self
            .sts
            .assume_role(input)
            .await
            .map_err(IamError::from_sts)?;
        Ok((self.client)(assumed.credentials, role.partition))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct NoSts;

    #[async_trait]
    impl Sts for NoSts {
        async fn assume_role(
            &self,
            _: AssumeRoleInput,
        ) -> Result<crate::sts::AssumedRole, crate::sts::StsError> {
            unreachable!()
        }
        async fn get_caller_identity(
            &self,
        ) -> Result<crate::sts::CallerIdentity, crate::sts::StsError> {
            unreachable!()
        }
    }

    #[test]
    fn the_revoker_session_is_stamped_with_the_revocation_and_narrowed_to_one_role() {
        let access = RevokerAccess::new(
            Arc::new(NoSts),
            StampPrefix::parse("tvm").unwrap(),
            "TvmRevoker".into(),
            Arc::new(|_, _| unreachable!()),
        );
        let role = RoleRef::parse("arn:aws-us-gov:iam::444455556666:role/ops/TvmProd").unwrap();
        let input = access
            .input(
                &role,
                &OnBehalf {
                    revocation_id: "c02e42f3a2d43d42".into(),
                    by_arn: "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_1/bob@example.com"
                        .into(),
                },
            )
            .unwrap();
        assert_eq!(
            input.role_arn,
            "arn:aws-us-gov:iam::444455556666:role/TvmRevoker"
        );
        let si = SourceIdentity::parse(input.source_identity.as_str()).unwrap();
        assert_eq!(si.marker, Marker::Revoker("rvk-c02e42f3".into()));
        assert_eq!(si.user, "bob@example.com");
        assert_eq!(input.duration_seconds, 900);
        let policy: serde_json::Value =
            serde_json::from_str(input.policy.as_deref().unwrap()).unwrap();
        assert_eq!(policy["Statement"][0]["Resource"], role.arn);
    }
}
