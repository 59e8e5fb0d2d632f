//! `tvm request [--wait]`: asks for a profile that needs a second person,
//! then (with `--wait`) polls until the request is decided or expires, and
//! (with `--print-credentials`) vends under the grant.
//!
//! Invariants: the id the server gives back is checked before it is shown or
//! goes into a path; polls slow down to `POLL_MAX` and a transient failure
//! is retried at most `POLL_MAX_FAILURES` times in a row, while an answer
//! that will not change ends the wait; the outcome's free text is shown only
//! through `printable`; exit 0 only when approved (or, without `--wait`,
//! created); with `--print-credentials` stdout carries nothing but the
//! `credential_process` JSON, so the command can sit behind
//! `credential_process`.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use super::api::checked_id;
use crate::client::commands::{
    credential_process_json, credentials, CredentialsArgs, TvmArgs, VendArgs,
};
use crate::client::error::ClientError;
use crate::client::http::printable;
use crate::client::server::Server;
use crate::client::wire::RequestInfo;

/// First pause between two polls of `tvm request --wait`.
pub(super) const POLL_FIRST: Duration = Duration::from_secs(2);
/// Longest pause between two polls: an approval shows within this long, and a
/// waiting terminal costs the server one request per this period at most.
pub(super) const POLL_MAX: Duration = Duration::from_secs(30);
/// Failed polls in a row (network down, server restarting) before giving up.
const POLL_MAX_FAILURES: u32 = 10;

/// `tvm request`.
#[derive(Debug, Args)]
pub struct RequestArgs {
    /// Which tvm, and whose credentials sign.
    #[command(flatten)]
    pub tvm: TvmArgs,
    /// The profile that needs an approval.
    #[arg(long)]
    pub profile: String,
    /// Why you need it (1 to 1,000 characters; approvers read it).
    #[arg(long)]
    pub reason: String,
    /// Session length in seconds you ask for (default: the profile's); a vend
    /// under the grant may not exceed it.
    #[arg(long)]
    pub duration: Option<u32>,
    /// Wait until the request is approved, denied or expired (exit 0 only
    /// when approved).
    #[arg(long)]
    pub wait: bool,
    /// With --wait: once approved, vend under the grant and print
    /// `credential_process` JSON on stdout (instead of the request id).
    #[arg(long, requires = "wait")]
    pub print_credentials: bool,
}

/// Prints `tvm request`'s outcome; exit 1 unless approved (or, without
/// `--wait`, created).
pub async fn request_command(args: RequestArgs) -> ExitCode {
    match request_inner(&args).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("tvm request: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn request_inner(args: &RequestArgs) -> Result<ExitCode, ClientError> {
    let server = args.tvm.connect().await?;
    let creds = args.tvm.credentials().await?;
    let created = server
        .create_request(&creds, &args.profile, args.duration, &args.reason)
        .await?;
    let id = checked_id(&created.id)?.to_owned();
    let base = server.base();
    eprintln!(
        "Request {id} for {} is pending{}. An approver runs:\n  tvm approve --url {base} {id}\n\
         or opens {base}/ui/requests/{id} (after `tvm ui --url {base}`).",
        printable(created.profile.as_bytes()),
        created
            .expires_at
            .as_deref()
            .map(|t| format!(" until {}", printable(t.as_bytes())))
            .unwrap_or_default(),
    );
    if !args.print_credentials {
        println!("{id}");
    }
    if !args.wait {
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("Waiting for a decision (Ctrl-C stops waiting; the request stays pending)...");
    let done = wait_for_decision(&args.tvm, &server, &id).await?;
    match done.status.as_str() {
        "approved" => {
            eprintln!("{}", describe_outcome(&done));
            if args.print_credentials {
                let vended = credentials(&CredentialsArgs {
                    tvm: args.tvm.clone(),
                    vend: VendArgs {
                        profile: args.profile.clone(),
                        duration: args.duration,
                        approval_id: Some(id),
                        reason: None,
                    },
                    no_cache: false,
                })
                .await?;
                println!("{}", credential_process_json(&vended)?);
            } else {
                eprintln!(
                    "Vend under it with:\n  tvm credentials --url {base} --profile {} --approval-id {id}",
                    printable(args.profile.as_bytes())
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        _ => {
            eprintln!("tvm request: {}", describe_outcome(&done));
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Polls `GET /requests/{id}` with growing pauses until it is no longer
/// pending. Each poll loads the caller's credentials afresh (an SSO session
/// may be refreshed while waiting).
async fn wait_for_decision(
    tvm: &TvmArgs,
    server: &Server,
    id: &str,
) -> Result<RequestInfo, ClientError> {
    let mut pause = POLL_FIRST;
    let mut failures = 0u32;
    loop {
        tokio::time::sleep(pause).await;
        pause = next_pause(pause);
        let polled = match tvm.credentials().await {
            Ok(creds) => server.request(&creds, id).await,
            Err(e) => Err(e),
        };
        match polled {
            Ok(r) if r.status == "pending" => failures = 0,
            Ok(r) => return Ok(r),
            // A transient failure (network, restart) is retried; an answer
            // that will not change (403, 404, 401) ends the wait.
            Err(ClientError::Transport(e)) if failures + 1 < POLL_MAX_FAILURES => {
                failures += 1;
                eprintln!("tvm request: polling failed ({e}); trying again");
            }
            Err(ClientError::Status { status, .. })
                if status >= 500 && failures + 1 < POLL_MAX_FAILURES =>
            {
                failures += 1;
                eprintln!("tvm request: polling answered {status}; trying again");
            }
            Err(e) => return Err(e),
        }
    }
}

/// The pause after `pause`: ×1.5 up to `POLL_MAX`.
pub(super) fn next_pause(pause: Duration) -> Duration {
    (pause + pause / 2).min(POLL_MAX)
}

/// One line on a finished request: its status, who decided and their comment.
pub(super) fn describe_outcome(r: &RequestInfo) -> String {
    let mut s = format!(
        "request {} was {}",
        printable(r.id.as_bytes()),
        printable(r.status.as_bytes())
    );
    let deciders: Vec<String> = r
        .approvals
        .iter()
        .map(|a| match a.comment.as_deref().filter(|c| !c.is_empty()) {
            Some(c) => format!(
                "{} ({})",
                printable(a.approver.as_bytes()),
                printable(c.as_bytes())
            ),
            None => printable(a.approver.as_bytes()),
        })
        .collect();
    if !deciders.is_empty() {
        s.push_str(&format!(" by {}", deciders.join(", ")));
    }
    if let Some(until) = &r.grant_expires_at {
        s.push_str(&format!(
            "; the grant lasts until {}",
            printable(until.as_bytes())
        ));
    }
    s
}
