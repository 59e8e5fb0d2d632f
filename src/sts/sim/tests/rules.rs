//! Each `AssumeRole` rule, through the real SDK: the status and code STS gives.

use aws_sdk_sts::operation::assume_role::builders::AssumeRoleFluentBuilder;
use aws_sdk_sts::types::Tag;

use super::*;

fn tag(k: &str, v: &str) -> Tag {
    Tag::builder().key(k).value(v).build().unwrap()
}

async fn outcome(req: AssumeRoleFluentBuilder) -> (u16, String) {
    match req.send().await {
        Ok(_) => (200, "ok".into()),
        Err(e) => failure::<_, ()>(Err(e)),
    }
}

#[tokio::test]
async fn assume_role_rules_table() {
    let (sim, handle) = spawn().await;
    let c = alice(&handle);
    let base = || {
        c.assume_role()
            .role_arn(PROD_ROLE)
            .role_session_name("tvm-alice-1")
    };
    let many_tags: Vec<Tag> = (0..51).map(|i| tag(&format!("k{i}"), "v")).collect();
    let long_policy = format!("{{\"Statement\":\"{}\"}}", "a".repeat(2048));
    let cases: Vec<(&str, AssumeRoleFluentBuilder, (u16, &str))> = vec![
        ("baseline", base(), (200, "ok")),
        (
            "unknown role",
            base().role_arn("arn:aws:iam::111122223333:role/Nope"),
            (403, "AccessDenied"),
        ),
        (
            "no role arn",
            c.assume_role().role_session_name("s1"),
            (400, "ValidationError"),
        ),
        (
            "no session name",
            c.assume_role().role_arn(PROD_ROLE),
            (400, "ValidationError"),
        ),
        (
            "short session name",
            base().role_session_name("a"),
            (400, "ValidationError"),
        ),
        (
            "long session name",
            base().role_session_name("a".repeat(65)),
            (400, "ValidationError"),
        ),
        (
            "colon in session name",
            base().role_session_name("tvm:alice"),
            (400, "ValidationError"),
        ),
        (
            "duration too short",
            base().duration_seconds(899),
            (400, "ValidationError"),
        ),
        (
            "duration too long",
            base().duration_seconds(43_201),
            (400, "ValidationError"),
        ),
        ("duration max", base().duration_seconds(43_200), (200, "ok")),
        (
            "above role max",
            base().role_arn(TVM_ROLE).duration_seconds(3601),
            (400, "ValidationError"),
        ),
        (
            "source identity with colon",
            base().source_identity("tvm:alice:x"),
            (400, "ValidationError"),
        ),
        (
            "source identity aws:",
            base().source_identity("aws:alice"),
            (400, "ValidationError"),
        ),
        (
            "source identity short",
            base().source_identity("a"),
            (400, "ValidationError"),
        ),
        (
            "source identity ok",
            base().source_identity("tvm.alice@example.com.direct.0123456789ab"),
            (200, "ok"),
        ),
        (
            "external id missing",
            base().role_arn(EXT_ROLE),
            (403, "AccessDenied"),
        ),
        (
            "external id wrong",
            base().role_arn(EXT_ROLE).external_id("partner-ext-id-2"),
            (403, "AccessDenied"),
        ),
        (
            "external id right",
            base().role_arn(EXT_ROLE).external_id(EXTERNAL_ID),
            (200, "ok"),
        ),
        (
            "external id malformed",
            base().role_arn(EXT_ROLE).external_id("a b"),
            (400, "ValidationError"),
        ),
        (
            "51 tags",
            base().set_tags(Some(many_tags)),
            (400, "ValidationError"),
        ),
        (
            "dup tag keys",
            base().tags(tag("Team", "a")).tags(tag("team", "b")),
            (400, "ValidationError"),
        ),
        (
            "aws: tag key",
            base().tags(tag("aws:x", "a")),
            (400, "ValidationError"),
        ),
        (
            "long tag key",
            base().tags(tag(&"k".repeat(129), "a")),
            (400, "ValidationError"),
        ),
        (
            "long tag value",
            base().tags(tag("k", &"v".repeat(257))),
            (400, "ValidationError"),
        ),
        (
            "transitive ok",
            base().tags(tag("k", "v")).transitive_tag_keys("k"),
            (200, "ok"),
        ),
        (
            "transitive unknown",
            base().tags(tag("k", "v")).transitive_tag_keys("x"),
            (400, "ValidationError"),
        ),
        (
            "policy ok",
            base().policy(r#"{"Version":"2012-10-17","Statement":[]}"#),
            (200, "ok"),
        ),
        (
            "policy not json",
            base().policy("{not json"),
            (400, "MalformedPolicyDocument"),
        ),
        (
            "policy too long",
            base().policy(long_policy),
            (400, "ValidationError"),
        ),
    ];
    for (name, req, want) in cases {
        let got = outcome(req).await;
        assert_eq!((got.0, got.1.as_str()), want, "{name}");
    }
    // Every attempt was recorded with its outcome; rejected ones still name the caller.
    let calls = sim.calls_for("AssumeRole");
    assert!(calls
        .iter()
        .all(|c| c.caller_arn.as_deref() == Some(ALICE_ARN)));
    assert!(calls
        .iter()
        .any(|c| c.error_code.as_deref() == Some("MalformedPolicyDocument")));
}

#[tokio::test]
async fn untrusted_callers_are_denied() {
    let (sim, handle) = spawn().await;
    let bob = client(&handle.url(), BOB_AKID, BOB_SECRET, None);
    let req = bob
        .assume_role()
        .role_arn(PROD_ROLE)
        .role_session_name("bob");
    assert_eq!(outcome(req).await, (403, "AccessDenied".into()));
    // Trusting the account root trusts bob too.
    let role = "arn:aws:iam::111122223333:role/AccountWide";
    sim.add_role(SimRole::new(
        role,
        vec!["arn:aws:iam::111122223333:root".into()],
    ))
    .unwrap();
    let req = bob.assume_role().role_arn(role).role_session_name("bob");
    assert_eq!(outcome(req).await, (200, "ok".into()));
    // Another account's root does not.
    let role = "arn:aws:iam::111122223333:role/OtherAccount";
    sim.add_role(SimRole::new(
        role,
        vec!["arn:aws:iam::999999999999:root".into()],
    ))
    .unwrap();
    let req = bob.assume_role().role_arn(role).role_session_name("bob");
    assert_eq!(outcome(req).await, (403, "AccessDenied".into()));
}
