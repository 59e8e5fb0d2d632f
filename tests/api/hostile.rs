//! The hostile-input matrix (issue #3): malformed and malicious tokens, each
//! asserting the status, the `Code`, and that nothing was sent anywhere — with a
//! configured endpoint (the simulator records every request it receives) and
//! with the real-AWS allowlist (a recording transport counts every dial).
//! Then the cases that do reach STS and must fail there.

use std::time::SystemTime;

mod cases;

use cases::{generic_cases, join, split, with_url};

use crate::support::*;

const BODY: &str = r#"{"profile":"readonly"}"#;

#[tokio::test]
async fn hostile_tokens_with_a_configured_endpoint_never_reach_sts() {
    let app = spawn_app().await;
    let valid = app.token(&app.alice, BODY.as_bytes());
    let sso = app.token(&app.sso_alice, BODY.as_bytes());
    let mut cases = generic_cases(
        &valid,
        |at| app.token_for(&app.alice, &app.origin, "POST /vend", BODY.as_bytes(), at),
        &sso,
    );
    // Destination checks against the configured endpoint http://127.0.0.1:PORT.
    let port = app.verify_url.rsplit(':').next().unwrap().to_owned();
    for (name, from, to) in [
        (
            "https instead of the configured http",
            "http://",
            "https://",
        ),
        ("other port", &*format!(":{port}/"), ":1/"),
        ("no port", &*format!(":{port}/"), "/"),
        ("localhost instead of 127.0.0.1", "127.0.0.1", "localhost"),
        ("other loopback address", "127.0.0.1", "127.0.0.2"),
        (
            "AWS host instead of the endpoint",
            &*format!("http://127.0.0.1:{port}"),
            "https://sts.amazonaws.com",
        ),
    ] {
        cases.push((
            name.into(),
            format!("Bearer {}", with_url(&valid, |u| u.replacen(from, to, 1))),
            "INVALID_TOKEN",
        ));
    }
    cases.push(("missing header".into(), String::new(), "INVALID_TOKEN"));
    cases.push(("Basic scheme".into(), "Basic YTpi".into(), "INVALID_TOKEN"));
    cases.push((
        "lowercase bearer, two spaces".into(),
        format!("Bearer  {valid}"),
        "INVALID_TOKEN",
    ));
    assert!(cases.len() >= 40, "{} cases", cases.len());

    for (name, auth, code) in &cases {
        let auth = (!auth.is_empty()).then_some(auth.as_str());
        let resp = app.post("/vend", auth, BODY).await;
        assert_eq!(
            (resp.status, resp.code().as_str()),
            (401, *code),
            "case {name}: {}",
            resp.body
        );
        assert_eq!(
            resp.header("www-authenticate"),
            Some("Bearer"),
            "case {name}"
        );
        assert!(
            app.sim.calls().is_empty(),
            "case {name} reached STS: {:?}",
            app.sim.calls()
        );
    }
    // Control: the untouched token still works, so the cases failed for their flaw.
    let resp = app.vend_with(&valid, BODY).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    eprintln!("{} hostile cases with a configured endpoint", cases.len());
}

#[tokio::test]
async fn hostile_hosts_with_the_aws_allowlist_are_never_dialled() {
    let app = spawn_app_with(Options {
        aws_mode: true,
        ..Options::default()
    })
    .await;
    let mint = |endpoint: &str, region: &str| {
        tvm::client::token::mint_tvm_v1(
            &app.alice.creds,
            endpoint,
            region,
            &tvm::auth::Origin::parse(&app.origin).unwrap(),
            &tvm::client::token::Target::vend(),
            BODY.as_bytes(),
            SystemTime::now(),
        )
        .unwrap()
    };
    let valid = mint("https://sts.us-east-1.amazonaws.com", "us-east-1");
    let aws_sts = "https://sts.us-east-1.amazonaws.com";
    let sso = crate::support::mint(
        &app.sso_alice,
        aws_sts,
        &app.origin,
        "POST /vend",
        BODY.as_bytes(),
        SystemTime::now(),
    );
    let mut cases = generic_cases(
        &valid,
        |at| {
            crate::support::mint(
                &app.alice,
                aws_sts,
                &app.origin,
                "POST /vend",
                BODY.as_bytes(),
                at,
            )
        },
        &sso,
    );
    let host = |h: &str| {
        format!(
            "Bearer {}",
            with_url(&valid, |u| u.replacen("sts.us-east-1.amazonaws.com", h, 1))
        )
    };
    for (name, auth) in [
        (
            "http scheme",
            format!(
                "Bearer {}",
                with_url(&valid, |u| u.replacen("https://", "http://", 1))
            ),
        ),
        ("explicit port 443", host("sts.us-east-1.amazonaws.com:443")),
        (
            "explicit port 8443",
            host("sts.us-east-1.amazonaws.com:8443"),
        ),
        ("IPv4 literal", host("52.94.0.1")),
        ("IPv6 literal", host("[2600:1f18::1]")),
        ("suffix attack", host("sts.amazonaws.com.evil.io")),
        (
            "regional suffix attack",
            host("sts.us-east-1.amazonaws.com.evil.io"),
        ),
        ("not a region", host("sts.not-a-region.amazonaws.com")),
        (
            "S3 website host",
            host("sts.s3-website-us-west-2.amazonaws.com"),
        ),
        ("uppercase host", host("STS.US-EAST-1.AMAZONAWS.COM")),
        ("trailing dot", host("sts.us-east-1.amazonaws.com.")),
        ("other service", host("iam.amazonaws.com")),
        (
            "other partition host",
            host("sts.cn-north-1.amazonaws.com.cn"),
        ),
        (
            "host region != scope region",
            host("sts.eu-west-1.amazonaws.com"),
        ),
        (
            "global host with scope eu-west-1",
            format!("Bearer {}", mint("https://sts.amazonaws.com", "eu-west-1")),
        ),
        (
            "fips host without FIPS region",
            format!(
                "Bearer {}",
                mint("https://sts-fips.eu-west-1.amazonaws.com", "eu-west-1")
            ),
        ),
        (
            "percent-encoded host",
            host("sts%2Eus-east-1.amazonaws.com"),
        ),
        (
            "backslash host",
            host("sts.us-east-1.amazonaws.com\\@evil.io"),
        ),
    ] {
        cases.push((name.to_owned(), auth, "INVALID_TOKEN"));
    }
    for (name, auth, code) in &cases {
        let resp = app.post("/vend", Some(auth), BODY).await;
        assert_eq!(
            (resp.status, resp.code().as_str()),
            (401, *code),
            "case {name}: {}",
            resp.body
        );
        assert_eq!(
            app.dials.load(std::sync::atomic::Ordering::SeqCst),
            0,
            "case {name} dialled out"
        );
    }
    // Control: allowlisted hosts do go to the (recording) transport.
    for (endpoint, region) in [
        ("https://sts.us-east-1.amazonaws.com", "us-east-1"),
        ("https://sts.amazonaws.com", "us-east-1"),
        ("https://sts.eu-west-1.amazonaws.com", "eu-west-1"),
        ("https://sts-fips.us-east-1.amazonaws.com", "us-east-1"),
    ] {
        let before = app.dials.load(std::sync::atomic::Ordering::SeqCst);
        let resp = app
            .post(
                "/vend",
                Some(&format!("Bearer {}", mint(endpoint, region))),
                BODY,
            )
            .await;
        assert_eq!(
            (resp.status, resp.code().as_str()),
            (502, "STS_ERROR"),
            "{endpoint}"
        );
        assert_eq!(
            app.dials.load(std::sync::atomic::Ordering::SeqCst),
            before + 1,
            "{endpoint}"
        );
    }
    assert!(app.sim.calls().is_empty());
    eprintln!("{} hostile cases with the AWS allowlist", cases.len());
}

#[tokio::test]
async fn cases_that_reach_sts_and_fail_there() {
    let app = spawn_app().await;
    let auth = |t: &str| format!("Bearer {t}");
    // Wrong audience: STS recomputes with tvm's audience and refuses.
    let t = app.token_for(
        &app.alice,
        "https://not-tvm.example.com",
        "POST /vend",
        BODY.as_bytes(),
        SystemTime::now(),
    );
    let r = app.post("/vend", Some(&auth(&t)), BODY).await;
    assert_eq!((r.status, r.code().as_str()), (401, "INVALID_TOKEN"));
    // Tampered body.
    let t = app.token(&app.alice, BODY.as_bytes());
    let r = app
        .post("/vend", Some(&auth(&t)), r#"{"profile":"prod-admin"}"#)
        .await;
    assert_eq!((r.status, r.code().as_str()), (401, "INVALID_TOKEN"));
    // Nonce swapped for another valid-looking one.
    let t = app.token(&app.alice, BODY.as_bytes());
    let (_, url) = split(&t);
    let r = app
        .post("/vend", Some(&auth(&join(&"0".repeat(32), &url))), BODY)
        .await;
    assert_eq!((r.status, r.code().as_str()), (401, "INVALID_TOKEN"));
    // Wrong secret.
    let forged = Caller {
        creds: aws_credential_types::Credentials::new(
            app.alice.creds.access_key_id(),
            "not-the-secret",
            None,
            None,
            "t",
        ),
    };
    let r = app
        .post(
            "/vend",
            Some(&auth(&app.token(&forged, BODY.as_bytes()))),
            BODY,
        )
        .await;
    assert_eq!((r.status, r.code().as_str()), (401, "INVALID_TOKEN"));
    // Expired session token (the simulator's session, not the presign, has expired).
    let old = app.add_session(
        "arn:aws:iam::111122223333:role/Old",
        "old-session",
        jiff::SignedDuration::from_mins(-1),
    );
    let r = app
        .post(
            "/vend",
            Some(&auth(&app.token(&old, BODY.as_bytes()))),
            BODY,
        )
        .await;
    assert_eq!((r.status, r.code().as_str()), (401, "INVALID_TOKEN"));
    let gci = app.sim.calls_for("GetCallerIdentity");
    assert_eq!(gci.len(), 5, "each case reached STS once");
    assert!(gci.iter().all(|c| c.status == 403), "{gci:?}");
    assert_eq!(app.sts_calls("AssumeRole"), 0);
}
