//! The SQLite ledger writer: one task that owns every ledger write and
//! commits them in batches, so a burst of vends costs one transaction per
//! batch instead of two per vend.
//!
//! A batch is whatever queued while the previous one committed, up to
//! [`MAX_BATCH`] writes (DESIGN §13: ≤ 5 ms or 256 rows a transaction): the
//! writer never waits to fill a batch, so a write waits at most for the
//! commit in progress (well under a millisecond on SQLite in WAL mode)
//! before its own starts. Each vend awaits its own write's result.
//!
//! Invariants: a write's result is sent only after its transaction
//! committed (or failed); one failing write never fails the others of its
//! batch when the failure is its own (a constraint violation: the batch is
//! rolled back and each write retried alone), while a database fault fails
//! the whole batch at once, each vend getting the error; the queue is bounded
//! ([`QUEUE`]), so a stalled database pushes back on vends instead of
//! growing memory.

use std::sync::Arc;

use sqlx::error::ErrorKind;
use sqlx::AnyPool;
use tokio::sync::{mpsc, oneshot};

use super::error::LedgerError;
use super::ops::{apply, Done, Op};
use crate::clock::Clock;

/// Most writes in one transaction (DESIGN §13).
pub const MAX_BATCH: usize = 256;

/// Writes queued for the writer before a vend waits for room.
const QUEUE: usize = 4 * MAX_BATCH;

/// One write and where its result goes.
pub(super) struct Job {
    pub(super) op: Op,
    pub(super) reply: oneshot::Sender<Result<Done, LedgerError>>,
}

/// Starts the writer over `pool` (the one writer connection) and returns
/// its queue. The task ends when every sender is dropped.
pub(super) fn spawn(pool: AnyPool, clock: Arc<dyn Clock>) -> mpsc::Sender<Job> {
    let (tx, mut rx) = mpsc::channel::<Job>(QUEUE);
    tokio::spawn(async move {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
            let now = clock.now().as_second();
            commit(&pool, std::mem::take(&mut batch), now).await;
        }
    });
    tx
}

/// Commits `jobs` in one transaction and answers each.
async fn commit(pool: &AnyPool, jobs: Vec<Job>, now: i64) {
    let e = match together(pool, &jobs, now).await {
        Ok(done) => {
            for (job, d) in jobs.into_iter().zip(done) {
                let _ = job.reply.send(Ok(d));
            }
            return;
        }
        Err(e) => e,
    };
    if jobs.len() > 1 && own_fault(&e) {
        // One write broke a rule of its own: the others must not pay.
        for job in jobs {
            let _ = job.reply.send(alone(pool, &job.op, now).await);
        }
        return;
    }
    let e = LedgerError::from(e);
    for job in jobs {
        let _ = job.reply.send(Err(e.clone()));
    }
}

/// Runs every write of the batch in one transaction.
async fn together(pool: &AnyPool, jobs: &[Job], now: i64) -> Result<Vec<Done>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let mut done = Vec::with_capacity(jobs.len());
    for job in jobs {
        done.push(apply(&mut tx, &job.op, now).await?);
    }
    tx.commit().await?;
    Ok(done)
}

/// Runs one write in its own transaction (Postgres, and a batch's retry).
pub(super) async fn alone(pool: &AnyPool, op: &Op, now: i64) -> Result<Done, LedgerError> {
    let mut tx = pool.begin().await?;
    let done = apply(&mut tx, op, now).await?;
    tx.commit().await?;
    Ok(done)
}

/// Whether `e` is one write's own fault (a constraint it broke, or a row it
/// expected that is not there) rather than the database's.
fn own_fault(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::RowNotFound => true,
        sqlx::Error::Database(d) => matches!(
            d.kind(),
            ErrorKind::UniqueViolation
                | ErrorKind::ForeignKeyViolation
                | ErrorKind::NotNullViolation
                | ErrorKind::CheckViolation
        ),
        _ => false,
    }
}
