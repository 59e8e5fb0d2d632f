//! `GET /revocations/{id}/check` (DESIGN §13, admins) over real sockets: a
//! revocation the caller may not see is 404 like an unknown one, one they
//! may see but not check (its non-admin author) is 403, and on a tvm without
//! a revoker role (manual mode) the admin gets 409 — each without any STS
//! call beyond the caller's own GetCallerIdentity.

use crate::revocation::rev_app_with;
use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_check_is_for_admins_and_needs_a_revoker_role() {
    let r = rev_app_with(Options::default()).await;
    let vended = r.app.vend(&r.app.alice, r#"{"profile": "readonly"}"#).await;
    assert_eq!(vended.status, 200, "{}", vended.body);
    let key = vended.json()["AccessKeyId"].as_str().unwrap().to_owned();
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
    let path = format!("/revocations/{id}/check");
    let assumed = r.app.sts_calls("AssumeRole");

    // Its author sees it but is no admin.
    let a = r.app.call(&r.app.alice, "GET", &path, "").await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (403, "POLICY_DENY"),
        "{}",
        a.body
    );
    // Someone else cannot even see it: like an unknown one.
    let a = r.app.call(&r.bob, "GET", &path, "").await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (404, "NOT_FOUND"),
        "{}",
        a.body
    );
    let a = r
        .app
        .call(&r.dave, "GET", "/revocations/0123456789abcdef/check", "")
        .await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (404, "NOT_FOUND"),
        "{}",
        a.body
    );
    // A body is refused before anything else.
    let a = r.app.call(&r.dave, "GET", &path, "{}").await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (400, "INVALID_REQUEST"),
        "{}",
        a.body
    );
    // The admin, on a tvm without revocation.role_name: nothing to read with.
    let a = r.app.call(&r.dave, "GET", &path, "").await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (409, "CONFLICT"),
        "{}",
        a.body
    );
    assert!(a.body.contains("revocation.role_name"), "{}", a.body);
    assert_eq!(r.app.sts_calls("AssumeRole"), assumed, "no revoker session");
}
