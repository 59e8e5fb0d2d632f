//! [`IamPolicies`]: what the routes and the worker share of the IAM side —
//! the database, this deployment's [`Naming`], the revoker access (`None`:
//! manual mode) and the clock.
//!
//! Invariant: built once at start-up from the validated `revocation`
//! settings; cheap to clone.

use std::sync::Arc;

use super::applier::Applier;
use super::aws::aws_client_factory;
use super::client::IamAccess;
use super::document::Naming;
use super::revoker::RevokerAccess;
use crate::approvals::{WebhookTarget, Webhooks};
use crate::clock::Clock;
use crate::config::RevocationSettings;
use crate::identity::StampPrefix;
use crate::metrics::Metrics;
use crate::sts::Sts;

/// The IAM side of revocation.
#[derive(Clone)]
pub struct IamPolicies {
    pub(super) pool: sqlx::AnyPool,
    pub(super) naming: Naming,
    pub(super) access: Option<Arc<dyn IamAccess>>,
    pub(super) clock: Arc<dyn Clock>,
}

impl IamPolicies {
    /// The inline policy's name on every protected role
    /// (`tvm-revocations-{prefix}-{deployment_id}`).
    pub fn policy_name(&self) -> String {
        self.naming.policy_name()
    }

    /// The IAM side over `pool`; `access` `None` is manual mode.
    pub fn new(
        pool: sqlx::AnyPool,
        naming: Naming,
        access: Option<Arc<dyn IamAccess>>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            pool,
            naming,
            access,
            clock,
        }
    }

    /// The IAM side as configured: `revocation.role_name` set, writes go
    /// through the revoker role assumed with `sts` and tvm's own IAM client;
    /// unset, manual mode.
    pub fn from_settings(
        pool: sqlx::AnyPool,
        prefix: StampPrefix,
        settings: &RevocationSettings,
        sts: Arc<dyn Sts>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let access = settings.role_name.as_ref().map(|role_name| {
            Arc::new(RevokerAccess::new(
                sts,
                prefix.clone(),
                role_name.clone(),
                aws_client_factory(settings.iam_endpoint.as_ref()),
            )) as Arc<dyn IamAccess>
        });
        let naming = Naming::new(prefix, settings.deployment_id.clone());
        Self::new(pool, naming, access, clock)
    }

    /// This deployment's policy name and Sid.
    pub fn naming(&self) -> &Naming {
        &self.naming
    }

    /// Whether tvm writes the policies itself (else every role is `manual`).
    pub fn writes_iam(&self) -> bool {
        self.access.is_some()
    }

    /// A queue worker (one per replica), delivering `revocation.failed`
    /// through `webhooks`.
    pub fn applier(&self, webhooks: Arc<Webhooks>, metrics: Metrics) -> Applier {
        Applier::new(
            self.pool.clone(),
            self.naming.clone(),
            self.access.clone(),
            webhooks,
            self.clock.clone(),
            metrics,
        )
    }

    /// [`Self::applier`] over webhook targets of its own (tools and tests
    /// running a worker without the approvals service).
    pub fn applier_with_targets(&self, targets: Vec<WebhookTarget>, metrics: Metrics) -> Applier {
        self.applier(Arc::new(Webhooks::new(targets)), metrics)
    }
}
