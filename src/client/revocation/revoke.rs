//! `tvm revoke`: end one session (by its vended key id, SourceIdentity,
//! RoleSessionName or request id), a grant (`--grant ID`), everything of a
//! leaked caller key (`--caller-key AKID`) or of a person (`--user NAME` |
//! `--principal ARN`, optionally `--suspend 24h`, `--dry-run`).
//!
//! Invariants: ARG is resolved to exactly one live session before anything
//! is revoked — a key id directly; a SourceIdentity, RoleSessionName or
//! request id by its request id (the last 12 hex) among the listed live
//! sessions, refused (409) when two share it; every session a revocation
//! names is dropped from the local credentials cache, so the next
//! `tvm credentials` vends afresh rather than serving a revoked session.

use std::collections::BTreeMap;
use std::process::ExitCode;

use clap::{ArgGroup, Args};

use super::api::NewRevocation;
use super::checked::{is_access_key_id, is_stamp, is_vend_request_id};
use super::show::revocation_text;
use super::wire::{RevocationInfo, SessionInfo};
use crate::client::cache;
use crate::client::commands::TvmArgs;
use crate::client::error::ClientError;
use crate::client::visible::escaped;
use crate::exit::EXIT_CONFIG;

/// `tvm revoke`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("what").required(true)
    .args(["session", "grant", "caller_key", "user", "principal"])))]
pub struct RevokeArgs {
    /// Which tvm, and whose credentials sign.
    #[command(flatten)]
    pub tvm: TvmArgs,
    /// The session: its vended ASIA… key id, its SourceIdentity or
    /// RoleSessionName, or its request id (12 hex).
    #[arg(value_name = "ARG")]
    pub session: Option<String>,
    /// End a grant (an approved request) and its live sessions.
    #[arg(long, value_name = "ID")]
    pub grant: Option<String>,
    /// A leaked caller key: revoke what was vended to it and block it (admins).
    #[arg(long, value_name = "AKID")]
    pub caller_key: Option<String>,
    /// A person, by username: suspend and revoke everything they hold (admins).
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    /// A person (or every session of a role), by ARN (admins).
    #[arg(long, value_name = "ARN")]
    pub principal: Option<String>,
    /// Suspend the person for this long (e.g. 24h, 7d); default: until lifted.
    #[arg(long, value_name = "DURATION")]
    pub suspend: Option<String>,
    /// Show what would match, change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Why (1 to 1,000 characters; kept in the audit trail).
    #[arg(long)]
    pub reason: String,
}

/// Why `tvm revoke` stopped before or after asking the server.
#[derive(Debug, thiserror::Error)]
enum RevokeError {
    /// A usage error (exit 64).
    #[error("{0}")]
    Usage(String),
    /// The server, or resolving ARG (exit 1).
    #[error(transparent)]
    Client(#[from] ClientError),
    /// ARG names no live session, or more than one (exit 1).
    #[error("{0}")]
    Resolve(String),
}

/// What ARG names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionRef {
    /// A vended access key id.
    Key(String),
    /// A request id (from a request id, SourceIdentity or RoleSessionName).
    Request(String),
}

/// Reads ARG: a key id, a request id, or a stamp ending in one.
pub fn parse_session_ref(arg: &str) -> Option<SessionRef> {
    if arg.starts_with("ASIA") && is_access_key_id(arg) {
        return Some(SessionRef::Key(arg.to_owned()));
    }
    if is_vend_request_id(arg) {
        return Some(SessionRef::Request(arg.to_owned()));
    }
    if !is_stamp(arg) {
        return None;
    }
    let (head, tail) = arg.split_at(arg.len().checked_sub(12)?);
    (is_vend_request_id(tail) && (head.ends_with('.') || head.ends_with('-')))
        .then(|| SessionRef::Request(tail.to_owned()))
}

/// The one live session of `list` with request id `rid`.
pub fn pick_live<'a>(
    list: &'a [SessionInfo],
    rid: &str,
) -> Result<Option<&'a SessionInfo>, String> {
    let live: Vec<&SessionInfo> = list
        .iter()
        .filter(|s| s.status == "live" && s.request_id == rid)
        .collect();
    match live.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one)),
        many => {
            Err(format!(
            "409 CONFLICT: {} live sessions share request id {rid}; revoke one by its key id: {}",
            many.len(),
            many.iter().map(|s| s.id.as_str()).collect::<Vec<_>>().join(", ")
        ))
        }
    }
}

/// Parses `24h`, `90m`, `7d`, `1h30m`.
pub fn parse_duration_seconds(s: &str) -> Option<u64> {
    let s = s.trim();
    if let Some(days) = s
        .strip_suffix('d')
        .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
    {
        return days
            .parse::<u64>()
            .ok()?
            .checked_mul(86_400)
            .filter(|&n| n > 0);
    }
    let d = s.parse::<jiff::SignedDuration>().ok()?;
    u64::try_from(d.as_secs()).ok().filter(|&n| n > 0)
}

/// Runs `tvm revoke`.
pub async fn revoke_command(args: RevokeArgs) -> ExitCode {
    match run(&args).await {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(RevokeError::Usage(m)) => {
            eprintln!("tvm revoke: {m}");
            ExitCode::from(EXIT_CONFIG)
        }
        Err(e) => {
            eprintln!("tvm revoke: {e}");
            ExitCode::FAILURE
        }
    }
}

fn person_target(args: &RevokeArgs) -> Option<(&'static str, String)> {
    if let Some(u) = &args.user {
        return Some(("User", u.clone()));
    }
    args.principal.clone().map(|p| ("Principal", p))
}

async fn run(args: &RevokeArgs) -> Result<String, RevokeError> {
    if args.reason.trim().is_empty() || args.reason.chars().count() > 1000 {
        return Err(RevokeError::Usage(
            "--reason must be 1 to 1,000 characters".into(),
        ));
    }
    let person = person_target(args);
    if args.suspend.is_some() && person.is_none() {
        return Err(RevokeError::Usage(
            "--suspend goes with --user or --principal".into(),
        ));
    }
    if args.dry_run && person.is_none() && args.caller_key.is_none() {
        return Err(RevokeError::Usage(
            "--dry-run goes with --user, --principal or --caller-key".into(),
        ));
    }
    let suspend_seconds = match &args.suspend {
        None => None,
        Some(s) => Some(parse_duration_seconds(s).ok_or_else(|| {
            RevokeError::Usage(format!(
                "--suspend {}: a duration like 24h, 90m or 7d",
                escaped(s)
            ))
        })?),
    };
    let session_ref = match &args.session {
        None => None,
        Some(a) => Some(parse_session_ref(a).ok_or_else(|| {
            RevokeError::Usage(format!(
                "{} is not a vended key id (ASIA…), a SourceIdentity, a RoleSessionName or a request id",
                escaped(a)
            ))
        })?),
    };
    let server = args.tvm.connect().await?;
    let creds = args.tvm.credentials().await?;
    let reason = args.reason.as_str();
    let revoked: RevocationInfo = if let Some(r) = session_ref {
        let id = match r {
            SessionRef::Key(k) => k,
            SessionRef::Request(rid) => {
                let own = server.sessions(&creds, false, None).await?;
                let found = match pick_live(&own, &rid).map_err(RevokeError::Resolve)? {
                    Some(s) => Some(s.id.clone()),
                    // Not one of yours: an admin may revoke anyone's (a
                    // non-admin is refused the listing: nothing more to find).
                    None => match server.sessions(&creds, true, None).await {
                        Ok(all) => pick_live(&all, &rid)
                            .map_err(RevokeError::Resolve)?
                            .map(|s| s.id.clone()),
                        Err(ClientError::Status {
                            status: 403 | 404, ..
                        }) => None,
                        Err(e) => return Err(e.into()),
                    },
                };
                found.ok_or_else(|| {
                    RevokeError::Resolve(format!("no live session has request id {rid}"))
                })?
            }
        };
        server.revoke_session(&creds, &id, reason).await?
    } else if let Some(g) = &args.grant {
        server.revoke_grant(&creds, g, reason).await?
    } else {
        let target: BTreeMap<&'static str, String> = match (&args.caller_key, person) {
            (Some(k), _) => {
                if !is_access_key_id(k) {
                    return Err(RevokeError::Usage(
                        "--caller-key is an access key id (AKIA… or ASIA…)".into(),
                    ));
                }
                [("CallerAccessKeyId", k.clone())].into()
            }
            (None, Some((kind, v))) => [(kind, v)].into(),
            (None, None) => return Err(RevokeError::Usage("nothing to revoke".into())),
        };
        let new = NewRevocation {
            target,
            reason: reason.to_owned(),
            suspend_seconds,
            dry_run: args.dry_run,
        };
        server.create_revocation(&creds, &new).await?
    };
    let mut text = revocation_text(&revoked, args.dry_run);
    if !args.dry_run {
        // The sessions it names, and the one it targets (even if the answer
        // did not list it again).
        let mut ids = revoked.sessions.clone();
        ids.extend(revoked.target.get("SessionId").cloned());
        ids.sort();
        ids.dedup();
        let dropped = drop_cached(&ids);
        if dropped > 0 {
            text.push_str(&format!(
                "  dropped {dropped} revoked session(s) from the local credentials cache\n"
            ));
        }
    }
    Ok(text)
}

/// Removes every cached `tvm credentials` entry holding one of `ids`.
pub fn drop_cached(ids: &[String]) -> usize {
    let Some(cache) = cache::default_dir().and_then(cache::Cache::open) else {
        return 0;
    };
    ids.iter().map(|id| cache.remove_access_key(id)).sum()
}
