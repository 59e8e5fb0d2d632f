//! The derived inline policy of one role (DESIGN §13, "In AWS"): its name
//! `tvm-revocations-{prefix}-{deployment_id}`, its one `Deny` statement whose
//! Sid carries the deployment id, and the `aws:SourceIdentity` values — one
//! per revoked live session (`{prefix}.*.{request id}`), one per revoked
//! unexpired grant (`{prefix}.*.apr-{id[..8]}.????????????`).
//!
//! Invariants: [`derive`] is a pure function of the values and the time, so
//! every replica derives the same bytes and a re-write compares equal; values
//! are sorted and unique; an expired value is never written; no values means
//! no document (the policy is deleted); an incident's values (anything but a
//! self-service revocation) are always written, and a self-service
//! revocation's values only while the document stays under
//! [`SELF_SERVICE_SHARE_PERCENT`] of [`IAM_INLINE_LIMIT`] — all of one
//! revocation's values or none, the others being `skipped`.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::config::DeploymentId;
use crate::identity::{StampPrefix, MARKER_ID_HEX_LEN};

/// IAM's limit, in characters, for all of a role's inline policies together.
pub const IAM_INLINE_LIMIT: usize = 10_240;

/// Self-service revocations are written only while the document stays under
/// this share of [`IAM_INLINE_LIMIT`], so a flood of "I'm done" never crowds
/// out an incident's values (DESIGN §13).
pub const SELF_SERVICE_SHARE_PERCENT: usize = 60;

/// The first part of every deployment's Sid; a statement whose Sid starts so
/// but is not ours belongs to another deployment.
pub const SID_BASE: &str = "TvmRevokedSessions";

/// How a deployment names its policy and statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Naming {
    prefix: StampPrefix,
    deployment: DeploymentId,
}

impl Naming {
    /// The naming of `stamp.prefix` and `revocation.deployment_id`.
    pub fn new(prefix: StampPrefix, deployment: DeploymentId) -> Self {
        Self { prefix, deployment }
    }

    /// `tvm-revocations-{prefix}-{deployment_id}`.
    pub fn policy_name(&self) -> String {
        format!(
            "tvm-revocations-{}-{}",
            self.prefix.as_str(),
            self.deployment.as_str()
        )
    }

    /// `TvmRevokedSessions{DeploymentIdCamel}`: `prod-eu1` → `ProdEu1` (a Sid
    /// is alphanumeric).
    pub fn sid(&self) -> String {
        let mut sid = SID_BASE.to_owned();
        for part in self.deployment.as_str().split('-') {
            let mut chars = part.chars();
            if let Some(first) = chars.next() {
                sid.push(first.to_ascii_uppercase());
                sid.extend(chars);
            }
        }
        sid
    }

    /// The stamp prefix.
    pub fn prefix(&self) -> &StampPrefix {
        &self.prefix
    }

    /// The value denying every session of the grant `grant_id`, including
    /// one still in flight: `{prefix}.*.apr-{id[..8]}.????????????`.
    pub fn grant_pattern(&self, grant_id: &str) -> String {
        let short = grant_id.get(..MARKER_ID_HEX_LEN).unwrap_or(grant_id);
        format!("{}.*.apr-{short}.????????????", self.prefix.as_str())
    }
}

/// `{prefix}.*.{request id}` for one session: the prefix is taken from the
/// session's own SourceIdentity (it may predate a prefix change), else
/// `fallback`.
pub fn session_pattern(fallback: &StampPrefix, source_identity: &str, request_id: &str) -> String {
    let prefix = source_identity
        .split_once('.')
        .map(|(p, _)| p)
        .filter(|p| StampPrefix::parse(p).is_ok())
        .unwrap_or(fallback.as_str());
    format!("{prefix}.*.{request_id}")
}

/// One value a role must deny, with where it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DenyValue {
    /// The `aws:SourceIdentity` pattern.
    pub pattern: String,
    /// When the session (or grant) ends: the value is dropped then.
    pub expires_at: i64,
    /// The revocation that revoked it.
    pub revocation_id: String,
    /// When that revocation was made (self-service ones are admitted oldest
    /// first, so an admitted one is never pushed out by a newer one).
    pub revoked_at: i64,
    /// A `session` or `grant` revocation by its owner.
    pub self_service: bool,
}

/// What [`derive`] decided.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Derived {
    /// The policy document; `None`: the policy must not exist.
    pub document: Option<String>,
    /// The values written, sorted.
    pub values: Vec<String>,
    /// Revocations with a value written.
    pub written: BTreeSet<String>,
    /// Self-service revocations left out by the 60% rule.
    pub skipped: BTreeSet<String>,
    /// Revocations with values on this role, all expired.
    pub expired: BTreeSet<String>,
    /// The earliest end among the values written: the document changes then.
    pub next_expiry: Option<i64>,
}

#[derive(Serialize)]
struct Document<'a> {
    #[serde(rename = "Version")]
    version: &'static str,
    #[serde(rename = "Statement")]
    statement: [Statement<'a>; 1],
}

#[derive(Serialize)]
struct Statement<'a> {
    #[serde(rename = "Sid")]
    sid: &'a str,
    #[serde(rename = "Effect")]
    effect: &'static str,
    #[serde(rename = "Action")]
    action: &'static str,
    #[serde(rename = "Resource")]
    resource: &'static str,
    #[serde(rename = "Condition")]
    condition: Condition<'a>,
}

#[derive(Serialize)]
struct Condition<'a> {
    #[serde(rename = "StringLike")]
    string_like: SourceIdentityValues<'a>,
}

#[derive(Serialize)]
struct SourceIdentityValues<'a> {
    #[serde(rename = "aws:SourceIdentity")]
    values: &'a [String],
}

/// The compact JSON document with `values` (already sorted).
pub fn render(sid: &str, values: &[String]) -> String {
    serde_json::to_string(&Document {
        version: "2012-10-17",
        statement: [Statement {
            sid,
            effect: "Deny",
            action: "*",
            resource: "*",
            condition: Condition {
                string_like: SourceIdentityValues { values },
            },
        }],
    })
    .expect("a policy document always serialises")
}

/// The length [`render`] would give for `count` values whose lengths sum to
/// `chars` (values never need JSON escaping: `[\w+=,.@*?-]`).
fn rendered_len(sid: &str, count: usize, chars: usize) -> usize {
    render(sid, &[]).len() + chars + 2 * count + count.saturating_sub(1)
}

/// Derives the document of one role from its values at `now`.
pub fn derive(sid: &str, values: &[DenyValue], now: i64) -> Derived {
    let mut out = Derived::default();
    // pattern → latest end among the values that carry it.
    let mut incident: BTreeMap<&str, i64> = BTreeMap::new();
    // (revoked_at, revocation id) → its patterns and their ends.
    let mut own: BTreeMap<(i64, &str), Vec<(&str, i64)>> = BTreeMap::new();
    let mut live_revocations = BTreeSet::new();
    for v in values {
        if v.expires_at <= now {
            out.expired.insert(v.revocation_id.clone());
            continue;
        }
        live_revocations.insert(v.revocation_id.as_str());
        if v.self_service {
            own.entry((v.revoked_at, &v.revocation_id))
                .or_default()
                .push((&v.pattern, v.expires_at));
        } else {
            let end = incident.entry(&v.pattern).or_insert(v.expires_at);
            *end = (*end).max(v.expires_at);
            out.written.insert(v.revocation_id.clone());
        }
    }
    let budget = IAM_INLINE_LIMIT * SELF_SERVICE_SHARE_PERCENT / 100;
    let mut chosen = incident;
    let mut chars: usize = chosen.keys().map(|p| p.len()).sum();
    for ((_, id), patterns) in own {
        let new: BTreeSet<&str> = patterns
            .iter()
            .map(|(p, _)| *p)
            .filter(|p| !chosen.contains_key(p))
            .collect();
        let more: usize = new.iter().map(|p| p.len()).sum();
        if rendered_len(sid, chosen.len() + new.len(), chars + more) >= budget {
            out.skipped.insert(id.to_owned());
            continue;
        }
        chars += more;
        for (p, end) in patterns {
            let e = chosen.entry(p).or_insert(end);
            *e = (*e).max(end);
        }
        out.written.insert(id.to_owned());
    }
    out.expired
        .retain(|id| !live_revocations.contains(id.as_str()));
    out.next_expiry = chosen.values().copied().min();
    out.values = chosen.into_keys().map(str::to_owned).collect();
    if !out.values.is_empty() {
        out.document = Some(render(sid, &out.values));
    }
    out
}

/// The Sid of another deployment found in `existing` (a statement whose Sid
/// starts with [`SID_BASE`] and is not `ours`), if any.
pub fn foreign_sid(existing: &str, ours: &str) -> Option<String> {
    let doc: serde_json::Value = serde_json::from_str(existing).ok()?;
    let statements = match doc.get("Statement")? {
        serde_json::Value::Array(a) => a.clone(),
        one => vec![one.clone()],
    };
    statements.iter().find_map(|s| {
        let sid = s.get("Sid")?.as_str()?;
        (sid.starts_with(SID_BASE) && sid != ours).then(|| sid.to_owned())
    })
}

/// Whether two documents say the same (compared as JSON, so IAM's
/// formatting of a read-back document does not matter).
pub fn same_document(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<serde_json::Value>(a),
        serde_json::from_str::<serde_json::Value>(b),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}
