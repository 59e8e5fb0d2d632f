//! Both clients against the simulator, which checks SigV4 with `aws-sigv4`
//! and the AssumeRole rules: accepted, refused and throttled alike, with the
//! same parameters recorded.

use std::sync::Arc;

use super::*;
use crate::clock::SystemClock;
use crate::sts::sim::{Fault, SimHandle, SimRole, Simulator};

const ALICE: &str = "arn:aws:iam::111122223333:user/alice";
const PARTNER: &str = "arn:aws:iam::444455556666:role/Partner";

async fn spawn() -> (Simulator, SimHandle) {
    let sim = Simulator::new(Arc::new(SystemClock));
    sim.add_user(ALICE, AKID, SECRET).unwrap();
    sim.add_role(SimRole::new(ROLE, vec![ALICE.into()]).with_max_session_duration(43_200))
        .unwrap();
    sim.add_role(
        SimRole::new(PARTNER, vec![ALICE.into()]).with_external_id("partner-ext+id=,.@:/-_1"),
    )
    .unwrap();
    let handle = sim.clone().spawn().await.unwrap();
    (sim, handle)
}

async fn pair(
    url: &str,
    creds: aws_credential_types::Credentials,
) -> [(&'static str, Arc<dyn Sts>); 2] {
    [
        (
            "aws-sigv4",
            Arc::new(AwsSts::new("us-east-1", Some(url), Some(creds.clone())).await),
        ),
        (
            "aws-sdk-sts",
            Arc::new(SdkSts::new("us-east-1", Some(url), Some(creds)).await),
        ),
    ]
}

#[tokio::test]
async fn the_simulator_accepts_and_refuses_both_alike() {
    let (sim, handle) = spawn().await;
    let url = handle.url();
    for (what, input) in inputs() {
        let mut recorded = Vec::new();
        for (who, sts) in pair(&url, creds(false)).await {
            let out = sts.assume_role(input.clone()).await;
            let out = out.unwrap_or_else(|e| panic!("{who} {what}: {e}"));
            assert!(out.credentials.access_key_id.starts_with("ASIA"), "{who}");
            assert_eq!(
                out.assumed_role_arn.as_deref(),
                Some(
                    format!(
                        "arn:aws:sts::111122223333:assumed-role/TvmProtected-ProdAdmin/{}",
                        input.role_session_name.as_str()
                    )
                    .as_str()
                ),
                "{who} {what}"
            );
            let call = sim.calls_for("AssumeRole").pop().unwrap();
            assert_eq!(call.caller_arn.as_deref(), Some(ALICE), "{who} {what}");
            recorded.push(call.params);
            // The vended session signs with a session token: GetCallerIdentity.
            let vended = aws_credential_types::Credentials::new(
                &out.credentials.access_key_id,
                &out.credentials.secret_access_key,
                Some(out.credentials.session_token.clone()),
                None,
                "vended",
            );
            let me = AwsSts::new("us-east-1", Some(&url), Some(vended)).await;
            let id = me.get_caller_identity().await.unwrap();
            assert_eq!(
                id.arn,
                out.assumed_role_arn.clone().unwrap(),
                "{who} {what}"
            );
            assert_eq!(id.account, "111122223333");
        }
        assert_eq!(recorded[0], recorded[1], "{what}");
    }

    let partner = |external_id: Option<&str>| AssumeRoleInput {
        role_arn: PARTNER.into(),
        external_id: external_id.map(str::to_owned),
        ..input("alice")
    };
    let wrong_secret =
        aws_credential_types::Credentials::new(AKID, "x".repeat(40), None, None, "t");
    let cases: Vec<(
        &str,
        aws_credential_types::Credentials,
        AssumeRoleInput,
        &str,
    )> = vec![
        (
            "external id",
            creds(false),
            partner(Some("partner-ext+id=,.@:/-_1")),
            "ok",
        ),
        (
            "no external id",
            creds(false),
            partner(None),
            "AccessDenied",
        ),
        (
            "wrong external id",
            creds(false),
            partner(Some("other")),
            "AccessDenied",
        ),
        (
            "wrong secret",
            wrong_secret,
            input("alice"),
            "SignatureDoesNotMatch",
        ),
    ];
    for (what, creds, input, want) in cases {
        for (who, sts) in pair(&url, creds.clone()).await {
            let got = match sts.assume_role(input.clone()).await {
                Ok(_) => "ok".to_owned(),
                Err(StsError::Rejected { code, .. }) => code,
                Err(e) => format!("{e}"),
            };
            assert_eq!(got, want, "{who} {what}");
        }
    }

    sim.set_fault("AssumeRole", Some(Fault::Throttle));
    for (who, sts) in pair(&url, creds(false)).await {
        sim.clear_calls();
        let err = sts.assume_role(input("alice")).await.unwrap_err();
        assert!(matches!(err, StsError::Throttled(_)), "{who}: {err}");
        assert_eq!(sim.calls_for("AssumeRole").len(), 2, "{who}: one retry");
    }
    sim.set_fault("AssumeRole", Some(Fault::InternalError));
    for (who, sts) in pair(&url, creds(false)).await {
        sim.clear_calls();
        let err = sts.assume_role(input("alice")).await.unwrap_err();
        assert_eq!(err.outcome(), "unavailable", "{who}: {err}");
        assert_eq!(sim.calls_for("AssumeRole").len(), 2, "{who}: one retry");
    }
}
