//! A revocation's `Roles` (DESIGN §13): for each role it put values on, the
//! `Status` (`pending|applied|failed|manual|skipped|expired`), `Error` and
//! `Policy` — read from the role's queue row and the same derivation the
//! worker runs, so every replica answers the same.
//!
//! Invariants: `skipped` is per revocation (a self-service one left out of
//! the document by the 60% rule) and `expired` too (all of its values on
//! that role ended); `applied` is said only when the document IAM accepted
//! holds every live value of this revocation; `Error` and `Policy` are for
//! admins — the caller of [`IamPolicies::roles`] strips them for others.

use std::collections::BTreeSet;

use serde::Serialize;

use super::document::derive;
use super::service::IamPolicies;
use super::store;
use super::EXPIRED_LOOKBACK_SECS;

/// One entry of a revocation's `Roles`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RevocationRole {
    /// The protected role.
    #[serde(rename = "RoleArn")]
    pub role_arn: String,
    /// `pending|applied|failed|manual|skipped|expired`.
    #[serde(rename = "Status")]
    pub status: &'static str,
    /// The last error (admins only).
    #[serde(rename = "Error")]
    pub error: Option<String>,
    /// The role's derived document (admins only).
    #[serde(rename = "Policy")]
    pub policy: Option<String>,
}

/// The values of a document (its `aws:SourceIdentity` list).
pub(super) fn document_values(document: &str) -> BTreeSet<String> {
    let doc: serde_json::Value = serde_json::from_str(document).unwrap_or_default();
    doc["Statement"][0]["Condition"]["StringLike"]["aws:SourceIdentity"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

impl IamPolicies {
    /// The `Roles` of revocation `id`.
    pub async fn roles(&self, id: &str) -> Result<Vec<RevocationRole>, sqlx::Error> {
        let now = self.clock.now().as_second();
        let sid = self.naming.sid();
        let mut out = Vec::new();
        for role_arn in store::roles_of(&self.pool, id).await? {
            let values = store::role_values(
                &self.pool,
                &self.naming,
                &role_arn,
                now - EXPIRED_LOOKBACK_SECS,
            )
            .await?;
            let derived = derive(&sid, &values.values, now);
            let row = store::role_row(&self.pool, &role_arn).await?;
            let mine: BTreeSet<String> = values
                .values
                .iter()
                .filter(|v| v.revocation_id == id && v.expires_at > now)
                .map(|v| v.pattern.clone())
                .collect();
            let status = match &row {
                _ if derived.skipped.contains(id) => "skipped",
                _ if mine.is_empty() => "expired",
                None => "pending",
                Some(r) if r.status == "manual" => "manual",
                Some(r) if r.desired_version > r.applied_version => "pending",
                Some(r) if r.status == "failed" => "failed",
                Some(r) if r.status == "applied" => {
                    let written = r.policy.as_deref().map(document_values).unwrap_or_default();
                    if mine.is_subset(&written) {
                        "applied"
                    } else {
                        "pending"
                    }
                }
                Some(_) => "pending",
            };
            out.push(RevocationRole {
                role_arn,
                status,
                error: row.as_ref().and_then(|r| r.error.clone()),
                policy: derived.document,
            });
        }
        Ok(out)
    }
}
