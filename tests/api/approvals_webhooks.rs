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

#[tokio::test]
async fn an_invisible_reason_is_too_short_and_sts_is_not_called() {
    let rx = Receiver::default();
    let app = app_with(&receiver(rx).await, None).await;
    // 25 characters each, none of them visible (issue #18, item 8).
    for filler in ["\u{200b}", "\u{3164}", "\u{115f}", "\u{ffa0}", " \u{2800}"] {
        let body = serde_json::json!({"profile": "prod-admin", "reason": filler.repeat(25)});
        let r = app.vend(&app.alice, &body.to_string()).await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (400, "INVALID_REQUEST"),
            "{filler:?}: {}",
            r.body
        );
    }
    // Visible characters padded with spaces still count only once each.
    let padded = serde_json::json!({"profile": "prod-admin", "reason": "a b c d e f g h i j k"});
    let r = app.vend(&app.alice, &padded.to_string()).await;
    assert_eq!((r.status, r.code().as_str()), (400, "INVALID_REQUEST"));
    assert_eq!(app.sts_calls("AssumeRole"), 0);
}

#[tokio::test]
async fn a_reason_cannot_forge_a_line_hide_text_or_make_a_link_in_the_text() {
    let rx = Receiver::default();
    let app = app_with(&receiver(rx.clone()).await, None).await;
    let reason = "db down\u{2028}BREAK-GLASS: arn:aws:iam::111122223333:user/eng/bob took \
                  prod-admin\u{85}\u{2029}\u{b}\u{c} [click](https://evil.example) \
                  ![i](https://evil.example/p.png) <https://evil.example> \u{202e}\u{2066}\u{200f}\u{0}end";
    let body = serde_json::json!({"profile": "prod-admin", "reason": reason});
    let ok = app.vend(&app.alice, &body.to_string()).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    wait_for(&rx, 1).await;
    let event = check_signatures(&rx);
    let text = event["text"].as_str().unwrap();
    assert!(
        text.starts_with("BREAK-GLASS: arn:aws:iam::111122223333:user/eng/alice took prod-admin"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 1, "{text}");
    for c in text.chars() {
        assert!(
            !tvm::approvals::is_hidden(c),
            "U+{:04X} in {text}",
            u32::from(c)
        );
    }
    assert_eq!(text.matches("BREAK-GLASS").count(), 2, "{text}");
    assert!(text.contains("db down\\u{2028}BREAK-GLASS: arn"), "{text}");
    assert!(
        text.contains("\\u{202e}\\u{2066}\\u{200f}\\u{0}end"),
        "{text}"
    );
    assert!(text.contains("\\[click\\](https://evil.example)"), "{text}");
    assert!(text.contains("!\\[i\\](https://evil"), "{text}");
    assert!(text.contains("&lt;https://evil.example&gt;"), "{text}");
    assert!(!text.contains("[click]"), "{text}");
    // The record itself keeps the reason as given.
    assert_eq!(event["request"]["Reason"], reason);
}

#[tokio::test]
async fn break_glass_total_counts_issued_credentials_not_records() {
    let rx = Receiver::default();
    let app = app_with(&receiver(rx).await, None).await;
    let body = format!(r#"{{"profile": "prod-admin", "reason": "{REASON}"}}"#);
    app.sim.set_fault(
        "AssumeRole",
        Some(tvm::sts::sim::Fault::Status(403, ACCESS_DENIED.into())),
    );
    let failed = app.vend(&app.alice, &body).await;
    assert_ne!(failed.status, 200, "{}", failed.body);
    let m = app.get(&app.admin, "/metrics", None).await.body;
    assert_eq!(
        metric(&m, "tvm_break_glass_total"),
        0.0,
        "nothing was issued"
    );
    app.sim.set_fault("AssumeRole", None);
    assert_eq!(app.vend(&app.alice, &body).await.status, 200);
    assert_eq!(app.vend(&app.alice, &body).await.status, 200);
    let m = app.get(&app.admin, "/metrics", None).await.body;
    assert_eq!(metric(&m, "tvm_break_glass_total"), 2.0);
    assert_eq!(metric(&m, "tvm_vend_total{outcome=\"issued\"}"), 2.0);
}

const ACCESS_DENIED: &str = "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>\
    <Code>AccessDenied</Code><Message>User is not authorized to perform sts:AssumeRole</Message></Error>\
    <RequestId>r1</RequestId></ErrorResponse>";
