//! Verifier tests: the whole pipeline with a fake STS that checks SigV4 like STS,
//! the exact rebuilt request, and that failing tokens never reach the transport.

use std::collections::HashMap;
use std::sync::Arc;

use jiff::SignedDuration;

use super::testutil::{self, gci_xml, presign, t0, FakeSts, Key, Mode, Presign};
use super::*;
use crate::clock::ManualClock;
use crate::identity::Partition;

const AKID: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const ARN: &str = "arn:aws:iam::111122223333:user/alice";
const USER_ID: &str = "AIDAEXAMPLEEXAMPLE123";
const AUDIENCE: &str = "https://tvm.example.com";
const CLUSTER: &str = "tvm-test-cluster";
const NONCE: &str = "00112233445566778899aabbccddeeff";
const BODY: &[u8] = br#"{"profile":"prod-admin"}"#;
const AWS_BASE: &str = "https://sts.us-east-1.amazonaws.com";
const SIM_BASE: &str = "http://127.0.0.1:4599";

fn keys() -> HashMap<String, Key> {
    let key = Key {
        secret: SECRET.into(),
        arn: ARN.into(),
        user_id: USER_ID.into(),
        account: "111122223333".into(),
    };
    HashMap::from([(AKID.to_owned(), key)])
}

/// What a token is signed for.
struct Mint<'a> {
    base: &'a str,
    host: &'a str,
    audience: &'a str,
    /// `x-tvm-target`.
    target: &'a str,
    /// `x-k8s-aws-id` of EKS tokens.
    cluster: &'a str,
    body: &'a [u8],
    signed_nonce: &'a str,
    prefix_nonce: &'a str,
    at: jiff::Timestamp,
    /// `X-Amz-Expires`.
    expires: u32,
    /// The key it is signed with: anything but `SECRET` makes a forgery that
    /// passes every pure check and that STS refuses.
    secret: &'a str,
}

impl Default for Mint<'_> {
    fn default() -> Self {
        Self {
            base: AWS_BASE,
            host: "sts.us-east-1.amazonaws.com",
            audience: AUDIENCE,
            target: "POST /vend",
            cluster: CLUSTER,
            body: BODY,
            signed_nonce: NONCE,
            prefix_nonce: NONCE,
            at: t0(),
            expires: 60,
            secret: SECRET,
        }
    }
}

impl Mint<'_> {
    fn url(&self, headers: Vec<(&str, String)>) -> String {
        presign(&Presign {
            base: self.base,
            host: self.host,
            akid: AKID,
            secret: self.secret,
            region: "us-east-1",
            at: self.at,
            expires: self.expires,
            session_token: None,
            headers,
        })
    }

    fn tvm(&self) -> String {
        let url = self.url(vec![
            ("x-tvm-audience", self.audience.into()),
            ("x-tvm-body-sha256", body_sha256(self.body)),
            ("x-tvm-nonce", self.signed_nonce.into()),
            ("x-tvm-target", self.target.into()),
        ]);
        format!("Bearer {}", encode_tvm_v1(self.prefix_nonce, &url))
    }

    fn eks(&self) -> String {
        let url = self.url(vec![("x-k8s-aws-id", self.cluster.into())]);
        format!("Bearer {}", encode_eks(&url))
    }
}

fn settings(target: VerificationTarget) -> VerifierSettings {
    VerifierSettings {
        audiences: vec![origin(AUDIENCE)],
        target,
        max_clock_skew: DEFAULT_MAX_CLOCK_SKEW,
        eks_cluster_id: None,
    }
}

fn origin(s: &str) -> Origin {
    Origin::parse(s).expect("origin")
}

fn aws() -> VerificationTarget {
    VerificationTarget::Aws {
        partition: Partition::Aws,
        region: "us-east-1".into(),
    }
}

fn build(settings: VerifierSettings, sts: &Arc<FakeSts>) -> Verifier {
    build_with(settings, sts, Arc::new(InMemoryReplayStore::new()))
}

/// A verifier whose replay store the test can inspect.
fn build_inspectable(
    settings: VerifierSettings,
    sts: &Arc<FakeSts>,
    capacity: usize,
) -> (Verifier, Arc<InMemoryReplayStore>) {
    let store = Arc::new(InMemoryReplayStore::with_capacity(capacity));
    let v = build_with(settings, sts, Arc::clone(&store) as Arc<dyn ReplayStore>);
    (v, store)
}

fn build_with(
    settings: VerifierSettings,
    sts: &Arc<FakeSts>,
    replay: Arc<dyn ReplayStore>,
) -> Verifier {
    let clock = Arc::new(ManualClock::new(t0()));
    Verifier::new(
        settings,
        clock,
        replay,
        Arc::clone(sts) as Arc<dyn IdentityTransport>,
    )
}

/// Verifies `header` as sent with `POST /vend` and `body`.
async fn verify(v: &Verifier, header: &str, body: &[u8]) -> Result<VerifiedCaller, VerifyError> {
    v.verify(
        Some(header.as_bytes()),
        &RequestContext::new("POST", "/vend", body),
    )
    .await
}

mod binding;
mod pipeline;
mod replay;
mod upstream;
