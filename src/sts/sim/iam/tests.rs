//! The document subset, the size count and the deny evaluation, as pure
//! functions (the HTTP side is in `sim/tests/iam.rs`).

use jiff::Timestamp;

use super::deny::{denies, glob, SessionFacts};
use super::document::{parse, policy_size};

fn deny_doc(condition: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"TvmRevokedSessionsProd","Effect":"Deny","Action":"*","Resource":"*","Condition":{condition}}}]}}"#
    )
}

fn facts(si: Option<&str>, issued: &str) -> SessionFacts<'static> {
    SessionFacts {
        source_identity: si.map(|s| Box::leak(s.to_owned().into_boxed_str()) as &str),
        issued_at: issued.parse::<Timestamp>().unwrap(),
    }
}

fn denied(condition: &str, f: SessionFacts<'_>) -> bool {
    let policy = parse(&deny_doc(condition)).unwrap();
    denies(std::iter::once(&policy), f)
}

const SI: &str = "tvm.alice.direct.a2d43d42a691";
const T: &str = "2026-12-07T03:00:00Z";

#[test]
fn string_equals_matches_exactly_and_case_sensitively() {
    let c = |v: &str| format!(r#"{{"StringEquals":{{"aws:SourceIdentity":["other",{v:?}]}}}}"#);
    assert!(denied(&c(SI), facts(Some(SI), T)));
    assert!(!denied(&c(&SI.to_uppercase()), facts(Some(SI), T)));
    assert!(!denied(&c("tvm.alice.direct"), facts(Some(SI), T)));
    // No SourceIdentity on the session: the test is false.
    assert!(!denied(&c(SI), facts(None, T)));
}

#[test]
fn string_like_globs() {
    let c = |v: &str| format!(r#"{{"StringLike":{{"aws:sourceidentity":{v:?}}}}}"#);
    assert!(denied(&c("tvm.*.a2d43d42a691"), facts(Some(SI), T)));
    assert!(!denied(&c("tvm.*.a2d43d42a692"), facts(Some(SI), T)));
    let grant = "tvm.bob.apr-c02e42f3.0123456789ab";
    assert!(denied(
        &c("tvm.*.apr-c02e42f3.????????????"),
        facts(Some(grant), T)
    ));
    assert!(!denied(
        &c("tvm.*.apr-c02e42f3.???????????"),
        facts(Some(grant), T)
    ));
    assert!(!denied(&c("tvm.*.a2d43d42a691"), facts(None, T)));
}

#[test]
fn date_less_than_on_token_issue_time() {
    let c = |v: &str| format!(r#"{{"DateLessThan":{{"aws:TokenIssueTime":{v:?}}}}}"#);
    assert!(denied(&c("2026-12-07T03:00:01Z"), facts(None, T)));
    assert!(!denied(&c(T), facts(None, T)));
    assert!(!denied(&c("2026-12-07T02:59:59Z"), facts(None, T)));
    // Epoch seconds are a date too.
    let later = (T.parse::<Timestamp>().unwrap().as_second() + 1).to_string();
    assert!(denied(&c(&later), facts(None, T)));
}

#[test]
fn tests_are_anded_and_no_condition_denies_all() {
    let both = r#"{"StringLike":{"aws:SourceIdentity":"tvm.*"},"DateLessThan":{"aws:TokenIssueTime":"2026-12-07T04:00:00Z"}}"#;
    assert!(denied(both, facts(Some(SI), T)));
    assert!(!denied(both, facts(Some(SI), "2026-12-07T05:00:00Z")));
    assert!(!denied(both, facts(Some("other.x"), T)));
    let all =
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":["*"],"Resource":"*"}}"#;
    let policy = parse(all).unwrap();
    assert!(denies(std::iter::once(&policy), facts(None, T)));
    assert!(!denies(std::iter::empty(), facts(Some(SI), T)));
}

#[test]
fn anything_outside_the_subset_is_malformed() {
    let ok = deny_doc(r#"{"StringLike":{"aws:SourceIdentity":["tvm.*.a2d43d42a691"]}}"#);
    assert!(parse(&ok).is_ok());
    for bad in [
        "not json".to_owned(),
        "[]".to_owned(),
        ok.replace("2012-10-17", "2008-10-17"),
        ok.replace("\"Deny\"", "\"Allow\""),
        ok.replace("\"Action\":\"*\"", "\"Action\":\"s3:*\""),
        ok.replace("\"Action\"", "\"NotAction\""),
        ok.replace("\"Resource\":\"*\"", "\"Resource\":\"arn:aws:s3:::b\""),
        ok.replace("\"Sid\"", "\"Principal\":\"*\",\"Sid\""),
        ok.replace("TvmRevokedSessionsProd", "not-alnum"),
        ok.replace("StringLike", "StringNotLike"),
        ok.replace("aws:SourceIdentity", "aws:userid"),
        ok.replace("[\"tvm.*.a2d43d42a691\"]", "[1]"),
        ok.replace("[\"tvm.*.a2d43d42a691\"]", "[]"),
        ok.replace("{\"Version\"", "{\"Id\":\"x\",\"Version\""),
        ok.replace("\"Statement\":[", "\"Statement\":[]")
            .replace("}]}", "}"),
        deny_doc(r#"{"DateLessThan":{"aws:TokenIssueTime":"yesterday"}}"#),
        // A repeated key is refused, not read as its last value.
        ok.replace(
            "\"Effect\":\"Deny\"",
            "\"Effect\":\"Allow\",\"Effect\":\"Deny\"",
        ),
        deny_doc(r#"{"StringLike":{"aws:SourceIdentity":"a","aws:SourceIdentity":"b"}}"#),
    ] {
        assert!(parse(&bad).is_err(), "{bad}");
    }
}

#[test]
fn size_leaves_out_whitespace_outside_strings_only() {
    assert_eq!(policy_size(r#"{"a":"b c"}"#), 11);
    assert_eq!(policy_size("{ \"a\" :\n\t\"b c\" }\r\n"), 11);
    assert_eq!(policy_size(r#"{"a":"\" x"}"#), 12);
    assert_eq!(policy_size(r#"{"é":"日本"}"#), 10);
}

#[test]
fn glob_edge_cases() {
    assert!(glob("*", ""));
    assert!(glob("a*b*c", "axxbyyc"));
    assert!(!glob("a*b*c", "axxbyy"));
    assert!(glob("??", "ab") && !glob("??", "abc") && !glob("??", "a"));
    assert!(glob("*a", "aaaa"));
    assert!(!glob("", "a"));
    let long = "a".repeat(10_000);
    assert!(!glob(&format!("{}b", "*a".repeat(50)), &long));
}
