//! Limits and the rarer rejection paths: rate limiting, request timeout,
//! session tags that cannot be rendered, STS refusing AssumeRole, unusable
//! credentials from STS, root callers, and /profiles with bad tokens.

use std::time::Duration;

use tvm::sts::sim::Fault;

use crate::support::*;

const READONLY: &str = r#"{"profile":"readonly"}"#;

fn assert_error(resp: &Answer, status: u16, code: &str) {
    assert_eq!(
        (resp.status, resp.code().as_str()),
        (status, code),
        "{}",
        resp.body
    );
    assert_eq!(
        resp.json()["RequestId"].as_str(),
        resp.header("x-request-id")
    );
}

#[tokio::test]
async fn a_client_over_its_rate_gets_429_before_any_token_work() {
    let mut opts = Options::default();
    opts.limits.address_rate = tvm::config::RateLimit {
        per_minute: 1,
        burst: 5,
    };
    let app = spawn_app_with(opts).await;
    for _ in 0..5 {
        assert_eq!(app.vend(&app.alice, READONLY).await.status, 200);
    }
    let calls = app.sim.calls().len();
    let resp = app.vend(&app.alice, READONLY).await;
    assert_error(&resp, 429, "RATE_LIMITED");
    assert!(resp
        .header("retry-after")
        .is_some_and(|v| v.parse::<u64>().unwrap() >= 1));
    let resp = app.get(&app.api, "/profiles", Some("Bearer x")).await;
    assert_error(&resp, 429, "RATE_LIMITED");
    assert_eq!(
        app.sim.calls().len(),
        calls,
        "a limited request reaches no STS"
    );
    // Discovery has its own bucket.
    assert_eq!(
        app.get(&app.api, "/.well-known/tvm", None).await.status,
        200
    );
    let text = app.get(&app.admin, "/metrics", None).await.body;
    assert_eq!(
        metric(&text, r#"tvm_vend_total{outcome="rate_limited"}"#),
        1.0
    );
}

#[tokio::test]
async fn a_request_over_its_time_is_503_and_still_logged() {
    let app = spawn_app_with(Options {
        request_timeout: Duration::from_millis(700),
        ..Options::default()
    })
    .await;
    app.sim.set_fault(
        "AssumeRole",
        Some(Fault::Delay(Duration::from_millis(1500))),
    );
    let resp = app.vend(&app.alice, READONLY).await;
    assert_error(&resp, 503, "UNAVAILABLE");
    let id = resp.header("x-request-id").unwrap();
    let logs = logs_text();
    let line = logs
        .lines()
        .find(|l| l.contains(id) && l.contains("\"decision\""))
        .unwrap_or_else(|| panic!("no decision line for aborted {id}"));
    assert!(line.contains("\"reason\":\"aborted\""), "{line}");
    assert!(
        line.contains("\"principal_arn\":\"arn:aws:iam::111122223333:user/eng/alice\""),
        "{line}"
    );
}

#[tokio::test]
async fn session_tags_that_cannot_be_rendered_deny_without_assume_role() {
    let app = spawn_app().await;
    // ',' is legal in a session name but not in a tag value.
    let eve = app.add_session(
        SSO_ROLE_ARN,
        "eve,ops@example.com",
        jiff::SignedDuration::from_hours(1),
    );
    let resp = app.vend(&eve, r#"{"profile":"prod-admin"}"#).await;
    assert_error(&resp, 403, "POLICY_DENY");
    assert_eq!(app.sts_calls("GetCallerIdentity"), 1);
    assert_eq!(app.sts_calls("AssumeRole"), 0);
}

#[tokio::test]
async fn sts_refusing_assume_role_is_502_without_its_text() {
    let app = spawn_app().await;
    let denied = "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>\
        <Code>AccessDenied</Code><Message>User is not authorized to perform sts:AssumeRole</Message></Error>\
        <RequestId>r1</RequestId></ErrorResponse>";
    app.sim
        .set_fault("AssumeRole", Some(Fault::Status(403, denied.into())));
    let resp = app.vend(&app.alice, READONLY).await;
    assert_error(&resp, 502, "STS_ERROR");
    assert!(!resp.body.contains("AccessDenied") && !resp.body.contains("not authorized"));
    assert_eq!(app.sts_calls("AssumeRole"), 1);
}

#[tokio::test]
async fn expired_credentials_from_sts_are_not_handed_out() {
    let app = spawn_app().await;
    let expired = "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult>\
        <Credentials><AccessKeyId>ASIAEXPIREDEXPIRED01</AccessKeyId><SecretAccessKey>s3cr3t-expired</SecretAccessKey>\
        <SessionToken>token-expired</SessionToken><Expiration>2020-01-01T00:00:00Z</Expiration></Credentials>\
        <AssumedRoleUser><Arn>arn:aws:sts::111122223333:assumed-role/TvmReadOnly/x</Arn>\
        <AssumedRoleId>AROAEXPIRED:x</AssumedRoleId></AssumedRoleUser></AssumeRoleResult>\
        <ResponseMetadata><RequestId>r2</RequestId></ResponseMetadata></AssumeRoleResponse>";
    app.sim
        .set_fault("AssumeRole", Some(Fault::Status(200, expired.into())));
    let resp = app.vend(&app.alice, READONLY).await;
    assert_error(&resp, 502, "CREDENTIAL_ERROR");
    assert!(!resp.body.contains("s3cr3t") && !resp.body.contains("ASIAEXPIRED"));
}

#[tokio::test]
async fn the_root_user_matches_no_rule_that_does_not_name_root() {
    let app = spawn_app().await;
    app.sim
        .add_user(
            "arn:aws:iam::111122223333:root",
            "AKIAROOTROOTROOTROOT",
            "root-secret-root-secret-root-secret-root",
        )
        .unwrap();
    let root = Caller {
        creds: aws_credential_types::Credentials::new(
            "AKIAROOTROOTROOTROOT",
            "root-secret-root-secret-root-secret-root",
            None,
            None,
            "t",
        ),
    };
    for profile in ["readonly", "prod-admin"] {
        let resp = app
            .vend(&root, &format!(r#"{{"profile":"{profile}"}}"#))
            .await;
        assert_error(&resp, 403, "POLICY_DENY");
    }
    assert_eq!(app.sts_calls("AssumeRole"), 0);
}

#[tokio::test]
async fn profiles_rejects_bad_tokens_like_vend() {
    let app = spawn_app().await;
    let resp = app.get(&app.api, "/profiles", None).await;
    assert_error(&resp, 401, "INVALID_TOKEN");
    let resp = app
        .get(&app.api, "/profiles", Some("Bearer tvm-v1.nope"))
        .await;
    assert_error(&resp, 401, "INVALID_TOKEN");
    assert!(app.sim.calls().is_empty());
    // A token bound to a non-empty body does not work for GET /profiles.
    let token = app.token(&app.alice, READONLY.as_bytes());
    let resp = app
        .get(&app.api, "/profiles", Some(&format!("Bearer {token}")))
        .await;
    assert_error(&resp, 401, "INVALID_TOKEN");
    let token = app.token(&app.alice, b"");
    let auth = format!("Bearer {token}");
    assert_eq!(
        app.get(&app.api, "/profiles", Some(&auth)).await.status,
        200
    );
    let resp = app.get(&app.api, "/profiles", Some(&auth)).await;
    assert_error(&resp, 401, "TOKEN_REPLAYED");
    assert_eq!(app.sts_calls("AssumeRole"), 0);
}

#[tokio::test]
async fn a_full_replay_store_fails_closed_with_503_before_sts() {
    let app = spawn_app_with(Options {
        replay_capacity: Some(1),
        ..Options::default()
    })
    .await;
    assert_eq!(app.vend(&app.alice, READONLY).await.status, 200);
    let calls = app.sim.calls().len();
    // The one live entry cannot be evicted: a new, valid token is refused.
    let resp = app.vend(&app.alice, READONLY).await;
    assert_error(&resp, 503, "UNAVAILABLE");
    assert_eq!(app.sim.calls().len(), calls, "STS is not called");
}
