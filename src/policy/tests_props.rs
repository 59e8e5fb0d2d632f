//! Property tests over random policies, callers and instants: account
//! pinning, deny-at-top monotonicity, determinism, explain/evaluate agreement,
//! and decisions blind to the case of names.
//! (Glob properties live beside the matcher in `glob.rs`.)

use jiff::Timestamp;
use proptest::prelude::*;

use super::tests::PROFILES;
use super::*;
use crate::identity::Identity;

const ACCOUNTS: [&str; 3] = ["111122223333", "444455556666", "777788889999"];

const PRINCIPALS: [&str; 10] = [
    "arn:aws:iam::111122223333:user/*",
    "arn:aws:sts::*:assumed-role/*/*",
    "arn:*:*::444455556666:*",
    "arn:aws:iam::111122223333:root",
    "arn:aws:iam::*:role/Admin",
    "arn:aws:sts::111122223333:assumed-role/Admin/*",
    "arn:aws:iam::444455556666:role/*",
    "arn:aws:iam::777788889999:*",
    "arn:aws:*::111122223333:*",
    "arn:aws:sts::777788889999:assumed-role/ADMIN/Mallory@*",
];

const USERS: [&str; 5] = ["*@example.com", "bob", "*", "ci-*", "Mallory@EXAMPLE.com"];
const TYPES: [&str; 4] = ["user", "assumed-role", "federated-user", "root"];
const PROFILE_PATTERNS: [&str; 4] = ["prod-*", "dev-admin", "*", "prod-readonly"];
const PROFILE_NAMES: [&str; 4] = ["prod-admin", "prod-readonly", "dev-admin", "missing"];
const TIMES: [&str; 3] = [
    "{days: [mon, tue, wed, thu, fri], hours: {start: \"08:00\", end: \"18:00\"}, timezone: Europe/Berlin}",
    "{days: [fri], hours: {start: \"22:00\", end: \"06:00\"}}",
    "{days: [sat, sun], timezone: America/New_York}",
];

const CALLERS: [&str; 10] = [
    "arn:aws:iam::111122223333:user/bob",
    "arn:aws:iam::111122223333:user/readonly/bob",
    "arn:aws:sts::111122223333:assumed-role/Admin/alice@example.com",
    "arn:aws:sts::444455556666:assumed-role/Admin/alice@example.com",
    "arn:aws:sts::777788889999:assumed-role/ci-deploy/ci-7",
    "arn:aws:iam::111122223333:root",
    "arn:aws:iam::444455556666:root",
    "arn:aws:sts::444455556666:federated-user/carol",
    "arn:aws-cn:iam::111122223333:user/bob",
    "arn:aws:sts::777788889999:assumed-role/Admin/mallory@example.com",
];

/// A subset of `items` as a YAML flow list, or nothing.
fn opt_list(items: &'static [&'static str]) -> impl Strategy<Value = Option<String>> {
    prop::option::of(prop::sample::subsequence(
        items.to_vec(),
        1..=items.len().min(3),
    ))
    .prop_map(|o| {
        o.map(|v| {
            let quoted: Vec<String> = v.iter().map(|s| format!("{s:?}")).collect();
            format!("[{}]", quoted.join(", "))
        })
    })
}

/// One rule as a YAML flow mapping. Only rules that compile on their own are
/// kept, so policies built from them load (names are unique by construction).
fn rule(name: String, effect: Option<&'static str>) -> impl Strategy<Value = String> {
    let effect = match effect {
        Some(e) => Just(e).boxed(),
        None => prop::sample::select(vec!["allow", "deny"]).boxed(),
    };
    (
        effect,
        opt_list(&ACCOUNTS),
        opt_list(&PRINCIPALS),
        opt_list(&USERS),
        opt_list(&TYPES),
        opt_list(&PROFILE_PATTERNS),
        prop::option::of(prop::sample::select(TIMES.to_vec())),
        prop::option::of(prop::sample::select(vec!["15m", "30m", "2h"])),
    )
        .prop_map(move |(effect, acc, pri, usr, typ, prof, time, max)| {
            let mut s = format!("  - {{name: {name}, effect: {effect}");
            for (key, v) in [
                ("accounts", acc),
                ("principals", pri),
                ("users", usr),
                ("principal_types", typ),
                ("profiles", prof),
                ("time", time.map(str::to_owned)),
                (
                    "max_duration",
                    max.filter(|_| effect == "allow").map(str::to_owned),
                ),
            ] {
                if let Some(v) = v {
                    s.push_str(&format!(", {key}: {v}"));
                }
            }
            s.push_str("}\n");
            s
        })
        .prop_filter("rule must compile", |r| {
            load(std::slice::from_ref(r)).is_some()
        })
}

fn rules(n: usize) -> impl Strategy<Value = Vec<String>> {
    (0..n)
        .map(|i| rule(format!("r{i}"), None))
        .collect::<Vec<_>>()
}

fn load(rules: &[String]) -> Option<Policy> {
    Policy::from_yaml(&format!(
        "version: 1\n{PROFILES}\nrules:\n{}",
        rules.concat()
    ))
    .ok()
}

fn instant() -> impl Strategy<Value = Timestamp> {
    // 2025-01-01 .. 2026-01-01
    (1_735_689_600i64..1_767_225_600).prop_map(|s| Timestamp::from_second(s).expect("in range"))
}

fn request() -> impl Strategy<Value = (usize, &'static str, Option<u32>)> {
    (
        0..CALLERS.len(),
        prop::sample::select(PROFILE_NAMES.to_vec()),
        prop::option::of(prop::sample::select(vec![
            900u32, 1_800, 3_600, 7_200, 50_000,
        ])),
    )
}

fn decide(p: &Policy, caller: usize, profile: &str, d: Option<u32>, at: Timestamp) -> Decision {
    let who = Identity::from_arn(CALLERS[caller]).expect("caller parses");
    p.evaluate_identity(
        &who,
        &VendRequest {
            profile,
            duration_seconds: d,
            kind: crate::policy::VendKind::Plain,
        },
        at,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// If allowed, the matching allow rule names the caller's account, in
    /// `accounts` or literally in a principal pattern.
    #[test]
    fn every_allow_pins_the_callers_account(rules in rules(4), (c, prof, d) in request(), at in instant()) {
        let Some(p) = load(&rules) else { return Ok(()) };
        let decision = decide(&p, c, prof, d, at);
        if let Outcome::Allow(g) = &decision.outcome {
            let m = decision.rule.as_ref().expect("an allow names its rule");
            let rule = &p.rules()[m.index];
            prop_assert_eq!(rule.effect(), Effect::Allow);
            let account = CALLERS[c].split(':').nth(4).expect("account field");
            let by_accounts = rule.accounts().is_some_and(|a| a.iter().any(|x| x == account));
            let by_principal = rule.principal_patterns().is_some_and(|ps| {
                ps.iter().any(|pat| pat.split(':').nth(4) == Some(account))
            });
            prop_assert!(by_accounts || by_principal, "rule {} allowed {}", rule.describe(), CALLERS[c]);
            prop_assert!(g.duration_seconds >= MIN_SESSION_SECONDS);
            prop_assert!(g.duration_seconds <= g.max_duration_seconds);
            prop_assert!(g.max_duration_seconds <= g.profile.max_duration_seconds);
            prop_assert!(rule.max_duration_seconds().is_none_or(|m| g.max_duration_seconds <= m));
            prop_assert!(d.is_none_or(|d| d == g.duration_seconds));
        }
    }

    /// Adding a deny rule at the top never turns a deny into an allow.
    #[test]
    fn deny_on_top_never_allows_more(
        rules in rules(4),
        top in rule("top-deny".into(), Some("deny")),
        (c, prof, d) in request(),
        at in instant(),
    ) {
        let Some(base) = load(&rules) else { return Ok(()) };
        let mut with_top = vec![top];
        with_top.extend(rules.iter().cloned());
        let Some(stricter) = load(&with_top) else { return Ok(()) };
        let before = decide(&base, c, prof, d, at);
        let after = decide(&stricter, c, prof, d, at);
        if !before.is_allowed() {
            prop_assert!(!after.is_allowed());
        }
        if after.is_allowed() {
            prop_assert!(before.is_allowed());
        }
    }

    /// Same inputs, same decision; `explain` agrees with `evaluate`.
    #[test]
    fn deterministic_and_explain_agrees(rules in rules(5), (c, prof, d) in request(), at in instant()) {
        let Some(p) = load(&rules) else { return Ok(()) };
        let a = decide(&p, c, prof, d, at);
        let b = decide(&p, c, prof, d, at);
        prop_assert_eq!(format!("{a:?}"), format!("{b:?}"));
        let who = Identity::from_arn(CALLERS[c]).expect("caller parses");
        let e = p.explain(&who, &VendRequest { profile: prof, duration_seconds: d, kind: crate::policy::VendKind::Plain }, at);
        prop_assert_eq!(format!("{a:?}"), format!("{:?}", e.decision));
        match &a.rule {
            Some(m) => {
                prop_assert_eq!(e.steps.len(), m.index + 1);
                prop_assert!(e.steps[m.index].failed.is_none());
            }
            None if a.reason == Reason::UnknownProfile => prop_assert!(e.steps.is_empty()),
            None => prop_assert_eq!(e.steps.len(), p.rules().len()),
        }
        for s in e.steps.iter().take(e.steps.len().saturating_sub(usize::from(a.rule.is_some()))) {
            prop_assert!(s.failed.is_some());
        }
    }

    /// `allowed_profiles` lists exactly the profiles a duration-less request would get.
    #[test]
    fn allowed_profiles_agrees_with_evaluate(rules in rules(4), c in 0..CALLERS.len(), at in instant()) {
        let Some(p) = load(&rules) else { return Ok(()) };
        let who = Identity::from_arn(CALLERS[c]).expect("caller parses");
        let listed: Vec<String> = p.allowed_profiles_for(&who, at).iter().map(|a| a.profile.name.clone()).collect();
        let expected: Vec<String> = p
            .profiles()
            .filter(|pr| decide(&p, c, &pr.name, None, at).is_allowed())
            .map(|pr| pr.name.clone())
            .collect();
        prop_assert_eq!(listed, expected);
    }
}

/// `arn` with the case of the characters after its first `/` (the names: path,
/// role, session, user) flipped where `flips` says so; the type keyword and
/// everything before it stay as STS writes them.
fn recase(arn: &str, flips: &[bool]) -> String {
    let names_from = arn.find('/').map_or(arn.len(), |i| i + 1);
    let (head, names) = arn.split_at(names_from);
    let names: String = names
        .chars()
        .zip(flips.iter().chain(std::iter::repeat(&false)))
        .map(|(c, &flip)| match (flip, c.is_ascii_lowercase()) {
            (false, _) => c,
            (true, true) => c.to_ascii_uppercase(),
            (true, false) => c.to_ascii_lowercase(),
        })
        .collect();
    format!("{head}{names}")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The same caller under any case of its names gets the same decision from
    /// the same rule: a deny cannot be dodged, nor an allow lost, by case.
    #[test]
    fn decisions_ignore_the_case_of_names(
        rules in rules(4),
        (c, prof, d) in request(),
        at in instant(),
        flips in prop::collection::vec(any::<bool>(), 0..64),
    ) {
        let Some(p) = load(&rules) else { return Ok(()) };
        let req = VendRequest { profile: prof, duration_seconds: d, kind: crate::policy::VendKind::Plain };
        let recased = recase(CALLERS[c], &flips);
        let a = p.evaluate_identity(&Identity::from_arn(CALLERS[c]).expect("parses"), &req, at);
        let b = p.evaluate_identity(&Identity::from_arn(&recased).expect("parses"), &req, at);
        prop_assert_eq!(a.is_allowed(), b.is_allowed(), "{} vs {}", CALLERS[c], recased);
        prop_assert_eq!(a.rule, b.rule);
        prop_assert_eq!(a.reason, b.reason);
    }
}

#[test]
fn recase_flips_only_names() {
    assert_eq!(
        recase(
            "arn:aws:sts::777788889999:assumed-role/Admin/mallory@example.com",
            &[true; 64]
        ),
        "arn:aws:sts::777788889999:assumed-role/aDMIN/MALLORY@EXAMPLE.COM"
    );
    assert_eq!(recase(CALLERS[5], &[true; 64]), CALLERS[5]);
}

/// Guards the properties above against vacuity: enough random policies load,
/// and enough of their decisions are allows.
#[test]
fn generators_are_not_vacuous() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut loaded, mut allows) = (0, 0);
    for _ in 0..400 {
        let rs = rules(4).new_tree(&mut runner).expect("tree").current();
        let (c, prof, d) = request().new_tree(&mut runner).expect("tree").current();
        let at = instant().new_tree(&mut runner).expect("tree").current();
        if let Some(p) = load(&rs) {
            loaded += 1;
            allows += usize::from(decide(&p, c, prof, d, at).is_allowed());
        }
    }
    assert!(loaded >= 360, "only {loaded}/400 random policies loaded");
    assert!(
        allows >= 20,
        "only {allows} allows among {loaded} loaded policies"
    );
}
