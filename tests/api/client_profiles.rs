//! `tvm profiles`, `tvm configure` (its stanzas work as pasted, through the
//! Rust SDK's profile chain, even with `AWS_PROFILE` naming the stanza), and
//! `tvm console` against a fake federation endpoint.

use axum::extract::Query;
use std::collections::HashMap;

use crate::client_env::{output, shown, ClientEnv, TVM};
use crate::support::spawn_app;

/// `[default]` keys of `alice` in the credentials file.
fn default_keys(env: &ClientEnv, who: &crate::support::Caller) {
    env.write(
        "credentials",
        &format!(
            "[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            who.creds.access_key_id(),
            who.creds.secret_access_key()
        ),
        false,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profiles_lists_and_configure_prints_working_stanzas() {
    let app = spawn_app().await;
    let env = ClientEnv::new();
    default_keys(&env, &app.alice);
    let out = output(&mut env.tvm(&["profiles", "--url", &app.api])).await;
    assert!(out.status.success(), "{}", shown(&out));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("readonly") && l.contains("direct")),
        "{table}"
    );
    assert!(!table.contains("prod-admin"), "{table}");

    let out = output(&mut env.tvm(&["configure", "--url", &app.api])).await;
    assert!(out.status.success(), "{}", shown(&out));
    let stanzas = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        stanzas.contains(&format!(
            "[profile tvm-readonly]\ncredential_process = tvm credentials --url {} --profile readonly --aws-profile default\n",
            app.api
        )),
        "{stanzas}"
    );
    assert_eq!(app.sts_calls("AssumeRole"), 0, "listing vends nothing");

    // Pasted into ~/.aws/config; `tvm` on PATH; the SDK's default chain with
    // AWS_PROFILE naming the stanza (what `AWS_PROFILE=tvm-readonly aws ...` does).
    env.aws_config(&format!("[default]\nregion = us-east-1\n\n{stanzas}"));
    let bin_dir = std::path::Path::new(TVM)
        .parent()
        .unwrap()
        .display()
        .to_string();
    let out_file = env.path("child-out");
    let exe = std::env::current_exe().unwrap();
    let mut child = tokio::process::Command::new(exe);
    child
        .env_clear()
        .envs(env.vars())
        .env(
            "PATH",
            format!("{bin_dir}:{}", std::env::var("PATH").unwrap_or_default()),
        )
        .env("AWS_PROFILE", "tvm-readonly")
        .env("TVM_TEST_CHILD_OUT", &out_file)
        .env("TVM_TEST_CHILD_STS", &app.sim_url)
        .args([
            "client_exec::exec_child_sdk",
            "--exact",
            "--ignored",
            "--test-threads=1",
        ]);
    let out = output(&mut child).await;
    assert!(out.status.success(), "{}", shown(&out));
    let written = std::fs::read_to_string(&out_file).unwrap();
    assert!(
        written.contains("arn=arn:aws:sts::111122223333:assumed-role/TvmReadOnly/tvm-alice-"),
        "{written}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_prints_a_federation_sign_in_url() {
    let app = spawn_app().await;
    let env = ClientEnv::new();
    default_keys(&env, &app.alice);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let federation = format!("http://{}", listener.local_addr().unwrap());
    let router = axum::Router::new().route(
        "/federation",
        axum::routing::get(|Query(q): Query<HashMap<String, String>>| async move {
            let session: serde_json::Value =
                serde_json::from_str(q.get("Session").map(String::as_str).unwrap_or("{}"))
                    .unwrap_or_default();
            let ok = q.get("Action").map(String::as_str) == Some("getSigninToken")
                && session["sessionId"]
                    .as_str()
                    .is_some_and(|s| s.starts_with("ASIA"))
                && session["sessionKey"].is_string()
                && session["sessionToken"].is_string();
            if ok {
                axum::Json(serde_json::json!({"SigninToken": "signin-token-from-the-fake"}))
                    .into_response()
            } else {
                axum::http::StatusCode::BAD_REQUEST.into_response()
            }
        }),
    );
    use axum::response::IntoResponse as _;
    tokio::spawn(async move { axum::serve(listener, router).await });
    let out = output(&mut env.tvm(&[
        "console",
        "--url",
        &app.api,
        "--profile",
        "readonly",
        "--federation-endpoint",
        &federation,
        "--no-browser",
    ]))
    .await;
    assert!(out.status.success(), "{}", shown(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!(
            "{federation}/federation?Action=login&Issuer=tvm&Destination=https%3A%2F%2Fconsole.aws.amazon.com%2F&SigninToken=signin-token-from-the-fake\n"
        )
    );
    assert_eq!(app.sts_calls("AssumeRole"), 1);

    // A federation endpoint in clear over the network is refused before any vend.
    let out = output(&mut env.tvm(&[
        "console",
        "--url",
        &app.api,
        "--profile",
        "readonly",
        "--federation-endpoint",
        "http://signin.example.com",
        "--no-browser",
    ]))
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", shown(&out));
    assert_eq!(app.sts_calls("AssumeRole"), 1);
}
