//! `tvm profiles` (what this caller may request, `GET /profiles`) and
//! `tvm configure` (`~/.aws/config` stanzas whose `credential_process` is
//! `tvm credentials`).
//!
//! Invariants: every stanza names the AWS profile the caller signs with
//! (`--aws-profile`), so that `AWS_PROFILE=tvm-x aws ...` cannot make
//! `tvm credentials` sign with the tvm stanza itself; profiles that cannot be
//! used non-interactively (break-glass) are shown as comments, not stanzas;
//! nothing of a `GET /profiles` answer is printed unless every entry passed
//! [`checked::profiles`] (names by the policy's own rule, `Kind` from its fixed
//! set), and the user's `--prefix` and signing profile are held to
//! [`stanza_safe`], so no value can add a line or a section to the config.

use std::process::ExitCode;

use bytes::Bytes;
use clap::Args;
use serde::Deserialize;

pub use super::wire::ProfileInfo;

use super::checked;
use super::commands::TvmArgs;
use super::error::ClientError;
use super::http::printable;
use super::server::Server;
use super::token::Target;

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
                body: printable(&body),
            });
        }
        let list = serde_json::from_slice::<ProfilesDoc>(&body)
            .map(|d| d.profiles)
            .map_err(|e| ClientError::Decode(e.to_string()))?;
        checked::profiles(&list)?;
        Ok(list)
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

/// Characters allowed in the parts of a stanza the user gives (`--prefix`,
/// the signing profile): nothing that ends a section header, starts a
/// comment, or splits the `credential_process` command line.
fn stanza_safe(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"._-@+=,/:".contains(&b))
}

/// The prefix and signing profile of the stanzas, each checked with [`stanza_safe`].
fn stanza_inputs(args: &ConfigureArgs) -> Result<(String, String), ClientError> {
    let source = args
        .common
        .caller
        .profile()
        .map(str::to_owned)
        .or_else(|| std::env::var("AWS_PROFILE").ok().filter(|p| !p.is_empty()))
        .unwrap_or_else(|| "default".into());
    for (what, v) in [("--prefix", &args.prefix), ("the AWS profile", &source)] {
        if !stanza_safe(v) {
            return Err(ClientError::Credentials(format!(
                "{what} {} cannot go into ~/.aws/config: use [A-Za-z0-9._-@+=,/:] only",
                super::visible::escaped(v)
            )));
        }
    }
    Ok((args.prefix.clone(), source))
}

/// Prints `~/.aws/config` stanzas; exit 1 on failure. Nothing is printed
/// unless every entry of the server's answer passed [`checked::profiles`].
pub async fn configure_command(args: ConfigureArgs) -> ExitCode {
    let fetched = match stanza_inputs(&args) {
        Ok(inputs) => fetch(&args.common).await.map(|f| (inputs, f)),
        Err(e) => Err(e),
    };
    match fetched {
        Ok(((prefix, source), (server, profiles))) => {
            let url = server.base().to_owned();
            println!(
                "# Add to ~/.aws/config, then: AWS_PROFILE={prefix}<name> aws sts get-caller-identity"
            );
            print!("{}", stanzas(&url, &source, &prefix, &profiles));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tvm configure: {e}");
            ExitCode::FAILURE
        }
    }
}
