//! `tvm ui`: signs the approver in to the web page (DESIGN §12). A browser
//! cannot sign SigV4, so this trades the caller's own token for a one-time
//! link (`POST /ui/login-links`), prints it as the last line of stdout and
//! opens it in a browser when one is available.
//!
//! Invariants: the link is printed and opened only when it is exactly
//! `{origin}/ui/login?code={32 hex}` for the origin the user called (or signed
//! for), so a hostile server cannot make this command open another site;
//! failing to open a browser never fails the command (the link is printed).

use std::process::{ExitCode, Stdio};

use bytes::Bytes;
use clap::Args;
use serde::{Deserialize, Serialize};

use super::checked::is_request_id;
use super::commands::TvmArgs;
use super::error::ClientError;
use super::http::printable;
use super::server::Server;
use super::token::Target;

/// `tvm ui`.
#[derive(Debug, Args)]
pub struct UiArgs {
    /// Which tvm, and whose credentials sign.
    #[command(flatten)]
    pub tvm: TvmArgs,
    /// Open this request's page after signing in (16 hex characters).
    #[arg(long)]
    pub request: Option<String>,
    /// Only print the link; do not start a browser.
    #[arg(long)]
    pub no_browser: bool,
}

#[derive(Serialize)]
struct LinkBody<'a> {
    next: &'a str,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LinkAnswer {
    url: String,
}

/// Length of a login code in hex (128 bits).
const CODE_HEX_LEN: usize = 32;

/// The page to land on: the list, or one request's page.
pub fn next_path(request: Option<&str>) -> Result<String, ClientError> {
    match request {
        None => Ok("/ui/".into()),
        Some(id) if is_request_id(id) => Ok(format!("/ui/requests/{id}")),
        Some(_) => Err(ClientError::Url(
            "--request takes a request id: 16 lowercase hex characters".into(),
        )),
    }
}

/// Whether `url` is a login link of one of `origins`: exactly
/// `{origin}/ui/login?code={32 lowercase hex}`.
pub fn is_login_link(url: &str, origins: &[&str]) -> bool {
    origins.iter().any(|o| {
        url.strip_prefix(o)
            .and_then(|rest| rest.strip_prefix("/ui/login?code="))
            .is_some_and(|code| {
                code.len() == CODE_HEX_LEN
                    && code.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
            })
    })
}

impl Server {
    /// `POST /ui/login-links`: a one-time sign-in link landing on `next`.
    pub async fn login_link(
        &self,
        creds: &aws_credential_types::Credentials,
        next: &str,
    ) -> Result<String, ClientError> {
        let target =
            Target::parse("POST /ui/login-links").map_err(|e| ClientError::Url(e.to_string()))?;
        let body = serde_json::to_vec(&LinkBody { next })
            .map_err(|e| ClientError::Decode(e.to_string()))?;
        let (status, resp) = self.call(creds, &target, Bytes::from(body)).await?;
        if status != 200 && status != 201 {
            return Err(ClientError::Status {
                status,
                body: printable(&resp),
            });
        }
        let url = serde_json::from_slice::<LinkAnswer>(&resp)
            .map_err(|e| ClientError::Decode(e.to_string()))?
            .url;
        if !is_login_link(&url, &[self.base(), self.audience().as_str()]) {
            return Err(ClientError::Decode(format!(
                "the sign-in link is not {}/ui/login?code=<32 hex>: {}",
                self.audience(),
                printable(url.as_bytes())
            )));
        }
        Ok(url)
    }
}

/// The program that opens a URL on this desktop, if there is one.
fn opener() -> Option<&'static str> {
    if cfg!(target_os = "macos") {
        return Some("open");
    }
    let set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
    (set("DISPLAY") || set("WAYLAND_DISPLAY")).then_some("xdg-open")
}

/// Starts a browser on `url`, best effort: no browser is not an error.
fn open_browser(url: &str) {
    let Some(program) = opener() else { return };
    let started = std::process::Command::new(program)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    if let Err(e) = started {
        eprintln!("tvm ui: could not start {program} ({e}); open the link yourself");
    }
}

/// Prints the sign-in link (last line of stdout) and opens it; exit 1 on failure.
pub async fn ui_command(args: UiArgs) -> ExitCode {
    let link = async {
        let next = next_path(args.request.as_deref())?;
        let server = args.tvm.connect().await?;
        let creds = args.tvm.credentials().await?;
        server.login_link(&creds, &next).await
    };
    match link.await {
        Ok(url) => {
            eprintln!("Sign-in link (one use, valid 60 seconds):");
            println!("{url}");
            if !args.no_browser {
                open_browser(&url);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tvm ui: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_links_to_the_origin_called_are_accepted() {
        let code = "0123456789abcdef0123456789abcdef";
        let o = ["https://tvm.example.com"];
        assert!(is_login_link(
            &format!("https://tvm.example.com/ui/login?code={code}"),
            &o
        ));
        for bad in [
            format!("https://evil.example.com/ui/login?code={code}"),
            format!("https://tvm.example.com.evil.com/ui/login?code={code}"),
            format!("https://tvm.example.com@evil.com/ui/login?code={code}"),
            format!("https://tvm.example.com/ui/login?code={code}&next=x"),
            format!("https://tvm.example.com/ui/login?code={}", &code[..31]),
            format!(
                "https://tvm.example.com/ui/login?code={}",
                code.to_uppercase()
            ),
            format!("https://tvm.example.com/elsewhere?code={code}"),
            "javascript:alert(1)".to_owned(),
        ] {
            assert!(!is_login_link(&bad, &o), "{bad}");
        }
    }

    #[test]
    fn next_is_the_list_or_a_checked_request_page() {
        assert_eq!(next_path(None).unwrap(), "/ui/");
        assert_eq!(
            next_path(Some("0123456789abcdef")).unwrap(),
            "/ui/requests/0123456789abcdef"
        );
        assert!(next_path(Some("../../evil")).is_err());
    }
}
