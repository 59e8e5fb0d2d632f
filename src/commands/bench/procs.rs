//! The processes `tvm bench` starts (the upstream and `tvm serve`, both this
//! same binary) and what it reads about them from `/proc`.
//!
//! Invariants: every child is killed when its [`Child`] is dropped (also on an
//! early error return); a child's output goes to a file in the bench's
//! directory, never to the terminal, and is shown only when it fails to start.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, BufReader};

use super::error::BenchError;

/// How long a child may take to print its address or become ready.
pub(crate) const START_TIMEOUT: Duration = Duration::from_secs(20);

/// A child process of the bench, killed on drop.
#[derive(Debug)]
pub(crate) struct Child {
    name: &'static str,
    child: tokio::process::Child,
    pid: u32,
    log: PathBuf,
}

impl Child {
    /// Starts `EXE ARGS` (this binary unless `exe` names another tvm) with
    /// `env`, its stderr to `DIR/NAME.log`.
    pub(crate) fn spawn(
        name: &'static str,
        exe: Option<&Path>,
        dir: &Path,
        args: &[&str],
        env: &[(&str, &str)],
        stdout_piped: bool,
    ) -> Result<Self, BenchError> {
        let exe = match exe {
            Some(exe) => exe.to_owned(),
            None => std::env::current_exe().map_err(|e| BenchError::Start(name, e.to_string()))?,
        };
        let log = dir.join(format!("{name}.log"));
        let file =
            std::fs::File::create(&log).map_err(|e| BenchError::Start(name, e.to_string()))?;
        let stdout = if stdout_piped {
            Stdio::piped()
        } else {
            file.try_clone()
                .map_err(|e| BenchError::Start(name, e.to_string()))?
                .into()
        };
        let mut cmd = tokio::process::Command::new(exe);
        // `TVM_*` variables are config overrides: the bench's config is the whole config.
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with(crate::config::ENV_PREFIX) {
                cmd.env_remove(k);
            }
        }
        cmd.args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(file)
            .kill_on_drop(true);
        let child = cmd
            .spawn()
            .map_err(|e| BenchError::Start(name, e.to_string()))?;
        let pid = child
            .id()
            .ok_or_else(|| BenchError::Start(name, "exited at once".into()))?;
        Ok(Self {
            name,
            child,
            pid,
            log,
        })
    }

    /// The process id.
    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    /// Reads stdout until a line `... listening on http://ADDR` and returns ADDR.
    pub(crate) async fn listening_addr(&mut self) -> Result<SocketAddr, BenchError> {
        let name = self.name;
        let stdout = self
            .child
            .stdout
            .take()
            .ok_or_else(|| BenchError::Start(name, "no stdout".into()))?;
        let mut lines = BufReader::new(stdout).lines();
        let found = tokio::time::timeout(START_TIMEOUT, async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some((_, url)) = line.split_once("listening on http://") {
                    return url.trim().parse::<SocketAddr>().ok();
                }
            }
            None
        })
        .await;
        // Keep draining stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        match found {
            Ok(Some(addr)) => Ok(addr),
            _ => Err(BenchError::Start(name, self.log_tail())),
        }
    }

    /// Polls `GET http://ADDR/readyz` until 200; returns the time since `since`.
    pub(crate) async fn wait_ready(
        &mut self,
        admin: SocketAddr,
        since: Instant,
    ) -> Result<Duration, BenchError> {
        let deadline = since + START_TIMEOUT;
        loop {
            if super::load::get_status(admin, "/readyz").await == Some(200) {
                return Ok(since.elapsed());
            }
            if Instant::now() > deadline || self.child.try_wait().ok().flatten().is_some() {
                return Err(BenchError::Start(self.name, self.log_tail()));
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    /// The last lines of the child's log, for a start-up failure.
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(10)..].join("\n");
        format!("did not start; its log ends:\n{tail}")
    }
}

/// CPU time (user + system) a process has used so far.
pub(crate) fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may contain spaces) in parentheses.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 here.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    let hz = rustix::param::clock_ticks_per_second().max(1);
    Some(Duration::from_micros(ticks * 1_000_000 / hz))
}

/// A `kB` field of `/proc/PID/status` (`VmHWM` peak RSS, `VmRSS` current), in bytes.
pub(crate) fn status_bytes(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|line| {
        let value = line.strip_prefix(field)?.strip_prefix(':')?;
        let kb = value
            .trim()
            .strip_suffix("kB")?
            .trim()
            .parse::<u64>()
            .ok()?;
        Some(kb * 1024)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_own_cpu_and_rss() {
        let pid = std::process::id();
        let mut x = 0u64;
        for i in 0..2_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        assert!(x != 1);
        assert!(cpu_time(pid).is_some());
        assert!(status_bytes(pid, "VmHWM").unwrap() > 0);
        assert!(status_bytes(pid, "VmRSS").unwrap() > 0);
        assert_eq!(status_bytes(pid, "NoSuchField"), None);
    }
}
