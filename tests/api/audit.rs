//! `GET /audit` (DESIGN §13) against SQLite: one's own events, everyone's
//! for admins, `Seq` order across pages, the age rule, and every refusal
//! with status, `Code` and whether STS was called.

use crate::support::*;

const BOB_ARN: &str = "arn:aws:iam::111122223333:user/eng/bob";
const CAROL_ARN: &str = "arn:aws:iam::111122223333:user/sec/carol";

const POLICY: &str = r#"version: 1
admins:
  principals: ["arn:aws:iam::111122223333:user/sec/*"]
profiles:
  prod-admin:
    role_arn: arn:aws:iam::111122223333:role/TvmProdAdmin
    max_duration: 2h
rules:
  - name: prod-needs-approval
    effect: require_approval
    accounts: ["111122223333", "444455556666"]
    principals: ["arn:aws:iam::111122223333:user/eng/*", "arn:aws:iam::444455556666:user/eng/*"]
    profiles: ["prod-admin"]
    approvers:
      principals: ["arn:aws:iam::111122223333:user/eng/*"]
    grant_duration: 1h
"#;

struct Fixture {
    app: TestApp,
    db: tvm::database::Database,
    _dir: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("tvm.db").display());
    let app = spawn_app_with(Options {
        approvals: true,
        database_url: Some(url.clone()),
        policy_text: Some(POLICY.into()),
        ..Options::default()
    })
    .await;
    let db = tvm::approvals::connect(&url).await.unwrap();
    Fixture { app, db, _dir: dir }
}

/// Makes every event old enough to be served (as if written a minute ago).
async fn age(f: &Fixture) {
    sqlx::query("UPDATE audit_events SET at = at - 60")
        .execute(&f.db.pool)
        .await
        .unwrap();
}

async fn create(app: &TestApp, who: &Caller) -> String {
    let a = app
        .call(
            who,
            "POST",
            "/requests",
            r#"{"profile": "prod-admin", "duration_seconds": 900, "reason": "hotfix"}"#,
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    a.json()["Id"].as_str().unwrap().to_owned()
}

fn events(a: &Answer) -> Vec<(String, String)> {
    assert_eq!(a.status, 200, "{}", a.body);
    a.json()["Events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["Event"].as_str().unwrap().to_owned(),
                e["Subject"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn each_reader_sees_their_own_events_and_admins_see_all_in_seq_order() {
    let f = fixture().await;
    let bob = f.app.add_user(BOB_ARN);
    let carol = f.app.add_user(CAROL_ARN);
    let r1 = create(&f.app, &f.app.alice).await;
    let ok = f
        .app
        .call(
            &bob,
            "POST",
            &format!("/requests/{r1}/approve"),
            r#"{"comment": "ok"}"#,
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let r2 = create(&f.app, &f.app.mallory).await;

    // Fresh rows are not served yet (request timeout + 5 s).
    assert!(events(&f.app.call(&carol, "GET", "/audit", "").await).is_empty());
    age(&f).await;

    let alice = events(&f.app.call(&f.app.alice, "GET", "/audit", "").await);
    assert_eq!(
        alice,
        [
            ("created".into(), r1.clone()),
            ("approved".into(), r1.clone())
        ]
    );
    let bob_sees = events(&f.app.call(&bob, "GET", "/audit", "").await);
    assert_eq!(bob_sees, [("approved".into(), r1.clone())]);
    let mallory = events(&f.app.call(&f.app.mallory, "GET", "/audit", "").await);
    assert_eq!(mallory, [("created".into(), r2.clone())]);
    let all = f.app.call(&carol, "GET", "/audit", "").await;
    assert_eq!(events(&all).len(), 3);
    let v = all.json();
    let first = &v["Events"][0];
    for field in [
        "At",
        "Seq",
        "Event",
        "Actor",
        "Subject",
        "Profile",
        "SourceIdentity",
        "RequestId",
        "Detail",
    ] {
        assert!(!first[field].is_null(), "{field} missing: {first}");
    }
    assert_eq!(first["Actor"], ALICE_ARN);
    assert_eq!(first["Profile"], "prod-admin");
    assert!(v["Next"].is_null());
    assert_eq!(all.header("cache-control"), Some("no-store"));
    let seqs: Vec<i64> = v["Events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["Seq"].as_i64().unwrap())
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");

    // Pages of one follow Next to the same list; visibility stays per page.
    let mut cursor: Option<String> = None;
    let mut paged = Vec::new();
    loop {
        let path = match &cursor {
            Some(c) => format!("/audit?limit=1&cursor={c}"),
            None => "/audit?limit=1".to_owned(),
        };
        let a = f.app.call(&carol, "GET", &path, "").await;
        paged.extend(events(&a));
        match a.json()["Next"].as_str() {
            Some(n) => cursor = Some(n.to_owned()),
            None => break,
        }
    }
    assert_eq!(paged, events(&all));
    // Alice holding an admin's cursor still sees only her own rows.
    let first_page = f.app.call(&carol, "GET", "/audit?limit=1", "").await;
    let c = first_page.json()["Next"].as_str().unwrap().to_owned();
    let theirs = events(
        &f.app
            .call(&f.app.mallory, "GET", &format!("/audit?cursor={c}"), "")
            .await,
    );
    assert_eq!(theirs, [("created".into(), r2.clone())]);

    // since/until select by time, until exclusive.
    let now = jiff::Timestamp::now().as_second();
    let none = f
        .app
        .call(&carol, "GET", &format!("/audit?until={}", now - 3600), "")
        .await;
    assert!(events(&none).is_empty());
    let later = f
        .app
        .call(
            &carol,
            "GET",
            &format!("/audit?since={}&until={}", now + 3600, now + 7200),
            "",
        )
        .await;
    assert!(events(&later).is_empty());

    // Each event was also a JSON log line.
    let logs = logs_text();
    assert!(
        logs.lines().any(|l| l.contains(r#""message":"audit""#)
            && l.contains(&r1)
            && l.contains(r#""event":"approved""#)),
        "no audit log line"
    );
}

#[tokio::test]
async fn a_malformed_query_is_400_before_the_token_is_used() {
    let f = fixture().await;
    let carol = f.app.add_user(CAROL_ARN);
    for q in [
        "limit=0",
        "limit=1001",
        "limit=x",
        "since=yesterday",
        "until=-5",
        "since=20&until=10",
        "cursor=abc",
        "cursor=dHZtLWF1ZGl0LXYxOi0x",
        "colour=blue",
    ] {
        let before = f.app.sts_calls("GetCallerIdentity");
        let a = f.app.call(&carol, "GET", &format!("/audit?{q}"), "").await;
        assert_eq!(
            (a.status, a.code().as_str()),
            (400, "INVALID_REQUEST"),
            "{q}: {}",
            a.body
        );
        assert_eq!(
            f.app.sts_calls("GetCallerIdentity"),
            before,
            "{q}: token was used"
        );
    }
    assert_eq!(f.app.sts_calls("AssumeRole"), 0);
}

#[tokio::test]
async fn an_unauthenticated_or_unbound_call_is_refused_and_a_database_fault_is_503() {
    let f = fixture().await;
    let none = f.app.get(&f.app.api, "/audit", None).await;
    assert_eq!(
        (none.status, none.code().as_str()),
        (401, "INVALID_TOKEN"),
        "{}",
        none.body
    );
    assert_eq!(f.app.sts_calls("GetCallerIdentity"), 0);
    // A token bound to another route does not serve this one.
    let token = f.app.token(&f.app.alice, b"");
    let other = f
        .app
        .get(&f.app.api, "/audit", Some(&format!("Bearer {token}")))
        .await;
    assert_eq!(
        (other.status, other.code().as_str()),
        (401, "INVALID_TOKEN"),
        "{}",
        other.body
    );
    // The table gone: tvm's fault, 503 UNAVAILABLE with nothing of the cause.
    sqlx::query("DROP TABLE audit_events")
        .execute(&f.db.pool)
        .await
        .unwrap();
    let down = f.app.call(&f.app.alice, "GET", "/audit", "").await;
    assert_eq!(
        (down.status, down.code().as_str()),
        (503, "UNAVAILABLE"),
        "{}",
        down.body
    );
    assert!(!down.body.contains("audit_events"), "{}", down.body);
    assert_eq!(f.app.sts_calls("AssumeRole"), 0);
}
