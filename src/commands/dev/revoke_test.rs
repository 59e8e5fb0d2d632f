//! `tvm dev`'s self-test of DESIGN §13: alice holds two sessions and ends
//! one; tvm writes the deny into the simulator's IAM with its revoker role;
//! the revoked session is then refused at `GetAccessKeyInfo` (AWS's own
//! check, not tvm's) while her other session and a fresh vend still work.
//!
//! Invariants: nothing is assumed applied: the step waits (bounded) until
//! the revocation's role reads `applied`, and fails the self-test if the
//! revoked session still works or the untouched one stops working.

use std::time::Duration;

use aws_credential_types::Credentials as AwsCredentials;

use crate::client::{self, ClientError};

/// The profile the step vends.
const PROFILE: &str = "demo-readonly";

/// How long the step waits for the role's policy to read `applied`.
const APPLY_WAIT: Duration = Duration::from_secs(30);

/// How often it asks.
const APPLY_POLL: Duration = Duration::from_millis(200);

/// Vends two sessions, revokes the first, waits for IAM, and shows who is
/// refused.
pub(super) async fn revocation_round_trip(
    server: &client::Server,
    alice: &AwsCredentials,
    sim: &str,
) -> Result<(), ClientError> {
    let first = server.vend(alice, PROFILE, None).await?;
    let second = server.vend(alice, PROFILE, None).await?;
    println!(
        "  two sessions of alice        {} and {}",
        first.access_key_id, second.access_key_id
    );
    let revocation = server
        .revoke_session(
            alice,
            &first.access_key_id,
            "tvm dev self-test: done with this session",
        )
        .await?;
    let id = revocation
        .id
        .clone()
        .ok_or_else(|| ClientError::Decode("the revocation has no Id".into()))?;
    println!(
        "  POST /sessions/{}/revoke  201: revocation {id} (alice ends her own session)",
        first.access_key_id
    );
    let role = wait_applied(server, alice, &id).await?;
    println!("  GET /revocations/{id}  role {role}: applied (the deny policy is in IAM)");
    let revoked = session(&first);
    match access_key_info(sim, revoked).await {
        Err(e) if e.contains("AccessDenied") => println!(
            "  sts:GetAccessKeyInfo with the revoked session   AccessDenied (ended in AWS)"
        ),
        Err(e) => return Err(ClientError::Transport(e)),
        Ok(_) => {
            return Err(ClientError::Decode(
                "the revoked session still works at the simulator".into(),
            ))
        }
    }
    match server.vend(&session(&first), PROFILE, None).await {
        Err(ClientError::Status { status: 403, .. }) => println!(
            "  POST /vend as the revoked session               403 POLICY_DENY (refused at tvm)"
        ),
        Ok(_) => {
            return Err(ClientError::Decode(
                "tvm served a caller whose session was revoked".into(),
            ))
        }
        Err(e) => return Err(e),
    }
    access_key_info(sim, session(&second))
        .await
        .map_err(ClientError::Transport)?;
    println!("  sts:GetAccessKeyInfo with her other session     200 (untouched)");
    let fresh = server.vend(alice, PROFILE, None).await?;
    access_key_info(sim, session(&fresh))
        .await
        .map_err(ClientError::Transport)?;
    println!("  a fresh vend and its GetAccessKeyInfo            200");
    Ok(())
}

/// Asks for the revocation until its (one) role reads `applied`; returns
/// the role's ARN.
async fn wait_applied(
    server: &client::Server,
    alice: &AwsCredentials,
    id: &str,
) -> Result<String, ClientError> {
    let deadline = tokio::time::Instant::now() + APPLY_WAIT;
    loop {
        let r = server.revocation(alice, id).await?;
        let mut last = String::from("no role yet");
        if let Some(role) = r.roles.first() {
            if role.status == "applied" {
                return Ok(role.role_arn.clone());
            }
            last = format!("{} {}", role.role_arn, role.status);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(ClientError::Decode(format!(
                "the revocation was not applied in IAM within {}s ({last})",
                APPLY_WAIT.as_secs()
            )));
        }
        tokio::time::sleep(APPLY_POLL).await;
    }
}

/// The vended credentials as an SDK credentials value.
fn session(v: &client::VendedCredentials) -> AwsCredentials {
    AwsCredentials::new(
        &v.access_key_id,
        &v.secret_access_key,
        Some(v.token.clone()),
        None,
        "tvm-vended",
    )
}

/// `sts:GetAccessKeyInfo` for the session's own key, made with that session
/// at the simulator: the error text on failure.
async fn access_key_info(sim: &str, creds: AwsCredentials) -> Result<String, String> {
    let key = creds.access_key_id().to_owned();
    let config = aws_sdk_sts::Config::builder()
        .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
        .region(aws_sdk_sts::config::Region::new("us-east-1"))
        .endpoint_url(sim)
        .credentials_provider(creds)
        .build();
    let out = aws_sdk_sts::Client::from_conf(config)
        .get_access_key_info()
        .access_key_id(key)
        .send()
        .await
        .map_err(|e| {
            let meta = aws_sdk_sts::error::ProvideErrorMetadata::code(&e)
                .unwrap_or("no code")
                .to_owned();
            format!("GetAccessKeyInfo: {meta}")
        })?;
    Ok(out.account().unwrap_or_default().to_owned())
}
