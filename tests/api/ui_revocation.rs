//! The web page's DESIGN §13 half over real sockets against SQLite: admins
//! sign in as well as approvers; "Sessions" lists one's own live sessions
//! (everyone's for an admin) with a revoke form; "Revocations" shows what the
//! viewer may see with its per-role status and, for admins, the lift form;
//! a granted request's page ends the grant. Every form needs the session's
//! CSRF token (refused ones change nothing), every answer carries the strict
//! headers, and the revocation service's rules (404 for what one may not
//! see, 403 admins only / targets yourself, 409 nothing left) show as the
//! page's own error pages. Ledger rows are inserted directly, as in
//! `revocation.rs`.

use crate::revocation::{ledger, rev_app_with, RevApp, Row, CAROL_ARN, SEC_ARN};
use crate::support::*;
use crate::ui::{create_request, csrf_of, login_link, page, post_form, session};

pub const ALICE_KEY: &str = "ASIAALICE00000000001";
pub const ALICE_KEY2: &str = "ASIAALICE00000000002";
pub const CAROL_KEY: &str = "ASIACAROL00000000001";
const HOSTILE: &str = "<script>alert(1)</script>\u{202e}gnp.exe";
const HOSTILE_SHOWN: &str = r"&lt;script&gt;alert(1)&lt;/script&gt;\u{202e}gnp.exe";

/// A live ledger row of `arn` (its simulator `UserId`) with the vended `key`.
async fn live(r: &RevApp, key: &str, arn: &str, caller_key: &str) {
    ledger(
        &r.db,
        Row {
            key,
            caller_arn: arn,
            caller_user_id: r.app.sim.unique_id(arn).unwrap(),
            caller_key,
            sso: None,
            grant: None,
            created_ago: 10,
        },
    )
    .await;
}

pub async fn app() -> RevApp {
    let r = rev_app_with(Options::default()).await;
    live(&r, ALICE_KEY, ALICE_ARN, "AKIAALICECALLER00001").await;
    live(&r, ALICE_KEY2, ALICE_ARN, "AKIAALICECALLER00001").await;
    live(&r, CAROL_KEY, CAROL_ARN, "AKIACAROLCALLER00001").await;
    r
}

/// The strict headers every answer under `/ui/` carries.
fn assert_strict(a: &Answer) {
    let csp = a.header("content-security-policy").unwrap_or_default();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(!csp.contains("script-src"), "{csp}");
    assert_eq!(a.header("x-frame-options"), Some("DENY"));
    assert_eq!(a.header("cache-control"), Some("no-store"));
}

/// A session's status as an admin reads it through the JSON API.
async fn status_of_session(r: &RevApp, key: &str) -> String {
    let a = r
        .app
        .call(&r.dave, "GET", &format!("/sessions/{key}"), "")
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    a.json()["Status"].as_str().unwrap().to_owned()
}

/// How many revocations exist (an admin's JSON list).
async fn revocation_count(r: &RevApp) -> usize {
    let a = r
        .app
        .call(&r.dave, "GET", "/revocations?status=all", "")
        .await;
    a.json()["Revocations"].as_array().unwrap().len()
}

/// The revocation id a 303 points at.
fn revocation_of(a: &Answer) -> String {
    assert_eq!(a.status, 303, "{}", a.body);
    assert_strict(a);
    let to = a.header("location").unwrap();
    to.strip_prefix("/ui/revocations/").unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_signs_in_sees_every_session_and_revokes_one_with_csrf_only() {
    let r = app().await;
    // Dave is an admin and approves nothing: the page used to refuse him.
    let link = login_link(&r.app, &r.dave, "/ui/sessions").await;
    assert_eq!(link.status, 200, "{}", link.body);
    let dave = session(&r.app, &r.dave).await;
    let list = page(&r.app, "/ui/sessions", Some(&dave)).await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert_strict(&list);
    for key in [ALICE_KEY, ALICE_KEY2, CAROL_KEY] {
        assert!(
            list.body.contains(&format!("/ui/sessions/{key}/revoke")),
            "{key}"
        );
    }
    assert!(list.body.contains("Every live session"));
    for nav in ["/ui/sessions\"", "/ui/revocations\""] {
        assert!(list.body.contains(nav), "{nav}");
    }
    let csrf = csrf_of(&list);
    let path = format!("/ui/sessions/{ALICE_KEY}/revoke");

    // Refused forms change nothing.
    let other = session(&r.app, &r.carol).await;
    let theirs = csrf_of(&page(&r.app, "/ui/", Some(&other)).await);
    for form in [
        vec![("reason", "stolen laptop")],
        vec![("reason", "stolen laptop"), ("csrf", "")],
        vec![("reason", "stolen laptop"), ("csrf", theirs.as_str())],
    ] {
        let a = post_form(&r.app, &path, &dave, &form).await;
        assert_eq!(a.status, 403, "{}", a.body);
        assert_strict(&a);
        assert!(a
            .body
            .contains("not sent from a page of your current session"));
    }
    let empty = post_form(&r.app, &path, &dave, &[("reason", ""), ("csrf", &csrf)]).await;
    assert_eq!(empty.status, 400, "{}", empty.body);
    assert!(empty.body.contains("reason must be 1 to 1000 characters"));
    let long = "x".repeat(1_001);
    let a = post_form(&r.app, &path, &dave, &[("reason", &long), ("csrf", &csrf)]).await;
    assert_eq!(a.status, 400, "{}", a.body);
    assert_eq!(revocation_count(&r).await, 0);
    assert_eq!(status_of_session(&r, ALICE_KEY).await, "live");

    // Revoked: 303 to the revocation, shown with its role's status and the
    // hostile reason as text.
    let done = post_form(
        &r.app,
        &path,
        &dave,
        &[("reason", HOSTILE), ("csrf", &csrf)],
    )
    .await;
    let id = revocation_of(&done);
    assert_eq!(status_of_session(&r, ALICE_KEY).await, "revoked");
    assert_eq!(
        status_of_session(&r, ALICE_KEY2).await,
        "live",
        "only that one"
    );
    let shown = page(&r.app, &format!("/ui/revocations/{id}"), Some(&dave)).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert_strict(&shown);
    assert!(shown.body.contains(HOSTILE_SHOWN), "{}", shown.body);
    assert!(!shown.body.contains("<script>") && !shown.body.contains('\u{202e}'));
    assert!(shown
        .body
        .contains("arn:aws:iam::111122223333:role/TvmReadOnly"));
    assert!(
        shown.body.contains("class=\"role pending\""),
        "{}",
        shown.body
    );
    assert!(
        shown.body.contains("<th scope=\"col\">Policy</th>"),
        "admins see it"
    );
    assert!(shown.body.contains(ALICE_KEY));
    let listed = page(&r.app, "/ui/revocations", Some(&dave)).await;
    assert!(listed.body.contains(&format!("/ui/revocations/{id}\"")));
    assert!(listed.body.contains(HOSTILE_SHOWN));
    // Gone from the live list; a second revoke is the service's 409.
    let list = page(&r.app, "/ui/sessions", Some(&dave)).await;
    assert!(!list.body.contains(&path));
    let again = post_form(
        &r.app,
        &path,
        &dave,
        &[("reason", "again"), ("csrf", &csrf)],
    )
    .await;
    assert_eq!(again.status, 409, "{}", again.body);
    assert_strict(&again);
    assert_eq!(revocation_count(&r).await, 1);
    // A malformed filter is the page's 400.
    let bad = page(&r.app, "/ui/revocations?status=maybe", Some(&dave)).await;
    assert_eq!(bad.status, 400);
    assert_strict(&bad);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_admin_sees_and_revokes_only_their_own_and_never_lifts() {
    let r = app().await;
    // Carol approves (not an admin): her own sessions only.
    let carol = session(&r.app, &r.carol).await;
    let list = page(&r.app, "/ui/sessions", Some(&carol)).await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(list.body.contains("Your own live sessions"));
    assert!(list.body.contains(CAROL_KEY));
    assert!(!list.body.contains(ALICE_KEY) && !list.body.contains(ALICE_KEY2));
    let csrf = csrf_of(&list);
    // Alice's session: as unknown, and untouched.
    for key in [ALICE_KEY, "ASIAUNKNOWN000000000"] {
        let a = post_form(
            &r.app,
            &format!("/ui/sessions/{key}/revoke"),
            &carol,
            &[("reason", "x"), ("csrf", &csrf)],
        )
        .await;
        assert_eq!(a.status, 404, "{}", a.body);
        assert_strict(&a);
    }
    assert_eq!(status_of_session(&r, ALICE_KEY).await, "live");
    // An admin's revocation is not hers to see.
    let dave = session(&r.app, &r.dave).await;
    let dcsrf = csrf_of(&page(&r.app, "/ui/sessions", Some(&dave)).await);
    let theirs = revocation_of(
        &post_form(
            &r.app,
            &format!("/ui/sessions/{ALICE_KEY}/revoke"),
            &dave,
            &[("reason", "incident"), ("csrf", &dcsrf)],
        )
        .await,
    );
    let hidden = page(&r.app, &format!("/ui/revocations/{theirs}"), Some(&carol)).await;
    assert_eq!(hidden.status, 404, "{}", hidden.body);
    let listed = page(&r.app, "/ui/revocations?status=all", Some(&carol)).await;
    assert!(listed.body.contains("The revocations you made."));
    assert!(!listed.body.contains(&theirs), "{}", listed.body);
    // Her own: revoked, shown without the admin-only columns or a lift form;
    // a lift is refused all the same.
    let own = revocation_of(
        &post_form(
            &r.app,
            &format!("/ui/sessions/{CAROL_KEY}/revoke"),
            &carol,
            &[("reason", "done for today"), ("csrf", &csrf)],
        )
        .await,
    );
    let shown = page(&r.app, &format!("/ui/revocations/{own}"), Some(&carol)).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert!(
        shown.body.contains("class=\"role pending\""),
        "{}",
        shown.body
    );
    assert!(!shown.body.contains("<th scope=\"col\">Policy</th>"));
    assert!(!shown.body.contains("/lift\""));
    let lift = post_form(
        &r.app,
        &format!("/ui/revocations/{own}/lift"),
        &carol,
        &[("reason", "undo"), ("csrf", &csrf)],
    )
    .await;
    assert_eq!(lift.status, 403, "{}", lift.body);
    assert!(lift.body.contains("admins only"), "{}", lift.body);
    let lift = post_form(
        &r.app,
        &format!("/ui/revocations/{theirs}/lift"),
        &carol,
        &[("reason", "undo"), ("csrf", &csrf)],
    )
    .await;
    assert_eq!(lift.status, 404, "{}", lift.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_lifts_a_key_block_but_not_one_that_targets_themselves() {
    let r = app().await;
    let erin = r.app.add_user(crate::revocation::SEC2_ARN);
    // A second caller key of dave's (not the one his page session uses) and
    // one of carol's, each revoked by the other admin / by dave.
    live(&r, "ASIADAVEVENDED000001", SEC_ARN, "ASIADAVEOTHERKEY0001").await;
    let revoke = |who: &Caller, key: &str| {
        let body = format!(r#"{{"target": {{"CallerAccessKeyId": "{key}"}}, "reason": "leaked"}}"#);
        let (app, who) = (&r.app, who.clone());
        async move {
            let a = app.call(&who, "POST", "/revocations", &body).await;
            assert_eq!(a.status, 201, "{}", a.body);
            a.json()["Id"].as_str().unwrap().to_owned()
        }
    };
    let of_dave = revoke(&erin, "ASIADAVEOTHERKEY0001").await;
    let of_carol = revoke(&erin, "AKIACAROLCALLER00001").await;
    let dave = session(&r.app, &r.dave).await;
    let shown = page(&r.app, &format!("/ui/revocations/{of_carol}"), Some(&dave)).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert!(
        shown.body.contains("deactivate it in IAM"),
        "the AKIA advice"
    );
    assert!(shown
        .body
        .contains(&format!("/ui/revocations/{of_carol}/lift\"")));
    let csrf = csrf_of(&shown);
    let mine = post_form(
        &r.app,
        &format!("/ui/revocations/{of_dave}/lift"),
        &dave,
        &[("reason", "mine"), ("csrf", &csrf)],
    )
    .await;
    assert_eq!(mine.status, 403, "{}", mine.body);
    assert!(mine.body.contains("targets yourself"), "{}", mine.body);
    let path = format!("/ui/revocations/{of_carol}/lift");
    let no_csrf = post_form(&r.app, &path, &dave, &[("reason", "rotated")]).await;
    assert_eq!(no_csrf.status, 403);
    let lifted = post_form(
        &r.app,
        &path,
        &dave,
        &[("reason", "rotated"), ("csrf", &csrf)],
    )
    .await;
    assert_eq!(revocation_of(&lifted), of_carol);
    let after = page(&r.app, &format!("/ui/revocations/{of_carol}"), Some(&dave)).await;
    assert!(after.body.contains("id=\"lifted\""), "{}", after.body);
    assert!(!after.body.contains("/lift\""));
    let twice = post_form(
        &r.app,
        &path,
        &dave,
        &[("reason", "again"), ("csrf", &csrf)],
    )
    .await;
    assert_eq!(twice.status, 409, "{}", twice.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_granted_request_page_ends_the_grant_for_its_requester_only() {
    let r = app().await;
    let grant = create_request(&r.app, &r.bob, "prod-admin", "deploy").await;
    let bob = session(&r.app, &r.bob).await;
    let path = format!("/ui/requests/{grant}");
    let pending = page(&r.app, &path, Some(&bob)).await;
    assert!(!pending.body.contains("/revoke\""), "pending: no form");
    let ok = r
        .app
        .call(&r.carol, "POST", &format!("/requests/{grant}/approve"), "")
        .await;
    assert_eq!(ok.json()["Status"], "approved", "{}", ok.body);
    let granted = page(&r.app, &path, Some(&bob)).await;
    assert!(granted.body.contains(&format!("action=\"{path}/revoke\"")));
    let csrf = csrf_of(&granted);
    // Carol approved it but is neither its requester nor an admin.
    let carol = session(&r.app, &r.carol).await;
    let seen = page(&r.app, &path, Some(&carol)).await;
    assert_eq!(seen.status, 200);
    assert!(!seen.body.contains("/revoke\""));
    let ccsrf = csrf_of(&seen);
    let refused = post_form(
        &r.app,
        &format!("{path}/revoke"),
        &carol,
        &[("reason", "x"), ("csrf", &ccsrf)],
    )
    .await;
    assert_eq!(refused.status, 404, "{}", refused.body);
    let no_csrf = post_form(&r.app, &format!("{path}/revoke"), &bob, &[("reason", "x")]).await;
    assert_eq!(no_csrf.status, 403);
    assert_eq!(
        crate::ui::status_of(&r.app, &r.bob, &grant).await,
        "approved"
    );
    let done = post_form(
        &r.app,
        &format!("{path}/revoke"),
        &bob,
        &[("reason", "done early"), ("csrf", &csrf)],
    )
    .await;
    let id = revocation_of(&done);
    assert_eq!(
        crate::ui::status_of(&r.app, &r.bob, &grant).await,
        "revoked"
    );
    let shown = page(&r.app, &format!("/ui/revocations/{id}"), Some(&bob)).await;
    assert!(shown.body.contains(&grant), "{}", shown.body);
    let after = page(&r.app, &path, Some(&bob)).await;
    assert!(!after.body.contains("/revoke\""));
    let twice = post_form(
        &r.app,
        &format!("{path}/revoke"),
        &bob,
        &[("reason", "x"), ("csrf", &csrf)],
    )
    .await;
    assert_eq!(twice.status, 409, "{}", twice.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_session_loses_the_page_when_a_reload_removes_the_admin() {
    let admins = "admins:\n  accounts: [\"111122223333\"]\n  principals: [\"arn:aws:iam::111122223333:user/sec/*\"]\n";
    let with = crate::ui::UI_POLICY.replacen("version: 1\n", &format!("version: 1\n{admins}"), 1);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.yaml");
    std::fs::write(&file, &with).unwrap();
    let app = spawn_app_with(Options {
        approvals: true,
        policy_file: Some(file.clone()),
        ..Options::default()
    })
    .await;
    let dave = app.add_user(SEC_ARN);
    let s = session(&app, &dave).await;
    let p = page(&app, "/ui/sessions", Some(&s)).await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("Every live session"));

    // Dave approves nothing: without `admins` the page is not his any more.
    std::fs::write(&file, crate::ui::UI_POLICY).unwrap();
    let mut last = None;
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let p = page(&app, "/ui/sessions", Some(&s)).await;
        if p.status != 200 {
            last = Some(p);
            break;
        }
    }
    let p = last.expect("the session should be refused after the reload");
    assert_eq!(p.status, 403, "{}", p.body);
    assert_strict(&p);
    assert!(!p.body.contains("Signed in as"), "{}", p.body);
    assert_eq!(login_link(&app, &dave, "/ui/").await.status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_ends_a_grant_from_the_sessions_page() {
    let r = app().await;
    let grant = create_request(&r.app, &r.bob, "prod-admin", "deploy").await;
    let ok = r
        .app
        .call(&r.carol, "POST", &format!("/requests/{grant}/approve"), "")
        .await;
    assert_eq!(ok.json()["Status"], "approved", "{}", ok.body);
    ledger(
        &r.db,
        Row {
            key: "ASIABOBGRANT00000001",
            caller_arn: crate::revocation::BOB_ARN,
            caller_user_id: r.app.sim.unique_id(crate::revocation::BOB_ARN).unwrap(),
            caller_key: "AKIABOBCALLER0000001",
            sso: None,
            grant: Some(&grant),
            created_ago: 5,
        },
    )
    .await;
    let dave = session(&r.app, &r.dave).await;
    // Dave approves nothing: the request's own page is not his to see.
    let hidden = page(&r.app, &format!("/ui/requests/{grant}"), Some(&dave)).await;
    assert_eq!(hidden.status, 404);
    let list = page(&r.app, "/ui/sessions", Some(&dave)).await;
    let action = format!("action=\"/ui/requests/{grant}/revoke\"");
    assert!(list.body.contains(&action), "{}", list.body);
    let csrf = csrf_of(&list);
    let done = post_form(
        &r.app,
        &format!("/ui/requests/{grant}/revoke"),
        &dave,
        &[("reason", "incident 42"), ("csrf", &csrf)],
    )
    .await;
    let id = revocation_of(&done);
    assert_eq!(
        crate::ui::status_of(&r.app, &r.bob, &grant).await,
        "revoked"
    );
    assert_eq!(
        status_of_session(&r, "ASIABOBGRANT00000001").await,
        "revoked"
    );
    let shown = page(&r.app, &format!("/ui/revocations/{id}"), Some(&dave)).await;
    assert!(
        shown.body.contains("ASIABOBGRANT00000001"),
        "{}",
        shown.body
    );
    assert_eq!(status_of_session(&r, ALICE_KEY).await, "live");
}
