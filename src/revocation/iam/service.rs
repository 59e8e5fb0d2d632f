//! [`IamPolicies`]: what the routes and the worker share of the IAM side —
//! the database, this deployment's [`Naming`], the revoker access (`None`:
//! manual mode) and the clock.
//!
//! Invariant: built once at start-up from the validated `revocation`
//! settings; cheap to clone.

use std::sync::Arc;

use super::applier::Applier;
use super::client::IamAccess;
use super::document::Naming;
use crate::approvals::Webhooks;
use crate::clock::Clock;
use crate::metrics::Metrics;

/// The IAM side of revocation.
#[derive(Clone)]
pub struct IamPolicies {
    pub(super) pool: sqlx::AnyPool,
    pub(super) naming: Naming,
    pub(super) access: Option<Arc<dyn IamAccess>>,
    pub(super) clock: Arc<dyn Clock>,
}

impl IamPolicies {
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
}
