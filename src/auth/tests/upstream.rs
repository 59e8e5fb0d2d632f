//! Upstream failures, configured endpoints, EKS, settings; logging is checked in tests/api/ops.rs.

use super::*;

#[tokio::test]
async fn upstream_failures_map_to_their_kinds_and_still_consume_the_token() {
    let cases = vec![
        (
            Mode::Fail(TransportError::Timeout),
            "sts_unavailable",
            VerifyErrorKind::StsError,
        ),
        (
            Mode::Fail(TransportError::Connect("refused".into())),
            "sts_unavailable",
            VerifyErrorKind::StsError,
        ),
        (
            Mode::Fixed(testutil::error(400, "Throttling")),
            "sts_throttled",
            VerifyErrorKind::Throttled,
        ),
        (
            Mode::Fixed(testutil::error(503, "ServiceUnavailable")),
            "sts_unavailable",
            VerifyErrorKind::StsError,
        ),
        (
            Mode::Fixed(testutil::response(301, "text/html", "")),
            "sts_redirect",
            VerifyErrorKind::StsError,
        ),
        (
            Mode::Fixed(testutil::response(200, "text/html", "<html/>")),
            "bad_sts_response",
            VerifyErrorKind::StsError,
        ),
        (
            Mode::Fixed(gci_xml(
                "arn:aws-cn:iam::111122223333:user/alice",
                USER_ID,
                "111122223333",
            )),
            "bad_sts_response",
            VerifyErrorKind::StsError,
        ),
        (
            Mode::Fixed(gci_xml(ARN, USER_ID, "444455556666")),
            "bad_sts_response",
            VerifyErrorKind::StsError,
        ),
    ];
    for (mode, reason, kind) in cases {
        let sts = FakeSts::new(mode);
        let (v, store) = build_inspectable(settings(aws()), &sts, 10);
        let token = Mint::default().tvm();
        let err = verify(&v, &token, BODY).await.unwrap_err();
        assert_eq!((err.reason(), err.kind()), (reason, kind));
        assert_eq!(store.len(), 1, "{reason}: not released");
        let again = verify(&v, &token, BODY).await.unwrap_err();
        assert_eq!(
            again.reason(),
            "replayed",
            "{reason}: a failed call still consumes the token"
        );
        assert_eq!(sts.calls(), 1);
    }
}

#[tokio::test]
async fn a_configured_endpoint_still_checks_the_partition() {
    let sts = FakeSts::new(Mode::Fixed(gci_xml(
        "arn:aws-cn:iam::111122223333:user/alice",
        USER_ID,
        "111122223333",
    )));
    let v = build(
        settings(VerificationTarget::Endpoint {
            endpoint: Endpoint::parse(SIM_BASE).unwrap(),
            partition: Partition::Aws,
        }),
        &sts,
    );
    let token = Mint {
        base: SIM_BASE,
        host: "127.0.0.1:4599",
        ..Mint::default()
    }
    .tvm();
    let err = verify(&v, &token, BODY).await.unwrap_err();
    assert_eq!(
        (err.reason(), err.kind()),
        ("bad_sts_response", VerifyErrorKind::StsError)
    );
    assert_eq!(sts.calls(), 1);
}

#[tokio::test]
async fn a_configured_endpoint_receives_the_request() {
    let sts = FakeSts::new(Mode::Verify(keys()));
    let endpoint = Endpoint::parse(SIM_BASE).unwrap();
    let v = build(
        settings(VerificationTarget::Endpoint {
            endpoint,
            partition: Partition::Aws,
        }),
        &sts,
    );
    assert_eq!(v.sts_endpoint(), SIM_BASE);
    let token = Mint {
        base: SIM_BASE,
        host: "127.0.0.1:4599",
        ..Mint::default()
    }
    .tvm();
    verify(&v, &token, BODY).await.unwrap();
    let req = sts.last();
    assert!(req
        .uri()
        .to_string()
        .starts_with("http://127.0.0.1:4599/?Action="));
    assert_eq!(req.headers()["host"], "127.0.0.1:4599");
    // Real AWS hosts are refused when an endpoint is configured.
    let aws_token = Mint::default().tvm();
    assert_eq!(
        verify(&v, &aws_token, BODY).await.unwrap_err().reason(),
        "endpoint_mismatch"
    );
    assert_eq!(sts.calls(), 1);
}

#[tokio::test]
async fn eks_tokens_when_enabled() {
    let sts = FakeSts::new(Mode::Verify(keys()));
    let mut s = settings(aws());
    s.eks_cluster_id = Some(CLUSTER.into());
    let v = build(s, &sts);
    let caller = verify(&v, &Mint::default().eks(), b"ignored")
        .await
        .unwrap();
    assert_eq!(caller.identity().arn().as_str(), ARN);
    let req = sts.last();
    let mut names: Vec<&str> = req.headers().keys().map(|k| k.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["host", "x-k8s-aws-id"]);
    assert_eq!(req.headers()["x-k8s-aws-id"], CLUSTER);
    // Signed for another cluster: STS refuses it.
    let other = Mint {
        cluster: "other-cluster",
        ..Mint::default()
    }
    .eks();
    assert_eq!(
        verify(&v, &other, b"").await.unwrap_err().reason(),
        "sts_rejected"
    );
    // tvm-v1 tokens keep working alongside.
    verify(
        &v,
        &Mint {
            signed_nonce: "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
            prefix_nonce: "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
            ..Mint::default()
        }
        .tvm(),
        BODY,
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn a_bad_audience_fails_closed_without_dialing() {
    let sts = FakeSts::new(Mode::Verify(keys()));
    let mut s = settings(aws());
    s.audiences = Vec::new();
    assert_eq!(s.validate(), Err(SettingsError::AudienceCount));
    let v = build(s, &sts);
    let err = verify(&v, &Mint::default().tvm(), BODY).await.unwrap_err();
    assert_eq!(
        (err.reason(), err.kind()),
        ("misconfigured", VerifyErrorKind::Unavailable)
    );
    assert_eq!(sts.calls(), 0);
}

#[test]
fn settings_validation_and_discovery_endpoint() {
    assert_eq!(settings(aws()).validate(), Ok(()));
    let cn = VerificationTarget::Aws {
        partition: Partition::AwsCn,
        region: "cn-north-1".into(),
    };
    assert_eq!(settings(cn.clone()).validate(), Ok(()));
    let sts = FakeSts::new(Mode::Verify(keys()));
    assert_eq!(
        build(settings(cn), &sts).sts_endpoint(),
        "https://sts.cn-north-1.amazonaws.com.cn"
    );
    assert_eq!(build(settings(aws()), &sts).sts_endpoint(), AWS_BASE);
    let wrong = VerificationTarget::Aws {
        partition: Partition::Aws,
        region: "cn-north-1".into(),
    };
    assert_eq!(settings(wrong).validate(), Err(SettingsError::Region));
    let mut s = settings(aws());
    s.max_clock_skew = SignedDuration::from_mins(16);
    assert_eq!(s.validate(), Err(SettingsError::ClockSkew));
    s.max_clock_skew = SignedDuration::from_mins(-1);
    assert_eq!(s.validate(), Err(SettingsError::ClockSkew));
    s.max_clock_skew = DEFAULT_MAX_CLOCK_SKEW;
    s.audiences = vec![origin("http://tvm.example.com")];
    assert_eq!(
        s.validate(),
        Err(SettingsError::InsecureOrigin(
            "http://tvm.example.com".into()
        ))
    );
    s.audiences = vec![origin("http://127.0.0.1:8080"), origin("http://[::1]:8080")];
    assert_eq!(s.validate(), Ok(()));
    s.audiences = vec![origin(AUDIENCE), origin("HTTPS://tvm.example.com:443/")];
    assert_eq!(
        s.validate(),
        Err(SettingsError::DuplicateOrigin(AUDIENCE.into()))
    );
    s.audiences = (0..17)
        .map(|i| origin(&format!("https://tvm{i}.example.com")))
        .collect();
    assert_eq!(s.validate(), Err(SettingsError::AudienceCount));
    s.audiences = vec![origin(AUDIENCE)];
    for bad in ["", "-x", "a b", "a.b", &"a".repeat(101)] {
        s.eks_cluster_id = Some(bad.into());
        assert_eq!(s.validate(), Err(SettingsError::EksClusterId), "{bad:?}");
    }
    s.eks_cluster_id = Some("tvm_test-1".into());
    assert_eq!(s.validate(), Ok(()));
}

// The "one log line per rejection, with its reason, never the token" check lives in
// the integration binary (tests/api/ops.rs), which installs one global subscriber:
// a thread-local subscriber here raced tracing's callsite-interest cache when the
// unit tests ran in parallel.
