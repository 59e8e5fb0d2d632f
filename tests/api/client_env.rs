//! A clean environment for running the `tvm` client binary as a user would:
//! nothing inherited (no `AWS_*`, no `TVM_*`), a private HOME with empty AWS
//! config and credentials files, its own cache directory, IMDS off; plus a
//! fake tvm whose answers a test scripts (for retries and refresh).

use std::path::PathBuf;
use std::process::Output;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;

use crate::support::Caller;

pub const TVM: &str = env!("CARGO_BIN_EXE_tvm");
/// Longest a client command may take in a test.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// A HOME of one's own.
pub struct ClientEnv {
    pub dir: tempfile::TempDir,
}

impl ClientEnv {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config"), "").unwrap();
        std::fs::write(dir.path().join("credentials"), "").unwrap();
        Self { dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes `text` to `name` (mode 0755 when `executable`) and returns the path.
    pub fn write(&self, name: &str, text: &str, executable: bool) -> String {
        use std::os::unix::fs::PermissionsExt as _;
        let p = self.path(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, text).unwrap();
        if executable {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        p.display().to_string()
    }

    /// The `~/.aws/config` of this environment.
    pub fn aws_config(&self, text: &str) {
        self.write("config", text, false);
    }

    /// The variables every client run gets, and nothing else.
    pub fn vars(&self) -> Vec<(String, String)> {
        let home = self.dir.path().display().to_string();
        vec![
            ("PATH".into(), std::env::var("PATH").unwrap_or_default()),
            ("HOME".into(), home.clone()),
            ("AWS_CONFIG_FILE".into(), format!("{home}/config")),
            (
                "AWS_SHARED_CREDENTIALS_FILE".into(),
                format!("{home}/credentials"),
            ),
            ("XDG_CACHE_HOME".into(), format!("{home}/cache")),
            ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
            ("AWS_REGION".into(), "us-east-1".into()),
        ]
    }

    /// `tvm ARGS` with only [`Self::vars`].
    pub fn tvm(&self, args: &[&str]) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(TVM);
        cmd.env_clear()
            .envs(self.vars())
            .args(args)
            .kill_on_drop(true);
        cmd
    }
}

/// The environment variables of static keys for `who`.
pub fn keys(who: &Caller) -> Vec<(&'static str, String)> {
    let mut v = vec![
        ("AWS_ACCESS_KEY_ID", who.creds.access_key_id().to_owned()),
        (
            "AWS_SECRET_ACCESS_KEY",
            who.creds.secret_access_key().to_owned(),
        ),
    ];
    if let Some(t) = who.creds.session_token() {
        v.push(("AWS_SESSION_TOKEN", t.to_owned()));
    }
    v
}

/// Runs `cmd` to completion.
pub async fn output(cmd: &mut tokio::process::Command) -> Output {
    tokio::time::timeout(COMMAND_TIMEOUT, cmd.output())
        .await
        .expect("the command did not finish in time")
        .unwrap()
}

/// Stdout and stderr, for assertion messages.
pub fn shown(out: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The `credential_process` JSON a run printed.
pub fn credential_process_json(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", shown(out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["Version"], 1);
    v
}

/// One scripted answer of the fake tvm's `POST /vend`.
#[derive(Clone)]
pub enum Scripted {
    /// Fresh credentials expiring this long after the request.
    Vend(Duration),
    /// An error answer: status, `Code`, optional `Retry-After` seconds.
    Error(u16, &'static str, Option<u64>),
}

/// What the fake tvm saw and will answer.
#[derive(Default)]
pub struct FakeState {
    /// Answers in order; the last one repeats.
    pub script: Vec<Scripted>,
    /// The `Authorization` header of every `POST /vend`, in order.
    pub seen: Vec<String>,
    pub origin: String,
    /// How many times `/.well-known/tvm` was fetched.
    pub discoveries: usize,
}

/// A stand-in for tvm on loopback: discovery plus a scripted `POST /vend`.
pub struct FakeTvm {
    pub url: String,
    pub state: Arc<Mutex<FakeState>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl FakeTvm {
    pub async fn start(script: Vec<Scripted>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(FakeState {
            script,
            seen: Vec::new(),
            origin: url.clone(),
            discoveries: 0,
        }));
        let app = axum::Router::new()
            .route("/.well-known/tvm", axum::routing::get(discovery))
            .route("/vend", axum::routing::post(vend))
            .with_state(state.clone());
        let task = tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, state, task }
    }

    /// Stops serving and closes the port: every later connection is refused.
    pub async fn stop(&self) {
        self.task.abort();
        while !self.task.is_finished() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// How many times the discovery document was fetched.
    pub fn discoveries(&self) -> usize {
        self.state.lock().unwrap().discoveries
    }

    /// The `POST /vend` requests received so far.
    pub fn requests(&self) -> Vec<String> {
        self.state.lock().unwrap().seen.clone()
    }
}

async fn discovery(State(s): State<Arc<Mutex<FakeState>>>) -> impl IntoResponse {
    let origin = {
        let mut s = s.lock().unwrap();
        s.discoveries += 1;
        s.origin.clone()
    };
    axum::Json(serde_json::json!({
        "audience": [origin],
        "sts_endpoint": "http://127.0.0.1:9",
        "region": "us-east-1",
        "token_versions": ["tvm-v1"],
    }))
}

async fn vend(
    State(s): State<Arc<Mutex<FakeState>>>,
    headers: HeaderMap,
) -> axum::response::Response {
    let mut s = s.lock().unwrap();
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    s.seen.push(auth);
    let n = s.seen.len();
    let answer = s.script[(n - 1).min(s.script.len() - 1)].clone();
    match answer {
        Scripted::Vend(lifetime) => {
            let exp = jiff::Timestamp::now() + jiff::SignedDuration::try_from(lifetime).unwrap();
            axum::Json(serde_json::json!({
                "AccessKeyId": format!("ASIAFAKE{n:012}"),
                "SecretAccessKey": format!("fake-secret-{n}"),
                "Token": format!("fake-token-{n}"),
                "Expiration": exp.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
                "SourceIdentity": format!("tvm.fake.direct.{n:012}"),
                "RoleArn": "arn:aws:iam::111122223333:role/Fake",
            }))
            .into_response()
        }
        Scripted::Error(status, code, retry_after) => {
            let mut resp = (
                StatusCode::from_u16(status).unwrap(),
                axum::Json(serde_json::json!({
                    "Code": code,
                    "Message": "scripted",
                    "RequestId": format!("req{n:09}"),
                })),
            )
                .into_response();
            if let Some(secs) = retry_after {
                resp.headers_mut()
                    .insert("retry-after", secs.to_string().parse().unwrap());
            }
            resp
        }
    }
}

/// Fake static keys for a caller the fake tvm does not check.
pub const FAKE_KEYS: [(&str, &str); 2] = [
    ("AWS_ACCESS_KEY_ID", "AKIAFAKECALLER000001"),
    ("AWS_SECRET_ACCESS_KEY", "fake-caller-secret"),
];
