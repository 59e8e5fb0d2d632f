//! Replay reservations through the verifier: STS refusals give the key back,
//! every other outcome keeps it.

use super::*;

/// The review's forgery: no AWS credentials, any signature, the date as far
/// ahead and the expiry as long as the pure checks allow, so that a kept entry
/// would live as long as possible.
fn forged(nonce: &str) -> String {
    Mint {
        secret: "not-the-key-of-AKIAIOSFODNN7EXAMPLE",
        at: t0() + SignedDuration::from_secs(4 * 60 + 59),
        expires: 900,
        signed_nonce: nonce,
        prefix_nonce: nonce,
        ..Mint::default()
    }
    .tvm()
}

#[tokio::test]
async fn a_forged_token_that_sts_refuses_leaves_the_store_empty_and_stays_refused() {
    let sts = FakeSts::new(Mode::Verify(keys()));
    let (v, store) = build_inspectable(settings(aws()), &sts, REPLAY_CACHE_CAPACITY);
    let token = forged(NONCE);
    for attempt in 1..=3 {
        let err = verify(&v, &token, BODY).await.unwrap_err();
        assert_eq!(
            (err.reason(), err.kind()),
            ("sts_rejected", VerifyErrorKind::InvalidToken),
            "attempt {attempt}: refused by STS again, not TOKEN_REPLAYED"
        );
        assert_eq!(store.len(), 0, "attempt {attempt}");
        assert_eq!(sts.calls(), attempt);
    }
}

#[tokio::test]
async fn forged_tokens_cannot_fill_the_store() {
    let sts = FakeSts::new(Mode::Verify(keys()));
    let (v, store) = build_inspectable(settings(aws()), &sts, 2);
    for i in 0..50u32 {
        let nonce = format!("{i:032x}");
        let err = verify(&v, &forged(&nonce), BODY).await.unwrap_err();
        assert_eq!(err.reason(), "sts_rejected", "forgery {i}");
    }
    assert!(store.is_empty());
    // A genuine caller still gets in, and its token is then used up.
    let token = Mint::default().tvm();
    verify(&v, &token, BODY).await.unwrap();
    assert_eq!(store.len(), 1);
    let err = verify(&v, &token, BODY).await.unwrap_err();
    assert_eq!(err.reason(), "replayed");
    assert_eq!(sts.calls(), 51);
}

#[tokio::test]
async fn every_sts_refusal_is_released_but_throttling_is_not() {
    let released = [
        testutil::error(403, "InvalidClientTokenId"),
        testutil::error(403, "SignatureDoesNotMatch"),
        testutil::error(400, "ExpiredToken"),
        testutil::error(403, "AccessDenied"),
        testutil::response(403, "text/html", "<html>no</html>"),
        testutil::response(404, "text/plain", ""),
    ];
    for answer in released {
        let sts = FakeSts::new(Mode::Fixed(answer));
        let (v, store) = build_inspectable(settings(aws()), &sts, 10);
        let err = verify(&v, &Mint::default().tvm(), BODY).await.unwrap_err();
        assert_eq!(err.reason(), "sts_rejected");
        assert!(store.is_empty());
    }
    // Throttling is a 4xx too, but says nothing about the signature: kept.
    for answer in [
        testutil::error(400, "Throttling"),
        testutil::error(400, "RequestLimitExceeded"),
        testutil::response(429, "text/plain", ""),
    ] {
        let sts = FakeSts::new(Mode::Fixed(answer));
        let (v, store) = build_inspectable(settings(aws()), &sts, 10);
        let token = Mint::default().tvm();
        let err = verify(&v, &token, BODY).await.unwrap_err();
        assert_eq!(err.reason(), "sts_throttled");
        assert_eq!(store.len(), 1);
        let again = verify(&v, &token, BODY).await.unwrap_err();
        assert_eq!(again.reason(), "replayed");
    }
}

#[tokio::test]
async fn a_successful_token_stays_consumed() {
    let sts = FakeSts::new(Mode::Verify(keys()));
    let (v, store) = build_inspectable(settings(aws()), &sts, 10);
    let token = Mint::default().tvm();
    verify(&v, &token, BODY).await.unwrap();
    assert_eq!(store.len(), 1);
    for body in [BODY, b"{}".as_slice()] {
        let err = verify(&v, &token, body).await.unwrap_err();
        assert_eq!(
            (err.reason(), err.kind()),
            ("replayed", VerifyErrorKind::Replayed)
        );
    }
    assert_eq!((store.len(), sts.calls()), (1, 1));
}

/// A refusal frees the key for the signature's one possible success: here the
/// same genuine token first arrives with a body it was not signed for (STS
/// refuses), then with its own body (accepted once), and is then used up for
/// every body. Before reservations were released, the first refusal burnt it.
#[tokio::test]
async fn a_refused_attempt_leaves_the_single_success_to_the_signed_request() {
    let sts = FakeSts::new(Mode::Verify(keys()));
    let (v, store) = build_inspectable(settings(aws()), &sts, 10);
    let token = Mint::default().tvm();
    let err = verify(&v, &token, b"{\"profile\":\"other\"}")
        .await
        .unwrap_err();
    assert_eq!(err.reason(), "sts_rejected");
    assert!(store.is_empty());
    verify(&v, &token, BODY).await.unwrap();
    for body in [BODY, b"{\"profile\":\"other\"}".as_slice()] {
        let err = verify(&v, &token, body).await.unwrap_err();
        assert_eq!(err.reason(), "replayed");
    }
    assert_eq!(sts.calls(), 2);
}

#[tokio::test]
async fn concurrent_copies_of_a_forgery_never_win_and_leave_nothing() {
    let sts = FakeSts::new(Mode::Verify(keys()));
    let (v, store) = build_inspectable(settings(aws()), &sts, 10);
    let v = Arc::new(v);
    let token = Arc::new(forged(NONCE));
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let (v, token) = (Arc::clone(&v), Arc::clone(&token));
            tokio::spawn(async move {
                verify(&v, &token, BODY)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.reason())
            })
        })
        .collect();
    for t in tasks {
        let outcome = t.await.unwrap();
        assert!(
            matches!(outcome, Err("sts_rejected" | "replayed")),
            "{outcome:?}"
        );
    }
    assert!(store.is_empty());
}

#[tokio::test]
async fn accepted_entries_live_only_while_their_token_could_pass_the_time_checks() {
    let sts = FakeSts::new(Mode::Verify(keys()));
    let (v, store) = build_inspectable(settings(aws()), &sts, 10);
    // Signed at t0 for 60 s: acceptable until t0 + 60 s, kept 30 s beyond.
    verify(&v, &Mint::default().tvm(), BODY).await.unwrap();
    assert_eq!(store.len(), 1);
    let far = t0() + SignedDuration::from_hours(1);
    let probe = |name: &str, at: i64| {
        store
            .check_and_insert(
                &ReplayKey::from_signature(name),
                far,
                t0() + SignedDuration::from_secs(at),
            )
            .unwrap();
    };
    probe("a", 90);
    assert_eq!(store.len(), 2, "still held at t0 + 90 s");
    probe("b", 91);
    assert_eq!(store.len(), 2, "gone after t0 + 90 s (two probes held)");
}

#[test]
fn keep_until_is_the_last_acceptable_instant_plus_the_margin() {
    let skew = DEFAULT_MAX_CLOCK_SKEW;
    let at = |s: i64| t0() + SignedDuration::from_secs(s);
    // tvm's own tokens: the expiry ends the window first.
    assert_eq!(crate::state::replay::keep_until(t0(), at(60), skew), at(90));
    // The longest claim: the skew ends it (it was expiry + skew, 25 min, before).
    assert_eq!(
        crate::state::replay::keep_until(t0(), at(900), skew),
        at(330)
    );
    assert_eq!(REPLAY_CLOCK_MARGIN, SignedDuration::from_secs(30));
}
