//! One log line per refused request (issue #18, item 15): the request's own line
//! — the `/vend` decision line, or the refusal line of `/profiles`, the
//! approvals API and `/ui/login-links` — carries the reason, and nothing else
//! is written for it. A caller's bad token is INFO, not a server warning; an
//! upstream fault (STS unreachable) is WARN.

use crate::support::{logs_text, spawn_app_with, Answer, Options, TestApp};
use crate::ui::ui_app;

/// The log lines of request `resp` (every line inside its span names its id).
fn lines_of(resp: &Answer) -> Vec<serde_json::Value> {
    let id = resp.header("x-request-id").expect("an X-Request-Id");
    logs_text()
        .lines()
        .filter(|l| l.contains(id))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect()
}

/// Asserts that `resp` was logged exactly once, at `level`, with `reason`
/// and its request id as a field of the line.
fn one_line(what: &str, resp: &Answer, level: &str, reason: &str) {
    let lines = lines_of(resp);
    assert_eq!(lines.len(), 1, "{what}: one line, got {lines:#?}");
    let line = &lines[0];
    let id = resp.header("x-request-id").unwrap();
    assert_eq!(line["level"], level, "{what}: {line}");
    assert_eq!(line["reason"], reason, "{what}: {line}");
    assert_eq!(line["request_id"], id, "{what}: {line}");
}

/// A token signed for `POST /vend` with another body: STS refuses it.
fn wrong_body_token(app: &TestApp) -> String {
    app.token(&app.alice, br#"{"profile":"other"}"#)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_token_writes_one_info_line_on_every_authenticated_route() {
    let ui = ui_app().await;
    let app = &ui.app;
    let bad = "Bearer tvm-v1.not-a-token";
    let vend = app
        .post("/vend", Some(bad), r#"{"profile":"readonly"}"#)
        .await;
    assert_eq!(vend.code(), "INVALID_TOKEN");
    one_line("/vend, bad prefix", &vend, "INFO", "bad_nonce");

    let token = wrong_body_token(app);
    let vend = app.vend_with(&token, r#"{"profile":"readonly"}"#).await;
    assert_eq!(vend.code(), "INVALID_TOKEN");
    one_line("/vend, STS refused", &vend, "INFO", "sts_rejected");
    let bad_body = app.vend_with(&app.token(&app.alice, b"{}"), "{}").await;
    assert_eq!(bad_body.status, 400, "{}", bad_body.body);
    one_line("/vend, bad body", &bad_body, "INFO", "bad_request");

    for (method, path) in [
        ("GET", "/profiles"),
        ("GET", "/requests"),
        ("GET", "/requests/0123456789abcdef"),
        ("POST", "/requests/0123456789abcdef/deny"),
    ] {
        let resp = crate::support::request(
            method,
            &format!("{}{path}", app.api),
            &[("authorization", bad.to_owned())],
            Vec::new(),
        )
        .await;
        assert_eq!(resp.code(), "INVALID_TOKEN", "{method} {path}");
        one_line(&format!("{method} {path}"), &resp, "INFO", "bad_nonce");
    }
    let link = app.post("/ui/login-links", Some(bad), "{}").await;
    assert_eq!(link.code(), "INVALID_TOKEN");
    one_line("POST /ui/login-links", &link, "INFO", "bad_nonce");
    // A token for another target: STS refuses it, still one line.
    let link = app
        .post("/ui/login-links", Some(&format!("Bearer {token}")), "{}")
        .await;
    assert_eq!(link.code(), "INVALID_TOKEN");
    one_line(
        "POST /ui/login-links, STS refused",
        &link,
        "INFO",
        "sts_rejected",
    );
    assert!(
        !logs_text().contains("caller proof rejected"),
        "the verifier writes no line of its own"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_fault_writes_one_warn_line() {
    let app = spawn_app_with(Options {
        verification_down: true,
        ..Options::default()
    })
    .await;
    let body = r#"{"profile":"readonly"}"#;
    let vend = app.vend(&app.alice, body).await;
    assert_eq!(vend.code(), "STS_ERROR", "{}", vend.body);
    one_line("/vend, STS unreachable", &vend, "WARN", "sts_unavailable");
    let token = app.token(&app.alice, b"");
    let profiles = app
        .get(&app.api, "/profiles", Some(&format!("Bearer {token}")))
        .await;
    assert_eq!(profiles.code(), "STS_ERROR", "{}", profiles.body);
    one_line(
        "/profiles, STS unreachable",
        &profiles,
        "WARN",
        "sts_unavailable",
    );
}
