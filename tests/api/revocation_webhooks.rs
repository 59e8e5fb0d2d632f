//! The webhooks of DESIGN §13 through the approvals outbox: `session.ended`
//! for a self-service revocation, `revocation.created` for an admin's and
//! `revocation.lifted`, each `text` escaped like §12's reason.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::routing::post;

use crate::revocation::{rev_app_with, BOB_ARN};
use crate::support::*;

async fn receiver(seen: Arc<Mutex<Vec<serde_json::Value>>>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let app = axum::Router::new().route(
        "/hook",
        post(move |body: String| {
            let seen = seen.clone();
            async move {
                seen.lock()
                    .unwrap()
                    .push(serde_json::from_str(&body).unwrap());
                axum::http::StatusCode::OK
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

async fn event(seen: &Arc<Mutex<Vec<serde_json::Value>>>, name: &str) -> serde_json::Value {
    for _ in 0..100 {
        if let Some(e) = seen.lock().unwrap().iter().find(|e| e["event"] == name) {
            return e.clone();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no {name} event");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocations_are_notified_and_their_text_is_escaped() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let url = receiver(seen.clone()).await;
    let events = ["revocation.created", "revocation.lifted", "session.ended"];
    let r = rev_app_with(Options {
        webhooks: vec![(
            url,
            events.iter().map(|e| (*e).to_owned()).collect(),
            b"secret".to_vec(),
        )],
        ..Options::default()
    })
    .await;
    let a = r.app.vend(&r.app.alice, r#"{"profile": "readonly"}"#).await;
    let key = a.json()["AccessKeyId"].as_str().unwrap().to_owned();
    let own = r
        .app
        .call(
            &r.app.alice,
            "POST",
            &format!("/sessions/{key}/revoke"),
            r#"{"reason": "done for today"}"#,
        )
        .await;
    assert_eq!(own.status, 201, "{}", own.body);
    let ended = event(&seen, "session.ended").await;
    assert_eq!(ended["request"]["Kind"], "session");
    assert!(ended["text"].as_str().unwrap().contains("done for today"));

    let bob_key = r.bob.creds.access_key_id().to_owned();
    let body = serde_json::json!({
        "target": {"CallerAccessKeyId": bob_key},
        "reason": "leaked <https://evil|click> [x](y) \u{202e}gpj.exe\nsecond line",
    })
    .to_string();
    let created = r.app.call(&r.dave, "POST", "/revocations", &body).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let e = event(&seen, "revocation.created").await;
    let text = e["text"].as_str().unwrap();
    for raw in ["<", ">", "\u{202e}", "\n", "[x]"] {
        assert!(!text.contains(raw), "{raw:?} in {text}");
    }
    assert!(text.contains("&lt;https://evil|click&gt;"), "{text}");
    assert!(text.contains("\\u{202e}"), "{text}");
    assert_eq!(
        e["request"]["Target"]["CallerAccessKeyId"],
        bob_key.as_str()
    );
    assert!(
        e["request"]["Reason"]
            .as_str()
            .unwrap()
            .contains('\u{202e}'),
        "kept as given"
    );
    let _ = BOB_ARN;

    let id = created.json()["Id"].as_str().unwrap().to_owned();
    let lifted = r
        .app
        .call(
            &r.dave,
            "POST",
            &format!("/revocations/{id}/lift"),
            r#"{"reason": "rotated <b>"}"#,
        )
        .await;
    assert_eq!(lifted.status, 200, "{}", lifted.body);
    let e = event(&seen, "revocation.lifted").await;
    assert!(e["text"].as_str().unwrap().contains("rotated &lt;b&gt;"));
    assert_eq!(e["request"]["LiftReason"], "rotated <b>");
}
