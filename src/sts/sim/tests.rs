//! End-to-end tests of the simulator: a real `aws-sdk-sts` client over
//! loopback ([`sdk`], [`rules`]), hand-signed and raw requests through the
//! router ([`raw`]), and the in-process client ([`inproc`]).

use std::sync::Arc;

use aws_sdk_sts::config::retry::RetryConfig;
use aws_sdk_sts::config::{BehaviorVersion, Region};
use aws_sdk_sts::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::result::SdkError;

use super::{SimHandle, SimRole, Simulator};
use crate::clock::{Clock, SystemClock};

mod iam;
mod inproc;
mod raw;
mod rules;
mod sdk;
mod web_identity;

const ACCOUNT: &str = "111122223333";
const ALICE_ARN: &str = "arn:aws:iam::111122223333:user/dev/alice";
const ALICE_AKID: &str = "AKIAALICEEXAMPLE0001";
/// Contains `/` and `+` like real secrets.
const ALICE_SECRET: &str = "alice/Secret+Key0000000000000000000000000";
const BOB_ARN: &str = "arn:aws:iam::111122223333:user/bob";
const BOB_AKID: &str = "AKIABOBEXAMPLE000001";
const BOB_SECRET: &str = "bobsecret0000000000000000000000000000000";
/// tvm's own role: trusts alice.
const TVM_ROLE: &str = "arn:aws:iam::111122223333:role/tvm";
/// A protected role: trusts alice and the tvm role, up to 12 hours.
const PROD_ROLE: &str = "arn:aws:iam::111122223333:role/TvmProtected-ProdAdmin";
/// A role with an external id, trusting alice.
const EXT_ROLE: &str = "arn:aws:iam::444455556666:role/path/Partner";
const EXTERNAL_ID: &str = "partner-ext-id-1";

/// A simulator with alice, bob and the three roles, on `clock`.
fn simulator(clock: Arc<dyn Clock>) -> Simulator {
    let sim = Simulator::new(clock);
    sim.add_user(ALICE_ARN, ALICE_AKID, ALICE_SECRET).unwrap();
    sim.add_user(BOB_ARN, BOB_AKID, BOB_SECRET).unwrap();
    sim.add_role(SimRole::new(TVM_ROLE, vec![ALICE_ARN.into()]))
        .unwrap();
    sim.add_role(
        SimRole::new(PROD_ROLE, vec![ALICE_ARN.into(), TVM_ROLE.into()])
            .with_max_session_duration(43_200),
    )
    .unwrap();
    sim.add_role(SimRole::new(EXT_ROLE, vec![ALICE_ARN.into()]).with_external_id(EXTERNAL_ID))
        .unwrap();
    sim
}

/// The default simulator, spawned on loopback, on the system clock.
async fn spawn() -> (Simulator, SimHandle) {
    let sim = simulator(Arc::new(SystemClock));
    let handle = sim.clone().spawn().await.unwrap();
    (sim, handle)
}

/// A real SDK client for the simulator, without retries.
fn client(url: &str, akid: &str, secret: &str, token: Option<&str>) -> aws_sdk_sts::Client {
    let creds = aws_sdk_sts::config::Credentials::new(
        akid,
        secret,
        token.map(str::to_owned),
        None,
        "tests",
    );
    let conf = aws_sdk_sts::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(url)
        .credentials_provider(creds)
        .retry_config(RetryConfig::disabled())
        .build();
    aws_sdk_sts::Client::from_conf(conf)
}

/// alice's client.
fn alice(handle: &SimHandle) -> aws_sdk_sts::Client {
    client(&handle.url(), ALICE_AKID, ALICE_SECRET, None)
}

/// A client for credentials `AssumeRole` returned.
fn vended(handle: &SimHandle, creds: &aws_sdk_sts::types::Credentials) -> aws_sdk_sts::Client {
    client(
        &handle.url(),
        creds.access_key_id(),
        creds.secret_access_key(),
        Some(creds.session_token()),
    )
}

/// The HTTP status and STS error code of a failed SDK call.
fn failure<E: ProvideErrorMetadata, T: std::fmt::Debug>(
    result: Result<T, SdkError<E, aws_smithy_runtime_api::http::Response>>,
) -> (u16, String) {
    let err = result.expect_err("the call should fail");
    let status = err.raw_response().map_or(0, |r| r.status().as_u16());
    (status, err.code().unwrap_or("<none>").to_owned())
}
