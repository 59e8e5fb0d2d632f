//! Person revocations (DESIGN §13, `person`): an Identity Center person
//! across permission sets and only in `sso_accounts`, and what revoking a
//! person ends (requests, grants, approvals on pending requests, page
//! sessions). The app and helpers are `revocation`'s.

use sqlx::Row as _;

use crate::revocation::*;
use crate::support::*;
use crate::ui::{page, session as ui_session};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_revocation_of_an_sso_user_touches_no_colleague_nor_another_domain() {
    let r = rev_app().await;
    let hour = jiff::SignedDuration::from_hours(1);
    let alice_admin = r.app.add_session(SSO_ADMIN, "Alice@Example.com", hour);
    let alice_dev = r.app.add_session(SSO_DEV, "alice@example.com", hour);
    let erin_dev = r.app.add_session(SSO_DEV, "erin@example.com", hour);
    let other_dev = r.app.add_session(SSO_DEV, "alice@other.com", hour);
    let sts = |role: &str, name: &str| {
        let name_of = role.rsplit('/').next().unwrap().to_owned();
        format!("arn:aws:sts::111122223333:assumed-role/{name_of}/{name}")
    };
    let rows = [
        (
            "ASIALEDGERALICE00001",
            sts(SSO_ADMIN, "Alice@Example.com"),
            &alice_admin,
            "alice@example.com",
        ),
        (
            "ASIALEDGERALICE00002",
            sts(SSO_DEV, "alice@example.com"),
            &alice_dev,
            "alice@example.com",
        ),
        (
            "ASIALEDGERERIN000001",
            sts(SSO_DEV, "erin@example.com"),
            &erin_dev,
            "erin@example.com",
        ),
        (
            "ASIALEDGEROTHER00001",
            sts(SSO_DEV, "alice@other.com"),
            &other_dev,
            "alice@other.com",
        ),
    ];
    for (key, arn, who, person) in &rows {
        ledger(
            &r.db,
            Row {
                key,
                caller_arn: arn,
                caller_user_id: format!("AROAX:{person}"),
                caller_key: who.creds.access_key_id(),
                sso: Some(person),
                grant: None,
                created_ago: 60,
            },
        )
        .await;
    }
    let body = r#"{"target": {"User": "ALICE@example.com"}, "reason": "left the company", "dry_run": true}"#;
    let dry = r.app.call(&r.dave, "POST", "/revocations", body).await;
    assert_eq!(dry.status, 200, "{}", dry.body);
    assert_eq!(
        dry.json()["Sessions"],
        serde_json::json!(["ASIALEDGERALICE00001", "ASIALEDGERALICE00002"])
    );
    assert_eq!(version(&r.db).await, 0, "a dry run changes nothing");
    assert_eq!(
        r.app.call(&alice_dev, "GET", "/sessions", "").await.status,
        200
    );

    let real = body.replace(r#", "dry_run": true"#, r#", "suspend_seconds": 3600"#);
    let revoked = r.app.call(&r.dave, "POST", "/revocations", &real).await;
    assert_eq!(revoked.status, 201, "{}", revoked.body);
    let v = revoked.json();
    assert_eq!(v["Kind"], "person");
    assert!(v["SuspendedUntil"].is_string());
    let mut sessions: Vec<_> = v["Sessions"].as_array().unwrap().clone();
    sessions.sort_by_key(|s| s.as_str().unwrap().to_owned());
    assert_eq!(
        sessions,
        vec!["ASIALEDGERALICE00001", "ASIALEDGERALICE00002"]
    );
    let assumed = r.app.sts_calls("AssumeRole");
    for who in [&alice_admin, &alice_dev] {
        let a = r.app.call(who, "GET", "/sessions", "").await;
        assert_refused(&a, 403, "POLICY_DENY");
    }
    // A brand-new session of alice (a key the ledger never saw) is refused
    // too: she is suspended.
    let fresh = r.app.add_session(SSO_DEV, "alice@EXAMPLE.com", hour);
    assert_refused(
        &r.app.call(&fresh, "GET", "/profiles", "").await,
        403,
        "POLICY_DENY",
    );
    assert!(logs_text().contains("suspended"));
    for who in [&erin_dev, &other_dev] {
        assert_eq!(r.app.call(who, "GET", "/sessions", "").await.status, 200);
    }
    assert_eq!(r.app.sts_calls("AssumeRole"), assumed);
    let erin = r
        .app
        .call(&r.dave, "GET", "/sessions/ASIALEDGERERIN000001", "")
        .await;
    assert_eq!(erin.json()["Status"], "live");

    // Lift: the suspension ends; her revoked sessions stay revoked.
    let id = v["Id"].as_str().unwrap();
    let lifted = r
        .app
        .call(
            &r.dave,
            "POST",
            &format!("/revocations/{id}/lift"),
            r#"{"reason": "mistake"}"#,
        )
        .await;
    assert_eq!(lifted.status, 200, "{}", lifted.body);
    assert_eq!(r.app.call(&fresh, "GET", "/sessions", "").await.status, 200);
    let gone = r
        .app
        .call(&r.dave, "GET", "/sessions/ASIALEDGERALICE00001", "")
        .await;
    assert_eq!(gone.json()["Status"], "revoked");
    assert_refused(
        &r.app.call(&alice_dev, "GET", "/sessions", "").await,
        403,
        "POLICY_DENY",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_revocation_ends_requests_grants_approvals_and_page_sessions() {
    let r = rev_app().await;
    let create = |who| {
        r.app.call(
            who,
            "POST",
            "/requests",
            r#"{"profile": "prod-admin", "duration_seconds": 1800, "reason": "deploy"}"#,
        )
    };
    // Bob's own pending request, and a grant of alice's that bob approved.
    let mine = create(&r.bob).await;
    assert_eq!(mine.status, 201, "{}", mine.body);
    let mine = mine.json()["Id"].as_str().unwrap().to_owned();
    let alices = create(&r.app.alice).await.json()["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    let ok = r
        .app
        .call(&r.bob, "POST", &format!("/requests/{alices}/approve"), "")
        .await;
    assert_eq!(ok.json()["Status"], "approved", "{}", ok.body);
    let page_session = ui_session(&r.app, &r.bob).await;
    assert_eq!(page(&r.app, "/ui/", Some(&page_session)).await.status, 200);

    let body =
        format!(r#"{{"target": {{"Principal": "{BOB_ARN}"}}, "reason": "account compromised"}}"#);
    let revoked = r.app.call(&r.dave, "POST", "/revocations", &body).await;
    assert_eq!(revoked.status, 201, "{}", revoked.body);
    assert_eq!(
        revoked.json()["ApprovedGrants"],
        serde_json::json!([alices])
    );
    let gone: i64 = sqlx::query("SELECT COUNT(*) FROM ui_sessions WHERE arn = $1")
        .bind(BOB_ARN)
        .fetch_one(&r.db)
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    assert_eq!(gone, 0, "bob's web-page sessions are ended");
    let signed_out = page(&r.app, "/ui/", Some(&page_session)).await;
    assert!(!signed_out.body.contains(BOB_ARN), "{}", signed_out.body);
    let status: String = sqlx::query("SELECT status FROM approval_requests WHERE id = $1")
        .bind(&mine)
        .fetch_one(&r.db)
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    assert_eq!(status, "denied", "his pending request is denied");
    // The grant he approved stays (listed for review, not revoked).
    let shown = r
        .app
        .call(&r.app.alice, "GET", &format!("/requests/{alices}"), "")
        .await;
    assert_eq!(shown.json()["Status"], "approved");
    // Bob himself is refused everywhere; alice is not.
    assert_refused(
        &r.app.call(&r.bob, "GET", "/requests", "").await,
        403,
        "POLICY_DENY",
    );
    assert_eq!(
        r.app
            .call(&r.app.alice, "GET", "/requests", "")
            .await
            .status,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_revocation_withdraws_their_approvals_on_pending_requests_only() {
    let r = rev_app().await;
    let approvers = |body: &serde_json::Value| -> Vec<String> {
        body["Approvals"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["Approver"].as_str().unwrap().to_owned())
            .collect()
    };
    // Alice's request needs two approvals: bob gives the first, so it waits.
    let made = r
        .app
        .call(
            &r.app.alice,
            "POST",
            "/requests",
            r#"{"profile": "prod-pair", "duration_seconds": 1800, "reason": "migration"}"#,
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    let id = made.json()["Id"].as_str().unwrap().to_owned();
    let half = r
        .app
        .call(&r.bob, "POST", &format!("/requests/{id}/approve"), "")
        .await;
    assert_eq!(half.json()["Status"], "pending", "{}", half.body);
    assert_eq!(approvers(&half.json()), [BOB_ARN]);

    let body = format!(r#"{{"target": {{"Principal": "{BOB_ARN}"}}, "reason": "phished"}}"#);
    let revoked = r.app.call(&r.dave, "POST", "/revocations", &body).await;
    assert_eq!(revoked.status, 201, "{}", revoked.body);
    // He approved no live grant (the request is still pending).
    assert!(
        revoked.json()["ApprovedGrants"]
            .as_array()
            .is_none_or(|a| a.is_empty()),
        "{}",
        revoked.body
    );

    // The request still waits, without bob's approval: one more approval
    // (carol's) is no longer enough.
    let shown = r
        .app
        .call(&r.app.alice, "GET", &format!("/requests/{id}"), "")
        .await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert_eq!(shown.json()["Status"], "pending");
    assert!(approvers(&shown.json()).is_empty(), "{}", shown.body);
    let one = r
        .app
        .call(&r.carol, "POST", &format!("/requests/{id}/approve"), "")
        .await;
    assert_eq!(one.status, 200, "{}", one.body);
    assert_eq!(one.json()["Status"], "pending", "{}", one.body);
    assert_eq!(approvers(&one.json()), [CAROL_ARN]);
    // Bob, suspended, cannot approve again.
    assert_refused(
        &r.app
            .call(&r.bob, "POST", &format!("/requests/{id}/approve"), "")
            .await,
        403,
        "POLICY_DENY",
    );
}
