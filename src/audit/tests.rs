//! The audit trail over an in-memory SQLite: order, visibility per reader,
//! the age rule, paging, cursors, retention, and the move of §12's rows.

use super::*;
use crate::database::connect;
use crate::identity::{AccountId, CallerArn};

const ALICE: &str = "arn:aws:iam::111122223333:user/eng/alice";
const BOB: &str = "arn:aws:iam::111122223333:user/eng/bob";
const SSO_ALICE_A: &str =
    "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Dev_abc/Alice@Example.com";
const SSO_ALICE_B: &str =
    "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_def/alice@example.com";

fn keys(arn: &str, user_id: &str) -> OwnerKeys {
    let arn: CallerArn = arn.parse().unwrap();
    OwnerKeys::of(&arn, user_id, &[AccountId::parse("111122223333").unwrap()])
}

async fn write(pool: &sqlx::AnyPool, ev: AuditEvent) {
    let mut tx = pool.begin().await.unwrap();
    let logged = record_event(&mut tx, ev).await.unwrap();
    tx.commit().await.unwrap();
    logged.emit();
}

fn ev(name: &str, at: i64) -> AuditEvent {
    AuditEvent::new(name, at, &RequestId::generate())
}

fn q(since: i64, until: i64, after: i64, limit: u32, served_before: i64) -> PageQuery {
    PageQuery {
        since,
        until,
        after,
        limit,
        served_before,
    }
}

#[tokio::test]
async fn own_events_are_those_one_acted_in_or_owns_and_admins_see_all() {
    let db = connect("sqlite::memory:").await.unwrap();
    let alice = keys(ALICE, "AIDAALICE");
    let bob = keys(BOB, "AIDABOB");
    write(
        &db.pool,
        ev("created", 10)
            .actor(ALICE, Some(alice.clone()))
            .subject("r1", Some(alice.clone())),
    )
    .await;
    write(
        &db.pool,
        ev("approved", 11)
            .actor(BOB, Some(bob.clone()))
            .subject("r1", Some(alice.clone())),
    )
    .await;
    write(
        &db.pool,
        ev("created", 12)
            .actor(BOB, Some(bob.clone()))
            .subject("r2", Some(bob.clone())),
    )
    .await;
    write(
        &db.pool,
        ev("moved", 13).actor(ALICE, None).subject("r3", None),
    )
    .await;

    let all = q(0, 100, 0, 10, 100);
    let seqs = |p: Page| {
        p.events
            .iter()
            .map(|e| e.event.clone() + &e.subject)
            .collect::<Vec<_>>()
    };
    let a = page(&db.pool, Reader::Own(&alice), all).await.unwrap();
    assert_eq!(seqs(a), ["createdr1", "approvedr1"]);
    let b = page(&db.pool, Reader::Own(&bob), all).await.unwrap();
    assert_eq!(seqs(b), ["approvedr1", "createdr2"]);
    // Same ARN text but another UserId (a recreated user): not the same identity.
    let other = keys(ALICE, "AIDAOTHER");
    assert!(page(&db.pool, Reader::Own(&other), all)
        .await
        .unwrap()
        .events
        .is_empty());
    let admin = page(&db.pool, Reader::Admin, all).await.unwrap();
    assert_eq!(admin.events.len(), 4);
    assert!(admin.events.windows(2).all(|w| w[0].seq < w[1].seq));
}

#[tokio::test]
async fn an_identity_center_person_sees_their_events_across_permission_sets() {
    let db = connect("sqlite::memory:").await.unwrap();
    let a = keys(SSO_ALICE_A, "AROAAAAAAAAAAAAAAAAA1:Alice@Example.com");
    let b = keys(SSO_ALICE_B, "AROAAAAAAAAAAAAAAAAA2:alice@example.com");
    write(&db.pool, ev("vended", 10).actor(SSO_ALICE_A, Some(a))).await;
    let got = page(&db.pool, Reader::Own(&b), q(0, 100, 0, 10, 100))
        .await
        .unwrap();
    assert_eq!(got.events.len(), 1);
    // Outside sso_accounts the same name is an ordinary role session.
    let foreign: CallerArn =
        "arn:aws:sts::999999999999:assumed-role/AWSReservedSSO_Dev_abc/alice@example.com"
            .parse()
            .unwrap();
    let f = OwnerKeys::of(&foreign, "AROAAAAAAAAAAAAAAAAA9:alice@example.com", &[]);
    let got = page(&db.pool, Reader::Own(&f), q(0, 100, 0, 10, 100))
        .await
        .unwrap();
    assert!(got.events.is_empty());
}

#[tokio::test]
async fn pages_follow_seq_with_until_exclusive_and_stop_at_a_row_not_yet_old_enough() {
    let db = connect("sqlite::memory:").await.unwrap();
    for at in [10, 20, 30, 40, 50] {
        write(&db.pool, ev("e", at).actor(ALICE, None)).await;
    }
    let first = page(&db.pool, Reader::Admin, q(20, 50, 0, 2, 1000))
        .await
        .unwrap();
    let ats: Vec<_> = first.events.iter().map(|e| e.at.clone()).collect();
    assert_eq!(ats, [rfc3339(20), rfc3339(30)]);
    let next = first.next.expect("more rows");
    let second = page(&db.pool, Reader::Admin, q(20, 50, next, 2, 1000))
        .await
        .unwrap();
    assert_eq!(second.events.len(), 1, "until is exclusive");
    assert_eq!(second.next, None);
    // Rows at or after served_before stop the page, even with room left.
    let young = page(&db.pool, Reader::Admin, q(0, 100, 0, 10, 30))
        .await
        .unwrap();
    assert_eq!(young.events.len(), 2);
    assert_eq!(young.next, None);
    // A full page whose next row is still young has no Next either.
    let full = page(&db.pool, Reader::Admin, q(0, 100, 0, 2, 30))
        .await
        .unwrap();
    assert_eq!((full.events.len(), full.next), (2, None));
}

#[tokio::test]
async fn a_young_row_numbered_first_holds_back_older_rows_after_it() {
    // Replica clocks differ: seq 1 has at=50, seq 2 at=10. Serving seq 2
    // first would move the cursor past seq 1 before it is served.
    let db = connect("sqlite::memory:").await.unwrap();
    write(&db.pool, ev("late", 50).actor(ALICE, None)).await;
    write(&db.pool, ev("early", 10).actor(ALICE, None)).await;
    let p = page(&db.pool, Reader::Admin, q(0, 100, 0, 10, 40))
        .await
        .unwrap();
    assert!(p.events.is_empty());
    assert_eq!(p.next, None);
}

#[tokio::test]
async fn cursors_round_trip_and_anything_else_is_refused() {
    for seq in [0, 1, 42, i64::MAX] {
        assert_eq!(decode_cursor(&encode_cursor(seq)), Some(seq));
    }
    let good = encode_cursor(7);
    for bad in [
        "",
        "7",
        "abc",
        &format!("{good}="),
        &good.to_uppercase(),
        &"A".repeat(100),
    ] {
        assert_eq!(decode_cursor(bad), None, "{bad}");
    }
    let forged = URL_SAFE_NO_PAD_ENCODE("tvm-audit-v1:-1");
    assert_eq!(decode_cursor(&forged), None);
    let padded = URL_SAFE_NO_PAD_ENCODE("tvm-audit-v1:007");
    assert_eq!(decode_cursor(&padded), None);
}

#[allow(non_snake_case)]
fn URL_SAFE_NO_PAD_ENCODE(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

#[tokio::test]
async fn the_trail_reads_audit_events_and_keyless_rows_are_for_admins_only() {
    let db = connect("sqlite::memory:").await.unwrap();
    let http = RequestId::generate();
    let mut tx = db.pool.begin().await.unwrap();
    for (event, actor, at) in [("created", ALICE, 10), ("approved", BOB, 20)] {
        let ev = AuditEvent::new(event, at, &http)
            .actor(actor, None)
            .subject("r1", None);
        let _ = record_event(&mut tx, ev).await.unwrap();
    }
    tx.commit().await.unwrap();
    let trail = trail(&db.pool, "r1").await.unwrap();
    assert_eq!(
        trail[0],
        ("created".into(), ALICE.into(), http.as_str().into(), 10)
    );
    assert_eq!(trail[1].0, "approved");
    let alice = keys(ALICE, "AIDAALICE");
    let own = page(&db.pool, Reader::Own(&alice), q(0, 100, 0, 10, 100))
        .await
        .unwrap();
    assert!(own.events.is_empty());
    assert_eq!(trail_len(&db.pool).await, 2);
}

async fn trail_len(pool: &sqlx::AnyPool) -> i64 {
    sqlx::query("SELECT COUNT(*) FROM audit_events")
        .fetch_one(pool)
        .await
        .unwrap()
        .try_get(0)
        .unwrap()
}

#[tokio::test]
async fn a_rolled_back_change_leaves_no_row() {
    let db = connect("sqlite::memory:").await.unwrap();
    let mut tx = db.pool.begin().await.unwrap();
    let logged = record_event(&mut tx, ev("created", 10).actor(ALICE, None))
        .await
        .unwrap();
    assert_eq!(logged.event().seq, 1);
    tx.rollback().await.unwrap();
    assert_eq!(trail_len(&db.pool).await, 0);
}

#[tokio::test]
async fn migration_0008_moves_the_old_rows_with_their_order_and_the_sequence_continues() {
    use sqlx::any::AnyPoolOptions;
    sqlx::any::install_default_drivers();
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await
        .unwrap();
    for sql in [
        include_str!("../../migrations/0001_approvals.sql"),
        include_str!("../../migrations/0002_ui_sign_in.sql"),
        include_str!("../../migrations/0003_audit_seq.sqlite.sql"),
    ] {
        sqlx::raw_sql(sql).execute(&pool).await.unwrap();
    }
    // Written in this order within one second: seq, not id, is the order.
    for (id, action) in [("zz", "created"), ("aa", "approved"), ("mm", "vended")] {
        sqlx::query(
            "INSERT INTO approval_audit (id, subject_id, action, actor_arn, detail, \
             http_request_id, at) VALUES ($1, 'r1', $2, $3, 'd', 'h', 100)",
        )
        .bind(id)
        .bind(action)
        .bind(ALICE)
        .execute(&pool)
        .await
        .unwrap();
    }
    sqlx::raw_sql(include_str!(
        "../../migrations/0008_audit_events.sqlite.sql"
    ))
    .execute(&pool)
    .await
    .unwrap();
    let t = trail(&pool, "r1").await.unwrap();
    let events: Vec<_> = t.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(events, ["created", "approved", "vended"]);
    let mut tx = pool.begin().await.unwrap();
    let logged = record_event(&mut tx, ev("denied", 200).subject("r1", None))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(logged.event().seq, 4);
    let old = sqlx::query("SELECT COUNT(*) FROM sqlite_master WHERE name = 'approval_audit'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(old.try_get::<i64, _>(0).unwrap(), 0);
}
