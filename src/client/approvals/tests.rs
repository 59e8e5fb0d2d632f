//! Tests of the approval commands: request ids before they reach a path, the
//! polling pace, and server text in the table and the outcome line.

use super::api::checked_id;
use super::listing::{age, table};
use super::request::{describe_outcome, next_pause, POLL_FIRST, POLL_MAX};
use super::{is_request_id, RequestInfo};

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
