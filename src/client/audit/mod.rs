//! `tvm audit --since 24h [--until T] [--format json|csv]`: the audit
//! trail (DESIGN §13) as JSON lines or CSV, following `Next` to the end.
//!
//! - [`format`]: the event, its rule, its JSON line and CSV row.
//!
//! Invariants: each page is checked whole ([`format::check_page`]) before
//! any of it is printed, and `Seq` must keep increasing across pages, so a
//! server cannot loop the export or reorder it; the cursor goes back only
//! form-encoded; what one may read is the server's decision (one's own,
//! everyone's for admins) — the client never widens it.

pub mod format;
#[cfg(test)]
mod tests;

use std::io::Write as _;
use std::process::ExitCode;

use bytes::Bytes;
use clap::{Args, ValueEnum};

use self::format::{check_page, csv_row, json_line, AuditPage, CSV_HEADER};
use super::commands::TvmArgs;
use super::error::ClientError;
use super::http::printable;
use super::revocation::revoke::parse_duration_seconds;
use super::token::Target;
use super::visible::escaped;
use crate::exit::EXIT_CONFIG;

/// Events asked per page.
const PAGE_LIMIT: u32 = 500;

/// Largest page answer read (500 events with 1,000-character details fit).
const MAX_PAGE_BYTES: usize = 8 * 1024 * 1024;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    /// One JSON object per line (non-ASCII escaped).
    Json,
    /// CSV with a header row.
    Csv,
}

/// `tvm audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Which tvm, and whose credentials sign.
    #[command(flatten)]
    pub tvm: TvmArgs,
    /// From when: a time ago (24h, 7d, 90m) or a time (RFC 3339).
    #[arg(long, default_value = "24h")]
    pub since: String,
    /// Until when (exclusive): a time ago or a time; default now.
    #[arg(long)]
    pub until: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "json")]
    pub format: AuditFormat,
}

/// `s` as unix seconds: a time ago (`24h`) or an RFC 3339 time.
pub fn parse_when(s: &str, now: i64) -> Option<i64> {
    if let Ok(t) = s.trim().parse::<jiff::Timestamp>() {
        return Some(t.as_second());
    }
    let ago = i64::try_from(parse_duration_seconds(s)?).ok()?;
    now.checked_sub(ago)
}

/// Runs `tvm audit`.
pub async fn audit_command(args: AuditArgs) -> ExitCode {
    let now = jiff::Timestamp::now().as_second();
    let Some(since) = parse_when(&args.since, now) else {
        eprintln!(
            "tvm audit: --since {}: a time ago like 24h or an RFC 3339 time",
            escaped(&args.since)
        );
        return ExitCode::from(EXIT_CONFIG);
    };
    let until = match args.until.as_deref().map(|u| parse_when(u, now)) {
        None => None,
        Some(Some(u)) => Some(u),
        Some(None) => {
            eprintln!("tvm audit: --until: a time ago like 1h or an RFC 3339 time");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let mut out = std::io::stdout().lock();
    match run(&args, since, until, &mut out).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = out.flush();
            eprintln!("tvm audit: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Fetches every page and writes each, checked, to `out`.
pub async fn run(
    args: &AuditArgs,
    since: i64,
    until: Option<i64>,
    out: &mut dyn std::io::Write,
) -> Result<(), ClientError> {
    let server = args.tvm.connect().await?;
    let creds = args.tvm.credentials().await?;
    let target = Target::parse("GET /audit").map_err(|e| ClientError::Url(e.to_string()))?;
    let write_err = |e: std::io::Error| ClientError::Transport(format!("cannot write: {e}"));
    if args.format == AuditFormat::Csv {
        writeln!(out, "{CSV_HEADER}").map_err(write_err)?;
    }
    let mut cursor: Option<String> = None;
    let mut last_seq = 0;
    loop {
        let mut query = vec![
            ("since", since.to_string()),
            ("limit", PAGE_LIMIT.to_string()),
        ];
        if let Some(u) = until {
            query.push(("until", u.to_string()));
        }
        if let Some(c) = &cursor {
            query.push(("cursor", c.clone()));
        }
        let query =
            serde_urlencoded::to_string(&query).map_err(|e| ClientError::Url(e.to_string()))?;
        let (status, body) = server
            .call_limited(&creds, &target, &query, Bytes::new(), MAX_PAGE_BYTES)
            .await?;
        if status != 200 {
            return Err(ClientError::Status {
                status,
                body: printable(&body),
            });
        }
        let page: AuditPage =
            serde_json::from_slice(&body).map_err(|e| ClientError::Decode(e.to_string()))?;
        check_page(&page, last_seq)?;
        for e in &page.events {
            let line = match args.format {
                AuditFormat::Json => json_line(e),
                AuditFormat::Csv => csv_row(e),
            };
            writeln!(out, "{line}").map_err(write_err)?;
            last_seq = e.seq;
        }
        match page.next {
            Some(n) => cursor = Some(n),
            None => return out.flush().map_err(write_err),
        }
    }
}
