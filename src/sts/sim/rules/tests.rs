//! Table tests of the AssumeRole parameter rules.

use super::*;

const ROLE: &str = "arn:aws:iam::111122223333:role/TvmProtected-ProdAdmin";

fn params(extra: &[(&str, &str)]) -> Params {
    let mut pairs = vec![
        ("RoleArn", ROLE),
        ("RoleSessionName", "tvm-alice-0123456789ab"),
    ];
    for (k, v) in extra {
        pairs.retain(|(pk, _)| pk != k);
        pairs.push((k, v));
    }
    Params::collect(
        pairs
            .into_iter()
            .filter(|(_, v)| *v != "<absent>")
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
    )
}

fn code(extra: &[(&str, &str)]) -> String {
    parse_assume_role(&params(extra)).map_or_else(|e| e.code.into_owned(), |_| "ok".into())
}

#[test]
fn minimal_request_gets_defaults() {
    let r = parse_assume_role(&params(&[])).unwrap();
    assert_eq!(r.duration_seconds, DEFAULT_DURATION);
    assert_eq!(r.role_arn, ROLE);
    assert!(r.source_identity.is_none() && r.tags.is_empty() && r.policy.is_none());
}

#[test]
fn table_of_parameter_rules() {
    let long = |n: usize| "a".repeat(n);
    let (s64, s65, e1224, e1225) = (long(64), long(65), long(1224), long(1225));
    let policy_max = format!("{{\"a\":\"{}\"}}", long(MAX_POLICY_CHARS - 8));
    let policy_over = format!("{{\"a\":\"{}\"}}", long(MAX_POLICY_CHARS - 7));
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("RoleArn", "<absent>")], "ValidationError"),
        (vec![("RoleArn", "arn:aws:iam::1:r")], "ValidationError"),
        (vec![("RoleSessionName", "<absent>")], "ValidationError"),
        (vec![("RoleSessionName", "a")], "ValidationError"),
        (vec![("RoleSessionName", &s64)], "ok"),
        (vec![("RoleSessionName", &s65)], "ValidationError"),
        (vec![("RoleSessionName", "tvm:alice")], "ValidationError"),
        (vec![("RoleSessionName", "alice@example.com,+=.-_")], "ok"),
        (vec![("DurationSeconds", "899")], "ValidationError"),
        (vec![("DurationSeconds", "900")], "ok"),
        (vec![("DurationSeconds", "43200")], "ok"),
        (vec![("DurationSeconds", "43201")], "ValidationError"),
        (vec![("DurationSeconds", "1e3")], "ValidationError"),
        (vec![("DurationSeconds", "-900")], "ValidationError"),
        (
            vec![("DurationSeconds", "99999999999999")],
            "ValidationError",
        ),
        (
            vec![(
                "SourceIdentity",
                "tvm.alice@example.com.direct.7f3a9c2e4b1d",
            )],
            "ok",
        ),
        (
            vec![("SourceIdentity", "tvm:alice:direct:1")],
            "ValidationError",
        ),
        (vec![("SourceIdentity", "aws:x")], "ValidationError"),
        (vec![("SourceIdentity", "a")], "ValidationError"),
        (vec![("SourceIdentity", &s65)], "ValidationError"),
        (vec![("ExternalId", "x")], "ValidationError"),
        (vec![("ExternalId", "urn:ext/id-1")], "ok"),
        (vec![("ExternalId", &e1224)], "ok"),
        (vec![("ExternalId", &e1225)], "ValidationError"),
        (vec![("ExternalId", "has space")], "ValidationError"),
        (
            vec![("Policy", "{\"Version\":\"2012-10-17\",\"Statement\":[]}")],
            "ok",
        ),
        (vec![("Policy", "not json")], "MalformedPolicyDocument"),
        (vec![("Policy", "[]")], "MalformedPolicyDocument"),
        (vec![("Policy", "")], "ValidationError"),
        (vec![("Policy", &policy_max)], "ok"),
        (vec![("Policy", &policy_over)], "ValidationError"),
        (
            vec![
                ("Tags.member.1.Key", "tvm-user"),
                ("Tags.member.1.Value", "alice@example.com"),
            ],
            "ok",
        ),
        (
            vec![("Tags.member.1.Key", "k"), ("Tags.member.1.Value", "")],
            "ok",
        ),
        (vec![("Tags.member.1.Key", "k")], "ValidationError"),
        (vec![("Tags.member.1.Value", "v")], "ValidationError"),
        (
            vec![("Tags.member.1.Key", ""), ("Tags.member.1.Value", "v")],
            "ValidationError",
        ),
        (
            vec![("Tags.member.1.Key", "aws:x"), ("Tags.member.1.Value", "v")],
            "ValidationError",
        ),
        (
            vec![("Tags.member.1.Key", "AWS:x"), ("Tags.member.1.Value", "v")],
            "ValidationError",
        ),
        (
            vec![("Tags.member.1.Key", "k*"), ("Tags.member.1.Value", "v")],
            "ValidationError",
        ),
        (
            vec![
                ("Tags.member.1.Key", "K"),
                ("Tags.member.1.Value", "1"),
                ("Tags.member.2.Key", "k"),
                ("Tags.member.2.Value", "2"),
            ],
            "ValidationError",
        ),
        (
            vec![("Tags.member.0.Key", "k"), ("Tags.member.0.Value", "v")],
            "ValidationError",
        ),
        (vec![("Tags.member.1.Name", "k")], "ValidationError"),
        (
            vec![
                ("Tags.member.1.Key", "k"),
                ("Tags.member.1.Value", "v"),
                ("TransitiveTagKeys.member.1", "K"),
            ],
            "ok",
        ),
        (
            vec![
                ("Tags.member.1.Key", "k"),
                ("Tags.member.1.Value", "v"),
                ("TransitiveTagKeys.member.1", "other"),
            ],
            "ValidationError",
        ),
        (vec![("TransitiveTagKeys.member.1", "k")], "ValidationError"),
    ];
    for (extra, want) in cases {
        assert_eq!(code(&extra), want, "{extra:?}");
    }
}

#[test]
fn tag_count_and_lengths() {
    let keys: Vec<String> = (1..=51).map(|i| format!("Tags.member.{i}.Key")).collect();
    let vals: Vec<String> = (1..=51).map(|i| format!("Tags.member.{i}.Value")).collect();
    let names: Vec<String> = (1..=51).map(|i| format!("k{i}")).collect();
    let mut extra: Vec<(&str, &str)> = Vec::new();
    for i in 0..50 {
        extra.push((&keys[i], &names[i]));
        extra.push((&vals[i], "v"));
    }
    assert_eq!(code(&extra), "ok");
    extra.push((&keys[50], &names[50]));
    extra.push((&vals[50], "v"));
    assert_eq!(code(&extra), "ValidationError");

    let (k128, k129, v256, v257) = (
        "k".repeat(128),
        "k".repeat(129),
        "v".repeat(256),
        "v".repeat(257),
    );
    assert_eq!(
        code(&[("Tags.member.1.Key", &k128), ("Tags.member.1.Value", &v256)]),
        "ok"
    );
    assert_eq!(
        code(&[("Tags.member.1.Key", &k129), ("Tags.member.1.Value", "v")]),
        "ValidationError"
    );
    assert_eq!(
        code(&[("Tags.member.1.Key", "k"), ("Tags.member.1.Value", &v257)]),
        "ValidationError"
    );
}

#[test]
fn external_id_is_not_echoed() {
    let err = parse_assume_role(&params(&[("ExternalId", "secret value")])).unwrap_err();
    assert!(!err.message.contains("secret value"));
    assert!(err.message.contains("externalId"));
}
