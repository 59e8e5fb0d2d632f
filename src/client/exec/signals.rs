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
//!   there;
//! - tvm's exit code is the child's: its status, or 128+N when signal N ended
//!   it ([`exit_code`]).
//!
//! Only safe APIs: `tokio::signal` installs the handlers, `rustix` sends.

use std::process::{ExitCode, ExitStatus};

use rustix::process::{kill_process, Pid, Signal};
use tokio::signal::unix::{signal, SignalKind};

/// The signal streams, installed before the child is spawned so that no
/// signal falls between spawning and waiting.
pub struct Signals {
    interrupt: tokio::signal::unix::Signal,
    quit: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
    hangup: tokio::signal::unix::Signal,
}

impl Signals {
    /// Installs the handlers; from now on SIGINT and SIGQUIT no longer end tvm.
    pub fn install() -> std::io::Result<Self> {
        Ok(Self {
            interrupt: signal(SignalKind::interrupt())?,
            quit: signal(SignalKind::quit())?,
            terminate: signal(SignalKind::terminate())?,
            hangup: signal(SignalKind::hangup())?,
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
                _ = self.interrupt.recv() => {}
                _ = self.quit.recv() => {}
                _ = self.terminate.recv() => forward(Signal::TERM),
                _ = self.hangup.recv() => forward(Signal::HUP),
            }
        }
    }
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
