//! `spawn_app()`: the STS simulator and tvm on real loopback sockets, wired as
//! `tvm serve` wires them, plus helpers to mint tokens and call the API.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use jiff::SignedDuration;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use tvm::auth::{
    Endpoint, HyperTransport, IdentityTransport, InMemoryReplayStore, Origin, TransportError,
    TransportResponse, VerificationTarget, VerifierSettings,
};
use tvm::client::token::Target;
use tvm::clock::SystemClock;
use tvm::config::{EndpointUrl, RateLimit, ServerLimits, ValidatedConfig};
use tvm::identity::StampPrefix;
use tvm::metrics::Metrics;
use tvm::policy::Policy;
use tvm::reload::PolicyStore;
use tvm::startup::{self, Dependencies, Drain};
use tvm::sts::sim::{SimRole, SimRoleSession, Simulator};

pub const ACCOUNT: &str = "111122223333";
/// An EKS cluster id for the compatibility tokens.
pub const CLUSTER: &str = "tvm-test-cluster";
pub const ALICE_ARN: &str = "arn:aws:iam::111122223333:user/eng/alice";
pub const MALLORY_ARN: &str = "arn:aws:iam::444455556666:user/eng/mallory";
pub const SSO_ROLE_ARN: &str =
    "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123abcd";
pub const SERVICE_ARN: &str = "arn:aws:iam::111122223333:user/tvm-service";

pub const POLICY: &str = r#"version: 1
profiles:
  readonly:
    role_arn: arn:aws:iam::111122223333:role/TvmReadOnly
    max_duration: 1h
  prod-admin:
    role_arn: arn:aws:iam::111122223333:role/TvmProdAdmin
    max_duration: 2h
    session_tags:
      tvm-user: "{user}"
rules:
  - name: eng-readonly
    effect: allow
    accounts: ["111122223333"]
    principals: ["arn:aws:iam::111122223333:user/eng/*"]
    profiles: ["readonly"]
  - name: sso-admins
    effect: allow
    principals: ["arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_*/*"]
    users: ["*@example.com"]
    profiles: ["prod-*"]
    max_duration: 30m
"#;

/// A caller the simulator knows.
#[derive(Clone)]
pub struct Caller {
    pub creds: Credentials,
}

/// Everything a test needs.
pub struct TestApp {
    pub api: String,
    pub admin: String,
    pub sim: Simulator,
    pub sim_url: String,
    /// Where tokens are presigned for (the verification endpoint).
    pub verify_url: String,
    /// The origin tokens are signed for: the API's own `http://127.0.0.1:PORT`.
    pub origin: String,
    pub alice: Caller,
    pub mallory: Caller,
    pub sso_alice: Caller,
    /// GetCallerIdentity requests that reached the transport in `aws_mode`.
    pub dials: Arc<AtomicUsize>,
    stop: Option<oneshot::Sender<()>>,
    _db_dir: Option<tempfile::TempDir>,
    server: Option<JoinHandle<std::io::Result<()>>>,
    _sim: tvm::sts::sim::SimHandle,
}

/// Options for [`spawn_app_with`].
pub struct Options {
    /// Point AssumeRole at a closed port.
    pub sts_down: bool,
    /// Point GetCallerIdentity at a closed port.
    pub verification_down: bool,
    pub shutdown_delay: Duration,
    /// `auth.eks_cluster_id`.
    pub eks_cluster_id: Option<String>,
    /// Origins configured besides the API's own (first) one.
    pub extra_origins: Vec<String>,
    /// Verify against the real-AWS host allowlist (us-east-1, partition aws)
    /// through a transport that only records dials.
    pub aws_mode: bool,
    /// Serve this policy file (hot-reloaded) instead of the fixed [`POLICY`].
    pub policy_file: Option<std::path::PathBuf>,
    /// How often that file is polled.
    pub poll_interval: Duration,
    /// How long a changed file must stay the same before it is loaded.
    pub settle_interval: Duration,
    /// Send GetCallerIdentity here instead of to the simulator.
    pub verification_url: Option<String>,
    /// Trusted proxies, connection bounds and rate buckets; by default every
    /// rate limit is off and one address may use every connection.
    pub limits: ServerLimits,
    /// The per-request time limit.
    pub request_timeout: Duration,
    /// Replay store capacity (default: the production bound).
    pub replay_capacity: Option<usize>,
    /// Send AssumeRole here instead of to the simulator (a real peer).
    pub sts_url: Option<String>,
    /// tvm's own credentials for AssumeRole instead of the simulator's service user.
    pub sts_credentials: Option<Credentials>,
    /// Serve this policy text (fixed) instead of [`POLICY`].
    pub policy_text: Option<String>,
    /// Turn on approvals with this database URL (`None`: a fresh SQLite file
    /// in a temporary directory when `approvals` is set).
    pub database_url: Option<String>,
    /// Turn on approvals.
    pub approvals: bool,
    /// Bind the API listener to every address (0.0.0.0), so that it is not a
    /// loopback listener; requests still go to 127.0.0.1.
    pub api_bind_all: bool,
    /// Webhooks (url, events, secret).
    pub webhooks: Vec<(String, Vec<String>, Vec<u8>)>,
    /// The per-replica cap on concurrent STS calls.
    pub sts_cap: tvm::sts::gate::StsCallCap,
    /// `revocation.max_staleness` (refresh is 100 ms, as DESIGN §13 says
    /// tests set it).
    pub revocation_max_staleness: Duration,
    /// `database.ledger_failure`.
    pub ledger_failure: tvm::config::LedgerFailure,
    /// Wraps tvm's STS client (to act while AssumeRole is in flight).
    pub wrap_sts: Option<StsWrapper>,
}

/// Wraps tvm's STS client: see [`Options::wrap_sts`].
pub type StsWrapper = Arc<dyn Fn(Arc<dyn tvm::sts::Sts>) -> Arc<dyn tvm::sts::Sts> + Send + Sync>;

impl Default for Options {
    fn default() -> Self {
        Self {
            sts_down: false,
            verification_down: false,
            shutdown_delay: Duration::ZERO,
            eks_cluster_id: None,
            extra_origins: Vec::new(),
            aws_mode: false,
            policy_file: None,
            poll_interval: Duration::from_millis(200),
            settle_interval: Duration::from_millis(50),
            verification_url: None,
            limits: ServerLimits {
                max_connections: 256,
                max_connections_per_address: 256,
                address_rate: RateLimit::OFF,
                discovery_rate: RateLimit::OFF,
                caller_rate: RateLimit::OFF,
                role_rate: RateLimit::OFF,
                ..ServerLimits::default()
            },
            request_timeout: Duration::from_secs(20),
            replay_capacity: None,
            sts_url: None,
            sts_credentials: None,
            policy_text: None,
            database_url: None,
            approvals: false,
            api_bind_all: false,
            webhooks: Vec::new(),
            sts_cap: tvm::sts::gate::StsCallCap::default(),
            revocation_max_staleness: Duration::from_secs(10),
            ledger_failure: tvm::config::LedgerFailure::Closed,
            wrap_sts: None,
        }
    }
}

/// Logs of the whole test binary, captured for the no-secrets test.
pub fn logs() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let sink = buf.clone();
        let _ = tvm::telemetry::init(tvm::telemetry::LogFormat::Json, move || {
            LogWriter(sink.clone())
        });
        buf
    })
}

pub struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogWriter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub fn logs_text() -> String {
    String::from_utf8_lossy(&logs().lock().unwrap()).into_owned()
}

async fn closed_port() -> String {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    drop(l);
    url
}

fn key(prefix: &str) -> String {
    use rand::distr::{Alphanumeric, SampleString};
    format!(
        "{prefix}{}",
        Alphanumeric
            .sample_string(&mut rand::rng(), 16)
            .to_uppercase()
    )
}

fn secret() -> String {
    use rand::distr::{Alphanumeric, SampleString};
    Alphanumeric.sample_string(&mut rand::rng(), 40)
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Options::default()).await
}

pub async fn spawn_app_with(opts: Options) -> TestApp {
    logs();
    let clock = Arc::new(SystemClock);
    let sim = Simulator::new(clock.clone());
    let mk = |arn: &str| {
        let (k, s) = (key("AKIA")[..20].to_owned(), secret());
        sim.add_user(arn, &k, &s).unwrap();
        Caller {
            creds: Credentials::new(k, s, None, None, "test"),
        }
    };
    let alice = mk(ALICE_ARN);
    let mallory = mk(MALLORY_ARN);
    let service = mk(SERVICE_ARN);
    let sso = SimRoleSession {
        role_arn: SSO_ROLE_ARN.into(),
        session_name: "alice@example.com".into(),
        access_key_id: key("ASIA")[..20].to_owned(),
        secret_access_key: secret(),
        session_token: secret(),
        expiration: jiff::Timestamp::now() + SignedDuration::from_hours(1),
        source_identity: None,
    };
    sim.add_role_session(sso.clone()).unwrap();
    let sso_alice = Caller {
        creds: Credentials::new(
            sso.access_key_id.clone(),
            sso.secret_access_key.clone(),
            Some(sso.session_token.clone()),
            None,
            "test",
        ),
    };
    for role in ["TvmReadOnly", "TvmProdAdmin"] {
        sim.add_role(
            SimRole::new(
                format!("arn:aws:iam::{ACCOUNT}:role/{role}"),
                vec![SERVICE_ARN.into()],
            )
            .with_max_session_duration(43_200),
        )
        .unwrap();
    }
    let handle = sim.clone().spawn().await.unwrap();
    let sim_url = handle.url();
    let verify_url = match (&opts.verification_url, opts.verification_down) {
        (Some(url), _) => url.clone(),
        (None, true) => closed_port().await,
        (None, false) => sim_url.clone(),
    };
    let sts_url = match (&opts.sts_url, opts.sts_down) {
        (Some(url), _) => url.clone(),
        (None, true) => closed_port().await,
        (None, false) => sim_url.clone(),
    };

    let endpoint = Endpoint::parse(&verify_url).unwrap();
    let dials = Arc::new(AtomicUsize::new(0));
    let (target, transport, verify_url): (_, Arc<dyn IdentityTransport>, _) = if opts.aws_mode {
        (
            VerificationTarget::Aws {
                partition: tvm::identity::Partition::Aws,
                region: "us-east-1".into(),
            },
            Arc::new(RecordingTransport(dials.clone())),
            "https://sts.us-east-1.amazonaws.com".to_owned(),
        )
    } else {
        (
            VerificationTarget::Endpoint {
                endpoint: endpoint.clone(),
                partition: tvm::identity::Partition::Aws,
            },
            Arc::new(HyperTransport::for_endpoint(&endpoint).unwrap()),
            endpoint.base_url(),
        )
    };
    let api = TcpListener::bind(if opts.api_bind_all {
        "0.0.0.0:0"
    } else {
        "127.0.0.1:0"
    })
    .await
    .unwrap();
    let admin = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api_port = api.local_addr().unwrap().port();
    let origin = format!("http://127.0.0.1:{api_port}");
    let audiences = std::iter::once(&origin)
        .chain(&opts.extra_origins)
        .map(|o| Origin::parse(o).unwrap())
        .collect();
    let config = ValidatedConfig {
        listen_addr: api.local_addr().unwrap(),
        listen_tls: None,
        admin_addr: admin.local_addr().unwrap(),
        verifier: VerifierSettings {
            audiences,
            target: target.clone(),
            max_clock_skew: SignedDuration::from_mins(5),
            eks_cluster_id: opts.eks_cluster_id.clone(),
        },
        sts_region: "us-east-1".into(),
        sts_endpoint: Some(EndpointUrl::parse(&sts_url).unwrap()),
        stamp_prefix: StampPrefix::default(),
        policy_file: "<test>".into(),
        policy_poll_interval: Duration::from_secs(2),
        request_timeout: opts.request_timeout,
        max_body_bytes: 16 * 1024,
        shutdown_timeout: Duration::from_secs(10),
        shutdown_delay: opts.shutdown_delay,
        replay_capacity: opts
            .replay_capacity
            .unwrap_or(tvm::auth::REPLAY_CACHE_CAPACITY),
        limits: opts.limits.clone(),
        database: None,
        state: tvm::config::StateSettings::default(),
        sts_cap: opts.sts_cap,
        revocation: tvm::config::RevocationSettings {
            refresh: Duration::from_millis(100),
            max_staleness: opts.revocation_max_staleness,
            ..Default::default()
        },
    };
    let mut config = config;
    let mut db_dir = None;
    let mut approvals = None;
    if opts.approvals {
        let url = match &opts.database_url {
            Some(u) => u.clone(),
            None => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}", dir.path().join("approvals.db").display());
                db_dir = Some(dir);
                url
            }
        };
        let db = tvm::approvals::connect(&url).await.unwrap();
        let targets = opts
            .webhooks
            .iter()
            .map(|(u, e, s)| tvm::approvals::WebhookTarget::new(u.clone(), e.clone(), s.clone()))
            .collect();
        approvals = Some((db, targets));
        config.database = Some(tvm::approvals::DatabaseSettings {
            url,
            retention: tvm::config::DEFAULT_RETENTION,
            ledger_failure: opts.ledger_failure,
            webhooks: Vec::new(),
        });
    }
    let metrics = Metrics::new();
    let sts_credentials = opts.sts_credentials.clone().unwrap_or(service.creds);
    let sts = tvm::sts::aws::AwsSts::new("us-east-1", Some(&sts_url), Some(sts_credentials)).await;
    let sts: Arc<dyn tvm::sts::Sts> = Arc::new(sts);
    let sts = match &opts.wrap_sts {
        Some(wrap) => wrap(sts),
        None => sts,
    };
    let deps = Dependencies {
        clock,
        sts,
        transport,
        state: tvm::state::Backend::with_replay(Arc::new(match opts.replay_capacity {
            Some(n) => InMemoryReplayStore::with_capacity(n),
            None => InMemoryReplayStore::new(),
        })),
        policy: Arc::new(match &opts.policy_file {
            Some(path) => PolicyStore::load(path, metrics.clone())
                .unwrap()
                .with_check(startup::policy_check(config.database.clone()))
                .unwrap()
                .with_poll_interval(opts.poll_interval)
                .with_settle_interval(opts.settle_interval),
            None => PolicyStore::fixed(
                Policy::from_yaml(opts.policy_text.as_deref().unwrap_or(POLICY)).unwrap(),
                metrics.clone(),
            ),
        }),
        metrics,
        approvals,
    };
    let state = startup::build(&config, deps);
    let (stop, stopped) = oneshot::channel::<()>();
    let drain = Drain {
        delay: opts.shutdown_delay,
        timeout: config.shutdown_timeout,
    };
    let api_url = origin.clone();
    let admin_url = format!("http://{}", admin.local_addr().unwrap());
    let server = tokio::spawn(startup::run(
        state,
        api,
        admin,
        async move {
            let _ = stopped.await;
        },
        drain,
    ));
    TestApp {
        api: api_url,
        admin: admin_url,
        sim,
        sim_url,
        verify_url,
        origin,
        alice,
        mallory,
        sso_alice,
        dials,
        stop: Some(stop),
        _db_dir: db_dir,
        server: Some(server),
        _sim: handle,
    }
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.body))
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn code(&self) -> String {
        self.json()["Code"].as_str().unwrap_or_default().to_owned()
    }
}

impl TestApp {
    /// Registers a role session with the simulator (as IAM Identity Center or
    /// another AssumeRole would have made it) and returns it as a caller.
    pub fn add_session(
        &self,
        role_arn: &str,
        session_name: &str,
        lifetime: SignedDuration,
    ) -> Caller {
        let session = SimRoleSession {
            role_arn: role_arn.into(),
            session_name: session_name.into(),
            access_key_id: key("ASIA")[..20].to_owned(),
            secret_access_key: secret(),
            session_token: secret(),
            expiration: jiff::Timestamp::now() + lifetime,
            source_identity: None,
        };
        self.sim.add_role_session(session.clone()).unwrap();
        Caller {
            creds: Credentials::new(
                session.access_key_id,
                session.secret_access_key,
                Some(session.session_token),
                None,
                "test",
            ),
        }
    }

    /// Registers an IAM user with the simulator and returns it as a caller.
    pub fn add_user(&self, arn: &str) -> Caller {
        let (k, s) = (key("AKIA")[..20].to_owned(), secret());
        self.sim.add_user(arn, &k, &s).unwrap();
        Caller {
            creds: Credentials::new(k, s, None, None, "test"),
        }
    }

    /// `method path` with a fresh token bound to exactly that target and body.
    pub async fn call(&self, who: &Caller, method: &str, path: &str, body: &str) -> Answer {
        let target = format!("{method} {}", path.split('?').next().unwrap_or(path));
        let token = self.token_for(
            who,
            &self.origin,
            &target,
            body.as_bytes(),
            SystemTime::now(),
        );
        let headers = vec![
            ("content-type", "application/json".to_owned()),
            ("authorization", format!("Bearer {token}")),
        ];
        request(
            method,
            &format!("{}{path}", self.api),
            &headers,
            body.as_bytes().to_vec(),
        )
        .await
    }

    /// A tvm-v1 token for this app's origin and `body`, made by tvm's own client
    /// code, for `POST /vend` (or `GET /profiles` when `body` is empty, as
    /// `tvm token` defaults).
    pub fn token(&self, who: &Caller, body: &[u8]) -> String {
        let target = if body.is_empty() {
            "GET /profiles"
        } else {
            "POST /vend"
        };
        self.token_for(who, &self.origin, target, body, SystemTime::now())
    }

    /// A tvm-v1 token for any audience and target, presigned for the
    /// verification endpoint.
    pub fn token_for(
        &self,
        who: &Caller,
        audience: &str,
        target: &str,
        body: &[u8],
        now: SystemTime,
    ) -> String {
        mint(who, &self.verify_url, audience, target, body, now)
    }

    /// POST /vend with a fresh token for exactly `body`.
    pub async fn vend(&self, who: &Caller, body: &str) -> Answer {
        let token = self.token(who, body.as_bytes());
        self.post("/vend", Some(&format!("Bearer {token}")), body)
            .await
    }

    /// POST /vend with `token` (any string) and exactly `body`.
    pub async fn vend_with(&self, token: &str, body: &str) -> Answer {
        self.post("/vend", Some(&format!("Bearer {token}")), body)
            .await
    }

    pub async fn post(&self, path: &str, authorization: Option<&str>, body: &str) -> Answer {
        let mut headers = vec![("content-type", "application/json".to_owned())];
        if let Some(a) = authorization {
            headers.push(("authorization", a.to_owned()));
        }
        request(
            "POST",
            &format!("{}{path}", self.api),
            &headers,
            body.as_bytes().to_vec(),
        )
        .await
    }

    pub async fn get(&self, base: &str, path: &str, authorization: Option<&str>) -> Answer {
        let mut headers = vec![];
        if let Some(a) = authorization {
            headers.push(("authorization", a.to_owned()));
        }
        request("GET", &format!("{base}{path}"), &headers, Vec::new()).await
    }

    /// Calls received by the simulator for `action`.
    pub fn sts_calls(&self, action: &str) -> usize {
        self.sim.calls_for(action).len()
    }

    /// Begins shutdown (as SIGTERM does) and returns the server task.
    pub fn begin_shutdown(&mut self) -> JoinHandle<std::io::Result<()>> {
        let _ = self.stop.take().unwrap().send(());
        self.server.take().unwrap()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A loopback port for a child process (tvm, redis-server, Postgres, moto) to
/// bind, which this process has not handed out before.
///
/// The port is free when checked but released before the child binds it, so it
/// is drawn from below the kernel's ephemeral range (32768 and up on Linux):
/// there no outgoing connection can take it in that window, and the registry
/// keeps two tests of this binary from drawing the same one.
pub fn free_port() -> u16 {
    use std::collections::HashSet;
    static GIVEN: Mutex<Option<HashSet<u16>>> = Mutex::new(None);
    let mut given = GIVEN.lock().unwrap();
    let given = given.get_or_insert_with(HashSet::new);
    let seed = std::process::id() as usize
        ^ SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos() as usize;
    for i in 0..12_000usize {
        let port = 20_000 + ((seed.wrapping_add(i.wrapping_mul(7_919))) % 12_000) as u16;
        if given.contains(&port) {
            continue;
        }
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            given.insert(port);
            return port;
        }
    }
    panic!("no free loopback port in 20000..32000");
}

/// A raw HTTP/1.1 request over a fresh connection.
pub async fn request(method: &str, url: &str, headers: &[(&str, String)], body: Vec<u8>) -> Answer {
    use http_body_util::{BodyExt, Full};
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    let client: Client<_, Full<bytes::Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let mut req = http::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let resp = client
        .request(req.body(Full::new(bytes::Bytes::from(body))).unwrap())
        .await
        .unwrap_or_else(|e| panic!("{method} {url} failed: {e:?}"));
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_owned()))
        .collect();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

/// Stands in for the network in `aws_mode`: counts every request that would
/// have been sent to AWS and answers 503, so nothing leaves the machine.
struct RecordingTransport(Arc<AtomicUsize>);

#[async_trait::async_trait]
impl IdentityTransport for RecordingTransport {
    async fn send(&self, _request: http::Request<()>) -> Result<TransportResponse, TransportError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Err(TransportError::Connect(
            "recording transport: no network in tests".into(),
        ))
    }
}

/// A tvm-v1 token made by tvm's own client code.
pub fn mint(
    who: &Caller,
    sts_endpoint: &str,
    audience: &str,
    target: &str,
    body: &[u8],
    now: SystemTime,
) -> String {
    tvm::client::token::mint_tvm_v1(
        &who.creds,
        sts_endpoint,
        "us-east-1",
        &Origin::parse(audience).unwrap(),
        &Target::parse(target).unwrap(),
        body,
        now,
    )
    .unwrap()
}

/// The value of one series in a Prometheus text exposition (0 when absent).
pub fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// The Python with the third-party AWS libraries (`what`, for the messages):
/// `BOTOCORE_PYTHON`, else `.venv/bin/python` (`.ci/run` creates it). Outside CI
/// the caller's tests skip with a notice when neither exists; in CI
/// (`CI=true`) a missing Python is a failure.
pub fn venv_python(what: &str) -> Option<String> {
    if let Ok(p) = std::env::var("BOTOCORE_PYTHON") {
        return Some(p);
    }
    let venv = concat!(env!("CARGO_MANIFEST_DIR"), "/.venv/bin/python");
    if std::path::Path::new(venv).exists() {
        return Some(venv.to_owned());
    }
    assert!(
        std::env::var("CI").is_err(),
        "CI needs a Python with {what}: set BOTOCORE_PYTHON (see .ci/run)"
    );
    eprintln!("skipping {what} tests: no BOTOCORE_PYTHON and no .venv (run .ci/run once)");
    None
}
