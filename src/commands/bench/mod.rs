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
//! - `args`: the flags and their limits; `error`: why a bench could not run.
//! - `shots`: tokens (and direct call pairs) minted before the timed phase.
//! - `load`: the load generator; `procs`: children and `/proc` readings.
//! - `zero`: the zero-cost upstream; `report`: text and JSON output.
//! - `run`: one measured phase (warm-up, minting, timed run).
//! - `setup`: the tvms `--database` compares (without and with the ledger).
//!
//! Invariants: the tvm under test runs with rate limits off and a replay store
//! sized for the rate, and otherwise its normal checks (verification, replay,
//! policy); timing never decides a test (the smoke run asserts only that it
//! completes without errors); children die with the bench.

mod args;
mod error;
mod load;
mod procs;
mod report;
mod run;
mod setup;
mod shots;
pub mod zero;

pub use args::{BenchArgs, Upstream, MAX_CONCURRENCY, MAX_DURATION};
pub use error::BenchError;
pub use run::BENCH_REPLAY_CAPACITY;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use crate::commands::sim::SimKeys;
use crate::exit::EXIT_CONFIG;
use procs::Child;
use report::Report;
use run::Phase;
use shots::Signers;

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
            ExitCode::from(EXIT_CONFIG)
        }
        Err(e) => {
            eprintln!("tvm bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The environment of `tvm serve` in a bench: tvm's own credentials (the
/// simulator's service user) and no other AWS configuration.
fn env(keys: &SimKeys) -> [(&'static str, &str); 6] {
    [
        ("AWS_ACCESS_KEY_ID", keys.service.access_key_id.as_str()),
        (
            "AWS_SECRET_ACCESS_KEY",
            keys.service.secret_access_key.as_str(),
        ),
        ("AWS_REGION", shots::BENCH_REGION),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_CONFIG_FILE", "/dev/null"),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
    ]
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

    std::fs::write(dir.join("policy.yaml"), run::BENCH_POLICY)?;
    let signers_for = |api| Signers {
        caller: keys.caller.clone(),
        service: keys.service.clone(),
        sts,
        tvm: api,
    };
    let mut report: Option<Report> = None;
    for (i, s) in setup::setups(&args.database, args.redis_url.as_deref(), dir)?
        .iter()
        .enumerate()
    {
        let (api, admin) = (free_port()?, free_port()?);
        let config = dir.join(format!("tvm-{i}.yaml"));
        std::fs::write(&config, run::config_yaml(api, admin, sts, dir, s))?;
        let started = Instant::now();
        let mut tvm = Child::spawn(
            "tvm",
            args.tvm_bin.as_deref(),
            dir,
            &["serve", "--config", &config.display().to_string()],
            &env(&keys),
            false,
        )?;
        let ready_in = tvm.wait_ready(admin, started).await?;
        // Let start-up settle (the identity self-check, first policy poll)
        // before reading idle RSS.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let report = report.get_or_insert_with(|| {
            let idle_rss = procs::status_bytes(tvm.pid(), "VmRSS");
            let idle_anon = procs::status_bytes(tvm.pid(), "RssAnon");
            Report::new(args, ready_in, idle_rss, idle_anon)
        });
        let signers = signers_for(api);
        for &c in &args.concurrency {
            let phase = Phase {
                label: s.label,
                signers: &signers,
                concurrency: c,
                warmup: args.warmup,
                duration: args.duration,
                tvm_pid: tvm.pid(),
                upstream_pid: upstream.pid(),
            };
            report.runs.push(phase.measure(false).await?);
            // The ceiling once, beside plain tvm.
            if args.direct && i == 0 {
                report.runs.push(phase.measure(true).await?);
            }
        }
        drop(tvm);
    }
    drop(upstream);
    report.ok_or_else(|| BenchError::Prepare("nothing to measure".into()))
}
