//! Policy evaluation cost (issue #4, item 8): one decision against a policy of
//! 1,000 rules, where the match is the last rule and where nothing matches,
//! plus a small realistic policy for scale.
//!
//! The 999 filler rules are in the caller's account and fail on their
//! `principals` glob, so every one of them runs the account check and a glob
//! match: close to the worst case per rule. Run with
//! `cargo bench --bench policy` (add `-- --quick` for a short run).

use std::hint::black_box;

use criterion::Criterion;
use jiff::Timestamp;
use tvm::identity::Identity;
use tvm::policy::{Policy, VendRequest};

/// Rules in the large policy.
const RULES: usize = 1_000;

/// A Monday, 10:00 in Berlin: inside the office-hours window of the last rule.
const AT: &str = "2025-01-06T09:00:00Z";

const CALLER: &str =
    "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123abcd/alice@example.com";

fn large_policy() -> Policy {
    let mut text = String::from(
        "version: 1\nprofiles:\n  prod-admin:\n    role_arn: arn:aws:iam::111122223333:role/TvmProtected-ProdAdmin\n    max_duration: 1h\n  dev-admin:\n    role_arn: arn:aws:iam::111122223333:role/TvmProtected-DevAdmin\nrules:\n",
    );
    for i in 0..RULES - 1 {
        text.push_str(&format!(
            "  - name: team-{i}\n    effect: allow\n    accounts: [\"111122223333\"]\n    principals: [\"arn:aws:sts::111122223333:assumed-role/Team{i}-*/*\", \"arn:aws:iam::111122223333:role/Team{i}-ci\"]\n    users: [\"*@example.com\"]\n    profiles: [\"prod-*\"]\n",
        ));
    }
    text.push_str(
        "  - name: platform-admins-office-hours\n    effect: allow\n    accounts: [\"111122223333\"]\n    principals: [\"arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_*/*\"]\n    users: [\"*@example.com\"]\n    profiles: [\"prod-*\"]\n    time: {days: [mon, tue, wed, thu, fri], hours: {start: \"08:00\", end: \"18:00\"}, timezone: Europe/Berlin}\n    max_duration: 30m\n",
    );
    Policy::from_yaml(&text).expect("benchmark policy loads")
}

fn small_policy() -> Policy {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/config/policy.yaml");
    Policy::load(std::path::Path::new(path)).expect("config/policy.yaml loads")
}

fn bench(c: &mut Criterion) {
    let large = large_policy();
    let small = small_policy();
    let who = Identity::from_arn(CALLER).expect("caller ARN parses");
    let at: Timestamp = AT.parse().expect("timestamp");
    let last = VendRequest {
        profile: "prod-admin",
        duration_seconds: Some(1_800),
        kind: tvm::policy::VendKind::Plain,
    };
    // dev-admin is covered by no rule: all 1,000 rules are tried and fail.
    let none = VendRequest {
        profile: "dev-admin",
        duration_seconds: None,
        kind: tvm::policy::VendKind::Plain,
    };
    assert!(large.evaluate_identity(&who, &last, at).is_allowed());
    assert_eq!(
        large
            .evaluate_identity(&who, &last, at)
            .rule
            .map(|r| r.index),
        Some(RULES - 1)
    );
    assert!(!large.evaluate_identity(&who, &none, at).is_allowed());

    let mut g = c.benchmark_group("policy");
    g.bench_function("1000_rules_match_last", |b| {
        b.iter(|| black_box(large.evaluate_identity(black_box(&who), black_box(&last), at)))
    });
    g.bench_function("1000_rules_no_match", |b| {
        b.iter(|| black_box(large.evaluate_identity(black_box(&who), black_box(&none), at)))
    });
    g.bench_function("example_policy_match", |b| {
        b.iter(|| black_box(small.evaluate_identity(black_box(&who), black_box(&last), at)))
    });
    g.finish();
}

fn main() {
    // Written out instead of `criterion_main!`, whose generated items carry no
    // docs and would trip the crate's `missing_docs` lint.
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
}
