//! Requests through the router without an SDK: presigned GETs made with
//! `aws-sigv4` (tvm-v1 and EKS styles), unauthenticated and malformed requests.

use axum::body::Body;
use http::{HeaderValue, Request};
use tower::ServiceExt as _;

use super::*;
use crate::sts::sim::testkit::{Signed, Spec};

const GCI: &str = "Action=GetCallerIdentity&Version=2011-06-15";

/// Sends through the router; returns status, headers and body.
async fn exchange(sim: &Simulator, req: Request<Body>) -> (u16, http::HeaderMap, String) {
    let resp = sim.router().oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, headers, String::from_utf8(body.to_vec()).unwrap())
}

fn request(signed: &Signed) -> Request<Body> {
    let mut req = Request::builder()
        .method(signed.method)
        .uri(&signed.path_and_query)
        .body(Body::from(signed.body.clone()))
        .unwrap();
    *req.headers_mut() = signed.headers.clone();
    req
}

fn code_of(body: &str) -> Option<String> {
    let start = body.find("<Code>")? + "<Code>".len();
    let end = body[start..].find("</Code>")? + start;
    Some(body[start..end].to_owned())
}

/// Sends a signed request; returns status and STS error code.
pub(super) async fn send(sim: &Simulator, signed: &Signed) -> (u16, Option<String>) {
    let (status, _, body) = exchange(sim, request(signed)).await;
    (status, code_of(&body))
}

fn tvm_presign(akid: &str, secret: &str, audience: &str) -> Signed {
    let mut spec = Spec::new(akid, secret, "sts.sim.test:4566");
    spec.headers = vec![
        ("x-tvm-audience", audience),
        (
            "x-tvm-body-sha256",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ),
        ("x-tvm-nonce", "0123456789abcdef0123456789abcdef"),
    ];
    spec.presign(GCI, 60)
}

#[tokio::test]
async fn presigned_gci_with_tvm_headers_verifies_and_is_recorded() {
    let sim = simulator(Arc::new(SystemClock));
    let signed = tvm_presign(ALICE_AKID, ALICE_SECRET, "tvm.example.com");
    let (status, headers, body) = exchange(&sim, request(&signed)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["content-type"], "text/xml");
    assert!(headers.contains_key("x-amzn-requestid"));
    assert!(body.starts_with(
        "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
    ));
    assert!(body.contains(&format!("<Arn>{ALICE_ARN}</Arn>")));
    assert!(body.contains(&format!("<Account>{ACCOUNT}</Account>")));
    let rid = headers["x-amzn-requestid"].to_str().unwrap();
    assert!(body.contains(&format!("<RequestId>{rid}</RequestId>")));

    let call = &sim.calls()[0];
    assert_eq!(call.caller_arn.as_deref(), Some(ALICE_ARN));
    assert_eq!(
        call.signed_header("x-tvm-audience"),
        Some("tvm.example.com")
    );
    assert_eq!(call.signed_headers.len(), 3);
    assert_eq!(call.param("X-Amz-Expires"), Some("60"));
    assert!(call.param("X-Amz-Signature").is_none());
}

#[tokio::test]
async fn presigned_gci_fails_if_a_sent_header_differs_from_the_signed_one() {
    let sim = simulator(Arc::new(SystemClock));
    let mut signed = tvm_presign(ALICE_AKID, ALICE_SECRET, "tvm.example.com");
    signed.headers.insert(
        "x-tvm-audience",
        HeaderValue::from_static("other.example.com"),
    );
    assert_eq!(
        send(&sim, &signed).await,
        (403, Some("SignatureDoesNotMatch".into()))
    );
    let call = &sim.calls()[0];
    assert!(call.caller_arn.is_none());
    assert_eq!(
        call.signed_header("x-tvm-audience"),
        Some("other.example.com")
    );
}

#[tokio::test]
async fn presigned_gci_with_session_token_and_eks_header() {
    let sim = simulator(Arc::new(SystemClock));
    sim.add_role_session(crate::sts::sim::SimRoleSession {
        role_arn: TVM_ROLE.into(),
        session_name: "pod".into(),
        access_key_id: "ASIAPODEXAMPLE000001".into(),
        secret_access_key: "pod/secret".into(),
        session_token: "pod+token/=".into(),
        expiration: jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1),
        source_identity: None,
    })
    .unwrap();
    let mut spec = Spec::new(
        "ASIAPODEXAMPLE000001",
        "pod/secret",
        "sts.us-west-2.amazonaws.com",
    );
    spec.region = "us-west-2";
    spec.token = Some("pod+token/=");
    spec.headers = vec![("x-k8s-aws-id", "my-cluster")];
    let signed = spec.presign(GCI, 60);
    assert_eq!(send(&sim, &signed).await, (200, None));
    let call = &sim.calls()[0];
    assert_eq!(
        call.caller_arn.as_deref(),
        Some("arn:aws:sts::111122223333:assumed-role/tvm/pod")
    );
    assert_eq!(
        call.signed_headers,
        [("x-k8s-aws-id".to_owned(), "my-cluster".to_owned())]
    );
    assert!(call.param("X-Amz-Security-Token").is_none());
}

#[tokio::test]
async fn expired_presigned_url_is_access_denied() {
    let sim = simulator(Arc::new(SystemClock));
    let mut spec = Spec::new(ALICE_AKID, ALICE_SECRET, "h:1");
    spec.time = std::time::SystemTime::now() - std::time::Duration::from_secs(61);
    assert_eq!(
        send(&sim, &spec.presign(GCI, 60)).await,
        (403, Some("AccessDenied".into()))
    );
}

async fn plain(sim: &Simulator, method: &str, uri: &str, body: &str) -> (u16, Option<String>) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("host", "h")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(body.to_owned()))
        .unwrap();
    let (status, headers, body) = exchange(sim, req).await;
    assert!(headers.contains_key("x-amzn-requestid"));
    assert!(body.contains("<ErrorResponse"), "{body}");
    (status, code_of(&body))
}

#[tokio::test]
async fn unauthenticated_and_malformed_requests() {
    let sim = simulator(Arc::new(SystemClock));
    let code = |r: (u16, Option<String>)| (r.0, r.1.unwrap_or_default());
    assert_eq!(
        code(plain(&sim, "GET", &format!("/?{GCI}"), "").await),
        (403, "MissingAuthenticationToken".into())
    );
    assert_eq!(
        code(plain(&sim, "POST", "/", GCI).await),
        (403, "MissingAuthenticationToken".into())
    );
    assert_eq!(
        code(plain(&sim, "PUT", "/", "").await),
        (405, "MethodNotAllowed".into())
    );
    assert_eq!(
        code(plain(&sim, "GET", "/other?a=1", "").await),
        (404, "NotFound".into())
    );
    assert_eq!(
        code(plain(&sim, "GET", "/?a=%zz", "").await),
        (400, "MalformedQueryString".into())
    );
    assert_eq!(
        code(plain(&sim, "GET", "/?a=1&a=2", "").await),
        (400, "MalformedQueryString".into())
    );
    let huge = "a".repeat(crate::sts::sim::MAX_BODY_BYTES + 1);
    assert_eq!(
        code(plain(&sim, "POST", "/", &huge).await),
        (413, "RequestEntityTooLarge".into())
    );
    let half_auth = format!("/?{GCI}&X-Amz-Algorithm=AWS4-HMAC-SHA256");
    assert_eq!(
        code(plain(&sim, "GET", &half_auth, "").await),
        (400, "IncompleteSignature".into())
    );
    assert_eq!(sim.calls().len(), 8);
    assert!(sim.calls().iter().all(|c| c.caller_arn.is_none()));
}

#[tokio::test]
async fn actions_and_versions_are_checked_after_authentication() {
    let sim = simulator(Arc::new(SystemClock));
    let spec = Spec::new(ALICE_AKID, ALICE_SECRET, "h:1");
    let cases = [
        (
            "Action=GetSessionToken&Version=2011-06-15",
            (400, "InvalidAction"),
        ),
        (
            "Action=GetCallerIdentity&Version=2012-01-01",
            (400, "InvalidAction"),
        ),
        ("Action=GetCallerIdentity", (400, "InvalidAction")),
        ("Version=2011-06-15", (400, "MissingAction")),
        (GCI, (200, "")),
    ];
    for (body, (status, code)) in cases {
        let got = send(&sim, &spec.post(body)).await;
        assert_eq!(
            (got.0, got.1.unwrap_or_default()),
            (status, code.to_owned()),
            "{body}"
        );
    }
    let calls = sim.calls();
    assert!(calls
        .iter()
        .all(|c| c.caller_arn.as_deref() == Some(ALICE_ARN)));
    assert_eq!(calls[3].action, None);
    assert_eq!(calls[0].action.as_deref(), Some("GetSessionToken"));
}

#[tokio::test]
async fn presigned_request_works_over_a_real_socket() {
    use http_body_util::BodyExt as _;
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;

    let (sim, handle) = spawn().await;
    let host = handle.addr().to_string();
    let mut spec = Spec::new(ALICE_AKID, ALICE_SECRET, &host);
    spec.headers = vec![("x-tvm-nonce", "0123456789abcdef0123456789abcdef")];
    let signed = spec.presign(GCI, 60);
    let client =
        Client::builder(TokioExecutor::new()).build_http::<http_body_util::Empty<bytes::Bytes>>();
    let mut req = Request::get(signed.url())
        .body(http_body_util::Empty::new())
        .unwrap();
    req.headers_mut().insert(
        "x-tvm-nonce",
        HeaderValue::from_static("0123456789abcdef0123456789abcdef"),
    );
    let resp = client.request(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    assert!(String::from_utf8_lossy(&body).contains(ALICE_ARN));
    assert_eq!(
        sim.calls()[0].signed_header("x-tvm-nonce"),
        Some("0123456789abcdef0123456789abcdef")
    );
}

#[tokio::test]
async fn json_is_answered_when_accepted() {
    let sim = simulator(Arc::new(SystemClock));
    let mut signed = tvm_presign(ALICE_AKID, ALICE_SECRET, "tvm.example.com");
    signed
        .headers
        .insert("accept", HeaderValue::from_static("application/json"));
    let (status, headers, body) = exchange(&sim, request(&signed)).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/json");
    let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
    let result = &doc["GetCallerIdentityResponse"]["GetCallerIdentityResult"];
    assert_eq!(result["Arn"], ALICE_ARN);
    assert_eq!(result["Account"], ACCOUNT);

    signed.headers.insert(
        "x-tvm-nonce",
        HeaderValue::from_static("ffffffffffffffffffffffffffffffff"),
    );
    let (status, _, body) = exchange(&sim, request(&signed)).await;
    let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (status, doc["Error"]["Code"].as_str()),
        (403, Some("SignatureDoesNotMatch"))
    );
}
