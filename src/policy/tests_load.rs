//! Load-time validation: every rejection names its key path; the shipped
//! example policy loads and behaves as its comments say.

use super::tests::{id, policy, req, ts, MON_OFFICE, PROFILES};
use super::*;

fn load_err(text: &str) -> PolicyError {
    match Policy::from_yaml(text) {
        Ok(_) => panic!("policy should be rejected:\n{text}"),
        Err(e) => e,
    }
}

fn with_rules(rules: &str) -> String {
    format!("version: 1\n{PROFILES}\nrules:\n{rules}")
}

/// Asserts the error is `Invalid` at `path` and its message holds `needle`.
fn assert_invalid(text: &str, path: &str, needle: &str) {
    match load_err(text) {
        PolicyError::Invalid { path: p, message } => {
            assert_eq!(p, path, "message: {message}");
            assert!(message.contains(needle), "{message:?} lacks {needle:?}");
        }
        other => panic!("expected Invalid at {path}, got {other}"),
    }
}

#[test]
fn rule_validation_errors_carry_paths() {
    let r = |body: &str| {
        with_rules(&format!(
            "  - {{name: ok, effect: deny, accounts: [\"111122223333\"]}}\n  - {body}\n"
        ))
    };
    let cases: &[(&str, &str, &str)] = &[
        ("{name: r, effect: allow, users: [alice]}", "rules[1]", "must bind"),
        ("{name: r, effect: allow, profiles: [prod-admin]}", "rules[1]", "must bind"),
        ("{name: '', effect: deny}", "rules[1].name", "rule name"),
        ("{name: 'a b', effect: deny}", "rules[1].name", "rule name"),
        ("{name: ok, effect: deny}", "rules[1].name", "duplicate rule name"),
        ("{name: r, effect: deny, accounts: []}", "rules[1].accounts", "empty list"),
        ("{name: r, effect: deny, accounts: [\"1234\"]}", "rules[1].accounts[0]", "12-digit"),
        ("{name: r, effect: deny, principals: [\"*\"]}", "rules[1].principals[0]", "expected arn:"),
        ("{name: r, effect: deny, principals: [\"arn:aws:iam:us-east-1:111122223333:user/x\"]}", "rules[1].principals[0]", "expected arn:"),
        ("{name: r, effect: deny, principals: [\"arn:aws-iso:iam::111122223333:user/x\"]}", "rules[1].principals[0]", "partition"),
        ("{name: r, effect: deny, principals: [\"arn:aws:s3::111122223333:x\"]}", "rules[1].principals[0]", "iam or sts"),
        ("{name: r, effect: deny, principals: [\"arn:aws:iam::12345:user/x\"]}", "rules[1].principals[0]", "12 digits"),
        ("{name: r, effect: deny, principals: [\"arn:aws:iam::111122223333:\"]}", "rules[1].principals[0]", "empty resource"),
        ("{name: r, effect: allow, principals: [\"arn:aws:iam::*:user/x\"]}", "rules[1].principals[0]", "literally"),
        ("{name: r, effect: allow, accounts: [\"111122223333\"], principals: [\"arn:aws:iam::444455556666:user/x\"]}", "rules[1].principals[0]", "never match"),
        ("{name: r, effect: deny, users: [\"a:b\"]}", "rules[1].users[0]", "`:`"),
        ("{name: r, effect: deny, users: [\"\"]}", "rules[1].users[0]", "empty pattern"),
        ("{name: r, effect: deny, profiles: [nope]}", "rules[1].profiles[0]", "unknown profile"),
        ("{name: r, effect: deny, profiles: [\"qa-*\"]}", "rules[1].profiles[0]", "matches no profile"),
        ("{name: r, effect: deny, profiles: [\"a b\"]}", "rules[1].profiles[0]", "must be of"),
        ("{name: r, effect: deny, principal_types: [user, user]}", "rules[1].principal_types[1]", "twice"),
        ("{name: r, effect: deny, max_duration: 30m}", "rules[1].max_duration", "deny rule"),
        ("{name: r, effect: allow, accounts: [\"111122223333\"], max_duration: 13h}", "rules[1].max_duration", "STS range"),
        ("{name: r, effect: allow, accounts: [\"111122223333\"], max_duration: 10m}", "rules[1].max_duration", "STS range"),
        ("{name: r, effect: deny, time: {timezone: UTC}}", "rules[1].time", "days"),
        ("{name: r, effect: deny, time: {days: [mon], timezone: Europe/Atlantis}}", "rules[1].time.timezone", "unknown time zone"),
        ("{name: r, effect: deny, time: {hours: {start: \"8:00\", end: \"18:00\"}}}", "rules[1].time.hours.start", "HH:MM"),
        ("{name: r, effect: deny, time: {hours: {start: \"08:00\", end: \"08:00\"}}}", "rules[1].time.hours", "start equals end"),
    ];
    for (body, path, needle) in cases {
        assert_invalid(&r(body), path, needle);
    }
}

#[test]
fn profile_validation_errors_carry_paths() {
    let p = |body: &str| format!("version: 1\nprofiles:\n  p1:\n{body}\nrules: []\n");
    let arn = "    role_arn: arn:aws:iam::111122223333:role/R\n";
    let cases: &[(String, &str, &str)] = &[
        (
            p("    role_arn: arn:aws:iam::111122223333:user/R"),
            "profiles.p1.role_arn",
            "role/",
        ),
        (
            p("    role_arn: arn:aws:iam::*:role/R"),
            "profiles.p1.role_arn",
            "12 digits",
        ),
        (
            p(&format!("{arn}    max_duration: 13h")),
            "profiles.p1.max_duration",
            "STS range",
        ),
        (
            p(&format!("{arn}    max_duration: 1 hour")),
            "profiles.p1.max_duration",
            "invalid duration",
        ),
        (
            p(&format!("{arn}    default_duration: 5m")),
            "profiles.p1.default_duration",
            "STS range",
        ),
        (
            p(&format!("{arn}    default_duration: 2h")),
            "profiles.p1.default_duration",
            "exceeds max_duration",
        ),
        (
            p(&format!(
                "{arn}    max_duration: 30m\n    default_duration: 45m"
            )),
            "profiles.p1.default_duration",
            "exceeds",
        ),
        (
            p(&format!("{arn}    external_id: x")),
            "profiles.p1.external_id",
            "2..=1224",
        ),
        (
            p(&format!("{arn}    session_tags: {{\"aws:x\": v}}")),
            "profiles.p1.session_tags.aws:x",
            "reserved",
        ),
        (
            p(&format!("{arn}    session_tags: {{\"bad,key\": v}}")),
            "profiles.p1.session_tags.bad,key",
            "not allowed",
        ),
        (
            p(&format!("{arn}    session_tags: {{k: \"{{who}}\"}}")),
            "profiles.p1.session_tags.k",
            "unknown placeholder",
        ),
        (
            p(&format!("{arn}    session_tags: {{Team: a, team: b}}")),
            "profiles.p1.session_tags.team",
            "case-insensitive",
        ),
        (
            p(&format!(
                "{arn}    session_tags: {{k: v}}\n    transitive_tag_keys: [K]"
            )),
            "profiles.p1.transitive_tag_keys[0]",
            "not a key",
        ),
        (
            p(&format!(
                "{arn}    session_tags: {{k: v}}\n    transitive_tag_keys: [k, k]"
            )),
            "profiles.p1.transitive_tag_keys[1]",
            "twice",
        ),
        (
            p(&format!("{arn}    session_policy: \"{{oops\"")),
            "profiles.p1.session_policy",
            "not valid JSON",
        ),
        (
            p(&format!(
                "{arn}    session_policy: {{Version: \"2012-10-17\"}}"
            )),
            "profiles.p1.session_policy",
            "Statement",
        ),
        (
            format!("version: 1\nprofiles:\n  'bad name':\n{arn}rules: []\n"),
            "profiles.bad name",
            "profile name",
        ),
        (
            "version: 2\nrules: []\n".to_owned(),
            "version",
            "unsupported version",
        ),
    ];
    for (text, path, needle) in cases {
        assert_invalid(text, path, needle);
    }
    let many: String = (0..51).map(|i| format!("      k{i}: v\n")).collect();
    assert_invalid(
        &p(&format!("{arn}    session_tags:\n{many}")),
        "profiles.p1.session_tags.k50",
        "more than 50",
    );
}

#[test]
fn schema_errors_carry_path_line_and_column() {
    let text =
        "version: 1\nrules:\n  - name: r\n    effect: allow\n    acounts: [\"111122223333\"]\n";
    match load_err(text) {
        PolicyError::Yaml {
            path,
            line,
            column,
            message,
        } => {
            assert_eq!(path, "rules[0].acounts");
            assert_eq!((line, column), (Some(5), Some(5)));
            assert!(message.contains("unknown field"), "{message}");
        }
        other => panic!("expected Yaml, got {other}"),
    }
    let dup = "version: 1\nprofiles:\n  a: {role_arn: \"arn:aws:iam::111122223333:role/R\"}\n  a: {role_arn: \"arn:aws:iam::111122223333:role/S\"}\n";
    match load_err(dup) {
        PolicyError::Yaml {
            path,
            message,
            line,
            ..
        } => {
            assert_eq!(path, "profiles");
            assert!(message.contains("duplicate key"), "{message}");
            assert!(line.is_some());
        }
        other => panic!("expected Yaml, got {other}"),
    }
    for (text, path) in [
        ("rules: []\n", "."),
        (
            "version: 1\nrules:\n  - {name: r, effect: allow, accounts: [111122223333]}\n",
            "rules[0].accounts[0]",
        ),
        (
            "version: 1\nrules:\n  - {name: r, effect: maybe}\n",
            "rules[0].effect",
        ),
        (
            "version: 1\nrules:\n  - {name: r, effect: deny, time: {days: [monday]}}\n",
            "rules[0].time.days[0]",
        ),
        ("version: 1\nrules: [\n", "rules"),
        ("version: 1\n---\nversion: 1\n", "."),
        ("", "."),
    ] {
        let e = load_err(text);
        assert!(matches!(e, PolicyError::Yaml { .. }), "{text:?}: {e}");
        assert_eq!(e.path(), Some(path), "{text:?}: {e}");
    }
}

#[test]
fn duplicate_keys_in_a_yaml_session_policy_are_refused() {
    let text = "version: 1\nprofiles:\n  p1:\n    role_arn: arn:aws:iam::111122223333:role/R\n    session_policy:\n      Statement: []\n      Statement: [{Effect: Allow}]\n";
    let e = load_err(text);
    assert!(matches!(e, PolicyError::Yaml { .. }), "{e}");
    assert_eq!(e.path(), Some("profiles.p1.session_policy"));
    assert!(e.to_string().contains("duplicate key"), "{e}");
}

#[test]
fn yaml_alias_bombs_are_refused() {
    let mut text = String::from(
        "version: 1\nx0: &a0 [\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\"]\n",
    );
    for i in 1..12 {
        let prev = i - 1;
        text.push_str(&format!("x{i}: &a{i} [*a{prev},*a{prev},*a{prev},*a{prev},*a{prev},*a{prev},*a{prev},*a{prev},*a{prev}]\n"));
    }
    assert!(Policy::from_yaml(&text).is_err());
}

#[test]
fn size_limit_and_files() {
    let big = format!("version: 1\n#{}\n", "x".repeat(MAX_POLICY_BYTES));
    assert_invalid(&big, ".", "larger than");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("policy.yaml");
    std::fs::write(&path, &big).expect("write");
    assert!(matches!(
        Policy::load(&path),
        Err(PolicyError::Invalid { .. })
    ));
    std::fs::write(&path, with_rules("  []")).expect("write");
    assert_eq!(Policy::load(&path).expect("loads").profiles().count(), 3);
    let missing = dir.path().join("missing.yaml");
    let e = Policy::load(&missing).unwrap_err();
    assert!(matches!(e, PolicyError::Io { .. }));
    assert!(e.to_string().contains("missing.yaml"));
}

#[test]
fn shipped_example_policy_loads_and_behaves() {
    let p = Policy::load(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/config/policy.yaml"
    )))
    .expect("config/policy.yaml loads");
    let names: Vec<&str> = p.rules().iter().map(Rule::name).collect();
    assert_eq!(
        names,
        [
            "deny-revoked-ci-session",
            "platform-admins-office-hours",
            "ci-deploy",
            "readonly-iam-users"
        ]
    );
    let sso = id(super::tests::SSO);
    let d = p.evaluate_identity(&sso, &req("prod-admin"), ts(MON_OFFICE));
    assert_eq!(d.grant().map(|g| g.max_duration_seconds), Some(1_800));
    let ci = id("arn:aws:sts::111122223333:assumed-role/ci-runner/build-7");
    let d = p.evaluate_identity(&ci, &req("ci-deploy"), ts("2025-01-11T03:00:00Z"));
    let g = d.grant().expect("CI allowed at any time");
    assert_eq!(g.duration_seconds, 1_800);
    assert_eq!(g.profile.external_id.as_deref(), Some("tvm-ci-deploy"));
    assert!(
        !format!("{:?}", g.profile).contains("tvm-ci-deploy"),
        "external id redacted in Debug"
    );
    let revoked = id("arn:aws:sts::111122223333:assumed-role/ci-runner/legacy-1");
    let d = p.evaluate_identity(&revoked, &req("ci-deploy"), ts(MON_OFFICE));
    assert_eq!(d.reason, Reason::DeniedByRule);
    let bob = id("arn:aws:iam::111122223333:user/readonly/bob");
    let d = p.evaluate_identity(&bob, &req("prod-readonly"), ts(MON_OFFICE));
    let g = d.grant().expect("read-only user allowed");
    assert_eq!(
        (g.duration_seconds, g.max_duration_seconds),
        (3_600, 14_400)
    );
    assert!(g
        .profile
        .session_policy
        .as_deref()
        .is_some_and(|s| s.contains("\"Version\":\"2012-10-17\"") && !s.contains(' ')));
    let root = id("arn:aws:iam::111122223333:root");
    assert!(p.allowed_profiles_for(&root, ts(MON_OFFICE)).is_empty());
}

#[test]
fn session_tags_render_through_the_profile() {
    let p = Policy::from_yaml(
        "version: 1\nprofiles:\n  p1:\n    role_arn: arn:aws:iam::111122223333:role/R\n    session_tags: {tvm-user: \"{user}\", origin: \"tvm {profile}/{request_id}\", acct: \"{account}\", who: \"{principal}\"}\n    transitive_tag_keys: [tvm-user]\nrules: []\n",
    )
    .expect("loads");
    let profile = p.profile("p1").expect("p1");
    let who = id(super::tests::SSO);
    let ctx = TagContext::new(&who, "p1", "7f3a9c2e4b1d");
    let tags = profile.session_tags(&ctx).expect("renders");
    assert_eq!(
        tags,
        [
            ("tvm-user".into(), "alice@example.com".into()),
            ("origin".into(), "tvm p1/7f3a9c2e4b1d".into()),
            ("acct".into(), "111122223333".into()),
            (
                "who".into(),
                "arn:aws:iam::111122223333:role/AWSReservedSSO_Admin_0123abcd".into()
            ),
        ]
    );
    assert_eq!(profile.transitive_tag_keys, ["tvm-user"]);
    let comma = id("arn:aws:sts::111122223333:assumed-role/R/a,b");
    let ctx = TagContext::new(&comma, "p1", "7f3a9c2e4b1d");
    assert_eq!(
        profile.session_tags(&ctx),
        Err(TagError::IllegalCharacter {
            key: "tvm-user".into()
        })
    );
}

#[test]
fn profile_duration_defaults() {
    let p = policy("  []");
    let dev = p.profile("dev-admin").expect("dev-admin");
    assert_eq!(
        (dev.default_duration_seconds, dev.max_duration_seconds),
        (900, 3_600)
    );
    assert!(p.profile("nope").is_none());
    assert!(p.rules().is_empty());
}

#[test]
fn sso_accounts_are_quoted_twelve_digit_accounts_without_duplicates() {
    let p = Policy::from_yaml(
        "version: 1\nsso_accounts: [\"111111111111\", \"222222222222\", \"111111111111\"]\n",
    )
    .unwrap();
    let got: Vec<&str> = p.sso_accounts().iter().map(|a| a.as_str()).collect();
    assert_eq!(got, ["111111111111", "222222222222"]);
    assert!(Policy::from_yaml("version: 1\n")
        .unwrap()
        .sso_accounts()
        .is_empty());
    let err = Policy::from_yaml("version: 1\nsso_accounts: [\"12345\"]\n").unwrap_err();
    assert!(err.to_string().contains("sso_accounts[0]"), "{err}");
    assert!(Policy::from_yaml("version: 1\nsso_accounts: [111111111111]\n").is_err());
}
