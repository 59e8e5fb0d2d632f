//! Table tests of decisions: durations, root, unknown profiles, explain,
//! `/profiles`, the `VerifiedCaller` entry points.

use super::tests::*;
use super::*;

#[test]
fn unknown_profile_looks_like_a_deny() {
    let p = policy(r#"  - {name: all, effect: allow, accounts: ["111122223333"]}"#);
    for name in ["nope", "", "prod-*", &"x".repeat(10_000), "prod-admin\0"] {
        let d = eval(&p, SSO, name, MON_OFFICE);
        assert!(matches!(d.outcome, Outcome::Deny), "{name:?}");
        assert_eq!((d.reason, d.rule), (Reason::UnknownProfile, None));
        let d = p.evaluate_identity(
            &id(SSO),
            &VendRequest {
                profile: name,
                duration_seconds: Some(1),
                kind: crate::policy::VendKind::Plain,
            },
            ts(MON_OFFICE),
        );
        assert!(
            matches!(d.outcome, Outcome::Deny),
            "no duration oracle for {name:?}"
        );
    }
    let empty = policy("  []");
    let d = eval(&empty, SSO, "prod-admin", MON_OFFICE);
    assert_eq!(d.reason, Reason::NoMatchingRule);
}

#[test]
fn durations_are_capped_never_exceeded() {
    let p = policy(
        r#"
  - {name: short, effect: allow, accounts: ["111122223333"], profiles: [prod-readonly], max_duration: 30m}
  - {name: long, effect: allow, accounts: ["111122223333"], max_duration: 12h}
"#,
    );
    let who = id(SSO);
    let at = ts(MON_OFFICE);
    let run = |profile: &str, d: Option<u32>| {
        p.evaluate_identity(
            &who,
            &VendRequest {
                profile,
                duration_seconds: d,
                kind: crate::policy::VendKind::Plain,
            },
            at,
        )
    };
    // prod-readonly: default 1h, max 4h, rule caps at 30m -> default capped to 30m.
    let g = run("prod-readonly", None);
    let g = g.grant().expect("allowed");
    assert_eq!((g.duration_seconds, g.max_duration_seconds), (1_800, 1_800));
    // prod-admin: profile max 1h beats rule's 12h; default 15m.
    let d = run("prod-admin", None);
    let g = d.grant().expect("allowed");
    assert_eq!((g.duration_seconds, g.max_duration_seconds), (900, 3_600));
    assert_eq!(
        g.profile.role_arn,
        "arn:aws:iam::111122223333:role/TvmProtected-ProdAdmin"
    );
    assert_eq!(
        run("prod-admin", Some(3_600))
            .grant()
            .map(|g| g.duration_seconds),
        Some(3_600)
    );
    assert_eq!(
        run("prod-admin", Some(900))
            .grant()
            .map(|g| g.duration_seconds),
        Some(900)
    );
    for bad in [0, 1, 899, 3_601, 43_200, u32::MAX] {
        let d = run("prod-admin", Some(bad));
        assert_eq!(d.reason, Reason::DurationOutOfRange, "{bad}");
        assert!(!d.is_allowed());
        assert_eq!(d.effect(), Effect::Deny);
        match d.outcome {
            Outcome::InvalidDuration {
                requested_seconds,
                min_seconds,
                max_seconds,
            } => {
                assert_eq!(
                    (requested_seconds, min_seconds, max_seconds),
                    (bad, 900, 3_600)
                );
            }
            other => panic!("expected InvalidDuration, got {other:?}"),
        }
    }
    assert!(matches!(
        run("prod-readonly", Some(1_801)).outcome,
        Outcome::InvalidDuration { .. }
    ));
    // A denied caller never learns about durations.
    let d = p.evaluate_identity(
        &id(OTHER),
        &VendRequest {
            profile: "prod-admin",
            duration_seconds: Some(99_999),
            kind: crate::policy::VendKind::Plain,
        },
        at,
    );
    assert!(matches!(d.outcome, Outcome::Deny));
}

#[test]
fn root_matches_only_allow_rules_that_name_it() {
    let p = policy(
        r#"
  - {name: all-users, effect: allow, accounts: ["111122223333"], profiles: [dev-admin]}
  - {name: root-by-type, effect: allow, accounts: ["111122223333"], principal_types: [root], profiles: [prod-admin]}
  - {name: root-by-arn, effect: allow, principals: ["arn:aws:iam::111122223333:root"], profiles: [prod-readonly]}
"#,
    );
    assert_eq!(allowed_by(&p, ROOT, "dev-admin", MON_OFFICE), None);
    assert_eq!(
        allowed_by(&p, BOB, "dev-admin", MON_OFFICE).as_deref(),
        Some("all-users")
    );
    assert_eq!(
        allowed_by(&p, ROOT, "prod-admin", MON_OFFICE).as_deref(),
        Some("root-by-type")
    );
    assert_eq!(
        allowed_by(&p, ROOT, "prod-readonly", MON_OFFICE).as_deref(),
        Some("root-by-arn")
    );
    let e = p.explain(&id(ROOT), &req("dev-admin"), ts(MON_OFFICE));
    assert_eq!(e.steps[0].failed, Some(Condition::RootNotNamed));
    // A wildcard resource does not name root.
    let q =
        policy(r#"  - {name: star, effect: allow, principals: ["arn:aws:iam::111122223333:*"]}"#);
    assert_eq!(allowed_by(&q, ROOT, "dev-admin", MON_OFFICE), None);
    assert!(
        allowed_by(&q, BOB, "dev-admin", MON_OFFICE).is_some(),
        "`*` spans `/` but not `:`"
    );
    // Deny rules do apply to root: a freeze freezes everyone.
    let f = policy(
        r#"
  - {name: freeze, effect: deny, accounts: ["111122223333"]}
  - {name: root-ok, effect: allow, accounts: ["111122223333"], principal_types: [root]}
"#,
    );
    let d = eval(&f, ROOT, "prod-admin", MON_OFFICE);
    assert_eq!(
        d.rule.map(|r| r.name.to_string()).as_deref(),
        Some("freeze")
    );
}

#[test]
fn allowed_profiles_lists_what_could_be_granted_now() {
    let p = policy(ADMIN_RULE);
    let now = p.allowed_profiles_for(&id(SSO), ts(MON_OFFICE));
    let names: Vec<&str> = now.iter().map(|a| a.profile.name.as_str()).collect();
    assert_eq!(names, ["prod-admin", "prod-readonly"]);
    // Rule caps both at 30m; prod-readonly's 1h default is capped too.
    assert!(now.iter().all(|a| a.max_duration_seconds == 1_800));
    assert_eq!(now[1].default_duration_seconds, 1_800);
    assert_eq!(now[0].rule.index, 0);
    assert!(p.allowed_profiles_for(&id(SSO), ts(SAT_OFFICE)).is_empty());
    assert!(p
        .allowed_profiles_for(&id(OTHER), ts(MON_OFFICE))
        .is_empty());
}

#[test]
fn verified_caller_entry_points_agree() {
    let p = policy(ADMIN_RULE);
    let caller = crate::auth::VerifiedCaller::for_tests(id(SSO));
    let d = p.evaluate(&caller, &req("prod-admin"), ts(MON_OFFICE));
    assert!(d.is_allowed());
    assert_eq!(p.allowed_profiles(&caller, ts(MON_OFFICE)).len(), 2);
}

#[test]
fn explanation_renders_for_the_cli() {
    let p = policy(
        r#"
  - {name: freeze-bob, effect: deny, principals: ["arn:aws:iam::111122223333:user/readonly/bob"]}
  - {name: sso, effect: allow, accounts: ["111122223333"], principal_types: [assumed-role], max_duration: 30m}
"#,
    );
    let text = p
        .explain(&id(SSO), &req("prod-admin"), ts(MON_OFFICE))
        .to_string();
    assert_eq!(
        text,
        "rule 0 \"freeze-bob\" (deny): no match (principals)\n\
         rule 1 \"sso\" (allow): matched\n\
         decision: allow profile \"prod-admin\" for 15m (max 30m) [allowed_by_rule]"
    );
    assert_eq!(
        p.rules()[1].describe(),
        "allow; accounts [111122223333]; principal_types [assumed-role]; max_duration 30m"
    );
}

#[test]
fn policy_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Policy>();
    assert_send_sync::<Decision>();
}

#[test]
fn names_match_ignoring_case_accounts_and_partitions_do_not() {
    let p = policy(
        r#"
  - {name: freeze-mallory, effect: deny, principals: ["arn:aws:sts::*:assumed-role/AWSReservedSSO_*/*"], users: [Mallory@Example.com]}
  - {name: freeze-role, effect: deny, principals: ["arn:aws:iam::111122223333:role/Frozen"]}
  - {name: alice, effect: allow, principals: ["arn:aws:iam::111122223333:user/Alice"]}
  - {name: sso, effect: allow, accounts: ["111122223333"], principals: ["arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_*/*"], users: ["*@EXAMPLE.com"], profiles: [dev-admin]}
"#,
    );
    let sso = |user: &str| {
        format!("arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123abcd/{user}")
    };
    // A deny for `Mallory@Example.com` refuses every spelling of her name.
    for user in [
        "mallory@example.com",
        "MALLORY@EXAMPLE.COM",
        "Mallory@Example.com",
    ] {
        let d = eval(&p, &sso(user), "dev-admin", MON_OFFICE);
        assert_eq!(
            d.rule.as_ref().map(|m| &*m.name),
            Some("freeze-mallory"),
            "{user}"
        );
        assert!(!d.is_allowed(), "{user}");
    }
    // The deny on a role covers its sessions whatever the case of the role name.
    let d = eval(
        &p,
        "arn:aws:sts::111122223333:assumed-role/FROZEN/ops-1",
        "dev-admin",
        MON_OFFICE,
    );
    assert!(!d.is_allowed());
    assert_eq!(d.reason, Reason::DeniedByRule);
    // An allow for `user/Alice` admits `user/alice`; a `users` glob folds too.
    assert_eq!(
        allowed_by(
            &p,
            "arn:aws:iam::111122223333:user/alice",
            "dev-admin",
            MON_OFFICE
        )
        .as_deref(),
        Some("alice")
    );
    assert_eq!(
        allowed_by(
            &p,
            "arn:aws:iam::111122223333:user/ALICE",
            "dev-admin",
            MON_OFFICE
        )
        .as_deref(),
        Some("alice")
    );
    assert_eq!(
        allowed_by(&p, &sso("bob@example.com"), "dev-admin", MON_OFFICE).as_deref(),
        Some("sso")
    );
    // The account and partition stay exact (and an allow still pins them).
    assert_eq!(
        allowed_by(
            &p,
            "arn:aws:iam::444455556666:user/alice",
            "dev-admin",
            MON_OFFICE
        )
        .as_deref(),
        None
    );
    assert_eq!(
        allowed_by(
            &p,
            "arn:aws-cn:iam::111122223333:user/alice",
            "dev-admin",
            MON_OFFICE
        )
        .as_deref(),
        None
    );
    assert_eq!(
        allowed_by(
            &p,
            "arn:aws:iam::111122223333:user/alicia",
            "dev-admin",
            MON_OFFICE
        )
        .as_deref(),
        None
    );
}

#[test]
fn a_root_pattern_in_any_case_names_root() {
    let p = policy(
        r#"  - {name: root, effect: allow, principals: ["arn:aws:iam::111122223333:ROOT"]}"#,
    );
    assert_eq!(
        allowed_by(&p, ROOT, "dev-admin", MON_OFFICE).as_deref(),
        Some("root")
    );
}
