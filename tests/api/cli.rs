//! The binary itself: `tvm dev` proves the whole path, `tvm serve` refuses bad
//! config with exit code 64 and the key path, `tvm policy` checks and explains.

use std::process::Command;

const TVM: &str = env!("CARGO_BIN_EXE_tvm");

/// The binary, with no `TVM_*` variable inherited from the test's environment
/// (they are config overrides for `tvm serve`).
fn tvm() -> Command {
    let mut cmd = Command::new(TVM);
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("TVM_")) {
        cmd.env_remove(k);
    }
    cmd
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

#[test]
fn dev_self_test_vends_end_to_end() {
    let out = tvm()
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
    // The approval round trip and break-glass, with their markers, and the
    // break-glass webhook at tvm dev's own receiver.
    assert!(stdout.contains("403 APPROVAL_REQUIRED"), "{stdout}");
    assert!(stdout.contains("approve  200: approved (bob)"), "{stdout}");
    assert!(stdout.contains(".apr-"), "{stdout}");
    assert!(stdout.contains(".bg-"), "{stdout}");
    assert!(
        stdout.contains("webhook break_glass.used received and its signature verified"),
        "{stdout}"
    );
    // DESIGN §13: one of alice's sessions revoked, applied in the
    // simulator's IAM, refused there and at tvm; her other session and a
    // fresh vend work.
    assert!(
        stdout.contains(": applied (the deny policy is in IAM)"),
        "{stdout}"
    );
    assert!(stdout.contains("AccessDenied (ended in AWS)"), "{stdout}");
    assert!(
        stdout.contains("403 POLICY_DENY (refused at tvm)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("with her other session     200 (untouched)"),
        "{stdout}"
    );
    // The banner shows the round trip and bob's tvm ui command.
    assert!(
        stdout.contains("AWS_ACCESS_KEY_ID=AKIATVMDEMOBOB000001"),
        "{stdout}"
    );
    assert!(stdout.contains(" ui --url http://127.0.0.1:"), "{stdout}");
    assert!(
        stdout.contains(" approve --url http://127.0.0.1:"),
        "{stdout}"
    );
    assert!(stdout.contains("--approval-id \"$ID\""), "{stdout}");
}

#[test]
fn serve_with_invalid_config_exits_64_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let policy = write(&dir, "policy.yaml", crate::support::POLICY);
    let a = "https://tvm.example.com";
    let cases = [
        (
            format!("auth: {{audience: {a}, max_clock_skew: 2h}}\npolicy: {{file: {policy}}}\n"),
            "auth.max_clock_skew",
        ),
        (
            format!("auth: {{audience: {a}}}\npolicy: {{file: {policy}}}\nlisten: {{adr: x}}\n"),
            "listen.adr",
        ),
        (
            format!("auth: {{audience: {a}}}\npolicy: {{file: /nonexistent/policy.yaml}}\n"),
            "policy.file",
        ),
        (
            format!(
                "auth: {{audience: {a}}}\npolicy: {{file: {policy}}}\n\
                 server: {{trusted_proxies: [10.0.0.0/8, 10.0.0.1/8]}}\n"
            ),
            "server.trusted_proxies[1]",
        ),
        // The old free-form audience and the old EKS switch say what to write.
        (
            format!("auth: {{audience: tvm-prod}}\npolicy: {{file: {policy}}}\n"),
            "`auth.audience`: `tvm-prod` is not an origin. auth.audience now lists the origins",
        ),
        (
            format!(
                "auth: {{audience: {a}, accept_eks_tokens: true}}\npolicy: {{file: {policy}}}\n"
            ),
            "`auth.accept_eks_tokens`: was removed: EKS-style tokens are now turned on by naming \
             the cluster id they are made for, `auth.eks_cluster_id: <id>`",
        ),
    ];
    for (yaml, key) in cases {
        let config = write(&dir, "tvm.yaml", &yaml);
        let out = tvm().args(["serve", "--config", &config]).output().unwrap();
        assert_eq!(out.status.code(), Some(64), "{key}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(key), "{key}: {stderr}");
    }
    // Environment overrides are validated too.
    let config = write(
        &dir,
        "tvm.yaml",
        &format!("auth: {{audience: {a}}}\npolicy: {{file: {policy}}}\n"),
    );
    let out = tvm()
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
    let out = tvm().args(["policy", "check", file]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("valid"));

    let dir = tempfile::tempdir().unwrap();
    let policy = write(&dir, "p.yaml", crate::support::POLICY);
    let eval = |principal: &str, profile: &str| {
        tvm()
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

#[test]
fn documented_policies_check_and_explain_as_shown() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = std::fs::read_dir(root.join("docs/examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no docs/examples/*.yaml");
    for file in &files {
        let out = Command::new(TVM)
            .args(["policy", "check"])
            .arg(file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Every YAML block of the reference is one of those files, verbatim.
    let doc = std::fs::read_to_string(root.join("docs/policy.md")).unwrap();
    let examples: Vec<String> = files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect();
    for block in doc.split("```yaml\n").skip(1) {
        let snippet = block.split("```").next().unwrap();
        assert!(
            examples.iter().any(|e| e == snippet),
            "docs/policy.md shows a policy that is not a file of docs/examples:\n{snippet}"
        );
    }
    // Every `tvm policy` command shown on those files still prints what is shown.
    for block in doc.split("```console\n").skip(1) {
        let block = block.split("```").next().unwrap();
        let (command, rest) = block.split_once("\n$ echo $?\n").unwrap_or_else(|| {
            panic!("console block without `$ echo $?`:\n{block}");
        });
        let mut lines = command.lines();
        let mut argv = String::new();
        for line in lines.by_ref() {
            argv.push_str(line.trim_end_matches('\\'));
            if !line.ends_with('\\') {
                break;
            }
        }
        let shown: String = lines.map(|l| format!("{l}\n")).collect();
        let args: Vec<&str> = argv.split_whitespace().collect();
        assert_eq!(args[..2], ["$", "tvm"], "{block}");
        if !args.iter().any(|a| a.starts_with("docs/examples/")) {
            continue; // a modified copy made for the page
        }
        let out = Command::new(TVM)
            .args(&args[2..])
            .current_dir(root)
            .output()
            .unwrap();
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(printed, shown, "update docs/policy.md: {argv}");
        assert_eq!(
            out.status.code().map(|c| c.to_string()),
            Some(rest.trim().to_owned()),
            "{argv}"
        );
    }
}

#[test]
fn policy_check_warns_about_rules_that_trust_session_names() {
    let dir = tempfile::tempdir().unwrap();
    let policy = write(
        &dir,
        "p.yaml",
        r#"version: 1
profiles:
  p: {role_arn: "arn:aws:iam::111122223333:role/P"}
rules:
  - name: freeze-by-name
    effect: deny
    users: ["mallory"]
  - name: by-name-only
    effect: allow
    accounts: ["111122223333"]
    users: ["*@example.com"]
"#,
    );
    let out = tvm().args(["policy", "check", &policy]).output().unwrap();
    assert!(out.status.success(), "warnings do not fail the check");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("rule 0 \"freeze-by-name\" denies by `users`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("rule 1 \"by-name-only\" matches `users` without `principals`"),
        "{stderr}"
    );
}
