//! Every caller credential source `tvm credentials` is proved with here, each
//! ending in a 200 vend whose SourceIdentity names the right user:
//! `credential_process` (via `--aws-profile`), IAM Identity Center (a cached
//! `aws sso login` token and a fake SSO portal), web identity against the
//! simulator, the container provider, IMDS (a fake on loopback) and
//! environment keys; plus the recursion guard and the Rust SDK's own
//! credential-process provider pointed at the built binary. Not here: `aws
//! login` (its token cache and sign-in service have no stand-in yet).

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;

use crate::client_env::{credential_process_json, keys, output, shown, ClientEnv, TVM};
use crate::support::{spawn_app, Caller, TestApp};

/// The SourceIdentity of the last AssumeRole tvm made.
fn last_source_identity(app: &TestApp) -> String {
    let calls = app.sim.calls_for("AssumeRole");
    let call = calls.last().expect("tvm called AssumeRole");
    assert_eq!(call.status, 200);
    call.param("SourceIdentity").unwrap().to_owned()
}

/// A `credential_process` script printing `who`'s keys.
fn process_script(env: &ClientEnv, who: &Caller) -> String {
    env.write(
        "print-keys.sh",
        &format!(
            "#!/bin/sh\nprintf '%s' '{{\"Version\":1,\"AccessKeyId\":\"{}\",\"SecretAccessKey\":\"{}\"}}'\n",
            who.creds.access_key_id(),
            who.creds.secret_access_key()
        ),
        true,
    )
}

#[tokio::test]
async fn environment_keys_vend() {
    let app = spawn_app().await;
    let env = ClientEnv::new();
    let out = output(
        env.tvm(&["credentials", "--url", &app.api, "--profile", "readonly"])
            .envs(keys(&app.alice)),
    )
    .await;
    let v = credential_process_json(&out);
    assert!(v["AccessKeyId"].as_str().unwrap().starts_with("ASIA"));
    assert!(last_source_identity(&app).starts_with("tvm.alice.direct."));
}

#[tokio::test]
async fn credential_process_profile_vends() {
    let app = spawn_app().await;
    let env = ClientEnv::new();
    let script = process_script(&env, &app.alice);
    env.aws_config(&format!(
        "[profile laptop]\ncredential_process = {script}\nregion = us-east-1\n"
    ));
    let out = output(&mut env.tvm(&[
        "credentials",
        "--url",
        &app.api,
        "--profile",
        "readonly",
        "--aws-profile",
        "laptop",
    ]))
    .await;
    credential_process_json(&out);
    assert!(last_source_identity(&app).starts_with("tvm.alice.direct."));

    // AWS_PROFILE names the source just as well.
    let out = output(
        env.tvm(&[
            "credentials",
            "--url",
            &app.api,
            "--profile",
            "readonly",
            "--no-cache",
        ])
        .env("AWS_PROFILE", "laptop"),
    )
    .await;
    credential_process_json(&out);
    assert_eq!(app.sts_calls("AssumeRole"), 2);
}

/// The SSO portal's `GetRoleCredentials`, for one access token.
struct Portal {
    access_token: String,
    creds: Caller,
    calls: std::sync::atomic::AtomicUsize,
}

async fn get_role_credentials(
    State(p): State<Arc<Portal>>,
    Query(q): Query<std::collections::HashMap<String, String>>,
    headers: HeaderMap,
) -> axum::response::Response {
    p.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let bearer = headers
        .get("x-amz-sso_bearer_token")
        .and_then(|v| v.to_str().ok());
    if bearer != Some(p.access_token.as_str())
        || q.get("account_id").map(String::as_str) != Some("111122223333")
        || q.get("role_name").map(String::as_str) != Some("Admin")
    {
        return (StatusCode::UNAUTHORIZED, "{\"message\":\"no\"}").into_response();
    }
    let expiration =
        (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1)).as_millisecond();
    axum::Json(serde_json::json!({"roleCredentials": {
        "accessKeyId": p.creds.creds.access_key_id(),
        "secretAccessKey": p.creds.creds.secret_access_key(),
        "sessionToken": p.creds.creds.session_token(),
        "expiration": expiration,
    }}))
    .into_response()
}

#[tokio::test]
async fn sso_profile_with_a_cached_token_vends() {
    let app = spawn_app().await;
    let env = ClientEnv::new();
    let portal = Arc::new(Portal {
        access_token: "sso-access-token-for-the-test".into(),
        creds: app.sso_alice.clone(),
        calls: Default::default(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let portal_url = format!("http://{}", listener.local_addr().unwrap());
    let router = axum::Router::new()
        .route(
            "/federation/credentials",
            axum::routing::get(get_role_credentials),
        )
        .with_state(portal.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });

    env.aws_config(
        "[profile work]\nsso_session = tvm-test\nsso_account_id = 111122223333\n\
         sso_role_name = Admin\nregion = us-east-1\n\n\
         [sso-session tvm-test]\nsso_start_url = https://example.awsapps.com/start\n\
         sso_region = us-east-1\nsso_registration_scopes = sso:account:access\n",
    );
    // What `aws sso login --sso-session tvm-test` leaves: the cache file is
    // named by the SHA-1 of the session name.
    let expires = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(8))
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    env.write(
        ".aws/sso/cache/7e21eb48ee180caa1ad8f77da2ccf1a62a2cd3a7.json",
        &serde_json::json!({
            "startUrl": "https://example.awsapps.com/start",
            "region": "us-east-1",
            "accessToken": portal.access_token,
            "expiresAt": expires,
        })
        .to_string(),
        false,
    );
    let out = output(
        env.tvm(&[
            "credentials",
            "--url",
            &app.api,
            "--profile",
            "prod-admin",
            "--aws-profile",
            "work",
        ])
        .env("AWS_ENDPOINT_URL_SSO", &portal_url),
    )
    .await;
    credential_process_json(&out);
    assert_eq!(portal.calls.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert!(
        last_source_identity(&app).starts_with("tvm.alice@example.com.direct."),
        "{}",
        last_source_identity(&app)
    );
}

#[tokio::test]
async fn container_provider_vends() {
    let app = spawn_app().await;
    let env = ClientEnv::new();
    // A role session, as a task role's would be.
    let alice = app.sso_alice.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let uri = format!("http://{}/creds", listener.local_addr().unwrap());
    let router = axum::Router::new().route(
        "/creds",
        axum::routing::get(move |headers: HeaderMap| {
            let alice = alice.clone();
            async move {
                if headers.get("authorization").and_then(|v| v.to_str().ok())
                    != Some("container-token")
                {
                    return (StatusCode::UNAUTHORIZED, "").into_response();
                }
                let exp = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1);
                axum::Json(serde_json::json!({
                    "AccessKeyId": alice.creds.access_key_id(),
                    "SecretAccessKey": alice.creds.secret_access_key(),
                    "Token": alice.creds.session_token(),
                    "Expiration": exp.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
                }))
                .into_response()
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, router).await });
    let out = output(
        env.tvm(&["credentials", "--url", &app.api, "--profile", "prod-admin"])
            .env("AWS_CONTAINER_CREDENTIALS_FULL_URI", &uri)
            .env("AWS_CONTAINER_AUTHORIZATION_TOKEN", "container-token"),
    )
    .await;
    credential_process_json(&out);
    assert!(last_source_identity(&app).starts_with("tvm.alice@example.com.direct."));
}

#[tokio::test]
async fn a_credential_process_calling_itself_stops_at_once() {
    let app = spawn_app().await;
    let env = ClientEnv::new();
    // The stanza `tvm configure` prints, but with AWS_PROFILE naming it.
    env.aws_config(&format!(
        "[profile tvm-readonly]\ncredential_process = {TVM} credentials --url {} --profile readonly\n",
        app.api
    ));
    let out = output(
        env.tvm(&["credentials", "--url", &app.api, "--profile", "readonly"])
            .env("AWS_PROFILE", "tvm-readonly"),
    )
    .await;
    assert!(!out.status.success(), "{}", shown(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("being run by its own credential_process"),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert_eq!(app.sts_calls("AssumeRole"), 0);
}

#[tokio::test]
async fn denial_is_one_line_with_code_and_request_id() {
    let app = spawn_app().await;
    let env = ClientEnv::new();
    let out = output(
        env.tvm(&["credentials", "--url", &app.api, "--profile", "prod-admin"])
            .envs(keys(&app.alice)),
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("403 POLICY_DENY: "), "{stderr}");
    assert!(stderr.contains("(RequestId "), "{stderr}");
    assert!(!stderr.contains(app.alice.creds.secret_access_key()));
}

/// The Rust SDK's own `credential_process` provider, pointed at the built
/// binary, loads credentials that STS knows as the assumed role.
#[tokio::test]
async fn rust_sdk_credential_process_provider_accepts_tvm() {
    use aws_credential_types::provider::ProvideCredentials as _;
    let app = spawn_app().await;
    let env = ClientEnv::new();
    let mut script = String::from("#!/bin/sh\nexec env -i");
    for (k, v) in env
        .vars()
        .into_iter()
        .chain(keys(&app.alice).into_iter().map(|(k, v)| (k.to_owned(), v)))
    {
        script.push_str(&format!(" {k}='{v}'"));
    }
    script.push_str(&format!(
        " {TVM} credentials --url {} --profile readonly\n",
        app.api
    ));
    let command = env.write("tvm-credentials.sh", &script, true);
    let provider = aws_config::credential_process::CredentialProcessProvider::new(command);
    let creds = provider.provide_credentials().await.unwrap();
    assert!(creds.expiry().is_some());
    let config = aws_sdk_sts::Config::builder()
        .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
        .region(aws_sdk_sts::config::Region::new("us-east-1"))
        .endpoint_url(&app.sim_url)
        .credentials_provider(creds)
        .build();
    let who = aws_sdk_sts::Client::from_conf(config)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert!(
        who.arn()
            .unwrap()
            .starts_with("arn:aws:sts::111122223333:assumed-role/TvmReadOnly/tvm-alice-"),
        "{:?}",
        who.arn()
    );
}

#[tokio::test]
async fn web_identity_against_the_simulator_vends() {
    const PROVIDER: &str =
        "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com";
    const CI_ROLE: &str = "arn:aws:iam::111122223333:role/GithubDeploy";
    let env = ClientEnv::new();
    let policy = env.write(
        "policy.yaml",
        &format!(
            "version: 1\nprofiles:\n  deploy:\n    role_arn: arn:aws:iam::111122223333:role/TvmReadOnly\n\
             rules:\n  - name: ci\n    effect: allow\n    accounts: [\"111122223333\"]\n    \
             principals: [\"{CI_ROLE}\"]\n    profiles: [deploy]\n"
        ),
        false,
    );
    let app = crate::support::spawn_app_with(crate::support::Options {
        policy_file: Some(policy.into()),
        ..Default::default()
    })
    .await;
    app.sim
        .add_role(tvm::sts::sim::SimRole::new(CI_ROLE, vec![PROVIDER.into()]))
        .unwrap();
    let token = "eyJhbGciOiJSUzI1NiJ9.the-runner-oidc-token.sig";
    app.sim
        .add_web_identity(PROVIDER, token, "repo:example/app:ref:refs/heads/main")
        .unwrap();
    let token_file = env.write("oidc-token", token, false);
    let out = output(
        env.tvm(&["credentials", "--url", &app.api, "--profile", "deploy"])
            .env("AWS_WEB_IDENTITY_TOKEN_FILE", &token_file)
            .env("AWS_ROLE_ARN", CI_ROLE)
            .env("AWS_ROLE_SESSION_NAME", "gha-run-42")
            .env("AWS_ENDPOINT_URL_STS", &app.sim_url),
    )
    .await;
    credential_process_json(&out);
    assert_eq!(app.sts_calls("AssumeRoleWithWebIdentity"), 1);
    assert!(
        last_source_identity(&app).starts_with("tvm.gha-run-42.direct."),
        "{}",
        last_source_identity(&app)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instance_metadata_vends() {
    let app = spawn_app().await;
    let env = ClientEnv::new();
    // An instance role session, as IMDS would hand out.
    let who = app.sso_alice.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let imds = format!("http://{}", listener.local_addr().unwrap());
    const SESSION_TOKEN: &str = "imds-session-token-for-the-test";
    let creds_doc = move || {
        let exp = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1);
        serde_json::json!({
            "Code": "Success",
            "LastUpdated": jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "Type": "AWS-HMAC",
            "AccessKeyId": who.creds.access_key_id(),
            "SecretAccessKey": who.creds.secret_access_key(),
            "Token": who.creds.session_token(),
            "Expiration": exp.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        })
        .to_string()
    };
    let authorized = |h: &HeaderMap| {
        h.get("x-aws-ec2-metadata-token")
            .and_then(|v| v.to_str().ok())
            == Some(SESSION_TOKEN)
    };
    let router = axum::Router::new()
        .route(
            "/latest/api/token",
            axum::routing::put(|| async {
                (
                    [("x-aws-ec2-metadata-token-ttl-seconds", "21600")],
                    SESSION_TOKEN,
                )
            }),
        )
        .route(
            "/latest/meta-data/iam/security-credentials/",
            axum::routing::get(move |h: HeaderMap| async move {
                if authorized(&h) {
                    "instance-role".into_response()
                } else {
                    StatusCode::UNAUTHORIZED.into_response()
                }
            }),
        )
        .route(
            "/latest/meta-data/iam/security-credentials/instance-role",
            axum::routing::get(move |h: HeaderMap| async move {
                if authorized(&h) {
                    creds_doc().into_response()
                } else {
                    StatusCode::UNAUTHORIZED.into_response()
                }
            }),
        );
    tokio::spawn(async move { axum::serve(listener, router).await });
    let out = output(
        env.tvm(&["credentials", "--url", &app.api, "--profile", "prod-admin"])
            .env_remove("AWS_EC2_METADATA_DISABLED")
            .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &imds),
    )
    .await;
    credential_process_json(&out);
    assert!(last_source_identity(&app).starts_with("tvm.alice@example.com.direct."));

    // A failing source is one line that never shows the IMDS session token.
    let out = output(
        env.tvm(&[
            "credentials",
            "--url",
            &app.api,
            "--profile",
            "prod-admin",
            "--no-cache",
        ])
        .env_remove("AWS_EC2_METADATA_DISABLED")
        .env(
            "AWS_EC2_METADATA_SERVICE_ENDPOINT",
            format!("{imds}/broken"),
        ),
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("cannot load your AWS credentials"),
        "{stderr}"
    );
    assert!(!stderr.contains(SESSION_TOKEN), "{stderr}");
}
