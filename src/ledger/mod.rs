//! The ledger of DESIGN §13: what was vended. Every vend of any kind first
//! inserts a `pending` row ([`Ledger::open`]); after AssumeRole one
//! transaction completes it ([`Ledger::complete`]) and re-checks the blocks
//! and the grant, or AssumeRole's failure marks it `failed`
//! ([`Ledger::fail`]). The rows replace §12's `grant_vends`: the vends of a
//! grant on the approvers' web page are read from here
//! ([`vends_of_grant`]), and migration 0005 moved the old rows in.
//!
//! Layout: `row` (the values the vend hands over, and how a completion
//! ends); `ops` (each write's SQL, run through sqlx inside a transaction);
//! `writer` (a SQLite file: one thread with its own connection batching the
//! writes); `retention` (the pruning task); `grants`
//! (a grant's vends, read back); `error` ([`LedgerError`]); this file, the
//! service the vend pipeline calls.
//!
//! Invariants: on a SQLite file every ledger write goes through the one
//! writer thread (batched, ≤ [`writer::MAX_BATCH`] rows a transaction), on
//! Postgres (and an in-memory SQLite, which only the pool's connection
//! sees) each in its own transaction on the pool; a vend learns its own write's result,
//! never another's; every write is counted in `tvm_ledger_writes_total` and
//! timed in `tvm_ledger_write_duration_seconds`; no value written or logged
//! here is a secret.

mod error;
mod grants;
mod ops;
mod retention;
mod row;
mod writer;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

pub use error::LedgerError;
pub use grants::{vends_of_grant, GrantVend};
pub use retention::{prune, PRUNE_INTERVAL};
pub use row::{Completed, NewSession, Recheck, Refusal, SessionKind};
pub use writer::MAX_BATCH;

use self::ops::{Completion, Done, Op};
use self::writer::Job;
use crate::audit::AuditEvent;
use crate::clock::Clock;
use crate::config::LedgerFailure;
use crate::database::{new_id, Database};
use crate::identity::RequestId;
use crate::metrics::Metrics;

/// Where the writes go.
#[derive(Clone)]
enum Sink {
    /// A SQLite file: the batching writer thread.
    Batched(mpsc::Sender<Job>),
    /// Postgres, an in-memory SQLite: each write in its own transaction on
    /// the pool.
    Direct,
}

/// The ledger service. Cheap to clone.
#[derive(Clone)]
pub struct Ledger {
    db: Database,
    sink: Sink,
    clock: Arc<dyn Clock>,
    metrics: Metrics,
    failure: LedgerFailure,
    retention: Duration,
}

/// A vend's `pending` row, to complete or fail once AssumeRole answered.
#[derive(Debug)]
pub struct PendingSession {
    row_id: String,
    recheck: Recheck,
    /// What the audit event names: the grant (else the vended key), the
    /// caller's ARN, the profile, the kind, the SourceIdentity, the request
    /// id.
    grant_id: Option<String>,
    profile: String,
    kind: SessionKind,
    caller_arn: String,
    source_identity: String,
    http: RequestId,
}

impl Ledger {
    /// The ledger over `db`; on a SQLite file this opens the writer's
    /// connection and starts its thread. Should that fail, the writes go
    /// through the pool instead (correct, only slower), with an ERROR line.
    pub fn new(
        db: Database,
        failure: LedgerFailure,
        retention: Duration,
        clock: Arc<dyn Clock>,
        metrics: Metrics,
    ) -> Self {
        let sink = match &db.file {
            Some(path) => match writer::spawn(path, clock.clone()) {
                Ok(queue) => Sink::Batched(queue),
                Err(e) => {
                    tracing::error!(
                        error = %e,
                        "the ledger's writer could not open the database file; \
                         writing through the pool instead"
                    );
                    Sink::Direct
                }
            },
            None => Sink::Direct,
        };
        Self {
            db,
            sink,
            clock,
            metrics,
            failure,
            retention,
        }
    }

    /// What a vend does when its row cannot be written.
    pub fn failure(&self) -> LedgerFailure {
        self.failure
    }

    /// The database (for the pruning task and readers).
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// Inserts `row` as `pending`, before AssumeRole; `recheck` is what the
    /// completion will check. The caller's ARN and the request id name the
    /// vend's audit row.
    pub async fn open(
        &self,
        row: NewSession,
        recheck: Recheck,
        http: &RequestId,
    ) -> Result<PendingSession, LedgerError> {
        let pending = PendingSession {
            row_id: new_id(),
            recheck,
            grant_id: row.grant_id.clone(),
            profile: row.profile.clone(),
            kind: row.kind,
            caller_arn: row.caller_arn.clone(),
            source_identity: row.source_identity.clone(),
            http: http.clone(),
        };
        self.write(Op::Insert {
            row_id: pending.row_id.clone(),
            row: Box::new(row),
        })
        .await?;
        Ok(pending)
    }

    /// Completes `pending` with the vended key and STS's expiry (unix
    /// seconds), re-checking blocks and grant in the same transaction; the
    /// vend's audit event (DESIGN §13: every vend) is written there too and
    /// its log line emitted once committed.
    pub async fn complete(
        &self,
        pending: &PendingSession,
        access_key_id: &str,
        expires_at: i64,
    ) -> Result<Completed, LedgerError> {
        let subject = pending.grant_id.as_deref().unwrap_or(access_key_id);
        let done = self
            .write(Op::Complete(Box::new(Completion {
                row_id: pending.row_id.clone(),
                access_key_id: access_key_id.to_owned(),
                expires_at,
                recheck: pending.recheck.clone(),
                audit: AuditEvent::new("vended", self.clock.now().as_second(), &pending.http)
                    .actor(&pending.caller_arn, pending.recheck.owner.clone())
                    .subject(subject, pending.recheck.owner.clone())
                    .profile(&pending.profile)
                    .source_identity(&pending.source_identity)
                    .detail(&format!("{} {access_key_id}", pending.kind.as_str())),
            })))
            .await?;
        match done {
            Done::Completed(c, logged) => {
                if let Some(l) = logged {
                    l.emit();
                }
                Ok(c)
            }
            Done::Written => Err(LedgerError::Missing),
        }
    }

    /// Marks `pending` `failed` (AssumeRole failed, or its answer was
    /// unusable). A failure to do so is logged: the row stays `pending` and
    /// expires with its planned end.
    pub async fn fail(&self, pending: &PendingSession) {
        let op = Op::Fail {
            row_id: pending.row_id.clone(),
        };
        if let Err(e) = self.write(op).await {
            tracing::warn!(error = %e, "ledger row could not be marked failed");
        }
    }

    /// Runs one write through the sink, counted and timed.
    async fn write(&self, op: Op) -> Result<Done, LedgerError> {
        let started = Instant::now();
        let result = match &self.sink {
            Sink::Batched(queue) => {
                let (reply, answer) = oneshot::channel();
                match queue.send(Job { op, reply }).await {
                    Ok(()) => answer.await.unwrap_or(Err(LedgerError::Stopped)),
                    Err(_) => Err(LedgerError::Stopped),
                }
            }
            Sink::Direct => ops::alone(&self.db, &op, self.clock.now().as_second()).await,
        };
        self.metrics
            .ledger
            .write(result.is_ok(), started.elapsed().as_secs_f64());
        result
    }

    /// Starts the pruning task: every [`PRUNE_INTERVAL`], rows older than
    /// `database.retention` go (see [`prune`]). Aborted when the handle is
    /// dropped with the runtime.
    pub fn spawn_retention(&self) -> tokio::task::JoinHandle<()> {
        let ledger = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(PRUNE_INTERVAL);
            loop {
                tick.tick().await;
                let now = ledger.clock.now().as_second();
                match prune(&ledger.db.pool, now, ledger.retention).await {
                    Ok(n) if n > 0 => tracing::info!(rows = n, "ledger retention pruned rows"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "ledger retention failed"),
                }
            }
        })
    }
}

#[cfg(test)]
mod tests;
