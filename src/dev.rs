//! `tvm dev`: the whole flow on one machine with no AWS account. Starts the STS
//! simulator with a demo account, the service on loopback with a demo policy,
//! prints the demo keys and ready-to-paste commands, and (unless
//! `--no-self-test`) vends once itself to prove the path works end to end.
//!
//! Everything listens on 127.0.0.1 only. The demo keys are fixed so the printed
//! commands stay valid across runs; they work nowhere but this simulator.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use aws_credential_types::Credentials as AwsCredentials;
use tokio::net::TcpListener;

use crate::auth::{
    Endpoint, HyperTransport, InMemoryReplayStore, VerificationTarget, VerifierSettings,
    DEFAULT_MAX_CLOCK_SKEW,
};
use crate::cli::DevArgs;
use crate::client::{self, ClientError};
use crate::clock::SystemClock;
use crate::config::{ServerLimits, ValidatedConfig};
use crate::identity::StampPrefix;
use crate::metrics::Metrics;
use crate::policy::Policy;
use crate::reload::PolicyStore;
use crate::startup::{self, Dependencies, Drain};
use crate::sts::sim::{SimRole, Simulator};

/// The demo account.
pub const DEMO_ACCOUNT: &str = "111122223333";
/// The demo caller.
pub const DEMO_USER_ARN: &str = "arn:aws:iam::111122223333:user/demo/alice";
/// The demo caller's access key id (simulator only).
pub const DEMO_ACCESS_KEY_ID: &str = "AKIATVMDEMOALICE0001";
/// The demo caller's secret (simulator only).
pub const DEMO_SECRET_ACCESS_KEY: &str = "tvmDemoSecretForAliceValidOnlyInTheSimulator";
/// tvm's own identity in the simulator.
const SERVICE_USER_ARN: &str = "arn:aws:iam::111122223333:user/tvm-service";

/// The demo policy: alice (and any IAM user under /demo/) may have the
/// read-only profile; nobody may have the admin profile.
pub const DEMO_POLICY: &str = r#"version: 1
profiles:
  demo-readonly:
    role_arn: arn:aws:iam::111122223333:role/TvmDemoReadOnly
    max_duration: 1h
    session_tags:
      tvm-user: "{user}"
  demo-admin:
    role_arn: arn:aws:iam::111122223333:role/TvmDemoAdmin
    max_duration: 1h
rules:
  - name: demo-users-read-only
    effect: allow
    accounts: ["111122223333"]
    principals: ["arn:aws:iam::111122223333:user/demo/*"]
    profiles: ["demo-readonly"]
"#;

fn random_secret() -> String {
    use rand::TryRngCore;
    let mut b = [0u8; 30];
    rand::rngs::OsRng
        .try_fill_bytes(&mut b)
        .expect("operating system random number generator failed");
    hex::encode(b)
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
        crate::telemetry::LogFormat::Text => crate::dev_log::init(std::io::stderr),
        json => crate::telemetry::init(json, std::io::stderr),
    };
    if let Err(e) = logging {
        eprintln!("tvm dev: cannot set up logging: {e}");
        return ExitCode::from(70);
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
    let service_key = format!("AKIATVMSERVICE{}", &random_secret()[..6].to_uppercase());
    let service_secret = random_secret();
    sim.add_user(DEMO_USER_ARN, DEMO_ACCESS_KEY_ID, DEMO_SECRET_ACCESS_KEY)?;
    sim.add_user(SERVICE_USER_ARN, &service_key, &service_secret)?;
    for role in ["TvmDemoReadOnly", "TvmDemoAdmin"] {
        // The protected roles trust tvm's identity only, as in a real account.
        sim.add_role(SimRole::new(
            format!("arn:aws:iam::{DEMO_ACCOUNT}:role/{role}"),
            vec![SERVICE_USER_ARN.to_owned()],
        ))?;
    }
    let sim_handle = sim.clone().spawn().await?;
    let sim_url = sim_handle.url();

    let api = bind(args.port).await?;
    let admin = bind(args.admin_port).await?;
    let api_url = format!("http://{}", api.local_addr()?);
    let admin_url = format!("http://{}", admin.local_addr()?);

    let metrics = Metrics::new();
    let policy = Policy::from_yaml(DEMO_POLICY)?;
    // Approvals live in a SQLite file in a fresh private directory, removed
    // when `tvm dev` ends.
    let db_dir = std::env::temp_dir().join(format!("tvm-dev-{}", &random_secret()[..12]));
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new().mode(0o700).create(&db_dir)?;
    }
    let approvals_settings = crate::approvals::ApprovalsSettings {
        database_url: format!("sqlite://{}", db_dir.join("approvals.db").display()),
        webhooks: Vec::new(),
    };
    let approvals = startup::open_approvals(&approvals_settings).await?;
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
        limits: ServerLimits {
            max_connections: 256,
            ..ServerLimits::default()
        },
        approvals: Some(approvals_settings),
    };
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

    print_banner(&api_url, &admin_url, &sim_url);
    let mut code = ExitCode::SUCCESS;
    if !args.no_self_test {
        if let Err(e) = self_test(&api_url, &sim_url).await {
            println!("self-test FAILED: {e}");
            code = ExitCode::FAILURE;
        }
    }
    if args.exit_after_self_test {
        let _ = stop_tx.send(());
    } else {
        println!("\nServing until Ctrl-C.");
    }
    server.await??;
    let _ = sim_handle.shutdown().await;
    let _ = std::fs::remove_dir_all(&db_dir);
    Ok(code)
}

fn print_banner(api: &str, admin: &str, sim: &str) {
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "tvm".into());
    println!(
        r#"
tvm dev is running on loopback (no AWS account involved).
  API            {api}   POST /vend, GET /profiles, GET /.well-known/tvm
  admin          {admin}   /livez /readyz /healthz /metrics
  STS simulator  {sim}

Demo caller: IAM user {DEMO_USER_ARN}
  export AWS_ACCESS_KEY_ID={DEMO_ACCESS_KEY_ID}
  export AWS_SECRET_ACCESS_KEY={DEMO_SECRET_ACCESS_KEY}
  export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
  unset AWS_SESSION_TOKEN AWS_PROFILE

Then vend credentials for the demo-readonly profile (credential_process JSON):
  {exe} credentials --url {api} --profile demo-readonly

or with curl and a tvm-v1 token bound to the exact body:
  printf '{{"profile":"demo-readonly"}}' > /tmp/tvm-body.json
  curl -s -H "Authorization: Bearer $({exe} token --url {api} --body /tmp/tvm-body.json)" \
       --data-binary @/tmp/tvm-body.json {api}/vend

or run any AWS SDK or CLI with them, refreshed by itself (the vended session
exists only in this simulator, hence AWS_ENDPOINT_URL_STS):
  AWS_ENDPOINT_URL_STS={sim} {exe} exec --url {api} --profile demo-readonly -- \
    python3 -c "import boto3; print(boto3.client('sts').get_caller_identity()['Arn'])"

Decisions are logged below, one line each (--log-format json for full records).
"#
    );
}

async fn self_test(api: &str, sim: &str) -> Result<(), ClientError> {
    println!("Self-test (the same flow, run once by tvm dev itself):");
    let alice = AwsCredentials::new(
        DEMO_ACCESS_KEY_ID,
        DEMO_SECRET_ACCESS_KEY,
        None,
        None,
        "tvm-dev-demo",
    );
    let server = client::Server::connect(&client::ServerArgs {
        url: api.to_owned(),
        ..Default::default()
    })
    .await?;
    println!(
        "  GET /.well-known/tvm        accepts {}: the origin this client signs for",
        server.audience()
    );
    let vended = server.vend(&alice, "demo-readonly", None).await?;
    println!(
        "  POST /vend demo-readonly    200: AccessKeyId {}, SecretAccessKey (not shown), expires {}",
        vended.access_key_id, vended.expiration
    );
    println!(
        "                              SourceIdentity {}",
        vended.source_identity
    );
    let session = AwsCredentials::new(
        &vended.access_key_id,
        &vended.secret_access_key,
        Some(vended.token.clone()),
        None,
        "tvm-vended",
    );
    let arn = caller_arn(sim, session).await?;
    println!("  sts:GetCallerIdentity with the vended credentials: {arn}");
    match server.vend(&alice, "demo-admin", None).await {
        Err(ClientError::Status { status: 403, .. }) => {
            println!("  POST /vend demo-admin       403 POLICY_DENY, as the demo policy says")
        }
        Ok(_) => {
            return Err(ClientError::Decode(
                "demo-admin was vended; the policy is not enforced".into(),
            ))
        }
        Err(e) => return Err(e),
    }
    println!("Self-test passed.");
    Ok(())
}

async fn caller_arn(sim: &str, creds: AwsCredentials) -> Result<String, ClientError> {
    let config = aws_sdk_sts::Config::builder()
        .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
        .region(aws_sdk_sts::config::Region::new("us-east-1"))
        .endpoint_url(sim)
        .credentials_provider(creds)
        .build();
    let out = aws_sdk_sts::Client::from_conf(config)
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| ClientError::Transport(format!("GetCallerIdentity: {e}")))?;
    Ok(out.arn().unwrap_or_default().to_owned())
}
