//! boto3 (botocore's credential providers, code nobody here wrote) accepts
//! what tvm gives: through a `credential_process` stanza, and through
//! `tvm exec`'s container endpoint. Needs the Python of `.ci/run` (see
//! `thirdparty.rs`); skipped with a notice outside CI when there is none.

use crate::client_env::{keys, output, shown, ClientEnv, TVM};
use crate::support::{spawn_app, venv_python};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/boto3_client.py");

fn python() -> Option<String> {
    venv_python("boto3")
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
