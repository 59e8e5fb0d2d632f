//! `tvm dev`'s self-test: the flows the banner prints, run once by `tvm dev`
//! itself against its own service — a direct vend and its use at the
//! simulator, a denied profile, and the approval round trip (alice asks, bob
//! approves, alice vends under the grant) with a break-glass vend; then
//! DESIGN §13's revocation of one session (`revoke_test`).

use aws_credential_types::Credentials as AwsCredentials;

use super::demo::DEMO_APPROVAL_PROFILE;
use crate::client::approvals::Decision;
use crate::client::{self, ClientError, VendRequest};
use crate::commands::demo::{
    DEMO_ACCESS_KEY_ID, DEMO_APPROVER_ACCESS_KEY_ID, DEMO_APPROVER_SECRET_ACCESS_KEY,
    DEMO_SECRET_ACCESS_KEY,
};

pub(super) async fn self_test(api: &str, sim: &str) -> Result<(), ClientError> {
    println!("Self-test (the same flow, run once by tvm dev itself):");
    let alice = AwsCredentials::new(
        DEMO_ACCESS_KEY_ID,
        DEMO_SECRET_ACCESS_KEY,
        None,
        None,
        "tvm-dev-demo",
    );
    let server = client::Server::connect(&client::ServerArgs {
        url: api.to_owned(),
        ..Default::default()
    })
    .await?;
    println!(
        "  GET /.well-known/tvm        accepts {}: the origin this client signs for",
        server.audience()
    );
    let vended = server.vend(&alice, "demo-readonly", None).await?;
    println!(
        "  POST /vend demo-readonly    200: AccessKeyId {}, SecretAccessKey (not shown), expires {}",
        vended.access_key_id, vended.expiration
    );
    println!(
        "                              SourceIdentity {}",
        vended.source_identity
    );
    let session = AwsCredentials::new(
        &vended.access_key_id,
        &vended.secret_access_key,
        Some(vended.token.clone()),
        None,
        "tvm-vended",
    );
    let arn = caller_arn(sim, session).await?;
    println!("  sts:GetCallerIdentity with the vended credentials: {arn}");
    match server.vend(&alice, "demo-admin", None).await {
        Err(ClientError::Status { status: 403, .. }) => {
            println!("  POST /vend demo-admin       403 POLICY_DENY, as the demo policy says")
        }
        Ok(_) => {
            return Err(ClientError::Decode(
                "demo-admin was vended; the policy is not enforced".into(),
            ))
        }
        Err(e) => return Err(e),
    }
    approval_round_trip(&server, &alice).await?;
    super::revoke_test::revocation_round_trip(&server, &alice, sim).await
}

/// Alice asks for the approval profile, bob approves, alice vends under the
/// grant; then a break-glass vend (notified to the webhook receiver).
async fn approval_round_trip(
    server: &client::Server,
    alice: &AwsCredentials,
) -> Result<(), ClientError> {
    let bob = AwsCredentials::new(
        DEMO_APPROVER_ACCESS_KEY_ID,
        DEMO_APPROVER_SECRET_ACCESS_KEY,
        None,
        None,
        "tvm-dev-demo",
    );
    let p = DEMO_APPROVAL_PROFILE;
    match server.vend(alice, p, None).await {
        Err(ClientError::Status { status: 403, .. }) => {
            println!("  POST /vend {p}        403 APPROVAL_REQUIRED: it needs a second person")
        }
        Ok(_) => {
            return Err(ClientError::Decode(format!(
                "{p} was vended without an approval; the policy is not enforced"
            )))
        }
        Err(e) => return Err(e),
    }
    let request = server
        .create_request(alice, p, None, "tvm dev self-test of the approval flow")
        .await?;
    println!(
        "  POST /requests {p}    201: request {} (alice)",
        request.id
    );
    let approved = server
        .decide(&bob, &request.id, Decision::Approve, Some("self-test"))
        .await?;
    println!(
        "  POST /requests/{}/approve  200: {} (bob)",
        approved.id, approved.status
    );
    let vended = server
        .vend_with(
            alice,
            &VendRequest {
                profile: p.to_owned(),
                approval_id: Some(request.id.clone()),
                ..VendRequest::default()
            },
        )
        .await?;
    println!(
        "  POST /vend {p} under the grant  200: SourceIdentity {}",
        vended.source_identity
    );
    let glass = server
        .vend_with(
            alice,
            &VendRequest {
                profile: p.to_owned(),
                reason: Some("tvm dev self-test of break-glass".into()),
                ..VendRequest::default()
            },
        )
        .await?;
    println!(
        "  POST /vend {p} break-glass      200: SourceIdentity {}",
        glass.source_identity
    );
    Ok(())
}

async fn caller_arn(sim: &str, creds: AwsCredentials) -> Result<String, ClientError> {
    let config = aws_sdk_sts::Config::builder()
        .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
        .region(aws_sdk_sts::config::Region::new("us-east-1"))
        .endpoint_url(sim)
        .credentials_provider(creds)
        .build();
    let out = aws_sdk_sts::Client::from_conf(config)
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| ClientError::Transport(format!("GetCallerIdentity: {e}")))?;
    Ok(out.arn().unwrap_or_default().to_owned())
}
