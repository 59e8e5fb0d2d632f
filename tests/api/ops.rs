//! Health, metrics, logs and graceful shutdown.

use std::time::Duration;

use tvm::sts::sim::Fault;

use crate::support::*;

#[tokio::test]
async fn probes_answer() {
    let app = spawn_app().await;
    for path in ["/livez", "/healthz", "/readyz"] {
        let resp = app.get(&app.admin, path, None).await;
        assert_eq!(resp.status, 200, "{path}: {}", resp.body);
    }
}

#[tokio::test]
async fn metrics_move_after_a_vend_and_a_denial() {
    let app = spawn_app().await;
    assert_eq!(
        app.vend(&app.alice, r#"{"profile":"readonly"}"#)
            .await
            .status,
        200
    );
    assert_eq!(
        app.vend(&app.alice, r#"{"profile":"prod-admin"}"#)
            .await
            .status,
        403
    );
    assert_eq!(app.post("/vend", None, "{}").await.status, 400);
    let text = app.get(&app.admin, "/metrics", None).await.body;
    assert_eq!(
        metric(&text, r#"tvm_vend_total{outcome="issued"}"#),
        1.0,
        "{text}"
    );
    assert_eq!(metric(&text, r#"tvm_vend_total{outcome="denied"}"#), 1.0);
    assert_eq!(
        metric(&text, r#"tvm_vend_total{outcome="bad_request"}"#),
        1.0
    );
    assert_eq!(
        metric(
            &text,
            r#"tvm_http_requests_total{code="200",route="/vend"}"#
        ),
        1.0,
        "{text}"
    );
    assert_eq!(
        metric(
            &text,
            r#"tvm_http_requests_total{code="403",route="/vend"}"#
        ),
        1.0
    );
    assert_eq!(
        metric(
            &text,
            r#"tvm_sts_requests_total{operation="AssumeRole",outcome="success"}"#
        ),
        1.0
    );
    assert_eq!(
        metric(
            &text,
            r#"tvm_sts_requests_total{operation="GetCallerIdentity",outcome="success"}"#
        ),
        2.0
    );
    assert!(text.contains("tvm_build_info{version="));
    assert!(text.contains("tvm_policy_rules 2"));
    // Bounded labels: no ARN or username anywhere.
    assert!(!text.contains("arn:aws"), "{text}");
    assert!(!text.contains("alice"), "{text}");
}

#[tokio::test]
async fn logs_never_contain_secrets() {
    let app = spawn_app().await;
    let body = r#"{"profile":"readonly"}"#;
    let token = app.token(&app.alice, body.as_bytes());
    let resp = app.vend_with(&token, body).await;
    assert_eq!(resp.status, 200);
    // A replay and a tampered body too, so rejection paths are logged.
    app.vend_with(&token, body).await;
    let v = resp.json();
    let logs = logs_text();
    let request_id = resp.header("x-request-id").unwrap();
    assert!(
        logs.lines()
            .any(|l| l.contains("\"decision\"") && l.contains(request_id)),
        "no decision line for {request_id}"
    );
    let url = String::from_utf8(
        base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            token.rsplit('.').next().unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    let signature = url
        .split("X-Amz-Signature=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    for secret in [
        v["SecretAccessKey"].as_str().unwrap(),
        v["Token"].as_str().unwrap(),
        &token,
        signature,
        app.alice.creds.secret_access_key(),
    ] {
        assert!(!logs.contains(secret), "a secret leaked into the logs");
    }
}

#[tokio::test]
async fn graceful_shutdown_lets_an_in_flight_vend_finish() {
    let mut app = spawn_app_with(Options {
        shutdown_delay: Duration::from_millis(300),
        ..Options::default()
    })
    .await;
    app.sim.set_fault(
        "AssumeRole",
        Some(Fault::Delay(Duration::from_millis(1500))),
    );
    let token = app.token(&app.alice, br#"{"profile":"readonly"}"#);
    let api = app.api.clone();
    let in_flight = tokio::spawn(async move {
        request(
            "POST",
            &format!("{api}/vend"),
            &[("authorization", format!("Bearer {token}"))],
            br#"{"profile":"readonly"}"#.to_vec(),
        )
        .await
    });
    // Let the vend reach STS, then shut down.
    while app.sts_calls("AssumeRole") == 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let server = app.begin_shutdown();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let ready = app.get(&app.admin, "/readyz", None).await;
    assert_eq!(ready.status, 503, "readyz turns 503 first");
    let resp = in_flight.await.unwrap();
    assert_eq!(resp.status, 200, "{}", resp.body);
    // `run` owns both listeners and returns only after dropping them. (Connecting
    // to the old port to prove it closed raced with other tests of this binary
    // that were handed the same ephemeral port.)
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn each_rejection_logs_its_reason_with_the_request_id_and_never_the_token() {
    let app = spawn_app().await;
    let body = r#"{"profile":"readonly"}"#;
    let token = app.token(&app.alice, body.as_bytes());
    // Tampered body: STS refuses. A used token again: replayed.
    let first = app.vend_with(&token, r#"{"profile":"x"}"#).await;
    let used = app.token(&app.alice, body.as_bytes());
    assert_eq!(app.vend_with(&used, body).await.status, 200);
    let second = app.vend_with(&used, body).await;
    assert_eq!(
        (first.status, second.code().as_str()),
        (401, "TOKEN_REPLAYED")
    );
    let logs = logs_text();
    for (resp, reason) in [(&first, "sts_rejected"), (&second, "replayed")] {
        let id = resp.header("x-request-id").unwrap();
        // One line for the request: its decision line, nothing else.
        let decision: Vec<&str> = logs.lines().filter(|l| l.contains(id)).collect();
        assert_eq!(decision.len(), 1, "one line for {id}:\n{logs}");
        assert!(decision[0].contains("\"decision\""), "{}", decision[0]);
        assert!(
            decision[0].contains(&format!("\"reason\":\"{reason}\"")),
            "{}",
            decision[0]
        );
    }
    let b64 = token.rsplit('.').next().unwrap();
    assert!(!logs.contains(b64), "the token leaked into the logs");
}
