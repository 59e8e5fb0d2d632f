//! The SQLite ledger writer: one thread that owns a connection of its own to
//! the database file and commits every ledger write in batches, so a burst
//! of vends costs one transaction per batch, and each statement is a call
//! into SQLite on that thread rather than a round trip to sqlx's worker
//! (what kept the ledger under its throughput target: `docs/performance.md`).
//!
//! A batch is whatever queued while the previous one committed, up to
//! [`MAX_BATCH`] writes (DESIGN §13: ≤ 5 ms or 256 rows a transaction),
//! grown during a burst by a short wait ([`LINGER`], group commit); a lone
//! write is committed at once. Each vend awaits its own write's result.
//!
//! Invariants: a write's result is sent only after its transaction
//! committed (or failed); every batch begins `IMMEDIATE`, so it holds the
//! write lock before it reads (the re-check sees every block and grant
//! change committed before it, by this replica's other writer or anyone),
//! and waits up to [`BUSY`] for another writer instead of failing; one
//! write breaking a rule of its own (a constraint, a row no longer pending)
//! fails alone (the batch is rolled back and each write retried in its own
//! transaction), whereas a database fault fails the whole batch, each vend
//! getting the error; the queue is bounded ([`QUEUE`]), so a stalled
//! database pushes back on vends instead of growing memory.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags, TransactionBehavior};
use tokio::sync::{mpsc, oneshot};

use super::error::LedgerError;
use super::ops::{
    block_refusal, blocks_sql, grant_refusal, Completion, Done, Op, FAIL, GRANT, INSERT, ISSUE,
    REVOKE,
};
use super::row::{Completed, NewSession, Recheck, Refusal};
use crate::clock::Clock;

/// Most writes in one transaction (DESIGN §13).
pub const MAX_BATCH: usize = 256;

/// Group commit: when a burst is on (at least [`BURST`] writes queued) but
/// the batch is smaller than [`ENOUGH`], the writer waits [`LINGER`] for
/// more before it commits. A transaction rewrites every page it touches
/// (the tables' last leaves, each index's), so fewer, larger ones cost less
/// per write; a lone write never waits. Well inside DESIGN §13's ≤ 5 ms.
const LINGER: Duration = Duration::from_micros(300);

/// See [`LINGER`].
const BURST: usize = 2;

/// See [`LINGER`].
const ENOUGH: usize = 32;

/// Writes queued for the writer before a vend waits for room.
const QUEUE: usize = 4 * MAX_BATCH;

/// How long a batch waits for another writer's lock (the pool's, for a
/// revocation or an approval) before it fails.
const BUSY: Duration = Duration::from_secs(5);

/// Prepared statements kept: the fixed ones and a re-check per number of
/// identity keys.
const STATEMENTS: usize = 32;

/// One write and where its result goes.
pub(super) struct Job {
    pub(super) op: Op,
    pub(super) reply: oneshot::Sender<Result<Done, LedgerError>>,
}

/// Opens the database file at `path` for the ledger (it exists: the pool
/// created it and ran the migrations) and starts the writer thread over it.
/// The thread ends when every sender is dropped.
pub(super) fn spawn(path: &Path, clock: Arc<dyn Clock>) -> Result<mpsc::Sender<Job>, LedgerError> {
    let conn = open(path)?;
    let (tx, mut rx) = mpsc::channel::<Job>(QUEUE);
    std::thread::Builder::new()
        .name("tvm-ledger".into())
        .spawn(move || {
            let mut conn = conn;
            let mut batch = Vec::with_capacity(MAX_BATCH);
            while let Some(job) = rx.blocking_recv() {
                batch.push(job);
                drain(&mut rx, &mut batch);
                if (BURST..ENOUGH).contains(&batch.len()) {
                    std::thread::sleep(LINGER);
                    drain(&mut rx, &mut batch);
                }
                let now = clock.now().as_second();
                commit(&mut conn, std::mem::take(&mut batch), now);
            }
        })
        .map_err(LedgerError::from)?;
    Ok(tx)
}

/// Moves what is queued into `batch`, up to [`MAX_BATCH`].
fn drain(rx: &mut mpsc::Receiver<Job>, batch: &mut Vec<Job>) {
    while batch.len() < MAX_BATCH {
        match rx.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
}

/// The writer's connection: read-write (never creating), the pool's pragmas
/// (WAL, `synchronous=NORMAL`, foreign keys), temporary data in memory, and
/// a busy wait.
fn open(path: &Path) -> Result<Connection, LedgerError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(BUSY)?;
    conn.set_prepared_statement_cache_capacity(STATEMENTS);
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // A statement journal (when SQLite needs one) in memory, not a
    // temporary file written page by page.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    let mode: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        conn.pragma_update(None, "journal_mode", "WAL")?;
    }
    Ok(conn)
}

/// Commits `jobs` in one transaction and answers each.
fn commit(conn: &mut Connection, jobs: Vec<Job>, now: i64) {
    let e = match together(conn, &jobs, now) {
        Ok(done) => {
            for (job, d) in jobs.into_iter().zip(done) {
                let _ = job.reply.send(Ok(d));
            }
            return;
        }
        Err(e) => e,
    };
    if jobs.len() > 1 && own_fault(&e) {
        // One write broke a rule of its own: the others must not pay. (Rare:
        // a savepoint per write would cost every batch a journal copy of
        // each page it touches.)
        for job in jobs {
            let _ = job.reply.send(alone(conn, &job.op, now));
        }
        return;
    }
    let e = LedgerError::from(e);
    for job in jobs {
        let _ = job.reply.send(Err(e.clone()));
    }
}

/// Runs every write of the batch in one transaction (rolled back on the
/// first error).
fn together(conn: &mut Connection, jobs: &[Job], now: i64) -> Result<Vec<Done>, rusqlite::Error> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut done = Vec::with_capacity(jobs.len());
    for job in jobs {
        done.push(apply(&tx, &job.op, now)?);
    }
    tx.commit()?;
    Ok(done)
}

/// Runs one write in its own transaction (a failed batch's retry).
fn alone(conn: &mut Connection, op: &Op, now: i64) -> Result<Done, LedgerError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let done = apply(&tx, op, now)?;
    tx.commit()?;
    Ok(done)
}

/// Runs `op` on `conn` (inside the batch's transaction) at `now`.
fn apply(conn: &Connection, op: &Op, now: i64) -> Result<Done, rusqlite::Error> {
    match op {
        Op::Insert { row_id, row } => insert(conn, row_id, row),
        Op::Complete(c) => complete(conn, c, now),
        Op::Fail { row_id } => {
            conn.prepare_cached(FAIL)?.execute([row_id])?;
            Ok(Done::Written)
        }
    }
}

fn insert(conn: &Connection, row_id: &str, r: &NewSession) -> Result<Done, rusqlite::Error> {
    conn.prepare_cached(INSERT)?.execute(rusqlite::params![
        row_id,
        r.request_id,
        r.created_at,
        r.expires_at,
        r.caller_arn,
        r.caller_user_id,
        r.caller_account,
        r.caller_role_id,
        r.sso_person,
        r.caller_access_key_id,
        r.client_address,
        r.username,
        r.profile,
        r.role_arn,
        r.rule_name,
        r.kind.as_str(),
        r.grant_id,
        r.source_identity,
        r.session_name,
    ])?;
    Ok(Done::Written)
}

fn complete(conn: &Connection, c: &Completion, now: i64) -> Result<Done, rusqlite::Error> {
    let refused = recheck(conn, &c.recheck, now)?;
    let moved = match &refused {
        None => conn.prepare_cached(ISSUE)?.execute(rusqlite::params![
            c.access_key_id,
            c.expires_at,
            c.row_id
        ])?,
        Some((_, revocation)) => conn.prepare_cached(REVOKE)?.execute(rusqlite::params![
            c.access_key_id,
            c.expires_at,
            revocation,
            now,
            c.row_id
        ])?,
    };
    if moved != 1 {
        return Err(rusqlite::Error::QueryReturnedNoRows);
    }
    if let Some((why, _)) = refused {
        return Ok(Done::Completed(Completed::Refused(why), None));
    }
    let logged = crate::audit::record_event_sqlite(conn, c.audit.clone())?;
    Ok(Done::Completed(Completed::Issued, Some(Box::new(logged))))
}

/// The first active block that covers this caller, or a grant no longer
/// approved, with the revocation that caused it (when known).
fn recheck(
    conn: &Connection,
    r: &Recheck,
    now: i64,
) -> Result<Option<(Refusal, Option<String>)>, rusqlite::Error> {
    let mut blocks = conn.prepare_cached(&blocks_sql(r.identity_keys.len()))?;
    let mut values: Vec<&dyn rusqlite::ToSql> = vec![&now, &r.caller_key, &r.iam_user];
    values.extend(r.identity_keys.iter().map(|k| k as &dyn rusqlite::ToSql));
    let mut rows = blocks.query(values.as_slice())?;
    if let Some(row) = rows.next()? {
        let kind: String = row.get(0)?;
        return Ok(Some((block_refusal(&kind), Some(row.get(1)?))));
    }
    let Some(grant) = &r.grant else {
        return Ok(None);
    };
    let mut grants = conn.prepare_cached(GRANT)?;
    let mut rows = grants.query([grant])?;
    let row = match rows.next()? {
        Some(row) => Some((row.get(0)?, row.get(1)?)),
        None => None,
    };
    Ok(grant_refusal(row))
}

/// Whether `e` is one write's own fault (a constraint it broke, or a row it
/// expected that is not there) rather than the database's.
fn own_fault(e: &rusqlite::Error) -> bool {
    match e {
        rusqlite::Error::QueryReturnedNoRows => true,
        rusqlite::Error::SqliteFailure(f, _) => f.code == ErrorCode::ConstraintViolation,
        _ => false,
    }
}
