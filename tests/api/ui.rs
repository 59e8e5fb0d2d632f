//! The approvers' web page (DESIGN §12, issue #13) over real sockets: sign-in
//! links only for approvers, the login form bound to its cookie and to
//! `Sec-Fetch-Site: same-origin` (a refused post spends nothing), single-use
//! codes, fresh sessions, `next` limited to `/ui/`, strict headers and the
//! signed-in ARN on every page, CSRF on every form, self-approval refused as
//! through the API, what a non-approver sees, escaped reasons, logout, and the
//! https-or-loopback rule.

use std::time::SystemTime;

use crate::support::{request, spawn_app_with, Answer, Caller, Options, TestApp};

/// Alice and bob (IAM users under eng/) need an approval for prod-admin, from
/// anyone under eng/ or an Identity Center admin; readonly needs carol's.
pub const UI_POLICY: &str = r#"version: 1
profiles:
  readonly:
    role_arn: arn:aws:iam::111122223333:role/TvmReadOnly
    max_duration: 1h
  prod-admin:
    role_arn: arn:aws:iam::111122223333:role/TvmProdAdmin
    max_duration: 2h
rules:
  - name: prod-needs-approval
    effect: require_approval
    accounts: ["111122223333"]
    principals: ["arn:aws:iam::111122223333:user/eng/*"]
    profiles: ["prod-admin"]
    approvers:
      accounts: ["111122223333"]
      principals:
        - "arn:aws:iam::111122223333:user/eng/*"
        - "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_*/*"
  - name: readonly-needs-carol
    effect: require_approval
    accounts: ["111122223333"]
    principals: ["arn:aws:iam::111122223333:user/eng/*"]
    profiles: ["readonly"]
    approvers:
      principals: ["arn:aws:iam::111122223333:user/ops/carol"]
"#;

pub const BOB_ARN: &str = "arn:aws:iam::111122223333:user/eng/bob";
pub const CAROL_ARN: &str = "arn:aws:iam::111122223333:user/ops/carol";

/// An app serving [`UI_POLICY`], with bob and carol.
pub struct UiApp {
    pub app: TestApp,
    pub bob: Caller,
    pub carol: Caller,
}

pub async fn ui_app() -> UiApp {
    ui_app_with(Options::default()).await
}

pub async fn ui_app_with(opts: Options) -> UiApp {
    let app = spawn_app_with(Options {
        policy_text: Some(UI_POLICY.to_owned()),
        approvals: true,
        ..opts
    })
    .await;
    let bob = app.add_user(BOB_ARN);
    let carol = app.add_user(CAROL_ARN);
    UiApp { app, bob, carol }
}

/// `POST /requests` as `who`; the new request's id.
pub async fn create_request(app: &TestApp, who: &Caller, profile: &str, reason: &str) -> String {
    let body = serde_json::json!({"profile": profile, "reason": reason}).to_string();
    let a = app.call(who, "POST", "/requests", &body).await;
    assert_eq!(a.status, 201, "{}", a.body);
    a.json()["Id"].as_str().unwrap().to_owned()
}

/// `POST /ui/login-links` as `who` landing on `next`.
pub async fn login_link(app: &TestApp, who: &Caller, next: &str) -> Answer {
    let body = serde_json::json!({ "next": next }).to_string();
    app.call(who, "POST", "/ui/login-links", &body).await
}

/// The code of a login link.
pub fn code_of(link: &Answer) -> String {
    let url = link.json()["Url"].as_str().unwrap().to_owned();
    url.split_once("?code=").unwrap().1.to_owned()
}

/// The value a `Set-Cookie` of `name` sets, if any.
pub fn set_cookie(a: &Answer, name: &str) -> Option<String> {
    a.headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
        .find_map(|(_, v)| v.strip_prefix(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap().to_owned())
}

/// `GET /ui/login?code=…`: the page and the login nonce cookie.
pub async fn login_page(app: &TestApp, code: &str) -> (Answer, String) {
    let a = request(
        "GET",
        &format!("{}/ui/login?code={code}", app.api),
        &[],
        Vec::new(),
    )
    .await;
    let nonce = set_cookie(&a, "__Host-tvm-login").unwrap_or_default();
    (a, nonce)
}

/// `POST /ui/login` with the given cookie, echoed nonce and `Sec-Fetch-Site`.
pub async fn post_login(
    app: &TestApp,
    code: &str,
    cookie: Option<&str>,
    echoed: &str,
    fetch_site: Option<&str>,
) -> Answer {
    let mut headers = vec![(
        "content-type",
        "application/x-www-form-urlencoded".to_owned(),
    )];
    if let Some(c) = cookie {
        headers.push(("cookie", format!("__Host-tvm-login={c}")));
    }
    if let Some(s) = fetch_site {
        headers.push(("sec-fetch-site", s.to_owned()));
    }
    request(
        "POST",
        &format!("{}/ui/login", app.api),
        &headers,
        format!("code={code}&login={echoed}").into_bytes(),
    )
    .await
}

/// Signs `who` in through the whole flow; the session cookie value.
pub async fn session(app: &TestApp, who: &Caller) -> String {
    let link = login_link(app, who, "/ui/").await;
    assert_eq!(link.status, 200, "{}", link.body);
    let code = code_of(&link);
    let (_, nonce) = login_page(app, &code).await;
    let a = post_login(app, &code, Some(&nonce), &nonce, Some("same-origin")).await;
    assert_eq!(a.status, 303, "{}", a.body);
    set_cookie(&a, "__Host-tvm-session").unwrap()
}

/// `GET path` with a session cookie.
pub async fn page(app: &TestApp, path: &str, session: Option<&str>) -> Answer {
    let headers: Vec<(&str, String)> = session
        .map(|s| vec![("cookie", format!("__Host-tvm-session={s}"))])
        .unwrap_or_default();
    request("GET", &format!("{}{path}", app.api), &headers, Vec::new()).await
}

/// A form `POST path` with a session cookie and `form` (urlencoded).
pub async fn post_form(app: &TestApp, path: &str, session: &str, form: &[(&str, &str)]) -> Answer {
    let body = serde_urlencoded::to_string(form).unwrap();
    request(
        "POST",
        &format!("{}{path}", app.api),
        &[
            ("cookie", format!("__Host-tvm-session={session}")),
            (
                "content-type",
                "application/x-www-form-urlencoded".to_owned(),
            ),
            ("sec-fetch-site", "same-origin".to_owned()),
        ],
        body.into_bytes(),
    )
    .await
}

/// The CSRF token of the session whose page is `a`.
pub fn csrf_of(a: &Answer) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = a.body.find(marker).expect("a form with a CSRF token") + marker.len();
    a.body[start..start + 64].to_owned()
}

/// A request's status as the API tells its requester.
pub async fn status_of(app: &TestApp, requester: &Caller, id: &str) -> String {
    let a = app
        .call(requester, "GET", &format!("/requests/{id}"), "")
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    a.json()["Status"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_links_are_made_only_for_approvers_and_only_to_ui_paths() {
    let ui = ui_app().await;
    let app = &ui.app;
    let ok = login_link(app, &ui.bob, "/ui/requests/0123456789abcdef").await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let url = ok.json()["Url"].as_str().unwrap().to_owned();
    let code = code_of(&ok);
    assert!(
        url.starts_with(&format!("{}/ui/login?code=", app.origin)),
        "{url}"
    );
    assert!(code.len() == 32 && code.bytes().all(|b| b.is_ascii_hexdigit()));

    // Mallory matches no rule's approvers: 403 POLICY_DENY, after verifying
    // who she is (one GetCallerIdentity) and without any AssumeRole.
    let (gci, assume) = (
        app.sts_calls("GetCallerIdentity"),
        app.sts_calls("AssumeRole"),
    );
    let no = login_link(app, &app.mallory, "/ui/").await;
    assert_eq!((no.status, no.code().as_str()), (403, "POLICY_DENY"));
    assert_eq!(app.sts_calls("GetCallerIdentity"), gci + 1);
    assert_eq!(app.sts_calls("AssumeRole"), assume);

    for next in [
        "https://evil.example.com/",
        "//evil.example.com/ui/",
        "/vend",
        "/ui/../x",
        "/ui/?a=b",
        "/ui/A",
    ] {
        let gci = app.sts_calls("GetCallerIdentity");
        let a = login_link(app, &ui.bob, next).await;
        assert_eq!(
            (a.status, a.code().as_str()),
            (400, "INVALID_REQUEST"),
            "{next}"
        );
        // The shape is checked before the token: no STS call at all.
        assert_eq!(app.sts_calls("GetCallerIdentity"), gci, "{next}");
        assert_eq!(app.sts_calls("AssumeRole"), assume, "{next}");
    }
    // A token made for another target is refused before anything else.
    let body = r#"{"next":"/ui/"}"#;
    let token = app.token_for(
        &ui.bob,
        &app.origin,
        "POST /vend",
        body.as_bytes(),
        SystemTime::now(),
    );
    let gci = app.sts_calls("GetCallerIdentity");
    let a = app
        .post("/ui/login-links", Some(&format!("Bearer {token}")), body)
        .await;
    assert_eq!((a.status, a.code().as_str()), (401, "INVALID_TOKEN"));
    // STS saw the proof once and refused it (the target is part of the signature).
    assert_eq!(app.sts_calls("GetCallerIdentity"), gci + 1);
    assert_eq!(app.sts_calls("AssumeRole"), assume);
    // The code appears in no log line.
    assert!(!crate::support::logs_text().contains(&code));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_link_shows_a_button_and_only_a_same_origin_post_with_the_cookie_spends_it() {
    let ui = ui_app().await;
    let app = &ui.app;
    let code = code_of(&login_link(app, &ui.bob, "/ui/requests/0123456789abcdef").await);
    // Link scanners fetch the link: GETs show the button and spend nothing.
    let (first, nonce) = login_page(app, &code).await;
    let (_, other_nonce) = login_page(app, &code).await;
    assert_eq!(first.status, 200);
    assert!(first.body.contains("id=\"sign-in\""), "{}", first.body);
    assert!(first
        .body
        .contains(&format!("name=\"login\" value=\"{nonce}\"")));
    let cookie = first
        .headers
        .iter()
        .find(|(k, v)| k == "set-cookie" && v.starts_with("__Host-tvm-login="))
        .unwrap()
        .1
        .clone();
    for part in ["Secure", "HttpOnly", "Path=/", "SameSite=Lax"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    assert_ne!(nonce, other_nonce);

    // Refused posts, none of which spends the code.
    let refused = [
        post_login(app, &code, None, &nonce, Some("same-origin")).await,
        post_login(app, &code, Some(&other_nonce), &nonce, Some("same-origin")).await,
        post_login(app, &code, Some(&nonce), &nonce, None).await,
        post_login(app, &code, Some(&nonce), &nonce, Some("cross-site")).await,
        post_login(app, &code, Some(&nonce), &nonce, Some("same-site")).await,
    ];
    for (i, a) in refused.iter().enumerate() {
        assert_eq!(a.status, 403, "case {i}: {}", a.body);
        assert!(set_cookie(a, "__Host-tvm-session").is_none(), "case {i}");
    }

    let ok = post_login(app, &code, Some(&nonce), &nonce, Some("same-origin")).await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert_eq!(ok.header("location"), Some("/ui/requests/0123456789abcdef"));
    let set = ok
        .headers
        .iter()
        .find(|(k, v)| k == "set-cookie" && v.starts_with("__Host-tvm-session="))
        .unwrap()
        .1
        .clone();
    for part in [
        "Secure",
        "HttpOnly",
        "Path=/",
        "SameSite=Lax",
        "Max-Age=3600",
    ] {
        assert!(set.contains(part), "{set}");
    }
    // Single use.
    let again = post_login(app, &code, Some(&nonce), &nonce, Some("same-origin")).await;
    assert_eq!(again.status, 403);
    assert!(
        again.body.contains("Link used or expired"),
        "{}",
        again.body
    );
    // An unknown code, and one that is not a code at all.
    let unknown = "0123456789abcdef0123456789abcdef";
    let a = post_login(app, unknown, Some(&nonce), &nonce, Some("same-origin")).await;
    assert_eq!(a.status, 403);
    let (bad, _) = login_page(app, "%3Cscript%3E").await;
    assert_eq!(bad.status, 400);
    assert!(!crate::support::logs_text().contains(&code));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sign_in_gets_a_fresh_session_and_every_page_names_who_is_signed_in() {
    let ui = ui_app().await;
    let app = &ui.app;
    let (a, b) = (session(app, &ui.bob).await, session(app, &ui.bob).await);
    assert_ne!(a, b);
    // A session id the browser brings is never adopted.
    let code = code_of(&login_link(app, &ui.bob, "/ui/").await);
    let (_, nonce) = login_page(app, &code).await;
    let planted = "00000000000000000000000000000000";
    let ok = request(
        "POST",
        &format!("{}/ui/login", app.api),
        &[
            (
                "cookie",
                format!("__Host-tvm-login={nonce}; __Host-tvm-session={planted}"),
            ),
            ("content-type", "application/x-www-form-urlencoded".into()),
            ("sec-fetch-site", "same-origin".into()),
        ],
        format!("code={code}&login={nonce}").into_bytes(),
    )
    .await;
    let fresh = set_cookie(&ok, "__Host-tvm-session").unwrap();
    assert_ne!(fresh, planted);
    assert!(page(app, "/ui/", Some(planted))
        .await
        .body
        .contains("tvm ui --url"));

    for path in ["/ui/", "/ui/requests/0123456789abcdef"] {
        let p = page(app, path, Some(&a)).await;
        assert!(p.body.contains(BOB_ARN), "{path}: {}", p.body);
        assert!(p.body.contains("action=\"/ui/logout\""), "{path}");
        let csp = p.header("content-security-policy").unwrap();
        assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
        assert!(!csp.contains("unsafe"));
        assert_eq!(p.header("x-frame-options"), Some("DENY"));
        assert_eq!(p.header("referrer-policy"), Some("no-referrer"));
    }
    // Without a session: the command to run, for the request that was linked.
    let p = page(app, "/ui/requests/0123456789abcdef", None).await;
    assert_eq!(p.status, 200);
    assert!(
        p.body.contains(&format!(
            "tvm ui --url {} --request 0123456789abcdef",
            app.origin
        )),
        "{}",
        p.body
    );
    assert_eq!(p.header("x-frame-options"), Some("DENY"));
    let css = page(app, "/ui/static/tvm.css", None).await;
    assert_eq!(css.status, 200);
    assert!(css.header("content-type").unwrap().starts_with("text/css"));

    // Logout (CSRF-checked) ends the session.
    let csrf = csrf_of(&page(app, "/ui/", Some(&a)).await);
    let out = post_form(app, "/ui/logout", &a, &[("csrf", &csrf)]).await;
    assert_eq!(out.status, 303);
    assert!(page(app, "/ui/", Some(&a))
        .await
        .body
        .contains("tvm ui --url"));
    assert!(page(app, "/ui/", Some(&b)).await.body.contains(BOB_ARN));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_need_this_sessions_csrf_token() {
    let ui = ui_app().await;
    let app = &ui.app;
    let id = create_request(app, &app.alice, "prod-admin", "deploy the hotfix").await;
    let bob = session(app, &ui.bob).await;
    let other = session(app, &ui.bob).await;
    let path = format!("/ui/requests/{id}");
    let mine = csrf_of(&page(app, &path, Some(&bob)).await);
    let theirs = csrf_of(&page(app, &path, Some(&other)).await);
    assert_ne!(mine, theirs);
    for form in [
        vec![("decision", "approve")],
        vec![("decision", "approve"), ("csrf", "")],
        vec![("decision", "approve"), ("csrf", theirs.as_str())],
        vec![("decision", "approve"), ("csrf", bob.as_str())],
    ] {
        let a = post_form(app, &path, &bob, &form).await;
        assert_eq!(a.status, 403, "{form:?}: {}", a.body);
        assert_eq!(status_of(app, &app.alice, &id).await, "pending");
    }
    let logout = post_form(app, "/ui/logout", &bob, &[("csrf", &theirs)]).await;
    assert_eq!(logout.status, 403);
    // Without a session at all.
    let a = request(
        "POST",
        &format!("{}{path}", app.api),
        &[("content-type", "application/x-www-form-urlencoded".into())],
        format!("decision=approve&csrf={mine}").into_bytes(),
    )
    .await;
    assert_eq!(a.status, 403);

    let ok = post_form(
        app,
        &path,
        &bob,
        &[
            ("decision", "approve"),
            ("csrf", &mine),
            ("comment", "fine"),
        ],
    )
    .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert_eq!(status_of(app, &app.alice, &id).await, "approved");
    let after = page(app, &path, Some(&bob)).await;
    assert!(after.body.contains("approved"), "{}", after.body);
    // Decided already: 409, as through the API.
    let again = post_form(app, &path, &bob, &[("decision", "deny"), ("csrf", &mine)]).await;
    assert_eq!(again.status, 409);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_approval_through_the_page_is_refused_as_through_the_api() {
    let ui = ui_app().await;
    let app = &ui.app;
    let id = create_request(
        app,
        &app.alice,
        "prod-admin",
        "rotate the database password",
    )
    .await;
    let path = format!("/ui/requests/{id}");
    // Alice (an approver of the rule) and her Identity Center session (the
    // same person with another permission set).
    for who in [&app.alice, &app.sso_alice] {
        let s = session(app, who).await;
        let p = page(app, &path, Some(&s)).await;
        assert_eq!(p.status, 200, "{}", p.body);
        assert!(
            !p.body.contains("id=\"approve\""),
            "no decision form for one's own request"
        );
        let list = page(app, "/ui/", Some(&s)).await;
        assert!(
            list.body.contains("id=\"nothing-to-review\""),
            "{}",
            list.body
        );
        assert!(
            list.body.contains("Your own pending requests"),
            "{}",
            list.body
        );
        let csrf = csrf_of(&p);
        let a = post_form(app, &path, &s, &[("decision", "approve"), ("csrf", &csrf)]).await;
        assert_eq!(a.status, 403, "{}", a.body);
        assert_eq!(status_of(app, &app.alice, &id).await, "pending");
    }
    let api_try = app
        .call(
            &app.sso_alice,
            "POST",
            &format!("/requests/{id}/approve"),
            "{}",
        )
        .await;
    assert_eq!(
        (api_try.status, api_try.code().as_str()),
        (403, "POLICY_DENY")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_approver_session_sees_nothing_to_approve() {
    let ui = ui_app().await;
    let app = &ui.app;
    let id = create_request(app, &app.alice, "prod-admin", "only eng approves this").await;
    // Carol approves readonly only: she may sign in, but this is not hers.
    let carol = session(app, &ui.carol).await;
    let list = page(app, "/ui/", Some(&carol)).await;
    assert!(
        list.body.contains("id=\"nothing-to-review\""),
        "{}",
        list.body
    );
    assert!(!list.body.contains(&id));
    let path = format!("/ui/requests/{id}");
    let p = page(app, &path, Some(&carol)).await;
    assert_eq!(p.status, 404);
    let csrf = csrf_of(&list);
    let a = post_form(
        app,
        &path,
        &carol,
        &[("decision", "approve"), ("csrf", &csrf)],
    )
    .await;
    assert_eq!(a.status, 404);
    assert_eq!(status_of(app, &app.alice, &id).await, "pending");
    // Bob (eng) sees it.
    let bob = session(app, &ui.bob).await;
    assert!(page(app, "/ui/", Some(&bob)).await.body.contains(&id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_in_a_reason_or_comment_is_shown_as_text() {
    let ui = ui_app().await;
    let app = &ui.app;
    let probe = r#"<script>alert(1)</script><img src=x onerror="alert(2)">"#;
    let id = create_request(app, &app.alice, "prod-admin", probe).await;
    let bob = session(app, &ui.bob).await;
    let path = format!("/ui/requests/{id}");
    let csrf = csrf_of(&page(app, &path, Some(&bob)).await);
    let ok = post_form(
        app,
        &path,
        &bob,
        &[("decision", "approve"), ("csrf", &csrf), ("comment", probe)],
    )
    .await;
    assert_eq!(ok.status, 303);
    for p in [
        page(app, "/ui/", Some(&bob)).await,
        page(app, &path, Some(&bob)).await,
    ] {
        assert!(!p.body.contains("<script>alert"), "{}", p.body);
        assert!(!p.body.contains("<img src=x"), "{}", p.body);
    }
    let p = page(app, &path, Some(&bob)).await;
    assert!(
        p.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{}",
        p.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_are_served_only_over_https_or_on_loopback() {
    // A listener on every address is not loopback: plain http is refused,
    // unless a trusted proxy says the client used https.
    let ui = ui_app_with(Options {
        api_bind_all: true,
        limits: tvm::config::ServerLimits {
            trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()],
            ..Options::default().limits
        },
        ..Options::default()
    })
    .await;
    let app = &ui.app;
    let bob = session_via(app, &ui.bob, &[("x-forwarded-proto", "https")]).await;
    let plain = page(app, "/ui/", Some(&bob)).await;
    assert_eq!(plain.status, 403, "{}", plain.body);
    assert!(!plain.body.contains(BOB_ARN));
    let with = |proto: &'static str| {
        let (url, cookie) = (
            format!("{}/ui/", app.api),
            format!("__Host-tvm-session={bob}"),
        );
        async move {
            request(
                "GET",
                &url,
                &[("cookie", cookie), ("x-forwarded-proto", proto.to_owned())],
                Vec::new(),
            )
            .await
        }
    };
    assert_eq!(with("http").await.status, 403);
    let https = with("https").await;
    assert_eq!(https.status, 200);
    assert!(https.body.contains(BOB_ARN));
}

/// [`session`] with extra headers on the browser's requests.
async fn session_via(app: &TestApp, who: &Caller, extra: &[(&str, &str)]) -> String {
    let code = code_of(&login_link(app, who, "/ui/").await);
    let mut headers: Vec<(&str, String)> = extra.iter().map(|(k, v)| (*k, v.to_string())).collect();
    let a = request(
        "GET",
        &format!("{}/ui/login?code={code}", app.api),
        &headers,
        Vec::new(),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let nonce = set_cookie(&a, "__Host-tvm-login").unwrap();
    headers.extend([
        ("cookie", format!("__Host-tvm-login={nonce}")),
        ("content-type", "application/x-www-form-urlencoded".into()),
        ("sec-fetch-site", "same-origin".into()),
    ]);
    let a = request(
        "POST",
        &format!("{}/ui/login", app.api),
        &headers,
        format!("code={code}&login={nonce}").into_bytes(),
    )
    .await;
    assert_eq!(a.status, 303, "{}", a.body);
    set_cookie(&a, "__Host-tvm-session").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_and_out_of_the_page_is_audited_as_ones_own() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("tvm.db").display());
    let ui = ui_app_with(Options {
        database_url: Some(url.clone()),
        ..Options::default()
    })
    .await;
    let app = &ui.app;
    let s = session(app, &ui.bob).await;
    let csrf = csrf_of(&page(app, "/ui/", Some(&s)).await);
    let out = post_form(app, "/ui/logout", &s, &[("csrf", &csrf)]).await;
    assert_eq!(out.status, 303);
    // Signing out of an ended session again writes nothing.
    let again = post_form(app, "/ui/logout", &s, &[("csrf", &csrf)]).await;
    assert_eq!(again.status, 303);

    // Served once old enough (DESIGN §13): age the rows as if a minute old.
    let db = tvm::approvals::connect(&url).await.unwrap();
    sqlx::query("UPDATE audit_events SET at = at - 60")
        .execute(&db.pool)
        .await
        .unwrap();
    let events = |a: &Answer| -> Vec<(String, String, String)> {
        assert_eq!(a.status, 200, "{}", a.body);
        a.json()["Events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["Event"].as_str().unwrap().to_owned(),
                    e["Actor"].as_str().unwrap().to_owned(),
                    e["Detail"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let bobs = events(&app.call(&ui.bob, "GET", "/audit", "").await);
    assert_eq!(
        bobs,
        [
            ("page.signed_in".into(), BOB_ARN.into(), "web page".into()),
            ("page.signed_out".into(), BOB_ARN.into(), "web page".into()),
        ]
    );
    assert!(events(&app.call(&ui.carol, "GET", "/audit", "").await).is_empty());
}
