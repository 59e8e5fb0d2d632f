//! A tvm without `database.url` (DESIGN §13, "Database and webhooks keys"):
//! every route of §12 — the approvals API and the approvers' web page —
//! answers 501 `NOT_CONFIGURED` before authentication (no STS call at all),
//! while vends work as before.

use crate::support::*;

const ID: &str = "0123456789abcdef";

/// Every route of DESIGN §12, with a plausible body.
fn database_routes() -> Vec<(&'static str, String, &'static str)> {
    vec![
        (
            "POST",
            "/requests".into(),
            r#"{"profile": "prod-admin", "duration_seconds": 900, "reason": "deploy"}"#,
        ),
        ("GET", "/requests?status=pending".into(), ""),
        ("GET", "/requests".into(), ""),
        ("GET", format!("/requests/{ID}"), ""),
        (
            "POST",
            format!("/requests/{ID}/approve"),
            r#"{"comment": "ok"}"#,
        ),
        (
            "POST",
            format!("/requests/{ID}/deny"),
            r#"{"comment": "no"}"#,
        ),
        // DESIGN §13's routes.
        (
            "POST",
            format!("/requests/{ID}/revoke"),
            r#"{"reason": "x"}"#,
        ),
        ("GET", "/sessions?all=true".into(), ""),
        ("GET", "/sessions/ASIAAAAAAAAAAAAAAAAA".into(), ""),
        (
            "POST",
            "/sessions/ASIAAAAAAAAAAAAAAAAA/revoke".into(),
            r#"{"reason": "x"}"#,
        ),
        (
            "POST",
            "/revocations".into(),
            r#"{"target": {"User": "a@example.com"}, "reason": "x"}"#,
        ),
        ("GET", "/revocations?status=all".into(), ""),
        ("GET", format!("/revocations/{ID}"), ""),
        (
            "POST",
            format!("/revocations/{ID}/lift"),
            r#"{"reason": "x"}"#,
        ),
        // Malformed: still 501, the route needs a database whatever it says.
        ("GET", "/requests/%FF".into(), ""),
        ("POST", "/requests".into(), "{"),
        ("POST", "/ui/login-links".into(), r#"{"next": "/ui/"}"#),
        (
            "GET",
            "/ui/login?code=00000000000000000000000000000000".into(),
            "",
        ),
        ("POST", "/ui/login".into(), "code=x&login=y"),
        ("POST", "/ui/logout".into(), "csrf=x"),
        ("GET", "/ui/".into(), ""),
        ("GET", "/ui".into(), ""),
        ("GET", format!("/ui/requests/{ID}"), ""),
        (
            "POST",
            format!("/ui/requests/{ID}"),
            "csrf=x&decision=approve",
        ),
        ("GET", "/ui/static/tvm.css".into(), ""),
        ("GET", "/audit".into(), ""),
        ("GET", "/audit?since=24h&limit=0".into(), ""),
        (
            "POST",
            format!("/ui/requests/{ID}/revoke"),
            "csrf=x&reason=y",
        ),
        ("GET", "/ui/sessions".into(), ""),
        (
            "POST",
            "/ui/sessions/ASIAAAAAAAAAAAAAAAAA/revoke".into(),
            "csrf=x&reason=y",
        ),
        ("GET", "/ui/revocations?status=all".into(), ""),
        ("GET", format!("/ui/revocations/{ID}"), ""),
        (
            "POST",
            format!("/ui/revocations/{ID}/lift"),
            "csrf=x&reason=y",
        ),
    ]
}

fn assert_not_configured(what: &str, a: &Answer) {
    assert_eq!(a.status, 501, "{what}: {}", a.body);
    assert_eq!(a.code(), "NOT_CONFIGURED", "{what}: {}", a.body);
    assert_eq!(a.header("content-type"), Some("application/json"), "{what}");
    let v = a.json();
    assert_eq!(v["RequestId"].as_str(), a.header("x-request-id"), "{what}");
    assert!(
        v["Message"].as_str().unwrap().contains("database.url"),
        "{what}: {}",
        a.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approvals_routes_answer_501_before_authentication_and_vends_still_work() {
    let app = spawn_app().await;
    let bob = app.add_user("arn:aws:iam::111122223333:user/eng/bob");
    for (method, path, body) in database_routes() {
        let what = format!("{method} {path}");
        // With a valid token bound to exactly this request, without one, and
        // with garbage: the same 501, the token never looked at.
        let a = app.call(&bob, method, &path, body).await;
        assert_not_configured(&what, &a);
        let url = format!("{}{path}", app.api);
        let a = request(method, &url, &[], body.as_bytes().to_vec()).await;
        assert_not_configured(&format!("{what} (no token)"), &a);
        let junk = [("authorization", "Bearer tvm-v1.junk".to_owned())];
        let a = request(method, &url, &junk, body.as_bytes().to_vec()).await;
        assert_not_configured(&format!("{what} (junk token)"), &a);
    }
    // Not one STS call: the simulator saw neither a proof check nor a vend.
    assert_eq!(app.sts_calls("GetCallerIdentity"), 0);
    assert_eq!(app.sts_calls("AssumeRole"), 0);

    // Paths that are no route stay 404, and other methods 405.
    let a = request(
        "GET",
        &format!("{}/requests/{ID}/more", app.api),
        &[],
        vec![],
    )
    .await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (404, "NOT_FOUND"),
        "{}",
        a.body
    );
    let a = request("GET", &format!("{}/ui/no-such-page", app.api), &[], vec![]).await;
    assert_eq!(a.status, 404, "{}", a.body);

    // Vends and the profile list work as before.
    let vend = app.vend(&app.alice, r#"{"profile": "readonly"}"#).await;
    assert_eq!(vend.status, 200, "{}", vend.body);
    assert_eq!(app.sts_calls("AssumeRole"), 1);
    let token = app.token(&app.alice, b"");
    let profiles = app
        .get(&app.api, "/profiles", Some(&format!("Bearer {token}")))
        .await;
    assert_eq!(profiles.status, 200, "{}", profiles.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_database_the_same_routes_are_served() {
    // The control: the 501 comes from the missing database, not the route.
    let app = spawn_app_with(Options {
        approvals: true,
        ..Options::default()
    })
    .await;
    let bob = app.add_user("arn:aws:iam::111122223333:user/eng/bob");
    let a = app.call(&bob, "GET", "/requests?status=pending", "").await;
    assert_eq!(a.status, 200, "{}", a.body);
    let a = app.call(&bob, "GET", &format!("/requests/{ID}"), "").await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (404, "NOT_FOUND"),
        "{}",
        a.body
    );
}
