//! The policy being served, and its hot reload (DESIGN §5).
//!
//! Owns: the current `Arc<Policy>`, swapped whole under a lock, so a request that
//! took `current()` keeps one consistent policy to the end while later requests
//! see the new one — never a mix. Reloads come from SIGHUP and from polling the
//! file's content; polling reads through the path, so it also sees a Kubernetes
//! ConfigMap update, which swaps a `..data` symlink rather than writing the file.
//!
//! Invariants: a policy that fails to load is logged, counted as
//! `tvm_policy_reloads_total{result="error"}`, and the last good one keeps
//! serving. A changed file is only acted on once it has settled: two reads
//! [`DEFAULT_SETTLE_INTERVAL`] apart must be byte-identical (SIGHUP too). A
//! file written in place (`cp`, `>`, many editors) can be read half-written, and
//! a cut at a line boundary is often a valid policy that lost a `users:` or
//! `time:` condition and so allows more; such a read is never served. Writing
//! the file elsewhere and renaming it over the old one (or a ConfigMap swap) is
//! atomic and needs no settling; the settle check covers in-place writers that
//! finish within the interval.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::metrics::Metrics;
use crate::policy::{Policy, PolicyError};

/// How often the policy file is checked for changes, unless configured
/// (`policy.poll_interval`).
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(2);

/// How long a changed policy file must stay byte-identical before it is loaded:
/// it is read, and read again this much later, and only two identical reads
/// are acted on. An in-place write of a policy (at most 4 MiB) by `cp`, a shell
/// redirect or an editor finishes in milliseconds, so 500 ms catches a
/// half-written file with a wide margin, even on slow storage, while adding
/// only a quarter of the default poll interval to how long a change takes to
/// apply. A writer that stalls longer mid-file is not covered: write to a
/// temporary file and rename it over the policy.
pub const DEFAULT_SETTLE_INTERVAL: Duration = Duration::from_millis(500);

/// The served policy and where it comes from.
pub struct PolicyStore {
    current: RwLock<Arc<Policy>>,
    path: PathBuf,
    /// SHA-256 of the bytes last attempted (good or bad), so a bad file is
    /// reported once, not on every poll.
    last_seen: Mutex<[u8; 32]>,
    /// Time between two looks at the file.
    poll_interval: Duration,
    /// Time between the two reads that must agree before a change is acted on.
    settle_interval: Duration,
    metrics: Metrics,
    /// A check against the rest of the config (DESIGN §12: break-glass needs
    /// a webhook); a policy failing it is rejected like an invalid one.
    check: Option<PolicyCheck>,
}

/// See [`PolicyStore::with_check`].
pub type PolicyCheck = Arc<dyn Fn(&Policy) -> Result<(), String> + Send + Sync>;

impl std::fmt::Debug for PolicyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyStore")
            .field("path", &self.path)
            .finish()
    }
}

/// Why the first load or a reload failed.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read policy file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a valid policy.
    #[error("invalid policy {}{}: {source}", path.display(), at(*location))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line and column of the error, when known
        /// ([`PolicyError::location`]).
        location: Option<(usize, usize)>,
        /// What is wrong (boxed: it is large, and errors are rare).
        source: Box<PolicyError>,
    },
}

/// `:line:column` after the file name, when the place is known.
fn at(location: Option<(usize, usize)>) -> String {
    location.map_or_else(String::new, |(line, column)| format!(":{line}:{column}"))
}

/// One look at the file: its text, read once with the same bound and the same
/// strict UTF-8 as `tvm policy check`, and the digest of exactly that text.
fn read_text(path: &Path) -> Result<(String, [u8; 32]), LoadError> {
    let text = Policy::read_source(path).map_err(|e| match e {
        PolicyError::Io { source, .. } => LoadError::Read {
            path: path.to_owned(),
            source,
        },
        other => LoadError::Invalid {
            path: path.to_owned(),
            location: None,
            source: Box::new(other),
        },
    })?;
    let digest: [u8; 32] = Sha256::digest(text.as_bytes()).into();
    Ok((text, digest))
}

/// One look at the file during a reload: what was read, and the digest that
/// stands for it (of the text, or of the failure).
struct Look {
    text: Result<String, LoadError>,
    digest: [u8; 32],
}

fn look(path: &Path) -> Look {
    match read_text(path) {
        Ok((text, digest)) => Look {
            text: Ok(text),
            digest,
        },
        Err(e) => Look {
            digest: failure_digest(&e),
            text: Err(e),
        },
    }
}

/// Parses the text that was read (never the file again).
fn parse(path: &Path, text: &str) -> Result<Policy, LoadError> {
    Policy::from_yaml(text).map_err(|source| LoadError::Invalid {
        path: path.to_owned(),
        location: source.location(text),
        source: Box::new(source),
    })
}

/// A digest standing for a failed read, so the same failure (a deleted file,
/// say) is reported once rather than on every poll.
fn failure_digest(e: &LoadError) -> [u8; 32] {
    Sha256::digest(e.to_string().as_bytes()).into()
}

impl PolicyStore {
    /// Loads the policy at start-up; an error here stops tvm.
    pub fn load(path: &Path, metrics: Metrics) -> Result<Self, LoadError> {
        let (policy, digest) = read_text(path)
            .and_then(|(text, digest)| Ok((parse(path, &text)?, digest)))
            .inspect_err(|_| {
                metrics.policy_reloads.with_label_values(&["error"]).inc();
            })?;
        metrics.policy_reloads.with_label_values(&["success"]).inc();
        metrics.policy_rules.set(policy.rules().len() as i64);
        Ok(Self {
            current: RwLock::new(Arc::new(policy)),
            path: path.to_owned(),
            last_seen: Mutex::new(digest),
            poll_interval: DEFAULT_POLL_INTERVAL,
            settle_interval: DEFAULT_SETTLE_INTERVAL,
            metrics,
            check: None,
        })
    }

    /// A store serving `policy` that never reloads (tests, `tvm dev`).
    pub fn fixed(policy: Policy, metrics: Metrics) -> Self {
        metrics.policy_rules.set(policy.rules().len() as i64);
        Self {
            current: RwLock::new(Arc::new(policy)),
            path: PathBuf::new(),
            last_seen: Mutex::new([0; 32]),
            poll_interval: DEFAULT_POLL_INTERVAL,
            settle_interval: DEFAULT_SETTLE_INTERVAL,
            metrics,
            check: None,
        }
    }

    /// Adds a check every reloaded policy must also pass; the current policy
    /// is checked now (`Err` at start-up: exit 64).
    pub fn with_check(mut self, check: PolicyCheck) -> Result<Self, LoadError> {
        check(&self.current()).map_err(|m| self.check_error(m))?;
        self.check = Some(check);
        Ok(self)
    }

    fn check_error(&self, message: String) -> LoadError {
        LoadError::Invalid {
            path: self.path.clone(),
            location: None,
            source: Box::new(PolicyError::Invalid {
                path: "rules".into(),
                message,
            }),
        }
    }

    /// Sets how often the file is polled.
    pub fn with_poll_interval(mut self, every: Duration) -> Self {
        self.poll_interval = every;
        self
    }

    /// Sets how long a changed file must stay the same before it is loaded
    /// (tests shorten it; see [`DEFAULT_SETTLE_INTERVAL`]).
    pub fn with_settle_interval(mut self, settle: Duration) -> Self {
        self.settle_interval = settle;
        self
    }

    /// The policy to use for one request.
    pub fn current(&self) -> Arc<Policy> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Reloads if the file changed, or even if not when `force` (SIGHUP), once
    /// the file has settled. Blocks for the settle interval when there is
    /// something to do. `Ok(false)` when the file did not change, or is still
    /// changing (then the next poll tries again).
    pub fn reload(&self, force: bool) -> Result<bool, LoadError> {
        if self.path.as_os_str().is_empty() {
            return Ok(false);
        }
        let first = look(&self.path);
        if !force && *self.last_seen.lock().unwrap_or_else(|e| e.into_inner()) == first.digest {
            return Ok(false);
        }
        std::thread::sleep(self.settle_interval);
        let settled = look(&self.path);
        if settled.digest != first.digest {
            // `last_seen` stays as it was, so the next poll sees a change and
            // looks again.
            tracing::info!(
                path = %self.path.display(),
                "policy file changed while being read; it is loaded once it stops changing"
            );
            return Ok(false);
        }
        *self.last_seen.lock().unwrap_or_else(|e| e.into_inner()) = settled.digest;
        let checked = settled
            .text
            .and_then(|text| parse(&self.path, &text))
            .and_then(|p| match &self.check {
                Some(check) => check(&p).map(|()| p).map_err(|m| self.check_error(m)),
                None => Ok(p),
            });
        match checked {
            Ok(policy) => {
                let rules = policy.rules().len();
                *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(policy);
                self.metrics
                    .policy_reloads
                    .with_label_values(&["success"])
                    .inc();
                self.metrics.policy_rules.set(rules as i64);
                tracing::info!(path = %self.path.display(), rules, "policy reloaded");
                Ok(true)
            }
            Err(e) => self.failed(e),
        }
    }

    fn failed(&self, e: LoadError) -> Result<bool, LoadError> {
        self.metrics
            .policy_reloads
            .with_label_values(&["error"])
            .inc();
        tracing::error!(error = %e, "policy reload rejected; the last good policy keeps serving");
        Err(e)
    }

    /// Polls the file and listens for SIGHUP until `shutdown` resolves.
    pub async fn watch(self: Arc<Self>, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        // The first look is one interval from now: the policy was just loaded,
        // and an immediate tick would race whoever edits the file next.
        let mut tick = tokio::time::interval_at(
            tokio::time::Instant::now() + self.poll_interval,
            self.poll_interval,
        );
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        #[cfg(unix)]
        let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
        loop {
            #[cfg(unix)]
            let sighup = async {
                match hup.as_mut() {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            #[cfg(not(unix))]
            let sighup = std::future::pending::<()>();
            let force = tokio::select! {
                _ = &mut shutdown => return,
                _ = tick.tick() => false,
                _ = sighup => {
                    tracing::info!("SIGHUP: reloading policy");
                    true
                }
            };
            // A reload may wait out the settle interval; shutdown need not.
            tokio::select! {
                _ = &mut shutdown => return,
                _ = self.reload_off_runtime(force) => {}
            }
        }
    }

    /// Reads, settles and compiles on the blocking pool (up to 4 MiB of YAML,
    /// and a sleep), not on a runtime worker that serves requests. The outcome
    /// is logged and counted by [`PolicyStore::reload`].
    async fn reload_off_runtime(self: &Arc<Self>, force: bool) {
        let store = Arc::clone(self);
        let _ = tokio::task::spawn_blocking(move || store.reload(force)).await;
    }
}

#[cfg(test)]
mod tests;
