//! tvm's IAM client (`tvm::sts::iam::AwsIam`) against moto's IAM, a peer
//! nobody here wrote: moto checks the SigV4 signature (service `iam`, the
//! revoker session's token) and the revoker role's permissions, stores what
//! `PutRolePolicy` sent, and botocore reads it back — the same document,
//! byte for byte, as tvm meant to write (DESIGN §13: the wire-format check).

use std::process::Command;

use tvm::identity::Partition;
use tvm::sts::iam::{AwsIam, IamError};
use tvm::sts::Credentials;

use super::peer::{iam, sts_client, xml_text, Moto};

const PROTECTED: &str = "TvmProtected-ProdAdmin";
const REVOKER: &str = "TvmRevoker";
const POLICY: &str = "tvm-revocations-tvm-prod";
/// A §13 document, compact, with the characters form encoding must carry
/// (`*`, `?`, `.`, `"`, `:`, `,`, `[`).
const DOC: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"TvmRevokedSessionsProd","Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringLike":{"aws:SourceIdentity":["tvm.*.a2d43d42a691","tvm.*.apr-c02e42f3.????????????"]}}}]}"#;
/// moto's default account, where its unsigned setup calls create things.
const ACCOUNT: &str = "123456789012";
/// Unsigned setup calls moto serves before it checks SigV4.
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

/// moto with a user for tvm, a revoker role allowed everything (so moto's
/// own authorization passes) and a protected role; returns moto, the user's
/// long-term key (for botocore) and the revoker session's credentials.
async fn setup(py: &str) -> (Moto, (String, String), Credentials) {
    let moto = Moto::start(py, Some(SETUP_ACTIONS));
    let all = encode(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    );
    // moto does not read `:root` in a trust policy: name the user.
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
    let user = (
        xml_text(&key, "AccessKeyId"),
        xml_text(&key, "SecretAccessKey"),
    );
    let sts = sts_client(
        &moto.url,
        aws_credential_types::Credentials::new(&user.0, &user.1, None, None, "moto-user"),
    );
    let out = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{ACCOUNT}:role/{REVOKER}"))
        .role_session_name("tvm-revoker-0123456789ab")
        .source_identity("tvm.revoker.rvk-0123abcd.0123456789ab")
        .send()
        .await
        .expect("moto assumes the revoker role");
    let c = out.credentials().unwrap();
    let session = Credentials {
        access_key_id: c.access_key_id().to_owned(),
        secret_access_key: c.secret_access_key().to_owned(),
        session_token: c.session_token().to_owned(),
        expiration: jiff::Timestamp::from_second(c.expiration().secs()).unwrap(),
    };
    (moto, user, session)
}

/// botocore's `get_role_policy` document (which botocore decodes and parses),
/// re-serialised compactly in its own key order.
fn botocore_document(py: &str, moto: &Moto, user: &(String, String)) -> String {
    let script = format!(
        "import boto3, json\n\
         c = boto3.client('iam', endpoint_url='{}', region_name='us-east-1')\n\
         d = c.get_role_policy(RoleName='{PROTECTED}', PolicyName='{POLICY}')['PolicyDocument']\n\
         print(json.dumps(d, separators=(',', ':')))\n",
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
async fn moto_receives_the_document_tvm_writes() {
    let Some(py) = super::peer::moto_python() else {
        return;
    };
    let (moto, user, revoker) = setup(&py).await;
    let client = AwsIam::new(Partition::Aws, Some(&moto.url)).unwrap();

    client
        .put_role_policy(&revoker, PROTECTED, POLICY, DOC)
        .await
        .expect("moto accepts tvm's signed PutRolePolicy");
    // The peer reads back exactly what tvm sent, and tvm reads moto's answer.
    assert_eq!(botocore_document(&py, &moto, &user), DOC);
    assert_eq!(
        client
            .get_role_policy(&revoker, PROTECTED, POLICY)
            .await
            .unwrap()
            .as_deref(),
        Some(DOC)
    );

    client
        .delete_role_policy(&revoker, PROTECTED, POLICY)
        .await
        .unwrap();
    assert_eq!(
        client
            .get_role_policy(&revoker, PROTECTED, POLICY)
            .await
            .unwrap(),
        None
    );
    let again = client.delete_role_policy(&revoker, PROTECTED, POLICY).await;
    assert!(matches!(again, Err(IamError::NoSuchEntity(_))), "{again:?}");
    let missing = client
        .put_role_policy(&revoker, "NoSuchRole", POLICY, DOC)
        .await;
    assert!(
        matches!(missing, Err(IamError::NoSuchEntity(_))),
        "{missing:?}"
    );
    let malformed = client
        .put_role_policy(&revoker, PROTECTED, POLICY, r#"{"Statement":"nope"}"#)
        .await;
    assert!(
        matches!(malformed, Err(IamError::MalformedPolicyDocument(_))),
        "{malformed:?}"
    );

    // A wrong secret: moto checks the signature and refuses (in its
    // `Errors/Error` wrapper, which no SDK reads a code from: a refusal all the same).
    let forged = Credentials {
        secret_access_key: "not-the-secret".into(),
        ..revoker.clone()
    };
    let refused = client
        .put_role_policy(&forged, PROTECTED, POLICY, DOC)
        .await;
    assert!(
        matches!(&refused, Err(IamError::Rejected { code, .. }) if code == "Unknown (HTTP 403)"),
        "{refused:?}"
    );
}
