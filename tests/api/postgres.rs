//! The approvals store against a real Postgres (DESIGN §12): the round trip,
//! and concurrent approvers on one replica and on two replicas never making a
//! double transition. Postgres is started here, on a free loopback port in a
//! temporary directory (as the `postgres` user when running as root, since it
//! refuses to run as root), and stopped at the end. Outside CI the tests skip
//! with a notice when Postgres is not installed; in CI (`CI=true`) that fails.

use std::path::PathBuf;
use std::process::Command;

use crate::support::*;

const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

/// A running Postgres; stopped on drop.
pub struct Postgres {
    dir: tempfile::TempDir,
    pub url: String,
    root: bool,
}

fn run_as_postgres(root: bool, args: &[&str]) -> bool {
    let status = if root {
        let cmd = args
            .iter()
            .map(|a| format!("'{a}'"))
            .collect::<Vec<_>>()
            .join(" ");
        Command::new("su")
            .args(["postgres", "-s", "/bin/sh", "-c", &cmd])
            .status()
    } else {
        Command::new(args[0]).args(&args[1..]).status()
    };
    status.is_ok_and(|s| s.success())
}

impl Postgres {
    /// Starts one, or `None` (with a notice) when Postgres is not installed
    /// outside CI.
    pub fn start() -> Option<Self> {
        let initdb = PathBuf::from(PG_BIN).join("initdb");
        if !initdb.exists() {
            assert!(
                std::env::var("CI").is_err(),
                "Postgres is required in CI ({PG_BIN}); .ci/run installs it"
            );
            eprintln!("NOTICE: skipping Postgres tests: {PG_BIN} not found");
            return None;
        }
        let root = rustix::process::geteuid().is_root();
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        if root {
            for p in [dir.path(), data.as_path()] {
                let ok = Command::new("chown")
                    .args(["postgres:postgres", &p.display().to_string()])
                    .status()
                    .is_ok_and(|s| s.success());
                assert!(ok, "chown to postgres failed");
            }
        }
        let port = crate::support::free_port();
        let data_s = data.display().to_string();
        let initdb_s = initdb.display().to_string();
        assert!(
            run_as_postgres(
                root,
                &[&initdb_s, "-D", &data_s, "-A", "trust", "-U", "tvm"]
            ),
            "initdb failed"
        );
        let pg_ctl = format!("{PG_BIN}/pg_ctl");
        let opts = format!("-p {port} -k {data_s} -c listen_addresses=127.0.0.1");
        assert!(
            run_as_postgres(
                root,
                &[
                    &pg_ctl,
                    "-D",
                    &data_s,
                    "-o",
                    &opts,
                    "-l",
                    &format!("{data_s}/log"),
                    "-w",
                    "start"
                ]
            ),
            "pg_ctl start failed"
        );
        Some(Self {
            url: format!("postgres://tvm@127.0.0.1:{port}/postgres"),
            dir,
            root,
        })
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.dir.path().join("data").display().to_string();
        run_as_postgres(
            self.root,
            &[
                &format!("{PG_BIN}/pg_ctl"),
                "-D",
                &data,
                "-m",
                "immediate",
                "stop",
            ],
        );
    }
}

const POLICY_PG: &str = r#"version: 1
profiles:
  prod-admin:
    role_arn: arn:aws:iam::111122223333:role/TvmProdAdmin
    max_duration: 2h
  db-admin:
    role_arn: arn:aws:iam::111122223333:role/TvmProdAdmin
rules:
  - name: prod-one-approver
    effect: require_approval
    accounts: ["111122223333"]
    principals: ["arn:aws:iam::111122223333:user/eng/*", "arn:aws:iam::111122223333:user/ops/*"]
    profiles: ["prod-admin"]
    approvers:
      principals: ["arn:aws:iam::111122223333:user/eng/*"]
  - name: db-two-approvers
    effect: require_approval
    accounts: ["111122223333"]
    principals: ["arn:aws:iam::111122223333:user/eng/*"]
    profiles: ["db-admin"]
    approvers:
      principals: ["arn:aws:iam::111122223333:user/eng/*"]
    approvals_needed: 2
"#;

async fn replica(url: &str) -> TestApp {
    spawn_app_with(Options {
        approvals: true,
        database_url: Some(url.to_owned()),
        policy_text: Some(POLICY_PG.into()),
        ..Options::default()
    })
    .await
}

async fn create(app: &TestApp, who: &Caller, profile: &str) -> String {
    let r = app
        .call(
            who,
            "POST",
            "/requests",
            &format!(r#"{{"profile": "{profile}", "reason": "migration"}}"#),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["Id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn postgres_round_trip_and_concurrent_approvers_on_two_replicas() {
    let Some(pg) = Postgres::start() else { return };
    let a = replica(&pg.url).await;
    // A second replica on the same database (migrations already applied).
    let b = replica(&pg.url).await;
    let bob = a.add_user("arn:aws:iam::111122223333:user/eng/bob");
    let dave = a.add_user("arn:aws:iam::111122223333:user/eng/dave");
    let erin = a.add_user("arn:aws:iam::111122223333:user/eng/erin");
    // Replica b's simulator does not know a's users: register dave there too.
    let dave_b = b.add_user("arn:aws:iam::111122223333:user/eng/dave");

    for round in 0..5 {
        // One approver needed; two approve at once on two replicas.
        let id = create(&a, &a.alice, "prod-admin").await;
        let path = format!("/requests/{id}/approve");
        let (x, y) = tokio::join!(
            a.call(&bob, "POST", &path, r#"{"comment": "a"}"#),
            b.call(&dave_b, "POST", &path, r#"{"comment": "b"}"#)
        );
        let mut statuses = [x.status, y.status];
        statuses.sort();
        assert_eq!(
            statuses,
            [200, 409],
            "round {round}: {} / {}",
            x.body,
            y.body
        );
        let shown = a
            .call(&a.alice, "GET", &format!("/requests/{id}"), "")
            .await;
        assert_eq!(shown.json()["Approvals"].as_array().unwrap().len(), 1);
        assert_eq!(shown.json()["Status"], "approved");
    }

    // Two approvers needed; three approve at once: two count, the third is 409.
    let id = create(&a, &a.alice, "db-admin").await;
    let path = format!("/requests/{id}/approve");
    let (x, y, z) = tokio::join!(
        a.call(&bob, "POST", &path, "{}"),
        a.call(&dave, "POST", &path, "{}"),
        a.call(&erin, "POST", &path, "{}")
    );
    let mut statuses = [x.status, y.status, z.status];
    statuses.sort();
    assert_eq!(statuses, [200, 200, 409]);
    let shown = a.call(&bob, "GET", &format!("/requests/{id}"), "").await;
    assert_eq!(shown.json()["Status"], "approved");
    assert_eq!(shown.json()["Approvals"].as_array().unwrap().len(), 2);

    // Replica b's simulator gives alice's ARN another `UserId` (as AWS does
    // for a user deleted and re-created under the same name): a grant serves
    // only the requester's exact ARN and UserId, so 403 and no AssumeRole.
    let vend = b
        .vend(
            &b.alice,
            &format!(r#"{{"profile": "db-admin", "approval_id": "{id}"}}"#),
        )
        .await;
    assert_eq!((vend.status, vend.code().as_str()), (403, "POLICY_DENY"));
    assert_eq!(b.sts_calls("AssumeRole"), 0);
    let own = a
        .vend(
            &a.alice,
            &format!(r#"{{"profile": "db-admin", "approval_id": "{id}"}}"#),
        )
        .await;
    assert_eq!(own.status, 200, "{}", own.body);
    let si = own.json()["SourceIdentity"].as_str().unwrap().to_owned();
    let service = a
        .vend(
            &a.alice,
            &format!(r#"{{"profile": "db-admin", "approval_id": "{id}"}}"#),
        )
        .await;
    assert_eq!(service.status, 200, "{}", service.body);
    // Both vends are in the ledger with the grant (it replaced grant_vends).
    let db = tvm::approvals::connect(&pg.url).await.unwrap();
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT source_identity FROM sessions WHERE grant_id = $1 AND state = 'issued'",
    )
    .bind(&id)
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().any(|r| r.0 == si));
}

#[tokio::test]
async fn postgres_caps_pending_requests_under_concurrent_creates() {
    let Some(pg) = Postgres::start() else { return };
    let a = replica(&pg.url).await;
    let b = replica(&pg.url).await;
    // One person, the same ARN on both replicas, ten creates at once: the cap
    // of 5 pending per requester holds across replicas and connections.
    let bob_a = a.add_user("arn:aws:iam::111122223333:user/eng/bob");
    let bob_b = b.add_user("arn:aws:iam::111122223333:user/eng/bob");
    let body = r#"{"profile": "prod-admin", "reason": "migration"}"#;
    let calls = (0..10).map(|i| {
        let (app, who) = if i % 2 == 0 {
            (&a, &bob_a)
        } else {
            (&b, &bob_b)
        };
        app.call(who, "POST", "/requests", body)
    });
    let answers = futures_util::future::join_all(calls).await;
    let created = answers.iter().filter(|r| r.status == 201).count();
    let refused: Vec<_> = answers
        .iter()
        .filter(|r| r.status != 201)
        .map(|r| (r.status, r.code()))
        .collect();
    assert_eq!(created, tvm::approvals::MAX_PENDING_PER_REQUESTER as usize);
    assert!(
        refused
            .iter()
            .all(|(s, c)| *s == 429 && c == "RATE_LIMITED"),
        "{refused:?}"
    );
    // Refused creates wrote nothing: bob sees exactly the five.
    let listed = a.call(&bob_a, "GET", "/requests?status=pending", "").await;
    assert_eq!(listed.json()["Requests"].as_array().unwrap().len(), 5);

    // One person, two IAM users (same username once lowercased and without
    // its @domain), on two replicas, ten creates at once: still five.
    let carl_a = a.add_user("arn:aws:iam::111122223333:user/eng/carl");
    let carl_b = b.add_user("arn:aws:iam::111122223333:user/ops/CARL@Example.com");
    let calls = (0..10).map(|i| {
        let (app, who) = if i % 2 == 0 {
            (&a, &carl_a)
        } else {
            (&b, &carl_b)
        };
        app.call(who, "POST", "/requests", body)
    });
    let answers = futures_util::future::join_all(calls).await;
    let created = answers.iter().filter(|r| r.status == 201).count();
    assert_eq!(created, tvm::approvals::MAX_PENDING_PER_REQUESTER as usize);
    assert!(answers
        .iter()
        .filter(|r| r.status != 201)
        .all(|r| r.status == 429 && r.code() == "RATE_LIMITED"));

    // The audit rows of one request come out in the order they were written,
    // on Postgres too (the identity column of migration 3).
    let id = create(&a, &a.alice, "prod-admin").await;
    let bob = a.add_user("arn:aws:iam::111122223333:user/eng/bob2");
    let ok = a
        .call(&bob, "POST", &format!("/requests/{id}/approve"), "{}")
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let vend = format!(r#"{{"profile": "prod-admin", "approval_id": "{id}"}}"#);
    assert_eq!(a.vend(&a.alice, &vend).await.status, 200);
    assert_eq!(a.vend(&a.alice, &vend).await.status, 200);
    let db = tvm::approvals::connect(&pg.url).await.unwrap();
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT event, actor FROM audit_events WHERE subject = $1 ORDER BY seq")
            .bind(&id)
            .fetch_all(&db.pool)
            .await
            .unwrap();
    let alice = ALICE_ARN.to_owned();
    let bob_arn = "arn:aws:iam::111122223333:user/eng/bob2".to_owned();
    assert_eq!(
        rows,
        [
            ("created".to_owned(), alice.clone()),
            ("approved".to_owned(), bob_arn),
            ("vended".to_owned(), alice.clone()),
            ("vended".to_owned(), alice),
        ]
    );
}

/// GET /audit on two replicas of one Postgres (DESIGN §13): events written
/// concurrently on both come back complete, once each, in `Seq` order,
/// whichever replica serves which page; a non-admin sees only their own.
#[tokio::test]
async fn postgres_audit_export_is_complete_and_ordered_across_replicas() {
    let Some(pg) = Postgres::start() else { return };
    let policy =
        format!("{POLICY_PG}admins:\n  principals: [\"arn:aws:iam::111122223333:user/sec/*\"]\n");
    let spawn = |url: String, policy: String| async move {
        spawn_app_with(Options {
            approvals: true,
            database_url: Some(url),
            policy_text: Some(policy),
            ..Options::default()
        })
        .await
    };
    let a = spawn(pg.url.clone(), policy.clone()).await;
    let b = spawn(pg.url.clone(), policy).await;
    let body = r#"{"profile": "prod-admin", "reason": "migration"}"#;
    let users: Vec<(Caller, Caller)> = (1..=3)
        .map(|i| {
            let arn = format!("arn:aws:iam::111122223333:user/eng/u{i}");
            (a.add_user(&arn), b.add_user(&arn))
        })
        .collect();
    let calls = (0..12).map(|i| {
        let (ua, ub) = &users[i % 3];
        if i % 2 == 0 {
            a.call(ua, "POST", "/requests", body)
        } else {
            b.call(ub, "POST", "/requests", body)
        }
    });
    let answers = futures_util::future::join_all(calls).await;
    assert!(answers.iter().all(|r| r.status == 201), "{answers:?}");
    let db = tvm::approvals::connect(&pg.url).await.unwrap();
    sqlx::query("UPDATE audit_events SET at = at - 60")
        .execute(&db.pool)
        .await
        .unwrap();
    let stored: Vec<(i64,)> = sqlx::query_as("SELECT seq FROM audit_events ORDER BY seq")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    assert_eq!(stored.len(), 12);

    let carol_a = a.add_user("arn:aws:iam::111122223333:user/sec/carol");
    let carol_b = b.add_user("arn:aws:iam::111122223333:user/sec/carol");
    let mut seqs = Vec::new();
    let mut cursor: Option<String> = None;
    for page in 0.. {
        let path = match &cursor {
            Some(c) => format!("/audit?limit=5&cursor={c}"),
            None => "/audit?limit=5".to_owned(),
        };
        let r = if page % 2 == 0 {
            a.call(&carol_a, "GET", &path, "").await
        } else {
            b.call(&carol_b, "GET", &path, "").await
        };
        assert_eq!(r.status, 200, "{}", r.body);
        let v = r.json();
        seqs.extend(
            v["Events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["Seq"].as_i64().unwrap()),
        );
        match v["Next"].as_str() {
            Some(n) => cursor = Some(n.to_owned()),
            None => break,
        }
    }
    let expected: Vec<i64> = stored.iter().map(|(s,)| *s).collect();
    assert_eq!(seqs, expected);
    // u1 as replica b's simulator knows it (its own UserId: each replica
    // here has its own simulator, so the same ARN on `a` is another user)
    // made the two creates sent to b, and sees exactly those.
    let own = b.call(&users[0].1, "GET", "/audit", "").await;
    let own = own.json();
    let events = own["Events"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert!(events
        .iter()
        .all(|e| e["Actor"] == "arn:aws:iam::111122223333:user/eng/u1"));
}

/// Migration 0008 on Postgres: §12's `approval_audit` rows move to
/// `audit_events` with their `seq`, and the identity continues after them.
#[tokio::test]
async fn postgres_migration_0008_moves_the_old_audit_rows_in_order() {
    let Some(pg) = Postgres::start() else { return };
    sqlx::any::install_default_drivers();
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(&pg.url)
        .await
        .unwrap();
    for sql in [
        include_str!("../../migrations/0001_approvals.sql"),
        include_str!("../../migrations/0002_ui_sign_in.sql"),
        include_str!("../../migrations/0003_audit_seq.postgres.sql"),
    ] {
        sqlx::raw_sql(sql).execute(&pool).await.unwrap();
    }
    for (id, action) in [("zz", "created"), ("aa", "approved"), ("mm", "vended")] {
        sqlx::query(
            "INSERT INTO approval_audit (id, subject_id, action, actor_arn, detail, \
             http_request_id, at) VALUES ($1, 'r1', $2, 'arn', 'd', 'h', 100)",
        )
        .bind(id)
        .bind(action)
        .execute(&pool)
        .await
        .unwrap();
    }
    sqlx::raw_sql(include_str!(
        "../../migrations/0008_audit_events.postgres.sql"
    ))
    .execute(&pool)
    .await
    .unwrap();
    let trail = tvm::audit::trail(&pool, "r1").await.unwrap();
    let events: Vec<&str> = trail.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(events, ["created", "approved", "vended"]);
    let next: (i64,) = sqlx::query_as(
        "INSERT INTO audit_events (id, at, event, actor, actor_key, actor_sso, subject, \
         subject_key, subject_sso, profile, source_identity, request_id, detail) \
         VALUES ('n', 1, 'e', '', '', '', '', '', '', '', '', '', '') RETURNING seq",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(next.0, 4);
}
