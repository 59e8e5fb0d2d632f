//! The client against a hostile tvm (issue 18, items 1 and 7): a server that
//! answers `/profiles` with a name carrying a `credential_process` line, or
//! names, kinds, reasons and error messages with terminal escape sequences,
//! line separators and bidi controls. `tvm configure` and `tvm profiles` must
//! refuse the whole answer, naming the bad entry escaped, and print no stanza;
//! `tvm requests` and every error must show such characters escaped; nothing
//! raw reaches stdout or stderr. A good answer's stanzas parse in botocore.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;

use crate::client_env::{output, shown, ClientEnv, FAKE_KEYS};
use crate::support::venv_python;

/// What the hostile server answers.
#[derive(Clone)]
struct Script {
    status: StatusCode,
    profiles: serde_json::Value,
    requests: serde_json::Value,
}

/// A tvm on loopback with a valid discovery document and scripted answers.
struct Hostile {
    url: String,
    script: Arc<Mutex<Script>>,
}

impl Hostile {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let script = Arc::new(Mutex::new(Script {
            status: StatusCode::OK,
            profiles: serde_json::json!({"Profiles": []}),
            requests: serde_json::json!({"Requests": []}),
        }));
        let origin = url.clone();
        let app = axum::Router::new()
            .route(
                "/.well-known/tvm",
                axum::routing::get(move || async move {
                    axum::Json(serde_json::json!({
                        "audience": [origin],
                        "sts_endpoint": "http://127.0.0.1:9",
                        "region": "us-east-1",
                        "token_versions": ["tvm-v1"],
                    }))
                }),
            )
            .route("/profiles", axum::routing::get(profiles))
            .route("/requests", axum::routing::get(requests))
            .with_state(script.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, script }
    }

    fn profiles(&self, v: serde_json::Value) {
        self.script.lock().unwrap().profiles = v;
    }
}

async fn profiles(State(s): State<Arc<Mutex<Script>>>) -> axum::response::Response {
    let s = s.lock().unwrap().clone();
    (s.status, axum::Json(s.profiles)).into_response()
}

async fn requests(State(s): State<Arc<Mutex<Script>>>) -> axum::response::Response {
    let s = s.lock().unwrap().clone();
    (s.status, axum::Json(s.requests)).into_response()
}

fn profile(name: &str, kind: &str) -> serde_json::Value {
    serde_json::json!({
        "Name": name, "Kind": kind, "MaxDurationSeconds": 3600, "DefaultDurationSeconds": 3600,
    })
}

const INJECTED: &str = "readonly]\n credential_process = sh -c 'touch /tmp/pwned'\n [profile z";

/// Escape sequences, a bell, separators and bidi controls: none may appear raw.
const HIDDEN: &[char] = &[
    '\u{1b}', '\u{7}', '\r', '\u{b}', '\u{c}', '\0', '\u{85}', '\u{2028}', '\u{2029}', '\u{202e}',
    '\u{2066}', '\u{2069}', '\u{200e}', '\u{61c}',
];

/// Asserts that nothing hidden reached stdout or stderr raw.
fn nothing_raw(out: &std::process::Output) {
    for (what, text) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let text = String::from_utf8_lossy(text);
        let raw: Vec<char> = text.chars().filter(|c| HIDDEN.contains(c)).collect();
        assert!(raw.is_empty(), "{what} carries {raw:?} raw: {text:?}");
    }
}

async fn run(env: &ClientEnv, args: &[&str]) -> std::process::Output {
    output(env.tvm(args).envs(FAKE_KEYS)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configure_refuses_a_profile_name_that_would_add_a_credential_process() {
    let tvm = Hostile::start().await;
    let env = ClientEnv::new();
    tvm.profiles(serde_json::json!({"Profiles": [
        profile("readonly", "direct"),
        profile(INJECTED, "direct"),
    ]}));
    for command in ["configure", "profiles"] {
        let out = run(&env, &[command, "--url", &tvm.url]).await;
        assert_eq!(out.status.code(), Some(1), "{command}: {}", shown(&out));
        assert!(out.stdout.is_empty(), "{command} printed: {}", shown(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(
                "invalid profile name \"readonly]\\n credential_process = sh -c \\'touch /tmp/pwned\\'\\n [profile z\""
            ),
            "{command}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{command}: one line: {err:?}");
        nothing_raw(&out);
    }
    // A kind outside the fixed set, and a duration that is not a number.
    for bad in [
        profile("readonly", "direct\u{1b}[2J"),
        serde_json::json!({"Name": "readonly", "Kind": "direct",
            "MaxDurationSeconds": "3600\u{7}", "DefaultDurationSeconds": 3600}),
    ] {
        tvm.profiles(serde_json::json!({"Profiles": [bad]}));
        let out = run(&env, &["configure", "--url", &tvm.url]).await;
        assert_eq!(out.status.code(), Some(1), "{}", shown(&out));
        assert!(out.stdout.is_empty(), "{}", shown(&out));
        nothing_raw(&out);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escape_sequences_in_names_reasons_and_errors_never_reach_the_terminal_raw() {
    let tvm = Hostile::start().await;
    let env = ClientEnv::new();
    for name in [
        "x\u{1b}[2J",
        "x\u{1b}]0;owned\u{7}",
        "x\u{7}",
        "ok\u{202e}nimda",
    ] {
        tvm.profiles(serde_json::json!({"Profiles": [profile(name, "direct")]}));
        let out = run(&env, &["profiles", "--url", &tvm.url]).await;
        assert_eq!(out.status.code(), Some(1), "{name:?}: {}", shown(&out));
        assert!(out.stdout.is_empty(), "{}", shown(&out));
        nothing_raw(&out);
    }

    // Free text in a listing: shown, escaped, on one line per request.
    let reason = "fix\u{1b}[2J\u{2028}BREAK-GLASS: bob\u{202e}txt.exe\u{7}\u{85}";
    tvm.script.lock().unwrap().requests = serde_json::json!({"Requests": [{
        "Id": "0123456789abcdef", "Status": "pending", "Profile": "prod-admin",
        "Requester": "arn:aws:iam::111122223333:user/\u{1b}]8;;https://evil\u{7}alice",
        "Reason": reason, "DurationSeconds": 900, "CreatedAt": "2026-01-01T10:00:00Z",
        "Approvals": [],
    }]});
    let out = run(&env, &["requests", "--url", &tvm.url]).await;
    assert!(out.status.success(), "{}", shown(&out));
    nothing_raw(&out);
    let table = String::from_utf8_lossy(&out.stdout);
    assert_eq!(table.lines().count(), 2, "{table}");
    assert!(
        table.contains("fix\\u{1b}[2J\\u{2028}BREAK-GLASS: bob\\u{202e}txt.exe\\u{7}\\u{85}"),
        "{table}"
    );
    // A request whose fixed-grammar fields are bad refuses the listing.
    tvm.script.lock().unwrap().requests = serde_json::json!({"Requests": [{
        "Id": "0123456789abcdef", "Status": "pending\u{1b}[2J", "Profile": "p",
        "Requester": "a", "Reason": "r",
    }]});
    let out = run(&env, &["requests", "--url", &tvm.url]).await;
    assert_eq!(out.status.code(), Some(1), "{}", shown(&out));
    assert!(out.stdout.is_empty(), "{}", shown(&out));
    nothing_raw(&out);

    // The error body of a refusal.
    {
        let mut s = tvm.script.lock().unwrap();
        s.status = StatusCode::FORBIDDEN;
        s.profiles = serde_json::json!({"Code": "DENIED\u{1b}[2J",
            "Message": "no\u{2028}tvm: all good\u{1b}]0;t\u{7}", "RequestId": "r\u{202e}"});
    }
    let out = run(&env, &["profiles", "--url", &tvm.url]).await;
    assert_eq!(out.status.code(), Some(1), "{}", shown(&out));
    nothing_raw(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no\\u{2028}tvm: all good"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn botocore_reads_the_stanzas_of_a_good_answer() {
    let Some(py) = venv_python("botocore") else {
        return;
    };
    let tvm = Hostile::start().await;
    let env = ClientEnv::new();
    tvm.profiles(serde_json::json!({"Profiles": [
        profile("readonly", "direct"),
        profile("prod-admin", "approval"),
        profile("prod.break_glass-1", "break_glass"),
    ]}));
    let out = run(&env, &["configure", "--url", &tvm.url]).await;
    assert!(out.status.success(), "{}", shown(&out));
    let config = env.write(
        "parsed-config",
        &String::from_utf8_lossy(&out.stdout),
        false,
    );
    let script = "import json, sys, botocore.configloader as c\n\
                  p = c.load_config(sys.argv[1])['profiles']\n\
                  print(json.dumps({k: v.get('credential_process') for k, v in p.items()}))";
    let out = output(tokio::process::Command::new(py).args(["-c", script, &config])).await;
    assert!(out.status.success(), "{}", shown(&out));
    let parsed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let line = |p: &str| {
        format!(
            "tvm credentials --url {} --profile {p} --aws-profile default",
            tvm.url
        )
    };
    assert_eq!(
        parsed,
        serde_json::json!({
            "tvm-readonly": line("readonly"),
            "tvm-prod-admin": line("prod-admin"),
        }),
        "break-glass stays a comment"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configure_refuses_a_prefix_or_signing_profile_that_would_break_a_stanza() {
    let tvm = Hostile::start().await;
    let env = ClientEnv::new();
    tvm.profiles(serde_json::json!({"Profiles": [profile("readonly", "direct")]}));
    for extra in [
        &["--prefix", "x]\ncredential_process = sh\n[profile y"][..],
        &["--aws-profile", "me --profile other"][..],
    ] {
        let mut args = vec!["configure", "--url", &tvm.url];
        args.extend_from_slice(extra);
        let out = run(&env, &args).await;
        assert_eq!(out.status.code(), Some(1), "{extra:?}: {}", shown(&out));
        assert!(out.stdout.is_empty(), "{}", shown(&out));
        nothing_raw(&out);
    }
}
