//! `tvm console --url U --profile P`: vends, then trades the credentials for
//! an AWS console sign-in URL at the federation endpoint (`getSigninToken`),
//! prints it and opens a browser when one is available.
//!
//! Invariants: the session credentials go only to the federation endpoint,
//! over TLS (plain HTTP to loopback only, for tests); the printed URL is the
//! one secret this command shows, on stdout, as asked; console vends are
//! never cached.

use std::process::ExitCode;

use bytes::Bytes;
use clap::Args;

use super::commands::TvmArgs;
use super::error::ClientError;
use super::http::{self, check_base_url};
use crate::auth::sigv4_encode;

/// The AWS federation endpoint (commercial partition).
pub const DEFAULT_FEDERATION_ENDPOINT: &str = "https://signin.aws.amazon.com";

/// `tvm console`.
#[derive(Debug, Args)]
pub struct ConsoleArgs {
    /// Which tvm, and whose credentials sign.
    #[command(flatten)]
    pub tvm: TvmArgs,
    /// The profile to vend.
    #[arg(long)]
    pub profile: String,
    /// Session length in seconds (default: the profile's).
    #[arg(long)]
    pub duration: Option<u32>,
    /// The federation endpoint (another partition's, or a fake in tests).
    #[arg(long, default_value = DEFAULT_FEDERATION_ENDPOINT)]
    pub federation_endpoint: String,
    /// Where the console opens.
    #[arg(long, default_value = "https://console.aws.amazon.com/")]
    pub destination: String,
    /// Print the URL only; do not open a browser.
    #[arg(long)]
    pub no_browser: bool,
}

/// Prints (and opens) a console sign-in URL; exit 1 on failure.
pub async fn console_command(args: ConsoleArgs) -> ExitCode {
    match sign_in_url(&args).await {
        Ok(url) => {
            println!("{url}");
            if !args.no_browser {
                open_browser(&url);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tvm console: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn sign_in_url(args: &ConsoleArgs) -> Result<String, ClientError> {
    let federation = check_base_url(&args.federation_endpoint)?;
    let server = args.tvm.connect().await?;
    let creds = args.tvm.credentials().await?;
    let v = server.vend(&creds, &args.profile, args.duration).await?;
    let session = serde_json::json!({
        "sessionId": v.access_key_id,
        "sessionKey": v.secret_access_key,
        "sessionToken": v.token,
    })
    .to_string();
    let resp = http::send(
        ::http::Method::GET,
        &format!(
            "{federation}/federation?Action=getSigninToken&Session={}",
            sigv4_encode(&session)
        ),
        &[],
        Bytes::new(),
    )
    .await?;
    if resp.status != 200 {
        // The federation endpoint's body is not tvm's; show only the status.
        return Err(ClientError::Decode(format!(
            "the federation endpoint answered {}",
            resp.status
        )));
    }
    #[derive(serde::Deserialize)]
    struct SigninToken {
        #[serde(rename = "SigninToken")]
        signin_token: String,
    }
    let token: SigninToken = serde_json::from_slice(&resp.body)
        .map_err(|e| ClientError::Decode(format!("federation endpoint: {e}")))?;
    Ok(format!(
        "{federation}/federation?Action=login&Issuer=tvm&Destination={}&SigninToken={}",
        sigv4_encode(&args.destination),
        sigv4_encode(&token.signin_token)
    ))
}

/// Opens `url` with the desktop's opener, when there is a desktop; failures
/// are ignored (the URL is printed anyway).
fn open_browser(url: &str) {
    let opener = if cfg!(target_os = "macos") {
        Some("open")
    } else if std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some()
    {
        Some("xdg-open")
    } else {
        None
    };
    if let Some(cmd) = opener {
        let _ = std::process::Command::new(cmd)
            .arg(url)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
    }
}
