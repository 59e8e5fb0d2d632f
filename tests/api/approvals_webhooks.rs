//! Break-glass vends and webhook delivery (DESIGN §12): a local receiver that
//! refuses the first attempts, signatures computed afresh per attempt with a
//! stable event id, and delivery after tvm restarts between the change and
//! the delivery.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;

use crate::support::*;

const POLICY_BG: &str = r#"version: 1
profiles:
  prod-admin:
    role_arn: arn:aws:iam::111122223333:role/TvmProdAdmin
    max_duration: 2h
rules:
  - name: deny-mallory
    effect: deny
    principals: ["arn:aws:iam::444455556666:user/eng/mallory"]
  - name: prod-break-glass
    effect: break_glass
    accounts: ["111122223333"]
    principals: ["arn:aws:iam::111122223333:user/eng/*", "arn:aws:sts::111122223333:assumed-role/Deploy/*"]
    profiles: ["prod-admin"]
    reason_min_length: 20
"#;

const SECRET: &[u8] = b"webhook-secret";

/// What the receiver saw: (timestamp, signature, body) per attempt.
#[derive(Clone, Default)]
struct Receiver {
    seen: Arc<Mutex<Vec<(String, String, String)>>>,
    fail_first: Arc<AtomicUsize>,
}

async fn receiver(rx: Receiver) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let app = axum::Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: String| {
            let rx = rx.clone();
            async move {
                let h = |n: &str| {
                    headers
                        .get(n)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned()
                };
                rx.seen
                    .lock()
                    .unwrap()
                    .push((h("x-tvm-timestamp"), h("x-tvm-signature"), body));
                let left = rx.fail_first.load(Ordering::SeqCst);
                if left > 0 {
                    rx.fail_first.store(left - 1, Ordering::SeqCst);
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::OK
                }
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

async fn app_with(url: &str, database_url: Option<String>) -> TestApp {
    spawn_app_with(Options {
        approvals: true,
        database_url,
        policy_text: Some(POLICY_BG.into()),
        webhooks: vec![(
            url.to_owned(),
            vec!["break_glass.used".into()],
            SECRET.to_vec(),
        )],
        ..Options::default()
    })
    .await
}

const REASON: &str = "prod is down <https://evil|click> & paging";

async fn wait_for(rx: &Receiver, n: usize) {
    for _ in 0..600 {
        if rx.seen.lock().unwrap().len() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("webhook attempts: {} < {n}", rx.seen.lock().unwrap().len());
}

fn check_signatures(rx: &Receiver) -> serde_json::Value {
    let seen = rx.seen.lock().unwrap().clone();
    let mut ids = seen.iter().map(|(ts, sig, body)| {
        let ts: i64 = ts.parse().unwrap();
        assert_eq!(sig, &tvm::approvals::sign(SECRET, ts, body.as_bytes()));
        serde_json::from_str::<serde_json::Value>(body).unwrap()
    });
    let first = ids.next().unwrap();
    for other in ids {
        assert_eq!(other["id"], first["id"], "the id is stable across attempts");
    }
    first
}

#[tokio::test]
async fn break_glass_vends_at_once_and_is_notified_after_failed_attempts() {
    let rx = Receiver::default();
    rx.fail_first.store(2, Ordering::SeqCst);
    let url = receiver(rx.clone()).await;
    let app = app_with(&url, None).await;

    // Too short a reason: 400, no STS.
    let short = app
        .vend(
            &app.alice,
            r#"{"profile": "prod-admin", "reason": "because"}"#,
        )
        .await;
    assert_eq!(
        (short.status, short.code().as_str()),
        (400, "INVALID_REQUEST")
    );
    // A plain vend meets no rule: 403.
    let plain = app.vend(&app.alice, r#"{"profile": "prod-admin"}"#).await;
    assert_eq!((plain.status, plain.code().as_str()), (403, "POLICY_DENY"));
    // A role session that is not a person: 403.
    let deploy = app.add_session(
        "arn:aws:iam::111122223333:role/Deploy",
        "alice",
        jiff::SignedDuration::from_hours(1),
    );
    let body = format!(r#"{{"profile": "prod-admin", "reason": "{REASON}"}}"#);
    let role = app.vend(&deploy, &body).await;
    assert_eq!((role.status, role.code().as_str()), (403, "POLICY_DENY"));
    // Longer than the break-glass cap (1h): 400 INVALID_DURATION.
    let long = app
        .vend(
            &app.alice,
            &format!(
                r#"{{"profile": "prod-admin", "reason": "{REASON}", "duration_seconds": 7200}}"#
            ),
        )
        .await;
    assert_eq!(
        (long.status, long.code().as_str()),
        (400, "INVALID_DURATION")
    );
    assert_eq!(app.sts_calls("AssumeRole"), 0);

    let ok = app.vend(&app.alice, &body).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let si = ok.json()["SourceIdentity"].as_str().unwrap().to_owned();
    let marker = si.split('.').rev().nth(1).unwrap().to_owned();
    assert!(marker.starts_with("bg-") && marker.len() == 11, "{si}");
    assert_eq!(app.sts_calls("AssumeRole"), 1);

    wait_for(&rx, 3).await;
    let event = check_signatures(&rx);
    assert_eq!(event["event"], "break_glass.used");
    assert!(event["request"]["Id"]
        .as_str()
        .unwrap()
        .starts_with(&marker[3..]));
    let text = event["text"].as_str().unwrap();
    assert!(
        text.contains("&lt;https://evil|click&gt; &amp; paging"),
        "{text}"
    );
    assert!(!text.contains('<'));
    let metrics = app.get(&app.admin, "/metrics", None).await.body;
    assert_eq!(
        metric(
            &metrics,
            "tvm_webhook_deliveries_total{event=\"break_glass.used\",result=\"delivered\"}"
        ),
        1.0
    );
    assert_eq!(metric(&metrics, "tvm_break_glass_total"), 1.0);
    assert!(
        !crate::support::logs_text().contains(&url),
        "webhook URLs are never logged"
    );
}

#[tokio::test]
async fn an_event_still_arrives_when_tvm_restarts_before_delivery() {
    let rx = Receiver::default();
    // Every attempt of the first process fails.
    rx.fail_first.store(usize::MAX / 2, Ordering::SeqCst);
    let url = receiver(rx.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("a.db").display());
    let first = app_with(&url, Some(db.clone())).await;
    let body = format!(r#"{{"profile": "prod-admin", "reason": "{REASON}"}}"#);
    assert_eq!(first.vend(&first.alice, &body).await.status, 200);
    wait_for(&rx, 1).await;
    let mut first = first;
    let _ = first.begin_shutdown().await;
    drop(first);
    rx.fail_first.store(0, Ordering::SeqCst);
    let attempts = rx.seen.lock().unwrap().len();
    let _second = app_with(&url, Some(db)).await;
    wait_for(&rx, attempts + 1).await;
    let event = check_signatures(&rx);
    assert_eq!(event["event"], "break_glass.used");
}
