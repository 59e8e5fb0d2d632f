//! What the §13 commands print: the sessions table, a revocation with its
//! per-role IAM status (and, for an admin, the document, the
//! `aws iam put-role-policy` command, AWS's fallback and the SCP statement),
//! the revocations table and a `/check` answer.
//!
//! Invariants: only checked values reach here ([`super::checked`]); free
//! text goes through [`visible`], JSON through [`ascii_json`]; a role name
//! goes into a shell command only when it has IAM's role-name grammar, and
//! the document only inside single quotes with every `'` escaped.

use std::fmt::Write as _;

use super::wire::{CheckAnswer, RevocationInfo, SessionInfo};
use crate::client::ascii_json;
use crate::client::visible::visible;

/// The sessions as a table (one line each, newest last).
pub fn session_table(list: &[SessionInfo]) -> String {
    if list.is_empty() {
        return "no sessions\n".to_owned();
    }
    let mut out = format!(
        "{:<20} {:<8} {:<24} {:<11} {:<20} {:<12} CALLER\n",
        "ID", "STATUS", "PROFILE", "KIND", "EXPIRES", "REQUEST"
    );
    for s in list {
        let _ = writeln!(
            out,
            "{:<20} {:<8} {:<24} {:<11} {:<20} {:<12} {}",
            s.id,
            s.status,
            s.profile,
            s.kind,
            s.expires_at,
            s.request_id,
            visible(&s.caller)
        );
    }
    out
}

/// The revocations as a table.
pub fn revocation_table(list: &[RevocationInfo]) -> String {
    if list.is_empty() {
        return "no revocations\n".to_owned();
    }
    let mut out = format!(
        "{:<16} {:<11} {:<20} {:<7} TARGET / REASON\n",
        "ID", "KIND", "CREATED", "STATE"
    );
    for r in list {
        let state = if r.lifted_at.is_some() {
            "lifted"
        } else {
            "active"
        };
        let _ = writeln!(
            out,
            "{:<16} {:<11} {:<20} {:<7} {} — {}",
            r.id.as_deref().unwrap_or("-"),
            r.kind,
            r.created_at.as_deref().unwrap_or("-"),
            state,
            target_text(r),
            visible(&r.reason)
        );
    }
    out
}

fn target_text(r: &RevocationInfo) -> String {
    r.target
        .iter()
        .map(|(k, v)| format!("{k} {}", visible(v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A role's name when its ARN is `arn:P:iam::A:role/[path/]NAME` and the
/// name has IAM's grammar (safe to put in a shell command).
fn role_name(arn: &str) -> Option<&str> {
    let rest = arn.split_once(":role/")?.1;
    let name = rest.rsplit('/').next()?;
    ((1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b)))
    .then_some(name)
}

/// `s` inside single quotes for a POSIX shell.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// One revocation, with everything an operator needs next.
pub fn revocation_text(r: &RevocationInfo, dry_run: bool) -> String {
    let mut out = String::new();
    let head = if dry_run {
        "would revoke"
    } else {
        "revocation"
    };
    let _ = writeln!(
        out,
        "{head} {} ({}) of {}",
        r.id.as_deref().unwrap_or("(dry run)"),
        r.kind,
        target_text(r)
    );
    if !r.by.is_empty() {
        let _ = writeln!(
            out,
            "  by {} at {}",
            visible(&r.by),
            r.created_at.as_deref().unwrap_or("-")
        );
    }
    if !r.reason.is_empty() {
        let _ = writeln!(out, "  reason: {}", visible(&r.reason));
    }
    if let Some(t) = &r.suspended_until {
        let _ = writeln!(out, "  suspended until {t}");
    }
    for (label, list) in [
        ("sessions revoked", &r.sessions),
        ("caller keys blocked", &r.blocked_caller_keys),
        (
            "grants this identity approved (not revoked)",
            &r.approved_grants,
        ),
    ] {
        if !list.is_empty() {
            let _ = writeln!(out, "  {label}: {}", list.join(", "));
        }
    }
    if let Some(at) = &r.lifted_at {
        let _ = writeln!(
            out,
            "  lifted at {at} by {}: {}",
            visible(r.lifted_by.as_deref().unwrap_or("-")),
            visible(r.lift_reason.as_deref().unwrap_or(""))
        );
    }
    for role in &r.roles {
        let _ = write!(out, "  role {}: {}", visible(&role.role_arn), role.status);
        match &role.error {
            Some(e) => {
                let _ = writeln!(out, " ({})", visible(e));
            }
            None => out.push('\n'),
        }
        if role.status == "failed" {
            let _ = writeln!(
                out,
                "    AWS's fallback: revoke every active session of this role (IAM console: \
                 Roles > {} > Revoke sessions), which also ends everyone else's sessions of it",
                role_name(&role.role_arn).unwrap_or("the role")
            );
        }
        if let Some(doc) = &role.policy {
            role_policy_text(&mut out, &role.role_arn, role.policy_name.as_deref(), doc);
        }
    }
    if let Some(m) = &r.message {
        let _ = writeln!(out, "  note: {}", visible(m));
    }
    out
}

/// The document of a role, the command to write it by hand, and the
/// equivalent SCP statement for sessions chained into other roles.
fn role_policy_text(out: &mut String, arn: &str, name: Option<&str>, doc: &serde_json::Value) {
    // A document sent as a JSON string is parsed, so it prints as JSON.
    let doc = match doc {
        serde_json::Value::String(s) => serde_json::from_str(s).unwrap_or_else(|_| doc.clone()),
        other => other.clone(),
    };
    let line = ascii_json::to_line(&doc).unwrap_or_default();
    let _ = writeln!(out, "    policy document: {line}");
    match (role_name(arn), name) {
        (Some(role), Some(policy)) => {
            let _ = writeln!(
                out,
                "    to write it by hand: aws iam put-role-policy --role-name {role} \
                 --policy-name {policy} --policy-document {}",
                shell_quote(&line)
            );
        }
        _ => {
            let _ = writeln!(
                out,
                "    to write it by hand: aws iam put-role-policy on this role with the policy \
                 name tvm-revocations-{{stamp prefix}}-{{deployment id}} and this document"
            );
        }
    }
    if let Some(statements) = doc.get("Statement") {
        let _ = writeln!(
            out,
            "    organization SCP statement for sessions chained into other roles (keep it \
             until CloudTrail shows no activity under these SourceIdentities): {}",
            ascii_json::to_line(statements).unwrap_or_default()
        );
    }
}

/// A `/check` answer.
pub fn check_text(c: &CheckAnswer) -> String {
    if c.roles.is_empty() {
        return "no roles to check\n".to_owned();
    }
    c.roles
        .iter()
        .map(|r| format!("{}: {}\n", visible(&r.role_arn), r.status))
        .collect()
}
