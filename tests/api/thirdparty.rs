//! Tokens made by botocore's presigner (a SigV4 implementation nobody here
//! wrote) must be accepted exactly like tvm's own, and rejected for the same
//! reasons. Needs a Python with botocore: `BOTOCORE_PYTHON`, or `.venv/bin/python`
//! (`.ci/run` creates it). Outside CI the tests skip with a notice when neither
//! exists; in CI (`CI=true`) a missing Python is a failure.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::support::*;

const READONLY: &str = r#"{"profile":"readonly"}"#;

fn python() -> Option<String> {
    venv_python("botocore")
}

pub(crate) fn botocore_token(
    py: &str,
    who: &Caller,
    endpoint: &str,
    audience: &str,
    body: &str,
    kind: &str,
) -> String {
    botocore_token_at(py, who, endpoint, audience, "POST /vend", body, kind)
}

fn botocore_token_at(
    py: &str,
    who: &Caller,
    endpoint: &str,
    audience: &str,
    target: &str,
    body: &str,
    kind: &str,
) -> String {
    let c = &who.creds;
    let input = serde_json::json!({
        "access_key_id": c.access_key_id(),
        "secret_access_key": c.secret_access_key(),
        "session_token": c.session_token(),
        "endpoint": endpoint,
        "region": "us-east-1",
        "audience": audience,
        "target": target,
        "body": body,
        "kind": kind,
    });
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/botocore_token.py");
    let mut child = Command::new(py)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "botocore script failed");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[tokio::test]
async fn botocore_presigned_token_vends() {
    let Some(py) = python() else { return };
    let app = spawn_app().await;
    let token = botocore_token(
        &py,
        &app.alice,
        &app.verify_url,
        &app.origin,
        READONLY,
        "tvm-v1",
    );
    let resp = app.vend_with(&token, READONLY).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(app.sts_calls("AssumeRole"), 1);
}

#[tokio::test]
async fn botocore_token_binds_the_target() {
    let Some(py) = python() else { return };
    let app = spawn_app().await;
    let profiles = botocore_token_at(
        &py,
        &app.alice,
        &app.verify_url,
        &app.origin,
        "GET /profiles",
        "",
        "tvm-v1",
    );
    let resp = app
        .get(&app.api, "/profiles", Some(&format!("Bearer {profiles}")))
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    // Signed for GET /profiles, sent to POST /vend (with the body it signed).
    let other = botocore_token_at(
        &py,
        &app.alice,
        &app.verify_url,
        &app.origin,
        "GET /profiles",
        "",
        "tvm-v1",
    );
    let resp = app
        .post("/vend", Some(&format!("Bearer {other}")), "")
        .await;
    assert_eq!(resp.status, 400, "an empty vend body is refused before STS");
    let other = botocore_token_at(
        &py,
        &app.alice,
        &app.verify_url,
        &app.origin,
        "POST /requests",
        READONLY,
        "tvm-v1",
    );
    let resp = app.vend_with(&other, READONLY).await;
    assert_eq!((resp.status, resp.code().as_str()), (401, "INVALID_TOKEN"));
    assert_eq!(app.sts_calls("AssumeRole"), 0);
}

#[tokio::test]
async fn botocore_token_with_session_token_vends_for_sso_user() {
    let Some(py) = python() else { return };
    let app = spawn_app().await;
    let body = r#"{"profile":"prod-admin"}"#;
    let token = botocore_token(
        &py,
        &app.sso_alice,
        &app.verify_url,
        &app.origin,
        body,
        "tvm-v1",
    );
    let resp = app.vend_with(&token, body).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
}

#[tokio::test]
async fn botocore_token_for_another_audience_or_body_is_refused() {
    let Some(py) = python() else { return };
    let app = spawn_app().await;
    let token = botocore_token(
        &py,
        &app.alice,
        &app.verify_url,
        "https://someone-else.example.com",
        READONLY,
        "tvm-v1",
    );
    let resp = app.vend_with(&token, READONLY).await;
    assert_eq!((resp.status, resp.code().as_str()), (401, "INVALID_TOKEN"));
    let token = botocore_token(
        &py,
        &app.alice,
        &app.verify_url,
        &app.origin,
        READONLY,
        "tvm-v1",
    );
    let resp = app.vend_with(&token, r#"{"profile":"prod-admin"}"#).await;
    assert_eq!((resp.status, resp.code().as_str()), (401, "INVALID_TOKEN"));
    assert_eq!(app.sts_calls("AssumeRole"), 0);
}

#[tokio::test]
async fn eks_style_token_only_when_enabled() {
    let Some(py) = python() else { return };
    let app = spawn_app().await;
    let token = botocore_token(&py, &app.alice, &app.verify_url, CLUSTER, "", "eks");
    let resp = app.vend_with(&token, READONLY).await;
    assert_eq!((resp.status, resp.code().as_str()), (401, "INVALID_TOKEN"));
    assert_eq!(app.sim.calls().len(), 0);

    // With a database, so /requests answers for the token rather than 501.
    let app = spawn_app_with(Options {
        eks_cluster_id: Some(CLUSTER.into()),
        approvals: true,
        ..Options::default()
    })
    .await;
    let token = botocore_token(&py, &app.alice, &app.verify_url, CLUSTER, "", "eks");
    let resp = app.vend_with(&token, READONLY).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let gci = app.sim.calls_for("GetCallerIdentity");
    assert_eq!(gci[0].signed_header("x-k8s-aws-id"), Some(CLUSTER));
    // Not for anything but a plain vend or a profile listing: refused before STS.
    let token = botocore_token(&py, &app.alice, &app.verify_url, CLUSTER, "", "eks");
    // A well-formed request body, so the refusal is the token's (shapes are
    // checked before authentication).
    let resp = app
        .post(
            "/requests",
            Some(&format!("Bearer {token}")),
            r#"{"profile": "readonly", "reason": "rotate the keys"}"#,
        )
        .await;
    assert_eq!((resp.status, resp.code().as_str()), (401, "INVALID_TOKEN"));
    assert_eq!(app.sim.calls_for("GetCallerIdentity").len(), 1);
    // Nor for a vend under a grant or a break-glass vend (DESIGN §2, §12):
    // it binds no body, so it cannot vouch for an approval_id or a reason.
    for body in [
        r#"{"profile": "readonly", "approval_id": "0123456789abcdef"}"#,
        r#"{"profile": "readonly", "reason": "the database is on fire tonight"}"#,
    ] {
        // EKS-style tokens carry no nonce: two minted in one second are the
        // same token, which the replay store would refuse first.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let token = botocore_token(&py, &app.alice, &app.verify_url, CLUSTER, "", "eks");
        let resp = app.vend_with(&token, body).await;
        assert_eq!((resp.status, resp.code().as_str()), (401, "INVALID_TOKEN"));
    }
    assert_eq!(app.sts_calls("AssumeRole"), 1);
}
