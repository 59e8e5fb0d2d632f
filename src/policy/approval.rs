//! The parameters of the two §12 effects: `require_approval` (who approves,
//! how many, how long a grant lasts) and `break_glass` (how long a reason must
//! be, how long a session may last).
//!
//! Owns: [`ApprovalSpec`], [`Approvers`], [`BreakGlassSpec`], their load-time
//! validation, and the approver match.
//!
//! Invariants (enforced at load): approvers bind `principals` (a username is
//! chosen by whoever names a role session); `approvals_needed` is
//! 1..=[`MAX_APPROVALS_NEEDED`]; `grant_duration` is 15m..=12h (default 1h);
//! `reason_min_length` is 1..=[`MAX_REASON_CHARS`] (default
//! [`DEFAULT_REASON_MIN_LENGTH`]); a break-glass session is at most
//! [`MAX_BREAK_GLASS_SECONDS`]. Whether a caller is a *person* (IAM user or
//! Identity Center session) is decided at run time by the approvals service,
//! not here: a policy may list role principals, `tvm policy check` warns.

use super::duration::{format_seconds, parse_session_duration};
use super::glob::Glob;
use super::model::RawApprovers;
use super::patterns::{compile_principal, compile_user_pattern};
use super::profile::is_account_id;
use crate::identity::Identity;

/// Most distinct approvers a rule may require.
pub const MAX_APPROVALS_NEEDED: u32 = 10;

/// Default lifetime of a grant once approved (DESIGN §12: 1h).
pub const DEFAULT_GRANT_SECONDS: u32 = 3_600;

/// Default shortest break-glass reason (DESIGN §12: 20 characters).
pub const DEFAULT_REASON_MIN_LENGTH: u32 = 20;

/// Longest reason accepted anywhere (requests and break-glass), in characters.
pub const MAX_REASON_CHARS: u32 = 1_000;

/// Default and cap of a break-glass session (DESIGN §12: 1h): an emergency
/// session is short so that a new reason is given for a long incident.
pub const MAX_BREAK_GLASS_SECONDS: u32 = 3_600;

/// Who may approve requests under a rule.
#[derive(Debug, Clone)]
pub struct Approvers {
    accounts: Option<Vec<String>>,
    principals: Vec<Glob>,
    users: Option<Vec<Glob>>,
}

/// The `require_approval` parameters of a rule.
#[derive(Debug, Clone)]
pub struct ApprovalSpec {
    /// Who may approve.
    pub approvers: Approvers,
    /// Distinct approvers (people) needed.
    pub approvals_needed: u32,
    /// How long a grant stays usable after the last approval, in seconds.
    pub grant_duration_seconds: u32,
}

/// The `break_glass` parameters of a rule.
#[derive(Debug, Clone, Copy)]
pub struct BreakGlassSpec {
    /// Shortest reason accepted, in characters.
    pub reason_min_length: u32,
}

type CompileError = (String, String);

fn list<T, U>(
    key: &str,
    items: &Option<Vec<T>>,
    f: impl Fn(&T) -> Result<U, String>,
) -> Result<Option<Vec<U>>, CompileError> {
    let Some(items) = items else { return Ok(None) };
    if items.is_empty() {
        return Err((
            key.into(),
            format!("empty list (omit `{key}` to match any)"),
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, x)| f(x).map_err(|m| (format!("{key}[{i}]"), m)))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

impl Approvers {
    /// Compiles `approvers:`; `principals` is required.
    pub(crate) fn compile(raw: &RawApprovers) -> Result<Self, CompileError> {
        let accounts = list("accounts", &raw.accounts, |a| {
            if is_account_id(&a.0) {
                Ok(a.0.clone())
            } else {
                Err(format!("{:?} is not a 12-digit account id", a.0))
            }
        })?;
        let pins = accounts.is_some();
        let principals = list("principals", &raw.principals, |p| {
            compile_principal(p, pins, accounts.as_deref())
        })?
        .ok_or_else(|| {
            (
                "principals".to_owned(),
                "approvers must bind `principals` (a username alone is chosen by the caller)"
                    .to_owned(),
            )
        })?;
        let users = list("users", &raw.users, |u| compile_user_pattern(u))?;
        Ok(Self {
            accounts,
            principals,
            users,
        })
    }

    /// Whether `who` matches these approvers (every present condition).
    pub fn matches(&self, who: &Identity) -> bool {
        if let Some(a) = &self.accounts {
            if !a.iter().any(|a| a == who.account().as_str()) {
                return false;
            }
        }
        let (arn, canonical) = (who.arn().as_str(), who.canonical_principal());
        if !self
            .principals
            .iter()
            .any(|g| g.matches(arn) || g.matches(canonical))
        {
            return false;
        }
        match &self.users {
            Some(u) => u.iter().any(|g| g.matches(who.username())),
            None => true,
        }
    }

    /// The principal patterns as written.
    pub fn principal_patterns(&self) -> impl Iterator<Item = &str> {
        self.principals.iter().map(Glob::as_str)
    }

    /// One line for `tvm policy check`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(a) = &self.accounts {
            parts.push(format!("accounts [{}]", a.join(", ")));
        }
        let g = |g: &[Glob]| g.iter().map(Glob::as_str).collect::<Vec<_>>().join(", ");
        parts.push(format!("principals [{}]", g(&self.principals)));
        if let Some(u) = &self.users {
            parts.push(format!("users [{}]", g(u)));
        }
        parts.join(", ")
    }
}

impl ApprovalSpec {
    /// Compiles the `require_approval` keys of a rule.
    pub(crate) fn compile(
        approvers: Option<&RawApprovers>,
        needed: Option<u32>,
        grant: Option<&str>,
    ) -> Result<Self, CompileError> {
        let approvers = approvers.ok_or_else(|| {
            (
                "approvers".to_owned(),
                "a require_approval rule needs `approvers`".to_owned(),
            )
        })?;
        let approvers = Approvers::compile(approvers).map_err(|(k, m)| {
            (
                if k.is_empty() {
                    "approvers".into()
                } else {
                    format!("approvers.{k}")
                },
                m,
            )
        })?;
        let approvals_needed = needed.unwrap_or(1);
        if !(1..=MAX_APPROVALS_NEEDED).contains(&approvals_needed) {
            return Err((
                "approvals_needed".into(),
                format!("must be between 1 and {MAX_APPROVALS_NEEDED}"),
            ));
        }
        let grant_duration_seconds = match grant {
            None => DEFAULT_GRANT_SECONDS,
            Some(t) => parse_session_duration(t).map_err(|m| ("grant_duration".to_owned(), m))?,
        };
        Ok(Self {
            approvers,
            approvals_needed,
            grant_duration_seconds,
        })
    }

    /// One line for `tvm policy check`.
    pub fn describe(&self) -> String {
        format!(
            "approvers {{{}}}; approvals_needed {}; grant_duration {}",
            self.approvers.describe(),
            self.approvals_needed,
            format_seconds(self.grant_duration_seconds)
        )
    }
}

impl BreakGlassSpec {
    /// Compiles the `break_glass` keys of a rule.
    pub(crate) fn compile(min: Option<u32>) -> Result<Self, CompileError> {
        let reason_min_length = min.unwrap_or(DEFAULT_REASON_MIN_LENGTH);
        if !(1..=MAX_REASON_CHARS).contains(&reason_min_length) {
            return Err((
                "reason_min_length".into(),
                format!("must be between 1 and {MAX_REASON_CHARS}"),
            ));
        }
        Ok(Self { reason_min_length })
    }
}

/// Whether a principal pattern can match callers that are not people (a role
/// session other than an Identity Center one): such callers are refused at
/// run time, so `tvm policy check` warns.
pub(crate) fn pattern_admits_roles(pattern: &str) -> bool {
    let resource = pattern.splitn(6, ':').nth(5).unwrap_or_default();
    let lower = resource.to_ascii_lowercase();
    let role_name = if let Some(rest) = lower.strip_prefix("assumed-role/") {
        rest.split('/').next().unwrap_or_default()
    } else if let Some(rest) = lower.strip_prefix("role/") {
        rest.rsplit('/').next().unwrap_or_default()
    } else {
        return lower.starts_with('*');
    };
    !role_name.starts_with("awsreservedsso_")
}
