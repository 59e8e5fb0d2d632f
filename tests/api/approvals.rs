//! Approvals and break-glass (DESIGN §12) against SQLite: every transition and
//! refusal, with status, `Code` and whether STS AssumeRole was called.

use crate::support::*;

const BOB_ARN: &str = "arn:aws:iam::111122223333:user/eng/bob";
const CAROL_ARN: &str = "arn:aws:iam::111122223333:user/ops/carol";
/// Alice again, as another IAM user (same person: DESIGN §12).
const ALICE_OPS_ARN: &str = "arn:aws:iam::111122223333:user/ops/ALICE@Example.com";
const DEPLOY_ROLE: &str = "arn:aws:iam::111122223333:role/Deploy";

const POLICY_APPR: &str = r#"version: 1
profiles:
  readonly:
    role_arn: arn:aws:iam::111122223333:role/TvmReadOnly
    max_duration: 1h
  prod-admin:
    role_arn: arn:aws:iam::111122223333:role/TvmProdAdmin
    max_duration: 2h
rules:
  - name: no-carol
    effect: deny
    principals: ["arn:aws:iam::111122223333:user/ops/carol"]
    profiles: ["prod-admin"]
  - name: prod-needs-approval
    effect: require_approval
    accounts: ["111122223333"]
    principals: ["arn:aws:iam::111122223333:user/eng/*", "arn:aws:sts::111122223333:assumed-role/Deploy/*", "arn:aws:iam::111122223333:user/ops/ALICE@Example.com"]
    profiles: ["prod-admin"]
    approvers:
      principals: ["arn:aws:iam::111122223333:user/eng/*", "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_*/*"]
    grant_duration: 1h
"#;

async fn app() -> TestApp {
    spawn_app_with(Options {
        approvals: true,
        policy_text: Some(POLICY_APPR.into()),
        ..Options::default()
    })
    .await
}

async fn create(app: &TestApp, who: &Caller) -> Answer {
    app.call(
        who,
        "POST",
        "/requests",
        r#"{"profile": "prod-admin", "duration_seconds": 1800, "reason": "deploy hotfix <https://x|y>"}"#,
    )
    .await
}

#[tokio::test]
async fn full_round_trip_create_approve_vend_under_grant() {
    let app = app().await;
    let bob = app.add_user(BOB_ARN);
    // A plain vend meets the require_approval rule: 403 APPROVAL_REQUIRED, no STS.
    let plain = app.vend(&app.alice, r#"{"profile": "prod-admin"}"#).await;
    assert_eq!(
        (plain.status, plain.code().as_str()),
        (403, "APPROVAL_REQUIRED")
    );
    assert_eq!(app.sts_calls("AssumeRole"), 0);

    let created = create(&app, &app.alice).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let req = created.json();
    let id = req["Id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 16);
    assert_eq!(req["Status"], "pending");
    assert_eq!(req["Requester"], ALICE_ARN);
    assert_eq!(req["DurationSeconds"], 1800);

    // Bob sees it among pending requests; Mallory (another account) does not.
    let list = app.call(&bob, "GET", "/requests?status=pending", "").await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert_eq!(list.json()["Requests"][0]["Id"], id.as_str());
    let hidden = app
        .call(&app.mallory, "GET", &format!("/requests/{id}"), "")
        .await;
    assert_eq!((hidden.status, hidden.code().as_str()), (404, "NOT_FOUND"));
    let missing = app
        .call(&bob, "GET", "/requests/0000000000000000", "")
        .await;
    assert_eq!(
        (missing.status, missing.code().as_str()),
        (404, "NOT_FOUND")
    );

    // No self-approval.
    let own = app
        .call(
            &app.alice,
            "POST",
            &format!("/requests/{id}/approve"),
            r#"{"comment": "me"}"#,
        )
        .await;
    assert_eq!((own.status, own.code().as_str()), (403, "POLICY_DENY"));

    // A vend before approval: POLICY_DENY, no STS.
    let early = app
        .vend(
            &app.alice,
            &format!(r#"{{"profile": "prod-admin", "approval_id": "{id}"}}"#),
        )
        .await;
    assert_eq!((early.status, early.code().as_str()), (403, "POLICY_DENY"));

    let ok = app
        .call(
            &bob,
            "POST",
            &format!("/requests/{id}/approve"),
            r#"{"comment": "ok"}"#,
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.json()["Status"], "approved");
    assert_eq!(ok.json()["Approvals"][0]["Approver"], BOB_ARN);
    assert!(ok.json()["GrantExpiresAt"].is_string());

    // Not pending any more: 409 for approve and deny.
    for action in ["approve", "deny"] {
        let again = app
            .call(&bob, "POST", &format!("/requests/{id}/{action}"), "{}")
            .await;
        assert_eq!(
            (again.status, again.code().as_str()),
            (409, "CONFLICT"),
            "{action}"
        );
    }

    // Someone else's grant: POLICY_DENY, no STS.
    let stolen = app
        .vend(
            &bob,
            &format!(r#"{{"profile": "prod-admin", "approval_id": "{id}"}}"#),
        )
        .await;
    assert_eq!(
        (stolen.status, stolen.code().as_str()),
        (403, "POLICY_DENY")
    );
    // Longer than requested: INVALID_DURATION.
    let long = app
        .vend(
            &app.alice,
            &format!(
                r#"{{"profile": "prod-admin", "approval_id": "{id}", "duration_seconds": 3600}}"#
            ),
        )
        .await;
    assert_eq!(
        (long.status, long.code().as_str()),
        (400, "INVALID_DURATION")
    );
    assert_eq!(app.sts_calls("AssumeRole"), 0);

    let vend = app
        .vend(
            &app.alice,
            &format!(r#"{{"profile": "prod-admin", "approval_id": "{id}"}}"#),
        )
        .await;
    assert_eq!(vend.status, 200, "{}", vend.body);
    let si = vend.json()["SourceIdentity"].as_str().unwrap().to_owned();
    assert!(si.contains(&format!(".apr-{}.", &id[..8])), "{si}");
    assert_eq!(app.sts_calls("AssumeRole"), 1);
    let call = &app.sim.calls_for("AssumeRole")[0];
    let text = format!("{call:?}");
    assert!(
        text.contains("tvm-grant-id") && text.contains(&id),
        "{text}"
    );
}

#[tokio::test]
async fn refusals_of_the_vend_body_and_kinds() {
    let app = app().await;
    let both = app
        .vend(
            &app.alice,
            r#"{"profile": "prod-admin", "approval_id": "0123456789abcdef", "reason": "x"}"#,
        )
        .await;
    assert_eq!(
        (both.status, both.code().as_str()),
        (400, "INVALID_REQUEST")
    );
    let unknown = app
        .vend(
            &app.alice,
            r#"{"profile": "prod-admin", "approval_id": "0123456789abcdef"}"#,
        )
        .await;
    assert_eq!(
        (unknown.status, unknown.code().as_str()),
        (403, "POLICY_DENY")
    );
    // A deny before the require_approval rule wins for every kind.
    let carol = app.add_user(CAROL_ARN);
    let denied = create(&app, &carol).await;
    assert_eq!(
        (denied.status, denied.code().as_str()),
        (403, "POLICY_DENY")
    );
    let plain = app.vend(&carol, r#"{"profile": "prod-admin"}"#).await;
    assert_eq!((plain.status, plain.code().as_str()), (403, "POLICY_DENY"));
    assert_eq!(app.sts_calls("AssumeRole"), 0);
}

#[tokio::test]
async fn role_sessions_are_not_people_and_one_person_approves_once() {
    let app = app().await;
    let deploy = app.add_session(DEPLOY_ROLE, "alice", jiff::SignedDuration::from_hours(1));
    let r = create(&app, &deploy).await;
    assert_eq!((r.status, r.code().as_str()), (403, "POLICY_DENY"));

    // Alice's request; alice's Identity Center session (same person by
    // username) may not approve it.
    let id = create(&app, &app.alice).await.json()["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    let sso = app
        .call(
            &app.sso_alice,
            "POST",
            &format!("/requests/{id}/approve"),
            "{}",
        )
        .await;
    assert_eq!((sso.status, sso.code().as_str()), (403, "POLICY_DENY"));
}

#[tokio::test]
async fn at_most_five_pending_requests_and_deny_transition() {
    let app = app().await;
    let bob = app.add_user(BOB_ARN);
    let mut ids = Vec::new();
    for _ in 0..5 {
        let r = create(&app, &app.alice).await;
        assert_eq!(r.status, 201, "{}", r.body);
        ids.push(r.json()["Id"].as_str().unwrap().to_owned());
    }
    let sixth = create(&app, &app.alice).await;
    assert_eq!((sixth.status, sixth.code().as_str()), (429, "RATE_LIMITED"));
    let d = app
        .call(
            &bob,
            "POST",
            &format!("/requests/{}/deny", ids[0]),
            r#"{"comment": "no"}"#,
        )
        .await;
    assert_eq!(d.status, 200, "{}", d.body);
    assert_eq!(d.json()["Status"], "denied");
    let after = app
        .vend(
            &app.alice,
            &format!(
                r#"{{"profile": "prod-admin", "approval_id": "{}"}}"#,
                ids[0]
            ),
        )
        .await;
    assert_eq!((after.status, after.code().as_str()), (403, "POLICY_DENY"));
    // Room again for one more.
    assert_eq!(create(&app, &app.alice).await.status, 201);
}

#[tokio::test]
async fn tokens_bind_method_and_path() {
    let app = app().await;
    let bob = app.add_user(BOB_ARN);
    let id = create(&app, &app.alice).await.json()["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    // A token made for approve, sent to deny.
    let token = app.token_for(
        &bob,
        &app.origin,
        &format!("POST /requests/{id}/approve"),
        b"{}",
        std::time::SystemTime::now(),
    );
    let r = app
        .post(
            &format!("/requests/{id}/deny"),
            Some(&format!("Bearer {token}")),
            "{}",
        )
        .await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(r.code(), "INVALID_TOKEN");
}

#[tokio::test]
async fn profiles_show_the_kind() {
    let app = app().await;
    let token = app.token(&app.alice, b"");
    let r = app
        .get(&app.api, "/profiles", Some(&format!("Bearer {token}")))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let kinds: Vec<(String, String)> = r.json()["Profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["Name"].as_str().unwrap().into(),
                p["Kind"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        vec![("prod-admin".to_owned(), "approval".to_owned())]
    );
}

#[tokio::test]
async fn a_changed_rule_needs_a_new_approval_and_a_bad_reload_keeps_the_last_good() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.yaml");
    std::fs::write(&file, POLICY_APPR).unwrap();
    let app = spawn_app_with(Options {
        approvals: true,
        policy_file: Some(file.clone()),
        ..Options::default()
    })
    .await;
    let bob = app.add_user(BOB_ARN);
    let id = create(&app, &app.alice).await.json()["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    let ok = app
        .call(&bob, "POST", &format!("/requests/{id}/approve"), "{}")
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let vend_body = format!(r#"{{"profile": "prod-admin", "approval_id": "{id}"}}"#);

    // A break_glass rule without a webhook for break_glass.used is rejected
    // on reload; the last good policy keeps serving the grant.
    let with_bg = format!(
        "{POLICY_APPR}  - name: bg\n    effect: break_glass\n    accounts: [\"111122223333\"]\n    profiles: [\"prod-admin\"]\n"
    );
    std::fs::write(&file, &with_bg).unwrap();
    let metrics_url = app.admin.clone();
    let mut rejected = false;
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let m = app.get(&metrics_url, "/metrics", None).await.body;
        if metric(&m, "tvm_policy_reloads_total{result=\"error\"}") >= 1.0 {
            rejected = true;
            break;
        }
    }
    assert!(rejected, "the reload should be rejected");
    let vend = app.vend(&app.alice, &vend_body).await;
    assert_eq!(vend.status, 200, "{}", vend.body);
    assert_eq!(app.sts_calls("AssumeRole"), 1);

    // The grant's rule changes (a longer grant): 403 APPROVAL_REQUIRED, no STS.
    std::fs::write(
        &file,
        POLICY_APPR.replace("grant_duration: 1h", "grant_duration: 2h"),
    )
    .unwrap();
    let mut refused = None;
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let r = app.vend(&app.alice, &vend_body).await;
        if r.status != 200 {
            refused = Some(r);
            break;
        }
    }
    let r = refused.expect("the changed rule should refuse the grant");
    assert_eq!((r.status, r.code().as_str()), (403, "APPROVAL_REQUIRED"));
    let calls = app.sts_calls("AssumeRole");
    let again = app.vend(&app.alice, &vend_body).await;
    assert_eq!(again.code(), "APPROVAL_REQUIRED");
    assert_eq!(app.sts_calls("AssumeRole"), calls);
}

#[tokio::test]
async fn the_five_pending_cap_counts_a_person_not_an_arn() {
    let app = app().await;
    let alice_ops = app.add_user(ALICE_OPS_ARN);
    for who in [&app.alice, &alice_ops, &app.alice, &alice_ops, &app.alice] {
        let r = create(&app, who).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let calls = app.sts_calls("AssumeRole");
    for who in [&alice_ops, &app.alice] {
        let r = create(&app, who).await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (429, "RATE_LIMITED"),
            "{}",
            r.body
        );
    }
    assert_eq!(app.sts_calls("AssumeRole"), calls);
    // Someone else still may.
    let bob = app.add_user(BOB_ARN);
    assert_eq!(create(&app, &bob).await.status, 201);
}
