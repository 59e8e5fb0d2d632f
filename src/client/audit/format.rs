//! `tvm audit`'s values and output: an event as the server sends it, the
//! rule it must pass before it is printed, and its JSON line or CSV row.
//!
//! Invariants: an event is printed only after [`check_page`] accepted its
//! whole page (times RFC 3339; `Seq` positive and strictly increasing across
//! the whole export; `Event` a short `[a-z0-9._-]` name; profile, request id
//! and SourceIdentity empty or in their grammar; `Next` a short opaque
//! token of `[A-Za-z0-9_-]`, only on a non-empty page); a JSON line is
//! printable ASCII ([`ascii_json`]); a CSV cell holds no control, separator
//! or bidi character ([`visible`]), is prefixed with `'` when it starts with
//! `=`, `+`, `-` or `@` (so a spreadsheet never runs it as a formula), and
//! is quoted (RFC 4180) when it holds a comma or a quote.

use serde::{Deserialize, Serialize};

use crate::client::ascii_json;
use crate::client::checked::Refused;
use crate::client::revocation::checked::{is_stamp, is_vend_request_id};
use crate::client::visible::visible;
use crate::policy::check_profile_name;

/// The CSV header (DESIGN §13).
pub const CSV_HEADER: &str = "At,Seq,Event,Actor,Subject,Profile,SourceIdentity,RequestId,Detail";

/// Longest `Next` cursor accepted.
const MAX_CURSOR_LEN: usize = 512;

/// The characters that make a spreadsheet read a cell as a formula.
const FORMULA_STARTS: [char; 4] = ['=', '+', '-', '@'];

/// One event of `GET /audit`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct AuditEventInfo {
    /// RFC 3339.
    pub at: String,
    /// The backend's sequence.
    pub seq: i64,
    /// What happened.
    pub event: String,
    /// Who did it.
    pub actor: String,
    /// What it was done to.
    pub subject: String,
    /// The profile, or "".
    #[serde(default)]
    pub profile: String,
    /// The SourceIdentity, or "".
    #[serde(default)]
    pub source_identity: String,
    /// The HTTP request id, or "".
    #[serde(default)]
    pub request_id: String,
    /// Free text.
    #[serde(default)]
    pub detail: String,
}

/// One page of `GET /audit`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AuditPage {
    /// The events, in `Seq` order.
    pub events: Vec<AuditEventInfo>,
    /// The cursor of the next page, if any.
    #[serde(default)]
    pub next: Option<String>,
}

fn refuse(what: &str, value: &str, rule: &'static str) -> Refused {
    Refused {
        what: what.to_owned(),
        value: value.to_owned(),
        rule,
    }
}

/// Checks one page, given the last `Seq` printed (0 before the first).
pub fn check_page(page: &AuditPage, last_seq: i64) -> Result<(), Refused> {
    let mut last = last_seq;
    for e in &page.events {
        if e.seq <= last {
            return Err(refuse("Seq", &e.seq.to_string(), "positive and increasing"));
        }
        last = e.seq;
        if e.at.parse::<jiff::Timestamp>().is_err() {
            return Err(refuse("At", &e.at, "an RFC 3339 time"));
        }
        let name_ok = (1..=64).contains(&e.event.len())
            && e.event
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
        if !name_ok {
            return Err(refuse("Event", &e.event, "1 to 64 of [a-z0-9._-]"));
        }
        if !e.profile.is_empty() && check_profile_name(&e.profile).is_err() {
            return Err(refuse("Profile", &e.profile, "a profile name"));
        }
        if !e.source_identity.is_empty() && !is_stamp(&e.source_identity) {
            return Err(refuse(
                "SourceIdentity",
                &e.source_identity,
                "2 to 64 of [A-Za-z0-9_+=,.@-]",
            ));
        }
        if !e.request_id.is_empty() && !is_vend_request_id(&e.request_id) {
            return Err(refuse(
                "RequestId",
                &e.request_id,
                "12 lowercase hex characters",
            ));
        }
    }
    if let Some(n) = &page.next {
        let ok = (1..=MAX_CURSOR_LEN).contains(&n.len())
            && n.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !ok {
            return Err(refuse("Next", n, "up to 512 of [A-Za-z0-9_-]"));
        }
        if page.events.is_empty() {
            return Err(refuse("Next", n, "only after a page with events"));
        }
    }
    Ok(())
}

/// One CSV cell: shown escaped, formula-guarded, quoted when needed.
pub fn csv_cell(s: &str) -> String {
    let shown = visible(s);
    let guarded = if shown.starts_with(FORMULA_STARTS) {
        format!("'{shown}")
    } else {
        shown.into_owned()
    };
    if guarded.contains([',', '"']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

/// One event as a CSV row (no line end).
pub fn csv_row(e: &AuditEventInfo) -> String {
    [
        e.at.as_str(),
        &e.seq.to_string(),
        &e.event,
        &e.actor,
        &e.subject,
        &e.profile,
        &e.source_identity,
        &e.request_id,
        &e.detail,
    ]
    .iter()
    .map(|c| csv_cell(c))
    .collect::<Vec<_>>()
    .join(",")
}

/// One event as a JSON line (no line end).
pub fn json_line(e: &AuditEventInfo) -> String {
    ascii_json::to_line(e).unwrap_or_default()
}
