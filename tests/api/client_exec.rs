//! `tvm exec`: the loopback container-credentials endpoint (token-protected,
//! 401 otherwise), the child's scrubbed environment, exit codes and signal
//! forwarding, refresh before expiry as a real AWS SDK default chain in the
//! child sees it (this test binary re-run as the child, see [`exec_child_sdk`]).
//! The child's isolation from the caller's own AWS files is in
//! `client_exec_isolation`, signals in `client_exec_signals`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use crate::client_env::{keys, output, shown, ClientEnv, FakeTvm, Scripted, FAKE_KEYS};
use crate::support::{request, spawn_app};

/// A child that records its environment, then waits for `go` (60 s at most,
/// so a failed test leaves nothing behind) and exits 7.
const RECORD_ENV_AND_WAIT: &str = r#"env > "$TVM_TEST_DIR/env.tmp" && mv "$TVM_TEST_DIR/env.tmp" "$TVM_TEST_DIR/env"
i=0; while [ ! -e "$TVM_TEST_DIR/go" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done
exit 7
"#;

/// Waits up to 30 s for `path` to exist.
async fn wait_for(path: &Path) {
    for _ in 0..300 {
        if path.exists() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{} never appeared", path.display());
}

fn parse_env(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_serves_credentials_to_the_child_only_with_its_token() {
    let app = spawn_app().await;
    let env = ClientEnv::new();
    let script = env.write("child.sh", RECORD_ENV_AND_WAIT, true);
    let dir = env.dir.path().display().to_string();
    // IAM Identity Center keys, session token included.
    let mut cmd = env.tvm(&[
        "exec",
        "--url",
        &app.api,
        "--profile",
        "prod-admin",
        "--",
        "sh",
        &script,
    ]);
    cmd.envs(keys(&app.sso_alice)).env("TVM_TEST_DIR", &dir);
    // The profile (scrubbed from the child) gives the region; the child keeps it.
    env.aws_config("[profile laptop]\nregion = eu-west-1\n");
    cmd.env_remove("AWS_REGION").env("AWS_PROFILE", "laptop");
    // Everything an SDK would prefer to the endpoint, set in tvm's environment.
    for var in tvm::client::exec::SCRUBBED {
        let value = match *var {
            "AWS_ACCESS_KEY_ID" | "AWS_SECRET_ACCESS_KEY" | "AWS_SESSION_TOKEN" | "AWS_PROFILE" => {
                continue
            }
            "AWS_ACCOUNT_ID" => "111122223333",
            "AWS_CREDENTIAL_EXPIRATION" => "2099-01-01T00:00:00Z",
            _ => "set-by-the-test",
        };
        cmd.env(var, value);
    }
    let child = cmd.spawn().unwrap();
    wait_for(&env.path("env")).await;
    let seen = parse_env(&std::fs::read_to_string(env.path("env")).unwrap());
    for var in tvm::client::exec::SCRUBBED {
        assert!(!seen.contains_key(*var), "{var} reached the child");
    }
    assert_eq!(seen["AWS_REGION"], "eu-west-1");
    assert_eq!(seen["AWS_DEFAULT_REGION"], "eu-west-1");
    let uri = seen["AWS_CONTAINER_CREDENTIALS_FULL_URI"].clone();
    let token = seen["AWS_CONTAINER_AUTHORIZATION_TOKEN"].clone();
    assert!(uri.starts_with("http://127.0.0.1:"), "{uri}");
    assert_eq!(token.len(), 64);

    for auth in [None, Some("wrong"), Some(&token[..63])] {
        let headers: Vec<(&str, String)> = auth
            .map(|a| vec![("authorization", a.to_owned())])
            .unwrap_or_default();
        let resp = request("GET", &uri, &headers, Vec::new()).await;
        assert_eq!(resp.status, 401, "{auth:?}");
        assert!(!resp.body.contains("ASIA"));
    }
    let resp = request("GET", &uri, &[("authorization", token.clone())], Vec::new()).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let v = resp.json();
    let keys_seen: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
    assert_eq!(
        keys_seen,
        ["AccessKeyId", "Expiration", "SecretAccessKey", "Token"]
    );
    assert!(v["AccessKeyId"].as_str().unwrap().starts_with("ASIA"));
    // Served from the first vend, not a vend per request.
    assert_eq!(app.sts_calls("AssumeRole"), 1);

    std::fs::write(env.path("go"), "").unwrap();
    let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(out.status.code(), Some(7), "{}", shown(&out));
    assert!(
        out.stdout.is_empty() && out.stderr.is_empty(),
        "{}",
        shown(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_forwards_sigterm_and_reports_a_killed_child_as_128_plus_n() {
    let fake = FakeTvm::start(vec![Scripted::Vend(Duration::from_secs(3600))]).await;
    let env = ClientEnv::new();
    let dir = env.dir.path().display().to_string();
    let script = env.write(
        "trap.sh",
        "trap 'exit 3' TERM\ntouch \"$TVM_TEST_DIR/ready\"\ni=0; while [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done\n",
        true,
    );
    let child = env
        .tvm(&[
            "exec",
            "--url",
            &fake.url,
            "--profile",
            "p",
            "--",
            "sh",
            &script,
        ])
        .envs(FAKE_KEYS)
        .env("TVM_TEST_DIR", &dir)
        .spawn()
        .unwrap();
    wait_for(&env.path("ready")).await;
    let pid = rustix::process::Pid::from_raw(child.id().unwrap() as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", shown(&out));

    let out = output(
        env.tvm(&[
            "exec",
            "--url",
            &fake.url,
            "--profile",
            "p",
            "--",
            "sh",
            "-c",
            "kill -9 $$",
        ])
        .envs(FAKE_KEYS),
    )
    .await;
    assert_eq!(out.status.code(), Some(128 + 9), "{}", shown(&out));
}

#[tokio::test]
async fn exec_fails_before_running_the_child_when_denied() {
    let app = spawn_app().await;
    let env = ClientEnv::new();
    let marker = env.path("ran");
    let out = output(
        env.tvm(&[
            "exec",
            "--url",
            &app.api,
            "--profile",
            "prod-admin",
            "--",
            "touch",
            &marker.display().to_string(),
        ])
        .envs(keys(&app.alice)),
    )
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", shown(&out));
    assert!(!marker.exists());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("tvm exec: tvm answered 403 POLICY_DENY"),
        "{stderr}"
    );
}

/// `tvm exec` running this test binary as its child, filtered to [`exec_child_sdk`].
pub fn exec_self(env: &ClientEnv, url: &str, out_file: &Path) -> tokio::process::Command {
    let exe = std::env::current_exe().unwrap().display().to_string();
    let mut cmd = env.tvm(&[
        "exec",
        "--url",
        url,
        "--profile",
        "readonly",
        "--",
        &exe,
        "client_exec::exec_child_sdk",
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ]);
    cmd.env("TVM_TEST_CHILD_OUT", out_file);
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_refreshes_before_expiry_and_the_sdk_picks_it_up() {
    // Credentials that live 4 s: refreshed once half their life is gone.
    let fake = FakeTvm::start(vec![Scripted::Vend(Duration::from_secs(4))]).await;
    let env = ClientEnv::new();
    let out_file = env.path("child-out");
    let out = output(
        exec_self(&env, &fake.url, &out_file)
            .envs(FAKE_KEYS)
            .env("TVM_TEST_CHILD_REFRESH_AFTER_MS", "2500"),
    )
    .await;
    assert!(out.status.success(), "{}", shown(&out));
    let written = std::fs::read_to_string(&out_file).unwrap();
    let akids: Vec<&str> = written
        .lines()
        .filter_map(|l| l.strip_prefix("akid="))
        .collect();
    assert_eq!(
        akids,
        ["ASIAFAKE000000000001", "ASIAFAKE000000000002"],
        "{written}"
    );
    let seen = fake.requests();
    assert_eq!(seen.len(), 2);
    assert_ne!(seen[0], seen[1], "a fresh token for every vend");
}

/// Not a test of its own: the child of the test above and of
/// `client_exec_isolation`'s Rust SDK test. Run by them (with
/// `TVM_TEST_CHILD_OUT` set) under `tvm exec`, it loads credentials through the
/// Rust SDK's default chain — which must find the container endpoint — and
/// writes what it saw.
#[tokio::test]
#[ignore = "run as the child of tvm exec by the tests above"]
async fn exec_child_sdk() {
    use aws_credential_types::provider::ProvideCredentials as _;
    use std::fmt::Write as _;
    let Ok(out_file) = std::env::var("TVM_TEST_CHILD_OUT") else {
        return;
    };
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await;
    let provider = config.credentials_provider().unwrap();
    let creds = provider.provide_credentials().await.unwrap();
    let mut written = format!("akid={}\n", creds.access_key_id());
    if let Ok(sts) = std::env::var("TVM_TEST_CHILD_STS") {
        let client = aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::config::Builder::from(&config)
                .endpoint_url(sts)
                .build(),
        );
        let who = client.get_caller_identity().send().await.unwrap();
        writeln!(written, "arn={}", who.arn().unwrap()).unwrap();
    }
    if let Ok(ms) = std::env::var("TVM_TEST_CHILD_REFRESH_AFTER_MS") {
        tokio::time::sleep(Duration::from_millis(ms.parse().unwrap())).await;
        let again = provider.provide_credentials().await.unwrap();
        writeln!(written, "akid={}", again.access_key_id()).unwrap();
    }
    std::fs::write(out_file, written).unwrap();
}
