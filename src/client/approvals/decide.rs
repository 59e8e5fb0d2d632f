//! `tvm approve` / `tvm deny`: one decision on one request, and the line
//! that tells its outcome.
//!
//! Invariants: the id is checked before it goes into the path
//! ([`super::api`]); what the server answers is shown only after
//! [`crate::client::checked::request`], through `printable`; a failure is one
//! line on stderr and exit 1.

use std::process::ExitCode;

use clap::Args;

use super::api::Decision;
use crate::client::commands::TvmArgs;
use crate::client::http::printable;

/// `tvm approve` / `tvm deny`.
#[derive(Debug, Args)]
pub struct DecideArgs {
    /// Which tvm, and whose credentials sign.
    #[command(flatten)]
    pub tvm: TvmArgs,
    /// The request id (16 hex characters, from `tvm requests`).
    pub id: String,
    /// A comment recorded with your decision.
    #[arg(long)]
    pub comment: Option<String>,
}

/// `tvm approve` / `tvm deny`: prints the outcome; exit 1 on failure.
pub async fn decide_command(args: DecideArgs, decision: Decision) -> ExitCode {
    let decided = async {
        let server = args.tvm.connect().await?;
        let creds = args.tvm.credentials().await?;
        server
            .decide(&creds, &args.id, decision, args.comment.as_deref())
            .await
    };
    match decided.await {
        Ok(r) => {
            println!(
                "Request {} for {} by {}: now {} ({} approval(s)).",
                printable(r.id.as_bytes()),
                printable(r.profile.as_bytes()),
                printable(r.requester.as_bytes()),
                printable(r.status.as_bytes()),
                r.approvals.len()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tvm {}: {e}", decision.verb());
            ExitCode::FAILURE
        }
    }
}
