//! The ledger against a SQLite file (WAL, the batching writer, the read
//! pool): the re-check of each block kind, a batch with one bad write,
//! retention never removing an active revocation, and migration 0005;
//! `writer`: where the writes go (the writer thread beside the pool's
//! writer, an in-memory database, a writer that cannot open the file).

mod writer;

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use sqlx::Row;

use super::*;
use crate::clock::ManualClock;
use crate::config::LedgerFailure;
use crate::database::{connect, Database};
use crate::identity::RequestId;
use crate::metrics::Metrics;

const NOW: i64 = 1_800_000_000;
const DAY: i64 = 86_400;
const ALICE: &str = "arn:aws:iam::111122223333:user/eng/alice";

async fn ledger() -> (Ledger, Database, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("tvm.db").display());
    let db = connect(&url).await.unwrap();
    let clock = ManualClock::new(Timestamp::from_second(NOW).unwrap());
    let l = Ledger::new(
        db.clone(),
        LedgerFailure::Closed,
        Duration::from_secs(90 * DAY as u64),
        Arc::new(clock),
        Metrics::new(),
    );
    assert!(matches!(l.sink, Sink::Batched(_)), "a file has its writer");
    (l, db, dir)
}

async fn exec(db: &Database, sql: &str) {
    sqlx::query(sql).execute(&db.pool).await.unwrap();
}

/// Every row's (vended key, state), by key.
async fn states(db: &Database) -> Vec<(String, String)> {
    sqlx::query_as("SELECT access_key_id, state FROM sessions ORDER BY access_key_id")
        .fetch_all(&db.read)
        .await
        .unwrap()
}

/// Opens a row for `row` and completes it with `key`.
async fn vend(l: &Ledger, row: NewSession, recheck: Recheck, key: &str) -> Completed {
    let p = l.open(row, recheck, &RequestId::generate()).await.unwrap();
    l.complete(&p, key, NOW + 900).await.unwrap()
}

async fn revocation(db: &Database, id: &str, created: i64, lifted: Option<i64>) {
    sqlx::query(
        "INSERT INTO revocations (id, kind, target_type, target, reason, by_arn, by_user_id, \
         self_service, suspends, suspended_until, created_at, request_id, lifted_at) \
         VALUES ($1, 'credentials', 'CallerAccessKeyId', 'k', 'r', 'b', 'b', 0, 0, NULL, $2, 'r', $3)",
    )
    .bind(id)
    .bind(created)
    .bind(lifted)
    .execute(&db.pool)
    .await
    .unwrap();
}

async fn block(db: &Database, rev: &str, kind: &str, value: &str, expires: Option<i64>) {
    sqlx::query(
        "INSERT INTO revocation_blocks (revocation_id, block_type, value, expires_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(rev)
    .bind(kind)
    .bind(value)
    .bind(expires)
    .execute(&db.pool)
    .await
    .unwrap();
}

#[tokio::test]
async fn an_iam_users_temporary_key_is_refused_under_an_iam_user_block_only() {
    let (l, db, _dir) = ledger().await;
    let exact = crate::identity::exact_key(ALICE, "AIDATESTTESTTESTTEST");
    revocation(&db, "00000000000000r1", NOW - 10, None).await;
    block(&db, "00000000000000r1", "iam_user", &exact, None).await;
    // The re-check of a long-term key does not name the IAM user.
    let row = NewSession::for_tests(ALICE, None, NOW);
    let recheck = Recheck::for_tests(&row);
    assert_eq!(vend(&l, row, recheck, "ASIAONE").await, Completed::Issued);
    // A temporary key of the same user does.
    let row = NewSession::for_tests(ALICE, None, NOW);
    let mut recheck = Recheck::for_tests(&row);
    recheck.iam_user = Some(exact);
    assert_eq!(
        vend(&l, row, recheck, "ASIATWO").await,
        Completed::Refused(Refusal::RevokedCredentials)
    );
    // A block of another key, or an expired one, refuses nothing.
    block(&db, "00000000000000r1", "caller_key", "AKIAOTHER", None).await;
    block(
        &db,
        "00000000000000r1",
        "caller_key",
        "AKIATESTTESTTESTTEST",
        Some(NOW - 1),
    )
    .await;
    let row = NewSession::for_tests(ALICE, None, NOW);
    let recheck = Recheck::for_tests(&row);
    assert_eq!(vend(&l, row, recheck, "ASIATHREE").await, Completed::Issued);
    assert_eq!(
        states(&db).await,
        [
            ("ASIAONE".into(), "issued".into()),
            ("ASIATHREE".into(), "issued".into()),
            ("ASIATWO".into(), "revoked".into())
        ]
    );
}

#[tokio::test]
async fn one_bad_write_in_a_batch_fails_alone() {
    let (l, db, _dir) = ledger().await;
    // Two completions that both claim one vended key (UNIQUE): the second
    // fails, every other write of the burst succeeds.
    let mut pending = Vec::new();
    for _ in 0..20 {
        let row = NewSession::for_tests(ALICE, None, NOW);
        let recheck = Recheck::for_tests(&row);
        pending.push(l.open(row, recheck, &RequestId::generate()).await.unwrap());
    }
    let keys: Vec<String> = (0..20)
        .map(|i| {
            if i == 7 {
                "ASIADUP".into()
            } else {
                format!("ASIA{i:04}")
            }
        })
        .collect();
    let first = l.complete(&pending[3], "ASIADUP", NOW + 900).await.unwrap();
    assert_eq!(first, Completed::Issued);
    let results = futures_util::future::join_all(
        pending
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != 3)
            .map(|(i, p)| l.complete(p, &keys[i], NOW + 900)),
    )
    .await;
    let failed = results.iter().filter(|r| r.is_err()).count();
    assert_eq!(failed, 1, "{results:?}");
    let issued: i64 = sqlx::query("SELECT COUNT(*) FROM sessions WHERE state = 'issued'")
        .fetch_one(&db.read)
        .await
        .unwrap()
        .get(0);
    assert_eq!(issued, 19);
    // A completion of a row that is no longer pending is an error.
    assert!(l
        .complete(&pending[3], "ASIAAGAIN", NOW + 900)
        .await
        .is_err());
}

#[tokio::test]
async fn retention_never_removes_an_active_revocation_block_or_suspension() {
    let (_l, db, _dir) = ledger().await;
    let old = NOW - 100 * DAY;
    let retention = Duration::from_secs(90 * DAY as u64);
    // Ledger rows: one expired long ago, one recent.
    for (key, expires) in [("ASIAOLD", old), ("ASIANEW", NOW - DAY)] {
        let mut row = NewSession::for_tests(ALICE, None, old);
        row.expires_at = expires;
        let _ = key;
        sqlx::query(
            "INSERT INTO sessions (row_id, state, request_id, created_at, expires_at, caller_arn, \
             caller_user_id, caller_account, caller_access_key_id, client_address, username, \
             profile, role_arn, kind, source_identity, session_name) \
             VALUES ($1, 'issued', 'r', $2, $3, $4, 'u', 'a', 'k', '', 'alice', 'p', 'r', \
             'direct', 's', 'n')",
        )
        .bind(key)
        .bind(old)
        .bind(row.expires_at)
        .bind(ALICE)
        .execute(&db.pool)
        .await
        .unwrap();
    }
    // Revocations, all created long ago:
    // r1 lifted long ago, its block lifted: goes.
    revocation(&db, "r1", old, Some(old + 1)).await;
    exec(
        &db,
        "INSERT INTO revocation_blocks (revocation_id, block_type, value, expires_at, lifted_at) \
         VALUES ('r1', 'caller_key', 'AKIA1', NULL, 1)",
    )
    .await;
    // r2: an AKIA key blocked until lifted: stays.
    revocation(&db, "r2", old, None).await;
    block(&db, "r2", "caller_key", "AKIA2", None).await;
    // r3: an ASIA key block that expired long ago: goes.
    revocation(&db, "r3", old, None).await;
    block(&db, "r3", "caller_key", "ASIA3", Some(old + 36 * 3_600)).await;
    // r4: a suspension until lifted (no block row needed): stays.
    exec(
        &db,
        &format!(
            "INSERT INTO revocations (id, kind, target_type, target, reason, by_arn, by_user_id, \
             self_service, suspends, suspended_until, created_at, request_id) VALUES ('r4', \
             'person', 'User', 'alice', 'r', 'b', 'b', 0, 1, NULL, {old}, 'r')"
        ),
    )
    .await;
    // r5: lifted long ago, but a session key it blocked is still live: stays.
    revocation(&db, "r5", old, Some(old + 1)).await;
    block(&db, "r5", "caller_key", "ASIA5", Some(NOW + 3_600)).await;
    // r6: recent: stays.
    revocation(&db, "r6", NOW - DAY, Some(NOW - DAY)).await;
    // Expired sign-in codes and web sessions go; live ones stay.
    exec(
        &db,
        &format!(
            "INSERT INTO ui_login_codes VALUES ('c1', 'a', 'u', '/ui/', {}, NULL)",
            NOW - 1
        ),
    )
    .await;
    exec(
        &db,
        &format!(
            "INSERT INTO ui_login_codes VALUES ('c2', 'a', 'u', '/ui/', {}, NULL)",
            NOW + 60
        ),
    )
    .await;
    exec(
        &db,
        &format!(
            "INSERT INTO ui_sessions VALUES ('s1', 'a', 'u', 0, {}, NULL)",
            NOW - 1
        ),
    )
    .await;
    // Audit events: one older than the retention, one inside it.
    for (id, at) in [("e-old", old), ("e-new", NOW - DAY)] {
        sqlx::query(
            "INSERT INTO audit_events (id, at, event, actor, actor_key, actor_sso, subject, \
             subject_key, subject_sso, profile, source_identity, request_id, detail) \
             VALUES ($1, $2, 'vended', 'a', '', '', 's', '', '', '', '', 'r', '')",
        )
        .bind(id)
        .bind(at)
        .execute(&db.pool)
        .await
        .unwrap();
    }

    let n = prune(&db.pool, NOW, retention).await.unwrap();
    let ids = |sql: &'static str| {
        let db = db.clone();
        async move {
            let rows: Vec<(String,)> = sqlx::query_as(sql).fetch_all(&db.read).await.unwrap();
            rows.into_iter().map(|r| r.0).collect::<Vec<_>>()
        }
    };
    assert_eq!(ids("SELECT row_id FROM sessions").await, ["ASIANEW"]);
    assert_eq!(
        ids("SELECT id FROM revocations ORDER BY id").await,
        ["r2", "r4", "r5", "r6"]
    );
    assert_eq!(
        ids("SELECT value FROM revocation_blocks ORDER BY value").await,
        ["AKIA2", "ASIA5"]
    );
    assert_eq!(ids("SELECT code_digest FROM ui_login_codes").await, ["c2"]);
    assert!(ids("SELECT session_digest FROM ui_sessions")
        .await
        .is_empty());
    assert_eq!(ids("SELECT id FROM audit_events").await, ["e-new"]);
    assert_eq!(n, 1 + 1 + 2 + 2 + 1 + 1);
    // Idempotent.
    assert_eq!(prune(&db.pool, NOW, retention).await.unwrap(), 0);
}

#[tokio::test]
async fn migration_5_moves_grant_vends_into_the_ledger() {
    sqlx::any::install_default_drivers();
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await
        .unwrap();
    for sql in [
        include_str!("../../../migrations/0001_approvals.sql"),
        include_str!("../../../migrations/0002_ui_sign_in.sql"),
        include_str!("../../../migrations/0003_audit_seq.sqlite.sql"),
        include_str!("../../../migrations/0004_ledger_revocations.sql"),
    ] {
        sqlx::raw_sql(sql).execute(&pool).await.unwrap();
    }
    sqlx::raw_sql(
        "INSERT INTO approval_requests VALUES ('aaaaaaaaaaaaaaaa', 'approved', 'prod-admin', \
         'prod', 'd', 1, 3600, 'arn:aws:iam::111122223333:user/eng/alice', 'AIDAALICE', 'c', \
         'alice', 'why', 1800, 100, 200, 3700, 1, NULL);
         INSERT INTO break_glass_records VALUES ('bbbbbbbbbbbbbbbb', 'prod-admin', 'bg', \
         'arn:aws:iam::111122223333:user/eng/bob', 'AIDABOB', 'fire', 900, 'h', 300);
         INSERT INTO grant_vends VALUES ('aaaaaaaaaaaaaaaa', 'req1', 'tvm.alice.apr-aaaaaaaa.req1', 1800, 150);
         INSERT INTO grant_vends VALUES ('bbbbbbbbbbbbbbbb', 'req2', 'tvm.bob.brk-bbbbbbbb.req2', 900, 300);",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::raw_sql(include_str!(
        "../../../migrations/0005_ledger_replaces_grant_vends.sql"
    ))
    .execute(&pool)
    .await
    .unwrap();
    let rows: Vec<(String, String, String, String, i64)> = sqlx::query_as(
        "SELECT grant_id, kind, caller_arn, state, expires_at FROM sessions ORDER BY created_at",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        rows,
        [
            (
                "aaaaaaaaaaaaaaaa".into(),
                "approval".into(),
                "arn:aws:iam::111122223333:user/eng/alice".into(),
                "issued".into(),
                1950
            ),
            (
                "bbbbbbbbbbbbbbbb".into(),
                "break_glass".into(),
                "arn:aws:iam::111122223333:user/eng/bob".into(),
                "issued".into(),
                1200
            ),
        ]
    );
    assert_eq!(
        vends_of_grant(&pool, "aaaaaaaaaaaaaaaa").await.unwrap(),
        [("req1".into(), "tvm.alice.apr-aaaaaaaa.req1".into())]
    );
    assert!(sqlx::query("SELECT 1 FROM grant_vends")
        .fetch_all(&pool)
        .await
        .is_err());
}
