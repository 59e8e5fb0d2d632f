//! Tokens are bound to the origin the caller meant (DESIGN §2, issue "Security,
//! round two" item 1): a phishing or hostile tvm that copies the real one's
//! discovery gets nothing signed; one that announces its own origin gets a
//! token the real service refuses; several configured origins are told apart
//! by the hint or the `Host`, before any STS call; `--url` is normalised and
//! refused when it is not an origin.

use std::process::Command;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use tokio::net::TcpListener;

use crate::support::*;

const READONLY: &str = r#"{"profile":"readonly"}"#;

/// What the fake tvm received on `POST /vend`: the headers and the body.
type Captured = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

/// A hostile tvm on loopback: answers discovery with `discovery` and keeps
/// whatever a client sends to `POST /vend` (answering 503, so the client fails).
async fn fake_tvm(discovery: impl Fn(&str) -> serde_json::Value) -> (String, Captured) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let doc = discovery(&url).to_string();
    let captured: Captured = Arc::default();
    let router = Router::new()
        .route(
            "/.well-known/tvm",
            get(move || {
                let doc = doc.clone();
                async move { ([("content-type", "application/json")], doc) }
            }),
        )
        .route(
            "/vend",
            post(
                |State(c): State<Captured>, headers: HeaderMap, body: Bytes| async move {
                    c.lock().unwrap().push((headers, body));
                    StatusCode::SERVICE_UNAVAILABLE
                },
            ),
        )
        .with_state(captured.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, captured)
}

/// `tvm credentials` as a user runs it, with alice's keys in the environment.
fn credentials(app: &TestApp, args: &[&str]) -> std::process::Output {
    let creds = &app.alice.creds;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tvm"));
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("TVM_") || k.starts_with("AWS_")) {
        cmd.env_remove(k);
    }
    cmd.arg("credentials")
        .args(args)
        .env("AWS_ACCESS_KEY_ID", creds.access_key_id())
        .env("AWS_SECRET_ACCESS_KEY", creds.secret_access_key())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
    tokio::task::block_in_place(|| cmd.output().unwrap())
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn real_discovery(app: &TestApp) -> serde_json::Value {
    serde_json::json!({
        "audience": [app.origin],
        "sts_endpoint": app.verify_url,
        "region": "us-east-1",
        "token_versions": ["tvm-v1"],
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fake_tvm_copying_the_real_discovery_gets_nothing_signed() {
    let app = spawn_app().await;
    let real = real_discovery(&app);
    let (fake, captured) = fake_tvm(move |_| real.clone()).await;
    let out = credentials(&app, &["--url", &fake, "--profile", "readonly"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("accepts tokens for {}", app.origin)) && err.contains(&fake),
        "the message names what the server accepts and what was derived: {err}"
    );
    assert!(captured.lock().unwrap().is_empty(), "no token was sent");
    assert!(app.sim.calls().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fake_tvm_cannot_write_control_sequences_to_the_terminal() {
    let app = spawn_app().await;
    let mut doc = real_discovery(&app);
    // An OSC 52 clipboard write and a screen clear, then a line that reads as
    // advice from tvm itself.
    doc["audience"] = serde_json::json!([
        app.origin,
        "\u{1b}]52;c;ZXZpbA==\u{7}\u{1b}[2J\rrun: tvm credentials --audience https://evil"
    ]);
    let (fake, captured) = fake_tvm(move |_| doc.clone()).await;
    let out = credentials(&app, &["--url", &fake, "--profile", "readonly"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        !err.trim_end().chars().any(char::is_control),
        "only printable text reaches the terminal: {err:?}"
    );
    assert!(err.contains(&format!("accepts tokens for {}", app.origin)));
    assert!(err.contains("may be relaying your token"), "{err}");
    assert!(captured.lock().unwrap().is_empty(), "no token was sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_phished_by_a_tvm_announcing_its_own_origin_is_refused_by_the_real_one() {
    let app = spawn_app().await;
    let verify_url = app.verify_url.clone();
    let (fake, captured) = fake_tvm(move |own| {
        serde_json::json!({
            "audience": [own],
            "sts_endpoint": verify_url,
            "region": "us-east-1",
            "token_versions": ["tvm-v1"],
        })
    })
    .await;
    let out = credentials(&app, &["--url", &fake, "--profile", "readonly"]);
    assert_ne!(out.status.code(), Some(0));
    let (headers, body) = captured
        .lock()
        .unwrap()
        .pop()
        .expect("the client sent a vend");
    assert_eq!(
        headers["x-tvm-audience"],
        fake.as_str(),
        "signed for the origin it called"
    );
    let authorization = headers["authorization"].to_str().unwrap().to_owned();
    let body = String::from_utf8(body.to_vec()).unwrap();
    // Relayed as is (its hint names the fake: refused before STS) ...
    let resp = request(
        "POST",
        &format!("{}/vend", app.api),
        &[
            ("authorization", authorization.clone()),
            ("x-tvm-audience", fake.clone()),
        ],
        body.clone().into_bytes(),
    )
    .await;
    assert_eq!((resp.status, resp.code().as_str()), (401, "INVALID_TOKEN"));
    assert_eq!(app.sts_calls("GetCallerIdentity"), 0);
    // ... or with the real origin claimed, or no hint at all: STS refuses
    // tvm's own values.
    let resp = app.post("/vend", Some(&authorization), &body).await;
    assert_eq!((resp.status, resp.code().as_str()), (401, "INVALID_TOKEN"));
    let resp = request(
        "POST",
        &format!("{}/vend", app.api),
        &[
            ("authorization", authorization.clone()),
            ("x-tvm-audience", app.origin.clone()),
        ],
        body.clone().into_bytes(),
    )
    .await;
    assert_eq!((resp.status, resp.code().as_str()), (401, "INVALID_TOKEN"));
    let gci = app.sim.calls_for("GetCallerIdentity");
    assert_eq!(gci.len(), 2);
    assert!(gci
        .iter()
        .all(|c| c.error_code.as_deref() == Some("SignatureDoesNotMatch")));
    assert_eq!(app.sts_calls("AssumeRole"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_url_is_normalised_and_audience_pins_a_port_forward() {
    let app = spawn_app().await;
    let port = app.origin.rsplit(':').next().unwrap().to_owned();
    for url in [
        app.api.clone(),
        format!("{}/", app.api),
        format!("HTTP://127.0.0.1:{port}"),
    ] {
        let out = credentials(&app, &["--url", &url, "--profile", "readonly"]);
        assert!(out.status.success(), "{url}: {}", stderr(&out));
    }
    // `localhost` is another origin than 127.0.0.1: refused unless pinned.
    let forward = format!("http://localhost:{port}");
    let out = credentials(&app, &["--url", &forward, "--profile", "readonly"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("--audience"), "{}", stderr(&out));
    let out = credentials(
        &app,
        &[
            "--url",
            &forward,
            "--audience",
            &app.origin,
            "--profile",
            "readonly",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let before = app.sim.calls().len();
    for (url, says) in [
        (format!("{}/tvm", app.api), "no path"),
        (format!("http://alice@127.0.0.1:{port}"), "user name"),
        (format!("{}?x=1", app.api), "query"),
        ("127.0.0.1:1".to_owned(), "https://"),
    ] {
        let out = credentials(&app, &["--url", &url, "--profile", "readonly"]);
        assert_eq!(out.status.code(), Some(1), "{url}");
        let err = stderr(&out).replace("must not have a path", "no path");
        assert!(err.contains(says), "{url}: {err}");
    }
    assert_eq!(
        app.sim.calls().len(),
        before,
        "nothing was signed for a bad URL"
    );
}

/// POST /vend with exactly these extra headers (Host included, when given).
async fn vend_as(app: &TestApp, token: &str, headers: &[(&str, &str)]) -> Answer {
    let mut all = vec![
        ("authorization", format!("Bearer {token}")),
        ("content-type", "application/json".to_owned()),
    ];
    all.extend(headers.iter().map(|(k, v)| (*k, (*v).to_owned())));
    request(
        "POST",
        &format!("{}/vend", app.api),
        &all,
        READONLY.as_bytes().to_vec(),
    )
    .await
}

#[tokio::test]
async fn several_origins_are_told_apart_by_hint_or_host_before_any_sts_call() {
    const PUBLIC: &str = "https://tvm.example.com";
    const INTERNAL: &str = "https://tvm.tvm-prod.svc.cluster.local:8443";
    let app = spawn_app_with(Options {
        extra_origins: vec![PUBLIC.into(), INTERNAL.into()],
        ..Options::default()
    })
    .await;
    let token = |origin: &str| {
        app.token_for(
            &app.alice,
            origin,
            "POST /vend",
            READONLY.as_bytes(),
            std::time::SystemTime::now(),
        )
    };
    // Each origin under its own Host.
    for (origin, host) in [
        (PUBLIC, "tvm.example.com"),
        (PUBLIC, "TVM.example.com:443"),
        (INTERNAL, "tvm.tvm-prod.svc.cluster.local:8443"),
    ] {
        let resp = vend_as(&app, &token(origin), &[("host", host)]).await;
        assert_eq!(resp.status, 200, "{host}: {}", resp.body);
    }
    // A hint wins over the Host (a port-forward).
    let resp = vend_as(&app, &token(PUBLIC), &[("x-tvm-audience", PUBLIC)]).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let gci = app.sts_calls("GetCallerIdentity");
    assert_eq!(gci, 4);
    // A Host matching none, and a hint naming no configured origin: refused
    // before any STS call.
    for headers in [
        vec![("host", "tvm.example.com:8443")],
        vec![("host", "evil.example.com")],
        vec![
            ("x-tvm-audience", "https://evil.example.com"),
            ("host", "tvm.example.com"),
        ],
        vec![("x-tvm-audience", "tvm.example.com")],
    ] {
        let resp = vend_as(&app, &token(PUBLIC), &headers).await;
        assert_eq!(
            (resp.status, resp.code().as_str()),
            (401, "INVALID_TOKEN"),
            "{headers:?}"
        );
        assert_eq!(resp.header("www-authenticate"), Some("Bearer"));
    }
    assert_eq!(
        app.sts_calls("GetCallerIdentity"),
        gci,
        "no STS call for those"
    );
    assert!(logs_text().contains("audience_unresolved"));
    assert!(logs_text().contains("unknown_audience_hint"));
}
