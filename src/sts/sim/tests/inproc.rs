//! The in-process [`Sts`](crate::sts::Sts) client.

use crate::identity::{Marker, RequestId, RoleSessionName, SourceIdentity, StampPrefix};
use crate::sts::sim::Fault;
use crate::sts::{AssumeRoleInput, Sts, StsError};

use super::*;

fn input(role: &str, duration: u32) -> AssumeRoleInput {
    let id = RequestId::generate();
    AssumeRoleInput {
        role_arn: role.to_owned(),
        role_session_name: RoleSessionName::new("alice", ALICE_ARN, &id),
        source_identity: SourceIdentity::new(
            &StampPrefix::default(),
            "alice",
            ALICE_ARN,
            &Marker::Direct,
            &id,
        ),
        duration_seconds: duration,
        external_id: None,
        tags: vec![("tvm-user".into(), "alice".into())],
        transitive_tag_keys: vec!["tvm-user".into()],
        policy: None,
    }
}

#[tokio::test]
async fn in_process_client_vends_and_records() {
    let sim = simulator(Arc::new(SystemClock));
    let sts: Arc<dyn Sts> = Arc::new(sim.sts_client(ALICE_AKID));
    let req = input(PROD_ROLE, 1800);
    let out = sts.assume_role(req.clone()).await.unwrap();
    assert!(out.credentials.access_key_id.starts_with("ASIA"));
    let want = format!(
        "arn:aws:sts::111122223333:assumed-role/TvmProtected-ProdAdmin/{}",
        req.role_session_name.as_str()
    );
    assert_eq!(out.assumed_role_arn.as_deref(), Some(want.as_str()));
    assert!(out.sts_request_id.is_some());
    assert!(!format!("{out:?}").contains(&out.credentials.secret_access_key));

    let call = &sim.calls_for("AssumeRole")[0];
    assert_eq!(
        call.param("SourceIdentity"),
        Some(req.source_identity.as_str())
    );
    assert_eq!(call.param("TransitiveTagKeys.member.1"), Some("tvm-user"));
    assert_eq!(call.caller_arn.as_deref(), Some(ALICE_ARN));

    // A vended key works in-process too (role chaining: one hour at most).
    let tvm_req = input(TVM_ROLE, 900);
    let tvm = sts.assume_role(tvm_req.clone()).await.unwrap();
    let chained = sim.sts_client(&tvm.credentials.access_key_id);
    let err = chained
        .assume_role(input(PROD_ROLE, 3601))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StsError::Rejected { ref code, .. } if code == "ValidationError"),
        "{err:?}"
    );
    // The tvm session carries a SourceIdentity: a chained call cannot change it.
    let err = chained
        .assume_role(input(PROD_ROLE, 3600))
        .await
        .unwrap_err();
    assert!(matches!(err, StsError::Rejected { ref code, .. } if code == "AccessDenied"));
    let mut same = input(PROD_ROLE, 3600);
    same.source_identity = tvm_req.source_identity;
    let out = chained.assume_role(same).await.unwrap();
    let me = out.assumed_role_arn.unwrap();
    assert!(me.starts_with("arn:aws:sts::111122223333:assumed-role/TvmProtected-ProdAdmin/"));
}

#[tokio::test]
async fn in_process_errors_map_like_the_aws_adapter() {
    let sim = simulator(Arc::new(SystemClock));
    let bob = sim.sts_client(BOB_AKID);
    let err = bob.assume_role(input(PROD_ROLE, 900)).await.unwrap_err();
    assert!(
        matches!(err, StsError::Rejected { ref code, .. } if code == "AccessDenied"),
        "{err:?}"
    );
    let ghost = sim.sts_client("AKIAGHOST00000000000");
    let err = ghost.assume_role(input(PROD_ROLE, 900)).await.unwrap_err();
    assert!(matches!(err, StsError::Rejected { ref code, .. } if code == "InvalidClientTokenId"));

    let alice = sim.sts_client(ALICE_AKID);
    sim.set_fault("AssumeRole", Some(Fault::Throttle));
    assert!(matches!(
        alice.assume_role(input(PROD_ROLE, 900)).await,
        Err(StsError::Throttled(_))
    ));
    sim.set_fault("AssumeRole", Some(Fault::InternalError));
    assert!(matches!(
        alice.assume_role(input(PROD_ROLE, 900)).await,
        Err(StsError::Unavailable(_))
    ));
    sim.set_fault("AssumeRole", Some(Fault::Status(503, String::new())));
    assert!(matches!(
        alice.assume_role(input(PROD_ROLE, 900)).await,
        Err(StsError::Unavailable(_))
    ));
    sim.set_fault("AssumeRole", None);
    alice.assume_role(input(PROD_ROLE, 900)).await.unwrap();
    let statuses: Vec<u16> = sim.calls().iter().map(|c| c.status).collect();
    assert_eq!(statuses, [403, 403, 400, 500, 503, 200]);
}
