//! The §12 effects: load-time validation of `require_approval` and
//! `break_glass`, the three vend kinds, `Kind` in the profile list, and the
//! `tvm policy check` warnings for role principals.

use super::tests::{id, policy, ts, BOB, CI, MON_EVENING, MON_OFFICE, PROFILES, SSO};
use super::*;

fn invalid(rules: &str) -> (String, String) {
    match Policy::from_yaml(&format!("version: 1\n{PROFILES}\nrules:\n{rules}")) {
        Err(PolicyError::Invalid { path, message }) => (path, message),
        Err(e) => panic!("expected Invalid, got {e}"),
        Ok(_) => panic!("should be rejected:\n{rules}"),
    }
}

const APPROVERS: &str = r#"approvers: {principals: ["arn:aws:iam::111122223333:user/leads/*"]}"#;

fn req(profile: &str, kind: VendKind) -> VendRequest<'_> {
    VendRequest {
        profile,
        duration_seconds: None,
        kind,
    }
}

/// Approval in office hours, break-glass at night, for one profile; a deny
/// written later (first) still wins.
const OFFICE_AND_NIGHT: &str = r#"
  - name: frozen-user
    effect: deny
    principals: ["arn:aws:iam::111122223333:user/readonly/bob"]
  - name: prod-admin-office
    effect: require_approval
    accounts: ["111122223333"]
    principals: ["arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_*/*", "arn:aws:iam::111122223333:user/*"]
    profiles: ["prod-admin"]
    time: {days: [mon, tue, wed, thu, fri], hours: {start: "08:00", end: "18:00"}, timezone: Europe/Berlin}
    approvers: {principals: ["arn:aws:iam::111122223333:user/leads/*"]}
  - name: prod-admin-night
    effect: break_glass
    accounts: ["111122223333"]
    principals: ["arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_*/*", "arn:aws:iam::111122223333:user/*"]
    profiles: ["prod-admin"]
    time: {hours: {start: "18:00", end: "08:00"}, timezone: Europe/Berlin}
    max_duration: 30m
"#;

#[test]
fn approvers_must_bind_principals_and_durations_are_in_range() {
    let (p, m) = invalid(
        "  - {name: r, effect: require_approval, accounts: [\"111122223333\"], profiles: [prod-admin], approvers: {accounts: [\"111122223333\"]}}\n",
    );
    assert_eq!(p, "rules[0].approvers.principals");
    assert!(m.contains("must bind `principals`"), "{m}");
    let (p, _) = invalid("  - {name: r, effect: require_approval, accounts: [\"111122223333\"]}\n");
    assert_eq!(p, "rules[0].approvers");
    let (p, _) = invalid(&format!(
        "  - {{name: r, effect: require_approval, accounts: [\"111122223333\"], {APPROVERS}, grant_duration: 13h}}\n"
    ));
    assert_eq!(p, "rules[0].grant_duration");
    let (p, _) = invalid(&format!(
        "  - {{name: r, effect: require_approval, accounts: [\"111122223333\"], {APPROVERS}, approvals_needed: 0}}\n"
    ));
    assert_eq!(p, "rules[0].approvals_needed");
    let (p, m) = invalid(
        "  - {name: r, effect: break_glass, accounts: [\"111122223333\"], max_duration: 2h}\n",
    );
    assert_eq!(p, "rules[0].max_duration");
    assert!(m.contains("at most 1h"), "{m}");
    let (p, _) = invalid(
        "  - {name: r, effect: break_glass, accounts: [\"111122223333\"], reason_min_length: 0}\n",
    );
    assert_eq!(p, "rules[0].reason_min_length");
    // Keys of one effect on another.
    let (p, _) = invalid(&format!(
        "  - {{name: r, effect: allow, accounts: [\"111122223333\"], {APPROVERS}}}\n"
    ));
    assert_eq!(p, "rules[0].approvers");
    let (p, _) = invalid(
        "  - {name: r, effect: allow, accounts: [\"111122223333\"], reason_min_length: 30}\n",
    );
    assert_eq!(p, "rules[0].reason_min_length");
    // Like allow, both grant credentials and must pin an account.
    let (p, m) = invalid("  - {name: r, effect: break_glass, users: [alice]}\n");
    assert_eq!(p, "rules[0]");
    assert!(m.contains("must bind"), "{m}");
}

#[test]
fn each_kind_meets_its_own_rules_and_a_deny_before_wins() {
    let p = policy(OFFICE_AND_NIGHT);
    let office = ts(MON_OFFICE);
    let night = ts(MON_EVENING);
    let sso = id(SSO);
    // Office hours: a plain vend needs approval; with an approval id the rule
    // allows (the grant is the service's check); a reason meets no rule.
    let d = p.evaluate_identity(&sso, &req("prod-admin", VendKind::Plain), office);
    assert!(matches!(d.outcome, Outcome::ApprovalRequired));
    let d = p.evaluate_identity(&sso, &req("prod-admin", VendKind::Approval), office);
    assert!(d.is_allowed());
    assert_eq!(&*d.rule.unwrap().name, "prod-admin-office");
    let d = p.evaluate_identity(&sso, &req("prod-admin", VendKind::BreakGlass), office);
    assert!(matches!(d.outcome, Outcome::Deny));
    // Night: only break-glass, capped at its max_duration.
    let d = p.evaluate_identity(&sso, &req("prod-admin", VendKind::Plain), night);
    assert!(matches!(d.outcome, Outcome::Deny));
    let d = p.evaluate_identity(&sso, &req("prod-admin", VendKind::BreakGlass), night);
    assert_eq!(d.grant().unwrap().max_duration_seconds, 1_800);
    // The deny before wins for every kind.
    for kind in [VendKind::Plain, VendKind::Approval, VendKind::BreakGlass] {
        for at in [office, night] {
            let d = p.evaluate_identity(&id(BOB), &req("prod-admin", kind), at);
            assert_eq!(d.reason, Reason::DeniedByRule, "{kind:?}");
        }
    }
    // A plain allow rule is not met by an approval or break-glass vend.
    let p = policy("  - {name: a, effect: allow, accounts: [\"111122223333\"]}\n");
    let d = p.evaluate_identity(&sso, &req("prod-admin", VendKind::Approval), office);
    assert_eq!(d.reason, Reason::NoMatchingRule);
}

#[test]
fn profile_kinds_follow_the_time_of_day() {
    let p = policy(OFFICE_AND_NIGHT);
    let kinds = |at: &str| -> Vec<(String, &'static str)> {
        p.allowed_profiles_for(&id(SSO), ts(at))
            .into_iter()
            .map(|a| (a.profile.name.clone(), a.kind.as_str()))
            .collect()
    };
    assert_eq!(
        kinds(MON_OFFICE),
        vec![("prod-admin".to_owned(), "approval")]
    );
    assert_eq!(
        kinds(MON_EVENING),
        vec![("prod-admin".to_owned(), "break_glass")]
    );
}

#[test]
fn check_warns_about_role_principals_among_requesters_and_approvers() {
    let p = policy(&format!(
        "  - {{name: r, effect: require_approval, accounts: [\"111122223333\"], principals: [\"{}\"], approvers: {{principals: [\"arn:aws:sts::111122223333:assumed-role/ci-deploy/*\"]}}}}\n",
        CI.replace("gha-42", "*")
    ));
    let w = p.rules()[0].warnings();
    assert!(w.iter().any(|w| w.starts_with("requesters")), "{w:?}");
    assert!(w.iter().any(|w| w.starts_with("approvers")), "{w:?}");
    let p = policy(OFFICE_AND_NIGHT);
    assert!(
        p.rules()[1].warnings().is_empty(),
        "{:?}",
        p.rules()[1].warnings()
    );
}

#[test]
fn the_digest_changes_with_the_rule() {
    let a = policy(OFFICE_AND_NIGHT);
    let b =
        policy(&OFFICE_AND_NIGHT.replace("\"08:00\", end: \"18:00\"", "\"07:00\", end: \"18:00\""));
    assert_ne!(a.rules()[1].digest(), b.rules()[1].digest());
    assert_eq!(a.rules()[2].digest(), b.rules()[2].digest());
    assert!(a.has_break_glass() && a.needs_approvals());
}
