//! `tvm audit`'s rules and output: the page check, the CSV formula guard
//! and quoting, JSON lines, and the time arguments.

use super::format::{check_page, csv_cell, csv_row, json_line, AuditEventInfo, AuditPage};
use super::parse_when;

fn event(seq: i64, detail: &str) -> AuditEventInfo {
    AuditEventInfo {
        at: "2026-01-01T10:00:00Z".into(),
        seq,
        event: "created".into(),
        actor: "arn:aws:iam::111122223333:user/alice".into(),
        subject: "0123456789abcdef".into(),
        profile: "prod-admin".into(),
        source_identity: String::new(),
        request_id: "a2d43d42a691".into(),
        detail: detail.into(),
    }
}

fn page(events: Vec<AuditEventInfo>, next: Option<&str>) -> AuditPage {
    AuditPage {
        events,
        next: next.map(Into::into),
    }
}

#[test]
fn a_page_must_keep_seq_increasing_and_its_values_in_grammar() {
    check_page(&page(vec![event(3, "x"), event(4, "y")], Some("dHZt")), 2).unwrap();
    assert!(
        check_page(&page(vec![event(3, "x")], None), 3).is_err(),
        "replayed seq"
    );
    assert!(check_page(&page(vec![event(4, "x"), event(4, "y")], None), 0).is_err());
    assert!(
        check_page(&page(vec![], Some("dHZt")), 0).is_err(),
        "a loop"
    );
    assert!(check_page(&page(vec![event(1, "x")], Some("a&limit=1000000")), 0).is_err());
    let mut e = event(1, "x");
    e.event = "created\u{1b}[2J".into();
    assert!(check_page(&page(vec![e], None), 0).is_err());
    let mut e = event(1, "x");
    e.request_id = "../../x".into();
    assert!(check_page(&page(vec![e], None), 0).is_err());
    let mut e = event(1, "x");
    e.at = "yesterday".into();
    assert!(check_page(&page(vec![e], None), 0).is_err());
}

#[test]
fn csv_cells_are_guarded_against_formulas_quoted_and_on_one_line() {
    for (raw, cell) in [
        (
            "=HYPERLINK(\"http://x\")",
            "\"'=HYPERLINK(\"\"http://x\"\")\"",
        ),
        ("+1", "'+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("a,b", "\"a,b\""),
        ("plain", "plain"),
        ("line\nbreak\r\u{1b}[2J", "line\\nbreak\\r\\u{1b}[2J"),
        ("\u{202e}=x", "\\u{202e}=x"),
    ] {
        assert_eq!(csv_cell(raw), cell, "{raw:?}");
    }
    let row = csv_row(&event(7, "=cmd|' /C calc'!A0"));
    assert!(row.starts_with("2026-01-01T10:00:00Z,7,created,"), "{row}");
    assert!(row.ends_with(",'=cmd|' /C calc'!A0"), "{row}");
}

#[test]
fn json_lines_are_printable_ascii_and_read_back_exactly() {
    let e = event(1, "bidi\u{202e} and \u{1b}[2J");
    let line = json_line(&e);
    assert!(line.bytes().all(|b| (0x20..0x7f).contains(&b)), "{line}");
    let back: AuditEventInfo = serde_json::from_str(&line).unwrap();
    assert_eq!(back, e);
}

#[test]
fn since_and_until_are_times_ago_or_rfc3339() {
    let now = 1_800_000_000;
    assert_eq!(parse_when("24h", now), Some(now - 86_400));
    assert_eq!(parse_when("7d", now), Some(now - 7 * 86_400));
    assert_eq!(parse_when("2026-01-02T03:04:05Z", now), Some(1_767_323_045));
    assert_eq!(parse_when("yesterday", now), None);
}
