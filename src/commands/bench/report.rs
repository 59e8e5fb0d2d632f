//! What `tvm bench` prints: one row per run (tvm or direct, per concurrency),
//! the tvm/direct comparison, and the process figures; or the same as JSON.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use super::args::{BenchArgs, Upstream};
use super::load::LoadResult;

/// One timed run.
#[derive(Debug, Serialize)]
pub(crate) struct RunReport {
    /// `direct`, `tvm`, or tvm with a ledger or Redis (`tvm+sqlite`,
    /// `tvm+redis`, `tvm+postgres`).
    pub(crate) target: &'static str,
    /// Workers.
    pub(crate) concurrency: usize,
    /// Successful vends.
    pub(crate) vends: u64,
    /// Seconds the run took.
    pub(crate) seconds: f64,
    /// Successful vends per second.
    pub(crate) vends_per_sec: f64,
    /// Latency percentiles and max, milliseconds.
    pub(crate) p50_ms: f64,
    /// 90th percentile.
    pub(crate) p90_ms: f64,
    /// 99th percentile.
    pub(crate) p99_ms: f64,
    /// Slowest.
    pub(crate) max_ms: f64,
    /// Failed vends by kind (`HTTP 403`, `io`, `connect`).
    pub(crate) errors: BTreeMap<String, u64>,
    /// The pre-minted tokens ran out before the deadline.
    pub(crate) tokens_ran_out: bool,
    /// tvm's CPU time (user + system) per successful vend, µs.
    pub(crate) tvm_cpu_us_per_vend: Option<f64>,
    /// The upstream's CPU per vend, µs.
    pub(crate) upstream_cpu_us_per_vend: Option<f64>,
    /// The load generator's CPU per vend, µs.
    pub(crate) client_cpu_us_per_vend: Option<f64>,
    /// tvm's peak RSS so far (VmHWM), bytes.
    pub(crate) tvm_peak_rss_bytes: Option<u64>,
}

fn ms(hist: &hdrhistogram::Histogram<u64>, q: f64) -> f64 {
    hist.value_at_quantile(q) as f64 / 1000.0
}

impl RunReport {
    /// Summarises one load result.
    pub(crate) fn new(
        target: &'static str,
        concurrency: usize,
        r: &LoadResult,
        tvm_cpu: Option<f64>,
        upstream_cpu: Option<f64>,
        client_cpu: Option<f64>,
        tvm_peak_rss: Option<u64>,
    ) -> Self {
        let seconds = r.elapsed.as_secs_f64();
        let direct = target == "direct";
        Self {
            target,
            concurrency,
            vends: r.ok,
            seconds,
            vends_per_sec: r.ok as f64 / seconds.max(1e-9),
            p50_ms: ms(&r.latency, 0.50),
            p90_ms: ms(&r.latency, 0.90),
            p99_ms: ms(&r.latency, 0.99),
            max_ms: r.latency.max() as f64 / 1000.0,
            errors: r.errors.clone(),
            tokens_ran_out: r.exhausted,
            tvm_cpu_us_per_vend: tvm_cpu,
            upstream_cpu_us_per_vend: upstream_cpu,
            client_cpu_us_per_vend: client_cpu,
            tvm_peak_rss_bytes: if direct { None } else { tvm_peak_rss },
        }
    }
}

/// The whole bench.
#[derive(Debug, Serialize)]
pub(crate) struct Report {
    /// `sim` or `zero`.
    pub(crate) upstream: &'static str,
    /// The simulator's delay per response, ms.
    pub(crate) delay_ms: Option<f64>,
    /// tvm's version.
    pub(crate) version: &'static str,
    /// CPUs this machine has.
    pub(crate) cpus: usize,
    /// `/proc/loadavg` at the start (others' load skews every figure).
    pub(crate) loadavg: String,
    /// From spawning `tvm serve` to `/readyz` answering 200, ms.
    pub(crate) tvm_ready_ms: f64,
    /// tvm's RSS when ready and idle, bytes.
    pub(crate) tvm_idle_rss_bytes: Option<u64>,
    /// Of that, the anonymous part (heap, stacks: `RssAnon`), bytes; the rest
    /// is the binary's own pages, shared and reclaimable.
    pub(crate) tvm_idle_anon_bytes: Option<u64>,
    /// Every run, in order.
    pub(crate) runs: Vec<RunReport>,
}

fn mb(bytes: Option<u64>) -> String {
    bytes.map_or("?".into(), |b| format!("{:.1} MB", b as f64 / 1_048_576.0))
}

fn us(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.0}"))
}

impl Report {
    /// An empty report for `args`.
    pub(crate) fn new(
        args: &BenchArgs,
        ready_in: Duration,
        idle_rss: Option<u64>,
        idle_anon: Option<u64>,
    ) -> Self {
        Self {
            upstream: match args.upstream {
                Upstream::Sim => "sim",
                Upstream::Zero => "zero",
            },
            delay_ms: args.delay.map(|d| d.as_secs_f64() * 1e3),
            version: env!("CARGO_PKG_VERSION"),
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            loadavg: std::fs::read_to_string("/proc/loadavg")
                .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
                .unwrap_or_default(),
            tvm_ready_ms: ready_in.as_secs_f64() * 1e3,
            tvm_idle_rss_bytes: idle_rss,
            tvm_idle_anon_bytes: idle_anon,
            runs: Vec::new(),
        }
    }

    /// Failed vends over all runs.
    pub(crate) fn errors(&self) -> u64 {
        self.runs.iter().flat_map(|r| r.errors.values()).sum()
    }

    /// Prints the table (or JSON) to stdout.
    pub(crate) fn print(&self, json: bool) {
        if json {
            match serde_json::to_string_pretty(self) {
                Ok(s) => println!("{s}"),
                Err(e) => eprintln!("tvm bench: {e}"),
            }
            return;
        }
        println!("{}", self.text());
    }

    /// The human-readable report.
    pub(crate) fn text(&self) -> String {
        let mut out = format!(
            "tvm bench {}: upstream {}{}, {} CPUs, load {}\n\
             tvm ready in {:.1} ms, idle RSS {} ({} anonymous)\n\n",
            self.version,
            self.upstream,
            self.delay_ms
                .map_or(String::new(), |d| format!(" (+{d:.0} ms per response)")),
            self.cpus,
            self.loadavg,
            self.tvm_ready_ms,
            mb(self.tvm_idle_rss_bytes),
            mb(self.tvm_idle_anon_bytes),
        );
        out.push_str(
            "target         c    vends/s    p50 ms   p90 ms   p99 ms   max ms  errors  tvm µs/vend  upstream µs/vend  client µs/vend  tvm peak RSS\n",
        );
        for r in &self.runs {
            let errors: u64 = r.errors.values().sum();
            out.push_str(&format!(
                "{:<12}{:>4}{:>11.0}{:>10.2}{:>9.2}{:>9.2}{:>9.2}{:>8}{:>13}{:>18}{:>16}  {}{}\n",
                r.target,
                r.concurrency,
                r.vends_per_sec,
                r.p50_ms,
                r.p90_ms,
                r.p99_ms,
                r.max_ms,
                errors,
                us(r.tvm_cpu_us_per_vend),
                us(r.upstream_cpu_us_per_vend),
                us(r.client_cpu_us_per_vend),
                if r.target != "direct" {
                    mb(r.tvm_peak_rss_bytes)
                } else {
                    "-".into()
                },
                if r.tokens_ran_out {
                    "  (tokens ran out)"
                } else {
                    ""
                },
            ));
        }
        for r in self.runs.iter().filter(|r| !r.errors.is_empty()) {
            out.push_str(&format!(
                "\nerrors ({} c={}): {:?}",
                r.target, r.concurrency, r.errors
            ));
        }
        let pairs = self.runs.windows(2).filter(|w| {
            w[0].target == "tvm" && w[1].target == "direct" && w[0].concurrency == w[1].concurrency
        });
        for w in pairs {
            let (t, d) = (&w[0], &w[1]);
            out.push_str(&format!(
                "\nc={}: tvm/direct throughput {:.2}; tvm adds {:+.2} ms at p50, {:+.2} ms at p99",
                t.concurrency,
                t.vends_per_sec / d.vends_per_sec.max(1e-9),
                t.p50_ms - d.p50_ms,
                t.p99_ms - d.p99_ms,
            ));
        }
        for r in &self.runs {
            let base = match r.target {
                "tvm+sqlite" => "tvm",
                "tvm+postgres" => "tvm+redis",
                _ => continue,
            };
            let Some(b) = self
                .runs
                .iter()
                .find(|b| b.target == base && b.concurrency == r.concurrency)
            else {
                continue;
            };
            out.push_str(&format!(
                "\nc={}: the {} ledger keeps {:.2} of {base}'s throughput; adds {:+.2} ms at p50, {:+.2} ms at p99, {:+.0} µs tvm CPU per vend",
                r.concurrency,
                r.target.trim_start_matches("tvm+"),
                r.vends_per_sec / b.vends_per_sec.max(1e-9),
                r.p50_ms - b.p50_ms,
                r.p99_ms - b.p99_ms,
                r.tvm_cpu_us_per_vend.unwrap_or(0.0) - b.tvm_cpu_us_per_vend.unwrap_or(0.0),
            ));
        }
        out
    }
}
