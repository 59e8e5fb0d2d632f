//! The revocation service ([`Revocations`]): what every operation of DESIGN
//! §13 shares — the database, the policy being served (admins,
//! `sso_accounts`), the clock, metrics, the webhook outbox and this
//! replica's [`BlockSet`] — and who is acting ([`Caller`]).
//!
//! Invariants: every database failure goes through [`Revocations::db_err`]
//! (logged once, counted, 503); after a change commits, this replica reloads
//! its blocks at once, and the others within `revocation.refresh`.

use std::sync::Arc;
use std::time::Duration;

use super::blocks::{BlockSet, Refusal, Subject};
use super::error::RevocationError;
use super::keys::subject_keys;
use crate::approvals::{Approvals, Webhooks};
use crate::auth::VerifiedCaller;
use crate::clock::Clock;
use crate::database::Database;
use crate::identity::{Identity, OwnerKeys};
use crate::metrics::Metrics;
use crate::reload::PolicyStore;

/// How long a request waits for the refresh of stale blocks before it is
/// refused (503): a database outage must not hold every request for the
/// pool's acquire timeout.
const STALE_REFRESH_TIMEOUT: Duration = Duration::from_secs(1);

/// Who acts on a revocation route.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The verified identity.
    pub identity: Identity,
    /// Its `UserId`.
    pub user_id: String,
    /// The key "own" is decided by ([`OwnerKeys::owner`]).
    pub owner: String,
    /// Every identity key of this caller (for "targets yourself").
    pub keys: Vec<String>,
    /// One of the policy's `admins`.
    pub admin: bool,
}

/// The service. Cheap to clone.
#[derive(Clone)]
pub struct Revocations {
    pub(super) db: Database,
    pub(super) policy: Arc<PolicyStore>,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) metrics: Metrics,
    pub(super) webhooks: Arc<Webhooks>,
    pub(super) blocks: BlockSet,
    /// `revocation.refresh`: how often [`Revocations::poller`] polls.
    pub(super) refresh: Duration,
    /// The IAM side, whose per-revocation role statuses (`skipped`,
    /// `expired`…) the `Roles` of a revocation show.
    pub(super) iam: Option<super::iam::IamPolicies>,
}

impl Revocations {
    /// Assembles the service over the approvals service's database and
    /// webhook outbox.
    pub fn new(
        approvals: &Approvals,
        policy: Arc<PolicyStore>,
        metrics: Metrics,
        blocks: BlockSet,
        refresh: Duration,
    ) -> Self {
        Self {
            refresh,
            db: approvals.database().clone(),
            policy,
            clock: approvals.clock(),
            metrics,
            webhooks: approvals.webhooks().clone(),
            blocks,
            iam: None,
        }
    }

    /// Shows each revocation's `Roles` as the IAM side derives them for it
    /// (`skipped` self-service values, `expired` ones) rather than the
    /// role's own status.
    pub fn with_iam(mut self, iam: super::iam::IamPolicies) -> Self {
        self.iam = Some(iam);
        self
    }

    /// `view` with its `Roles` as the IAM side reports them for it (when
    /// there is one; else the roles' own rows, as loaded).
    pub(super) async fn with_roles(
        &self,
        mut view: super::RevocationView,
    ) -> Result<super::RevocationView, sqlx::Error> {
        let Some(iam) = &self.iam else {
            return Ok(view);
        };
        let name = iam.policy_name();
        view.roles = iam
            .roles(&view.id)
            .await?
            .into_iter()
            .map(|r| super::RoleView {
                role_arn: r.role_arn,
                status: r.status.to_owned(),
                error: r.error,
                policy: r.policy,
                policy_name: Some(name.clone()),
            })
            .collect();
        Ok(view)
    }

    /// The task that keeps this replica's blocks in step.
    pub fn poller(&self) -> super::Poller {
        super::Poller {
            blocks: self.blocks.clone(),
            pool: self.db.pool.clone(),
            refresh: self.refresh,
            clock: self.clock.clone(),
            metrics: self.metrics.clone(),
        }
    }

    /// This replica's blocks.
    pub fn blocks(&self) -> &BlockSet {
        &self.blocks
    }

    /// The database.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// The acting caller, judged against the policy being served.
    pub fn caller(&self, c: &VerifiedCaller) -> Caller {
        self.caller_of(c.identity().clone(), c.user_id())
    }

    /// The acting principal of a web-page session.
    pub fn caller_of(&self, identity: Identity, user_id: &str) -> Caller {
        let policy = self.policy.current();
        let owner = OwnerKeys::of(identity.arn(), user_id, policy.sso_accounts())
            .owner()
            .to_owned();
        Caller {
            keys: subject_keys(&identity, user_id, policy.sso_accounts()),
            admin: policy.is_admin(&identity),
            identity,
            user_id: user_id.to_owned(),
            owner,
        }
    }

    /// The check of every authenticated route (see [`BlockSet::check`]);
    /// a refusal is counted. Blocks gone stale (the poller failed, or was
    /// held up) are refreshed once here first, so a database that is back
    /// serves at once rather than at the next poll.
    pub async fn check(&self, subject: Subject<'_>) -> Result<(), Refusal> {
        if (self.blocks.is_stale() || !self.blocks.is_loaded()) && !self.blocks.serves_stale() {
            let poll = self.poller();
            match tokio::time::timeout(STALE_REFRESH_TIMEOUT, poll.poll_once()).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "revocation blocks not refreshed"),
                Err(_) => tracing::warn!("revocation blocks not refreshed: timed out"),
            }
        }
        self.check_now(subject)
    }

    /// [`Revocations::check`] on the blocks as they are.
    fn check_now(&self, subject: Subject<'_>) -> Result<(), Refusal> {
        let policy = self.policy.current();
        let r = self
            .blocks
            .check(subject, policy.sso_accounts(), self.now());
        if let Err(refusal) = r {
            self.metrics.revocation.refusal(refusal.reason());
        }
        r
    }

    /// The owner key of a ledger row's caller.
    /// The §13 identity keys of a stored caller (`None` for an ARN that no
    /// longer parses), for the visibility of its audit events.
    pub(super) fn keys_of(&self, arn: &str, user_id: &str) -> Option<OwnerKeys> {
        let arn = arn.parse().ok()?;
        Some(OwnerKeys::of(
            &arn,
            user_id,
            self.policy.current().sso_accounts(),
        ))
    }

    pub(super) fn owner_of(&self, arn: &str, user_id: &str) -> Option<String> {
        let arn = arn.parse().ok()?;
        let policy = self.policy.current();
        Some(
            OwnerKeys::of(&arn, user_id, policy.sso_accounts())
                .owner()
                .to_owned(),
        )
    }

    pub(super) fn now(&self) -> i64 {
        self.clock.now().as_second()
    }

    pub(super) fn db_err(&self, e: sqlx::Error) -> RevocationError {
        self.metrics.database_error();
        tracing::error!(error = %e, "revocation database error");
        RevocationError::Database(e)
    }

    /// Reloads this replica's blocks after a change it wrote (the others
    /// poll); a failure leaves the poller to catch up.
    pub(super) async fn apply_now(&self) {
        if let Err(e) = self.blocks.load(&self.db.pool, self.now()).await {
            tracing::warn!(error = %e, "revocation blocks not reloaded after a change");
        }
    }
}
