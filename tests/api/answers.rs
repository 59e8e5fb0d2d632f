//! Every answer in its promised shape (issue #18, item 16, and the sign-in
//! page's warning): a malformed query, path or body is 400 `INVALID_REQUEST`
//! in the JSON error shape before authentication (STS not called, the token
//! not used up); the web page answers such a request with its own 400 page;
//! every answer under `/ui/` — 404 and 405 included — carries the strict page
//! headers; answers that carry a one-time value or set a session say
//! `Cache-Control: no-store`.

use crate::support::{request, Answer, TestApp};
use crate::ui::{code_of, login_link, login_page, post_login, ui_app};

/// The strict headers docs/protocol.md promises for every `/ui/` answer.
fn assert_page_headers(what: &str, a: &Answer) {
    for (name, value) in [
        ("content-security-policy", tvm::ui::CONTENT_SECURITY_POLICY),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        ("x-content-type-options", "nosniff"),
        ("cache-control", "no-store"),
    ] {
        assert_eq!(
            a.header(name),
            Some(value),
            "{what}: {name} in {:?}",
            a.headers
        );
    }
}

async fn get(app: &TestApp, path: &str) -> Answer {
    request("GET", &format!("{}{path}", app.api), &[], Vec::new()).await
}

/// Asserts a 400 `INVALID_REQUEST` in the JSON error shape, with its id.
fn assert_json_400(what: &str, a: &Answer) {
    assert_eq!(a.status, 400, "{what}: {}", a.body);
    assert_eq!(
        a.header("content-type"),
        Some("application/json"),
        "{what}: {}",
        a.body
    );
    let v = a.json();
    assert_eq!(v["Code"], "INVALID_REQUEST", "{what}");
    assert_eq!(
        v["RequestId"].as_str(),
        a.header("x-request-id"),
        "{what}: {}",
        a.body
    );
    assert!(!a.body.contains("deserialize"), "{what}: {}", a.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_queries_paths_and_bodies_are_json_400s_before_authentication() {
    let ui = ui_app().await;
    let app = &ui.app;
    let (gci, assume) = (
        app.sts_calls("GetCallerIdentity"),
        app.sts_calls("AssumeRole"),
    );
    // Each with a valid token for exactly that request: still refused before
    // the token is looked at.
    for (method, path, body) in [
        ("GET", "/requests?status=pending&status=denied", ""),
        ("GET", "/requests?status=bogus", ""),
        ("GET", "/requests/%FF", ""),
        ("POST", "/requests/%FF%FE/approve", "{}"),
        ("POST", "/requests/%C0/deny", ""),
        ("POST", "/requests", "{"),
        ("POST", "/requests", r#"{"profile":"prod-admin"}"#),
        (
            "POST",
            "/requests/0123456789abcdef/approve",
            r#"{"comment":1}"#,
        ),
        (
            "POST",
            "/ui/login-links",
            r#"{"next":"https://evil.example.com/"}"#,
        ),
        ("POST", "/ui/login-links", "not json"),
        ("POST", "/vend", r#"{"profile":"readonly","extra":1}"#),
    ] {
        let a = app.call(&ui.bob, method, path, body).await;
        assert_json_400(&format!("{method} {path} {body}"), &a);
    }
    // Without any token: the same 400, not a 401.
    let a = request(
        "GET",
        &format!("{}/requests?status=a&status=b", app.api),
        &[],
        Vec::new(),
    )
    .await;
    assert_json_400("no token", &a);
    assert_eq!(app.sts_calls("GetCallerIdentity"), gci, "no proof checked");
    assert_eq!(app.sts_calls("AssumeRole"), assume);

    // The token of such a request was not used up.
    let a = app
        .call(&ui.bob, "GET", "/requests?status=pending", "")
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_ui_answer_carries_the_page_headers() {
    let ui = ui_app().await;
    let app = &ui.app;
    let a = get(app, "/ui/no-such-page").await;
    assert_eq!(a.status, 404);
    assert_page_headers("404", &a);
    let a = get(app, "/ui/requests/0123456789abcdef/more").await;
    assert_eq!(a.status, 404);
    assert_page_headers("404 below a route", &a);
    for (method, path) in [
        ("PUT", "/ui/"),
        ("DELETE", "/ui/login"),
        ("GET", "/ui/login-links"),
        ("GET", "/ui/logout"),
    ] {
        let a = request(method, &format!("{}{path}", app.api), &[], Vec::new()).await;
        assert_eq!(a.status, 405, "{method} {path}");
        assert_page_headers(&format!("405 {method} {path}"), &a);
    }
    // A malformed path or query of a page: the page's own 400, not axum's text.
    for path in ["/ui/requests/%FF", "/ui/login?code=a&code=b"] {
        let a = request("GET", &format!("{}{path}", app.api), &[], Vec::new()).await;
        assert_eq!(a.status, 400, "{path}: {}", a.body);
        assert_eq!(
            a.header("content-type"),
            Some("text/html; charset=utf-8"),
            "{path}"
        );
        assert!(a.body.contains("The form or link is malformed."), "{path}");
        assert_page_headers(path, &a);
    }
    // The stylesheet keeps its own caching, with the other headers.
    let css = get(app, "/ui/static/tvm.css").await;
    assert_eq!(css.status, 200);
    assert_eq!(css.header("x-frame-options"), Some("DENY"));
    assert_eq!(css.header("cache-control"), Some("public, max-age=3600"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_time_links_and_sessions_are_never_cached() {
    let ui = ui_app().await;
    let app = &ui.app;
    let link = login_link(app, &ui.bob, "/ui/").await;
    assert_eq!(link.status, 200, "{}", link.body);
    assert_eq!(link.header("cache-control"), Some("no-store"));
    assert_page_headers("login link", &link);
    let code = code_of(&link);
    let (form, nonce) = login_page(app, &code).await;
    assert_eq!(form.status, 200);
    assert_page_headers("sign-in form (sets the login cookie)", &form);
    let signed_in = post_login(app, &code, Some(&nonce), &nonce, Some("same-origin")).await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    assert_page_headers("sign-in redirect (sets the session)", &signed_in);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sign_in_page_says_to_use_only_a_link_you_made() {
    let ui = ui_app().await;
    let code = code_of(&login_link(&ui.app, &ui.bob, "/ui/").await);
    let (page, _) = login_page(&ui.app, &code).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains("Sign in only with a link you made yourself with <code>tvm ui</code>"),
        "{}",
        page.body
    );
}
