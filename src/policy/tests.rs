//! Table tests of evaluation: every condition alone and in combination,
//! first-match order, durations, root, unknown profiles, explain, /profiles.

use jiff::Timestamp;

use super::*;
use crate::identity::Identity;

pub(super) const SSO: &str =
    "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123abcd/alice@example.com";
pub(super) const CI: &str = "arn:aws:sts::111122223333:assumed-role/ci-deploy/gha-42";
pub(super) const BOB: &str = "arn:aws:iam::111122223333:user/readonly/bob";
pub(super) const ROOT: &str = "arn:aws:iam::111122223333:root";
pub(super) const FED: &str = "arn:aws:sts::111122223333:federated-user/carol";
pub(super) const OTHER: &str = "arn:aws:iam::444455556666:user/mallory";

/// Monday 2025-01-06 10:00 Berlin (09:00 UTC).
pub(super) const MON_OFFICE: &str = "2025-01-06T09:00:00Z";
/// Monday 2025-01-06 20:00 Berlin.
pub(super) const MON_EVENING: &str = "2025-01-06T19:00:00Z";
/// Saturday 2025-01-11 10:00 Berlin.
pub(super) const SAT_OFFICE: &str = "2025-01-11T09:00:00Z";

pub(super) const PROFILES: &str = r#"
profiles:
  prod-admin:
    role_arn: arn:aws:iam::111122223333:role/TvmProtected-ProdAdmin
    max_duration: 1h
  prod-readonly:
    role_arn: arn:aws:iam::111122223333:role/TvmProtected-ProdReadOnly
    max_duration: 4h
    default_duration: 1h
  dev-admin:
    role_arn: arn:aws:iam::111122223333:role/path/TvmProtected-DevAdmin
"#;

pub(super) fn policy(rules: &str) -> Policy {
    let text = format!("version: 1\n{PROFILES}\nrules:\n{rules}");
    Policy::from_yaml(&text).unwrap_or_else(|e| panic!("policy should load: {e}\n{text}"))
}

pub(super) fn id(arn: &str) -> Identity {
    Identity::from_arn(arn).expect("test ARN parses")
}

pub(super) fn ts(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

pub(super) fn req(profile: &str) -> VendRequest<'_> {
    VendRequest {
        profile,
        duration_seconds: None,
        kind: crate::policy::VendKind::Plain,
    }
}

pub(super) fn eval(p: &Policy, arn: &str, profile: &str, at: &str) -> Decision {
    p.evaluate_identity(&id(arn), &req(profile), ts(at))
}

/// `Some(rule name)` when allowed, `None` when denied.
pub(super) fn allowed_by(p: &Policy, arn: &str, profile: &str, at: &str) -> Option<String> {
    let d = eval(p, arn, profile, at);
    d.is_allowed()
        .then(|| d.rule.expect("allow names its rule").name.to_string())
}

pub(super) const ADMIN_RULE: &str = r#"
  - name: platform-admins-office-hours
    effect: allow
    accounts: ["111122223333"]
    principals: ["arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_*/*"]
    users: ["*@example.com"]
    profiles: ["prod-*"]
    time: {days: [mon, tue, wed, thu, fri], hours: {start: "08:00", end: "18:00"}, timezone: Europe/Berlin}
    max_duration: 30m
"#;

#[test]
fn design_example_rule_combines_all_conditions() {
    let p = policy(ADMIN_RULE);
    let rule = Some("platform-admins-office-hours".to_owned());
    assert_eq!(allowed_by(&p, SSO, "prod-admin", MON_OFFICE), rule);
    assert_eq!(allowed_by(&p, SSO, "prod-readonly", MON_OFFICE), rule);
    // Each condition failing alone denies.
    assert_eq!(
        allowed_by(&p, SSO, "prod-admin", MON_EVENING),
        None,
        "hours"
    );
    assert_eq!(allowed_by(&p, SSO, "prod-admin", SAT_OFFICE), None, "days");
    assert_eq!(
        allowed_by(&p, SSO, "dev-admin", MON_OFFICE),
        None,
        "profiles"
    );
    assert_eq!(
        allowed_by(&p, CI, "prod-admin", MON_OFFICE),
        None,
        "principals"
    );
    let evil =
        "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123abcd/alice@evil.com";
    assert_eq!(
        allowed_by(&p, evil, "prod-admin", MON_OFFICE),
        None,
        "users"
    );
    let other =
        "arn:aws:sts::444455556666:assumed-role/AWSReservedSSO_Admin_0123abcd/alice@example.com";
    assert_eq!(
        allowed_by(&p, other, "prod-admin", MON_OFFICE),
        None,
        "accounts"
    );
}

#[test]
fn explain_names_the_failing_condition() {
    let p = policy(ADMIN_RULE);
    let cases = [
        (SSO, "prod-admin", MON_EVENING, Some(Condition::Time)),
        (SSO, "dev-admin", MON_OFFICE, Some(Condition::Profiles)),
        (CI, "prod-admin", MON_OFFICE, Some(Condition::Principals)),
        (OTHER, "prod-admin", MON_OFFICE, Some(Condition::Accounts)),
        (SSO, "prod-admin", MON_OFFICE, None),
    ];
    for (arn, profile, at, failed) in cases {
        let e = p.explain(&id(arn), &req(profile), ts(at));
        assert_eq!(e.steps.len(), 1);
        assert_eq!(e.steps[0].failed, failed, "{arn} {profile} {at}");
        assert_eq!(e.decision.is_allowed(), failed.is_none());
        let d = eval(&p, arn, profile, at);
        assert_eq!(d.is_allowed(), e.decision.is_allowed());
        assert_eq!(d.reason, e.decision.reason);
    }
}

#[test]
fn each_condition_alone() {
    let p = policy(
        r#"
  - {name: by-account, effect: allow, accounts: ["444455556666"], profiles: [dev-admin]}
  - {name: by-principal-arn, effect: allow, principals: ["arn:aws:iam::111122223333:user/readonly/*"], profiles: [prod-readonly]}
  - {name: by-canonical-role, effect: allow, principals: ["arn:aws:iam::111122223333:role/ci-deploy"], profiles: [prod-admin]}
  - {name: by-type, effect: allow, accounts: ["111122223333"], principal_types: [federated-user]}
  - {name: by-user, effect: allow, accounts: ["111122223333"], users: [alice@example.com], profiles: [dev-admin]}
"#,
    );
    let at = MON_OFFICE;
    assert_eq!(
        allowed_by(&p, OTHER, "dev-admin", at).as_deref(),
        Some("by-account")
    );
    assert_eq!(allowed_by(&p, OTHER, "prod-admin", at), None);
    assert_eq!(
        allowed_by(&p, BOB, "prod-readonly", at).as_deref(),
        Some("by-principal-arn")
    );
    assert_eq!(allowed_by(&p, BOB, "prod-admin", at), None);
    assert_eq!(
        allowed_by(&p, CI, "prod-admin", at).as_deref(),
        Some("by-canonical-role")
    );
    assert_eq!(
        allowed_by(&p, FED, "prod-admin", at).as_deref(),
        Some("by-type")
    );
    assert_eq!(
        allowed_by(&p, SSO, "dev-admin", at).as_deref(),
        Some("by-user")
    );
    assert_eq!(allowed_by(&p, SSO, "prod-admin", at), None);
}

#[test]
fn principal_glob_matches_session_arn_or_canonical_role() {
    let p = policy(
        r#"
  - {name: session, effect: allow, principals: ["arn:aws:sts::111122223333:assumed-role/ci-deploy/gha-*"], profiles: [dev-admin]}
  - {name: role, effect: allow, principals: ["arn:aws:iam::111122223333:role/ci-*"], profiles: [prod-admin]}
"#,
    );
    assert_eq!(
        allowed_by(&p, CI, "dev-admin", MON_OFFICE).as_deref(),
        Some("session")
    );
    assert_eq!(
        allowed_by(&p, CI, "prod-admin", MON_OFFICE).as_deref(),
        Some("role")
    );
    let other_session = "arn:aws:sts::111122223333:assumed-role/ci-deploy/laptop";
    assert_eq!(allowed_by(&p, other_session, "dev-admin", MON_OFFICE), None);
}

#[test]
fn first_match_wins_and_default_deny() {
    let p = policy(
        r#"
  - {name: freeze-bob, effect: deny, principals: ["arn:aws:iam::111122223333:user/readonly/bob"]}
  - {name: everyone, effect: allow, accounts: ["111122223333"], principal_types: [user, assumed-role]}
"#,
    );
    let d = eval(&p, BOB, "prod-admin", MON_OFFICE);
    assert!(matches!(d.outcome, Outcome::Deny));
    assert_eq!(d.reason, Reason::DeniedByRule);
    assert_eq!(
        d.rule,
        Some(MatchedRule {
            index: 0,
            name: "freeze-bob".into()
        })
    );
    assert_eq!(
        allowed_by(&p, SSO, "prod-admin", MON_OFFICE).as_deref(),
        Some("everyone")
    );
    let d = eval(&p, FED, "prod-admin", MON_OFFICE);
    assert_eq!(
        (d.is_allowed(), d.reason, d.rule),
        (false, Reason::NoMatchingRule, None)
    );
    let d = eval(&p, OTHER, "prod-admin", MON_OFFICE);
    assert_eq!(d.reason, Reason::NoMatchingRule);
    let e = p.explain(&id(OTHER), &req("prod-admin"), ts(MON_OFFICE));
    assert_eq!(e.steps.len(), 2);
    assert_eq!(e.steps[1].failed, Some(Condition::Accounts));
}

#[test]
fn principal_types_condition() {
    let p = policy(
        r#"
  - {name: humans, effect: allow, accounts: ["111122223333"], principal_types: [user, federated-user]}
"#,
    );
    assert!(allowed_by(&p, BOB, "prod-admin", MON_OFFICE).is_some());
    assert!(allowed_by(&p, FED, "prod-admin", MON_OFFICE).is_some());
    assert!(allowed_by(&p, SSO, "prod-admin", MON_OFFICE).is_none());
    assert!(allowed_by(&p, ROOT, "prod-admin", MON_OFFICE).is_none());
}

#[test]
fn time_window_across_midnight() {
    let p = policy(
        r#"
  - name: night-shift
    effect: allow
    accounts: ["111122223333"]
    time: {days: [fri], hours: {start: "22:00", end: "06:00"}, timezone: UTC}
"#,
    );
    assert!(allowed_by(&p, BOB, "dev-admin", "2025-01-10T23:00:00Z").is_some()); // Fri
    assert!(allowed_by(&p, BOB, "dev-admin", "2025-01-11T05:00:00Z").is_some()); // Sat, started Fri
    assert!(allowed_by(&p, BOB, "dev-admin", "2025-01-10T05:00:00Z").is_none()); // Fri, started Thu
    assert!(allowed_by(&p, BOB, "dev-admin", "2025-01-11T23:00:00Z").is_none());
    // Sat night
}
