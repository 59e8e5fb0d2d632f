//! How `tvm exec` waits for its child, and which signals it passes on.
//!
//! The child stays in tvm's process group, so the signals a terminal sends to
//! the whole foreground group — Ctrl-C (SIGINT) and Ctrl-\ (SIGQUIT) — reach
//! it once, from the terminal. tvm must not forward them too (Terraform, for
//! one, reads a second interrupt as "stop now, state may be lost").
//!
//! Invariants:
//! - from just before the child is spawned until it exits, tvm catches SIGINT
//!   and SIGQUIT and drops them: tvm neither dies of them nor passes them on;
//! - SIGTERM and SIGHUP, which are sent to tvm alone (`kill`, a supervisor, a
//!   closing session), are passed on to the child, once per signal received;
//! - the handlers *catch* rather than ignore: a caught signal goes back to its
//!   default in the child at `exec`, whereas an ignored one would stay ignored
//!   there; and a signal already ignored when tvm started (`nohup`, a script's
//!   `cmd &`) gets no handler, so it stays ignored in the child, as a shell
//!   would leave it (read from `/proc/self/status`; elsewhere, handled);
//! - tvm's exit code is the child's: its status, or 128+N when signal N ended
//!   it ([`exit_code`]).
//!
//! Only safe APIs: `tokio::signal` installs the handlers, `rustix` sends.

use std::process::{ExitCode, ExitStatus};

use rustix::process::{kill_process, Pid, Signal};
use tokio::signal::unix::{signal, SignalKind};

/// The signal streams, installed before the child is spawned so that no
/// signal falls between spawning and waiting. `None`: the signal was ignored
/// when tvm started, and stays ignored (for tvm and the child).
pub struct Signals {
    interrupt: Option<tokio::signal::unix::Signal>,
    quit: Option<tokio::signal::unix::Signal>,
    terminate: Option<tokio::signal::unix::Signal>,
    hangup: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    /// Installs the handlers; from now on SIGINT and SIGQUIT no longer end tvm.
    /// A signal ignored when tvm started (`nohup`, a script's `cmd &`) gets no
    /// handler: it stays ignored, and the child inherits that, as a shell
    /// leaves it.
    pub fn install() -> std::io::Result<Self> {
        let ignored = ignored_at_start();
        let handle = |kind: SignalKind| {
            let ignored = u32::try_from(kind.as_raw_value() - 1)
                .ok()
                .and_then(|bit| 1u64.checked_shl(bit))
                .is_some_and(|mask| ignored & mask != 0);
            (!ignored).then(|| signal(kind)).transpose()
        };
        Ok(Self {
            interrupt: handle(SignalKind::interrupt())?,
            quit: handle(SignalKind::quit())?,
            terminate: handle(SignalKind::terminate())?,
            hangup: handle(SignalKind::hangup())?,
        })
    }

    /// Waits for `child`, dropping SIGINT/SIGQUIT and passing SIGTERM/SIGHUP on.
    pub async fn wait(mut self, child: &mut tokio::process::Child) -> std::io::Result<ExitStatus> {
        let pid = child
            .id()
            .and_then(|p| i32::try_from(p).ok())
            .and_then(Pid::from_raw);
        let forward = |sig: Signal| {
            if let Some(pid) = pid {
                // The child may have exited already: nothing to do then.
                let _ = kill_process(pid, sig);
            }
        };
        loop {
            tokio::select! {
                status = child.wait() => return status,
                // The child got these from the terminal itself.
                _ = recv(&mut self.interrupt) => {}
                _ = recv(&mut self.quit) => {}
                _ = recv(&mut self.terminate) => forward(Signal::TERM),
                _ = recv(&mut self.hangup) => forward(Signal::HUP),
            }
        }
    }
}

/// The next delivery of `s`; never, for a signal left ignored.
async fn recv(s: &mut Option<tokio::signal::unix::Signal>) {
    match s {
        Some(s) => {
            s.recv().await;
        }
        None => std::future::pending().await,
    }
}

/// The signals ignored by this process, as a mask (bit N-1 for signal N),
/// from `/proc/self/status`; none where that cannot be read.
fn ignored_at_start() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("SigIgn:"))
                .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        })
        .unwrap_or(0)
}

/// The child's exit code, or 128+N when signal N ended it.
pub fn exit_code(status: ExitStatus) -> ExitCode {
    use std::os::unix::process::ExitStatusExt as _;
    match (status.code(), status.signal()) {
        (Some(c), _) => ExitCode::from(u8::try_from(c).unwrap_or(1)),
        (None, Some(n)) => ExitCode::from(u8::try_from(128 + n).unwrap_or(255)),
        (None, None) => ExitCode::FAILURE,
    }
}
