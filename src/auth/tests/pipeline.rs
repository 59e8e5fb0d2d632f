//! The proof path: exact rebuild, bindings, no dial for failing tokens, replay.

use super::*;

#[tokio::test]
async fn a_valid_token_verifies_and_the_request_is_rebuilt_exactly() {
    let sts = FakeSts::new(Mode::Verify(keys()));
    let v = build(settings(aws()), &sts);
    let token = Mint::default().tvm();
    let caller = verify(&v, &token, BODY).await.unwrap();
    assert_eq!(caller.identity().arn().as_str(), ARN);
    assert_eq!(caller.user_id(), USER_ID);
    assert_eq!(caller.access_key_id(), AKID);
    assert_eq!(sts.calls(), 1);

    let req = sts.last();
    assert_eq!(req.method(), http::Method::GET);
    let uri = req.uri().to_string();
    assert!(uri.starts_with("https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20240501%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Date=20240501T120000Z&X-Amz-Expires=60&X-Amz-Signature="), "{uri}");
    assert!(
        uri.ends_with(
            "&X-Amz-SignedHeaders=host%3Bx-tvm-audience%3Bx-tvm-body-sha256%3Bx-tvm-nonce%3Bx-tvm-target"
        ),
        "{uri}"
    );
    let mut headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
        .collect();
    headers.sort();
    assert_eq!(
        headers,
        vec![
            ("host".to_owned(), "sts.us-east-1.amazonaws.com".to_owned()),
            ("x-tvm-audience".to_owned(), AUDIENCE.to_owned()),
            ("x-tvm-body-sha256".to_owned(), body_sha256(BODY)),
            ("x-tvm-nonce".to_owned(), NONCE.to_owned()),
            ("x-tvm-target".to_owned(), "POST /vend".to_owned()),
        ]
    );
}

#[tokio::test]
async fn bindings_are_enforced_by_sts_with_our_own_values() {
    let cases: Vec<(&str, String, &[u8])> = vec![
        (
            "other body",
            Mint::default().tvm(),
            b"{\"profile\":\"other\"}",
        ),
        ("empty body", Mint::default().tvm(), b""),
        (
            "other audience",
            Mint {
                audience: "https://other.example.com",
                ..Mint::default()
            }
            .tvm(),
            BODY,
        ),
        (
            "prefix nonce differs from the signed one",
            Mint {
                prefix_nonce: "ffeeddccbbaa99887766554433221100",
                ..Mint::default()
            }
            .tvm(),
            BODY,
        ),
    ];
    for (what, token, body) in cases {
        let sts = FakeSts::new(Mode::Verify(keys()));
        let err = verify(&build(settings(aws()), &sts), &token, body)
            .await
            .unwrap_err();
        assert_eq!(err.reason(), "sts_rejected", "{what}");
        assert_eq!(err.kind(), VerifyErrorKind::InvalidToken, "{what}");
        assert_eq!(sts.calls(), 1, "{what}");
    }
}

#[tokio::test]
async fn failing_tokens_never_reach_the_transport() {
    let good = Mint::default().tvm();
    let late = Mint {
        at: t0() - SignedDuration::from_mins(10),
        ..Mint::default()
    }
    .tvm();
    let soon = Mint {
        at: t0() + SignedDuration::from_mins(10),
        ..Mint::default()
    }
    .tvm();
    let expired = Mint {
        at: t0() - SignedDuration::from_secs(61),
        ..Mint::default()
    }
    .tvm();
    let evil = Mint {
        base: "https://evil.example.com",
        host: "evil.example.com",
        ..Mint::default()
    }
    .tvm();
    let sim = Mint {
        base: SIM_BASE,
        host: "127.0.0.1:4599",
        ..Mint::default()
    }
    .tvm();
    let cases: Vec<(Option<String>, &str, VerifyErrorKind)> = vec![
        (None, "missing_token", VerifyErrorKind::InvalidToken),
        (
            Some(good.replacen("Bearer", "Basic", 1)),
            "bad_auth_scheme",
            VerifyErrorKind::InvalidToken,
        ),
        (
            Some(good.replacen("tvm-v1", "tvm-v2", 1)),
            "bad_prefix",
            VerifyErrorKind::InvalidToken,
        ),
        (
            Some(format!("{good}=")),
            "bad_base64",
            VerifyErrorKind::InvalidToken,
        ),
        (
            Some(format!("{good}{}", "A".repeat(MAX_TOKEN_LEN))),
            "token_too_large",
            VerifyErrorKind::InvalidToken,
        ),
        (
            Some(Mint::default().eks()),
            "eks_tokens_disabled",
            VerifyErrorKind::InvalidToken,
        ),
        (Some(late), "stale_date", VerifyErrorKind::Expired),
        (Some(soon), "date_in_future", VerifyErrorKind::InvalidToken),
        (Some(expired), "token_expired", VerifyErrorKind::Expired),
        (
            Some(evil),
            "host_not_allowed",
            VerifyErrorKind::InvalidToken,
        ),
        (Some(sim), "insecure_scheme", VerifyErrorKind::InvalidToken),
    ];
    for (header, reason, kind) in cases {
        let sts = FakeSts::new(Mode::Verify(keys()));
        let v = build(settings(aws()), &sts);
        let err = v
            .verify(
                header.as_deref().map(str::as_bytes),
                &RequestContext::new("POST", "/vend", BODY),
            )
            .await
            .unwrap_err();
        assert_eq!((err.reason(), err.kind()), (reason, kind));
        assert_eq!(sts.calls(), 0, "{reason}: no dial may happen");
    }
}

#[tokio::test]
async fn a_token_is_accepted_once() {
    let sts = FakeSts::new(Mode::Verify(keys()));
    let v = build(settings(aws()), &sts);
    let token = Mint::default().tvm();
    verify(&v, &token, BODY).await.unwrap();
    let err = verify(&v, &token, BODY).await.unwrap_err();
    assert_eq!(
        (err.reason(), err.kind()),
        ("replayed", VerifyErrorKind::Replayed)
    );
    assert_eq!(sts.calls(), 1);
    // A fresh nonce makes a fresh signature in the same second.
    let other = Mint {
        signed_nonce: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        prefix_nonce: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        ..Mint::default()
    }
    .tvm();
    verify(&v, &other, BODY).await.unwrap();
}

#[tokio::test]
async fn concurrent_replays_exactly_one_wins() {
    let sts = FakeSts::new(Mode::Verify(keys()));
    let v = Arc::new(build(settings(aws()), &sts));
    let token = Arc::new(Mint::default().tvm());
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let (v, token) = (Arc::clone(&v), Arc::clone(&token));
            tokio::spawn(async move { verify(&v, &token, BODY).await.is_ok() })
        })
        .collect();
    let mut wins = 0;
    for t in tasks {
        wins += usize::from(t.await.unwrap());
    }
    assert_eq!(wins, 1);
    assert_eq!(sts.calls(), 1);
}

#[tokio::test]
async fn a_full_replay_store_fails_closed_before_sts() {
    let sts = FakeSts::new(Mode::Verify(keys()));
    let v = build_with(
        settings(aws()),
        &sts,
        Arc::new(InMemoryReplayStore::with_capacity(0)),
    );
    let err = verify(&v, &Mint::default().tvm(), BODY).await.unwrap_err();
    assert_eq!(
        (err.reason(), err.kind()),
        ("replay_cache_full", VerifyErrorKind::Unavailable)
    );
    assert_eq!(sts.calls(), 0);
}
