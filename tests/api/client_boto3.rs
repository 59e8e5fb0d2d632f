//! boto3 (botocore's credential providers, code nobody here wrote) accepts
//! what tvm gives: through a `credential_process` stanza, and through
//! `tvm exec`'s container endpoint. Needs the Python of `.ci/run` (see
//! `thirdparty.rs`); skipped with a notice outside CI when there is none.

use crate::client_env::{keys, output, shown, ClientEnv, TVM};
use crate::support::spawn_app;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/boto3_client.py");

fn python() -> Option<String> {
    if let Ok(p) = std::env::var("BOTOCORE_PYTHON") {
        return Some(p);
    }
    let venv = concat!(env!("CARGO_MANIFEST_DIR"), "/.venv/bin/python");
    if std::path::Path::new(venv).exists() {
        return Some(venv.to_owned());
    }
    assert!(
        std::env::var("CI").is_err(),
        "CI needs a Python with boto3: set BOTOCORE_PYTHON (see .ci/run)"
    );
    eprintln!("skipping boto3 tests: no BOTOCORE_PYTHON and no .venv (run .ci/run once)");
    None
}

fn answer(out: &std::process::Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", shown(out));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", shown(out)))
}

const ROLE_SESSION: &str = "arn:aws:sts::111122223333:assumed-role/TvmReadOnly/tvm-alice-";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_credential_process_and_container_providers_accept_tvm() {
    let Some(py) = python() else { return };
    let app = spawn_app().await;
    let env = ClientEnv::new();
    env.write(
        "credentials",
        &format!(
            "[laptop]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            app.alice.creds.access_key_id(),
            app.alice.creds.secret_access_key()
        ),
        false,
    );
    env.aws_config(&format!(
        "[profile tvm-readonly]\ncredential_process = {TVM} credentials --url {} --profile readonly --aws-profile laptop\n",
        app.api
    ));
    let mut cmd = tokio::process::Command::new(&py);
    cmd.env_clear()
        .envs(env.vars())
        .env("AWS_PROFILE", "tvm-readonly")
        .args([SCRIPT, &app.sim_url]);
    let v = answer(&output(&mut cmd).await);
    assert_eq!(v["method"], "custom-process");
    assert!(v["arn"].as_str().unwrap().starts_with(ROLE_SESSION), "{v}");

    // `tvm exec -- python ...`: boto3 finds the container endpoint.
    let v = answer(
        &output(
            env.tvm(&[
                "exec",
                "--url",
                &app.api,
                "--profile",
                "readonly",
                "--",
                &py,
                SCRIPT,
                &app.sim_url,
            ])
            .envs(keys(&app.alice)),
        )
        .await,
    );
    assert_eq!(v["method"], "container-role");
    assert!(v["arn"].as_str().unwrap().starts_with(ROLE_SESSION), "{v}");
}
