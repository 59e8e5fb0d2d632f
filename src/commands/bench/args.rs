//! The flags of `tvm bench` and their limits.
//!
//! Invariants: a timed phase lasts at most [`MAX_DURATION`] (the tokens,
//! minted before it, live 60 s); a run uses at most [`MAX_CONCURRENCY`]
//! connections (checked before anything starts).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

use crate::commands::sim::parse_delay;

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
    /// Also measure tvm with the ledger (DESIGN §13) on these databases, each
    /// beside the same tvm without one: `sqlite` (a scratch file) or a
    /// `postgres://…` URL (its tables are created; rows are left behind).
    /// Comma-separated for several.
    #[arg(long, value_delimiter = ',')]
    pub database: Vec<String>,
    /// The Redis a Postgres-backed tvm shares its replay store with (tvm
    /// serve requires one with Postgres); its baseline run uses it too.
    #[arg(long)]
    pub redis_url: Option<String>,
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
