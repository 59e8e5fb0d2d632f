//! A leaked long-term key (DESIGN §13, `credentials` of an `AKIA…` key):
//! its IAM user's temporary keys are refused once tvm has seen the key, and
//! a flood of its refused calls holds up no one else. The app and helpers
//! are `revocation`'s.

use sqlx::Row as _;

use crate::revocation::*;
use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_long_term_key_unknown_to_the_ledger_blocks_its_users_temporary_keys_once_seen() {
    let r = rev_app().await;
    // carol's long-term key leaked; it never vended, so the ledger does not
    // know whose it is. A temporary key of the same IAM user (as
    // GetSessionToken mints) stands beside it.
    let carol_akia = r.carol.creds.access_key_id().to_owned();
    let (temp_key, temp_secret) = (
        "ASIACAROLTEMPORARY01",
        "carol-temporary-secret-0123456789abcdef",
    );
    r.app
        .sim
        .add_user(CAROL_ARN, temp_key, temp_secret)
        .unwrap();
    let carol_temp = Caller {
        creds: aws_credential_types::Credentials::new(temp_key, temp_secret, None, None, "test"),
    };
    let body = format!(
        r#"{{"target": {{"CallerAccessKeyId": "{carol_akia}"}}, "reason": "key in a public repo"}}"#
    );
    let revoked = r.app.call(&r.dave, "POST", "/revocations", &body).await;
    assert_eq!(revoked.status, 201, "{}", revoked.body);
    let id = revoked.json()["Id"].as_str().unwrap().to_owned();
    // Not yet known: the temporary key still passes.
    let a = r.app.call(&carol_temp, "GET", "/profiles", "").await;
    assert_eq!(a.status, 200, "{}", a.body);
    // The leaked key comes back: refused, and now tvm knows its user.
    let assumed = r.app.sts_calls("AssumeRole");
    let a = r.app.call(&r.carol, "GET", "/profiles", "").await;
    assert_refused(&a, 403, "POLICY_DENY");
    let a = r.app.call(&carol_temp, "GET", "/profiles", "").await;
    assert_refused(&a, 403, "POLICY_DENY");
    let vend = r.app.vend(&carol_temp, r#"{"profile": "readonly"}"#).await;
    assert_refused(&vend, 403, "POLICY_DENY");
    assert_eq!(r.app.sts_calls("AssumeRole"), assumed, "STS not called");
    // bob, another IAM user, is untouched.
    assert_eq!(r.app.call(&r.bob, "GET", "/profiles", "").await.status, 200);
    // Lifting the revocation unblocks both.
    let lift = r
        .app
        .call(
            &r.dave,
            "POST",
            &format!("/revocations/{id}/lift"),
            r#"{"reason": "key rotated"}"#,
        )
        .await;
    assert_eq!(lift.status, 200, "{}", lift.body);
    assert_eq!(
        r.app.call(&carol_temp, "GET", "/profiles", "").await.status,
        200
    );
    assert_eq!(
        r.app.call(&r.carol, "GET", "/profiles", "").await.status,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_a_blocked_keys_calls_holds_up_no_one_else() {
    // carol's leaked long-term key keeps calling while bob vends and an
    // admin revokes someone else: each refused call only reads (its user is
    // recorded once), so nobody else's write waits behind the flood.
    let r = rev_app().await;
    let carol_akia = r.carol.creds.access_key_id().to_owned();
    let body = format!(
        r#"{{"target": {{"CallerAccessKeyId": "{carol_akia}"}}, "reason": "key in a public repo"}}"#
    );
    let revoked = r.app.call(&r.dave, "POST", "/revocations", &body).await;
    assert_eq!(revoked.status, 201, "{}", revoked.body);
    let flood = futures_util::future::join_all(
        (0..60).map(|_| r.app.call(&r.carol, "GET", "/profiles", "")),
    );
    let others = async {
        let mut statuses = Vec::new();
        for _ in 0..5 {
            statuses.push(
                r.app
                    .vend(&r.bob, r#"{"profile": "readonly"}"#)
                    .await
                    .status,
            );
        }
        let body = format!(
            r#"{{"target": {{"Principal": "{CAROL_ARN}"}}, "reason": "suspend while we look"}}"#
        );
        statuses.push(
            r.app
                .call(&r.dave, "POST", "/revocations", &body)
                .await
                .status,
        );
        statuses
    };
    let (flood, others) = tokio::join!(flood, others);
    assert_eq!(others, [200, 200, 200, 200, 200, 201]);
    // Every call of the flood is refused as revoked (rate limits are off
    // here, so each one reaches the revocation check): never a 5xx.
    for a in &flood {
        assert_refused(a, 403, "POLICY_DENY");
    }
    // Her IAM user was recorded under the key's revocation exactly once.
    let rows: i64 = sqlx::query(
        "SELECT COUNT(*) FROM revocation_blocks WHERE block_type = 'iam_user' \
         AND revocation_id = $1",
    )
    .bind(revoked.json()["Id"].as_str().unwrap())
    .fetch_one(&r.db)
    .await
    .unwrap()
    .try_get(0)
    .unwrap();
    assert_eq!(rows, 1);
}
