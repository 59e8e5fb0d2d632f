//! The successful paths and what STS saw.

use crate::support::*;

fn is_source_identity(s: &str) -> bool {
    tvm::identity::SourceIdentity::parse(s).is_ok()
}

#[tokio::test]
async fn vend_allowed_returns_credentials_and_stamps() {
    let app = spawn_app().await;
    let resp = app.vend(&app.alice, r#"{"profile":"readonly"}"#).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let body = resp.json();
    for field in [
        "AccessKeyId",
        "SecretAccessKey",
        "Token",
        "Expiration",
        "SourceIdentity",
        "RoleArn",
    ] {
        assert!(
            body[field].as_str().is_some_and(|v| !v.is_empty()),
            "{field} missing: {body}"
        );
    }
    assert_eq!(
        body["RoleArn"],
        "arn:aws:iam::111122223333:role/TvmReadOnly"
    );
    assert!(body["AccessKeyId"].as_str().unwrap().starts_with("ASIA"));
    let expiration: jiff::Timestamp = body["Expiration"].as_str().unwrap().parse().unwrap();
    let remaining = expiration.duration_since(jiff::Timestamp::now()).as_secs();
    assert!(
        (850..=900).contains(&remaining),
        "default duration is 15 min: {remaining}"
    );
    assert_eq!(resp.header("cache-control"), Some("no-store"));

    // The request id of the response is the one in both stamps.
    let request_id = resp.header("x-request-id").unwrap().to_owned();
    assert_eq!(request_id.len(), 12);
    let si = body["SourceIdentity"].as_str().unwrap();
    assert_eq!(si, format!("tvm.alice.direct.{request_id}"));
    assert!(is_source_identity(si));

    let calls = app.sim.calls_for("AssumeRole");
    assert_eq!(calls.len(), 1);
    let call = &calls[0];
    assert_eq!(call.status, 200);
    assert_eq!(call.param("SourceIdentity"), Some(si));
    assert_eq!(
        call.param("RoleSessionName"),
        Some(format!("tvm-alice-{request_id}").as_str())
    );
    assert_eq!(call.param("DurationSeconds"), Some("900"));
    assert_eq!(
        call.param("RoleArn"),
        Some("arn:aws:iam::111122223333:role/TvmReadOnly")
    );
    assert_eq!(call.caller_arn.as_deref(), Some(SERVICE_ARN));
    // The GetCallerIdentity forward carried tvm's own audience and body hash.
    let gci = app.sim.calls_for("GetCallerIdentity");
    assert_eq!(gci.len(), 1);
    assert_eq!(
        gci[0].signed_header("x-tvm-audience"),
        Some(app.origin.as_str())
    );
    assert_eq!(gci[0].signed_header("x-tvm-target"), Some("POST /vend"));
    assert_eq!(gci[0].caller_arn.as_deref(), Some(ALICE_ARN));
}

#[tokio::test]
async fn vended_credentials_sign_as_the_assumed_role() {
    let app = spawn_app().await;
    let resp = app
        .vend(
            &app.alice,
            r#"{"profile":"readonly","duration_seconds":1200}"#,
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let b = resp.json();
    let creds = aws_credential_types::Credentials::new(
        b["AccessKeyId"].as_str().unwrap(),
        b["SecretAccessKey"].as_str().unwrap(),
        Some(b["Token"].as_str().unwrap().to_owned()),
        None,
        "vended",
    );
    let config = aws_sdk_sts::Config::builder()
        .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
        .region(aws_sdk_sts::config::Region::new("us-east-1"))
        .endpoint_url(&app.sim_url)
        .credentials_provider(creds)
        .build();
    let me = aws_sdk_sts::Client::from_conf(config)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    let request_id = resp.header("x-request-id").unwrap();
    assert_eq!(
        me.arn(),
        Some(
            format!("arn:aws:sts::111122223333:assumed-role/TvmReadOnly/tvm-alice-{request_id}")
                .as_str()
        )
    );
    assert_eq!(
        app.sim.calls_for("AssumeRole")[0].param("DurationSeconds"),
        Some("1200")
    );
}

#[tokio::test]
async fn sso_user_gets_admin_capped_by_rule_with_session_tags() {
    let app = spawn_app().await;
    let resp = app
        .vend(
            &app.sso_alice,
            r#"{"profile":"prod-admin","duration_seconds":1800}"#,
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let id = resp.header("x-request-id").unwrap().to_owned();
    assert_eq!(
        resp.json()["SourceIdentity"],
        format!("tvm.alice@example.com.direct.{id}")
    );
    let call = &app.sim.calls_for("AssumeRole")[0];
    assert_eq!(
        call.param("RoleSessionName"),
        Some(format!("tvm-alice@example.com-{id}").as_str())
    );
    assert_eq!(call.param("Tags.member.1.Key"), Some("tvm-user"));
    assert_eq!(call.param("Tags.member.1.Value"), Some("alice@example.com"));
}

#[tokio::test]
async fn profiles_lists_only_what_the_caller_may_have() {
    let app = spawn_app().await;
    let token = app.token(&app.alice, b"");
    let resp = app
        .get(&app.api, "/profiles", Some(&format!("Bearer {token}")))
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let names: Vec<String> = resp.json()["Profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["Name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, vec!["readonly"]);
    assert_eq!(
        resp.json()["Profiles"][0],
        serde_json::json!({
            "Name": "readonly",
            "MaxDurationSeconds": 3600,
            "DefaultDurationSeconds": 900,
            "Kind": "direct"
        })
    );
    assert_eq!(app.sts_calls("AssumeRole"), 0);

    let token = app.token(&app.sso_alice, b"");
    let resp = app
        .get(&app.api, "/profiles", Some(&format!("Bearer {token}")))
        .await;
    assert_eq!(resp.json()["Profiles"][0]["Name"], "prod-admin");
    assert_eq!(resp.json()["Profiles"][0]["MaxDurationSeconds"], 1800);
}

#[tokio::test]
async fn discovery_tells_clients_how_to_sign() {
    let app = spawn_app().await;
    let resp = app.get(&app.api, "/.well-known/tvm", None).await;
    assert_eq!(resp.status, 200);
    let d = resp.json();
    assert_eq!(d["audience"], serde_json::json!([app.origin]));
    assert_eq!(d["sts_endpoint"], app.sim_url);
    assert_eq!(d["region"], "us-east-1");
    assert_eq!(d["token_versions"], serde_json::json!(["tvm-v1"]));
}

#[tokio::test]
async fn the_replay_store_fill_is_a_gauge() {
    let app = spawn_app_with(Options {
        replay_capacity: Some(5000),
        ..Options::default()
    })
    .await;
    let before = app.get(&app.admin, "/metrics", None).await.body;
    assert_eq!(metric(&before, "tvm_replay_store_entries "), 0.0);
    assert_eq!(metric(&before, "tvm_replay_store_capacity "), 5000.0);
    let resp = app.vend(&app.alice, r#"{"profile":"readonly"}"#).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let after = app.get(&app.admin, "/metrics", None).await.body;
    assert_eq!(metric(&after, "tvm_replay_store_entries "), 1.0);
}
