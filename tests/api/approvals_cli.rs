//! Start-up refusals of the approvals configuration (exit 64) and the
//! approval and break-glass kinds of `tvm policy eval` / `check`.

use std::process::Command;

const TVM: &str = env!("CARGO_BIN_EXE_tvm");

fn tvm() -> Command {
    let mut cmd = Command::new(TVM);
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("TVM_")) {
        cmd.env_remove(k);
    }
    cmd
}

const POLICY: &str = r#"version: 1
profiles:
  prod-admin:
    role_arn: arn:aws:iam::111122223333:role/TvmProdAdmin
rules:
  - name: prod-approval
    effect: require_approval
    accounts: ["111122223333"]
    principals: ["arn:aws:iam::111122223333:user/eng/*"]
    profiles: ["prod-admin"]
    approvers: {principals: ["arn:aws:iam::111122223333:user/eng/*", "arn:aws:sts::111122223333:assumed-role/Deploy/*"]}
  - name: prod-break-glass
    effect: break_glass
    accounts: ["111122223333"]
    principals: ["arn:aws:iam::111122223333:user/eng/*"]
    profiles: ["prod-admin"]
"#;

#[test]
fn serve_refuses_break_glass_without_webhook_and_postgres_without_redis() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("p.yaml");
    std::fs::write(&policy, POLICY).unwrap();
    let db = format!("sqlite://{}", dir.path().join("a.db").display());
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "s\n").unwrap();
    let base = format!(
        "auth: {{audience: https://tvm.example.com}}\npolicy: {{file: {}}}\n",
        policy.display()
    );
    let hook = |url: &str, event: &str| {
        format!(
            "webhooks: [{{url: \"{url}\", events: [{event}], secret_file: {}}}]\n",
            secret.display()
        )
    };
    let sqlite = format!("database: {{url: \"{db}\"}}\n");
    let cases = [
        (base.clone(), "database.url"),
        (format!("{base}{sqlite}"), "break_glass.used"),
        (
            format!(
                "{base}{sqlite}{}",
                hook("http://127.0.0.1:9/h", "request.created")
            ),
            "break_glass.used",
        ),
        (
            format!("{base}database: {{url: \"postgres://tvm@127.0.0.1:1/x\"}}\n"),
            "state.redis_url",
        ),
        (
            format!(
                "{base}{sqlite}{}",
                hook("http://127.0.0.1:9/h", "request.eaten")
            ),
            "webhooks[0].events[0]",
        ),
        (
            format!("{base}database: {{url: \"mysql://x\"}}\n"),
            "database.url",
        ),
        (
            format!("{base}database: {{url: \"{db}\", retention: 1h}}\n"),
            "database.retention",
        ),
        // Webhooks need the database their outbox lives in.
        (
            format!("{base}{}", hook("http://127.0.0.1:9/h", "break_glass.used")),
            "webhooks",
        ),
        // Webhook bodies name people and reasons: no plain http off loopback,
        // no credentials in the authority; the URL itself is never echoed.
        (
            format!(
                "{base}{sqlite}{}",
                hook("http://hooks.example.com/T0KEN-SECRET", "break_glass.used")
            ),
            "webhooks[0].url",
        ),
        (
            format!(
                "{base}{sqlite}{}",
                hook(
                    "https://user:T0KEN-SECRET@hooks.example.com/x",
                    "break_glass.used"
                )
            ),
            "webhooks[0].url",
        ),
    ];
    for (yaml, needle) in cases {
        let config = dir.path().join("tvm.yaml");
        std::fs::write(&config, &yaml).unwrap();
        let out = tvm()
            .args(["serve", "--config", &config.display().to_string()])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(64), "{needle}: {stderr}");
        assert!(stderr.contains(needle), "{needle}: {stderr}");
        assert!(!stderr.contains("T0KEN-SECRET"), "{stderr}");
    }
}

#[test]
fn policy_eval_explains_each_kind_and_check_warns_about_roles() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("p.yaml");
    std::fs::write(&policy, POLICY).unwrap();
    let p = policy.display().to_string();
    let eval = |extra: &[&str]| {
        let mut args = vec![
            "policy",
            "eval",
            &p,
            "--principal",
            "arn:aws:iam::111122223333:user/eng/alice",
            "--profile",
            "prod-admin",
        ];
        args.extend_from_slice(extra);
        let out = tvm().args(&args).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, out) = eval(&[]);
    assert_eq!(code, Some(1));
    assert!(out.contains("approval required"), "{out}");
    let (code, out) = eval(&["--approval-id", "0123456789abcdef"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("prod-approval") && out.contains("live grant"),
        "{out}"
    );
    let (code, out) = eval(&["--reason", "short"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("reason_min_length"), "{out}");
    let (code, out) = eval(&["--reason", "the database is on fire, paging on-call"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("prod-break-glass"), "{out}");

    let out = tvm().args(["policy", "check", &p]).output().unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("approvers may include role sessions"),
        "{stderr}"
    );
}
