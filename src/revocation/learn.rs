//! Learning a blocked long-term key's IAM user (DESIGN §13, `credentials`):
//! a revocation of an `AKIA…` key also refuses every temporary key of its
//! IAM user, but can only name the user once tvm has seen the key; when the
//! blocked key calls, its user is blocked under the same revocation(s).
//!
//! Invariants: a refused call only reads (on the read pool) unless the user
//! still needs recording, so a flood of a blocked key's calls never holds
//! the write lock; the write re-reads inside its own transaction, so two
//! replicas record the user once; it is best effort (the caller is refused
//! either way).

use std::collections::BTreeSet;

use sqlx::Row as _;

use super::blocks::{CALLER_KEY, IAM_USER};
use super::service::Revocations;
use super::store::{block, bump};
use crate::identity::exact_key;

impl Revocations {
    /// A blocked long-term key came back to tvm: §13 also refuses every
    /// temporary key of its IAM user (whoever holds the key can mint them
    /// with GetSessionToken), which the revocation could only name if the
    /// ledger had seen the key before. Now tvm has seen it: its user is
    /// blocked under the same revocation(s), liftable with them. Best
    /// effort: the caller is refused either way.
    pub async fn learn_iam_user(&self, access_key_id: &str, user_arn: &str, user_id: &str) {
        if !access_key_id.starts_with("AKIA") || !user_arn.contains(":user/") {
            return;
        }
        let user = exact_key(user_arn, user_id);
        if let Err(e) = self.learn(access_key_id, &user).await {
            tracing::warn!(error = %e, "the IAM user of a blocked long-term key was not recorded");
        }
    }

    async fn learn(&self, key: &str, user: &str) -> Result<(), sqlx::Error> {
        // Almost every refused call finds the user blocked already: that is a
        // read on the read pool, never the write lock (a flood of a blocked
        // key's calls must not queue the ledger's writes behind it).
        if unlearned(&self.db.read, key, user).await?.is_empty() {
            return Ok(());
        }
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let ids = unlearned(&mut *tx, key, user).await?;
        if ids.is_empty() {
            return Ok(());
        }
        for id in &ids {
            block(&mut tx, id, IAM_USER, user, None, true).await?;
        }
        bump(&mut tx, &BTreeSet::new(), now).await?;
        tx.commit().await?;
        tracing::info!(
            revocations = ids.len(),
            "blocked the temporary keys of a blocked long-term key's IAM user"
        );
        self.apply_now().await;
        Ok(())
    }
}

/// The revocations blocking the long-term key `key` that do not block its
/// IAM user `user` yet.
async fn unlearned<'c, E>(conn: E, key: &str, user: &str) -> Result<Vec<String>, sqlx::Error>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(
        "SELECT b.revocation_id FROM revocation_blocks b \
         WHERE b.block_type = $1 AND b.value = $2 AND b.lifted_at IS NULL \
         AND NOT EXISTS (SELECT 1 FROM revocation_blocks u WHERE \
         u.revocation_id = b.revocation_id AND u.block_type = $3 AND u.value = $4)",
    )
    .bind(CALLER_KEY)
    .bind(key)
    .bind(IAM_USER)
    .bind(user)
    .fetch_all(conn)
    .await?
    .iter()
    .map(|r| r.try_get::<String, _>(0))
    .collect()
}
