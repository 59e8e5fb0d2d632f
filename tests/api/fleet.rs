//! Several `tvm serve` processes (the built binary, as operators run it) sharing
//! one real `redis-server` on loopback, and the STS simulator they both call.
//!
//! [`RedisServer`] starts Debian's `redis-server` on a free port (no persistence)
//! and kills it when dropped; [`RedisServer::available`] skips with a notice
//! outside CI and fails in CI (`CI=true`) when the binary is missing, like the
//! botocore tests. [`Replica`] is one `tvm serve` with its logs in a file (a pipe
//! could fill and stall it); dropping it kills it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use aws_credential_types::Credentials;
use tokio::net::TcpStream;
use tvm::clock::SystemClock;
use tvm::sts::sim::{SimHandle, SimRole, Simulator};

use crate::support::{
    free_port, mint, request, Answer, Caller, ACCOUNT, ALICE_ARN, POLICY, SERVICE_ARN,
};

const TVM: &str = env!("CARGO_BIN_EXE_tvm");

/// The origin every replica serves (sent as `Host`), so one token fits all.
pub const AUDIENCE: &str = "https://tvm.test";
/// The body the tests vend with.
pub const BODY: &str = r#"{"profile":"readonly"}"#;

/// A `redis-server` child on loopback.
pub struct RedisServer {
    pub port: u16,
    args: Vec<String>,
    child: Option<Child>,
}

impl RedisServer {
    /// Whether `redis-server` can be run here: `false` (with a notice) outside
    /// CI when it is missing; a failure in CI.
    pub fn available() -> bool {
        let found = Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !found {
            assert!(
                std::env::var("CI").is_err(),
                "CI needs redis-server (apt-get install redis-server; see .ci/run)"
            );
            eprintln!("skipping Redis tests: no redis-server on PATH (run .ci/run once)");
        }
        found
    }

    /// Plain `redis://`, with `requirepass` when `password` is given.
    pub async fn start(password: Option<&str>) -> Self {
        let port = free_port();
        let mut args = vec!["--port".to_owned(), port.to_string()];
        if let Some(p) = password {
            args.extend(["--requirepass".to_owned(), p.to_owned()]);
        }
        Self::start_with(port, args).await
    }

    /// TLS only (`rediss://`), with this certificate and key.
    pub async fn start_tls(cert: &Path, key: &Path) -> Self {
        let port = free_port();
        let args = [
            "--port",
            "0",
            "--tls-port",
            &port.to_string(),
            "--tls-cert-file",
            &cert.display().to_string(),
            "--tls-key-file",
            &key.display().to_string(),
            "--tls-auth-clients",
            "no",
        ]
        .map(str::to_owned)
        .to_vec();
        Self::start_with(port, args).await
    }

    async fn start_with(port: u16, args: Vec<String>) -> Self {
        let mut server = Self {
            port,
            args,
            child: None,
        };
        server.spawn().await;
        server
    }

    async fn spawn(&mut self) {
        let child = Command::new("redis-server")
            .args(&self.args)
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", self.port)).await.is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Kills the server (SIGKILL: an abrupt loss, all keys gone).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port, empty.
    pub async fn restart(&mut self) {
        self.kill();
        self.spawn().await;
    }

    /// `redis://127.0.0.1:PORT` with the password, if any.
    pub fn url(&self, password: Option<&str>) -> String {
        match password {
            Some(p) => format!("redis://:{p}@127.0.0.1:{}", self.port),
            None => format!("redis://127.0.0.1:{}", self.port),
        }
    }

    /// A plain connection for inspecting keys.
    pub async fn client(&self, password: Option<&str>) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.url(password))
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The simulator every replica calls, with tvm's service user and Alice.
pub struct Sts {
    pub sim: Simulator,
    pub url: String,
    pub service: Credentials,
    pub alice: Caller,
    _handle: SimHandle,
}

impl Sts {
    pub async fn start() -> Self {
        let sim = Simulator::new(Arc::new(SystemClock));
        let creds = |arn: &str| {
            let k = sim.create_access_key(arn).unwrap();
            Credentials::new(k.access_key_id, k.secret_access_key, None, None, "test")
        };
        let service = creds(SERVICE_ARN);
        let alice = Caller {
            creds: creds(ALICE_ARN),
        };
        for role in ["TvmReadOnly", "TvmProdAdmin"] {
            sim.add_role(SimRole::new(
                format!("arn:aws:iam::{ACCOUNT}:role/{role}"),
                vec![SERVICE_ARN.into()],
            ))
            .unwrap();
        }
        let handle = sim.clone().spawn().await.unwrap();
        Self {
            url: handle.url(),
            sim,
            service,
            alice,
            _handle: handle,
        }
    }

    /// A fresh token for `body` to `POST /vend` of [`AUDIENCE`].
    pub fn token(&self, who: &Caller, body: &str) -> String {
        mint(
            who,
            &self.url,
            AUDIENCE,
            "POST /vend",
            body.as_bytes(),
            SystemTime::now(),
        )
    }

    pub fn calls(&self, action: &str) -> usize {
        self.sim.calls_for(action).len()
    }
}

/// One `tvm serve` process.
pub struct Replica {
    pub api: u16,
    pub admin: u16,
    config: PathBuf,
    env: Vec<(String, String)>,
    log: PathBuf,
    child: Option<Child>,
}

/// What a replica is started with.
pub struct ReplicaConfig<'a> {
    pub dir: &'a Path,
    pub name: &'a str,
    pub sts: &'a Sts,
    /// The whole `state:` mapping, YAML flow style (e.g. `{redis_url: ...}`).
    pub state_yaml: String,
    /// Extra `server:` keys, YAML flow style without braces.
    pub server_yaml: &'a str,
    /// The policy file (shared, so one write reloads every replica).
    pub policy: &'a Path,
}

impl Replica {
    pub async fn start(c: ReplicaConfig<'_>) -> Self {
        let (api, admin) = (free_port(), free_port());
        let config = c.dir.join(format!("{}.yaml", c.name));
        std::fs::write(
            &config,
            format!(
                "listen: {{addr: 127.0.0.1:{api}}}\nadmin: {{addr: 127.0.0.1:{admin}}}\n\
                 auth: {{audience: {AUDIENCE}, sts_endpoint_url: {sts}}}\n\
                 sts: {{region: us-east-1, endpoint_url: {sts}}}\n\
                 policy: {{file: {policy}, poll_interval: 200ms}}\n\
                 server: {{{server}}}\n\
                 state: {state}\n",
                sts = c.sts.url,
                policy = c.policy.display(),
                server = server_yaml(c.server_yaml),
                state = c.state_yaml,
            ),
        )
        .unwrap();
        let env = vec![
            (
                "AWS_ACCESS_KEY_ID".into(),
                c.sts.service.access_key_id().to_owned(),
            ),
            (
                "AWS_SECRET_ACCESS_KEY".into(),
                c.sts.service.secret_access_key().to_owned(),
            ),
        ];
        let mut replica = Self {
            api,
            admin,
            config,
            env,
            log: c.dir.join(format!("{}.log", c.name)),
            child: None,
        };
        replica.spawn().await;
        replica
    }

    /// A handle on a replica's ports only (it does not own the process), for
    /// clients that keep sending while the owner restarts it.
    pub fn view(api: u16, admin: u16) -> Self {
        Self {
            api,
            admin,
            config: PathBuf::new(),
            env: Vec::new(),
            log: PathBuf::new(),
            child: None,
        }
    }

    async fn spawn(&mut self) {
        let dir = self.config.parent().unwrap();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = Command::new(TVM)
            .args(["serve", "--config"])
            .arg(&self.config)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", dir)
            .env("AWS_CONFIG_FILE", dir.join("none"))
            .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("none"))
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        assert_eq!(self.readyz_until(200).await, 200, "{}", self.logs());
    }

    /// `/readyz` until it answers `want` (or 30 s pass); the last status.
    pub async fn readyz_until(&self, want: u16) -> u16 {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let status = match TcpStream::connect(("127.0.0.1", self.admin)).await {
                Ok(_) => {
                    request(
                        "GET",
                        &format!("http://127.0.0.1:{}/readyz", self.admin),
                        &[],
                        vec![],
                    )
                    .await
                    .status
                }
                Err(_) => 0,
            };
            if status == want || Instant::now() > deadline {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `POST /vend` with `token` for `body`, `Host` set to [`AUDIENCE`]'s host.
    pub async fn vend(&self, token: &str, body: &str) -> Answer {
        request(
            "POST",
            &format!("http://127.0.0.1:{}/vend", self.api),
            &[
                ("host", "tvm.test".to_owned()),
                ("content-type", "application/json".to_owned()),
                ("authorization", format!("Bearer {token}")),
            ],
            body.as_bytes().to_vec(),
        )
        .await
    }

    /// As [`Replica::vend`], but a refused connection or a timeout is `None`
    /// instead of a panic (the replica may be down on purpose).
    pub async fn try_vend(&self, token: &str, body: &str) -> Option<Answer> {
        use http_body_util::{BodyExt, Full};
        use hyper_util::client::legacy::Client;
        use hyper_util::rt::TokioExecutor;
        let client: Client<_, Full<bytes::Bytes>> =
            Client::builder(TokioExecutor::new()).build_http();
        let req = http::Request::post(format!("http://127.0.0.1:{}/vend", self.api))
            .header("host", "tvm.test")
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {token}"))
            .body(Full::new(bytes::Bytes::from(body.to_owned())))
            .unwrap();
        let call = async {
            let resp = client.request(req).await.ok()?;
            let status = resp.status().as_u16();
            let headers = resp
                .headers()
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_owned()))
                .collect();
            let body = resp.into_body().collect().await.ok()?.to_bytes();
            Some(Answer {
                status,
                headers,
                body: String::from_utf8_lossy(&body).into_owned(),
            })
        };
        tokio::time::timeout(Duration::from_secs(30), call)
            .await
            .ok()
            .flatten()
    }

    pub async fn metrics(&self) -> String {
        request(
            "GET",
            &format!("http://127.0.0.1:{}/metrics", self.admin),
            &[],
            vec![],
        )
        .await
        .body
    }

    /// SIGTERM and wait for the exit (graceful drain); `true` if it exited 0.
    pub fn terminate(&mut self) -> bool {
        let Some(mut child) = self.child.take() else {
            return false;
        };
        let pid = child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        child.wait().is_ok_and(|s| s.success())
    }

    /// Starts the same replica again (same ports and config).
    pub async fn restart(&mut self) {
        self.spawn().await;
    }

    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The `server:` keys: drain quickly, many connections from loopback, the
/// per-address buckets off unless `extra` sets them, then `extra`.
fn server_yaml(extra: &str) -> String {
    let mut keys =
        vec!["shutdown_timeout: 5s, shutdown_delay: 0s, max_connections_per_address: 512"];
    if !extra.starts_with("rate_limit_per_minute") {
        keys.push("rate_limit_per_minute: 0, discovery_rate_limit_per_minute: 0");
    }
    if !extra.is_empty() {
        keys.push(extra);
    }
    keys.join(", ")
}

/// Writes the test policy to `dir/policy.yaml`.
pub fn write_policy(dir: &Path) -> PathBuf {
    let path = dir.join("policy.yaml");
    std::fs::write(&path, POLICY).unwrap();
    path
}
