//! Abuse limits (issue #7 items 2, 3, 4, 8): the client address behind trusted
//! proxies, per-address and per-caller buckets, connection slots on both
//! listeners, refusals counted rather than logged one by one, and keep-alive
//! connections after a 429.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tvm::config::{RateLimit, ServerLimits};

use crate::support::*;

const READONLY: &str = r#"{"profile":"readonly"}"#;
const PROD: &str = r#"{"profile":"prod-admin"}"#;

fn limits(f: impl FnOnce(&mut ServerLimits)) -> Options {
    let mut opts = Options::default();
    f(&mut opts.limits);
    opts
}

fn rate(per_minute: u32, burst: u32) -> RateLimit {
    RateLimit { per_minute, burst }
}

fn behind_proxy(l: &mut ServerLimits) {
    l.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
}

/// POST /vend as forwarded by a proxy for `client`.
async fn vend_via(app: &TestApp, client: &str, authorization: &str, body: &str) -> Answer {
    let headers = [
        ("content-type", "application/json".to_owned()),
        ("authorization", authorization.to_owned()),
        ("x-forwarded-for", client.to_owned()),
    ];
    request(
        "POST",
        &format!("{}/vend", app.api),
        &headers,
        body.as_bytes().to_vec(),
    )
    .await
}

async fn vend_as(app: &TestApp, who: &Caller, client: &str, body: &str) -> Answer {
    let token = app.token(who, body.as_bytes());
    vend_via(app, client, &format!("Bearer {token}"), body).await
}

fn assert_limited(resp: &Answer) {
    assert_eq!((resp.status, resp.code().as_str()), (429, "RATE_LIMITED"));
    assert!(
        resp.header("retry-after")
            .is_some_and(|v| v.parse::<u64>().unwrap() >= 1),
        "{:?}",
        resp.headers
    );
}

async fn metrics(app: &TestApp) -> String {
    app.get(&app.admin, "/metrics", None).await.body
}

/// The metrics once `series` reads `want` (the API listener may still be
/// working through its accept queue), or after 10 s.
async fn metrics_when(app: &TestApp, series: &str, want: f64) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let text = metrics(app).await;
        if metric(&text, series) == want || std::time::Instant::now() > deadline {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn addr(url: &str) -> SocketAddr {
    url.trim_start_matches("http://").parse().unwrap()
}

/// A raw connection from 127.0.0.`n`.
async fn connect_from(n: u8, to: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from(([127, 0, 0, n], 0))).unwrap();
    socket.connect(to).await.unwrap()
}

/// Sends `raw` and reads one answer (empty when the connection was closed).
async fn exchange(stream: &mut TcpStream, raw: &str) -> String {
    if stream.write_all(raw.as_bytes()).await.is_err() {
        return String::new();
    }
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
        .await
        .expect("an answer or a close, not silence")
        .unwrap_or(0);
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[tokio::test]
async fn garbage_from_one_client_behind_a_proxy_does_not_throttle_another() {
    let app = spawn_app_with(limits(|l| {
        behind_proxy(l);
        l.address_rate = rate(1, 5);
    }))
    .await;
    for _ in 0..20 {
        let resp = vend_via(&app, "198.51.100.66", "Bearer tvm-v1.garbage", READONLY).await;
        assert!(resp.status == 401 || resp.status == 429, "{}", resp.status);
    }
    assert_limited(&vend_via(&app, "198.51.100.66", "Bearer x", READONLY).await);
    // Another client behind the same proxy vends 5 of 5.
    for _ in 0..5 {
        assert_eq!(
            vend_as(&app, &app.alice, "203.0.113.7", READONLY)
                .await
                .status,
            200
        );
    }
    // A client forging a left-hand entry is still charged to its own address.
    let forged = "203.0.113.7, 198.51.100.66";
    assert_limited(&vend_via(&app, forged, "Bearer x", READONLY).await);
    assert_eq!(
        app.sts_calls("GetCallerIdentity"),
        5,
        "garbage reached no STS"
    );
    assert_eq!(app.sts_calls("AssumeRole"), 5);
}

#[tokio::test]
async fn forwarded_for_from_an_untrusted_peer_is_ignored() {
    let app = spawn_app_with(limits(|l| l.address_rate = rate(1, 3))).await;
    for i in 0..3 {
        let resp = vend_via(&app, &format!("198.51.100.{i}"), "Bearer x", READONLY).await;
        assert_eq!(resp.status, 401);
    }
    // A new X-Forwarded-For each time buys nothing: the peer is the client.
    let resp = vend_via(&app, "198.51.100.99", "Bearer x", READONLY).await;
    assert_limited(&resp);
    assert!(app.sim.calls().is_empty());
}

#[tokio::test]
async fn one_session_flooding_from_many_addresses_is_throttled_per_arn_then_per_role() {
    let app = spawn_app_with(limits(|l| {
        behind_proxy(l);
        l.address_rate = rate(1, 2);
        l.caller_rate = rate(1, 3);
        l.role_rate = rate(1, 5);
    }))
    .await;
    // Alice's session from a new address each time: the address buckets never
    // run dry, her session's bucket does.
    for i in 0..3 {
        let resp = vend_as(&app, &app.sso_alice, &format!("198.51.100.{i}"), PROD).await;
        assert_eq!(resp.status, 200, "{}", resp.body);
    }
    let resp = vend_as(&app, &app.sso_alice, "198.51.100.50", PROD).await;
    assert_limited(&resp);
    assert_eq!(app.sts_calls("GetCallerIdentity"), 4, "verified first");
    assert_eq!(app.sts_calls("AssumeRole"), 3, "no AssumeRole when limited");
    let id = resp.header("x-request-id").unwrap().to_owned();
    let line = logs_text()
        .lines()
        .find(|l| l.contains(&id) && l.contains("\"decision\""))
        .map(str::to_owned)
        .expect("a limited verified vend still writes its decision line");
    assert!(
        line.contains("\"reason\":\"rate_limited_principal\""),
        "{line}"
    );
    assert!(line.contains("alice@example.com"), "{line}");
    // GET /profiles is charged to the same session.
    let token = app.token(&app.sso_alice, b"");
    let headers = [
        ("authorization", format!("Bearer {token}")),
        ("x-forwarded-for", "198.51.100.60".to_owned()),
    ];
    let url = format!("{}/profiles", app.api);
    assert_limited(&request("GET", &url, &headers, Vec::new()).await);
    // Other sessions of the same role are not throttled by Alice...
    let hour = jiff::SignedDuration::from_hours(1);
    for (i, name) in ["bob", "carol"].into_iter().enumerate() {
        let other = app.add_session(SSO_ROLE_ARN, &format!("{name}@example.com"), hour);
        let resp = vend_as(&app, &other, &format!("203.0.113.{i}"), PROD).await;
        assert_eq!(resp.status, 200, "{}", resp.body);
    }
    // ...until the role's backstop is spent (3 + 2 of 5).
    let dave = app.add_session(SSO_ROLE_ARN, "dave@example.com", hour);
    assert_limited(&vend_as(&app, &dave, "203.0.113.9", PROD).await);
    assert_eq!(app.sts_calls("AssumeRole"), 5);
    let text = metrics(&app).await;
    assert_eq!(
        metric(&text, r#"tvm_rate_limited_total{scope="principal"}"#),
        2.0
    );
    assert_eq!(
        metric(&text, r#"tvm_rate_limited_total{scope="role"}"#),
        1.0
    );
    assert_eq!(
        metric(&text, r#"tvm_rate_limited_total{scope="address"}"#),
        0.0
    );
    assert_eq!(
        metric(&text, r#"tvm_vend_total{outcome="rate_limited"}"#),
        2.0
    );
}

#[tokio::test]
async fn discovery_has_its_own_bucket() {
    let app = spawn_app_with(limits(|l| l.discovery_rate = rate(1, 3))).await;
    for _ in 0..3 {
        assert_eq!(
            app.get(&app.api, "/.well-known/tvm", None).await.status,
            200
        );
    }
    let resp = app.get(&app.api, "/.well-known/tvm", None).await;
    assert_limited(&resp);
    assert_eq!(
        resp.json()["RequestId"].as_str(),
        resp.header("x-request-id")
    );
    // The vend budget is untouched.
    assert_eq!(app.vend(&app.alice, READONLY).await.status, 200);
    let text = metrics(&app).await;
    assert_eq!(
        metric(&text, r#"tvm_rate_limited_total{scope="discovery"}"#),
        1.0
    );
}

#[tokio::test]
async fn a_refusal_flood_is_counted_not_logged_line_by_line() {
    let app = spawn_app_with(limits(|l| {
        l.address_rate = rate(1, 1);
        l.max_connections_per_address = 4;
    }))
    .await;
    assert_eq!(app.vend(&app.alice, READONLY).await.status, 200);
    let mut ids = Vec::new();
    for _ in 0..40 {
        let resp = app.vend_with("garbage", READONLY).await;
        assert_limited(&resp);
        ids.push(resp.header("x-request-id").unwrap().to_owned());
    }
    // 40 idle connections from one address: 4 held, 36 refused.
    let api = addr(&app.api);
    let mut held = Vec::new();
    for _ in 0..40 {
        held.push(connect_from(9, api).await);
    }
    let per_address = r#"tvm_connections_refused_total{listener="api",reason="per_address"}"#;
    let text = metrics_when(&app, per_address, 36.0).await;
    assert_eq!(
        metric(&text, r#"tvm_vend_total{outcome="rate_limited"}"#),
        40.0
    );
    assert_eq!(
        metric(&text, r#"tvm_rate_limited_total{scope="address"}"#),
        40.0
    );
    assert_eq!(metric(&text, per_address), 36.0);
    let logs = logs_text();
    let lines = logs
        .lines()
        .filter(|l| ids.iter().any(|id| l.contains(id.as_str())))
        .count();
    assert_eq!(lines, 0, "no line per refused request");
    assert!(!logs.contains("connection limit reached"));
}

#[tokio::test]
async fn after_a_429_the_keep_alive_connection_answers_or_announces_its_close() {
    let app = spawn_app_with(limits(|l| {
        l.address_rate = rate(1, 1);
        l.discovery_rate = rate(1, 1);
    }))
    .await;
    let api = addr(&app.api);
    let get = |path: &str| format!("GET {path} HTTP/1.1\r\nhost: tvm.test\r\n\r\n");
    // The head first, the body later (as a slow or large upload arrives): tvm
    // answers 429 before the body is there.
    let head = format!(
        "POST /vend HTTP/1.1\r\nhost: tvm.test\r\nauthorization: Bearer x\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n",
        READONLY.len()
    );
    let mut s = connect_from(1, api).await;
    assert!(exchange(&mut s, &get("/profiles"))
        .await
        .starts_with("HTTP/1.1 401"));
    for _ in 0..3 {
        let answer = exchange(&mut s, &head).await;
        assert!(answer.starts_with("HTTP/1.1 429"), "{answer}");
        if answer.to_ascii_lowercase().contains("connection: close") {
            s = connect_from(1, api).await;
        } else {
            let _ = s.write_all(READONLY.as_bytes()).await;
        }
        let next = exchange(&mut s, &get("/.well-known/tvm")).await;
        assert!(
            next.starts_with("HTTP/1.1 "),
            "the next request got no answer"
        );
    }
    // A 429 to a request without a body keeps the connection.
    let answer = exchange(&mut s, &get("/.well-known/tvm")).await;
    assert!(answer.starts_with("HTTP/1.1 429"), "{answer}");
    assert!(!answer.to_ascii_lowercase().contains("connection: close"));
    let next = exchange(&mut s, &get("/profiles")).await;
    assert!(next.starts_with("HTTP/1.1 429"), "{next}");
}

#[tokio::test]
async fn idle_sockets_from_one_address_starve_neither_the_api_nor_the_probes() {
    let app = spawn_app_with(limits(|l| l.max_connections_per_address = 8)).await;
    let (api, admin) = (addr(&app.api), addr(&app.admin));
    let mut held = Vec::new();
    for _ in 0..300 {
        held.push(connect_from(2, api).await);
    }
    for _ in 0..64 {
        held.push(connect_from(2, admin).await);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    for _ in 0..8 {
        assert_eq!(app.vend(&app.alice, READONLY).await.status, 200);
        assert_eq!(app.get(&app.admin, "/livez", None).await.status, 200);
    }
    let text = metrics(&app).await;
    let refused = |l: &str| {
        metric(
            &text,
            &format!(r#"tvm_connections_refused_total{{listener="{l}",reason="per_address"}}"#),
        )
    };
    assert_eq!(refused("api"), 292.0);
    assert_eq!(refused("admin"), 60.0);
}

#[tokio::test]
async fn a_trusted_proxy_is_exempt_from_the_per_address_cap() {
    let app = spawn_app_with(limits(|l| {
        behind_proxy(l);
        l.max_connections_per_address = 2;
    }))
    .await;
    let api = addr(&app.api);
    let mut conns = Vec::new();
    for _ in 0..6 {
        conns.push(connect_from(1, api).await);
    }
    for s in &mut conns {
        let answer = exchange(s, "GET /.well-known/tvm HTTP/1.1\r\nhost: tvm.test\r\n\r\n").await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
}
