//! `tvm exec`'s child runs as the vended role whatever the caller's own AWS
//! files and environment hold: with the most common setup — a `[default]`
//! profile with keys in `~/.aws/credentials` — and with keys in the
//! environment too, the Rust SDK, boto3 and the AWS CLI in the child all see
//! the assumed-role session (checked with the simulator's GetCallerIdentity).
//! Also: the child's private AWS files (settings copied, no credentials, 0600
//! in a 0700 directory, removed after the child exits), and a profile whose
//! copied setting carries a second line stops `tvm exec` before it vends.

use crate::client_env::{keys, output, shown, ClientEnv};
use crate::client_exec::exec_self;
use crate::support::{spawn_app, venv_python, Caller, TestApp};

const ROLE_SESSION: &str = "arn:aws:sts::111122223333:assumed-role/TvmReadOnly/tvm-alice-";
const BOTO3_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/boto3_client.py");

/// The caller's keys as `[default]` in the credentials file; with
/// `in_env`, the same keys in the environment and `AWS_PROFILE=default` too
/// (all of which the child must lose).
fn caller_setup(env: &ClientEnv, who: &Caller, cmd: &mut tokio::process::Command, in_env: bool) {
    env.write(
        "credentials",
        &format!(
            "[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            who.creds.access_key_id(),
            who.creds.secret_access_key()
        ),
        false,
    );
    env.aws_config("[default]\nregion = us-east-1\n");
    if in_env {
        cmd.envs(keys(who)).env("AWS_PROFILE", "default");
    }
}

/// `tvm exec --profile readonly -- ARGS` against `app`.
fn exec(env: &ClientEnv, app: &TestApp, args: &[&str]) -> tokio::process::Command {
    let mut all = vec!["exec", "--url", &app.api, "--profile", "readonly", "--"];
    all.extend_from_slice(args);
    env.tvm(&all)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_sdk_in_the_child_is_the_vended_role_despite_default_keys() {
    let app = spawn_app().await;
    for in_env in [false, true] {
        let env = ClientEnv::new();
        let out_file = env.path("child-out");
        let mut cmd = exec_self(&env, &app.api, &out_file);
        caller_setup(&env, &app.alice, &mut cmd, in_env);
        let out = output(cmd.env("TVM_TEST_CHILD_STS", &app.sim_url)).await;
        assert!(out.status.success(), "in_env={in_env}: {}", shown(&out));
        let written = std::fs::read_to_string(&out_file).unwrap();
        assert!(
            written.contains(&format!("arn={ROLE_SESSION}")),
            "in_env={in_env}: {written}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_and_the_aws_cli_in_the_child_are_the_vended_role_despite_default_keys() {
    let Some(py) = venv_python("boto3 and awscli") else {
        return;
    };
    let app = spawn_app().await;
    for in_env in [false, true] {
        let env = ClientEnv::new();
        let mut cmd = exec(&env, &app, &[&py, BOTO3_SCRIPT, &app.sim_url]);
        caller_setup(&env, &app.alice, &mut cmd, in_env);
        let out = output(&mut cmd).await;
        assert!(out.status.success(), "in_env={in_env}: {}", shown(&out));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["method"], "container-role", "in_env={in_env}: {v}");
        assert!(v["arn"].as_str().unwrap().starts_with(ROLE_SESSION), "{v}");

        let mut cmd = exec(
            &env,
            &app,
            &[
                &py,
                "-m",
                "awscli",
                "sts",
                "get-caller-identity",
                "--endpoint-url",
                &app.sim_url,
                "--output",
                "json",
            ],
        );
        caller_setup(&env, &app.alice, &mut cmd, in_env);
        let out = output(&mut cmd).await;
        assert!(out.status.success(), "in_env={in_env}: {}", shown(&out));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(
            v["Arn"].as_str().unwrap().starts_with(ROLE_SESSION),
            "in_env={in_env}: {v}"
        );
    }
}

/// A child that copies what it was given and how it is protected.
const SHOW_FILES: &str = r#"set -e
d=$(dirname "$AWS_CONFIG_FILE")
echo "$d" > "$TVM_TEST_DIR/dir"
stat -c '%a' "$d" "$AWS_CONFIG_FILE" "$AWS_SHARED_CREDENTIALS_FILE" > "$TVM_TEST_DIR/modes"
cat "$AWS_CONFIG_FILE" > "$TVM_TEST_DIR/config"
cat "$AWS_SHARED_CREDENTIALS_FILE" > "$TVM_TEST_DIR/credentials"
env > "$TVM_TEST_DIR/env"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_child_gets_private_files_with_the_profile_settings_only() {
    let app = spawn_app().await;
    let env = ClientEnv::new();
    let script = env.write("child.sh", SHOW_FILES, true);
    let dir = env.dir.path().display().to_string();
    let mut cmd = exec(&env, &app, &["sh", &script]);
    cmd.envs(keys(&app.alice))
        .env("TVM_TEST_DIR", &dir)
        .env_remove("AWS_REGION")
        .env("AWS_PROFILE", "laptop");
    env.aws_config(
        "[profile laptop]\nregion = eu-west-1\nendpoint_url = http://127.0.0.1:4566\n\
         credential_process = sh -c 'touch /tmp/owned'\nservices = local\n\
         s3 =\n  addressing_style = path\n\
         [services local]\nsts =\n  endpoint_url = http://127.0.0.1:9001\n",
    );
    env.write(
        "credentials",
        "[laptop]\naws_access_key_id = AKIAFILE\naws_secret_access_key = s\nretry_mode = adaptive\n",
        false,
    );
    let out = output(&mut cmd).await;
    assert!(out.status.success(), "{}", shown(&out));
    let read = |name: &str| std::fs::read_to_string(env.path(name)).unwrap();
    assert_eq!(read("modes"), "700\n600\n600\n");
    assert_eq!(
        read("config"),
        "# Written by tvm exec for the command it runs: the settings of your AWS\n\
         # profile, without credentials (the command's come from tvm).\n\
         [default]\nregion = eu-west-1\nendpoint_url = http://127.0.0.1:4566\n\
         services = local\nretry_mode = adaptive\ns3 =\n  addressing_style = path\n\n\
         [services local]\nsts =\n  endpoint_url = http://127.0.0.1:9001\n"
    );
    assert!(
        !read("credentials").contains('['),
        "{}",
        read("credentials")
    );
    let child_env = read("env");
    let private = read("dir").trim().to_owned();
    for var in [
        "AWS_CONFIG_FILE=",
        "AWS_SHARED_CREDENTIALS_FILE=",
        "AWS_CREDENTIAL_PROFILES_FILE=",
        "BOTO_CONFIG=",
    ] {
        assert!(
            child_env.contains(&format!("\n{var}{private}/")),
            "{var}: {child_env}"
        );
    }
    assert!(
        child_env.contains("\nAWS_REGION=eu-west-1\n"),
        "{child_env}"
    );
    assert!(!child_env.contains("AKIA"), "{child_env}");
    assert!(
        !std::path::Path::new(&private).exists(),
        "{private} left behind"
    );
}

#[tokio::test]
async fn a_copied_setting_with_a_second_line_stops_exec_before_it_vends() {
    let app = spawn_app().await;
    let env = ClientEnv::new();
    let marker = env.path("ran");
    env.aws_config(
        "[default]\nregion = us-east-1\n  credential_process = sh -c 'touch /tmp/owned'\n",
    );
    let out =
        output(exec(&env, &app, &["touch", &marker.display().to_string()]).envs(keys(&app.alice)))
            .await;
    assert_eq!(out.status.code(), Some(1), "{}", shown(&out));
    assert!(!marker.exists());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 2: the setting `region` of your AWS profile default holds a control character or a line break"),
        "{stderr}"
    );
    assert_eq!(app.sts_calls("AssumeRole"), 0);
}
