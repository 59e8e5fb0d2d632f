//! `tvm policy check` and `tvm policy eval`: what an operator runs in CI before
//! deploying a policy. Output goes to stdout; errors to stderr with the key path
//! and, when known, line and column (the parser's, or for a semantic error the
//! place its key path names, found by `policy::locate`).
//!
//! Exit codes: `check` 0 valid / 64 invalid; `eval` 0 allow / 1 deny or invalid
//! duration / 64 bad input.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use jiff::Timestamp;

use crate::exit::EXIT_CONFIG;
use crate::identity::Identity;
use crate::policy::{Outcome, Policy, PolicyError, VendRequest};

/// `tvm policy ...`.
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Validate a policy file and print a summary.
    Check {
        /// The policy file.
        file: PathBuf,
    },
    /// Explain the decision for a principal and profile.
    Eval(EvalArgs),
}

/// Runs `tvm policy check` or `tvm policy eval`.
pub fn run(command: &PolicyCommand) -> ExitCode {
    match command {
        PolicyCommand::Check { file } => check(file),
        PolicyCommand::Eval(args) => eval(args),
    }
}

/// `tvm policy eval` arguments.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The policy file.
    pub file: PathBuf,
    /// The caller ARN as STS would return it, e.g.
    /// arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_x/alice@example.com
    #[arg(long)]
    pub principal: String,
    /// The requested profile.
    #[arg(long)]
    pub profile: String,
    /// Evaluate at this instant (RFC 3339, e.g. 2026-03-02T09:30:00Z); default now.
    #[arg(long)]
    pub at: Option<String>,
    /// The requested duration in seconds.
    #[arg(long)]
    pub duration: Option<u32>,
    /// Evaluate a vend under a grant (meets deny and require_approval rules;
    /// the grant itself lives in the server's database and is not checked).
    #[arg(long, conflicts_with = "reason")]
    pub approval_id: Option<String>,
    /// Evaluate a break-glass vend with this reason (meets deny and
    /// break_glass rules; the reason's length is checked against the rule).
    #[arg(long)]
    pub reason: Option<String>,
}

/// Reads and loads `file`; on error prints `file:line:column: message` (or
/// `file: message` when the place is unknown) and gives the exit code.
fn load(file: &Path) -> Result<Policy, ExitCode> {
    let fail = |e: PolicyError, text: Option<&str>| {
        match text.and_then(|t| e.location(t)) {
            Some((line, column)) => eprintln!("{}:{line}:{column}: {e}", file.display()),
            None => eprintln!("{}: {e}", file.display()),
        }
        ExitCode::from(EXIT_CONFIG)
    };
    let text = Policy::read_source(file).map_err(|e| fail(e, None))?;
    Policy::from_yaml(&text).map_err(|e| fail(e, Some(&text)))
}

/// `tvm policy check FILE`.
pub fn check(file: &Path) -> ExitCode {
    let policy = match load(file) {
        Ok(p) => p,
        Err(code) => return code,
    };
    println!("{}: valid", file.display());
    println!("profiles ({}):", policy.profiles().count());
    for p in policy.profiles() {
        println!(
            "  {:<24} {} (default {}s, max {}s)",
            p.name, p.role_arn, p.default_duration_seconds, p.max_duration_seconds
        );
    }
    println!(
        "rules ({}), first match wins, default deny:",
        policy.rules().len()
    );
    for (i, r) in policy.rules().iter().enumerate() {
        println!("  {i:>3}. {}", r.describe());
    }
    if let Some(a) = policy.admins() {
        println!("admins: {}", a.describe());
    }
    for (i, r) in policy.rules().iter().enumerate() {
        for w in r.warnings() {
            eprintln!("warning: rule {i} {:?} {w}", r.name());
        }
    }
    for w in policy.admin_warnings() {
        eprintln!("warning: {w}");
    }
    ExitCode::SUCCESS
}

/// `tvm policy eval FILE --principal ARN --profile P [--at T] [--duration S]`.
pub fn eval(args: &EvalArgs) -> ExitCode {
    let policy = match load(&args.file) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let identity = match Identity::from_arn(&args.principal) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("--principal: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let at = match args.at.as_deref().map(str::parse::<Timestamp>).transpose() {
        Ok(at) => at.unwrap_or_else(Timestamp::now),
        Err(e) => {
            eprintln!("--at: not an RFC 3339 instant: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let request = VendRequest {
        profile: &args.profile,
        duration_seconds: args.duration,
        kind: match (&args.approval_id, &args.reason) {
            (Some(_), _) => crate::policy::VendKind::Approval,
            (None, Some(_)) => crate::policy::VendKind::BreakGlass,
            (None, None) => crate::policy::VendKind::Plain,
        },
    };
    println!(
        "principal {} (canonical {}, user {:?}, account {}) at {at}",
        identity.arn(),
        identity.canonical_principal(),
        identity.username(),
        identity.account()
    );
    if request.kind != crate::policy::VendKind::Plain {
        println!("vend kind: {}", request.kind.as_str());
    }
    let explanation = policy.explain(&identity, &request, at);
    println!("{explanation}");
    let rule = explanation
        .decision
        .rule
        .as_ref()
        .and_then(|m| policy.rule(m.index));
    if let (Some(reason), Some(bg)) = (&args.reason, rule.and_then(|r| r.break_glass())) {
        if (crate::approvals::visible_len(reason) as u64) < u64::from(bg.reason_min_length) {
            println!(
                "the reason is shorter than the rule's reason_min_length ({}): 400 INVALID_REQUEST",
                bg.reason_min_length
            );
            return ExitCode::FAILURE;
        }
    }
    if let (Some(_), Some(a)) = (&args.approval_id, rule.and_then(|r| r.approval())) {
        println!(
            "allowed only under a live grant of this caller for this rule ({} approval(s), grant {}s)",
            a.approvals_needed, a.grant_duration_seconds
        );
    }
    match explanation.decision.outcome {
        Outcome::Allow(_) => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    }
}
