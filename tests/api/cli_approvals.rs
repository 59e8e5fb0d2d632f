//! The approval commands as users run them (DESIGN §12): `tvm profiles` shows
//! each profile's kind, `tvm request` (with `--wait` and
//! `--print-credentials`), `tvm requests`, `tvm approve`/`deny`, `tvm
//! credentials --approval-id` (marker `apr-…`), `tvm ui`; every refusal is one
//! line with the server's Code.

use std::process::Output;

use crate::client_env::{keys, output, shown, ClientEnv};
use crate::support::{Caller, TestApp};
use crate::ui::{ui_app, BOB_ARN};

fn run(env: &ClientEnv, who: &Caller, args: &[&str]) -> tokio::process::Command {
    let mut cmd = env.tvm(args);
    cmd.envs(keys(who));
    cmd
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A failed run: exit 1 and exactly one line on stderr naming `code`.
fn refused(out: &Output, code: &str) {
    assert_eq!(out.status.code(), Some(1), "{}", shown(out));
    let err = stderr(out);
    assert_eq!(err.trim_end().lines().count(), 1, "{}", shown(out));
    assert!(err.contains(code), "{}", shown(out));
}

/// The SourceIdentity of the last AssumeRole the simulator received.
fn last_source_identity(app: &TestApp) -> String {
    app.sim
        .calls_for("AssumeRole")
        .last()
        .and_then(|c| c.params.get("SourceIdentity").cloned())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_approval_round_trip_through_the_cli() {
    let ui = ui_app().await;
    let app = &ui.app;
    let env = ClientEnv::new();
    let url = app.api.as_str();

    let out = output(&mut run(&env, &app.alice, &["profiles", "--url", url])).await;
    assert!(out.status.success(), "{}", shown(&out));
    let line = stdout(&out)
        .lines()
        .find(|l| l.starts_with("prod-admin"))
        .unwrap_or_default()
        .to_owned();
    assert!(line.contains("approval"), "{}", shown(&out));

    // Without a grant: one line with the Code and the hint.
    let plain = ["credentials", "--url", url, "--profile", "prod-admin"];
    refused(
        &output(&mut run(&env, &app.alice, &plain)).await,
        "APPROVAL_REQUIRED",
    );

    let out = output(&mut run(
        &env,
        &app.alice,
        &[
            "request",
            "--url",
            url,
            "--profile",
            "prod-admin",
            "--duration",
            "1800",
            "--reason",
            "deploy the hotfix for INC-42",
        ],
    ))
    .await;
    assert!(out.status.success(), "{}", shown(&out));
    let id = stdout(&out).trim().to_owned();
    assert!(
        tvm::client::approvals::is_request_id(&id),
        "{}",
        shown(&out)
    );
    assert!(
        stderr(&out).contains(&format!("tvm approve --url {url} {id}")),
        "{}",
        shown(&out)
    );

    let out = output(&mut run(&env, &ui.bob, &["requests", "--url", url])).await;
    assert!(out.status.success(), "{}", shown(&out));
    let row = stdout(&out)
        .lines()
        .find(|l| l.starts_with(&id))
        .unwrap_or_default()
        .to_owned();
    assert!(
        row.contains("prod-admin") && row.contains("1800s"),
        "{}",
        shown(&out)
    );
    assert!(
        row.contains("user/eng/alice") && row.contains("deploy the hotfix"),
        "{row}"
    );

    // Refusals, each one line: her own request, a malformed id, a stranger.
    let approve = |id: &str| vec!["approve".to_owned(), "--url".into(), url.into(), id.into()];
    let args = approve(&id);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    refused(
        &output(&mut run(&env, &app.alice, &args)).await,
        "POLICY_DENY",
    );
    refused(
        &output(&mut run(&env, &app.mallory, &args)).await,
        "NOT_FOUND",
    );
    let out = output(&mut run(&env, &ui.bob, &["deny", "--url", url, "../vend"])).await;
    refused(&out, "16 lowercase hex");

    let mut bob_args = args.clone();
    bob_args.extend(["--comment", "ok, watching the dashboards"]);
    let out = output(&mut run(&env, &ui.bob, &bob_args)).await;
    assert!(out.status.success(), "{}", shown(&out));
    assert!(stdout(&out).contains("now approved"), "{}", shown(&out));
    refused(&output(&mut run(&env, &ui.bob, &args)).await, "CONFLICT");

    // Alice vends under the grant: the stamp carries apr-{id[..8]}.
    let mut with_grant = plain.to_vec();
    with_grant.extend(["--approval-id", &id, "--duration", "900"]);
    let out = output(&mut run(&env, &app.alice, &with_grant)).await;
    let v = crate::client_env::credential_process_json(&out);
    assert!(v["AccessKeyId"].as_str().unwrap().starts_with("ASIA"));
    let si = last_source_identity(app);
    assert!(si.contains(&format!(".apr-{}.", &id[..8])), "{si}");
    // tvm exec runs a command under the same grant.
    let before = app.sim.calls_for("AssumeRole").len();
    let out = output(&mut run(
        &env,
        &app.alice,
        &[
            "exec",
            "--url",
            url,
            "--profile",
            "prod-admin",
            "--approval-id",
            &id,
            "--",
            "true",
        ],
    ))
    .await;
    assert!(out.status.success(), "{}", shown(&out));
    assert_eq!(app.sim.calls_for("AssumeRole").len(), before + 1);
    assert!(last_source_identity(app).contains(&format!(".apr-{}.", &id[..8])));
    // Nobody else can use it.
    refused(
        &output(&mut run(&env, &ui.bob, &with_grant)).await,
        "POLICY_DENY",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_wait_ends_with_the_decision() {
    let ui = ui_app().await;
    let app = &ui.app;
    let env = ClientEnv::new();
    let url = app.api.clone();

    // Approved while waiting: --print-credentials prints only the JSON.
    let waiting = run(
        &env,
        &app.alice,
        &[
            "request",
            "--url",
            &url,
            "--profile",
            "prod-admin",
            "--reason",
            "INC-43 needs a look",
            "--wait",
            "--print-credentials",
        ],
    )
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    let id = wait_for_pending(app, &ui.bob).await;
    let out = output(&mut run(&env, &ui.bob, &["approve", "--url", &url, &id])).await;
    assert!(out.status.success(), "{}", shown(&out));
    let out = tokio::time::timeout(
        std::time::Duration::from_secs(120),
        waiting.wait_with_output(),
    )
    .await
    .unwrap()
    .unwrap();
    let v = crate::client_env::credential_process_json(&out);
    assert_eq!(v["Version"], 1);
    assert!(stderr(&out).contains("approved by"), "{}", shown(&out));
    assert!(last_source_identity(app).contains(&format!(".apr-{}.", &id[..8])));

    // Denied while waiting: exit 1, the id still on stdout.
    let waiting = run(
        &env,
        &app.alice,
        &[
            "request",
            "--url",
            &url,
            "--profile",
            "prod-admin",
            "--reason",
            "INC-44 again",
            "--wait",
        ],
    )
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    let id = wait_for_pending(app, &ui.bob).await;
    let out = output(&mut run(
        &env,
        &ui.bob,
        &["deny", "--url", &url, &id, "--comment", "use the runbook"],
    ))
    .await;
    assert!(out.status.success(), "{}", shown(&out));
    let out = tokio::time::timeout(
        std::time::Duration::from_secs(120),
        waiting.wait_with_output(),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", shown(&out));
    assert_eq!(stdout(&out).trim(), id);
    assert!(stderr(&out).contains("was denied"), "{}", shown(&out));
}

/// The id of the one pending request bob sees, once there is one.
async fn wait_for_pending(app: &TestApp, bob: &Caller) -> String {
    for _ in 0..600 {
        let a = app.call(bob, "GET", "/requests?status=pending", "").await;
        if let Some(id) = a.json()["Requests"]
            .as_array()
            .and_then(|l| l.first())
            .and_then(|r| r["Id"].as_str())
        {
            return id.to_owned();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no pending request appeared");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tvm_ui_prints_a_link_for_approvers_only() {
    let ui = ui_app().await;
    let app = &ui.app;
    let env = ClientEnv::new();
    let url = app.api.as_str();
    let out = output(&mut run(
        &env,
        &ui.bob,
        &[
            "ui",
            "--url",
            url,
            "--request",
            "0123456789abcdef",
            "--no-browser",
        ],
    ))
    .await;
    assert!(out.status.success(), "{}", shown(&out));
    let link = stdout(&out).lines().last().unwrap_or_default().to_owned();
    assert!(
        link.starts_with(&format!("{url}/ui/login?code=")),
        "{}",
        shown(&out)
    );
    // The link works (the page shows the button) and lands on the request.
    let code = link.split_once("?code=").unwrap().1.to_owned();
    let (page, nonce) = crate::ui::login_page(app, &code).await;
    assert_eq!(page.status, 200);
    let a = crate::ui::post_login(app, &code, Some(&nonce), &nonce, Some("same-origin")).await;
    assert_eq!(a.header("location"), Some("/ui/requests/0123456789abcdef"));
    let s = crate::ui::set_cookie(&a, "__Host-tvm-session").unwrap();
    assert!(crate::ui::page(app, "/ui/", Some(&s))
        .await
        .body
        .contains(BOB_ARN));

    refused(
        &output(&mut run(
            &env,
            &app.mallory,
            &["ui", "--url", url, "--no-browser"],
        ))
        .await,
        "POLICY_DENY",
    );
    refused(
        &output(&mut run(
            &env,
            &ui.bob,
            &["ui", "--url", url, "--request", "x", "--no-browser"],
        ))
        .await,
        "16 lowercase hex",
    );
}
