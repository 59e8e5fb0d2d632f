//! One test per way a request can be rejected: status, `Code`, and whether STS
//! (GetCallerIdentity / AssumeRole) was called.

use std::time::{Duration, SystemTime};

use tvm::sts::sim::Fault;

use crate::support::*;

const READONLY: &str = r#"{"profile":"readonly"}"#;

fn assert_error(resp: &Answer, status: u16, code: &str) {
    assert_eq!(resp.status, status, "{}", resp.body);
    assert_eq!(resp.code(), code, "{}", resp.body);
    // The body's RequestId is the response's X-Request-Id.
    assert_eq!(
        resp.json()["RequestId"].as_str(),
        resp.header("x-request-id"),
        "{}",
        resp.body
    );
    if status == 401 {
        assert_eq!(resp.header("www-authenticate"), Some("Bearer"));
    }
}

#[tokio::test]
async fn denied_by_policy_never_calls_assume_role() {
    let app = spawn_app().await;
    let resp = app.vend(&app.alice, r#"{"profile":"prod-admin"}"#).await;
    assert_error(&resp, 403, "POLICY_DENY");
    assert_eq!(app.sts_calls("GetCallerIdentity"), 1);
    assert_eq!(app.sts_calls("AssumeRole"), 0);
}

#[tokio::test]
async fn other_account_is_denied() {
    let app = spawn_app().await;
    let resp = app.vend(&app.mallory, READONLY).await;
    assert_error(&resp, 403, "POLICY_DENY");
    assert_eq!(app.sts_calls("AssumeRole"), 0);
}

#[tokio::test]
async fn unknown_profile_looks_exactly_like_a_denial() {
    let app = spawn_app().await;
    let denied = app.vend(&app.alice, r#"{"profile":"prod-admin"}"#).await;
    let unknown = app
        .vend(&app.alice, r#"{"profile":"no-such-profile"}"#)
        .await;
    assert_error(&unknown, 403, "POLICY_DENY");
    let strip = |a: &Answer| {
        let mut v = a.json();
        v.as_object_mut().unwrap().remove("RequestId");
        v
    };
    assert_eq!(strip(&denied), strip(&unknown));
    assert_eq!(app.sts_calls("AssumeRole"), 0);
}

#[tokio::test]
async fn duration_outside_sts_range_is_rejected_before_any_sts_call() {
    let app = spawn_app().await;
    for d in [0, 899, 43_201, -5] {
        let body = format!(r#"{{"profile":"readonly","duration_seconds":{d}}}"#);
        let resp = app.vend(&app.alice, &body).await;
        assert_error(&resp, 400, "INVALID_DURATION");
    }
    assert_eq!(app.sim.calls().len(), 0, "STS must not be called at all");
}

#[tokio::test]
async fn duration_above_the_allowed_max_is_rejected_without_assume_role() {
    let app = spawn_app().await;
    // The SSO rule caps prod-admin at 30 minutes.
    let resp = app
        .vend(
            &app.sso_alice,
            r#"{"profile":"prod-admin","duration_seconds":3600}"#,
        )
        .await;
    assert_error(&resp, 400, "INVALID_DURATION");
    assert_eq!(app.sts_calls("AssumeRole"), 0);
}

#[tokio::test]
async fn malformed_body_is_invalid_request_without_sts() {
    let app = spawn_app().await;
    for body in [
        "",
        "{",
        "[]",
        r#"{"profile":"readonly","extra":1}"#,
        r#"{"profile":42}"#,
    ] {
        let resp = app.vend(&app.alice, body).await;
        assert_error(&resp, 400, "INVALID_REQUEST");
    }
    assert_eq!(app.sim.calls().len(), 0);
}

#[tokio::test]
async fn missing_token_is_401() {
    let app = spawn_app().await;
    let resp = app.post("/vend", None, READONLY).await;
    assert_error(&resp, 401, "INVALID_TOKEN");
    assert_eq!(app.sim.calls().len(), 0);
}

#[tokio::test]
async fn garbage_tokens_are_401_without_sts() {
    let app = spawn_app().await;
    for auth in [
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer tvm-v1.",
        "Bearer tvm-v1.00000000000000000000000000000000.!!!",
        "Bearer tvm-v2.00000000000000000000000000000000.aHR0cHM6Ly9zdHMuYW1hem9uYXdzLmNvbS8",
        "Bearer k8s-aws-v1.aHR0cHM6Ly9zdHMuYW1hem9uYXdzLmNvbS8",
    ] {
        let resp = app.post("/vend", Some(auth), READONLY).await;
        assert_error(&resp, 401, "INVALID_TOKEN");
    }
    let huge = format!("Bearer tvm-v1.{}", "A".repeat(9000));
    let resp = app.post("/vend", Some(&huge), READONLY).await;
    assert_error(&resp, 401, "INVALID_TOKEN");
    assert_eq!(app.sim.calls().len(), 0);
}

#[tokio::test]
async fn wrong_audience_is_refused_by_sts_and_401() {
    let app = spawn_app().await;
    // Signed for another origin: without a hint, tvm checks its own origin.
    let token = app.token_for(
        &app.alice,
        "https://another-service.example.com",
        "POST /vend",
        READONLY.as_bytes(),
        SystemTime::now(),
    );
    let resp = app.vend_with(&token, READONLY).await;
    assert_error(&resp, 401, "INVALID_TOKEN");
    // STS saw tvm's audience, not the one the client signed, and refused.
    let gci = app.sim.calls_for("GetCallerIdentity");
    assert_eq!(gci.len(), 1);
    assert_eq!(gci[0].error_code.as_deref(), Some("SignatureDoesNotMatch"));
    assert_eq!(app.sts_calls("AssumeRole"), 0);
}

#[tokio::test]
async fn body_tampered_after_signing_is_401() {
    let app = spawn_app().await;
    let token = app.token(&app.alice, READONLY.as_bytes());
    let tampered = r#"{"profile":"prod-admin"}"#;
    let resp = app.vend_with(&token, tampered).await;
    assert_error(&resp, 401, "INVALID_TOKEN");
    assert_eq!(
        app.sim.calls_for("GetCallerIdentity")[0]
            .error_code
            .as_deref(),
        Some("SignatureDoesNotMatch")
    );
    assert_eq!(app.sts_calls("AssumeRole"), 0);
}

#[tokio::test]
async fn replayed_token_is_401_and_not_sent_to_sts_again() {
    let app = spawn_app().await;
    let auth = format!("Bearer {}", app.token(&app.alice, READONLY.as_bytes()));
    let first = app.post("/vend", Some(&auth), READONLY).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let again = app.post("/vend", Some(&auth), READONLY).await;
    assert_error(&again, 401, "TOKEN_REPLAYED");
    assert_eq!(app.sts_calls("GetCallerIdentity"), 1);
    assert_eq!(app.sts_calls("AssumeRole"), 1);
}

#[tokio::test]
async fn expired_token_is_401_without_sts() {
    let app = spawn_app().await;
    let past = SystemTime::now() - Duration::from_secs(600);
    let token = app.token_for(
        &app.alice,
        &app.origin,
        "POST /vend",
        READONLY.as_bytes(),
        past,
    );
    let resp = app.vend_with(&token, READONLY).await;
    assert_error(&resp, 401, "TOKEN_EXPIRED");
    assert_eq!(app.sim.calls().len(), 0);
}

#[tokio::test]
async fn oversized_body_is_413_without_sts() {
    let app = spawn_app().await;
    let body = format!(r#"{{"profile":"{}"}}"#, "a".repeat(20_000));
    let resp = app.vend(&app.alice, &body).await;
    assert_error(&resp, 413, "PAYLOAD_TOO_LARGE");
    assert_eq!(app.sim.calls().len(), 0);
}

#[tokio::test]
async fn assume_role_endpoint_down_is_502() {
    let app = spawn_app_with(Options {
        sts_down: true,
        ..Options::default()
    })
    .await;
    let resp = app.vend(&app.alice, READONLY).await;
    assert_error(&resp, 502, "STS_ERROR");
    assert_eq!(app.sts_calls("GetCallerIdentity"), 1);
}

#[tokio::test]
async fn verification_endpoint_down_is_502() {
    let app = spawn_app_with(Options {
        verification_down: true,
        ..Options::default()
    })
    .await;
    let resp = app.vend(&app.alice, READONLY).await;
    assert_error(&resp, 502, "STS_ERROR");
    assert_eq!(app.sim.calls().len(), 0);
}

#[tokio::test]
async fn assume_role_throttled_is_503() {
    let app = spawn_app().await;
    app.sim.set_fault("AssumeRole", Some(Fault::Throttle));
    let resp = app.vend(&app.alice, READONLY).await;
    assert_error(&resp, 503, "STS_THROTTLED");
    assert!(resp.header("retry-after").is_some());
    assert!(app.sts_calls("AssumeRole") >= 1);
}

#[tokio::test]
async fn get_caller_identity_throttled_is_503() {
    let app = spawn_app().await;
    app.sim
        .set_fault("GetCallerIdentity", Some(Fault::Throttle));
    let resp = app.vend(&app.alice, READONLY).await;
    assert_error(&resp, 503, "STS_THROTTLED");
    assert_eq!(app.sts_calls("AssumeRole"), 0);
}

#[tokio::test]
async fn sts_internal_error_is_502() {
    let app = spawn_app().await;
    app.sim.set_fault("AssumeRole", Some(Fault::InternalError));
    let resp = app.vend(&app.alice, READONLY).await;
    assert_error(&resp, 502, "STS_ERROR");
    // STS's error text never reaches the caller.
    assert!(!resp.body.contains("InternalFailure"), "{}", resp.body);
}

#[tokio::test]
async fn unknown_route_and_method_use_the_error_format() {
    let app = spawn_app().await;
    let resp = app.get(&app.api, "/nope", None).await;
    assert_error(&resp, 404, "NOT_FOUND");
    let resp = app.get(&app.api, "/vend", None).await;
    assert_error(&resp, 405, "METHOD_NOT_ALLOWED");
    assert_eq!(app.sim.calls().len(), 0);
}
