//! The caller's own AWS credentials: the aws-config default chain (environment,
//! shared config and credentials files, `credential_process`, IAM Identity
//! Center, `aws login`, web identity, container, IMDS), optionally for a named
//! profile (`--aws-profile`, else `AWS_PROFILE`).
//!
//! Invariants: the credentials only ever sign locally; a `tvm credentials`
//! that finds itself running inside its own `credential_process` (an inherited
//! `AWS_PROFILE` naming a tvm stanza) stops at the first recursion with a clear
//! error instead of looping ([`RECURSION_GUARD`]).

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;

use super::error::ClientError;

/// Set by `tvm credentials` for the processes the AWS chain starts; seeing it
/// set means a `credential_process` called `tvm credentials` again.
pub const RECURSION_GUARD: &str = "TVM_CREDENTIAL_PROCESS_ACTIVE";

/// Refuses to run when `tvm credentials` is already running above us, then
/// marks the environment for the children the credential chain may start.
/// Called from `main`'s thread before the runtime starts.
pub fn enter_credential_process() -> Result<(), ClientError> {
    if std::env::var_os(RECURSION_GUARD).is_some() {
        return Err(ClientError::Credentials(
            "tvm credentials is being run by its own credential_process: the AWS profile it \
             signs with (--aws-profile, or an inherited AWS_PROFILE) names a tvm stanza. Pass \
             --aws-profile with the profile that holds your own AWS credentials"
                .into(),
        ));
    }
    // Edition 2021; single-threaded at this point (before the runtime is built).
    std::env::set_var(RECURSION_GUARD, "1");
    Ok(())
}

/// The caller's AWS configuration from the default chain, for `profile` when given.
pub async fn load_config(profile: Option<&str>) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(p) = profile {
        loader = loader.profile_name(p);
    }
    loader.load().await
}

/// The credentials provider of `config`.
pub fn provider_of(
    config: &aws_config::SdkConfig,
) -> Result<SharedCredentialsProvider, ClientError> {
    config
        .credentials_provider()
        .ok_or_else(|| ClientError::Credentials("no AWS credentials provider configured".into()))
}

/// The caller's credentials provider from the default chain, for `profile`
/// when given.
pub async fn provider(profile: Option<&str>) -> Result<SharedCredentialsProvider, ClientError> {
    provider_of(&load_config(profile).await)
}

/// Loads credentials from `provider`, with a one-line error.
pub async fn load(provider: &SharedCredentialsProvider) -> Result<Credentials, ClientError> {
    provider.provide_credentials().await.map_err(|e| {
        ClientError::Credentials(format!(
            "cannot load your AWS credentials: {}",
            one_line(&error_chain(&e))
        ))
    })
}

/// Loads the caller's own credentials from the default AWS chain.
pub async fn default_credentials() -> Result<Credentials, ClientError> {
    load(&provider(None).await?).await
}

/// The messages of `e` and its sources, joined: `Display` only, never the
/// `Debug` dump (which can hold raw responses, such as an IMDS session token).
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(s) = next {
        let msg = s.to_string();
        if !out.contains(&msg) {
            out.push_str(": ");
            out.push_str(&msg);
        }
        next = s.source();
    }
    out
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
