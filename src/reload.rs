//! The policy being served, and its hot reload (DESIGN §5).
//!
//! Owns: the current `Arc<Policy>`, swapped whole under a lock, so a request that
//! took `current()` keeps one consistent policy to the end while later requests
//! see the new one — never a mix. Reloads come from SIGHUP and from polling the
//! file's content; polling reads through the path, so it also sees a Kubernetes
//! ConfigMap update, which swaps a `..data` symlink rather than writing the file.
//! Invariant: a policy that fails to load is logged, counted as
//! `tvm_policy_reloads_total{result="error"}`, and the last good one keeps serving.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::metrics::Metrics;
use crate::policy::{Policy, PolicyError};

/// How often the policy file is checked for changes, unless configured
/// (`policy.poll_interval`).
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(2);

/// The served policy and where it comes from.
pub struct PolicyStore {
    current: RwLock<Arc<Policy>>,
    path: PathBuf,
    /// SHA-256 of the bytes last attempted (good or bad), so a bad file is
    /// reported once, not on every poll.
    last_seen: Mutex<[u8; 32]>,
    /// Time between two looks at the file.
    poll_interval: Duration,
    metrics: Metrics,
}

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
            metrics,
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
            metrics,
        }
    }

    /// Sets how often the file is polled.
    pub fn with_poll_interval(mut self, every: Duration) -> Self {
        self.poll_interval = every;
        self
    }

    /// The policy to use for one request.
    pub fn current(&self) -> Arc<Policy> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Reloads now (SIGHUP). `Ok(false)` when the file did not change.
    pub fn reload(&self, force: bool) -> Result<bool, LoadError> {
        if self.path.as_os_str().is_empty() {
            return Ok(false);
        }
        let read = read_text(&self.path);
        let digest = match &read {
            Ok((_, digest)) => *digest,
            Err(e) => failure_digest(e),
        };
        {
            let mut last = self.last_seen.lock().unwrap_or_else(|e| e.into_inner());
            if !force && *last == digest {
                return Ok(false);
            }
            *last = digest;
        }
        match read.and_then(|(text, _)| parse(&self.path, &text)) {
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
            tokio::select! {
                _ = &mut shutdown => return,
                _ = tick.tick() => self.reload_off_runtime(false).await,
                _ = sighup => {
                    tracing::info!("SIGHUP: reloading policy");
                    self.reload_off_runtime(true).await;
                }
            }
        }
    }

    /// Reads and compiles on the blocking pool (up to 4 MiB of YAML), not on a
    /// runtime worker that serves requests. The outcome is logged and counted by
    /// [`PolicyStore::reload`].
    async fn reload_off_runtime(self: &Arc<Self>, force: bool) {
        let store = Arc::clone(self);
        let _ = tokio::task::spawn_blocking(move || store.reload(force)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = "version: 1\nprofiles:\n  p: {role_arn: \"arn:aws:iam::111122223333:role/P\"}\nrules:\n  - name: r\n    effect: allow\n    accounts: [\"111122223333\"]\n";

    fn errors(m: &Metrics) -> u64 {
        m.policy_reloads.with_label_values(&["error"]).get()
    }

    #[test]
    fn a_failure_is_reported_once_until_the_file_changes() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("policy.yaml");
        std::fs::write(&file, POLICY).unwrap();
        let metrics = Metrics::new();
        let store = PolicyStore::load(&file, metrics.clone()).unwrap();
        assert!(
            !store.reload(false).unwrap(),
            "unchanged file: nothing to do"
        );

        std::fs::write(&file, "version: 2\n").unwrap();
        assert!(store.reload(false).is_err());
        assert!(
            !store.reload(false).unwrap(),
            "same bad file: reported once"
        );
        assert_eq!(errors(&metrics), 1);

        std::fs::remove_file(&file).unwrap();
        assert!(store.reload(false).is_err());
        assert!(
            !store.reload(false).unwrap(),
            "still missing: reported once"
        );
        assert_eq!(errors(&metrics), 2);
        // SIGHUP forces a new attempt, which fails again and says so.
        assert!(store.reload(true).is_err());
        assert_eq!(errors(&metrics), 3);
        assert_eq!(
            store.current().rules().len(),
            1,
            "the last good policy serves"
        );

        std::fs::write(&file, POLICY.replace("name: r", "name: r2")).unwrap();
        assert!(store.reload(false).unwrap());
        assert_eq!(store.current().rules()[0].name(), "r2");
    }
}
