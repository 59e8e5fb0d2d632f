//! The simulator's IAM subset over loopback, driven by tvm's own IAM client
//! ([`crate::sts::iam::AwsIam`]) and STS client, and by hand-signed requests:
//! each error, the size limit's boundary, who may write, SigV4 for `iam`,
//! and the enforcement of a `Deny` on GetAccessKeyInfo and role chaining while
//! GetCallerIdentity still answers.

use axum::body::Body;
use http::Request;
use tower::ServiceExt as _;

use super::*;
use crate::identity::{Marker, Partition, RequestId, RoleSessionName, SourceIdentity, StampPrefix};
use crate::sts::aws::AwsSts;
use crate::sts::iam::{AwsIam, IamError};
use crate::sts::sim::testkit::{Signed, Spec};
use crate::sts::{AssumeRoleInput, Credentials, Sts, StsError};

const REVOKER: &str = "arn:aws:iam::111122223333:role/TvmRevoker";
const POLICY: &str = "tvm-revocations-tvm-test";

fn alice() -> aws_credential_types::Credentials {
    aws_credential_types::Credentials::new(ALICE_AKID, ALICE_SECRET, None, None, "alice")
}

fn session_creds(c: &Credentials) -> aws_credential_types::Credentials {
    aws_credential_types::Credentials::new(
        &c.access_key_id,
        &c.secret_access_key,
        Some(c.session_token.clone()),
        None,
        "session",
    )
}

/// The SourceIdentity tvm would stamp for request `id`.
fn stamp(id: &RequestId) -> SourceIdentity {
    SourceIdentity::new(
        &StampPrefix::default(),
        "alice",
        ALICE_ARN,
        &Marker::Direct,
        id,
    )
}

async fn assume(
    url: &str,
    creds: aws_credential_types::Credentials,
    role: &str,
    id: &RequestId,
) -> Result<Credentials, StsError> {
    let sts = AwsSts::new("us-east-1", Some(url), Some(creds)).await;
    let input = AssumeRoleInput {
        role_arn: role.to_owned(),
        role_session_name: RoleSessionName::new("alice", ALICE_ARN, id),
        source_identity: stamp(id),
        duration_seconds: 900,
        external_id: None,
        tags: Vec::new(),
        transitive_tag_keys: Vec::new(),
        policy: None,
    };
    sts.assume_role(input).await.map(|a| a.credentials)
}

/// The simulator with a revoker role (trusting alice), spawned; its session.
async fn setup() -> (Simulator, SimHandle, AwsIam, Credentials) {
    let sim = simulator(Arc::new(SystemClock));
    sim.add_role(SimRole::new(REVOKER, vec![ALICE_ARN.into()]).with_role_policy_writer())
        .unwrap();
    let handle = sim.clone().spawn().await.unwrap();
    let url = handle.url();
    let revoker = assume(&url, alice(), REVOKER, &RequestId::generate())
        .await
        .unwrap();
    let iam = AwsIam::new(Partition::Aws, Some(&url)).unwrap();
    (sim, handle, iam, revoker)
}

fn deny(condition: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"TvmRevokedSessionsTest","Effect":"Deny","Action":"*","Resource":"*","Condition":{condition}}}]}}"#
    )
}

/// A valid document of exactly `size` counted characters (padded in the Sid).
fn document_of_size(size: usize) -> String {
    let base = deny(r#"{"StringEquals":{"aws:SourceIdentity":"x"}}"#);
    let pad = size - crate::sts::sim::iam::policy_size_for_tests(&base);
    base.replace(
        "TvmRevokedSessionsTest",
        &format!("TvmRevokedSessionsTest{}", "A".repeat(pad)),
    )
}

/// Sends through the router: status, error code and body.
async fn send(sim: &Simulator, signed: &Signed) -> (u16, Option<String>, String) {
    let mut req = Request::builder()
        .method(signed.method)
        .uri(&signed.path_and_query)
        .body(Body::from(signed.body.clone()))
        .unwrap();
    *req.headers_mut() = signed.headers.clone();
    let resp = sim.router().oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    let body = String::from_utf8(body.to_vec()).unwrap();
    let code = body
        .split_once("<Code>")
        .and_then(|(_, r)| r.split_once("</Code>"))
        .map(|(c, _)| c.to_owned());
    (status, code, body)
}

/// `body` header-signed with `c` for `service`.
fn signed(c: &Credentials, service: &'static str, body: &str) -> Signed {
    let mut spec = Spec::new(&c.access_key_id, &c.secret_access_key, "sim.test");
    spec.token = Some(&c.session_token);
    spec.service = service;
    spec.post(body)
}

fn key_info(c: &Credentials, key: &str) -> Signed {
    signed(
        c,
        "sts",
        &format!("Action=GetAccessKeyInfo&Version=2011-06-15&AccessKeyId={key}"),
    )
}

#[tokio::test]
async fn put_get_delete_and_each_error() {
    let (sim, _h, iam, revoker) = setup().await;
    let doc = deny(r#"{"StringLike":{"aws:SourceIdentity":["tvm.*.a2d43d42a691"]}}"#);
    iam.put_role_policy(&revoker, "tvm", POLICY, &doc)
        .await
        .unwrap();
    let put = sim.calls_for("PutRolePolicy").pop().unwrap();
    assert_eq!(put.params.get("PolicyDocument"), Some(&doc));
    assert_eq!(
        put.caller_arn
            .as_deref()
            .map(|a| a.contains("assumed-role/TvmRevoker/")),
        Some(true)
    );
    assert_eq!(
        iam.get_role_policy(&revoker, "tvm", POLICY).await.unwrap(),
        Some(doc.clone())
    );
    // Role names compare without case, as IAM's do.
    assert_eq!(
        iam.get_role_policy(&revoker, "TVM", POLICY).await.unwrap(),
        Some(doc.clone())
    );
    assert_eq!(
        iam.get_role_policy(&revoker, "tvm", "other").await.unwrap(),
        None
    );

    let e = iam
        .put_role_policy(&revoker, "NoSuchRole", POLICY, &doc)
        .await;
    assert!(matches!(e, Err(IamError::NoSuchEntity(_))), "{e:?}");
    let e = iam
        .put_role_policy(&revoker, "tvm", POLICY, &doc.replace("Deny", "Allow"))
        .await;
    assert!(
        matches!(e, Err(IamError::MalformedPolicyDocument(_))),
        "{e:?}"
    );
    assert_eq!(sim.calls_for("PutRolePolicy").pop().unwrap().status, 400);
    // The malformed one replaced nothing.
    assert_eq!(
        iam.get_role_policy(&revoker, "tvm", POLICY).await.unwrap(),
        Some(doc.clone())
    );
    let e = iam
        .put_role_policy(&revoker, "tvm", "bad name!", "{}")
        .await;
    assert!(
        matches!(&e, Err(IamError::Rejected { code, .. }) if code == "ValidationError"),
        "{e:?}"
    );

    iam.delete_role_policy(&revoker, "tvm", POLICY)
        .await
        .unwrap();
    assert_eq!(
        iam.get_role_policy(&revoker, "tvm", POLICY).await.unwrap(),
        None
    );
    let e = iam.delete_role_policy(&revoker, "tvm", POLICY).await;
    assert!(matches!(e, Err(IamError::NoSuchEntity(_))), "{e:?}");
    assert_eq!(sim.calls_for("DeleteRolePolicy").pop().unwrap().status, 404);

    // Injected faults reach IAM calls too, typed by the client.
    sim.set_fault("PutRolePolicy", Some(crate::sts::sim::Fault::Throttle));
    let e = iam.put_role_policy(&revoker, "tvm", POLICY, &doc).await;
    assert!(matches!(e, Err(IamError::Throttling(_))), "{e:?}");
}

#[tokio::test]
async fn only_the_revoker_writes_and_never_its_own_role() {
    let (sim, h, iam, revoker) = setup().await;
    let doc = deny(r#"{"StringEquals":{"aws:SourceIdentity":"x"}}"#);
    let e = iam
        .put_role_policy(&revoker, "TvmRevoker", POLICY, &doc)
        .await;
    assert!(matches!(e, Err(IamError::AccessDenied(_))), "{e:?}");
    let other = assume(&h.url(), alice(), TVM_ROLE, &RequestId::generate())
        .await
        .unwrap();
    for role in ["tvm", "TvmProtected-ProdAdmin", "NoSuchRole"] {
        let e = iam.put_role_policy(&other, role, POLICY, &doc).await;
        assert!(matches!(e, Err(IamError::AccessDenied(_))), "{role}: {e:?}");
    }
    // A long-term user key is no writer either.
    let user = Spec::new(ALICE_AKID, ALICE_SECRET, "sim.test");
    let mut user = user;
    user.service = "iam";
    let (status, code, body) = send(
        &sim,
        &user.post("Action=GetRolePolicy&Version=2010-05-08&RoleName=tvm&PolicyName=p"),
    )
    .await;
    assert_eq!((status, code.as_deref()), (403, Some("AccessDenied")));
    assert!(
        body.contains("https://iam.amazonaws.com/doc/2010-05-08/"),
        "{body}"
    );
}

#[tokio::test]
async fn the_limit_counts_all_inline_policies_of_the_role() {
    let (_sim, _h, iam, revoker) = setup().await;
    let big = document_of_size(MAX - 1_000);
    iam.put_role_policy(&revoker, "tvm", "first", &big)
        .await
        .unwrap();
    // Exactly at the limit: accepted.
    let at = document_of_size(1_000);
    iam.put_role_policy(&revoker, "tvm", POLICY, &at)
        .await
        .unwrap();
    // Replacing it with one character more: over, and nothing changes.
    let over = document_of_size(1_001);
    let e = iam.put_role_policy(&revoker, "tvm", POLICY, &over).await;
    assert!(matches!(e, Err(IamError::LimitExceeded(_))), "{e:?}");
    assert_eq!(
        iam.get_role_policy(&revoker, "tvm", POLICY).await.unwrap(),
        Some(at)
    );
    // Another role has its own quota.
    iam.put_role_policy(&revoker, "TvmProtected-ProdAdmin", POLICY, &over)
        .await
        .unwrap();
    // Whitespace does not count.
    let spaced = document_of_size(1_000).replace(",", " ,\n\t ");
    iam.put_role_policy(&revoker, "tvm", POLICY, &spaced)
        .await
        .unwrap();
}

const MAX: usize = crate::sts::sim::iam::MAX_ROLE_POLICIES_SIZE;

#[tokio::test]
async fn a_request_signed_for_the_other_service_is_refused() {
    let (sim, _h, iam, revoker) = setup().await;
    let doc = deny(r#"{"StringEquals":{"aws:SourceIdentity":"x"}}"#);
    let mut form =
        String::from("Action=PutRolePolicy&Version=2010-05-08&RoleName=tvm&PolicyName=p");
    crate::sts::aws::form::param(&mut form, "PolicyDocument", &doc);
    let (status, code, body) = send(&sim, &signed(&revoker, "sts", &form)).await;
    assert_eq!(
        (status, code.as_deref()),
        (403, Some("SignatureDoesNotMatch")),
        "{body}"
    );
    assert!(body.contains("correct service: &apos;iam&apos;"), "{body}");
    assert_eq!(
        iam.get_role_policy(&revoker, "tvm", "p").await.unwrap(),
        None
    );
    // The same form signed for iam is accepted.
    let (status, code, _) = send(&sim, &signed(&revoker, "iam", &form)).await;
    assert_eq!((status, code), (200, None));
    // And an STS call signed for iam is refused too.
    let gci = "Action=GetCallerIdentity&Version=2011-06-15";
    let (status, code, _) = send(&sim, &signed(&revoker, "iam", gci)).await;
    assert_eq!(
        (status, code.as_deref()),
        (403, Some("SignatureDoesNotMatch"))
    );
}

#[tokio::test]
async fn a_denied_session_is_refused_but_still_answers_get_caller_identity() {
    let (sim, h, iam, revoker) = setup().await;
    let url = h.url();
    let (id_a, id_b) = (RequestId::generate(), RequestId::generate());
    let before = jiff::Timestamp::now();
    let a = assume(&url, alice(), TVM_ROLE, &id_a).await.unwrap();
    let b = assume(&url, alice(), TVM_ROLE, &id_b).await.unwrap();
    // Each session's issue time is recorded.
    let issued = sim.session_issued_at(&a.access_key_id).unwrap();
    assert!(
        issued >= before && issued <= jiff::Timestamp::now(),
        "{issued}"
    );
    assert_eq!(sim.session_issued_at(ALICE_AKID), None);
    let doc = deny(&format!(
        r#"{{"StringLike":{{"aws:SourceIdentity":["tvm.*.{}"]}}}}"#,
        id_a.as_str()
    ));
    // Before: both work.
    let (status, _, body) = send(&sim, &key_info(&a, &b.access_key_id)).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains(&format!("<Account>{ACCOUNT}</Account>")),
        "{body}"
    );

    iam.put_role_policy(&revoker, "tvm", POLICY, &doc)
        .await
        .unwrap();
    let (status, code, body) = send(&sim, &key_info(&a, &a.access_key_id)).await;
    assert_eq!(
        (status, code.as_deref()),
        (403, Some("AccessDenied")),
        "{body}"
    );
    assert!(body.contains("explicit deny"), "{body}");
    assert_eq!(
        sim.calls_for("GetAccessKeyInfo")
            .pop()
            .unwrap()
            .error_code
            .as_deref(),
        Some("AccessDenied")
    );
    let (status, _, _) = send(&sim, &key_info(&b, &a.access_key_id)).await;
    assert_eq!(status, 200);
    // GetCallerIdentity still answers for the denied session, as AWS does.
    let gci = "Action=GetCallerIdentity&Version=2011-06-15";
    let (status, _, body) = send(&sim, &signed(&a, "sts", gci)).await;
    assert_eq!(status, 200, "{body}");
    // Chaining: the denied session cannot assume another role; the other can.
    let chained = assume(&url, session_creds(&a), PROD_ROLE, &id_a).await;
    assert!(
        matches!(&chained, Err(StsError::Rejected { code, .. }) if code == "AccessDenied"),
        "{chained:?}"
    );
    assert_eq!(sim.calls_for("AssumeRole").pop().unwrap().status, 403);
    let chained_b = assume(&url, session_creds(&b), PROD_ROLE, &id_b)
        .await
        .unwrap();
    // The chained session carries the SourceIdentity: a deny on that role
    // catches it as well.
    iam.put_role_policy(
        &revoker,
        "TvmProtected-ProdAdmin",
        POLICY,
        &doc.replace(id_a.as_str(), id_b.as_str()),
    )
    .await
    .unwrap();
    let (status, code, _) = send(&sim, &key_info(&chained_b, &b.access_key_id)).await;
    assert_eq!((status, code.as_deref()), (403, Some("AccessDenied")));

    // Lifting the policy ends the deny.
    iam.delete_role_policy(&revoker, "tvm", POLICY)
        .await
        .unwrap();
    let (status, _, _) = send(&sim, &key_info(&a, &a.access_key_id)).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn each_condition_operator_is_enforced_over_http() {
    let (sim, h, iam, revoker) = setup().await;
    let id = RequestId::generate();
    let s = assume(&h.url(), alice(), TVM_ROLE, &id).await.unwrap();
    let si = stamp(&id);
    let soon = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1)).to_string();
    let past = "2020-01-01T00:00:00Z";
    for (condition, refused) in [
        (
            format!(
                r#"{{"StringEquals":{{"aws:SourceIdentity":"{}"}}}}"#,
                si.as_str()
            ),
            true,
        ),
        (
            format!(
                r#"{{"StringEquals":{{"aws:SourceIdentity":"{}x"}}}}"#,
                si.as_str()
            ),
            false,
        ),
        (
            format!(
                r#"{{"StringLike":{{"aws:SourceIdentity":"tvm.*.{}"}}}}"#,
                id.as_str()
            ),
            true,
        ),
        (
            r#"{"StringLike":{"aws:SourceIdentity":"tvm.*.000000000000"}}"#.to_owned(),
            false,
        ),
        (
            format!(r#"{{"DateLessThan":{{"aws:TokenIssueTime":"{soon}"}}}}"#),
            true,
        ),
        (
            format!(r#"{{"DateLessThan":{{"aws:TokenIssueTime":"{past}"}}}}"#),
            false,
        ),
    ] {
        iam.put_role_policy(&revoker, "tvm", POLICY, &deny(&condition))
            .await
            .unwrap();
        let (status, code, _) = send(&sim, &key_info(&s, &s.access_key_id)).await;
        let want = if refused {
            (403, Some("AccessDenied"))
        } else {
            (200, None)
        };
        assert_eq!((status, code.as_deref()), want, "{condition}");
    }
}

#[tokio::test]
async fn get_access_key_info_answers_the_account_of_a_known_key() {
    let (sim, _h, _iam, revoker) = setup().await;
    let (status, _, body) = send(&sim, &key_info(&revoker, BOB_AKID)).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("<GetAccessKeyInfoResult>") && body.contains(ACCOUNT),
        "{body}"
    );
    for bad in ["AKIAUNKNOWN000000001", "short", "AKIA%2F000000000000000"] {
        let (status, code, _) = send(&sim, &key_info(&revoker, bad)).await;
        assert_eq!(
            (status, code.as_deref()),
            (400, Some("ValidationError")),
            "{bad}"
        );
    }
}
