//! The ledger (DESIGN §13) end to end, on SQLite and on Postgres: every vend
//! leaves a row (pending before AssumeRole, issued after it, with the vended
//! key); a broken ledger refuses before STS (503 `UNAVAILABLE`, outcome
//! `ledger_error`) unless `ledger_failure: open`; a block or a grant
//! revocation committed while AssumeRole is in flight discards the
//! credentials (403 `POLICY_DENY`); N concurrent vends make N rows; the
//! decision line carries the ledger's fields.

use std::sync::Arc;

use sqlx::Row;
use tvm::config::LedgerFailure;
use tvm::sts::{AssumeRoleInput, AssumedRole, CallerIdentity, Sts, StsError};

use crate::postgres::Postgres;
use crate::support::*;

const BOB_ARN: &str = "arn:aws:iam::111122223333:user/eng/bob";

const POLICY_LEDGER: &str = r#"version: 1
profiles:
  readonly:
    role_arn: arn:aws:iam::111122223333:role/TvmReadOnly
    max_duration: 1h
  prod-admin:
    role_arn: arn:aws:iam::111122223333:role/TvmProdAdmin
    max_duration: 2h
rules:
  - name: eng-readonly
    effect: allow
    accounts: ["111122223333"]
    principals: ["arn:aws:iam::111122223333:user/eng/*"]
    profiles: ["readonly"]
  - name: prod-needs-approval
    effect: require_approval
    accounts: ["111122223333"]
    principals: ["arn:aws:iam::111122223333:user/eng/*"]
    profiles: ["prod-admin"]
    approvers:
      principals: ["arn:aws:iam::111122223333:user/eng/*"]
    grant_duration: 1h
"#;

/// Where the database is, and what keeps it alive.
enum Db {
    Sqlite {
        _dir: tempfile::TempDir,
        url: String,
    },
    Postgres(Postgres),
}

impl Db {
    fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("tvm.db").display());
        Db::Sqlite { _dir: dir, url }
    }

    fn url(&self) -> String {
        match self {
            Db::Sqlite { url, .. } => url.clone(),
            Db::Postgres(p) => p.url.clone(),
        }
    }
}

/// The backends to run a test on: SQLite, and Postgres when installed.
fn backends() -> Vec<Db> {
    let mut v = vec![Db::sqlite()];
    if let Some(pg) = Postgres::start() {
        v.push(Db::Postgres(pg));
    }
    v
}

async fn pool(url: &str) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .unwrap()
}

async fn app(db: &Db, failure: LedgerFailure, hook: Option<&'static [&'static str]>) -> TestApp {
    let url = db.url();
    let wrap_sts: Option<StsWrapper> = hook.map(|statements| {
        let url = url.clone();
        Arc::new(move |inner: Arc<dyn Sts>| {
            Arc::new(Hooked {
                inner,
                url: url.clone(),
                statements,
            }) as Arc<dyn Sts>
        }) as StsWrapper
    });
    spawn_app_with(Options {
        approvals: true,
        database_url: Some(url),
        policy_text: Some(POLICY_LEDGER.into()),
        ledger_failure: failure,
        wrap_sts,
        ..Options::default()
    })
    .await
}

/// Runs `statements` on its own connection while AssumeRole is in flight
/// (after the pending row, before the completion), then calls STS.
struct Hooked {
    inner: Arc<dyn Sts>,
    url: String,
    statements: &'static [&'static str],
}

#[async_trait::async_trait]
impl Sts for Hooked {
    async fn assume_role(&self, input: AssumeRoleInput) -> Result<AssumedRole, StsError> {
        let pool = pool(&self.url).await;
        for s in self.statements {
            sqlx::query(s).execute(&pool).await.unwrap();
        }
        pool.close().await;
        self.inner.assume_role(input).await
    }

    async fn get_caller_identity(&self) -> Result<CallerIdentity, StsError> {
        self.inner.get_caller_identity().await
    }
}

/// A revocation row for the blocks the hooks insert. Created "now" (any
/// time inside the retention): one created in 1970 with no block yet is an
/// ended revocation the start-up prune may delete between the hook's two
/// statements.
const REVOCATION: &str = "INSERT INTO revocations (id, kind, target_type, target, reason, \
     by_arn, by_user_id, self_service, suspends, suspended_until, created_at, request_id) \
     VALUES ('00000000000000aa', 'credentials', 'CallerAccessKeyId', 'k', 'leaked', \
     'arn:aws:iam::111122223333:user/eng/bob', 'AIDABOB', 0, 0, NULL, 4000000000, 'r')";

/// `(state, access_key_id, caller_access_key_id, kind, client_address,
/// expires_at, revocation_id)` of every ledger row, oldest first.
type LedgerRow = (
    String,
    Option<String>,
    String,
    String,
    String,
    i64,
    Option<String>,
);

async fn rows(url: &str) -> Vec<LedgerRow> {
    let pool = pool(url).await;
    let rows = sqlx::query(
        "SELECT state, access_key_id, caller_access_key_id, kind, client_address, expires_at, \
         revocation_id FROM sessions ORDER BY created_at",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    rows.iter()
        .map(|r| {
            (
                r.get(0),
                r.get(1),
                r.get(2),
                r.get(3),
                r.get(4),
                r.get(5),
                r.get(6),
            )
        })
        .collect()
}

async fn metrics(app: &TestApp) -> String {
    app.get(&app.admin, "/metrics", None).await.body
}

#[tokio::test]
async fn every_vend_leaves_an_issued_row_with_its_caller_and_vended_key() {
    for db in backends() {
        let app = app(&db, LedgerFailure::Closed, None).await;
        let v = app.vend(&app.alice, r#"{"profile": "readonly"}"#).await;
        assert_eq!(v.status, 200, "{}", v.body);
        let key = v.json()["AccessKeyId"].as_str().unwrap().to_owned();
        let expiration = v.json()["Expiration"].as_str().unwrap().to_owned();
        let expires = expiration.parse::<jiff::Timestamp>().unwrap().as_second();
        let got = rows(&db.url()).await;
        assert_eq!(got.len(), 1);
        let (state, vended, caller_key, kind, client, expires_at, revocation) = &got[0];
        assert_eq!(state, "issued");
        assert_eq!(vended.as_deref(), Some(key.as_str()));
        assert_eq!(caller_key, app.alice.creds.access_key_id());
        assert_eq!((kind.as_str(), client.as_str()), ("direct", "127.0.0.1"));
        assert_eq!(*expires_at, expires);
        assert_eq!(*revocation, None);
        let m = metrics(&app).await;
        assert_eq!(metric(&m, "tvm_ledger_writes_total{result=\"ok\"}"), 2.0);
        assert_eq!(metric(&m, "tvm_ledger_writes_total{result=\"error\"}"), 0.0);
        assert!(
            m.contains("tvm_ledger_write_duration_seconds_count 2"),
            "{m}"
        );
        // The decision line carries the §13 fields (never the secret).
        let logs = logs_text();
        let line = logs
            .lines()
            .find(|l| l.contains(&key) && l.contains("\"decision\""))
            .expect("a decision line naming the vended key");
        for field in [
            "\"kind\":\"direct\"".to_owned(),
            "\"grant_id\":\"\"".to_owned(),
            "\"client_addr\":\"127.0.0.1\"".to_owned(),
            format!(
                "\"caller_access_key_id\":\"{}\"",
                app.alice.creds.access_key_id()
            ),
            format!("\"access_key_id\":\"{key}\""),
            format!("\"expiration\":\"{expiration}\""),
        ] {
            assert!(line.contains(&field), "{field} in {line}");
        }
    }
}

#[tokio::test]
async fn a_broken_ledger_refuses_before_sts_unless_failure_is_open() {
    for db in backends() {
        for failure in [LedgerFailure::Closed, LedgerFailure::Open] {
            let app = app(&db, failure, None).await;
            // Break the ledger under the running service.
            let p = pool(&db.url()).await;
            sqlx::query("ALTER TABLE sessions RENAME TO sessions_broken")
                .execute(&p)
                .await
                .unwrap();
            let v = app.vend(&app.alice, r#"{"profile": "readonly"}"#).await;
            let m = metrics(&app).await;
            if failure == LedgerFailure::Closed {
                assert_eq!(
                    (v.status, v.code().as_str()),
                    (503, "UNAVAILABLE"),
                    "{}",
                    v.body
                );
                assert_eq!(app.sts_calls("AssumeRole"), 0, "STS must not be called");
                assert_eq!(metric(&m, "tvm_vend_total{outcome=\"ledger_error\"}"), 1.0);
            } else {
                assert_eq!(v.status, 200, "{}", v.body);
                assert_eq!(app.sts_calls("AssumeRole"), 1);
                assert_eq!(metric(&m, "tvm_vend_total{outcome=\"issued\"}"), 1.0);
            }
            assert!(metric(&m, "tvm_ledger_writes_total{result=\"error\"}") >= 1.0);
            sqlx::query("ALTER TABLE sessions_broken RENAME TO sessions")
                .execute(&p)
                .await
                .unwrap();
            sqlx::query("DELETE FROM sessions")
                .execute(&p)
                .await
                .unwrap();
            p.close().await;
        }
    }
}

#[tokio::test]
async fn a_caller_key_blocked_while_assume_role_is_in_flight_gets_no_credentials() {
    static HOOK: &[&str] = &[
        REVOCATION,
        "INSERT INTO revocation_blocks (revocation_id, block_type, value, expires_at, lifted_at) \
         SELECT '00000000000000aa', 'caller_key', caller_access_key_id, NULL, NULL \
         FROM sessions WHERE state = 'pending'",
    ];
    for db in backends() {
        let app = app(&db, LedgerFailure::Closed, Some(HOOK)).await;
        let v = app.vend(&app.alice, r#"{"profile": "readonly"}"#).await;
        assert_eq!(
            (v.status, v.code().as_str()),
            (403, "POLICY_DENY"),
            "{}",
            v.body
        );
        assert!(!v.body.contains("ASIA"), "no credentials: {}", v.body);
        assert_eq!(app.sts_calls("AssumeRole"), 1);
        let got = rows(&db.url()).await;
        assert_eq!(got[0].0, "revoked");
        assert!(got[0].1.as_deref().is_some_and(|k| k.starts_with("ASIA")));
        assert_eq!(got[0].6.as_deref(), Some("00000000000000aa"));
        assert!(logs_text().contains("\"reason\":\"revoked_credentials\""));
    }
}

#[tokio::test]
async fn an_identity_suspended_while_assume_role_is_in_flight_gets_no_credentials() {
    static HOOK: &[&str] = &[
        REVOCATION,
        "INSERT INTO revocation_blocks (revocation_id, block_type, value, expires_at, lifted_at) \
         SELECT '00000000000000aa', 'identity', caller_arn || ' ' || caller_user_id, NULL, NULL \
         FROM sessions WHERE state = 'pending'",
    ];
    for db in backends() {
        let app = app(&db, LedgerFailure::Closed, Some(HOOK)).await;
        let v = app.vend(&app.alice, r#"{"profile": "readonly"}"#).await;
        assert_eq!(
            (v.status, v.code().as_str()),
            (403, "POLICY_DENY"),
            "{}",
            v.body
        );
        assert_eq!(app.sts_calls("AssumeRole"), 1);
        assert_eq!(rows(&db.url()).await[0].0, "revoked");
        assert!(logs_text().contains("\"reason\":\"suspended\""));
    }
}

#[tokio::test]
async fn a_lifted_or_expired_block_does_not_refuse() {
    static HOOK: &[&str] = &[
        REVOCATION,
        "INSERT INTO revocation_blocks (revocation_id, block_type, value, expires_at, lifted_at) \
         SELECT '00000000000000aa', 'caller_key', caller_access_key_id, NULL, 5 \
         FROM sessions WHERE state = 'pending'",
        "INSERT INTO revocation_blocks (revocation_id, block_type, value, expires_at, lifted_at) \
         SELECT '00000000000000aa', 'identity', caller_arn || ' ' || caller_user_id, 5, NULL \
         FROM sessions WHERE state = 'pending'",
    ];
    let db = Db::sqlite();
    let app = app(&db, LedgerFailure::Closed, Some(HOOK)).await;
    let v = app.vend(&app.alice, r#"{"profile": "readonly"}"#).await;
    assert_eq!(v.status, 200, "{}", v.body);
    assert_eq!(rows(&db.url()).await[0].0, "issued");
}

#[tokio::test]
async fn a_grant_revoked_while_assume_role_is_in_flight_gets_no_credentials() {
    static HOOK: &[&str] = &[
        REVOCATION,
        "UPDATE approval_requests SET status = 'revoked', revocation_id = '00000000000000aa' \
         WHERE id IN (SELECT grant_id FROM sessions WHERE state = 'pending')",
    ];
    for db in backends() {
        let app = app(&db, LedgerFailure::Closed, Some(HOOK)).await;
        let bob = app.add_user(BOB_ARN);
        let created = app
            .call(
                &app.alice,
                "POST",
                "/requests",
                r#"{"profile": "prod-admin", "duration_seconds": 1800, "reason": "hotfix"}"#,
            )
            .await;
        assert_eq!(created.status, 201, "{}", created.body);
        let id = created.json()["Id"].as_str().unwrap().to_owned();
        let ok = app
            .call(&bob, "POST", &format!("/requests/{id}/approve"), "{}")
            .await;
        assert_eq!(ok.status, 200, "{}", ok.body);
        let v = app
            .vend(
                &app.alice,
                &format!(r#"{{"profile": "prod-admin", "approval_id": "{id}"}}"#),
            )
            .await;
        assert_eq!(
            (v.status, v.code().as_str()),
            (403, "POLICY_DENY"),
            "{}",
            v.body
        );
        assert_eq!(app.sts_calls("AssumeRole"), 1);
        let got = rows(&db.url()).await;
        assert_eq!(
            (got[0].0.as_str(), got[0].3.as_str()),
            ("revoked", "approval")
        );
        assert!(logs_text().contains("\"reason\":\"grant_revoked\""));
    }
}

#[tokio::test]
async fn a_failed_assume_role_marks_the_row_failed() {
    let db = Db::sqlite();
    let url = db.url();
    let app = spawn_app_with(Options {
        approvals: true,
        database_url: Some(url.clone()),
        policy_text: Some(POLICY_LEDGER.into()),
        sts_down: true,
        ..Options::default()
    })
    .await;
    let v = app.vend(&app.alice, r#"{"profile": "readonly"}"#).await;
    assert_eq!(v.status / 100, 5, "{}", v.body);
    let got = rows(&url).await;
    assert_eq!((got.len(), got[0].0.as_str()), (1, "failed"));
    assert_eq!(got[0].1, None);
}

#[tokio::test]
async fn concurrent_vends_each_get_their_own_row() {
    const N: usize = 48;
    for db in backends() {
        let app = app(&db, LedgerFailure::Closed, None).await;
        let vends = (0..N).map(|_| app.vend(&app.alice, r#"{"profile": "readonly"}"#));
        let answers = futures_util::future::join_all(vends).await;
        let mut keys: Vec<String> = answers
            .iter()
            .map(|a| {
                assert_eq!(a.status, 200, "{}", a.body);
                a.json()["AccessKeyId"].as_str().unwrap().to_owned()
            })
            .collect();
        keys.sort();
        let got = rows(&db.url()).await;
        let mut stored: Vec<String> = got
            .iter()
            .map(|r| {
                assert_eq!(r.0, "issued");
                r.1.clone().unwrap()
            })
            .collect();
        stored.sort();
        assert_eq!(stored, keys, "each vend its own row with its own key");
    }
}

#[tokio::test]
async fn a_locked_sqlite_ledger_refuses_before_sts() {
    let db = Db::sqlite();
    let app = app(&db, LedgerFailure::Closed, None).await;
    // Another process holds the write lock for longer than the busy timeout.
    let p = pool(&db.url()).await;
    let mut conn = p.acquire().await.unwrap();
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut *conn)
        .await
        .unwrap();
    let v = app.vend(&app.alice, r#"{"profile": "readonly"}"#).await;
    assert_eq!(
        (v.status, v.code().as_str()),
        (503, "UNAVAILABLE"),
        "{}",
        v.body
    );
    assert_eq!(app.sts_calls("AssumeRole"), 0, "STS must not be called");
    sqlx::query("ROLLBACK").execute(&mut *conn).await.unwrap();
    // Once the lock is gone, vends are recorded again.
    let v = app.vend(&app.alice, r#"{"profile": "readonly"}"#).await;
    assert_eq!(v.status, 200, "{}", v.body);
}

#[tokio::test]
async fn the_web_page_lists_a_grants_vends_from_the_ledger() {
    use crate::ui::{create_request, page, session, ui_app};
    let ui = ui_app().await;
    let app = &ui.app;
    let id = create_request(app, &app.alice, "prod-admin", "hotfix for the ledger").await;
    let ok = app
        .call(&ui.bob, "POST", &format!("/requests/{id}/approve"), "{}")
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let v = app
        .vend(
            &app.alice,
            &format!(r#"{{"profile": "prod-admin", "approval_id": "{id}"}}"#),
        )
        .await;
    assert_eq!(v.status, 200, "{}", v.body);
    let si = v.json()["SourceIdentity"].as_str().unwrap().to_owned();
    let s = session(app, &ui.bob).await;
    let p = page(app, &format!("/ui/requests/{id}"), Some(&s)).await;
    assert_eq!(p.status, 200);
    assert!(
        p.body.contains("id=\"vends\"") && p.body.contains(&si),
        "{}",
        p.body
    );
}
