//! `tvm requests`: the pending requests this caller may approve or made
//! themselves, as a table.
//!
//! Invariants: the list is shown only after every entry passed
//! [`crate::client::checked::requests`]; every cell goes through
//! `printable`, and a reason is cut to `TABLE_REASON_CHARS` before it is
//! escaped, so an escape is never cut in half; a failure is one line on stderr
//! and exit 1.

use std::process::ExitCode;

use clap::Args;

use crate::client::commands::TvmArgs;
use crate::client::http::printable;
use crate::client::wire::RequestInfo;

/// Longest reason shown in the `tvm requests` table (the full text is in
/// `tvm ui` and the API).
const TABLE_REASON_CHARS: usize = 60;

/// `tvm requests`.
#[derive(Debug, Args)]
pub struct RequestsArgs {
    /// Which tvm, and whose credentials sign.
    #[command(flatten)]
    pub tvm: TvmArgs,
}

/// Prints the pending requests as a table; exit 1 on failure.
pub async fn requests_command(args: RequestsArgs) -> ExitCode {
    let listed = async {
        let server = args.tvm.connect().await?;
        let creds = args.tvm.credentials().await?;
        server.pending_requests(&creds).await
    };
    match listed.await {
        Ok(list) => {
            print!("{}", table(&list, jiff::Timestamp::now()));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tvm requests: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The `tvm requests` table (every cell made printable, the reason cut short).
pub fn table(list: &[RequestInfo], now: jiff::Timestamp) -> String {
    let mut out = format!(
        "{:<16}  {:<24}  {:>8}  {:>5}  {:>9}  {:<40}  REASON\n",
        "ID", "PROFILE", "DURATION", "AGE", "APPROVALS", "REQUESTER"
    );
    for r in list {
        // Cut, then escaped: an escape is never cut in half.
        let cut: String = r.reason.chars().take(TABLE_REASON_CHARS).collect();
        let mut reason = printable(cut.as_bytes());
        if r.reason.chars().count() > TABLE_REASON_CHARS {
            reason.push('…');
        }
        out.push_str(&format!(
            "{:<16}  {:<24}  {:>8}  {:>5}  {:>9}  {:<40}  {reason}\n",
            printable(r.id.as_bytes()),
            printable(r.profile.as_bytes()),
            r.duration_seconds
                .map(|d| format!("{d}s"))
                .unwrap_or_else(|| "-".into()),
            r.created_at
                .as_deref()
                .map(|t| age(t, now))
                .unwrap_or_else(|| "-".into()),
            r.approvals.len(),
            printable(r.requester.as_bytes()),
        ));
    }
    if list.is_empty() {
        out.push_str("(no pending requests you may approve or made yourself)\n");
    }
    out
}

/// `3m`, `2h`, `5d` since the RFC 3339 time `t`; `-` when unreadable.
pub fn age(t: &str, now: jiff::Timestamp) -> String {
    let Ok(then) = t.parse::<jiff::Timestamp>() else {
        return "-".into();
    };
    let secs = now.as_second().saturating_sub(then.as_second()).max(0);
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}
