//! The real `aws-sdk-sts` client against a spawned simulator: identities,
//! vending, chaining, authentication failures, recording and faults.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use jiff::{SignedDuration, Timestamp};

use super::*;
use crate::clock::ManualClock;
use crate::sts::sim::{Fault, SimRoleSession};

#[tokio::test]
async fn get_caller_identity_for_a_user() {
    let (sim, handle) = spawn().await;
    let out = alice(&handle).get_caller_identity().send().await.unwrap();
    assert_eq!(out.arn(), Some(ALICE_ARN));
    assert_eq!(out.account(), Some(ACCOUNT));
    let user_id = out.user_id().unwrap();
    assert!(
        user_id.starts_with("AIDA") && user_id.len() == 21,
        "{user_id}"
    );
    assert_eq!(sim.unique_id(ALICE_ARN).as_deref(), Some(user_id));

    let calls = sim.calls_for("GetCallerIdentity");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].status, 200);
    assert_eq!(calls[0].caller_arn.as_deref(), Some(ALICE_ARN));
    assert_eq!(calls[0].param("Version"), Some("2011-06-15"));
}

#[tokio::test]
async fn assume_role_vends_credentials_that_sign_as_the_session() {
    let (sim, handle) = spawn().await;
    let before = Timestamp::now();
    let out = alice(&handle)
        .assume_role()
        .role_arn(PROD_ROLE)
        .role_session_name("tvm-alice-7f3a9c2e4b1d")
        .source_identity("tvm.alice.direct.7f3a9c2e4b1d")
        .duration_seconds(7200)
        .tags(
            aws_sdk_sts::types::Tag::builder()
                .key("tvm-user")
                .value("alice")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let creds = out.credentials().unwrap();
    assert!(creds.access_key_id().starts_with("ASIA") && creds.access_key_id().len() == 20);
    assert_eq!(creds.secret_access_key().len(), 40);
    assert!(creds.session_token().len() > 100);
    let expires = creds.expiration().secs();
    let want = before.as_second() + 7200;
    assert!((want..=want + 5).contains(&expires), "{expires} vs {want}");
    let user = out.assumed_role_user().unwrap();
    let session_arn =
        "arn:aws:sts::111122223333:assumed-role/TvmProtected-ProdAdmin/tvm-alice-7f3a9c2e4b1d";
    assert_eq!(user.arn(), session_arn);
    assert!(user.assumed_role_id().starts_with("AROA"));
    assert!(user.assumed_role_id().ends_with(":tvm-alice-7f3a9c2e4b1d"));
    assert_eq!(out.source_identity(), Some("tvm.alice.direct.7f3a9c2e4b1d"));

    let me = vended(&handle, creds)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(me.arn(), Some(session_arn));
    assert_eq!(me.user_id(), Some(user.assumed_role_id()));
    assert_eq!(me.account(), Some(ACCOUNT));

    let call = &sim.calls_for("AssumeRole")[0];
    assert_eq!(
        call.param("SourceIdentity"),
        Some("tvm.alice.direct.7f3a9c2e4b1d")
    );
    assert_eq!(call.param("Tags.member.1.Key"), Some("tvm-user"));
    assert_eq!(call.caller_arn.as_deref(), Some(ALICE_ARN));
    // The vended session signed with its token, which is never recorded.
    let gci = &sim.calls_for("GetCallerIdentity")[0];
    assert!(gci
        .params
        .keys()
        .all(|k| !k.eq_ignore_ascii_case("X-Amz-Security-Token")));
}

#[tokio::test]
async fn role_chaining_keeps_the_source_identity() {
    let (_sim, handle) = spawn().await;
    let tvm = alice(&handle)
        .assume_role()
        .role_arn(TVM_ROLE)
        .role_session_name("tvm-pod")
        .source_identity("first.identity")
        .send()
        .await
        .unwrap();
    let tvm = vended(&handle, tvm.credentials().unwrap());
    let assume = |si: Option<&str>, secs: i32| {
        tvm.assume_role()
            .role_arn(PROD_ROLE)
            .role_session_name("chained")
            .set_source_identity(si.map(str::to_owned))
            .duration_seconds(secs)
            .send()
    };
    // Chaining from a role session: at most one hour, whatever the role allows.
    assert_eq!(
        failure(assume(None, 3601).await),
        (400, "ValidationError".into())
    );
    // A different SourceIdentity is refused; the same one or none carries over.
    assert_eq!(
        failure(assume(Some("other.identity"), 900).await),
        (403, "AccessDenied".into())
    );
    let same = assume(Some("first.identity"), 900).await.unwrap();
    assert_eq!(same.source_identity(), Some("first.identity"));
    let inherited = assume(None, 3600).await.unwrap();
    assert_eq!(inherited.source_identity(), Some("first.identity"));
    // The chained session is a PROD session.
    let me = vended(&handle, inherited.credentials().unwrap());
    let arn = me
        .get_caller_identity()
        .send()
        .await
        .unwrap()
        .arn()
        .unwrap()
        .to_owned();
    assert_eq!(
        arn,
        "arn:aws:sts::111122223333:assumed-role/TvmProtected-ProdAdmin/chained"
    );
}

#[tokio::test]
async fn sso_role_session_signs_and_chains_when_trusted() {
    let (sim, handle) = spawn().await;
    let sso_role =
        "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_abc";
    sim.add_role_session(SimRoleSession {
        role_arn: sso_role.into(),
        session_name: "alice@example.com".into(),
        access_key_id: "ASIASSOEXAMPLE000001".into(),
        secret_access_key: "ssosecret".into(),
        session_token: "sso/token+==".into(),
        expiration: Timestamp::now() + SignedDuration::from_hours(1),
        source_identity: None,
    })
    .unwrap();
    let c = client(
        &handle.url(),
        "ASIASSOEXAMPLE000001",
        "ssosecret",
        Some("sso/token+=="),
    );
    let me = c.get_caller_identity().send().await.unwrap();
    assert_eq!(
        me.arn(),
        Some("arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_abc/alice@example.com")
    );
    assert!(me.user_id().unwrap().ends_with(":alice@example.com"));
    // Not trusted by PROD...
    let (status, code) = failure(
        c.assume_role()
            .role_arn(PROD_ROLE)
            .role_session_name("x1")
            .send()
            .await,
    );
    assert_eq!((status, code.as_str()), (403, "AccessDenied"));
    // ...until its role ARN (path included) is.
    let role = "arn:aws:iam::111122223333:role/SsoTarget";
    sim.add_role(SimRole::new(role, vec![sso_role.into()]))
        .unwrap();
    c.assume_role()
        .role_arn(role)
        .role_session_name("x1")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn authentication_failures_have_sts_codes() {
    let (sim, handle) = spawn().await;
    let url = handle.url();
    let gci = |c: aws_sdk_sts::Client| async move { failure(c.get_caller_identity().send().await) };
    let wrong_secret = client(&url, ALICE_AKID, "wrong/secret", None);
    assert_eq!(
        gci(wrong_secret).await,
        (403, "SignatureDoesNotMatch".into())
    );
    let unknown = client(&url, "AKIAUNKNOWN000000000", "x", None);
    assert_eq!(gci(unknown).await, (403, "InvalidClientTokenId".into()));
    let token_on_long_term_key = client(&url, ALICE_AKID, ALICE_SECRET, Some("tok"));
    assert_eq!(
        gci(token_on_long_term_key).await,
        (403, "InvalidClientTokenId".into())
    );

    sim.add_role_session(SimRoleSession {
        role_arn: TVM_ROLE.into(),
        session_name: "old".into(),
        access_key_id: "ASIAEXPIRED000000001".into(),
        secret_access_key: "s3cret".into(),
        session_token: "token-1".into(),
        expiration: Timestamp::now() - SignedDuration::from_mins(1),
        source_identity: None,
    })
    .unwrap();
    let expired = client(&url, "ASIAEXPIRED000000001", "s3cret", Some("token-1"));
    assert_eq!(gci(expired).await, (403, "ExpiredToken".into()));
    let wrong_token = client(&url, "ASIAEXPIRED000000001", "s3cret", Some("token-2"));
    assert_eq!(gci(wrong_token).await, (403, "InvalidClientTokenId".into()));
    let no_token = client(&url, "ASIAEXPIRED000000001", "s3cret", None);
    assert_eq!(gci(no_token).await, (403, "InvalidClientTokenId".into()));

    let calls = sim.calls();
    assert_eq!(calls.len(), 6);
    assert!(calls
        .iter()
        .all(|c| c.caller_arn.is_none() && c.status == 403));
}

#[tokio::test]
async fn vended_session_expires_on_the_simulator_clock() {
    let clock = ManualClock::new(Timestamp::now());
    let sim = simulator(Arc::new(clock.clone()));
    let handle = sim.clone().spawn().await.unwrap();
    let out = alice(&handle)
        .assume_role()
        .role_arn(PROD_ROLE)
        .role_session_name("short")
        .duration_seconds(900)
        .send()
        .await
        .unwrap();
    let creds = out.credentials().unwrap();
    // Presign with the vended keys at the moved clock's time, so only the
    // session's expiry can fail.
    clock.advance(SignedDuration::from_secs(901));
    let mut spec = crate::sts::sim::testkit::Spec::new(
        creds.access_key_id(),
        creds.secret_access_key(),
        "127.0.0.1:1",
    );
    spec.token = Some(creds.session_token());
    spec.time = SystemTime::now() + Duration::from_secs(901);
    let req = spec.presign("Action=GetCallerIdentity&Version=2011-06-15", 60);
    let (status, code) = super::raw::send(&sim, &req).await;
    assert_eq!((status, code.as_deref()), (403, Some("ExpiredToken")));
}

#[tokio::test]
async fn faults_are_injected_per_action() {
    let (sim, handle) = spawn().await;
    let c = alice(&handle);
    sim.set_fault("GetCallerIdentity", Some(Fault::Throttle));
    assert_eq!(
        failure(c.get_caller_identity().send().await),
        (400, "Throttling".into())
    );
    // Other actions are unaffected.
    c.assume_role()
        .role_arn(TVM_ROLE)
        .role_session_name("ok")
        .send()
        .await
        .unwrap();

    sim.set_fault("GetCallerIdentity", Some(Fault::InternalError));
    assert_eq!(
        failure(c.get_caller_identity().send().await),
        (500, "InternalFailure".into())
    );

    sim.set_fault(
        "GetCallerIdentity",
        Some(Fault::Status(503, "<oops/>".into())),
    );
    let (status, _) = failure(c.get_caller_identity().send().await);
    assert_eq!(status, 503);

    sim.set_fault(
        "GetCallerIdentity",
        Some(Fault::Delay(Duration::from_millis(300))),
    );
    let started = std::time::Instant::now();
    c.get_caller_identity().send().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));

    sim.set_fault("GetCallerIdentity", None);
    sim.set_fault(crate::sts::sim::ANY_ACTION, Some(Fault::Throttle));
    assert_eq!(
        failure(c.get_caller_identity().send().await).1,
        "Throttling"
    );
    sim.set_fault(crate::sts::sim::ANY_ACTION, None);
    c.get_caller_identity().send().await.unwrap();

    let codes: Vec<_> = sim
        .calls_for("GetCallerIdentity")
        .into_iter()
        .map(|c| (c.status, c.error_code))
        .collect();
    assert_eq!(
        codes,
        [
            (400, Some("Throttling".into())),
            (500, Some("InternalFailure".into())),
            (503, None),
            (200, None),
            (400, Some("Throttling".into())),
            (200, None),
        ]
    );
    sim.clear_calls();
    assert!(sim.calls().is_empty());
}

#[tokio::test]
async fn shutdown_stops_the_server() {
    let (_sim, handle) = spawn().await;
    let addr = handle.addr();
    assert_eq!(handle.url(), format!("http://{addr}"));
    handle.shutdown().await.unwrap();
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn created_keys_sign_and_root_cannot_assume_roles() {
    let (sim, handle) = spawn().await;
    let key = sim.create_access_key(ALICE_ARN).unwrap();
    assert!(key.access_key_id.starts_with("AKIA") && key.access_key_id.len() == 20);
    assert!(!format!("{key:?}").contains(&key.secret_access_key));
    let c = client(
        &handle.url(),
        &key.access_key_id,
        &key.secret_access_key,
        None,
    );
    let me = c.get_caller_identity().send().await.unwrap();
    assert_eq!(me.arn(), Some(ALICE_ARN));

    let root_arn = "arn:aws:iam::111122223333:root";
    sim.add_role(SimRole::new(
        "arn:aws:iam::111122223333:role/ForRoot",
        vec![root_arn.into()],
    ))
    .unwrap();
    let root = sim.create_access_key(root_arn).unwrap();
    let c = client(
        &handle.url(),
        &root.access_key_id,
        &root.secret_access_key,
        None,
    );
    let me = c.get_caller_identity().send().await.unwrap();
    assert_eq!((me.arn(), me.user_id()), (Some(root_arn), Some(ACCOUNT)));
    let req = c
        .assume_role()
        .role_arn("arn:aws:iam::111122223333:role/ForRoot")
        .role_session_name("root");
    assert_eq!(failure(req.send().await), (403, "AccessDenied".into()));

    assert!(sim
        .create_access_key("arn:aws:iam::111122223333:role/R")
        .is_err());
}
