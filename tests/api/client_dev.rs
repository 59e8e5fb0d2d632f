//! `tvm dev`'s first five minutes: the human log is one clean line per
//! decision (full JSON records with `--log-format json`), and every command
//! the banner prints works as pasted into a shell, `tvm exec` with boto3
//! included.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, BufReader};

use crate::client_env::{shown, ClientEnv};

async fn dev_once(env: &ClientEnv, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "dev",
        "--port",
        "0",
        "--admin-port",
        "0",
        "--exit-after-self-test",
    ];
    args.extend_from_slice(extra);
    crate::client_env::output(&mut env.tvm(&args)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_logs_one_human_line_per_decision() {
    let env = ClientEnv::new();
    let out = dev_once(&env, &[]).await;
    assert!(out.status.success(), "{}", shown(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains('\x1b'), "no colour codes: {stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 9, "{stderr}");
    assert!(
        lines[0].contains("  alice -> demo-readonly: allow by rule demo-users-read-only, SourceIdentity tvm.alice.direct."),
        "{stderr}"
    );
    assert!(
        lines[1].contains("  alice -> demo-admin: deny ("),
        "{stderr}"
    );
    // The approval round trip of the self-test: refused without a grant,
    // vended under it (apr-), and a break-glass vend (bg-).
    assert!(
        lines[2].contains(
            "alice -> demo-prod: deny by rule demo-prod-needs-a-second-person (approval_required)"
        ),
        "{stderr}"
    );
    assert!(lines[3].contains("alice -> demo-prod: allow by rule demo-prod-needs-a-second-person, SourceIdentity tvm.alice.apr-"), "{stderr}");
    assert!(
        lines[4].contains(
            "alice -> demo-prod: allow by rule demo-prod-break-glass, SourceIdentity tvm.alice.bg-"
        ),
        "{stderr}"
    );
    // The revocation round trip (DESIGN §13): two sessions, the revoked one
    // refused as a caller at tvm, then a fresh vend.
    for i in [5, 6, 8] {
        assert!(
            lines[i].contains("  alice -> demo-readonly: allow by rule demo-users-read-only"),
            "{stderr}"
        );
    }
    assert!(
        lines[7].contains("  tvm-alice-")
            && lines[7].contains("-> demo-readonly: deny (revoked_credentials)"),
        "{stderr}"
    );

    let out = dev_once(&env, &["--log-format", "json"]).await;
    assert!(out.status.success(), "{}", shown(&out));
    let records: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stderr)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let decisions: Vec<_> = records
        .iter()
        .filter(|r| r["message"] == "decision")
        .collect();
    assert_eq!(decisions.len(), 9);
    // DESIGN §13: every vend, direct ones too, is an audit event and a JSON
    // `audit` line for SIEMs (6 issued vends in the self-test), and so is
    // the revocation.
    let audit = |event: &str| {
        records
            .iter()
            .filter(|r| r["message"] == "audit" && r["event"] == event)
            .count()
    };
    assert_eq!(audit("vended"), 6, "{records:?}");
    assert_eq!(audit("session.revoked"), 1, "{records:?}");
    assert_eq!(
        decisions[0]["principal_arn"],
        "arn:aws:iam::111122223333:user/demo/alice"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_banner_commands_work_as_pasted() {
    let env = ClientEnv::new();
    let mut dev = env
        .tvm(&["dev", "--port", "0", "--admin-port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(dev.stdout.take().unwrap()).lines();
    let mut banner = Vec::new();
    let read = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.starts_with("Serving until") {
                break;
            }
            banner.push(line);
        }
    };
    tokio::time::timeout(Duration::from_secs(60), read)
        .await
        .unwrap();
    // The indented lines from the exports to the last command, as a script.
    let start = banner
        .iter()
        .position(|l| l.starts_with("  export AWS_ACCESS_KEY_ID"))
        .unwrap();
    let end = banner
        .iter()
        .position(|l| l.starts_with("Decisions are logged"))
        .unwrap();
    let script: String = banner[start..end]
        .iter()
        .filter_map(|l| l.strip_prefix("  "))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(script.contains(" exec --url "), "{script}");
    let venv = concat!(env!("CARGO_MANIFEST_DIR"), "/.venv/bin");
    let path = format!("{venv}:{}", std::env::var("PATH").unwrap_or_default());
    let have_boto3 = std::process::Command::new(format!("{venv}/python"))
        .args(["-c", "import boto3"])
        .status()
        .is_ok_and(|s| s.success());
    let out = crate::client_env::output(
        tokio::process::Command::new("sh")
            .args(["-ec", &script])
            .env_clear()
            .envs(env.vars())
            .env("PATH", &path)
            .env_remove("AWS_REGION"),
    )
    .await;
    let _ = dev.kill().await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !have_boto3 {
        assert!(
            std::env::var("CI").is_err(),
            "CI needs .venv with boto3 (.ci/run)"
        );
        eprintln!("boto3 missing: only checking the commands before tvm exec");
    } else {
        assert!(out.status.success(), "{script}\n{}", shown(&out));
        assert!(
            stdout.contains("arn:aws:sts::111122223333:assumed-role/TvmDemoReadOnly/tvm-alice-"),
            "{stdout}"
        );
    }
    assert!(
        stdout.contains("{\"Version\":1,\"AccessKeyId\":\"ASIA"),
        "{stdout}"
    );
    assert!(
        stdout.contains("\"SourceIdentity\":\"tvm.alice.direct."),
        "curl: {stdout}"
    );
    // The approval round trip as pasted: bob sees and approves alice's
    // request, alice vends under it, bob gets a sign-in link, break-glass vends.
    assert!(stdout.contains("now approved (1 approval(s))"), "{stdout}");
    assert_eq!(
        stdout
            .matches("{\"Version\":1,\"AccessKeyId\":\"ASIA")
            .count(),
        3,
        "{stdout}"
    );
    assert!(stdout.contains("/ui/login?code="), "{stdout}");
}
