//! The IAM side over an in-memory SQLite with a manual clock and a fake IAM:
//! derivation (values, sorting, expiry, the 60% rule), the queue (coalescing,
//! failures and their webhook, `NoSuchEntity` on delete, another
//! deployment's Sid, the re-check, leases), per-revocation status, the check
//! and manual mode's text.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use sqlx::Row;

use super::*;
use crate::approvals::{WebhookTarget, Webhooks};
use crate::clock::{Clock, ManualClock};
use crate::config::DeploymentId;
use crate::identity::StampPrefix;
use crate::metrics::Metrics;

const T0: i64 = 1_800_000_000;
const ROLE: &str = "arn:aws:iam::111122223333:role/TvmProdAdmin";
const ADMIN: &str = "arn:aws:iam::111122223333:user/ops/root-admin";
const POLICY_NAME: &str = "tvm-revocations-tvm-prod";

/// IAM in memory: policies by (role name, policy name), every call logged,
/// errors to answer next.
#[derive(Default)]
pub(super) struct FakeIam {
    pub policies: Mutex<BTreeMap<(String, String), String>>,
    pub calls: Mutex<Vec<String>>,
    pub put_error: Mutex<Option<IamError>>,
    pub delete_error: Mutex<Option<IamError>>,
    pub connects: Mutex<Vec<OnBehalf>>,
}

impl FakeIam {
    fn calls(&self, verb: &str) -> usize {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .filter(|c| c.starts_with(verb))
            .count()
    }

    fn doc(&self) -> Option<String> {
        self.policies
            .lock()
            .unwrap()
            .get(&("TvmProdAdmin".into(), POLICY_NAME.into()))
            .cloned()
    }
}

#[async_trait]
impl Iam for FakeIam {
    async fn get_role_policy(&self, role: &str, name: &str) -> Result<Option<String>, IamError> {
        self.calls.lock().unwrap().push(format!("get {role}"));
        Ok(self
            .policies
            .lock()
            .unwrap()
            .get(&(role.into(), name.into()))
            .cloned())
    }
    async fn put_role_policy(&self, role: &str, name: &str, doc: &str) -> Result<(), IamError> {
        self.calls.lock().unwrap().push(format!("put {role}"));
        if let Some(e) = self.put_error.lock().unwrap().clone() {
            return Err(e);
        }
        self.policies
            .lock()
            .unwrap()
            .insert((role.into(), name.into()), doc.into());
        Ok(())
    }
    async fn delete_role_policy(&self, role: &str, name: &str) -> Result<(), IamError> {
        self.calls.lock().unwrap().push(format!("delete {role}"));
        if let Some(e) = self.delete_error.lock().unwrap().clone() {
            return Err(e);
        }
        self.policies
            .lock()
            .unwrap()
            .remove(&(role.into(), name.into()));
        Ok(())
    }
}

struct FakeAccess(Arc<FakeIam>);

#[async_trait]
impl IamAccess for FakeAccess {
    async fn connect(&self, _: &RoleRef, on_behalf: &OnBehalf) -> Result<Arc<dyn Iam>, IamError> {
        self.0.connects.lock().unwrap().push(on_behalf.clone());
        Ok(self.0.clone())
    }
}

pub(super) struct Fixture {
    pub pool: sqlx::AnyPool,
    pub clock: ManualClock,
    pub iam: Arc<FakeIam>,
    pub policies: IamPolicies,
    pub applier: Applier,
    pub metrics: Metrics,
}

fn naming() -> Naming {
    Naming::new(
        StampPrefix::parse("tvm").unwrap(),
        DeploymentId::parse("prod").unwrap(),
    )
}

pub(super) async fn fixture(manual: bool) -> Fixture {
    let db = crate::database::connect("sqlite::memory:").await.unwrap();
    let clock = ManualClock::new(Timestamp::from_second(T0).unwrap());
    let iam = Arc::new(FakeIam::default());
    let access: Option<Arc<dyn IamAccess>> = if manual {
        None
    } else {
        Some(Arc::new(FakeAccess(iam.clone())))
    };
    let policies = IamPolicies::new(db.pool.clone(), naming(), access, Arc::new(clock.clone()));
    let metrics = Metrics::new();
    let webhooks = Arc::new(Webhooks::new(vec![WebhookTarget::new(
        "https://hooks.example.com/x".into(),
        vec!["revocation.failed".into()],
        b"k".to_vec(),
    )]));
    let applier = policies.applier(webhooks, metrics.clone());
    Fixture {
        pool: db.pool,
        clock,
        iam,
        policies,
        applier,
        metrics,
    }
}

impl Fixture {
    fn now(&self) -> i64 {
        self.clock.now().as_second()
    }

    fn advance(&self, secs: i64) {
        self.clock.advance(SignedDuration::from_secs(secs));
    }

    /// A revocation of one live session on ROLE (request id from `n`),
    /// bumping the role's queue row as the revoking transaction does.
    async fn revoke_session(&self, n: u32, self_service: bool, lives: i64) -> String {
        let id = format!("{n:016x}");
        let request_id = format!("{n:012x}");
        self.insert_revocation(&id, "session", self_service).await;
        sqlx::query(
            "INSERT INTO sessions (row_id, access_key_id, state, request_id, created_at, \
             expires_at, caller_arn, caller_user_id, caller_account, caller_access_key_id, \
             client_address, username, profile, role_arn, kind, source_identity, session_name, \
             revocation_id, revoked_at) VALUES ($1, $2, 'issued', $3, $4, $5, 'arn', 'AIDA', \
             '111122223333', 'AKIA', '127.0.0.1', 'alice', 'prod-admin', $6, 'direct', $7, \
             $8, $9, $4)",
        )
        .bind(format!("row{n}"))
        .bind(format!("ASIA{n:016}"))
        .bind(&request_id)
        .bind(self.now())
        .bind(self.now() + lives)
        .bind(ROLE)
        .bind(format!("tvm.alice.direct.{request_id}"))
        .bind(format!("tvm-alice-{request_id}"))
        .bind(&id)
        .execute(&self.pool)
        .await
        .unwrap();
        self.bump().await;
        id
    }

    async fn insert_revocation(&self, id: &str, kind: &str, self_service: bool) {
        sqlx::query(
            "INSERT INTO revocations (id, kind, target_type, target, reason, by_arn, by_user_id, \
             self_service, suspends, created_at, request_id) VALUES ($1, $2, 'SessionId', 't', \
             'r', $3, 'AIDA', $4, 0, $5, 'aaaaaaaaaaaa')",
        )
        .bind(id)
        .bind(kind)
        .bind(ADMIN)
        .bind(i64::from(self_service))
        .bind(self.now())
        .execute(&self.pool)
        .await
        .unwrap();
    }

    /// A revoked grant with one session vended on ROLE under it.
    async fn revoke_grant(&self, grant: &str, grant_ends: i64, session_ends: i64) -> String {
        let id = format!("9{}", &grant[1..]);
        self.insert_revocation(&id, "grant", false).await;
        sqlx::query(
            "INSERT INTO approval_requests (id, status, profile, rule_name, rule_digest, \
             approvals_needed, grant_seconds, requester_arn, requester_user_id, \
             requester_canonical, requester_username, reason, duration_seconds, created_at, \
             expires_at, grant_expires_at, version, revocation_id) VALUES ($1, 'revoked', \
             'prod-admin', 'r', 'd', 1, 3600, 'arn', 'AIDA', 'arn', 'alice', 'x', 900, $2, $2, \
             $3, 1, $4)",
        )
        .bind(grant)
        .bind(self.now())
        .bind(self.now() + grant_ends)
        .bind(&id)
        .execute(&self.pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO sessions (row_id, access_key_id, state, request_id, created_at, \
             expires_at, caller_arn, caller_user_id, caller_account, caller_access_key_id, \
             client_address, username, profile, role_arn, kind, grant_id, source_identity, \
             session_name, revocation_id, revoked_at) VALUES ('g1', 'ASIAGRANT', 'issued', \
             'bbbbbbbbbbbb', $1, $2, 'arn', 'AIDA', '111122223333', 'AKIA', '127.0.0.1', \
             'alice', 'prod-admin', $3, 'approval', $4, $5, 'tvm-alice-bbbbbbbbbbbb', $6, $1)",
        )
        .bind(self.now())
        .bind(self.now() + session_ends)
        .bind(ROLE)
        .bind(grant)
        .bind(format!("tvm.alice.apr-{}.bbbbbbbbbbbb", &grant[..8]))
        .bind(&id)
        .execute(&self.pool)
        .await
        .unwrap();
        self.bump().await;
        id
    }

    async fn bump(&self) {
        let bumped = sqlx::query(
            "UPDATE revocation_roles SET desired_version = desired_version + 1, updated_at = $2 \
             WHERE role_arn = $1",
        )
        .bind(ROLE)
        .bind(self.now())
        .execute(&self.pool)
        .await
        .unwrap();
        if bumped.rows_affected() == 0 {
            sqlx::query(
                "INSERT INTO revocation_roles (role_arn, desired_version, applied_version, \
                 status, updated_at) VALUES ($1, 1, 0, 'pending', $2)",
            )
            .bind(ROLE)
            .bind(self.now())
            .execute(&self.pool)
            .await
            .unwrap();
        }
    }

    async fn row(&self) -> (String, Option<String>, i64, i64) {
        let r = sqlx::query(
            "SELECT status, error, desired_version, applied_version FROM revocation_roles \
             WHERE role_arn = $1",
        )
        .bind(ROLE)
        .fetch_one(&self.pool)
        .await
        .unwrap();
        (r.get(0), r.get(1), r.get::<i64, _>(2), r.get::<i64, _>(3))
    }

    async fn outbox(&self) -> Vec<String> {
        sqlx::query("SELECT body FROM webhook_outbox WHERE event = 'revocation.failed'")
            .fetch_all(&self.pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    }
}

fn value(pattern: &str, ends: i64, id: &str, own: bool) -> DenyValue {
    DenyValue {
        pattern: pattern.into(),
        expires_at: T0 + ends,
        revocation_id: id.into(),
        revoked_at: T0,
        self_service: own,
    }
}

#[test]
fn the_document_is_sorted_unique_and_drops_expired_values() {
    let sid = naming().sid();
    assert_eq!(sid, "TvmRevokedSessionsProd");
    let values = [
        value("tvm.*.bbbbbbbbbbbb", 60, "r2", false),
        value("tvm.*.aaaaaaaaaaaa", 30, "r1", false),
        value("tvm.*.aaaaaaaaaaaa", 90, "r3", false),
        value("tvm.*.cccccccccccc", 0, "r4", false),
    ];
    let d = derive(&sid, &values, T0);
    assert_eq!(d.values, ["tvm.*.aaaaaaaaaaaa", "tvm.*.bbbbbbbbbbbb"]);
    assert_eq!(
        d.document.as_deref().unwrap(),
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"TvmRevokedSessionsProd","Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringLike":{"aws:SourceIdentity":["tvm.*.aaaaaaaaaaaa","tvm.*.bbbbbbbbbbbb"]}}}]}"#
    );
    assert_eq!(
        d.next_expiry,
        Some(T0 + 60),
        "the latest end of a shared value counts"
    );
    assert!(d.expired.contains("r4") && !d.expired.contains("r1"));
    // The same rows in another order give the same bytes.
    let mut reversed = values.to_vec();
    reversed.reverse();
    assert_eq!(derive(&sid, &reversed, T0), d);
    // Everything expired: no document (the policy is deleted).
    let gone = derive(&sid, &values, T0 + 90);
    assert_eq!(gone.document, None);
    assert_eq!(gone.next_expiry, None);
    assert_eq!(gone.expired.len(), 4);
    let n = Naming::new(
        StampPrefix::parse("tvm").unwrap(),
        DeploymentId::parse("prod-eu1").unwrap(),
    );
    assert_eq!(n.sid(), "TvmRevokedSessionsProdEu1");
    assert_eq!(n.policy_name(), "tvm-revocations-tvm-prod-eu1");
    assert_eq!(
        n.grant_pattern("c02e42f3a2d43d42"),
        "tvm.*.apr-c02e42f3.????????????"
    );
}

#[test]
fn self_service_values_stop_at_sixty_percent_and_incidents_never_do() {
    let sid = naming().sid();
    let mut values = Vec::new();
    // 500 self-service revocations of one session each, oldest first.
    for i in 0..500i64 {
        let mut v = value(
            &format!("tvm.*.{i:012x}"),
            3600,
            &format!("own{i:04}"),
            true,
        );
        v.revoked_at = T0 + i;
        values.push(v);
    }
    let d = derive(&sid, &values, T0);
    let len = d.document.as_ref().unwrap().len();
    assert!(len < IAM_INLINE_LIMIT * 60 / 100, "{len}");
    assert!(!d.skipped.is_empty());
    // The oldest are the ones kept, the newest skipped.
    assert!(d.written.contains("own0000") && d.skipped.contains("own0499"));
    assert_eq!(d.written.len() + d.skipped.len(), 500);
    // The next value would have crossed 60%.
    let one_more = render(
        &sid,
        &[d.values.clone(), vec!["tvm.*.ffffffffffff".into()]].concat(),
    );
    assert!(one_more.len() >= IAM_INLINE_LIMIT * 60 / 100);
    // An incident's 500 values are all written, past 60% and past the limit.
    for i in 0..500i64 {
        values.push(value(
            &format!("tvm.*.{:012x}", 10_000 + i),
            3600,
            "incident",
            false,
        ));
    }
    let d = derive(&sid, &values, T0);
    assert!(d.document.as_ref().unwrap().len() > IAM_INLINE_LIMIT);
    assert!(d.written.contains("incident"));
    assert_eq!(d.skipped.len(), 500, "no room left for self-service");
}

#[test]
fn another_deployments_sid_is_recognised() {
    let ours = "TvmRevokedSessionsProd";
    let theirs = render("TvmRevokedSessionsDr", &["tvm.*.aaaaaaaaaaaa".into()]);
    assert_eq!(
        foreign_sid(&theirs, ours).as_deref(),
        Some("TvmRevokedSessionsDr")
    );
    let mine = render(ours, &["tvm.*.aaaaaaaaaaaa".into()]);
    assert_eq!(foreign_sid(&mine, ours), None);
    assert_eq!(foreign_sid(r#"{"Statement":{"Sid":"Other"}}"#, ours), None);
    assert!(same_document(
        &mine,
        &mine.replace(',', ", ").replace("\":", "\": ")
    ));
}

#[tokio::test]
async fn a_burst_of_twenty_revocations_on_one_role_is_at_most_two_writes() {
    let f = fixture(false).await;
    let mut ids = Vec::new();
    for n in 1..=20 {
        ids.push(f.revoke_session(n, false, 3600).await);
        f.applier.once().await.unwrap();
        f.advance(0);
    }
    // Passes during the next 9 s write nothing more.
    for _ in 0..9 {
        f.advance(1);
        f.applier.once().await.unwrap();
    }
    assert_eq!(f.iam.calls("put"), 1);
    f.advance(1);
    f.applier.once().await.unwrap();
    assert_eq!(f.iam.calls("put"), 2, "the second write carries the rest");
    let doc = f.iam.doc().unwrap();
    for n in 1..=20u32 {
        assert!(doc.contains(&format!("tvm.*.{n:012x}")), "{n}");
    }
    let (status, error, desired, applied) = f.row().await;
    assert_eq!(
        (status.as_str(), error, desired),
        ("applied", None, applied)
    );
    // Nothing left to do: more passes call nothing.
    f.advance(30);
    let before = f.iam.calls.lock().unwrap().len();
    f.applier.once().await.unwrap();
    assert_eq!(f.iam.calls.lock().unwrap().len(), before);
    // The revoker session named the newest revocation.
    let last = f.iam.connects.lock().unwrap().last().cloned().unwrap();
    assert_eq!(last.revocation_id, ids[19]);
    assert_eq!(last.by_arn, ADMIN);
    let roles = f.policies.roles(&ids[0]).await.unwrap();
    assert_eq!(roles[0].status, "applied");
    assert_eq!(roles[0].policy.as_deref(), Some(doc.as_str()));
}

#[tokio::test]
async fn limit_exceeded_fails_the_role_once_with_a_webhook() {
    let f = fixture(false).await;
    *f.iam.put_error.lock().unwrap() = Some(IamError::LimitExceeded("over 10240".into()));
    let id = f.revoke_session(1, false, 3600).await;
    f.applier.once().await.unwrap();
    let (status, error, desired, applied) = f.row().await;
    assert_eq!(status, "failed");
    assert!(error.unwrap().starts_with("LimitExceeded"));
    assert_eq!(desired, applied, "settled: not retried in a loop");
    let hooks = f.outbox().await;
    assert_eq!(hooks.len(), 1);
    let body: serde_json::Value = serde_json::from_str(&hooks[0]).unwrap();
    assert_eq!(body["event"], "revocation.failed");
    assert_eq!(body["request"]["RoleArn"], ROLE);
    assert_eq!(body["request"]["Policy"], POLICY_NAME);
    assert!(body["text"].as_str().unwrap().contains("LimitExceeded"));
    assert_eq!(f.policies.roles(&id).await.unwrap()[0].status, "failed");
    // Another revocation on the same role fails again: no second webhook.
    f.advance(10);
    f.revoke_session(2, false, 3600).await;
    f.applier.once().await.unwrap();
    assert_eq!(f.iam.calls("put"), 2);
    assert_eq!(f.outbox().await.len(), 1);
    assert_eq!(
        f.metrics
            .revocation_iam
            .applies
            .with_label_values(&["failed"])
            .get(),
        2
    );
    f.applier.refresh_gauge().await.unwrap();
    assert_eq!(
        f.metrics
            .revocation_iam
            .roles
            .with_label_values(&["failed"])
            .get(),
        1
    );
    // Throttling is retried as pending, without a webhook.
    *f.iam.put_error.lock().unwrap() = Some(IamError::Throttled("slow down".into()));
    f.advance(10);
    f.revoke_session(3, false, 3600).await;
    f.applier.once().await.unwrap();
    let (status, _, desired, applied) = f.row().await;
    assert_eq!(status, "pending");
    assert!(desired > applied);
    *f.iam.put_error.lock().unwrap() = None;
    f.advance(5);
    f.applier.once().await.unwrap();
    assert_eq!(f.iam.calls("put"), 3, "not within 10 s of the last attempt");
    f.advance(5);
    f.applier.once().await.unwrap();
    assert_eq!(f.row().await.0, "applied");
}

#[tokio::test]
async fn expired_values_are_dropped_and_the_last_one_deletes_the_policy() {
    let f = fixture(false).await;
    let short = f.revoke_session(1, false, 100).await;
    let long = f.revoke_session(2, false, 1000).await;
    f.applier.once().await.unwrap();
    assert!(f.iam.doc().unwrap().contains("tvm.*.000000000001"));
    f.advance(100);
    f.applier.once().await.unwrap();
    let doc = f.iam.doc().unwrap();
    assert!(!doc.contains("tvm.*.000000000001") && doc.contains("tvm.*.000000000002"));
    assert_eq!(f.policies.roles(&short).await.unwrap()[0].status, "expired");
    assert_eq!(f.policies.roles(&long).await.unwrap()[0].status, "applied");
    // The last value ends; the policy is removed even though IAM says it
    // is already gone (NoSuchEntity on delete counts as done).
    *f.iam.delete_error.lock().unwrap() = Some(IamError::NoSuchEntity("gone".into()));
    f.advance(900);
    f.applier.once().await.unwrap();
    assert_eq!(f.iam.calls("delete"), 1);
    assert_eq!(f.row().await.0, "expired");
    assert_eq!(
        f.iam.connects.lock().unwrap().last().unwrap().revocation_id,
        long
    );
    f.advance(RECHECK_INTERVAL_SECS);
    f.applier.once().await.unwrap();
    assert_eq!(
        f.iam.calls("delete"),
        1,
        "an expired role is not re-checked"
    );
}

#[tokio::test]
async fn a_policy_holding_another_deployments_sid_is_never_overwritten() {
    let f = fixture(false).await;
    let theirs = render("TvmRevokedSessionsDr", &["tvm.*.dddddddddddd".into()]);
    f.iam
        .policies
        .lock()
        .unwrap()
        .insert(("TvmProdAdmin".into(), POLICY_NAME.into()), theirs.clone());
    f.revoke_session(1, false, 3600).await;
    f.applier.once().await.unwrap();
    let (status, error, _, _) = f.row().await;
    assert_eq!(status, "failed");
    assert!(error.unwrap().contains("TvmRevokedSessionsDr"));
    assert_eq!(f.iam.calls("put"), 0);
    assert_eq!(f.iam.doc().unwrap(), theirs);
    assert_eq!(f.outbox().await.len(), 1);
}

#[tokio::test]
async fn the_recheck_rewrites_a_policy_removed_behind_tvms_back() {
    let f = fixture(false).await;
    let id = f.revoke_session(1, false, 7200).await;
    f.applier.once().await.unwrap();
    let written = f.iam.doc().unwrap();
    f.iam.policies.lock().unwrap().clear();
    f.advance(RECHECK_INTERVAL_SECS - 1);
    f.applier.once().await.unwrap();
    assert_eq!(f.iam.doc(), None, "not due before 10 minutes");
    assert_eq!(
        f.policies.check(&id, ADMIN).await.unwrap(),
        [RoleCheck {
            role_arn: ROLE.into(),
            state: CheckState::Missing
        }]
    );
    f.advance(1);
    f.applier.once().await.unwrap();
    assert_eq!(f.iam.doc().as_deref(), Some(written.as_str()));
    assert_eq!(
        f.policies.check(&id, ADMIN).await.unwrap()[0].state,
        CheckState::InSync
    );
    // A policy edited by hand differs, and the next re-check repairs it.
    f.iam.policies.lock().unwrap().insert(
        ("TvmProdAdmin".into(), POLICY_NAME.into()),
        render(&naming().sid(), &[]),
    );
    assert_eq!(
        f.policies.check(&id, ADMIN).await.unwrap()[0].state,
        CheckState::Differs
    );
    let unchanged = f.iam.calls("put");
    f.advance(RECHECK_INTERVAL_SECS);
    f.applier.once().await.unwrap();
    assert_eq!(f.iam.calls("put"), unchanged + 1);
    assert_eq!(f.iam.doc().as_deref(), Some(written.as_str()));
}

#[tokio::test]
async fn a_revoked_grant_denies_its_pattern_and_its_sessions() {
    let f = fixture(false).await;
    let id = f.revoke_grant("c02e42f3a2d43d42", 3600, 1800).await;
    f.applier.once().await.unwrap();
    let doc = f.iam.doc().unwrap();
    assert!(
        doc.contains(r#""tvm.*.apr-c02e42f3.????????????""#),
        "{doc}"
    );
    assert!(doc.contains("tvm.*.bbbbbbbbbbbb"));
    assert_eq!(f.policies.roles(&id).await.unwrap()[0].status, "applied");
}

#[tokio::test]
async fn a_self_service_revocation_over_sixty_percent_is_skipped() {
    let f = fixture(false).await;
    // An incident filling more than 60% on its own.
    for n in 1..=300 {
        f.revoke_session(n, false, 3600).await;
    }
    let own = f.revoke_session(1000, true, 3600).await;
    f.applier.once().await.unwrap();
    assert!(!f
        .iam
        .doc()
        .unwrap()
        .contains(&format!("tvm.*.{:012x}", 1000)));
    assert_eq!(f.policies.roles(&own).await.unwrap()[0].status, "skipped");
}

#[tokio::test]
async fn manual_mode_never_calls_iam_and_prints_the_command() {
    let f = fixture(true).await;
    let id = f.revoke_session(1, false, 3600).await;
    f.applier.once().await.unwrap();
    assert!(f.iam.calls.lock().unwrap().is_empty());
    assert_eq!(f.row().await.0, "manual");
    let roles = f.policies.roles(&id).await.unwrap();
    assert_eq!(roles[0].status, "manual");
    assert!(matches!(
        f.policies.check(&id, ADMIN).await,
        Err(CheckError::Manual)
    ));
    let doc = roles[0].policy.clone().unwrap();
    let text = instructions(ROLE, "manual", Some(&doc), POLICY_NAME, f.clock.now());
    assert!(text.contains(&format!(
        "aws iam put-role-policy --role-name 'TvmProdAdmin' --policy-name '{POLICY_NAME}' \
         --policy-document '{doc}'"
    )));
    assert!(text.contains(r#""Effect":"Deny""#) && text.contains("SCP"));
    assert!(text.contains(r#""aws:SourceIdentity":["tvm.*.000000000001"]"#));
    let failed = instructions(ROLE, "failed", Some(&doc), POLICY_NAME, f.clock.now());
    assert!(failed.contains(AWS_REVOKE_POLICY_NAME));
    assert!(
        failed.contains(r#""aws:TokenIssueTime":"2027-01-15T08:00:00Z""#),
        "{failed}"
    );
    let gone = instructions(ROLE, "expired", None, POLICY_NAME, f.clock.now());
    assert!(gone.contains("aws iam delete-role-policy --role-name 'TvmProdAdmin'"));
}

#[tokio::test]
async fn only_one_worker_holds_a_role() {
    let f = fixture(false).await;
    f.revoke_session(1, false, 3600).await;
    let now = f.now();
    assert!(store::lease(&f.pool, ROLE, "a", now, now + LEASE_SECS)
        .await
        .unwrap());
    assert!(!store::lease(&f.pool, ROLE, "b", now, now + LEASE_SECS)
        .await
        .unwrap());
    // The worker finds the role leased and leaves it.
    assert_eq!(f.applier.once().await.unwrap(), 0);
    assert_eq!(f.iam.calls.lock().unwrap().len(), 0);
    // An expired lease is taken over.
    f.advance(LEASE_SECS + 1);
    assert_eq!(f.applier.once().await.unwrap(), 1);
    assert_eq!(f.iam.calls("put"), 1);
}

#[tokio::test]
async fn roles_left_manual_are_written_once_a_revoker_role_is_configured() {
    let manual = fixture(true).await;
    let id = manual.revoke_session(1, false, 3600).await;
    manual.applier.once().await.unwrap();
    assert_eq!(manual.row().await.0, "manual");
    // The same database, now with a revoker role.
    let iam = Arc::new(FakeIam::default());
    let writer = IamPolicies::new(
        manual.pool.clone(),
        naming(),
        Some(Arc::new(FakeAccess(iam.clone()))),
        Arc::new(manual.clock.clone()),
    )
    .applier_with_targets(Vec::new(), Metrics::new());
    manual.advance(1);
    assert_eq!(writer.once().await.unwrap(), 1);
    assert_eq!(iam.calls("put"), 1);
    assert_eq!(manual.row().await.0, "applied");
    assert_eq!(
        manual.policies.roles(&id).await.unwrap()[0].status,
        "applied"
    );
}

#[test]
fn instructions_escape_what_a_hostile_server_could_send() {
    let doc = "{\"Statement\":[{\"Sid\":\"x\u{1b}[2J'; rm -rf ~ '\"}]}";
    let at = Timestamp::from_second(T0).unwrap();
    let text = instructions(
        "arn:aws:iam::111122223333:role/R\u{202e}evil",
        "manual",
        Some(doc),
        "tvm-revocations-tvm-prod\n",
        at,
    );
    let hidden = |t: &str| {
        t.chars()
            .any(|c| matches!(c, '\u{1b}' | '\u{202e}' | '\u{7}'))
    };
    assert!(!hidden(&text), "{text}");
    assert!(
        text.contains("\\u{1b}") && text.contains("\\u{202e}"),
        "{text}"
    );
    // The single quote in the document cannot end the shell argument.
    assert!(text.contains(r"x\u{1b}[2J'\''; rm -rf ~ '\''"), "{text}");
    assert!(
        text.contains(r"--policy-name 'tvm-revocations-tvm-prod\u{a}'"),
        "{text}"
    );
    let text = instructions(ROLE, "manual\u{1b}]0;title\u{7}", None, POLICY_NAME, at);
    assert!(!hidden(&text), "{text}");
}
