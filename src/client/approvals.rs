//! The approval commands of DESIGN §12: `tvm request [--wait]` (ask for a
//! profile that needs a second person), `tvm requests` (what is pending for
//! this caller), `tvm approve` and `tvm deny`.
//!
//! Invariants: every call carries a token minted for its own method and path
//! (an approve token is useless for a deny); a request id goes into a path only
//! after it was checked to be 16 lowercase hex, so no input can steer a token
//! to another route; every request object is held to its grammar
//! ([`checked::request`]: id, status, profile, times) before anything is
//! shown, and its free text (reasons, ARNs, comments) is printed through
//! [`printable`] ([`super::visible`]: control, separator and bidi characters
//! shown escaped); a failure is one line on stderr and exit 1; with
//! `--print-credentials` stdout carries nothing but the `credential_process`
//! JSON, so the command can sit behind `credential_process`.

use std::process::ExitCode;
use std::time::Duration;

use bytes::Bytes;
use clap::Args;
use serde::{Deserialize, Serialize};

use super::commands::{credential_process_json, credentials, CredentialsArgs, TvmArgs};
use super::http::printable;
use super::token::Target;
use super::{checked, ClientError, Server};

/// First pause between two polls of `tvm request --wait`.
const POLL_FIRST: Duration = Duration::from_secs(2);
/// Longest pause between two polls: an approval shows within this long, and a
/// waiting terminal costs the server one request per this period at most.
const POLL_MAX: Duration = Duration::from_secs(30);
/// Failed polls in a row (network down, server restarting) before giving up.
const POLL_MAX_FAILURES: u32 = 10;
/// Longest reason shown in the `tvm requests` table (the full text is in
/// `tvm ui` and the API).
const TABLE_REASON_CHARS: usize = 60;

/// Whether `id` is a request id (16 lowercase hex, DESIGN §12).
pub fn is_request_id(id: &str) -> bool {
    id.len() == 16 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn checked_id(id: &str) -> Result<&str, ClientError> {
    if is_request_id(id) {
        Ok(id)
    } else {
        Err(ClientError::Url(
            "a request id is 16 lowercase hex characters".into(),
        ))
    }
}

/// One approval of a request.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ApprovalInfo {
    /// The approver's STS ARN.
    pub approver: String,
    /// Their comment.
    #[serde(default)]
    pub comment: Option<String>,
    /// When (RFC 3339).
    #[serde(default)]
    pub at: Option<String>,
}

/// A request object (DESIGN §12); the create answer carries only some fields.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RequestInfo {
    /// 16 lowercase hex.
    pub id: String,
    /// `pending`, `approved`, `denied` or `expired`.
    pub status: String,
    /// The profile asked for.
    pub profile: String,
    /// The requester's STS ARN.
    pub requester: String,
    /// Why.
    #[serde(default)]
    pub reason: String,
    /// The session length asked for.
    #[serde(default)]
    pub duration_seconds: Option<u32>,
    /// When it was made.
    #[serde(default)]
    pub created_at: Option<String>,
    /// When a pending request expires.
    #[serde(default)]
    pub expires_at: Option<String>,
    /// Approvals so far.
    #[serde(default)]
    pub approvals: Vec<ApprovalInfo>,
    /// Until when an approved request's grant may be used.
    #[serde(default)]
    pub grant_expires_at: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RequestList {
    requests: Vec<RequestInfo>,
}

#[derive(Serialize)]
struct CreateBody<'a> {
    profile: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration_seconds: Option<u32>,
    reason: &'a str,
}

#[derive(Serialize)]
struct DecideBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<&'a str>,
}

/// Approve or deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// `POST /requests/{id}/approve`.
    Approve,
    /// `POST /requests/{id}/deny`.
    Deny,
}

impl Decision {
    fn verb(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Deny => "deny",
        }
    }
}

fn decode<T: for<'de> Deserialize<'de>>(
    (status, body): (u16, Bytes),
    ok: u16,
) -> Result<T, ClientError> {
    if status != ok {
        return Err(ClientError::Status {
            status,
            body: printable(&body),
        });
    }
    serde_json::from_slice(&body).map_err(|e| ClientError::Decode(e.to_string()))
}

fn target(text: &str) -> Result<Target, ClientError> {
    Target::parse(text).map_err(|e| ClientError::Url(e.to_string()))
}

impl Server {
    /// `POST /requests`.
    pub async fn create_request(
        &self,
        creds: &aws_credential_types::Credentials,
        profile: &str,
        duration_seconds: Option<u32>,
        reason: &str,
    ) -> Result<RequestInfo, ClientError> {
        let body = serde_json::to_vec(&CreateBody {
            profile,
            duration_seconds,
            reason,
        })
        .map_err(|e| ClientError::Decode(e.to_string()))?;
        let answer = self
            .call(creds, &target("POST /requests")?, Bytes::from(body))
            .await?;
        let r: RequestInfo = decode(answer, 201)?;
        checked::request(&r)?;
        Ok(r)
    }

    /// `GET /requests?status=pending`: what this caller may approve, and
    /// their own.
    pub async fn pending_requests(
        &self,
        creds: &aws_credential_types::Credentials,
    ) -> Result<Vec<RequestInfo>, ClientError> {
        let answer = self
            .call_with_query(
                creds,
                &target("GET /requests")?,
                "status=pending",
                Bytes::new(),
            )
            .await?;
        let list = decode::<RequestList>(answer, 200)?.requests;
        checked::requests(&list)?;
        Ok(list)
    }

    /// `GET /requests/{id}`.
    pub async fn request(
        &self,
        creds: &aws_credential_types::Credentials,
        id: &str,
    ) -> Result<RequestInfo, ClientError> {
        let t = target(&format!("GET /requests/{}", checked_id(id)?))?;
        let r: RequestInfo = decode(self.call(creds, &t, Bytes::new()).await?, 200)?;
        checked::request(&r)?;
        Ok(r)
    }

    /// `POST /requests/{id}/approve` or `/deny`.
    pub async fn decide(
        &self,
        creds: &aws_credential_types::Credentials,
        id: &str,
        decision: Decision,
        comment: Option<&str>,
    ) -> Result<RequestInfo, ClientError> {
        let t = target(&format!(
            "POST /requests/{}/{}",
            checked_id(id)?,
            decision.verb()
        ))?;
        let body = serde_json::to_vec(&DecideBody { comment })
            .map_err(|e| ClientError::Decode(e.to_string()))?;
        let r: RequestInfo = decode(self.call(creds, &t, Bytes::from(body)).await?, 200)?;
        checked::request(&r)?;
        Ok(r)
    }
}

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

/// `tvm requests`.
#[derive(Debug, Args)]
pub struct RequestsArgs {
    /// Which tvm, and whose credentials sign.
    #[command(flatten)]
    pub tvm: TvmArgs,
}

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
                    vend: super::commands::VendArgs {
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

/// The pause after `pause`: ×1.5 up to [`POLL_MAX`].
fn next_pause(pause: Duration) -> Duration {
    (pause + pause / 2).min(POLL_MAX)
}

/// One line on a finished request: its status, who decided and their comment.
fn describe_outcome(r: &RequestInfo) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_16_lowercase_hex_before_they_reach_a_path() {
        assert!(is_request_id("0123456789abcdef"));
        for bad in [
            "",
            "0123456789ABCDEF",
            "0123456789abcde",
            "0123456789abcdef0",
            "../../vend/abcde",
            "0123456789abcde/",
            "0123456789abcdeg",
        ] {
            assert!(!is_request_id(bad), "{bad:?}");
            assert!(checked_id(bad).is_err());
        }
    }

    #[test]
    fn polls_slow_down_to_a_cap() {
        let mut p = POLL_FIRST;
        let mut seen = vec![p];
        for _ in 0..12 {
            p = next_pause(p);
            seen.push(p);
        }
        assert!(seen.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(*seen.last().unwrap(), POLL_MAX);
    }

    fn sample(reason: &str) -> RequestInfo {
        serde_json::from_value(serde_json::json!({
            "Id": "0123456789abcdef", "Status": "pending", "Profile": "prod-admin",
            "Requester": "arn:aws:iam::111122223333:user/alice", "Reason": reason,
            "DurationSeconds": 900, "CreatedAt": "2026-01-01T10:00:00Z",
            "ExpiresAt": "2026-01-02T10:00:00Z",
            "Approvals": [{"Approver": "arn:aws:iam::111122223333:user/bob", "Comment": "ok\u{1b}[2J", "At": "2026-01-01T10:01:00Z"}],
            "GrantExpiresAt": null
        }))
        .unwrap()
    }

    #[test]
    fn the_table_shows_server_text_without_control_characters() {
        let now: jiff::Timestamp = "2026-01-01T12:30:00Z".parse().unwrap();
        let r = sample(&format!("fix\u{1b}]52;c;x\u{7} prod {}", "x".repeat(100)));
        let t = table(std::slice::from_ref(&r), now);
        assert!(!t.chars().any(|c| c.is_control() && c != '\n'), "{t:?}");
        assert!(t.contains("0123456789abcdef"), "{t}");
        assert!(t.contains(" 2h "), "{t}");
        assert!(t.contains("900s"), "{t}");
        assert!(t.contains('…'), "{t}");
        let line = describe_outcome(&r);
        assert!(!line.chars().any(char::is_control), "{line:?}");
        assert!(line.contains("user/bob (ok\\u{1b}[2J)"), "{line}");
        assert!(table(&[], now).contains("no pending requests"));
    }

    #[test]
    fn ages_read_at_a_glance() {
        let now: jiff::Timestamp = "2026-01-03T00:00:00Z".parse().unwrap();
        assert_eq!(age("2026-01-02T23:59:30Z", now), "30s");
        assert_eq!(age("2026-01-02T23:30:00Z", now), "30m");
        assert_eq!(age("2026-01-02T20:00:00Z", now), "4h");
        assert_eq!(age("2026-01-01T00:00:00Z", now), "2d");
        assert_eq!(age("not a time", now), "-");
        assert_eq!(age("2026-01-04T00:00:00Z", now), "0s");
    }
}
