//! `tvm dev`: the whole flow on one machine with no AWS account. Starts the STS
//! simulator with the demo account ([`crate::commands::demo`]), the service on
//! loopback with a demo policy, prints the demo keys and ready-to-paste
//! commands, and (unless `--no-self-test`) vends once itself to prove the path
//! works end to end.
//!
//! Everything listens on 127.0.0.1 only. The demo keys are fixed so the printed
//! commands stay valid across runs; they work nowhere but this simulator.
//! Approvals are on: their SQLite database and the webhook secret live in a
//! private temporary directory removed at exit, and a break-glass webhook
//! points at tvm dev's own receiver ([`webhook`]).
//!
//! Layout: this file (the arguments and start-up), `demo` (roles, policy,
//! banner), `log` (the human log lines of `--log-format text`), `self_test`,
//! `webhook`.

mod demo;
pub mod log;
mod self_test;
pub mod webhook;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use aws_credential_types::Credentials as AwsCredentials;
use clap::Args;
use tokio::net::TcpListener;

use crate::auth::{
    Endpoint, HyperTransport, InMemoryReplayStore, VerificationTarget, VerifierSettings,
    DEFAULT_MAX_CLOCK_SKEW,
};
use crate::clock::SystemClock;
use crate::commands::demo::{
    random_secret, service_access_key_id, DEMO_ACCESS_KEY_ID, DEMO_ACCOUNT,
    DEMO_APPROVER_ACCESS_KEY_ID, DEMO_APPROVER_ARN, DEMO_APPROVER_SECRET_ACCESS_KEY,
    DEMO_SECRET_ACCESS_KEY, DEMO_SERVICE_ARN, DEMO_USER_ARN,
};
use crate::config::{ServerLimits, ValidatedConfig};
use crate::exit::EXIT_INTERNAL;
use crate::identity::StampPrefix;
use crate::metrics::Metrics;
use crate::policy::Policy;
use crate::reload::PolicyStore;
use crate::startup::{self, Dependencies, Drain};
use crate::sts::sim::{SimRole, Simulator};
use crate::telemetry::LogFormat;
use demo::DEMO_POLICY;

/// `tvm dev`.
#[derive(Debug, Args)]
pub struct DevArgs {
    /// API port on 127.0.0.1 (0 = any free port).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Admin port on 127.0.0.1 (0 = any free port).
    #[arg(long, default_value_t = 9090)]
    pub admin_port: u16,
    /// Skip the vend tvm dev performs itself after start-up.
    #[arg(long)]
    pub no_self_test: bool,
    /// Exit after the self-test instead of serving (for scripts and CI).
    #[arg(long, hide = true)]
    pub exit_after_self_test: bool,
    /// Log line format.
    #[arg(long, value_enum, default_value = "text")]
    pub log_format: LogFormat,
}

/// How long the self-test waits for the break-glass webhook to arrive.
const WEBHOOK_WAIT: Duration = Duration::from_secs(30);

/// A private (0700) temporary directory, removed when dropped.
struct WorkDir(std::path::PathBuf);

impl WorkDir {
    fn create() -> std::io::Result<Self> {
        use std::os::unix::fs::DirBuilderExt as _;
        let path = std::env::temp_dir().join(format!("tvm-dev-{}", &random_secret()[..16]));
        std::fs::DirBuilder::new().mode(0o700).create(&path)?;
        Ok(Self(path))
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn bind(port: u16) -> std::io::Result<TcpListener> {
    match TcpListener::bind(("127.0.0.1", port)).await {
        Ok(l) => Ok(l),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && port != 0 => {
            eprintln!("tvm dev: port {port} is in use; using a free port instead");
            TcpListener::bind(("127.0.0.1", 0)).await
        }
        Err(e) => Err(e),
    }
}

/// `tvm dev`.
pub async fn run(args: DevArgs) -> ExitCode {
    let logging = match args.log_format {
        LogFormat::Text => log::init(std::io::stderr),
        json => crate::telemetry::init(json, std::io::stderr),
    };
    if let Err(e) = logging {
        eprintln!("tvm dev: cannot set up logging: {e}");
        return ExitCode::from(EXIT_INTERNAL);
    }
    match run_inner(args).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("tvm dev: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run_inner(args: DevArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let clock = Arc::new(SystemClock);
    let sim = Simulator::new(clock.clone());
    let service_key = service_access_key_id();
    let service_secret = random_secret();
    sim.add_user(DEMO_USER_ARN, DEMO_ACCESS_KEY_ID, DEMO_SECRET_ACCESS_KEY)?;
    sim.add_user(
        DEMO_APPROVER_ARN,
        DEMO_APPROVER_ACCESS_KEY_ID,
        DEMO_APPROVER_SECRET_ACCESS_KEY,
    )?;
    sim.add_user(DEMO_SERVICE_ARN, &service_key, &service_secret)?;
    for role in demo::DEMO_ROLES {
        // The protected roles trust tvm's identity only, as in a real account.
        sim.add_role(SimRole::new(
            format!("arn:aws:iam::{DEMO_ACCOUNT}:role/{role}"),
            vec![DEMO_SERVICE_ARN.to_owned()],
        ))?;
    }
    // The revoker role of DESIGN §13: tvm writes revocations with it.
    sim.add_role(crate::commands::demo::revoker_role(DEMO_SERVICE_ARN))?;
    let sim_handle = sim.clone().spawn().await?;
    let sim_url = sim_handle.url();

    let api = bind(args.port).await?;
    let admin = bind(args.admin_port).await?;
    let api_url = format!("http://{}", api.local_addr()?);
    let admin_url = format!("http://{}", admin.local_addr()?);

    let metrics = Metrics::new();
    let policy = Policy::from_yaml(DEMO_POLICY)?;
    let sim_endpoint = crate::config::EndpointUrl::parse(&sim_url)?;
    let endpoint = Endpoint::parse(&sim_url)?;
    let config = ValidatedConfig {
        listen_addr: api.local_addr()?,
        listen_tls: None,
        admin_addr: admin.local_addr()?,
        verifier: VerifierSettings {
            // Its own origin, as every client derives it from the URL it calls.
            audiences: vec![crate::auth::Origin::parse(&api_url)?],
            target: VerificationTarget::Endpoint {
                endpoint: endpoint.clone(),
                partition: crate::identity::Partition::Aws,
            },
            max_clock_skew: DEFAULT_MAX_CLOCK_SKEW,
            eks_cluster_id: None,
        },
        sts_region: "us-east-1".into(),
        sts_endpoint: Some(sim_endpoint),
        stamp_prefix: StampPrefix::default(),
        policy_file: "<embedded demo policy>".into(),
        policy_poll_interval: Duration::from_secs(2),
        request_timeout: Duration::from_secs(15),
        max_body_bytes: 16 * 1024,
        shutdown_timeout: Duration::from_secs(5),
        shutdown_delay: Duration::ZERO,
        replay_capacity: crate::auth::REPLAY_CACHE_CAPACITY,
        state: crate::config::StateSettings::default(),
        sts_cap: crate::sts::gate::StsCallCap::default(),
        revocation: crate::config::RevocationSettings::default(),
        limits: ServerLimits {
            max_connections: 256,
            ..ServerLimits::default()
        },
        database: None,
    };
    // Approvals: a SQLite file and the webhook secret in a private directory,
    // every event sent to tvm dev's own receiver (break_glass needs one).
    let work = WorkDir::create()?;
    let sink = webhook::start(&work.0).await?;
    let settings = crate::approvals::DatabaseSettings {
        url: format!("sqlite://{}", work.0.join("approvals.db").display()),
        retention: crate::config::DEFAULT_RETENTION,
        ledger_failure: crate::config::LedgerFailure::Closed,
        webhooks: vec![crate::approvals::WebhookSettings {
            url: sink.url.clone(),
            events: crate::approvals::EVENTS
                .iter()
                .map(|e| e.to_string())
                .collect(),
            secret_file: sink.secret_file.clone(),
        }],
    };
    settings.check_policy(&policy)?;
    let approvals = startup::open_approvals(&settings).await?;
    let mut config = config;
    config.database = Some(settings);
    let service_creds = AwsCredentials::new(&service_key, &service_secret, None, None, "tvm-dev");
    let sts = crate::sts::aws::AwsSts::new("us-east-1", Some(&sim_url), Some(service_creds)).await;
    let deps = Dependencies {
        clock,
        sts: Arc::new(sts),
        transport: Arc::new(HyperTransport::for_endpoint(&endpoint)?),
        state: crate::state::Backend::with_replay(Arc::new(InMemoryReplayStore::new())),
        policy: Arc::new(PolicyStore::fixed(policy, metrics.clone())),
        metrics,
        approvals: Some(approvals),
    };
    let state = startup::build(&config, deps);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let shutdown = async move {
        tokio::select! {
            _ = startup::shutdown_signal() => {}
            _ = stop_rx => {}
        }
    };
    let drain = Drain {
        delay: Duration::ZERO,
        timeout: Duration::from_secs(5),
    };
    let server = tokio::spawn(startup::run(state, api, admin, shutdown, drain));

    demo::print_banner(&api_url, &admin_url, &sim_url);
    let mut code = ExitCode::SUCCESS;
    if !args.no_self_test {
        match self_test::self_test(&api_url, &sim_url).await {
            Ok(()) if sink.wait_for("break_glass.used", WEBHOOK_WAIT).await => {
                println!("  webhook break_glass.used received and its signature verified");
                println!("Self-test passed.");
            }
            Ok(()) => {
                println!("self-test FAILED: no break_glass.used webhook arrived");
                code = ExitCode::FAILURE;
            }
            Err(e) => {
                println!("self-test FAILED: {e}");
                code = ExitCode::FAILURE;
            }
        }
    }
    if args.exit_after_self_test {
        let _ = stop_tx.send(());
    } else {
        println!("\nServing until Ctrl-C.");
    }
    server.await??;
    let _ = sim_handle.shutdown().await;
    drop(work);
    Ok(code)
}
