//! Revocation (DESIGN §13) over real sockets against SQLite: sessions
//! revoked and refused as callers at tvm while the same person's other
//! sessions work, a leaked caller key blocked on every route including an
//! open web-page session, a person revocation of an SSO user that touches no
//! colleague, the visibility rules, dry runs, lifts and a stale replica —
//! each with status, `Code` and the STS calls counted. Vends write their
//! ledger rows themselves; rows of sessions the simulator made (Identity
//! Center sessions, a second key) are inserted here as the ledger would.

use std::time::Duration;

use sqlx::{AnyPool, Row as _};

use crate::support::*;
use crate::ui::{page, session as ui_session};

pub const CAROL_ARN: &str = "arn:aws:iam::111122223333:user/ops/carol";
pub const BOB_ARN: &str = "arn:aws:iam::111122223333:user/eng/bob";
pub const SEC_ARN: &str = "arn:aws:iam::111122223333:user/sec/dave";
pub const SEC2_ARN: &str = "arn:aws:iam::111122223333:user/sec/erin";
const READONLY_ROLE: &str = "arn:aws:iam::111122223333:role/TvmReadOnly";
pub const SSO_ADMIN: &str =
    "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123abcd";
pub const SSO_DEV: &str =
    "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Dev_4567ef01";

pub const POLICY_REV: &str = r#"version: 1
sso_accounts: ["111122223333"]
admins:
  accounts: ["111122223333"]
  principals: ["arn:aws:iam::111122223333:user/sec/*"]
profiles:
  readonly:
    role_arn: arn:aws:iam::111122223333:role/TvmReadOnly
    max_duration: 1h
  prod-admin:
    role_arn: arn:aws:iam::111122223333:role/TvmProdAdmin
    max_duration: 2h
  prod-pair:
    role_arn: arn:aws:iam::111122223333:role/TvmProdAdmin
    max_duration: 2h
rules:
  - name: prod-pair-needs-two
    effect: require_approval
    accounts: ["111122223333"]
    principals: ["arn:aws:iam::111122223333:user/eng/*"]
    profiles: ["prod-pair"]
    approvals_needed: 2
    approvers:
      principals: ["arn:aws:iam::111122223333:user/ops/*", "arn:aws:iam::111122223333:user/eng/*"]
  - name: prod-needs-approval
    effect: require_approval
    accounts: ["111122223333"]
    principals: ["arn:aws:iam::111122223333:user/eng/*"]
    profiles: ["prod-admin"]
    approvers:
      principals: ["arn:aws:iam::111122223333:user/ops/*", "arn:aws:iam::111122223333:user/eng/*"]
  - name: readonly
    effect: allow
    accounts: ["111122223333"]
    principals: ["arn:aws:iam::111122223333:user/eng/*", "arn:aws:iam::111122223333:user/ops/*"]
    profiles: ["readonly"]
"#;

pub struct RevApp {
    pub app: TestApp,
    pub db: AnyPool,
    pub bob: Caller,
    pub carol: Caller,
    pub dave: Caller,
    pub url: String,
    _dir: tempfile::TempDir,
}

pub async fn rev_app_with(opts: Options) -> RevApp {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("tvm.db").display());
    let app = spawn_app_with(Options {
        approvals: true,
        database_url: Some(url.clone()),
        policy_text: Some(POLICY_REV.into()),
        ..opts
    })
    .await;
    let db = tvm::approvals::connect(&url).await.unwrap().pool;
    let bob = app.add_user(BOB_ARN);
    let carol = app.add_user(CAROL_ARN);
    let dave = app.add_user(SEC_ARN);
    RevApp {
        app,
        db,
        bob,
        carol,
        dave,
        url,
        _dir: dir,
    }
}

pub async fn rev_app() -> RevApp {
    rev_app_with(Options::default()).await
}

/// A ledger row as the ledger writes it for an issued vend.
pub struct Row<'a> {
    pub key: &'a str,
    pub caller_arn: &'a str,
    pub caller_user_id: String,
    pub caller_key: &'a str,
    pub sso: Option<&'a str>,
    pub grant: Option<&'a str>,
    pub created_ago: i64,
}

pub async fn ledger(db: &AnyPool, r: Row<'_>) {
    let now = jiff::Timestamp::now().as_second();
    sqlx::query(
        "INSERT INTO sessions (row_id, access_key_id, state, request_id, created_at, expires_at, \
         caller_arn, caller_user_id, caller_account, caller_role_id, sso_person, \
         caller_access_key_id, client_address, username, profile, role_arn, rule_name, kind, \
         grant_id, source_identity, session_name) VALUES ($1, $2, 'issued', $3, $4, $5, $6, $7, \
         '111122223333', NULL, $8, $9, '127.0.0.1', 'u', 'readonly', $10, 'readonly', $11, $12, \
         $13, $14)",
    )
    .bind(tvm::database::new_id())
    .bind(r.key)
    .bind("a2d43d42a691")
    .bind(now - r.created_ago)
    .bind(now + 3_000)
    .bind(r.caller_arn)
    .bind(&r.caller_user_id)
    .bind(r.sso)
    .bind(r.caller_key)
    .bind(READONLY_ROLE)
    .bind(if r.grant.is_some() {
        "approval"
    } else {
        "direct"
    })
    .bind(r.grant)
    .bind("tvm.u.a2d43d42a691")
    .bind("tvm-u-a2d43d42a691")
    .execute(db)
    .await
    .unwrap();
}

/// Vends `readonly` as `who` and returns the vended credentials as a caller
/// (and its AccessKeyId), after checking the ledger row the vend wrote.
async fn vend_session(r: &RevApp, who: &Caller, arn: &str) -> (Caller, String) {
    let a = r.app.vend(who, r#"{"profile": "readonly"}"#).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let c = &a.json();
    let key = c["AccessKeyId"].as_str().unwrap().to_owned();
    // The ledger wrote the row (DESIGN §13: every vend is in the ledger).
    let row = sqlx::query("SELECT caller_arn, caller_user_id, caller_access_key_id FROM sessions WHERE access_key_id = $1 AND state = 'issued'")
        .bind(&key)
        .fetch_one(&r.db)
        .await
        .unwrap();
    assert_eq!(row.try_get::<String, _>(0).unwrap(), arn);
    assert_eq!(
        row.try_get::<String, _>(1).unwrap(),
        r.app.sim.unique_id(arn).unwrap()
    );
    assert_eq!(
        row.try_get::<String, _>(2).unwrap(),
        who.creds.access_key_id()
    );
    let caller = Caller {
        creds: aws_credential_types::Credentials::new(
            key.clone(),
            c["SecretAccessKey"].as_str().unwrap(),
            Some(c["Token"].as_str().unwrap().to_owned()),
            None,
            "test",
        ),
    };
    (caller, key)
}

pub async fn version(db: &AnyPool) -> i64 {
    sqlx::query("SELECT version FROM revocation_state")
        .fetch_one(db)
        .await
        .unwrap()
        .try_get(0)
        .unwrap()
}

pub fn assert_refused(a: &Answer, status: u16, code: &str) {
    assert_eq!((a.status, a.code().as_str()), (status, code), "{}", a.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_session_is_refused_as_a_caller_while_the_same_persons_other_sessions_work() {
    let r = rev_app().await;
    let (first, first_key) = vend_session(&r, &r.app.alice, ALICE_ARN).await;
    let (second, second_key) = vend_session(&r, &r.app.alice, ALICE_ARN).await;
    let mine = r.app.call(&r.app.alice, "GET", "/sessions", "").await;
    assert_eq!(mine.status, 200, "{}", mine.body);
    assert_eq!(mine.json()["Sessions"].as_array().unwrap().len(), 2);

    let path = format!("/sessions/{first_key}/revoke");
    let empty = r
        .app
        .call(&r.app.alice, "POST", &path, r#"{"reason": ""}"#)
        .await;
    assert_refused(&empty, 400, "INVALID_REQUEST");
    let revoked = r
        .app
        .call(
            &r.app.alice,
            "POST",
            &path,
            r#"{"reason": "laptop stolen"}"#,
        )
        .await;
    assert_eq!(revoked.status, 201, "{}", revoked.body);
    let v = revoked.json();
    let id = v["Id"].as_str().unwrap();
    assert_eq!(id.len(), 16);
    assert_eq!(
        revoked.header("location"),
        Some(format!("/revocations/{id}").as_str())
    );
    assert_eq!(v["Kind"], "session");
    assert_eq!(v["Target"], serde_json::json!({"SessionId": first_key}));
    assert_eq!(v["Sessions"], serde_json::json!([first_key]));
    assert_eq!(v["BlockedCallerKeys"], serde_json::json!([first_key]));
    assert_eq!(v["By"], ALICE_ARN);
    assert!(v["LiftedAt"].is_null() && v["SuspendedUntil"].is_null());
    assert_eq!(version(&r.db).await, 1);
    let role =
        sqlx::query("SELECT desired_version, status FROM revocation_roles WHERE role_arn = $1")
            .bind(READONLY_ROLE)
            .fetch_one(&r.db)
            .await
            .unwrap();
    assert_eq!(role.try_get::<i64, _>(0).unwrap(), 1);
    assert_eq!(role.try_get::<String, _>(1).unwrap(), "pending");

    // The revoked session is refused as a caller on every route, before
    // policy and AssumeRole; GetCallerIdentity answers it, tvm does not.
    let assumed = r.app.sts_calls("AssumeRole");
    for (method, p) in [
        ("GET", "/sessions"),
        ("GET", "/profiles"),
        ("GET", "/revocations"),
    ] {
        let a = r.app.call(&first, method, p, "").await;
        assert_refused(&a, 403, "POLICY_DENY");
    }
    let vend = r.app.vend(&first, r#"{"profile": "readonly"}"#).await;
    assert_refused(&vend, 403, "POLICY_DENY");
    assert_eq!(r.app.sts_calls("AssumeRole"), assumed, "STS not called");
    assert!(logs_text().contains("revoked_credentials"));
    // The same person's other session and alice herself still work.
    assert_eq!(
        r.app.call(&second, "GET", "/sessions", "").await.status,
        200
    );
    assert_eq!(
        r.app
            .vend(&r.app.alice, r#"{"profile": "readonly"}"#)
            .await
            .status,
        200
    );

    let shown = r
        .app
        .call(&r.app.alice, "GET", &format!("/sessions/{first_key}"), "")
        .await;
    assert_eq!(shown.json()["Status"], "revoked");
    assert_eq!(shown.json()["RevocationId"], id);
    let other = r
        .app
        .call(&r.app.alice, "GET", &format!("/sessions/{second_key}"), "")
        .await;
    assert_eq!(other.json()["Status"], "live");
    let again = r
        .app
        .call(&r.app.alice, "POST", &path, r#"{"reason": "twice"}"#)
        .await;
    assert_refused(&again, 409, "CONFLICT");
    // A self-service revocation has nothing a lift could end.
    let lift = r
        .app
        .call(
            &r.dave,
            "POST",
            &format!("/revocations/{id}/lift"),
            r#"{"reason": "x"}"#,
        )
        .await;
    assert_refused(&lift, 409, "CONFLICT");
    let metrics = r.app.get(&r.app.admin, "/metrics", None).await.body;
    assert!(
        metric(
            &metrics,
            r#"tvm_revocation_refusals_total{reason="revoked_credentials"}"#
        ) >= 4.0
    );
    assert_eq!(
        metric(&metrics, r#"tvm_revocations_total{kind="session"}"#),
        1.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_admin_cannot_revoke_list_or_see_anyone_elses() {
    let r = rev_app().await;
    let (_, key) = vend_session(&r, &r.app.alice, ALICE_ARN).await;
    let revoked = r
        .app
        .call(
            &r.app.alice,
            "POST",
            &format!("/sessions/{key}/revoke"),
            r#"{"reason": "done"}"#,
        )
        .await;
    assert_eq!(revoked.status, 201, "{}", revoked.body);
    let id = revoked.json()["Id"].as_str().unwrap().to_owned();
    let (_, key2) = vend_session(&r, &r.app.alice, ALICE_ARN).await;
    let bob = &r.bob;
    let unknown = "ASIAAAAAAAAAAAAAAAAA";
    for (method, path, body) in [
        ("GET", format!("/sessions/{key2}"), ""),
        ("GET", format!("/sessions/{unknown}"), ""),
        (
            "POST",
            format!("/sessions/{key2}/revoke"),
            r#"{"reason": "x"}"#,
        ),
        ("GET", format!("/revocations/{id}"), ""),
        ("GET", "/revocations/0123456789abcdef".to_owned(), ""),
        (
            "POST",
            format!("/revocations/{id}/lift"),
            r#"{"reason": "x"}"#,
        ),
    ] {
        let a = r.app.call(bob, method, &path, body).await;
        assert_refused(&a, 404, "NOT_FOUND");
    }
    for (method, path, body) in [
        ("GET", "/sessions?all=true", ""),
        ("GET", "/sessions?user=alice", ""),
        (
            "POST",
            "/revocations",
            r#"{"target": {"CallerAccessKeyId": "AKIAAAAAAAAAAAAAAAAA"}, "reason": "x"}"#,
        ),
        (
            "POST",
            "/revocations",
            r#"{"target": {"User": "alice@example.com"}, "reason": "x"}"#,
        ),
    ] {
        let a = r.app.call(bob, method, path, body).await;
        assert_refused(&a, 403, "POLICY_DENY");
    }
    let lists = r.app.call(bob, "GET", "/revocations?status=all", "").await;
    assert_eq!(lists.json()["Revocations"], serde_json::json!([]));
    let mine = r.app.call(bob, "GET", "/sessions", "").await;
    assert_eq!(mine.json()["Sessions"], serde_json::json!([]));
    // Alice sees her own revocation, without the admin-only fields; an admin
    // sees everything.
    let own = r
        .app
        .call(&r.app.alice, "GET", &format!("/revocations/{id}"), "")
        .await;
    assert_eq!(own.status, 200, "{}", own.body);
    assert_eq!(own.json()["Roles"][0]["Policy"], serde_json::Value::Null);
    assert_eq!(
        own.json()["Roles"][0]["PolicyName"],
        serde_json::Value::Null
    );
    // An admin sees the inline policy's name (so the printed
    // put-role-policy command works as pasted).
    let as_admin = r
        .app
        .call(&r.dave, "GET", &format!("/revocations/{id}"), "")
        .await;
    assert_eq!(as_admin.status, 200, "{}", as_admin.body);
    assert_eq!(
        as_admin.json()["Roles"][0]["PolicyName"],
        "tvm-revocations-tvm-default"
    );
    let admin = r
        .app
        .call(&r.dave, "GET", "/sessions?all=true&status=all", "")
        .await;
    assert_eq!(admin.json()["Sessions"].as_array().unwrap().len(), 2);
    let one = r
        .app
        .call(&r.dave, "GET", &format!("/sessions/{key2}"), "")
        .await;
    assert_eq!(one.status, 200);
    let by_admin = r
        .app
        .call(
            &r.dave,
            "POST",
            &format!("/sessions/{key2}/revoke"),
            r#"{"reason": "incident"}"#,
        )
        .await;
    assert_eq!(by_admin.status, 201, "{}", by_admin.body);
    let all = r.app.call(&r.dave, "GET", "/revocations", "").await;
    assert_eq!(all.json()["Revocations"].as_array().unwrap().len(), 2);
    // Malformed shapes are refused before the token is looked at.
    let bad = r
        .app
        .call(
            bob,
            "POST",
            "/revocations",
            r#"{"target": {"SessionId": "a", "User": "b"}, "reason": "x"}"#,
        )
        .await;
    assert_refused(&bad, 400, "INVALID_REQUEST");
    let bad = r
        .app
        .call(bob, "GET", "/revocations?status=maybe", "")
        .await;
    assert_refused(&bad, 400, "INVALID_REQUEST");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leaked_caller_key_is_blocked_on_every_route_including_an_open_web_page_session() {
    let r = rev_app().await;
    let carol_key = r.carol.creds.access_key_id().to_owned();
    let (carol_session, carol_vended) = vend_session(&r, &r.carol, CAROL_ARN).await;
    let page_session = ui_session(&r.app, &r.carol).await;
    assert_eq!(page(&r.app, "/ui/", Some(&page_session)).await.status, 200);
    let body = format!(
        r#"{{"target": {{"CallerAccessKeyId": "{carol_key}"}}, "reason": "key in a public repo", "dry_run": true}}"#
    );
    // A dry run answers what would match and changes nothing.
    let dry = r.app.call(&r.dave, "POST", "/revocations", &body).await;
    assert_eq!(dry.status, 200, "{}", dry.body);
    assert_eq!(dry.json()["Id"], "");
    assert_eq!(dry.json()["Sessions"], serde_json::json!([carol_vended]));
    assert!(dry.json()["Advice"]
        .as_str()
        .unwrap()
        .contains("deactivate"));
    assert_eq!(version(&r.db).await, 0);
    assert_eq!(
        r.app.call(&r.carol, "GET", "/sessions", "").await.status,
        200
    );

    let real = body.replace(r#", "dry_run": true"#, "");
    let revoked = r.app.call(&r.dave, "POST", "/revocations", &real).await;
    assert_eq!(revoked.status, 201, "{}", revoked.body);
    let v = revoked.json();
    assert_eq!(v["Kind"], "credentials");
    assert!(
        v["Advice"]
            .as_str()
            .unwrap()
            .contains("deactivate the key in IAM")
            || v["Advice"]
                .as_str()
                .unwrap()
                .contains("deactivate it in IAM")
    );
    assert_eq!(v["Sessions"], serde_json::json!([carol_vended]));
    let id = v["Id"].as_str().unwrap().to_owned();

    let assumed = r.app.sts_calls("AssumeRole");
    let vend = r.app.vend(&r.carol, r#"{"profile": "readonly"}"#).await;
    assert_refused(&vend, 403, "POLICY_DENY");
    for (method, path, body) in [
        ("GET", "/profiles", ""),
        ("GET", "/sessions", ""),
        ("GET", "/requests", ""),
        ("GET", "/revocations", ""),
        ("POST", "/ui/login-links", r#"{"next": "/ui/"}"#),
    ] {
        let a = r.app.call(&r.carol, method, path, body).await;
        assert_refused(&a, 403, "POLICY_DENY");
    }
    // The session vended to the leaked key is revoked too.
    let a = r.app.call(&carol_session, "GET", "/sessions", "").await;
    assert_refused(&a, 403, "POLICY_DENY");
    // The web-page session opened with that key is refused.
    assert_eq!(page(&r.app, "/ui/", Some(&page_session)).await.status, 403);
    assert_eq!(r.app.sts_calls("AssumeRole"), assumed, "STS not called");
    // Nobody else is touched.
    assert_eq!(
        r.app
            .vend(&r.bob, r#"{"profile": "readonly"}"#)
            .await
            .status,
        200
    );

    // Lift (admins): the key works again; the revoked session stays revoked.
    let lift = format!("/revocations/{id}/lift");
    let by_carol = r
        .app
        .call(&r.bob, "POST", &lift, r#"{"reason": "rotated"}"#)
        .await;
    assert_refused(&by_carol, 404, "NOT_FOUND");
    let lifted = r
        .app
        .call(&r.dave, "POST", &lift, r#"{"reason": "rotated"}"#)
        .await;
    assert_eq!(lifted.status, 200, "{}", lifted.body);
    assert_eq!(lifted.json()["LiftedBy"], SEC_ARN);
    assert_eq!(lifted.json()["LiftReason"], "rotated");
    assert_eq!(
        r.app
            .vend(&r.carol, r#"{"profile": "readonly"}"#)
            .await
            .status,
        200
    );
    let a = r.app.call(&carol_session, "GET", "/sessions", "").await;
    assert_refused(&a, 403, "POLICY_DENY");
    let again = r
        .app
        .call(&r.dave, "POST", &lift, r#"{"reason": "rotated"}"#)
        .await;
    assert_refused(&again, 409, "CONFLICT");
    let active = r
        .app
        .call(&r.dave, "GET", "/revocations?status=lifted", "")
        .await;
    assert_eq!(active.json()["Revocations"][0]["Id"], id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nobody_lifts_a_revocation_that_targets_themselves() {
    let r = rev_app().await;
    let erin = r.app.add_user(SEC2_ARN);
    // A second key of dave's (his IAM user) leaks; erin blocks it.
    let dave2 = r.app.add_user(SEC_ARN);
    let key2 = dave2.creds.access_key_id().to_owned();
    ledger(
        &r.db,
        Row {
            key: "ASIADAVEDAVEDAVEDAV1",
            caller_arn: SEC_ARN,
            caller_user_id: r.app.sim.unique_id(SEC_ARN).unwrap(),
            caller_key: &key2,
            sso: None,
            grant: None,
            created_ago: 60,
        },
    )
    .await;
    let body = format!(r#"{{"target": {{"CallerAccessKeyId": "{key2}"}}, "reason": "leaked"}}"#);
    let revoked = r.app.call(&erin, "POST", "/revocations", &body).await;
    assert_eq!(revoked.status, 201, "{}", revoked.body);
    let id = revoked.json()["Id"].as_str().unwrap().to_owned();
    assert_refused(
        &r.app.call(&dave2, "GET", "/sessions", "").await,
        403,
        "POLICY_DENY",
    );
    let lift = format!("/revocations/{id}/lift");
    let own = r
        .app
        .call(&r.dave, "POST", &lift, r#"{"reason": "mine"}"#)
        .await;
    assert_refused(&own, 403, "POLICY_DENY");
    let ok = r
        .app
        .call(&erin, "POST", &lift, r#"{"reason": "rotated"}"#)
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(r.app.call(&dave2, "GET", "/sessions", "").await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_whose_poll_is_stale_refuses_vends() {
    let r = rev_app_with(Options {
        revocation_max_staleness: Duration::from_millis(500),
        ..Options::default()
    })
    .await;
    assert_eq!(
        r.app
            .vend(&r.app.alice, r#"{"profile": "readonly"}"#)
            .await
            .status,
        200
    );
    let ready = r.app.get(&r.app.admin, "/readyz", None).await;
    assert_eq!(ready.status, 200, "{}", ready.body);
    // The poll now fails: the version row is gone.
    sqlx::query("ALTER TABLE revocation_state RENAME TO revocation_state_gone")
        .execute(&r.db)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(900)).await;
    let assumed = r.app.sts_calls("AssumeRole");
    let vend = r.app.vend(&r.app.alice, r#"{"profile": "readonly"}"#).await;
    assert_refused(&vend, 503, "UNAVAILABLE");
    assert_eq!(r.app.sts_calls("AssumeRole"), assumed, "STS not called");
    sqlx::query("ALTER TABLE revocation_state_gone RENAME TO revocation_state")
        .execute(&r.db)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        r.app
            .vend(&r.app.alice, r#"{"profile": "readonly"}"#)
            .await
            .status,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_grant_serves_no_more_vends() {
    let r = rev_app().await;
    let a = r
        .app
        .call(
            &r.bob,
            "POST",
            "/requests",
            r#"{"profile": "prod-admin", "duration_seconds": 1800, "reason": "deploy"}"#,
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    let grant = a.json()["Id"].as_str().unwrap().to_owned();
    let path = format!("/requests/{grant}/revoke");
    // Not approved yet: nothing to revoke.
    let early = r
        .app
        .call(&r.bob, "POST", &path, r#"{"reason": "done"}"#)
        .await;
    assert_refused(&early, 409, "CONFLICT");
    let ok = r
        .app
        .call(&r.carol, "POST", &format!("/requests/{grant}/approve"), "")
        .await;
    assert_eq!(ok.json()["Status"], "approved", "{}", ok.body);
    let body = format!(r#"{{"profile": "prod-admin", "approval_id": "{grant}"}}"#);
    assert_eq!(r.app.vend(&r.bob, &body).await.status, 200);
    let other = r
        .app
        .call(&r.app.alice, "POST", &path, r#"{"reason": "x"}"#)
        .await;
    assert_refused(&other, 404, "NOT_FOUND");
    let revoked = r
        .app
        .call(&r.bob, "POST", &path, r#"{"reason": "done early"}"#)
        .await;
    assert_eq!(revoked.status, 201, "{}", revoked.body);
    assert_eq!(revoked.json()["Kind"], "grant");
    assert_eq!(revoked.json()["Target"]["GrantId"], grant.as_str());
    let shown = r
        .app
        .call(&r.bob, "GET", &format!("/requests/{grant}"), "")
        .await;
    assert_eq!(shown.json()["Status"], "revoked");
    let assumed = r.app.sts_calls("AssumeRole");
    let vend = r.app.vend(&r.bob, &body).await;
    assert_refused(&vend, 403, "POLICY_DENY");
    assert_eq!(r.app.sts_calls("AssumeRole"), assumed, "STS not called");
    assert!(logs_text().contains("grant_revoked"));
    let metrics = r.app.get(&r.app.admin, "/metrics", None).await.body;
    assert_eq!(
        metric(
            &metrics,
            r#"tvm_revocation_refusals_total{reason="grant_revoked"}"#
        ),
        1.0
    );
    let twice = r
        .app
        .call(&r.bob, "POST", &path, r#"{"reason": "again"}"#)
        .await;
    assert_refused(&twice, 409, "CONFLICT");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_offline_lift_works_on_the_database_and_the_replica_follows() {
    let r = rev_app().await;
    let body = format!(r#"{{"target": {{"Principal": "{BOB_ARN}"}}, "reason": "suspicious"}}"#);
    let revoked = r.app.call(&r.dave, "POST", "/revocations", &body).await;
    assert_eq!(revoked.status, 201, "{}", revoked.body);
    let id = revoked.json()["Id"].as_str().unwrap().to_owned();
    assert!(revoked.json()["SuspendedUntil"].is_null(), "until lifted");
    assert_refused(
        &r.app.call(&r.bob, "GET", "/sessions", "").await,
        403,
        "POLICY_DENY",
    );
    let db = tvm::approvals::connect(&r.url).await.unwrap();
    let webhooks = tvm::approvals::Webhooks::new(Vec::new());
    let now = jiff::Timestamp::now().as_second();
    let unknown = tvm::revocation::lift_offline(&db, &webhooks, "0123456789abcdef", "x", now).await;
    assert!(matches!(
        unknown,
        Err(tvm::revocation::RevocationError::NotFound)
    ));
    let v = tvm::revocation::lift_offline(&db, &webhooks, &id, "no admin left", now)
        .await
        .unwrap();
    assert_eq!(
        v.lifted_by.as_deref(),
        Some(tvm::revocation::OFFLINE_LIFTER)
    );
    // The serving replica follows within revocation.refresh (100 ms).
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(r.app.call(&r.bob, "GET", "/sessions", "").await.status, 200);
    let again = tvm::revocation::lift_offline(&db, &webhooks, &id, "twice", now).await;
    assert!(matches!(
        again,
        Err(tvm::revocation::RevocationError::Conflict(_))
    ));
    let shown = r
        .app
        .call(&r.dave, "GET", &format!("/revocations/{id}"), "")
        .await;
    assert_eq!(shown.json()["LiftReason"], "no admin left");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eks_style_tokens_are_refused_on_every_revocation_route() {
    let r = rev_app_with(Options {
        eks_cluster_id: Some(CLUSTER.into()),
        ..Options::default()
    })
    .await;
    let assumed = r.app.sts_calls("AssumeRole");
    for (i, (method, path, body)) in [
        ("GET", "/sessions", ""),
        ("GET", "/revocations", ""),
        (
            "POST",
            "/revocations",
            r#"{"target": {"User": "alice@example.com"}, "reason": "x"}"#,
        ),
        (
            "POST",
            "/revocations/0123456789abcdef/lift",
            r#"{"reason": "x"}"#,
        ),
    ]
    .into_iter()
    .enumerate()
    {
        // EKS-style tokens carry no nonce: one per second, or the replay
        // store refuses the second.
        let at = std::time::SystemTime::now() - Duration::from_secs(i as u64);
        let token = tvm::client::token::mint_eks(
            &r.dave.creds,
            &r.app.verify_url,
            "us-east-1",
            CLUSTER,
            at,
        )
        .unwrap();
        let headers = vec![
            ("content-type", "application/json".to_owned()),
            ("authorization", format!("Bearer {token}")),
        ];
        let a = request(
            method,
            &format!("{}{path}", r.app.api),
            &headers,
            body.as_bytes().to_vec(),
        )
        .await;
        assert_refused(&a, 401, "INVALID_TOKEN");
    }
    assert_eq!(r.app.sts_calls("AssumeRole"), assumed);
}
