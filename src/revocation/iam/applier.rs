//! The per-role queue's worker (DESIGN §13): on every replica, leases due
//! roles, derives each one's document from the database, and makes IAM say
//! it — `GetRolePolicy`, then `PutRolePolicy` when it differs or is missing
//! (the 10-minute re-check is this same pass), `DeleteRolePolicy` when no
//! value is left — recording `applied_version`, `status`, `error`, `policy`.
//!
//! Invariants: one writer per role (the lease) and at most one write per
//! role per [`super::WRITE_INTERVAL_SECS`] (bursts coalesce into the next
//! write); a policy of our name holding another deployment's Sid is never
//! overwritten or deleted (the role is `failed`); `NoSuchEntity` on delete
//! is done; a transient error leaves the role `pending` and retried, any
//! other makes it `failed` with a `revocation.failed` webhook (written in the
//! outcome's transaction, once per entry into `failed`); without a revoker
//! role nothing calls IAM and every role is `manual`; the vend path never
//! waits for any of this.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use super::client::{IamAccess, IamError, OnBehalf, RoleRef};
use super::document::{derive, foreign_sid, same_document, Derived, Naming};
use super::store::{self, Outcome};
use super::{EXPIRED_LOOKBACK_SECS, LEASE_SECS, PASS_TIMEOUT};
use crate::approvals::{WebhookText, Webhooks};
use crate::clock::Clock;
use crate::metrics::Metrics;

/// Roles taken per pass.
const BATCH: i64 = 50;

/// The `revocation.failed` webhook's `request` object.
#[derive(Serialize)]
struct FailedRole<'a> {
    #[serde(rename = "RoleArn")]
    role_arn: &'a str,
    #[serde(rename = "Policy")]
    policy: &'a str,
    #[serde(rename = "Status")]
    status: &'static str,
    #[serde(rename = "Error")]
    error: &'a str,
}

/// The worker. Several may run on one database (one per replica).
pub struct Applier {
    pool: sqlx::AnyPool,
    naming: Naming,
    access: Option<Arc<dyn IamAccess>>,
    webhooks: Arc<Webhooks>,
    clock: Arc<dyn Clock>,
    metrics: Metrics,
    owner: String,
}

impl Applier {
    /// A worker over `pool`; `access` `None` is manual mode.
    pub fn new(
        pool: sqlx::AnyPool,
        naming: Naming,
        access: Option<Arc<dyn IamAccess>>,
        webhooks: Arc<Webhooks>,
        clock: Arc<dyn Clock>,
        metrics: Metrics,
    ) -> Self {
        Self {
            pool,
            naming,
            access,
            webhooks,
            clock,
            metrics,
            owner: crate::database::new_id(),
        }
    }

    /// Works until `shutdown` resolves, a pass every `tick`.
    pub async fn run(self, tick: Duration, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            if let Err(e) = self.once().await {
                self.metrics.database_error();
                tracing::warn!(error = %e, "revocation roles: database error");
            }
            tokio::select! {
                _ = &mut shutdown => return,
                _ = tokio::time::sleep(tick) => {}
            }
        }
    }

    /// One pass over the due roles; how many were handled.
    pub async fn once(&self) -> Result<usize, sqlx::Error> {
        let now = self.clock.now().as_second();
        let mut handled = 0;
        let writes_iam = self.access.is_some();
        for role_arn in store::due_roles(&self.pool, now, writes_iam, BATCH).await? {
            if !store::lease(&self.pool, &role_arn, &self.owner, now, now + LEASE_SECS).await? {
                continue;
            }
            let result = tokio::time::timeout(PASS_TIMEOUT, self.apply(&role_arn)).await;
            match result {
                Ok(Ok(())) => handled += 1,
                Ok(Err(e)) => {
                    store::release(&self.pool, &role_arn, &self.owner).await?;
                    return Err(e);
                }
                Err(_) => {
                    tracing::warn!(role = %role_arn, "revocation role pass timed out; retried");
                    self.metrics.revocation_apply("retry");
                    store::release(&self.pool, &role_arn, &self.owner).await?;
                }
            }
        }
        self.refresh_gauge().await?;
        Ok(handled)
    }

    /// Sets `tvm_revocation_roles{status}` from the database.
    pub async fn refresh_gauge(&self) -> Result<(), sqlx::Error> {
        let counts = store::status_counts(&self.pool).await?;
        self.metrics.revocation_roles(&counts);
        Ok(())
    }

    async fn apply(&self, role_arn: &str) -> Result<(), sqlx::Error> {
        let now = self.clock.now().as_second();
        let Some(row) = store::role_row(&self.pool, role_arn).await? else {
            return Ok(());
        };
        let values = store::role_values(
            &self.pool,
            &self.naming,
            role_arn,
            now - EXPIRED_LOOKBACK_SECS,
        )
        .await?;
        let derived = derive(&self.naming.sid(), &values.values, now);
        let version = row.desired_version;
        let outcome = match &self.access {
            None => Outcome {
                applied_version: version,
                status: if derived.document.is_some() {
                    "manual"
                } else {
                    "expired"
                },
                error: None,
                policy: derived.document.clone(),
                wrote: false,
                next_expiry: derived.next_expiry,
            },
            Some(access) => {
                let newest = match values.newest {
                    Some(n) => Some(n),
                    None => store::newest_revocation(&self.pool, role_arn).await?,
                };
                self.write(access.as_ref(), role_arn, &derived, newest, version, &row)
                    .await
            }
        };
        self.metrics.revocation_apply(result_label(&outcome));
        let mut tx = self.pool.begin().await?;
        if !store::finish(&mut tx, role_arn, &self.owner, &outcome, now).await? {
            tx.rollback().await?;
            return Ok(());
        }
        if outcome.status == "failed" && row.status != "failed" {
            let error = outcome.error.as_deref().unwrap_or_default();
            let name = self.naming.policy_name();
            let text = WebhookText::new()
                .word("tvm could not write the revocation policy ")
                .field(&name)
                .word(" on ")
                .field(role_arn)
                .word(": ")
                .field(error.split(':').next().unwrap_or_default())
                .word(" (blocked at tvm, not in IAM: see tvm revocations for AWS's fallback)");
            let body = FailedRole {
                role_arn,
                policy: &name,
                status: "failed",
                error,
            };
            self.webhooks
                .enqueue(&mut tx, "revocation.failed", &text, &body, now)
                .await?;
        }
        tx.commit().await
    }

    /// Makes IAM hold `derived` for `role_arn`.
    async fn write(
        &self,
        access: &dyn IamAccess,
        role_arn: &str,
        derived: &Derived,
        newest: Option<(String, String)>,
        version: i64,
        row: &store::RoleRow,
    ) -> Outcome {
        let base = Outcome {
            applied_version: version,
            status: "applied",
            error: None,
            policy: derived.document.clone(),
            wrote: false,
            next_expiry: derived.next_expiry,
        };
        let failed = |e: IamError, wrote: bool| {
            tracing::warn!(role = %role_arn, error = %e, "revocation policy not written");
            if e.is_transient() {
                Outcome {
                    applied_version: row.applied_version,
                    status: "pending",
                    error: Some(e.to_string()),
                    wrote: true,
                    ..base.clone()
                }
            } else {
                Outcome {
                    status: "failed",
                    error: Some(e.to_string()),
                    wrote,
                    ..base.clone()
                }
            }
        };
        let Some(role) = RoleRef::parse(role_arn) else {
            return failed(IamError::Malformed("not a role ARN".into()), false);
        };
        let Some((revocation_id, by_arn)) = newest else {
            // Nothing was ever revoked on this role: nothing to write.
            return Outcome {
                status: "expired",
                ..base
            };
        };
        let on_behalf = OnBehalf {
            revocation_id,
            by_arn,
        };
        let iam = match access.connect(&role, &on_behalf).await {
            Ok(iam) => iam,
            Err(e) => return failed(e, false),
        };
        let name = self.naming.policy_name();
        let existing = match iam.get_role_policy(&role.name, &name).await {
            Ok(existing) => existing,
            Err(e) => return failed(e, false),
        };
        if let Some(other) = existing
            .as_deref()
            .and_then(|doc| foreign_sid(doc, &self.naming.sid()))
        {
            return failed(
                IamError::Other {
                    code: "ForeignDeployment".into(),
                    message: format!(
                        "policy {name} holds another deployment's statement ({other}); \
                         not overwritten: give each deployment its own revocation.deployment_id"
                    ),
                },
                false,
            );
        }
        match (&derived.document, existing) {
            (None, None) => Outcome {
                status: "expired",
                ..base
            },
            (None, Some(_)) => match iam.delete_role_policy(&role.name, &name).await {
                Ok(()) | Err(IamError::NoSuchEntity(_)) => Outcome {
                    status: "expired",
                    wrote: true,
                    ..base
                },
                Err(e) => failed(e, true),
            },
            (Some(doc), Some(have)) if same_document(doc, &have) => base,
            (Some(doc), _) => match iam.put_role_policy(&role.name, &name, doc).await {
                Ok(()) => Outcome {
                    wrote: true,
                    ..base
                },
                Err(e) => failed(e, true),
            },
        }
    }
}

/// The `tvm_revocation_applies_total{result}` label of an outcome.
fn result_label(outcome: &Outcome) -> &'static str {
    match outcome.status {
        "manual" => "manual",
        "failed" => "failed",
        "pending" => "retry",
        "expired" if outcome.wrote => "deleted",
        _ if outcome.wrote => "written",
        _ => "unchanged",
    }
}
