//! DESIGN §13 at the simulator, end to end with tvm: sessions vended by tvm,
//! then one of them revoked the way tvm's revocation writer will — tvm's
//! identity assumes the revoker role and writes the role's inline `Deny`
//! with tvm's own IAM client. The revoked session is refused at
//! `GetAccessKeyInfo` and cannot chain, yet `GetCallerIdentity` still
//! answers for it (why tvm must also block it itself); the same person's
//! other session and a fresh vend keep working.

use aws_credential_types::Credentials as AwsCredentials;
use aws_sdk_sts::error::ProvideErrorMetadata;
use tvm::identity::Partition;
use tvm::sts::iam::AwsIam;
use tvm::sts::sim::SimRole;
use tvm::sts::Credentials;

use crate::support::*;

const READONLY: &str = r#"{"profile":"readonly"}"#;
const REVOKER: &str = "arn:aws:iam::111122223333:role/TvmRevoker";
const POLICY: &str = "tvm-revocations-tvm-test";

fn sts(url: &str, creds: AwsCredentials) -> aws_sdk_sts::Client {
    let conf = aws_sdk_sts::Config::builder()
        .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
        .region(aws_sdk_sts::config::Region::new("us-east-1"))
        .endpoint_url(url)
        .credentials_provider(creds)
        .retry_config(aws_sdk_sts::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_sts::Client::from_conf(conf)
}

/// The vended credentials of a 200 `/vend` answer, and its request id.
fn vended(resp: &Answer) -> (AwsCredentials, String) {
    assert_eq!(resp.status, 200, "{}", resp.body);
    let body = resp.json();
    let creds = AwsCredentials::new(
        body["AccessKeyId"].as_str().unwrap(),
        body["SecretAccessKey"].as_str().unwrap(),
        Some(body["Token"].as_str().unwrap().to_owned()),
        None,
        "vended",
    );
    (creds, resp.header("x-request-id").unwrap().to_owned())
}

async fn key_info(url: &str, creds: &AwsCredentials) -> Result<String, String> {
    sts(url, creds.clone())
        .get_access_key_info()
        .access_key_id(creds.access_key_id())
        .send()
        .await
        .map(|o| o.account().unwrap_or_default().to_owned())
        .map_err(|e| e.code().unwrap_or("no code").to_owned())
}

#[tokio::test]
async fn a_session_revoked_in_iam_is_refused_at_the_simulator_and_no_other() {
    let app = spawn_app().await;
    app.sim
        .add_role(SimRole::new(REVOKER, vec![SERVICE_ARN.into()]).with_role_policy_writer())
        .unwrap();
    let (revoked, revoked_id) = vended(&app.vend(&app.alice, READONLY).await);
    let (other, _) = vended(&app.vend(&app.alice, READONLY).await);
    assert_eq!(
        key_info(&app.sim_url, &revoked).await.as_deref(),
        Ok(ACCOUNT)
    );

    // tvm's identity assumes the revoker role, stamped `rvk-`, and writes.
    let key = app.sim.create_access_key(SERVICE_ARN).unwrap();
    let tvm = AwsCredentials::new(
        &key.access_key_id,
        &key.secret_access_key,
        None,
        None,
        "tvm",
    );
    let out = sts(&app.sim_url, tvm)
        .assume_role()
        .role_arn(REVOKER)
        .role_session_name("tvm-revoker-0123456789ab")
        .source_identity("tvm.tvm-service.rvk-0123abcd.0123456789ab")
        .send()
        .await
        .unwrap();
    let c = out.credentials().unwrap();
    let revoker = Credentials {
        access_key_id: c.access_key_id().to_owned(),
        secret_access_key: c.secret_access_key().to_owned(),
        session_token: c.session_token().to_owned(),
        expiration: jiff::Timestamp::now() + jiff::SignedDuration::from_mins(15),
    };
    let document = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"TvmRevokedSessionsTest","Effect":"Deny","Action":"*","Resource":"*","Condition":{{"StringLike":{{"aws:SourceIdentity":["tvm.*.{revoked_id}"]}}}}}}]}}"#
    );
    let iam = AwsIam::new(Partition::Aws, Some(&app.sim_url)).unwrap();
    iam.put_role_policy(&revoker, "TvmReadOnly", POLICY, &document)
        .await
        .unwrap();
    let put = app.sim.calls_for("PutRolePolicy").pop().unwrap();
    assert_eq!(put.params.get("PolicyDocument"), Some(&document));

    // The revoked session: refused, cannot chain, but GetCallerIdentity answers.
    assert_eq!(
        key_info(&app.sim_url, &revoked).await,
        Err("AccessDenied".to_owned())
    );
    let chained = sts(&app.sim_url, revoked.clone())
        .assume_role()
        .role_arn("arn:aws:iam::111122223333:role/TvmReadOnly")
        .role_session_name("chained")
        .send()
        .await
        .unwrap_err();
    assert_eq!(chained.code(), Some("AccessDenied"));
    assert!(
        chained
            .message()
            .unwrap_or_default()
            .contains("explicit deny"),
        "{chained:?}"
    );
    let me = sts(&app.sim_url, revoked)
        .get_caller_identity()
        .send()
        .await;
    assert!(me.is_ok(), "{me:?}");

    // The same person's other session and a fresh vend are untouched.
    assert_eq!(key_info(&app.sim_url, &other).await.as_deref(), Ok(ACCOUNT));
    let (fresh, _) = vended(&app.vend(&app.alice, READONLY).await);
    assert_eq!(key_info(&app.sim_url, &fresh).await.as_deref(), Ok(ACCOUNT));
}
