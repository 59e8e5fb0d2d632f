//! Whether a role's inline policies deny a call made with one of its
//! sessions (DESIGN §13's simulator enforcement), as IAM evaluates the
//! subset [`super::document`] accepts.
//!
//! Invariants: a statement denies when every test of its `Condition` holds
//! (tests are AND-ed, a test's values OR-ed; no condition denies always); a
//! key the session does not carry (no SourceIdentity) makes its test false,
//! as IAM does for operators without `IfExists`; `StringEquals` and
//! `StringLike` are case-sensitive; `aws:TokenIssueTime` is the session's
//! issue time, written `YYYY-MM-DDTHH:MM:SSZ` for the string operators.

use jiff::Timestamp;

use super::document::{parse_time, Key, Operator, RolePolicy, Test};

/// What a session brings to the condition keys.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SessionFacts<'a> {
    /// `aws:SourceIdentity`.
    pub(crate) source_identity: Option<&'a str>,
    /// `aws:TokenIssueTime`.
    pub(crate) issued_at: Timestamp,
}

/// Whether any statement of any of `policies` denies a call with `facts`.
pub(crate) fn denies<'p>(
    mut policies: impl Iterator<Item = &'p RolePolicy>,
    facts: SessionFacts<'_>,
) -> bool {
    policies.any(|p| {
        p.statements
            .iter()
            .any(|s| s.tests.iter().all(|t| holds(t, facts)))
    })
}

fn holds(test: &Test, facts: SessionFacts<'_>) -> bool {
    let value = match test.key {
        Key::SourceIdentity => match facts.source_identity {
            Some(si) => si.to_owned(),
            None => return false,
        },
        Key::TokenIssueTime => facts.issued_at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
    };
    match test.operator {
        Operator::StringEquals => test.values.contains(&value),
        Operator::StringLike => test.values.iter().any(|v| glob(v, &value)),
        Operator::DateLessThan => {
            let Some(at) = parse_time(&value) else {
                return false;
            };
            test.values
                .iter()
                .filter_map(|v| parse_time(v))
                .any(|limit| at < limit)
        }
    }
}

/// IAM's `StringLike` glob: `*` matches any run (empty too), `?` exactly one
/// character; everything else literally. Linear in the text for each
/// pattern position reached (the classic backtrack-to-last-star walk).
pub(crate) fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || (p[pi] != '*' && p[pi] == t[ti])) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}
