//! DESIGN §2 step 7: which configured origin a request names (hint, single
//! origin, `Host`), the method-and-path binding, and what EKS tokens may reach.

use super::*;

const STAGING: &str = "https://tvm.staging.example.com";

fn two_origins() -> VerifierSettings {
    let mut s = settings(aws());
    s.audiences = vec![origin(AUDIENCE), origin(STAGING)];
    s
}

fn nonce(i: u8) -> String {
    format!("{i:02x}").repeat(16)
}

/// A token signed for `audience` and `target`, with a nonce of its own.
fn token(audience: &str, target: &str, i: u8) -> String {
    let n = nonce(i);
    Mint {
        audience,
        target,
        signed_nonce: &n,
        prefix_nonce: &n,
        ..Mint::default()
    }
    .tvm()
}

async fn send(
    v: &Verifier,
    header: &str,
    ctx: RequestContext<'_>,
) -> Result<VerifiedCaller, VerifyError> {
    v.verify(Some(header.as_bytes()), &ctx).await
}

fn ctx<'a>(hint: Option<&'a str>, host: Option<&'a str>) -> RequestContext<'a> {
    RequestContext {
        audience_hint: hint.map(str::as_bytes),
        host: host.map(str::as_bytes),
        ..RequestContext::new("POST", "/vend", BODY)
    }
}

#[tokio::test]
async fn the_target_is_bound_so_a_token_is_useless_at_another_method_or_path() {
    for (what, method, path, body) in [
        ("other path", "POST", "/requests", BODY),
        ("other method", "PUT", "/vend", BODY),
        (
            "approve instead of deny",
            "POST",
            "/requests/0123456789abcdef/approve",
            BODY,
        ),
        ("profiles with the vend body", "GET", "/profiles", BODY),
        ("trailing slash", "POST", "/vend/", BODY),
        ("case of the path", "POST", "/VEND", BODY),
    ] {
        let sts = FakeSts::new(Mode::Verify(keys()));
        let v = build(settings(aws()), &sts);
        let err = send(
            &v,
            &token(AUDIENCE, "POST /vend", 1),
            RequestContext::new(method, path, body),
        )
        .await
        .unwrap_err();
        assert_eq!(err.reason(), "sts_rejected", "{what}");
        assert_eq!(sts.calls(), 1, "{what}");
        assert_eq!(
            sts.last().headers()["x-tvm-target"],
            format!("{method} {path}").as_str(),
            "{what}: tvm sends what it received"
        );
    }
    let sts = FakeSts::new(Mode::Verify(keys()));
    let v = build(settings(aws()), &sts);
    let approve = "POST /requests/0123456789abcdef/approve";
    let ctx = RequestContext::new("POST", "/requests/0123456789abcdef/approve", BODY);
    send(&v, &token(AUDIENCE, approve, 2), ctx).await.unwrap();
}

#[tokio::test]
async fn a_hint_selects_among_configured_origins_in_any_spelling() {
    let sts = FakeSts::new(Mode::Verify(keys()));
    let v = build(two_origins(), &sts);
    for (i, (signed, hint)) in [
        (AUDIENCE, AUDIENCE),
        (STAGING, STAGING),
        (AUDIENCE, "HTTPS://TVM.example.com:443/"),
        (STAGING, " https://tvm.staging.example.com "),
    ]
    .into_iter()
    .enumerate()
    {
        let n = u8::try_from(i).unwrap() + 10;
        // Host says the other origin: the hint wins.
        send(
            &v,
            &token(signed, "POST /vend", n),
            ctx(Some(hint), Some("elsewhere.example.com")),
        )
        .await
        .unwrap_or_else(|e| panic!("{hint}: {e}"));
        assert_eq!(sts.last().headers()["x-tvm-audience"], signed);
    }
}

#[tokio::test]
async fn a_hint_naming_no_configured_origin_is_refused_before_sts_and_frees_the_token() {
    let sts = FakeSts::new(Mode::Verify(keys()));
    let v = build(settings(aws()), &sts);
    let t = token(AUDIENCE, "POST /vend", 3);
    for hint in [
        "https://evil.example.com",
        "tvm-prod",
        "https://tvm.example.com/vend",
        "http://tvm.example.com",
        "https://tvm.example.com:8443",
        "\u{fffd}",
        "",
    ] {
        let err = send(&v, &t, ctx(Some(hint), None)).await.unwrap_err();
        assert_eq!(
            (err.reason(), err.kind()),
            ("unknown_audience_hint", VerifyErrorKind::InvalidToken),
            "{hint:?}"
        );
    }
    assert_eq!(sts.calls(), 0);
    // The refusals consumed nothing: the owner's request still goes through.
    send(&v, &t, ctx(Some(AUDIENCE), None)).await.unwrap();
    assert_eq!(sts.calls(), 1);
}

#[tokio::test]
async fn without_a_hint_the_host_picks_the_origin_among_several() {
    let sts = FakeSts::new(Mode::Verify(keys()));
    let v = build(two_origins(), &sts);
    for (i, (signed, host)) in [
        (AUDIENCE, "tvm.example.com"),
        (AUDIENCE, "TVM.Example.com:443"),
        (STAGING, "tvm.staging.example.com"),
    ]
    .into_iter()
    .enumerate()
    {
        let n = u8::try_from(i).unwrap() + 20;
        send(&v, &token(signed, "POST /vend", n), ctx(None, Some(host)))
            .await
            .unwrap_or_else(|e| panic!("{host}: {e}"));
    }
    assert_eq!(sts.calls(), 3);
    for (i, host) in [
        Some("tvm.example.com:8443"),
        Some("evil.example.com"),
        Some("tvm.example.com.evil.io"),
        None,
    ]
    .into_iter()
    .enumerate()
    {
        let n = u8::try_from(i).unwrap() + 30;
        let err = send(&v, &token(AUDIENCE, "POST /vend", n), ctx(None, host))
            .await
            .unwrap_err();
        assert_eq!(
            (err.reason(), err.kind()),
            ("audience_unresolved", VerifyErrorKind::InvalidToken),
            "{host:?}"
        );
    }
    assert_eq!(sts.calls(), 3, "unresolved audiences never reach STS");
}

#[tokio::test]
async fn one_origin_needs_no_hint_or_host() {
    let sts = FakeSts::new(Mode::Verify(keys()));
    let v = build(settings(aws()), &sts);
    send(
        &v,
        &token(AUDIENCE, "POST /vend", 40),
        ctx(None, Some("anything")),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn a_relayed_token_fails_whatever_the_relayer_claims() {
    // Signed by the victim for the staging tvm (a hostile or phishing server),
    // then presented at prod, which only knows its own origin.
    let sts = FakeSts::new(Mode::Verify(keys()));
    let prod = build(settings(aws()), &sts);
    let relayed = token(STAGING, "POST /vend", 50);
    let err = send(&prod, &relayed, ctx(Some(STAGING), None))
        .await
        .unwrap_err();
    assert_eq!(err.reason(), "unknown_audience_hint");
    assert_eq!(
        sts.calls(),
        0,
        "a hint naming another origin costs no STS call"
    );
    for claim in [Some(AUDIENCE), None] {
        let err = send(&prod, &relayed, ctx(claim, None)).await.unwrap_err();
        assert_eq!(err.reason(), "sts_rejected", "{claim:?}");
    }
    assert_eq!(sts.last().headers()["x-tvm-audience"], AUDIENCE);
}

#[tokio::test]
async fn eks_tokens_serve_only_plain_vends_and_profile_listings() {
    let sts = FakeSts::new(Mode::Verify(keys()));
    let mut s = settings(aws());
    s.eks_cluster_id = Some(CLUSTER.into());
    let v = build(s, &sts);
    for (method, path) in [
        ("POST", "/requests"),
        ("POST", "/requests/0123456789abcdef/approve"),
        ("GET", "/requests"),
        ("POST", "/ui/login-links"),
        ("GET", "/vend"),
        ("POST", "/profiles"),
    ] {
        let err = send(
            &v,
            &Mint::default().eks(),
            RequestContext::new(method, path, b""),
        )
        .await
        .unwrap_err();
        assert_eq!(
            (err.reason(), err.kind()),
            ("eks_target_refused", VerifyErrorKind::InvalidToken),
            "{method} {path}"
        );
    }
    assert_eq!(sts.calls(), 0);
    let caller = send(
        &v,
        &Mint::default().eks(),
        RequestContext::new("GET", "/profiles", b""),
    )
    .await
    .unwrap();
    assert!(!caller.binds_request());
    let n = nonce(60);
    let tvm = Mint {
        signed_nonce: &n,
        prefix_nonce: &n,
        ..Mint::default()
    }
    .tvm();
    assert!(verify(&v, &tvm, BODY).await.unwrap().binds_request());
}
