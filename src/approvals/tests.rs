//! Service-level tests with a manual clock over an in-memory SQLite: grant
//! ends, request expiry, one person approving once, the audit trail.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use super::*;
use crate::clock::ManualClock;
use crate::identity::RequestId;
use crate::metrics::Metrics;
use crate::policy::Policy;
use crate::reload::PolicyStore;

const POLICY: &str = r#"version: 1
profiles:
  prod-admin:
    role_arn: arn:aws:iam::111122223333:role/TvmProdAdmin
    max_duration: 2h
rules:
  - name: prod
    effect: require_approval
    accounts: ["111122223333"]
    principals: ["arn:aws:iam::111122223333:user/eng/*"]
    profiles: ["prod-admin"]
    approvers:
      principals: ["arn:aws:iam::111122223333:user/eng/*", "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_*/*"]
    approvals_needed: 2
    grant_duration: 30m
"#;

const ALICE: &str = "arn:aws:iam::111122223333:user/eng/alice";
const BOB: &str = "arn:aws:iam::111122223333:user/eng/bob";
const BOB_SSO: &str =
    "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123abcd/bob@example.com";
const DAVE: &str = "arn:aws:iam::111122223333:user/eng/dave";

async fn service() -> (Approvals, ManualClock) {
    let clock = ManualClock::new(Timestamp::from_second(1_800_000_000).unwrap());
    let db = connect("sqlite::memory:").await.unwrap();
    let metrics = Metrics::new();
    let policy = Arc::new(PolicyStore::fixed(
        Policy::from_yaml(POLICY).unwrap(),
        metrics.clone(),
    ));
    let svc = Approvals::new(db, policy, Arc::new(clock.clone()), metrics, Vec::new());
    (svc, clock)
}

fn actor(arn: &str) -> Actor {
    Actor::from_session(arn, &format!("AIDA{}", arn.len())).unwrap()
}

async fn new_request(svc: &Approvals) -> String {
    svc.create(
        &actor(ALICE),
        NewRequest {
            profile: "prod-admin".into(),
            duration_seconds: Some(3_600),
            reason: "rotate keys".into(),
        },
        &RequestId::generate(),
    )
    .await
    .unwrap()
    .id
}

#[tokio::test]
async fn one_person_with_two_identities_approves_once() {
    let (svc, _) = service().await;
    let id = new_request(&svc).await;
    let http = RequestId::generate();
    let v = svc.approve(&actor(BOB), &id, "ok", &http).await.unwrap();
    assert_eq!((v.status, v.approvals.len()), ("pending", 1));
    // Bob again through his Identity Center session: still one approval.
    let v = svc
        .approve(&actor(BOB_SSO), &id, "again", &http)
        .await
        .unwrap();
    assert_eq!((v.status, v.approvals.len()), ("pending", 1));
    let v = svc.approve(&actor(DAVE), &id, "ok", &http).await.unwrap();
    assert_eq!((v.status, v.approvals.len()), ("approved", 2));
    let trail = svc.audit_trail(&id).await.unwrap();
    let actions: Vec<&str> = trail.iter().map(|t| t.0.as_str()).collect();
    assert!(
        actions.contains(&"created") && actions.contains(&"approved"),
        "{actions:?}"
    );
    assert!(trail.iter().any(|t| t.2 == http.as_str()));
}

#[tokio::test]
async fn a_grant_with_under_900_seconds_left_needs_a_new_approval() {
    let (svc, clock) = service().await;
    let id = new_request(&svc).await;
    let http = RequestId::generate();
    svc.approve(&actor(BOB), &id, "", &http).await.unwrap();
    svc.approve(&actor(DAVE), &id, "", &http).await.unwrap();
    let policy = Policy::from_yaml(POLICY).unwrap();
    let rule = &policy.rules()[0];
    let alice = actor(ALICE);
    // 30m grant, 1h requested: a vend gets the 30m that are left.
    let g = svc
        .grant_for_vend(&alice, &id, "prod-admin", rule, None)
        .await
        .unwrap();
    assert_eq!(g.duration_seconds, 1_800);
    let too_long = svc
        .grant_for_vend(&alice, &id, "prod-admin", rule, Some(1_801))
        .await;
    assert!(matches!(too_long, Err(ApprovalError::Duration(_))));
    clock.advance(SignedDuration::from_secs(1_800 - 899));
    let late = svc
        .grant_for_vend(&alice, &id, "prod-admin", rule, None)
        .await;
    assert!(
        matches!(late, Err(ApprovalError::ApprovalRequired)),
        "{late:?}"
    );
    // Another profile or another caller: denied.
    let other = svc
        .grant_for_vend(&actor(BOB), &id, "prod-admin", rule, None)
        .await;
    assert!(matches!(other, Err(ApprovalError::Denied)));
}

#[tokio::test]
async fn pending_requests_expire_after_a_day() {
    let (svc, clock) = service().await;
    let id = new_request(&svc).await;
    clock.advance(SignedDuration::from_secs(REQUEST_TTL_SECONDS));
    let v = svc.get(&actor(ALICE), &id).await.unwrap();
    assert_eq!(v.status, "expired");
    let r = svc
        .approve(&actor(BOB), &id, "", &RequestId::generate())
        .await;
    assert!(matches!(r, Err(ApprovalError::Conflict)));
    // Expired requests no longer count against the five pending.
    for _ in 0..MAX_PENDING_PER_REQUESTER {
        new_request(&svc).await;
    }
}

#[tokio::test]
async fn reasons_and_comments_are_bounded() {
    let (svc, _) = service().await;
    let r = svc
        .create(
            &actor(ALICE),
            NewRequest {
                profile: "prod-admin".into(),
                duration_seconds: None,
                reason: String::new(),
            },
            &RequestId::generate(),
        )
        .await;
    assert!(matches!(r, Err(ApprovalError::Invalid(_))));
    let id = new_request(&svc).await;
    let r = svc
        .deny(&actor(BOB), &id, &"x".repeat(1_001), &RequestId::generate())
        .await;
    assert!(matches!(r, Err(ApprovalError::Invalid(_))));
    assert!(svc.is_approver(&actor(BOB)));
    assert!(
        !svc.is_approver(&Actor::from_session("arn:aws:iam::444455556666:user/x", "A").unwrap())
    );
}

#[tokio::test]
async fn the_audit_trail_keeps_the_order_of_one_second_and_names_who_vended() {
    // Every row below is written in the same second (the clock stands still):
    // only the sequence can keep them in order. Three rounds, so a lucky
    // order of random ids cannot pass.
    let (svc, _) = service().await;
    for _ in 0..3 {
        let id = new_request(&svc).await;
        let http = RequestId::generate();
        svc.approve(&actor(BOB), &id, "", &http).await.unwrap();
        svc.approve(&actor(DAVE), &id, "", &http).await.unwrap();
        let ledger = crate::ledger::Ledger::new(
            svc.database().clone(),
            crate::config::LedgerFailure::Closed,
            crate::config::DEFAULT_RETENTION,
            svc.clock(),
            Metrics::new(),
        );
        let now = svc.clock().now().as_second();
        for n in 0..2 {
            let row = crate::ledger::NewSession::for_tests(ALICE, Some(&id), now);
            let recheck = crate::ledger::Recheck::for_tests(&row);
            let pending = ledger
                .open(row, recheck, &RequestId::generate())
                .await
                .unwrap();
            let key = format!("ASIAVENDED{n}{}", &id[..9]);
            let done = ledger.complete(&pending, &key, now + 900).await.unwrap();
            assert_eq!(done, crate::ledger::Completed::Issued);
        }
        assert_eq!(svc.vends_of(&id).await.unwrap().len(), 2);
        let trail = svc.audit_trail(&id).await.unwrap();
        let got: Vec<(&str, &str)> = trail.iter().map(|t| (t.0.as_str(), t.1.as_str())).collect();
        assert_eq!(
            got,
            [
                ("created", ALICE),
                ("approval_added", BOB),
                ("approved", DAVE),
                ("vended", ALICE),
                ("vended", ALICE),
            ]
        );
    }
}

/// Colleagues in one Identity Center permission set share a role ARN (their
/// canonical principal) but are different people: one filling the cap of
/// pending requests must not lock the others out.
#[tokio::test]
async fn one_permission_set_user_cannot_fill_a_colleagues_pending_cap() {
    let policy = POLICY.replace(
        "principals: [\"arn:aws:iam::111122223333:user/eng/*\"]",
        "principals: [\"arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_*/*\"]",
    );
    let clock = ManualClock::new(Timestamp::from_second(1_800_000_000).unwrap());
    let metrics = Metrics::new();
    let store = PolicyStore::fixed(Policy::from_yaml(&policy).unwrap(), metrics.clone());
    let db = connect("sqlite::memory:").await.unwrap();
    let svc = Approvals::new(db, Arc::new(store), Arc::new(clock), metrics, Vec::new());
    let sso = |user: &str| {
        actor(&format!(
            "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Dev_0123abcd/{user}"
        ))
    };
    let create = |who: Actor| {
        let svc = &svc;
        async move {
            svc.create(
                &who,
                NewRequest {
                    profile: "prod-admin".into(),
                    duration_seconds: Some(3_600),
                    reason: "rotate keys".into(),
                },
                &RequestId::generate(),
            )
            .await
        }
    };
    for _ in 0..MAX_PENDING_PER_REQUESTER {
        create(sso("carol@example.com")).await.unwrap();
    }
    // Carol's sixth, under another domain spelling, is refused: same person.
    let sixth = create(sso("Carol@Example.org")).await;
    assert!(matches!(sixth, Err(ApprovalError::TooMany)), "{sixth:?}");
    // Erin, in the same permission set, still has her own five.
    create(sso("erin@example.com")).await.unwrap();
}
