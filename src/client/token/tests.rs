//! Tokens minted with aws-sigv4 must pass the server's verifier, checked by a fake
//! STS with an independent SigV4 implementation (so the two cross-check).

use std::collections::HashMap;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;

use super::*;
use crate::auth::testutil::{t0, FakeSts, Key, Mode};
use crate::auth::{
    is_nonce, IdentityTransport, InMemoryReplayStore, Origin, RequestContext, VerificationTarget,
    Verifier, VerifierSettings, DEFAULT_MAX_CLOCK_SKEW,
};
use crate::clock::ManualClock;
use crate::identity::Partition;

const AKID: &str = "ASIAEXAMPLEEXAMPLE12";
const SECRET: &str = "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY";
const SESSION: &str = "FwoGZXIvYXdzEBYaDK+/session/token==";
const ARN: &str = "arn:aws:sts::111122223333:assumed-role/Dev/alice@example.com";
const AUDIENCE: &str = "https://tvm.example.com";
const CLUSTER: &str = "tvm-test-cluster";
const SIM: &str = "http://127.0.0.1:4599";

fn audience() -> Origin {
    Origin::parse(AUDIENCE).unwrap()
}

/// Mints for [`AUDIENCE`] and `POST /vend`.
fn mint(
    endpoint: &str,
    region: &str,
    session: Option<&str>,
    body: &[u8],
) -> Result<String, MintError> {
    mint_tvm_v1(
        &creds(session),
        endpoint,
        region,
        &audience(),
        &Target::vend(),
        body,
        at(t0()),
    )
}

fn creds(session: Option<&str>) -> Credentials {
    Credentials::new(AKID, SECRET, session.map(str::to_owned), None, "test")
}

fn at(t: Timestamp) -> SystemTime {
    SystemTime::from(t)
}

fn sts() -> Arc<FakeSts> {
    let key = Key {
        secret: SECRET.into(),
        arn: ARN.into(),
        user_id: "AROAEXAMPLE1:alice@example.com".into(),
        account: "111122223333".into(),
    };
    FakeSts::new(Mode::Verify(HashMap::from([(AKID.to_owned(), key)])))
}

fn verifier(target: VerificationTarget, now: Timestamp, sts: &Arc<FakeSts>) -> Verifier {
    let settings = VerifierSettings {
        audiences: vec![audience()],
        target,
        max_clock_skew: DEFAULT_MAX_CLOCK_SKEW,
        eks_cluster_id: Some(CLUSTER.into()),
    };
    Verifier::new(
        settings,
        Arc::new(ManualClock::new(now)),
        Arc::new(InMemoryReplayStore::new()),
        Arc::clone(sts) as Arc<dyn IdentityTransport>,
    )
}

fn aws(region: &str) -> VerificationTarget {
    VerificationTarget::Aws {
        partition: Partition::Aws,
        region: region.into(),
    }
}

async fn check(
    token: &str,
    body: &[u8],
    target: VerificationTarget,
    now: Timestamp,
) -> Result<String, &'static str> {
    let sts = sts();
    let v = verifier(target, now, &sts);
    let ctx = RequestContext::new("POST", "/vend", body);
    v.verify(Some(format!("Bearer {token}").as_bytes()), &ctx)
        .await
        .map(|c| c.identity().arn().as_str().to_owned())
        .map_err(|e| e.reason())
}

#[tokio::test]
async fn minted_tokens_verify_with_and_without_a_session_token() {
    let body = br#"{"profile":"prod-admin","duration_seconds":900}"#;
    for session in [None, Some(SESSION)] {
        let endpoint = "https://sts.us-east-1.amazonaws.com";
        let token = mint(endpoint, "us-east-1", session, body).unwrap();
        let later = t0() + SignedDuration::from_secs(30);
        assert_eq!(
            check(&token, body, aws("us-east-1"), later)
                .await
                .as_deref(),
            Ok(ARN)
        );
        // The right clock matters: ten minutes later the same token is stale.
        let stale = t0() + SignedDuration::from_mins(10);
        assert_eq!(
            check(&token, body, aws("us-east-1"), stale).await,
            Err("stale_date")
        );
        // And it is bound to its body.
        assert_eq!(
            check(&token, b"{}", aws("us-east-1"), later).await,
            Err("sts_rejected")
        );
    }
}

#[tokio::test]
async fn minted_tokens_verify_against_the_simulator_endpoint_and_regional_hosts() {
    let ep = VerificationTarget::Endpoint {
        endpoint: crate::auth::Endpoint::parse(SIM).unwrap(),
        partition: crate::identity::Partition::Aws,
    };
    let token = mint(SIM, "us-east-1", None, b"").unwrap();
    assert_eq!(check(&token, b"", ep, t0()).await.as_deref(), Ok(ARN));
    for (endpoint, region) in [
        ("https://sts.amazonaws.com", "us-east-1"),
        ("https://sts.eu-west-1.amazonaws.com/", "eu-west-1"),
        ("https://sts-fips.us-west-2.amazonaws.com", "us-west-2"),
    ] {
        let token = mint(endpoint, region, None, b"").unwrap();
        assert_eq!(
            check(&token, b"", aws("us-east-1"), t0()).await.as_deref(),
            Ok(ARN),
            "{endpoint}"
        );
    }
}

#[tokio::test]
async fn minted_eks_tokens_verify() {
    let endpoint = "https://sts.us-east-1.amazonaws.com";
    let token = mint_eks(
        &creds(Some(SESSION)),
        endpoint,
        "us-east-1",
        CLUSTER,
        at(t0()),
    )
    .unwrap();
    assert!(token.starts_with("k8s-aws-v1."));
    assert_eq!(
        check(&token, b"anything", aws("us-east-1"), t0())
            .await
            .as_deref(),
        Ok(ARN)
    );
}

#[test]
fn tokens_round_trip_and_carry_a_fresh_nonce() {
    let endpoint = "https://sts.us-east-1.amazonaws.com";
    let mint = || mint(endpoint, "us-east-1", None, b"").unwrap();
    let (a, b) = (mint(), mint());
    assert_ne!(a, b);
    let parts: Vec<&str> = a.splitn(3, '.').collect();
    assert_eq!(parts[0], "tvm-v1");
    assert!(is_nonce(parts[1].as_bytes()));
    let url = String::from_utf8(URL_SAFE_NO_PAD.decode(parts[2]).unwrap()).unwrap();
    assert!(url.starts_with(
        "https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-"
    ));
    assert!(url.contains("X-Amz-Expires=60"));
    assert!(url.contains(
        "X-Amz-SignedHeaders=host%3Bx-tvm-audience%3Bx-tvm-body-sha256%3Bx-tvm-nonce%3Bx-tvm-target"
    ));
    assert!(
        !url.contains(SECRET) && !url.contains(parts[1]),
        "secret or nonce in the URL"
    );
}

#[test]
fn refuses_bad_inputs() {
    let c = creds(None);
    let now = at(t0());
    assert!(matches!(
        mint("https://sts.amazonaws.com/x", "us-east-1", None, b""),
        Err(MintError::Endpoint(_))
    ));
    assert!(matches!(
        mint("ftp://sts.amazonaws.com", "us-east-1", None, b""),
        Err(MintError::Endpoint(_))
    ));
    assert!(matches!(
        mint("https://sts.amazonaws.com", "US-EAST-1", None, b""),
        Err(MintError::Region)
    ));
    for cluster in ["", "a b", "x\n", "-x"] {
        let e = mint_eks(&c, "https://sts.amazonaws.com", "us-east-1", cluster, now).unwrap_err();
        assert!(matches!(e, MintError::ClusterId), "{cluster:?}");
        assert!(!e.to_string().contains(SECRET));
    }
}

#[test]
fn shares_the_servers_region_rules() {
    for region in ["us-gov-west-1", "cn-northwest-1", "ap-southeast-7"] {
        assert!(mint(SIM, region, None, b"").is_ok(), "{region}");
    }
    // Shapes the old `[a-z0-9-]{1,32}` check let through and the server refuses.
    for region in ["local", "-us-east-1", "us-east", "1"] {
        assert!(
            matches!(mint(SIM, region, None, b""), Err(MintError::Region)),
            "{region}"
        );
    }
}

#[test]
fn targets_are_method_space_path() {
    for ok in [
        "POST /vend",
        "GET /profiles",
        "POST /requests/0123456789abcdef/approve",
        "GET /",
    ] {
        let t = Target::parse(ok).unwrap();
        assert_eq!(t.as_str(), ok);
        assert_eq!(format!("{} {}", t.method(), t.path()), ok);
    }
    for bad in [
        "",
        "POST",
        "POST vend",
        "post /vend",
        "POST  /vend",
        "POST /vend?x=1",
        "POST /a b",
        "POST /vend#x",
        " POST /vend",
        "POST /\u{e9}",
        "VERYLONGMETHODNAMEX /",
    ] {
        assert_eq!(Target::parse(bad), Err(TargetError), "{bad:?}");
    }
    assert!(Target::parse(&format!("GET /{}", "a".repeat(MAX_TARGET_PATH_LEN))).is_err());
    assert_eq!(Target::vend().as_str(), "POST /vend");
    assert_eq!(Target::profiles().as_str(), "GET /profiles");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn minted_tokens_always_validate(
        host in "[a-z]([a-z0-9-]{0,18}[a-z0-9])?(\\.[a-z0-9]{1,10}){0,3}",
        port in prop::option::of(1u16..),
        path in "/[A-Za-z0-9/._~%!$&'()*+,;=:@-]{0,40}",
        body in proptest::collection::vec(any::<u8>(), 0..256),
        region in prop::sample::select(vec!["us-east-1", "eu-central-1", "ap-southeast-2", "sa-east-1"]),
        skew_secs in -250i64..250,
        session in prop::option::of("[A-Za-z0-9+/=]{1,64}"),
    ) {
        let endpoint = format!("https://sts.{region}.amazonaws.com");
        let origin = match port {
            Some(p) => Origin::parse(&format!("https://{host}:{p}")).unwrap(),
            None => Origin::parse(&format!("https://{host}")).unwrap(),
        };
        let target = Target::parse(&format!("POST {path}")).unwrap();
        let token = mint_tvm_v1(&creds(session.as_deref()), &endpoint, region, &origin, &target, &body, at(t0()))
            .unwrap();
        let sts = sts();
        let settings = VerifierSettings {
            audiences: vec![origin],
            target: aws(region),
            max_clock_skew: DEFAULT_MAX_CLOCK_SKEW,
            eks_cluster_id: None,
        };
        let now = t0() + SignedDuration::from_secs(skew_secs.min(59));
        let v = Verifier::new(
            settings,
            Arc::new(ManualClock::new(now)),
            Arc::new(InMemoryReplayStore::new()),
            Arc::clone(&sts) as Arc<dyn IdentityTransport>,
        );
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let ctx = RequestContext::new("POST", &path, &body);
        let outcome = rt.block_on(v.verify(Some(format!("Bearer {token}").as_bytes()), &ctx));
        prop_assert!(outcome.is_ok(), "{:?}", outcome.err());
    }
}
