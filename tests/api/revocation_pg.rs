//! Revocation across two replicas on one Postgres (DESIGN §13, "Blocks, at
//! once and on every replica"): a block written through one replica is
//! enforced by the other within `revocation.refresh` (100 ms in tests), and
//! so is its lift. Each replica has its own simulator, so the same IAM user
//! and key are registered on both. Skips outside CI without Postgres.

use std::time::{Duration, Instant};

use crate::postgres::Postgres;
use crate::revocation::{BOB_ARN, POLICY_REV, SEC_ARN};
use crate::support::*;

async fn replica(url: &str) -> TestApp {
    spawn_app_with(Options {
        approvals: true,
        database_url: Some(url.to_owned()),
        policy_text: Some(POLICY_REV.into()),
        ..Options::default()
    })
    .await
}

/// The same IAM user and key on both simulators.
fn twin(a: &TestApp, b: &TestApp, arn: &str, key: &str) -> Caller {
    let secret = "s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t";
    a.sim.add_user(arn, key, secret).unwrap();
    b.sim.add_user(arn, key, secret).unwrap();
    Caller {
        creds: aws_credential_types::Credentials::new(key, secret, None, None, "test"),
    }
}

/// How long until `who` gets `status` on `GET /sessions` at `app`.
async fn until_status(app: &TestApp, who: &Caller, status: u16) -> Duration {
    let started = Instant::now();
    loop {
        if app.call(who, "GET", "/sessions", "").await.status == status {
            return started.elapsed();
        }
        assert!(started.elapsed() < Duration::from_secs(5), "never {status}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_on_postgres_agree_on_blocks_within_refresh() {
    let Some(pg) = Postgres::start() else { return };
    let a = replica(&pg.url).await;
    let b = replica(&pg.url).await;
    let bob = twin(&a, &b, BOB_ARN, "AKIABOBBOBBOBBOBBOB1");
    let dave = twin(&a, &b, SEC_ARN, "AKIADAVEDAVEDAVEDAV1");
    assert_eq!(b.call(&bob, "GET", "/sessions", "").await.status, 200);

    let body = r#"{"target": {"CallerAccessKeyId": "AKIABOBBOBBOBBOBBOB1"}, "reason": "leaked"}"#;
    let revoked = a.call(&dave, "POST", "/revocations", body).await;
    assert_eq!(revoked.status, 201, "{}", revoked.body);
    // The writing replica applies it at once.
    assert_eq!(a.call(&bob, "GET", "/sessions", "").await.status, 403);
    // The other within refresh (100 ms), with room for a loaded machine.
    let waited = until_status(&b, &bob, 403).await;
    assert!(waited < Duration::from_millis(1_000), "{waited:?}");
    let assumed = b.sts_calls("AssumeRole");
    let vend = b.vend(&bob, r#"{"profile": "readonly"}"#).await;
    assert_eq!((vend.status, vend.code().as_str()), (403, "POLICY_DENY"));
    assert_eq!(b.sts_calls("AssumeRole"), assumed);

    // Lifted through b: a follows.
    let id = revoked.json()["Id"].as_str().unwrap().to_owned();
    let lifted = b
        .call(
            &dave,
            "POST",
            &format!("/revocations/{id}/lift"),
            r#"{"reason": "rotated"}"#,
        )
        .await;
    assert_eq!(lifted.status, 200, "{}", lifted.body);
    let waited = until_status(&a, &bob, 200).await;
    assert!(waited < Duration::from_millis(1_000), "{waited:?}");
    // Both see the same object.
    let shown = a
        .call(&dave, "GET", &format!("/revocations/{id}"), "")
        .await;
    assert_eq!(shown.json()["LiftReason"], "rotated");
    // The admin lists on Postgres too.
    for path in [
        "/sessions?all=true&status=all",
        "/revocations?status=all",
        "/sessions",
    ] {
        let a = b.call(&dave, "GET", path, "").await;
        assert_eq!(a.status, 200, "{path}: {}", a.body);
    }
    let alice = a.call(&a.alice, "GET", "/sessions?user=alice", "").await;
    assert_eq!(alice.status, 403, "not an admin");
}
