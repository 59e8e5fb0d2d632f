//! `tvm bench`: what a vend costs, measured the way an operator would, on
//! loopback. It starts an upstream STS and `tvm serve` as separate processes of
//! this same binary, pre-mints unique tokens, drives `POST /vend` at fixed
//! concurrency for a fixed time, and reports throughput, latency percentiles
//! (HDR histogram), errors by status, and tvm's CPU per vend and peak RSS.
//!
//! Layout:
//!
//! ```text
//!  bench (this process)            tvm serve (child)           upstream (child)
//!  shots ─▶ load (hyper, c conns) ─▶ POST /vend ─▶ GCI + AssumeRole ─▶ sim | zero
//!     └── --direct: the same two calls ─────────────────────────────▶ upstream
//! ```
//!
//! - `shots`: tokens (and direct call pairs) minted before the timed phase.
//! - `load`: the load generator; `procs`: children and `/proc` readings.
//! - `zero`: the zero-cost upstream; `report`: text and JSON output.
//! - `run`: one measured phase (warm-up, minting, timed run).
//!
//! Invariants: the tvm under test runs with rate limits off and a replay store
//! sized for the rate, and otherwise its normal checks (verification, replay,
//! policy); timing never decides a test (the smoke run asserts only that it
//! completes without errors); children die with the bench.

mod load;
mod procs;
mod report;
mod run;
mod shots;
pub mod zero;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};

use crate::sim_cli::{parse_delay, SimKeys};
use procs::Child;
use report::Report;
use run::Phase;
use shots::Signers;

/// Replay-store entries tvm gets in a bench: an entry lives ~90 s (tvm's 60 s
/// tokens + margin), so this holds ~110,000 vends/s, beyond any loopback rate.
pub const BENCH_REPLAY_CAPACITY: usize = 10_000_000;

/// Longest timed phase: tokens live 60 s and are minted before it starts.
pub const MAX_DURATION: Duration = Duration::from_secs(40);

/// Most workers (connections) per run.
pub const MAX_CONCURRENCY: usize = 1024;

/// The upstream STS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Upstream {
    /// `tvm sim`: the STS simulator (verifies every signature).
    Sim,
    /// A static responder that checks nothing: tvm's own cost.
    Zero,
}

/// `tvm bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The STS tvm calls.
    #[arg(long, value_enum, default_value = "zero")]
    pub upstream: Upstream,
    /// With `--upstream sim`: the simulator waits this long per response (e.g. 10ms).
    #[arg(long, value_parser = parse_delay)]
    pub delay: Option<Duration>,
    /// Concurrent connections; a comma-separated list runs each in turn (1,16,64).
    #[arg(long, short, value_delimiter = ',', default_value = "16")]
    pub concurrency: Vec<usize>,
    /// Length of each timed run (at most 40s).
    #[arg(long, short, value_parser = parse_delay_long, default_value = "10s")]
    pub duration: Duration,
    /// Untimed warm-up before each run (also sizes the tokens minted).
    #[arg(long, value_parser = parse_delay_long, default_value = "1s")]
    pub warmup: Duration,
    /// Also send the two STS calls of a vend straight to the upstream: the ceiling.
    #[arg(long)]
    pub direct: bool,
    /// Print one JSON document instead of the table.
    #[arg(long)]
    pub json: bool,
    /// The tvm binary to measure (`tvm serve` is started from it), e.g. an older
    /// build to compare with [default: this binary].
    #[arg(long)]
    pub tvm_bin: Option<PathBuf>,
    /// A few-second check that everything works (simulator, c=4, 1 s, no warm-up, with --direct);
    /// exits non-zero on any error.
    #[arg(long)]
    pub smoke: bool,
}

fn parse_delay_long(s: &str) -> Result<Duration, String> {
    let d = s
        .parse::<jiff::SignedDuration>()
        .ok()
        .and_then(|d| Duration::try_from(d).ok())
        .ok_or_else(|| format!("`{s}` is not a duration like 500ms or 10s"))?;
    if d > MAX_DURATION {
        return Err(format!("at most {}s", MAX_DURATION.as_secs()));
    }
    Ok(d)
}

/// Why a bench could not run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// Bad flags.
    #[error("{0}")]
    Usage(String),
    /// A child process did not start or become ready.
    #[error("{0}: {1}")]
    Start(&'static str, String),
    /// Tokens or requests could not be made.
    #[error("cannot prepare requests: {0}")]
    Prepare(String),
    /// Files, threads, runtime.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// `tvm bench`.
pub async fn run(mut args: BenchArgs) -> ExitCode {
    if args.smoke {
        args.upstream = Upstream::Sim;
        args.concurrency = vec![4];
        args.duration = Duration::from_secs(1);
        args.warmup = Duration::ZERO;
        args.direct = true;
    }
    match run_inner(&args).await {
        Ok(report) => {
            report.print(args.json);
            if report.errors() > 0 {
                eprintln!("tvm bench: {} vends failed", report.errors());
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(BenchError::Usage(e)) => {
            eprintln!("tvm bench: {e}");
            ExitCode::from(crate::cli::EXIT_CONFIG)
        }
        Err(e) => {
            eprintln!("tvm bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A scratch directory removed on drop.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn free_port() -> std::io::Result<SocketAddr> {
    std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()
}

async fn run_inner(args: &BenchArgs) -> Result<Report, BenchError> {
    if args.delay.is_some() && args.upstream != Upstream::Sim {
        return Err(BenchError::Usage("--delay needs --upstream sim".into()));
    }
    if args
        .concurrency
        .iter()
        .any(|&c| !(1..=MAX_CONCURRENCY).contains(&c))
    {
        return Err(BenchError::Usage(format!(
            "--concurrency must be 1..={MAX_CONCURRENCY}"
        )));
    }
    let dir = std::env::temp_dir().join(format!("tvm-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let scratch = Scratch(dir);
    let dir = &scratch.0;

    let keys = SimKeys::demo();
    let mut upstream = match args.upstream {
        Upstream::Sim => {
            let path = dir.join("keys.json");
            keys.write(&path).map_err(|e| BenchError::Start("sim", e))?;
            let mut sim_args = vec![
                "sim".to_owned(),
                "--listen".into(),
                "127.0.0.1:0".into(),
                "--keys".into(),
                path.display().to_string(),
            ];
            if let Some(d) = args.delay {
                sim_args.extend(["--delay".into(), format!("{}us", d.as_micros())]);
            }
            let refs: Vec<&str> = sim_args.iter().map(String::as_str).collect();
            Child::spawn("sim", None, dir, &refs, &[], true)?
        }
        Upstream::Zero => Child::spawn(
            "upstream",
            None,
            dir,
            &["bench-upstream", "--listen", "127.0.0.1:0"],
            &[],
            true,
        )?,
    };
    let sts = upstream.listening_addr().await?;

    let (api, admin) = (free_port()?, free_port()?);
    let config = dir.join("tvm.yaml");
    std::fs::write(&config, run::config_yaml(api, admin, sts, dir))?;
    std::fs::write(dir.join("policy.yaml"), run::BENCH_POLICY)?;
    let env = [
        ("AWS_ACCESS_KEY_ID", keys.service.access_key_id.as_str()),
        (
            "AWS_SECRET_ACCESS_KEY",
            keys.service.secret_access_key.as_str(),
        ),
        ("AWS_REGION", shots::BENCH_REGION),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_CONFIG_FILE", "/dev/null"),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
    ];
    let config_arg = config.display().to_string();
    let started = Instant::now();
    let mut tvm = Child::spawn(
        "tvm",
        args.tvm_bin.as_deref(),
        dir,
        &["serve", "--config", &config_arg],
        &env,
        false,
    )?;
    let ready_in = tvm.wait_ready(admin, started).await?;
    // Let start-up settle (the identity self-check, first policy poll) before reading idle RSS.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let idle_rss = procs::status_bytes(tvm.pid(), "VmRSS");
    let idle_anon = procs::status_bytes(tvm.pid(), "RssAnon");

    let signers = Signers {
        caller: keys.caller.clone(),
        service: keys.service.clone(),
        sts,
        tvm: api,
    };
    let mut report = Report::new(args, ready_in, idle_rss, idle_anon);
    for &c in &args.concurrency {
        let phase = Phase {
            signers: &signers,
            concurrency: c,
            warmup: args.warmup,
            duration: args.duration,
            tvm_pid: tvm.pid(),
            upstream_pid: upstream.pid(),
        };
        report.runs.push(phase.measure(false).await?);
        if args.direct {
            report.runs.push(phase.measure(true).await?);
        }
    }
    drop(tvm);
    drop(upstream);
    Ok(report)
}
