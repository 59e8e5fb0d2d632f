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
    is_nonce, IdentityTransport, InMemoryReplayStore, VerificationTarget, Verifier,
    VerifierSettings, DEFAULT_MAX_CLOCK_SKEW,
};
use crate::clock::ManualClock;
use crate::identity::Partition;

const AKID: &str = "ASIAEXAMPLEEXAMPLE12";
const SECRET: &str = "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY";
const SESSION: &str = "FwoGZXIvYXdzEBYaDK+/session/token==";
const ARN: &str = "arn:aws:sts::111122223333:assumed-role/Dev/alice@example.com";
const AUDIENCE: &str = "tvm.example.com";
const SIM: &str = "http://127.0.0.1:4599";

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
        audience: AUDIENCE.into(),
        target,
        max_clock_skew: DEFAULT_MAX_CLOCK_SKEW,
        accept_eks_tokens: true,
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
    v.verify(Some(format!("Bearer {token}").as_bytes()), body)
        .await
        .map(|c| c.identity().arn().as_str().to_owned())
        .map_err(|e| e.reason())
}

#[tokio::test]
async fn minted_tokens_verify_with_and_without_a_session_token() {
    let body = br#"{"profile":"prod-admin","duration_seconds":900}"#;
    for session in [None, Some(SESSION)] {
        let endpoint = "https://sts.us-east-1.amazonaws.com";
        let token = mint_tvm_v1(
            &creds(session),
            endpoint,
            "us-east-1",
            AUDIENCE,
            body,
            at(t0()),
        )
        .unwrap();
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
    let ep = VerificationTarget::Endpoint(crate::auth::Endpoint::parse(SIM).unwrap());
    let token = mint_tvm_v1(&creds(None), SIM, "us-east-1", AUDIENCE, b"", at(t0())).unwrap();
    assert_eq!(check(&token, b"", ep, t0()).await.as_deref(), Ok(ARN));
    for (endpoint, region) in [
        ("https://sts.amazonaws.com", "us-east-1"),
        ("https://sts.eu-west-1.amazonaws.com/", "eu-west-1"),
        ("https://sts-fips.us-west-2.amazonaws.com", "us-west-2"),
    ] {
        let token = mint_tvm_v1(&creds(None), endpoint, region, AUDIENCE, b"", at(t0())).unwrap();
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
        AUDIENCE,
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
    let mint =
        || mint_tvm_v1(&creds(None), endpoint, "us-east-1", AUDIENCE, b"", at(t0())).unwrap();
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
    assert!(
        url.contains("X-Amz-SignedHeaders=host%3Bx-tvm-audience%3Bx-tvm-body-sha256%3Bx-tvm-nonce")
    );
    assert!(
        !url.contains(SECRET) && !url.contains(parts[1]),
        "secret or nonce in the URL"
    );
}

#[test]
fn refuses_bad_inputs() {
    let c = creds(None);
    let now = at(t0());
    let bad_endpoint = mint_tvm_v1(
        &c,
        "https://sts.amazonaws.com/x",
        "us-east-1",
        AUDIENCE,
        b"",
        now,
    );
    assert!(matches!(bad_endpoint, Err(MintError::Endpoint(_))));
    assert!(matches!(
        mint_tvm_v1(
            &c,
            "ftp://sts.amazonaws.com",
            "us-east-1",
            AUDIENCE,
            b"",
            now
        ),
        Err(MintError::Endpoint(_))
    ));
    assert!(matches!(
        mint_tvm_v1(
            &c,
            "https://sts.amazonaws.com",
            "US-EAST-1",
            AUDIENCE,
            b"",
            now
        ),
        Err(MintError::Region)
    ));
    for audience in ["", "a b", "x\n"] {
        assert!(matches!(
            mint_tvm_v1(
                &c,
                "https://sts.amazonaws.com",
                "us-east-1",
                audience,
                b"",
                now
            ),
            Err(MintError::Audience)
        ));
    }
    let e = mint_eks(&c, "https://sts.amazonaws.com", "us-east-1", "", now).unwrap_err();
    assert!(!e.to_string().contains(SECRET));
}

#[test]
fn shares_the_servers_audience_and_region_rules() {
    let c = creds(None);
    let now = at(t0());
    let mint =
        |region: &str, audience: &str| mint_tvm_v1(&c, SIM, region, audience, b"", now).map(|_| ());
    let longest = "a".repeat(crate::auth::MAX_AUDIENCE_LEN);
    assert!(mint("us-east-1", &longest).is_ok());
    assert!(matches!(
        mint("us-east-1", &format!("{longest}a")),
        Err(MintError::Audience)
    ));
    for region in ["us-gov-west-1", "cn-northwest-1", "ap-southeast-7"] {
        assert!(mint(region, AUDIENCE).is_ok(), "{region}");
    }
    // Shapes the old `[a-z0-9-]{1,32}` check let through and the server refuses.
    for region in ["local", "-us-east-1", "us-east", "1"] {
        assert!(
            matches!(mint(region, AUDIENCE), Err(MintError::Region)),
            "{region}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn minted_tokens_always_validate(
        audience in "[!-~]{1,64}",
        body in proptest::collection::vec(any::<u8>(), 0..256),
        region in prop::sample::select(vec!["us-east-1", "eu-central-1", "ap-southeast-2", "sa-east-1"]),
        skew_secs in -250i64..250,
        session in prop::option::of("[A-Za-z0-9+/=]{1,64}"),
    ) {
        let endpoint = format!("https://sts.{region}.amazonaws.com");
        let token = mint_tvm_v1(&creds(session.as_deref()), &endpoint, region, &audience, &body, at(t0()))
            .unwrap();
        let sts = sts();
        let settings = VerifierSettings {
            audience: audience.clone(),
            target: aws(region),
            max_clock_skew: DEFAULT_MAX_CLOCK_SKEW,
            accept_eks_tokens: false,
        };
        let now = t0() + SignedDuration::from_secs(skew_secs.min(59));
        let v = Verifier::new(
            settings,
            Arc::new(ManualClock::new(now)),
            Arc::new(InMemoryReplayStore::new()),
            Arc::clone(&sts) as Arc<dyn IdentityTransport>,
        );
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let outcome = rt.block_on(v.verify(Some(format!("Bearer {token}").as_bytes()), &body));
        prop_assert!(outcome.is_ok(), "{:?}", outcome.err());
    }
}
