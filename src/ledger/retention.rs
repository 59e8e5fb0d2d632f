//! Retention (DESIGN §13, `database.retention`): the rows older than the
//! retention go, on a timer.
//!
//! What goes, in this order ([`PRUNES`]; add a table by adding a line):
//! audit events older than the cut-off; ledger rows whose `expires_at` is older than the cut-off; revocations that
//! ended before the cut-off (lifted, or with every block lifted or expired
//! and no suspension left) and their blocks; expired sign-in codes and web
//! sessions of the approvers' page.
//!
//! Invariants: an active revocation, block or suspension is never removed
//! (nor one that ended after the cut-off): a revocation is only pruned when
//! none of its blocks is unlifted with an end at or after the cut-off (or no
//! end), it is not suspending past the cut-off, and it was created (and
//! lifted, if it was) before the cut-off; its blocks go in the same
//! statement order, blocks first (they reference it); each statement deletes
//! at most [`CHUNK`] rows and is repeated, so the writer is never held for
//! long.

use std::time::Duration;

use sqlx::AnyPool;

/// How often the pruning task runs.
pub const PRUNE_INTERVAL: Duration = Duration::from_secs(3_600);

/// Most rows one statement deletes (repeated until fewer go).
const CHUNK: i64 = 1_000;

/// Which instant a prune compares against.
#[derive(Debug, Clone, Copy)]
enum Cutoff {
    /// now − `database.retention`.
    Retention,
    /// now (for rows that are simply expired).
    Now,
}

/// One pruning statement: `$1` is the cut-off, `$2` the chunk size.
struct Prune {
    table: &'static str,
    cutoff: Cutoff,
    sql: &'static str,
}

/// A revocation that ended before `$1`: see the module invariants.
macro_rules! ended_revocations {
    () => {
        "SELECT r.id FROM revocations r WHERE r.created_at < $1 \
         AND (r.lifted_at IS NULL OR r.lifted_at < $1) \
         AND (r.lifted_at IS NOT NULL OR r.suspends = 0 \
              OR (r.suspended_until IS NOT NULL AND r.suspended_until < $1)) \
         AND NOT EXISTS (SELECT 1 FROM revocation_blocks b WHERE b.revocation_id = r.id \
              AND ((b.lifted_at IS NULL AND (b.expires_at IS NULL OR b.expires_at >= $1)) \
                   OR b.lifted_at >= $1)) \
         LIMIT $2"
    };
}

/// The prunes, in order (blocks before the revocations they reference).
const PRUNES: &[Prune] = &[
    Prune {
        table: "audit_events",
        cutoff: Cutoff::Retention,
        sql: "DELETE FROM audit_events WHERE seq IN \
              (SELECT seq FROM audit_events WHERE at < $1 LIMIT $2)",
    },
    Prune {
        table: "sessions",
        cutoff: Cutoff::Retention,
        sql: "DELETE FROM sessions WHERE row_id IN \
              (SELECT row_id FROM sessions WHERE expires_at < $1 LIMIT $2)",
    },
    Prune {
        table: "revocation_blocks",
        cutoff: Cutoff::Retention,
        sql: concat!(
            "DELETE FROM revocation_blocks WHERE revocation_id IN (",
            ended_revocations!(),
            ")"
        ),
    },
    Prune {
        table: "revocations",
        cutoff: Cutoff::Retention,
        sql: concat!(
            "DELETE FROM revocations WHERE id IN (",
            ended_revocations!(),
            ")"
        ),
    },
    Prune {
        table: "ui_login_codes",
        cutoff: Cutoff::Now,
        sql: "DELETE FROM ui_login_codes WHERE code_digest IN \
              (SELECT code_digest FROM ui_login_codes WHERE expires_at < $1 LIMIT $2)",
    },
    Prune {
        table: "ui_sessions",
        cutoff: Cutoff::Now,
        sql: "DELETE FROM ui_sessions WHERE session_digest IN \
              (SELECT session_digest FROM ui_sessions WHERE expires_at < $1 LIMIT $2)",
    },
];

/// Deletes what [`PRUNES`] names at `now` (unix seconds) with `retention`,
/// on `pool` (the writer); returns how many rows went.
pub async fn prune(pool: &AnyPool, now: i64, retention: Duration) -> Result<u64, sqlx::Error> {
    let old = now.saturating_sub(i64::try_from(retention.as_secs()).unwrap_or(i64::MAX));
    let mut total = 0;
    for p in PRUNES {
        let cutoff = match p.cutoff {
            Cutoff::Retention => old,
            Cutoff::Now => now,
        };
        loop {
            let n = sqlx::query(p.sql)
                .bind(cutoff)
                .bind(CHUNK)
                .execute(pool)
                .await?
                .rows_affected();
            total += n;
            if n > 0 {
                tracing::debug!(table = p.table, rows = n, "pruned");
            }
            if n < CHUNK as u64 {
                break;
            }
        }
    }
    Ok(total)
}
