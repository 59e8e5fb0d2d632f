//! The binary itself: `tvm dev` proves the whole path, `tvm serve` refuses bad
//! config with exit code 64 and the key path, `tvm policy` checks and explains.

use std::process::Command;

const TVM: &str = env!("CARGO_BIN_EXE_tvm");

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

#[test]
fn dev_self_test_vends_end_to_end() {
    let out = Command::new(TVM)
        .args([
            "dev",
            "--port",
            "0",
            "--admin-port",
            "0",
            "--exit-after-self-test",
        ])
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("Self-test passed."), "{stdout}");
    assert!(stdout.contains("AWS_ACCESS_KEY_ID=AKIATVMDEMOALICE0001"));
    assert!(
        stdout.contains("assumed-role/TvmDemoReadOnly/tvm-alice-"),
        "{stdout}"
    );
    assert!(stdout.contains("403 POLICY_DENY"));
}

#[test]
fn serve_with_invalid_config_exits_64_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let policy = write(&dir, "policy.yaml", crate::support::POLICY);
    let cases = [
        (
            format!("auth: {{audience: a, max_clock_skew: 2h}}\npolicy: {{file: {policy}}}\n"),
            "auth.max_clock_skew",
        ),
        (
            format!("auth: {{audience: a}}\npolicy: {{file: {policy}}}\nlisten: {{adr: x}}\n"),
            "listen.adr",
        ),
        (
            "auth: {audience: a}\npolicy: {file: /nonexistent/policy.yaml}\n".to_owned(),
            "policy.file",
        ),
    ];
    for (yaml, key) in cases {
        let config = write(&dir, "tvm.yaml", &yaml);
        let out = Command::new(TVM)
            .args(["serve", "--config", &config])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(64), "{key}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(key), "{key}: {stderr}");
    }
    // Environment overrides are validated too.
    let config = write(
        &dir,
        "tvm.yaml",
        &format!("auth: {{audience: a}}\npolicy: {{file: {policy}}}\n"),
    );
    let out = Command::new(TVM)
        .args(["serve", "--config", &config])
        .env("TVM_STS__REGION", "moon-1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&out.stderr).contains("sts.region"));
}

#[test]
fn shipped_policy_checks_and_explains() {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/config/policy.yaml");
    let out = Command::new(TVM)
        .args(["policy", "check", file])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("valid"));

    let dir = tempfile::tempdir().unwrap();
    let policy = write(&dir, "p.yaml", crate::support::POLICY);
    let eval = |principal: &str, profile: &str| {
        Command::new(TVM)
            .args([
                "policy",
                "eval",
                &policy,
                "--principal",
                principal,
                "--profile",
                profile,
            ])
            .output()
            .unwrap()
    };
    let out = eval("arn:aws:iam::111122223333:user/eng/alice", "readonly");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("eng-readonly"));
    let out = eval("arn:aws:iam::111122223333:user/eng/alice", "prod-admin");
    assert_eq!(out.status.code(), Some(1));
    let out = eval("not-an-arn", "readonly");
    assert_eq!(out.status.code(), Some(64));
}
