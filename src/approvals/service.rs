//! The approvals service ([`Approvals`]): what every operation of DESIGN §12
//! shares — the database, the policy being served, the clock, metrics and
//! the webhook targets — callable with any [`super::Actor`] (a verified token
//! this request, or a UI session).
//!
//! The operations live beside it, one file per concern: `lifecycle`
//! (create, list, get, expiry), `decisions` (approve, deny), `grants` (a
//! grant serving a vend), `break_glass` (records), `notify` (webhook texts).
//!
//! Invariant: every database failure goes through [`Approvals::db_err`], so
//! it is logged once and counted before it becomes a 503.

use std::sync::Arc;

use super::error::ApprovalError;
use super::webhook::{WebhookTarget, Webhooks};
use crate::clock::Clock;
use crate::database::Database;
use crate::identity::{CallerArn, OwnerKeys};
use crate::metrics::Metrics;
use crate::reload::PolicyStore;

/// The service. Cheap to clone.
#[derive(Clone)]
pub struct Approvals {
    pub(super) db: Database,
    pub(super) policy: Arc<PolicyStore>,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) metrics: Metrics,
    pub(super) webhooks: Arc<Webhooks>,
}

impl Approvals {
    /// Assembles the service over an opened database.
    pub fn new(
        db: Database,
        policy: Arc<PolicyStore>,
        clock: Arc<dyn Clock>,
        metrics: Metrics,
        webhooks: Vec<WebhookTarget>,
    ) -> Self {
        Self {
            db,
            policy,
            clock,
            metrics,
            webhooks: Arc::new(Webhooks::new(webhooks)),
        }
    }

    /// The database (the UI adds its own tables to it).
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// The clock (for the deliverer).
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    /// The webhook targets (for the deliverer).
    pub(crate) fn webhooks(&self) -> &Arc<Webhooks> {
        &self.webhooks
    }

    /// The §13 identity keys of `arn`/`user_id` under the policy served now
    /// (its `sso_accounts`), for the audit trail's visibility; `None` for an
    /// ARN that does not parse (rows then are for admins only).
    pub(crate) fn keys_of(&self, arn: &str, user_id: &str) -> Option<OwnerKeys> {
        let arn: CallerArn = arn.parse().ok()?;
        Some(OwnerKeys::of(
            &arn,
            user_id,
            self.policy.current().sso_accounts(),
        ))
    }

    pub(super) fn now(&self) -> i64 {
        self.clock.now().as_second()
    }

    pub(super) fn db_err(&self, e: sqlx::Error) -> ApprovalError {
        self.metrics.database_error();
        tracing::error!(error = %e, "approvals database error");
        ApprovalError::Database(e)
    }
}
