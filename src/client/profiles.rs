//! `tvm profiles` (what this caller may request, `GET /profiles`) and
//! `tvm configure` (`~/.aws/config` stanzas whose `credential_process` is
//! `tvm credentials`).
//!
//! Invariants: every stanza names the AWS profile the caller signs with
//! (`--aws-profile`), so that `AWS_PROFILE=tvm-x aws ...` cannot make
//! `tvm credentials` sign with the tvm stanza itself; profiles that cannot be
//! used non-interactively (break-glass) are shown as comments, not stanzas.

use std::process::ExitCode;

use bytes::Bytes;
use clap::Args;
use serde::Deserialize;

use super::commands::TvmArgs;
use super::token::Target;
use super::{ClientError, Server};

/// One entry of `GET /profiles`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProfileInfo {
    /// The profile name.
    pub name: String,
    /// The longest session it may have.
    pub max_duration_seconds: u32,
    /// The session length when none is asked.
    pub default_duration_seconds: u32,
    /// `direct`, `approval` or `break_glass`.
    pub kind: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ProfilesDoc {
    profiles: Vec<ProfileInfo>,
}

/// `tvm configure`.
#[derive(Debug, Args)]
pub struct ConfigureArgs {
    /// The server and your credentials.
    #[command(flatten)]
    pub common: TvmArgs,
    /// Prefix of the printed AWS profile names.
    #[arg(long, default_value = "tvm-")]
    pub prefix: String,
}

impl Server {
    /// `GET /profiles`: what the caller may request now.
    pub async fn profiles(
        &self,
        creds: &aws_credential_types::Credentials,
    ) -> Result<Vec<ProfileInfo>, ClientError> {
        let (status, body) = self.call(creds, &Target::profiles(), Bytes::new()).await?;
        if status != 200 {
            return Err(ClientError::Status {
                status,
                body: String::from_utf8_lossy(&body).into_owned(),
            });
        }
        serde_json::from_slice::<ProfilesDoc>(&body)
            .map(|d| d.profiles)
            .map_err(|e| ClientError::Decode(e.to_string()))
    }
}

async fn fetch(args: &TvmArgs) -> Result<(Server, Vec<ProfileInfo>), ClientError> {
    let server = args.connect().await?;
    let creds = args.credentials().await?;
    let profiles = server.profiles(&creds).await?;
    Ok((server, profiles))
}

/// Prints the profiles as a table; exit 1 on failure.
pub async fn profiles_command(args: TvmArgs) -> ExitCode {
    match fetch(&args).await {
        Ok((_, profiles)) => {
            println!(
                "{:<32} {:<12} {:>8} {:>8}",
                "PROFILE", "KIND", "DEFAULT", "MAX"
            );
            for p in profiles {
                println!(
                    "{:<32} {:<12} {:>7}s {:>7}s",
                    p.name, p.kind, p.default_duration_seconds, p.max_duration_seconds
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tvm profiles: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The `~/.aws/config` text for `profiles` at `url`, signing with `source`.
pub fn stanzas(url: &str, source: &str, prefix: &str, profiles: &[ProfileInfo]) -> String {
    let mut out = String::new();
    for p in profiles {
        let line = format!(
            "credential_process = tvm credentials --url {url} --profile {} --aws-profile {source}",
            p.name
        );
        match p.kind.as_str() {
            "break_glass" => out.push_str(&format!(
                "# {}: break-glass only; run `tvm credentials --url {url} --profile {} --reason \"...\"` by hand\n\n",
                p.name, p.name
            )),
            "approval" => out.push_str(&format!(
                "# {}: needs an approved request; add --approval-id ID to the line below\n[profile {prefix}{}]\n{line}\n\n",
                p.name, p.name
            )),
            _ => out.push_str(&format!("[profile {prefix}{}]\n{line}\n\n", p.name)),
        }
    }
    out
}

/// Prints `~/.aws/config` stanzas; exit 1 on failure.
pub async fn configure_command(args: ConfigureArgs) -> ExitCode {
    match fetch(&args.common).await {
        Ok((server, profiles)) => {
            let source = args
                .common
                .caller
                .profile()
                .map(str::to_owned)
                .or_else(|| std::env::var("AWS_PROFILE").ok().filter(|p| !p.is_empty()))
                .unwrap_or_else(|| "default".into());
            let url = server.base().to_owned();
            println!(
                "# Add to ~/.aws/config, then: AWS_PROFILE={}<name> aws sts get-caller-identity",
                args.prefix
            );
            print!("{}", stanzas(&url, &source, &args.prefix, &profiles));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tvm configure: {e}");
            ExitCode::FAILURE
        }
    }
}
