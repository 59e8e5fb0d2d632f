//! DESIGN §13's whole write path against moto, a peer nobody here wrote: the
//! queue worker assumes the revoker role through tvm's own AssumeRole client
//! (with the `rvk-` SourceIdentity and the one-role session policy), writes
//! the derived document with tvm's IAM client, and botocore reads back from
//! moto exactly the document tvm derived; the read-back check agrees; when
//! the session expires the worker deletes the policy.

use std::process::Command;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use tvm::clock::{Clock, ManualClock};
use tvm::config::{DeploymentId, EndpointUrl};
use tvm::identity::StampPrefix;
use tvm::metrics::Metrics;
use tvm::revocation::iam::{
    aws_client_factory, CheckState, IamAccess, IamPolicies, Naming, RevokerAccess,
};
use tvm::sts::aws::AwsSts;

use super::peer::{iam, xml_text, Moto};

const ACCOUNT: &str = "123456789012";
const PROTECTED: &str = "TvmProtected-ProdAdmin";
const REVOKER: &str = "TvmRevoker";
const POLICY: &str = "tvm-revocations-tvm-prod";
const SETUP_ACTIONS: u32 = 6;

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// moto with tvm's user, a revoker role and a protected role; the user's key.
async fn setup(py: &str) -> (Moto, (String, String)) {
    let moto = Moto::start(py, Some(SETUP_ACTIONS));
    let all = encode(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    );
    let trust = encode(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:user/tvm-service"}},"Action":["sts:AssumeRole","sts:SetSourceIdentity"]}}]}}"#
    ));
    iam(&moto, "Action=CreateUser&UserName=tvm-service").await;
    let key = iam(&moto, "Action=CreateAccessKey&UserName=tvm-service").await;
    iam(
        &moto,
        &format!("Action=PutUserPolicy&UserName=tvm-service&PolicyName=all&PolicyDocument={all}"),
    )
    .await;
    for role in [REVOKER, PROTECTED] {
        iam(
            &moto,
            &format!("Action=CreateRole&RoleName={role}&AssumeRolePolicyDocument={trust}"),
        )
        .await;
    }
    iam(
        &moto,
        &format!("Action=PutRolePolicy&RoleName={REVOKER}&PolicyName=all&PolicyDocument={all}"),
    )
    .await;
    (
        moto,
        (
            xml_text(&key, "AccessKeyId"),
            xml_text(&key, "SecretAccessKey"),
        ),
    )
}

/// What botocore reads back from moto: the compact document, or the error code.
fn botocore_reads(py: &str, moto: &Moto, user: &(String, String)) -> String {
    let script = format!(
        "import boto3, json, botocore\n\
         c = boto3.client('iam', endpoint_url='{}', region_name='us-east-1')\n\
         try:\n  d = c.get_role_policy(RoleName='{PROTECTED}', PolicyName='{POLICY}')['PolicyDocument']\n  print(json.dumps(d, separators=(',', ':')))\n\
         except botocore.exceptions.ClientError as e:\n  print(e.response['Error']['Code'])\n",
        moto.url
    );
    let out = Command::new(py)
        .args(["-c", &script])
        .env("AWS_ACCESS_KEY_ID", &user.0)
        .env("AWS_SECRET_ACCESS_KEY", &user.1)
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[tokio::test]
async fn the_queue_writes_through_the_revoker_role_what_moto_reads_back() {
    let Some(py) = super::peer::moto_python() else {
        return;
    };
    let (moto, user) = setup(&py).await;
    let sts = AwsSts::new(
        "us-east-1",
        Some(&moto.url),
        Some(aws_credential_types::Credentials::new(
            &user.0, &user.1, None, None, "tvm",
        )),
    )
    .await;
    let endpoint = EndpointUrl::parse(&moto.url).unwrap();
    let prefix = StampPrefix::parse("tvm").unwrap();
    let access: Arc<dyn IamAccess> = Arc::new(RevokerAccess::new(
        Arc::new(sts),
        prefix.clone(),
        REVOKER.into(),
        aws_client_factory(Some(&endpoint)),
    ));
    let db = tvm::database::connect("sqlite::memory:").await.unwrap();
    let clock = ManualClock::new(Timestamp::now());
    let policies = IamPolicies::new(
        db.pool.clone(),
        Naming::new(prefix, DeploymentId::parse("prod").unwrap()),
        Some(access),
        Arc::new(clock.clone()),
    );
    let now = clock.now().as_second();
    let role = format!("arn:aws:iam::{ACCOUNT}:role/{PROTECTED}");
    let id = "c02e42f3a2d43d42";
    for sql in [
        "INSERT INTO revocations (id, kind, target_type, target, reason, by_arn, by_user_id, \
         self_service, suspends, created_at, request_id) VALUES ($1, 'session', 'SessionId', \
         't', 'r', 'arn:aws:iam::123456789012:user/ops/admin', 'AIDA', 0, 0, $2, 'aaaaaaaaaaaa')",
        "INSERT INTO sessions (row_id, access_key_id, state, request_id, created_at, expires_at, \
         caller_arn, caller_user_id, caller_account, caller_access_key_id, client_address, \
         username, profile, role_arn, kind, source_identity, session_name, revocation_id, \
         revoked_at) VALUES ('r1', 'ASIAX', 'issued', 'a2d43d42a691', $2, $2 + 900, 'arn', \
         'AIDA', '123456789012', 'AKIA', '127.0.0.1', 'alice', 'prod-admin', $3, 'direct', \
         'tvm.alice.direct.a2d43d42a691', 'tvm-alice-a2d43d42a691', $1, $2)",
        "INSERT INTO revocation_roles (role_arn, desired_version, applied_version, status, \
         updated_at) VALUES ($3, 1, 0, 'pending', $2)",
    ] {
        let q = sqlx::query(sql).bind(id).bind(now);
        let q = if sql.contains("$3") { q.bind(&role) } else { q };
        q.execute(&db.pool).await.unwrap();
    }
    let worker = policies.applier_with_targets(Vec::new(), Metrics::new());
    assert_eq!(worker.once().await.unwrap(), 1);
    let roles = policies.roles(id).await.unwrap();
    assert_eq!(roles[0].status, "applied", "{roles:?}");
    let derived = roles[0].policy.clone().unwrap();
    assert_eq!(
        derived,
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"TvmRevokedSessionsProd","Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringLike":{"aws:SourceIdentity":["tvm.*.a2d43d42a691"]}}}]}"#
    );
    assert_eq!(botocore_reads(&py, &moto, &user), derived);
    let checked = policies
        .check(id, "arn:aws:iam::123456789012:user/ops/admin")
        .await
        .unwrap();
    assert_eq!(checked[0].state, CheckState::InSync);
    // The session ends: the worker deletes the policy in moto.
    clock.advance(SignedDuration::from_secs(901));
    assert_eq!(worker.once().await.unwrap(), 1);
    assert_eq!(botocore_reads(&py, &moto, &user), "NoSuchEntity");
    assert_eq!(policies.roles(id).await.unwrap()[0].status, "expired");
}
