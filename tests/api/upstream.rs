//! A fake upstream in place of STS for GetCallerIdentity, answering each bad
//! shape an attacker-controlled or broken upstream could produce (issue #3.4).
//! tvm must never follow a redirect, never accept anything but STS's exact
//! answer, never echo upstream text, and never call AssumeRole.

use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use tokio::net::TcpListener;

use crate::support::*;

const BODY: &str = r#"{"profile":"readonly"}"#;
const NS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

#[derive(Clone)]
struct Canned {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
}

/// Serves whatever `canned` holds at the moment, on every path.
async fn fake_upstream(canned: Arc<Mutex<Canned>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().fallback(move || {
        let c = canned.lock().unwrap().clone();
        async move {
            let mut headers = HeaderMap::new();
            for (k, v) in &c.headers {
                headers.insert(*k, v.parse().unwrap());
            }
            (StatusCode::from_u16(c.status).unwrap(), headers, c.body).into_response()
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

fn gci(arn: &str, user_id: &str, account: &str) -> String {
    format!(
        "<GetCallerIdentityResponse xmlns=\"{NS}\"><GetCallerIdentityResult><Arn>{arn}</Arn>\
         <UserId>{user_id}</UserId><Account>{account}</Account></GetCallerIdentityResult>\
         <ResponseMetadata><RequestId>0f0f</RequestId></ResponseMetadata></GetCallerIdentityResponse>"
    )
}

fn xml(status: u16, body: String) -> Canned {
    Canned {
        status,
        headers: vec![("content-type", "text/xml".into())],
        body,
    }
}

#[tokio::test]
async fn every_bad_upstream_answer_is_refused() {
    let alice_ok = gci(ALICE_ARN, "AIDAALICEALICEALICE0", "111122223333");
    let canned = Arc::new(Mutex::new(xml(200, alice_ok.clone())));
    let upstream = fake_upstream(canned.clone()).await;
    let app = spawn_app_with(Options {
        verification_url: Some(upstream),
        ..Options::default()
    })
    .await;

    // Control: STS's exact answer is accepted and the vend goes through.
    let resp = app.vend(&app.alice, BODY).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(app.sts_calls("AssumeRole"), 1);
    app.sim.clear_calls();

    let embedded = serde_json::json!({"Message": alice_ok}).to_string();
    let two_results = alice_ok.replace(
        "</GetCallerIdentityResult>",
        "</GetCallerIdentityResult><GetCallerIdentityResult><Arn>arn:aws:iam::111122223333:root</Arn>\
         <UserId>111122223333</UserId><Account>111122223333</Account></GetCallerIdentityResult>",
    );
    let doctype = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY a \"{ALICE_ARN}\">]>{}",
        gci("&a;", "AIDAALICEALICEALICE0", "111122223333")
    );
    let cases: Vec<(&str, Canned, u16, &str)> = vec![
        (
            "302 redirect to the simulator",
            Canned {
                status: 302,
                headers: vec![("location", format!("{}/?Action=GetCallerIdentity", app.sim_url))],
                body: String::new(),
            },
            502,
            "STS_ERROR",
        ),
        ("200 text/html", Canned { status: 200, headers: vec![("content-type", "text/html".into())], body: alice_ok.clone() }, 502, "STS_ERROR"),
        ("200 without content type", Canned { status: 200, headers: vec![], body: alice_ok.clone() }, 502, "STS_ERROR"),
        ("JSON with an embedded XML answer", Canned { status: 200, headers: vec![("content-type", "application/json".into())], body: embedded }, 502, "STS_ERROR"),
        ("two results", xml(200, two_results), 502, "STS_ERROR"),
        ("DOCTYPE with an entity", xml(200, doctype), 502, "STS_ERROR"),
        ("account mismatch", xml(200, gci(ALICE_ARN, "AIDAALICEALICEALICE0", "999999999999")), 502, "STS_ERROR"),
        ("UserId of another kind", xml(200, gci(ALICE_ARN, "AROAROLEROLEROLE0000:alice", "111122223333")), 502, "STS_ERROR"),
        ("wrong namespace", xml(200, alice_ok.replace(NS, "https://evil.example/")), 502, "STS_ERROR"),
        ("unknown partition", xml(200, gci("arn:aws-iso:iam::111122223333:user/eng/alice", "AIDAALICEALICEALICE0", "111122223333")), 502, "STS_ERROR"),
        // With a configured endpoint too, the ARN must be in the partition of sts.region.
        ("other partition", xml(200, gci("arn:aws-cn:iam::111122223333:user/eng/alice", "AIDAALICEALICEALICE0", "111122223333")), 502, "STS_ERROR"),
        ("not a caller ARN", xml(200, gci("arn:aws:iam::111122223333:role/Admin", "AROAADMINADMINADMIN0", "111122223333")), 502, "STS_ERROR"),
        ("oversized body", xml(200, format!("{alice_ok}<!--{}-->", "x".repeat(100 * 1024))), 502, "STS_ERROR"),
        ("empty 200", xml(200, String::new()), 502, "STS_ERROR"),
        ("500", xml(500, "<Error>internal secret detail</Error>".into()), 502, "STS_ERROR"),
        ("503", xml(503, "ServiceUnavailable".into()), 502, "STS_ERROR"),
        ("throttling", xml(400, format!("<ErrorResponse xmlns=\"{NS}\"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>1</RequestId></ErrorResponse>")), 503, "STS_THROTTLED"),
        ("429", xml(429, String::new()), 503, "STS_THROTTLED"),
        ("403 SignatureDoesNotMatch", xml(403, format!("<ErrorResponse xmlns=\"{NS}\"><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code><Message>upstream secret detail</Message></Error><RequestId>1</RequestId></ErrorResponse>")), 401, "INVALID_TOKEN"),
    ];
    for (name, answer, status, code) in cases {
        *canned.lock().unwrap() = answer;
        let resp = app.vend(&app.alice, BODY).await;
        assert_eq!(
            (resp.status, resp.code().as_str()),
            (status, code),
            "case {name}: {}",
            resp.body
        );
        for leak in [
            "secret detail",
            "Rate exceeded",
            "SignatureDoesNotMatch",
            "Throttling",
        ] {
            assert!(
                !resp.body.contains(leak),
                "case {name} echoed upstream text"
            );
        }
        assert!(
            app.sim.calls().is_empty(),
            "case {name}: {:?}",
            app.sim.calls()
        );
    }
}
