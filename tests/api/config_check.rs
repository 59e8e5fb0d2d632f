//! Start-up refusals that used to start a weaker service (issue 18): a blank
//! `TVM_*` override (an empty Secret behind a secretKeyRef) silently unsetting
//! `state.redis_url`, and `server.trusted_proxies` trusting everyone; and
//! `tvm serve --check-config`, which must agree with `tvm serve` without binding.

use std::net::TcpListener;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::{free_port, POLICY};

const TVM: &str = env!("CARGO_BIN_EXE_tvm");

struct Setup {
    dir: tempfile::TempDir,
    api: u16,
    admin: u16,
}

impl Setup {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("policy.yaml"), POLICY).unwrap();
        Setup {
            dir,
            api: free_port(),
            admin: free_port(),
        }
    }

    /// A config with `extra` appended; a Redis URL may point at a closed
    /// loopback port (tvm connects lazily, so it would start regardless).
    fn yaml(&self, extra: &str) -> String {
        format!(
            "listen: {{addr: 127.0.0.1:{}}}\nadmin: {{addr: 127.0.0.1:{}}}\n\
             auth: {{audience: https://tvm.test}}\n\
             sts: {{region: us-east-1, endpoint_url: http://127.0.0.1:9}}\n\
             policy: {{file: {}}}\n{extra}",
            self.api,
            self.admin,
            self.dir.path().join("policy.yaml").display()
        )
    }

    /// [`Self::yaml`] written to a file; its path.
    fn config(&self, extra: &str) -> String {
        let path = self.dir.path().join("tvm.yaml");
        std::fs::write(&path, self.yaml(extra)).unwrap();
        path.display().to_string()
    }
}

/// Runs `tvm` with only `env` set; a process still running after 10 s (it
/// started serving) is killed and reported as such.
fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(TVM);
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            let out = child.wait_with_output().unwrap();
            panic!(
                "tvm {args:?} started serving instead of exiting: {}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn refused_with(out: &Output, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(64), "{stderr}");
    for n in needles {
        assert!(stderr.contains(n), "{n}: {stderr}");
    }
}

#[test]
fn a_blank_redis_url_override_stops_start_up_instead_of_going_in_memory() {
    let s = Setup::new();
    let config = s.config("state: {redis_url: 'redis://127.0.0.1:9'}\n");
    for value in ["", " ", "  ", "\t"] {
        for check in [false, true] {
            let mut args = vec!["serve", "--config", &config];
            if check {
                args.push("--check-config");
            }
            let out = run(&args, &[("TVM_STATE__REDIS_URL", value)]);
            refused_with(&out, &["state.redis_url", "TVM_STATE__REDIS_URL", "empty"]);
        }
    }
    // An empty value in the file is refused the same way.
    let config = s.config("state: {redis_url: ''}\n");
    refused_with(
        &run(&["serve", "--config", &config], &[]),
        &["state.redis_url", "must not be empty"],
    );
}

/// DESIGN §13: `approvals.database_url` and `approvals.webhooks` moved to
/// `database.url` and the top-level `webhooks`; a config still using them
/// stops (never a silent "no database"), naming what to write instead.
#[test]
fn the_old_approvals_keys_stop_start_up_naming_the_new_ones() {
    let s = Setup::new();
    let db = format!("sqlite://{}", s.dir.path().join("t.db").display());
    let hook = "[{url: 'https://hooks.example.com/T0KEN-SECRET', events: [break_glass.used], \
                secret_file: /etc/tvm/hook}]";
    let file_cases = [
        (
            format!("approvals: {{database_url: '{db}'}}\n"),
            "approvals.database_url moved to database.url",
        ),
        (
            format!("approvals: {{webhooks: {hook}}}\n"),
            "approvals.webhooks moved to webhooks",
        ),
    ];
    for (extra, needle) in &file_cases {
        let config = s.config(extra);
        for check in [false, true] {
            let mut args = vec!["serve", "--config", &config];
            if check {
                args.push("--check-config");
            }
            let out = run(&args, &[]);
            refused_with(&out, &[needle]);
            assert!(!String::from_utf8_lossy(&out.stderr).contains("T0KEN-SECRET"));
        }
    }
    // The variable says which variable to set instead, whatever the file holds.
    let config = s.config(&format!("database: {{url: '{db}'}}\n"));
    for (var, needle) in [
        ("TVM_APPROVALS__DATABASE_URL", "TVM_DATABASE__URL"),
        ("TVM_APPROVALS__WEBHOOKS", "top-level webhooks"),
    ] {
        for check in [false, true] {
            let mut args = vec!["serve", "--config", &config];
            if check {
                args.push("--check-config");
            }
            let out = run(&args, &[(var, "postgres://tvm:pw@127.0.0.1:1/tvm")]);
            refused_with(&out, &[var, needle]);
            assert!(!String::from_utf8_lossy(&out.stderr).contains("pw@"));
        }
    }
    // A retention shorter than 36 h.
    let config = s.config(&format!("database: {{url: '{db}', retention: 1h}}\n"));
    refused_with(
        &run(&["serve", "--config", &config], &[]),
        &["database.retention"],
    );
}

#[test]
fn trusting_every_proxy_stops_start_up() {
    let s = Setup::new();
    for net in ["0.0.0.0/0", "::/0", "0.0.0.0/7", "2000::/3"] {
        let config = s.config(&format!(
            "server: {{trusted_proxies: [10.0.0.0/8, '{net}']}}\n"
        ));
        let out = run(&["serve", "--config", &config], &[]);
        refused_with(&out, &["server.trusted_proxies[1]", net, "too broad"]);
        let out = run(&["serve", "--config", &config, "--check-config"], &[]);
        refused_with(&out, &["server.trusted_proxies[1]", net]);
    }
}

#[test]
fn check_config_validates_without_binding() {
    let s = Setup::new();
    let config = s.config("server: {trusted_proxies: ['10.0.0.0/8', 'fd00::/8']}\n");
    // Both ports are taken: `tvm serve` could not bind them, the check never tries.
    let _api = TcpListener::bind(("127.0.0.1", s.api)).unwrap();
    let _admin = TcpListener::bind(("127.0.0.1", s.admin)).unwrap();
    let out = run(&["serve", "--config", &config, "--check-config"], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("configuration is valid"), "{stdout}");
    // TVM_CONFIG is honoured as by `tvm serve`.
    let out = run(&["serve", "--check-config"], &[("TVM_CONFIG", &config)]);
    assert!(out.status.success());
}

/// An environment variable: name and value.
type Var<'a> = (&'a str, &'a str);

#[test]
fn check_config_refuses_what_serve_refuses() {
    let s = Setup::new();
    let missing = s.dir.path().join("missing").display().to_string();
    let approvals_policy = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/examples/approvals.yaml");
    let admin_on_api = format!("127.0.0.1:{}", s.api);
    let plain_listen = format!("listen: {{addr: 127.0.0.1:{}}}\n", s.api);
    let policy = s.dir.path().join("policy.yaml").display().to_string();
    let cases: Vec<(String, Vec<Var>, &str)> = vec![
        (
            s.yaml("").replace("https://tvm.test}", "https://tvm.test, max_clock_skew: 1h}"),
            vec![],
            "auth.max_clock_skew",
        ),
        (
            s.yaml(""),
            vec![("TVM_ADMIN__ADDR", admin_on_api.as_str())],
            "admin.addr",
        ),
        (
            s.yaml(&format!(
                "listen: {{addr: 127.0.0.1:{}, tls: {{cert_file: {missing}, key_file: {missing}}}}}\n",
                s.api
            ))
            .replacen(&plain_listen, "", 1),
            vec![],
            "listen.tls",
        ),
        (
            s.yaml(&format!(
                "state: {{redis_url: 'redis://h', redis_password_file: {missing}}}\n"
            )),
            vec![],
            "state.redis_password_file",
        ),
        (
            s.yaml("").replace(&policy, &missing.to_string()),
            vec![],
            "policy.file",
        ),
        (
            s.yaml("").replace(&policy, approvals_policy),
            vec![],
            "policy.file",
        ),
    ];
    for (config, env, key) in cases {
        let path = s.dir.path().join("case.yaml");
        std::fs::write(&path, &config).unwrap();
        let path = path.display().to_string();
        let checked = run(&["serve", "--config", &path, "--check-config"], &env);
        refused_with(&checked, &[key]);
        let served = run(&["serve", "--config", &path], &env);
        refused_with(&served, &[key]);
    }
}

/// DESIGN §13 "In AWS": `revocation.role_name` needs a `deployment_id` and a
/// database, and a policy whose profile vends the revoker role (in any
/// account) stops start-up — a caller holding it could rewrite the deny
/// policies.
#[test]
fn the_revoker_role_settings_and_a_profile_vending_it_stop_start_up() {
    let s = Setup::new();
    let db = format!("sqlite://{}", s.dir.path().join("t.db").display());
    for (extra, needles) in [
        (
            format!("database: {{url: '{db}'}}\nrevocation: {{role_name: TvmReadOnly}}\n"),
            vec!["revocation.deployment_id", "required"],
        ),
        (
            "revocation: {role_name: TvmRevoker, deployment_id: prod}\n".to_owned(),
            vec!["revocation.role_name", "database.url"],
        ),
        (
            format!(
                "database: {{url: '{db}'}}\n\
                 revocation: {{role_name: TvmRevoker, deployment_id: Prod}}\n"
            ),
            vec!["revocation.deployment_id"],
        ),
        (
            // The POLICY's profile `readonly` vends role/TvmReadOnly.
            format!(
                "database: {{url: '{db}'}}\n\
                 revocation: {{role_name: tvmreadonly, deployment_id: prod}}\n"
            ),
            vec!["policy", "revoker role", "TvmReadOnly"],
        ),
    ] {
        let config = s.config(&extra);
        for check in [false, true] {
            let mut args = vec!["serve", "--config", &config];
            if check {
                args.push("--check-config");
            }
            refused_with(&run(&args, &[]), &needles);
        }
    }
    let config = s.config(&format!(
        "database: {{url: '{db}'}}\nrevocation: {{role_name: TvmRevoker, deployment_id: prod}}\n"
    ));
    let out = run(&["serve", "--config", &config, "--check-config"], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
