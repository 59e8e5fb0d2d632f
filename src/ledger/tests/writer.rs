//! Where the ledger's writes go: the writer thread beside the pool's own
//! writer on one file, an in-memory database (the pool), a writer that
//! cannot open the file (the pool), and the re-check's SQL texts.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use sqlx::Row;

use super::*;

#[test]
fn the_recheck_sql_is_built_once_for_usual_callers_and_alike_beyond() {
    use crate::ledger::ops::blocks_sql;
    for keys in [0, 1, 3, 8, 9, 12] {
        let sql = blocks_sql(keys);
        assert_eq!(
            matches!(sql, std::borrow::Cow::Borrowed(_)),
            keys <= 8,
            "{keys}"
        );
        let expected = if keys == 0 {
            "NULL".to_owned()
        } else {
            (4..4 + keys)
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        assert!(sql.contains(&format!("value IN ({expected}))")), "{sql}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_pools_read_then_write_transactions_and_the_ledger_never_fail_each_other() {
    // Two writers on one file: the ledger's thread and the pool (a
    // revocation reads, then writes, in one transaction). Every write of
    // both must land: neither may meet "database is locked" or a stale
    // snapshot while the other commits.
    let (l, db, _dir) = ledger().await;
    let vends = (0..200).map(|i| {
        let l = l.clone();
        tokio::spawn(async move {
            let row = NewSession::for_tests(ALICE, None, NOW);
            let recheck = Recheck::for_tests(&row);
            let p = l.open(row, recheck, &RequestId::generate()).await?;
            l.complete(&p, &format!("ASIA{i:016}"), NOW + 900).await
        })
    });
    let changes = (0..40).map(|i| {
        let db = db.clone();
        tokio::spawn(async move {
            let mut tx = db.begin().await?;
            let n: i64 = sqlx::query("SELECT COUNT(*) FROM sessions")
                .fetch_one(&mut *tx)
                .await?
                .get(0);
            tokio::task::yield_now().await;
            sqlx::query(
                "INSERT INTO revocations (id, kind, target_type, target, reason, by_arn, \
                 by_user_id, self_service, suspends, suspended_until, created_at, request_id) \
                 VALUES ($1, 'credentials', 'CallerAccessKeyId', 'k', $2, 'b', 'b', 0, 0, NULL, \
                 $3, 'r')",
            )
            .bind(format!("{i:016}"))
            .bind(n.to_string())
            .bind(NOW)
            .execute(&mut *tx)
            .await?;
            tx.commit().await
        })
    });
    let changes: Vec<_> = changes.collect();
    for v in futures_util::future::join_all(vends).await {
        assert_eq!(v.unwrap().unwrap(), Completed::Issued);
    }
    for c in futures_util::future::join_all(changes).await {
        c.unwrap().unwrap();
    }
    let count = |sql: &'static str| {
        let db = db.clone();
        async move {
            sqlx::query(sql)
                .fetch_one(&db.read)
                .await
                .unwrap()
                .get::<i64, _>(0)
        }
    };
    assert_eq!(
        count("SELECT COUNT(*) FROM sessions WHERE state = 'issued'").await,
        200
    );
    assert_eq!(count("SELECT COUNT(*) FROM audit_events").await, 200);
    assert_eq!(count("SELECT COUNT(*) FROM revocations").await, 40);
}

#[tokio::test]
async fn an_in_memory_database_is_written_through_the_pool() {
    // Only the pool's connection sees an in-memory database: the ledger
    // writes there, and a block is still re-checked.
    let db = connect("sqlite::memory:").await.unwrap();
    assert!(db.file.is_none());
    let clock = ManualClock::new(Timestamp::from_second(NOW).unwrap());
    let l = Ledger::new(
        db.clone(),
        LedgerFailure::Closed,
        Duration::from_secs(DAY as u64),
        Arc::new(clock),
        Metrics::new(),
    );
    let row = NewSession::for_tests(ALICE, None, NOW);
    let recheck = Recheck::for_tests(&row);
    assert_eq!(vend(&l, row, recheck, "ASIAONE").await, Completed::Issued);
    revocation(&db, "00000000000000r1", NOW - 10, None).await;
    block(
        &db,
        "00000000000000r1",
        "caller_key",
        "AKIATESTTESTTESTTEST",
        None,
    )
    .await;
    let row = NewSession::for_tests(ALICE, None, NOW);
    let recheck = Recheck::for_tests(&row);
    assert_eq!(
        vend(&l, row, recheck, "ASIATWO").await,
        Completed::Refused(Refusal::RevokedCredentials)
    );
    assert_eq!(
        states(&db).await,
        [
            ("ASIAONE".into(), "issued".into()),
            ("ASIATWO".into(), "revoked".into())
        ]
    );
}

#[tokio::test]
async fn a_writer_that_cannot_open_the_file_leaves_the_writes_to_the_pool() {
    // The writer's own connection fails to open (here: the file is gone from
    // under its name): the vends are still recorded, through the pool.
    let (_, mut db, dir) = ledger().await;
    db.file = Some(dir.path().join("missing").join("tvm.db"));
    let clock = ManualClock::new(Timestamp::from_second(NOW).unwrap());
    let l = Ledger::new(
        db.clone(),
        LedgerFailure::Closed,
        Duration::from_secs(DAY as u64),
        Arc::new(clock),
        Metrics::new(),
    );
    assert!(matches!(l.sink, Sink::Direct));
    let row = NewSession::for_tests(ALICE, None, NOW);
    let recheck = Recheck::for_tests(&row);
    assert_eq!(vend(&l, row, recheck, "ASIAONE").await, Completed::Issued);
    let n: i64 = sqlx::query("SELECT COUNT(*) FROM sessions WHERE state = 'issued'")
        .fetch_one(&db.read)
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
}
