//! One measured phase: warm up (which also measures the rate), mint enough
//! shots for the timed run, run it, and read CPU and memory from `/proc`.
//! Also the config and policy `tvm serve` gets in a bench.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::error::BenchError;
use super::load::{self, LoadResult};
use super::procs::{cpu_time, status_bytes};
use super::report::RunReport;
use super::setup::Setup;
use super::shots::Signers;
use crate::client::token::TOKEN_EXPIRES;

/// Replay-store entries tvm gets in a bench: an entry lives ~90 s (tvm's 60 s
/// tokens + margin), so this holds ~110,000 vends/s, beyond any loopback rate.
pub const BENCH_REPLAY_CAPACITY: usize = 10_000_000;

/// The bench policy: the demo caller may have the `bench` profile.
pub(crate) const BENCH_POLICY: &str = r#"version: 1
profiles:
  bench:
    role_arn: arn:aws:iam::111122223333:role/TvmDemoReadOnly
    max_duration: 1h
rules:
  - name: bench-caller
    effect: allow
    accounts: ["111122223333"]
    principals: ["arn:aws:iam::111122223333:user/demo/alice"]
    profiles: ["bench"]
"#;

/// Shots minted for a warm-up, per second of it (more than any loopback rate
/// seen; a warm-up that runs out early still measures the rate).
const WARMUP_SHOTS_PER_SEC: f64 = 30_000.0;

/// Most shots minted for one timed run (memory: ~1 KiB each).
const MAX_SHOTS: usize = 1_500_000;

/// Headroom over the warm-up rate when minting for the timed run.
const RATE_HEADROOM: f64 = 1.5;

/// Time kept between the end of a timed run and the first tokens' expiry.
const TOKEN_MARGIN: Duration = Duration::from_secs(10);

/// `tvm serve`'s config in a bench: loopback, rate limits off, a replay store
/// sized for the rate, the upstream for both STS calls.
pub(crate) fn config_yaml(
    api: SocketAddr,
    admin: SocketAddr,
    sts: SocketAddr,
    dir: &Path,
    setup: &Setup,
) -> String {
    format!(
        r#"listen: {{addr: "{api}"}}
admin: {{addr: "{admin}"}}
auth: {{audience: "http://{api}", sts_endpoint_url: "http://{sts}"}}
sts: {{region: us-east-1, endpoint_url: "http://{sts}"}}
policy: {{file: "{policy}"}}
server:
  max_connections: 4096
  max_connections_per_address: 4096
  rate_limit_per_minute: 0
  caller_rate_limit_per_minute: 0
  role_rate_limit_per_minute: 0
state: {{replay_capacity: {BENCH_REPLAY_CAPACITY}{state}}}
{database}"#,
        policy = dir.join("policy.yaml").display(),
        state = setup.state_fields(),
        database = setup.database_yaml(),
    )
}

/// One phase against tvm (or, `direct`, the upstream).
pub(crate) struct Phase<'a> {
    /// The report's name for the tvm measured (`tvm`, `tvm+sqlite`, …).
    pub(crate) label: &'static str,
    /// Who signs what, and the addresses.
    pub(crate) signers: &'a Signers,
    /// Workers.
    pub(crate) concurrency: usize,
    /// Untimed warm-up.
    pub(crate) warmup: Duration,
    /// Timed run.
    pub(crate) duration: Duration,
    /// tvm serve.
    pub(crate) tvm_pid: u32,
    /// The upstream.
    pub(crate) upstream_pid: u32,
}

impl Phase<'_> {
    async fn drive(
        &self,
        direct: bool,
        count: usize,
        time: Duration,
    ) -> Result<LoadResult, BenchError> {
        let signers = self.signers.clone();
        let shots = tokio::task::spawn_blocking(move || signers.make(count, direct))
            .await
            .map_err(|e| BenchError::Prepare(e.to_string()))??;
        let addr = if direct {
            self.signers.sts
        } else {
            self.signers.tvm
        };
        let c = self.concurrency;
        tokio::task::spawn_blocking(move || load::run(addr, Arc::new(shots), c, time))
            .await
            .map_err(std::io::Error::other)?
            .map_err(BenchError::from)
    }

    /// Warm-up, then the timed run with CPU readings around it.
    pub(crate) async fn measure(&self, direct: bool) -> Result<RunReport, BenchError> {
        let mut rate = 1_000.0;
        if !self.warmup.is_zero() {
            let n = (WARMUP_SHOTS_PER_SEC * self.warmup.as_secs_f64()).max(200.0) as usize;
            let warm = self.drive(direct, n, self.warmup).await?;
            rate = warm.ok as f64 / warm.elapsed.as_secs_f64().max(1e-3);
        }
        let count = ((rate * RATE_HEADROOM * self.duration.as_secs_f64()) as usize
            + 100 * self.concurrency)
            .min(MAX_SHOTS);
        let signers = self.signers.clone();
        let minting = std::time::Instant::now();
        let shots = tokio::task::spawn_blocking(move || signers.make(count, direct))
            .await
            .map_err(|e| BenchError::Prepare(e.to_string()))??;
        if minting.elapsed() + self.duration + TOKEN_MARGIN > TOKEN_EXPIRES {
            eprintln!(
                "tvm bench: minting took {:.1}s; the last tokens may expire (60s) before use",
                minting.elapsed().as_secs_f64()
            );
        }
        let addr = if direct {
            self.signers.sts
        } else {
            self.signers.tvm
        };
        let (c, time) = (self.concurrency, self.duration);
        let pids = [self.tvm_pid, self.upstream_pid, std::process::id()];
        let before = pids.map(cpu_time);
        let result = tokio::task::spawn_blocking(move || load::run(addr, Arc::new(shots), c, time))
            .await
            .map_err(std::io::Error::other)??;
        let after = pids.map(cpu_time);
        let per_vend = |i: usize| match (before[i], after[i]) {
            (Some(b), Some(a)) if result.ok > 0 => {
                Some(a.saturating_sub(b).as_secs_f64() * 1e6 / result.ok as f64)
            }
            _ => None,
        };
        Ok(RunReport::new(
            if direct { "direct" } else { self.label },
            c,
            &result,
            (!direct).then(|| per_vend(0)).flatten(),
            per_vend(1),
            per_vend(2),
            status_bytes(self.tvm_pid, "VmHWM"),
        ))
    }
}
