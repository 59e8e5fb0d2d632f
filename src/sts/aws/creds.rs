//! tvm's own AWS credentials for signing, from the aws-config provider chain
//! (IRSA, EKS Pod Identity, instance profile, environment, profiles), kept
//! between calls and refreshed before they expire.
//!
//! Invariants: a vend reads the current snapshot without waiting unless it is
//! within [`REFRESH_WINDOW`] of its expiry; then one task refreshes (others wait
//! for it, bounded by [`LOAD_TIMEOUT`]) and, if the provider fails, calls keep
//! using the old credentials until they really expire, then fail as
//! `Unavailable`. Secrets never reach `Debug` (the SDK's `Credentials` redact
//! them) or a log.

use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials as AwsCredentials;

use super::sign::KeyCache;
use crate::sts::StsError;

/// Credentials are refreshed this long before they expire (the SDK's identity
/// cache refreshes in its last minutes too; STS sessions last an hour or more).
pub(crate) const REFRESH_WINDOW: Duration = Duration::from_secs(5 * 60);
/// Longest wait for the provider chain (IMDS, the EKS agent, STS web identity).
pub(crate) const LOAD_TIMEOUT: Duration = Duration::from_secs(5);

/// One set of credentials and the signing keys derived from it.
#[derive(Debug)]
pub(crate) struct Snapshot {
    /// The credentials.
    pub(crate) credentials: AwsCredentials,
    /// Keys derived from this secret.
    pub(crate) keys: KeyCache,
}

impl Snapshot {
    fn new(credentials: AwsCredentials) -> Arc<Self> {
        Arc::new(Self {
            credentials,
            keys: KeyCache::default(),
        })
    }

    /// Good for at least [`REFRESH_WINDOW`] more.
    fn fresh(&self, now: SystemTime) -> bool {
        self.credentials
            .expiry()
            .is_none_or(|e| e > now + REFRESH_WINDOW)
    }

    /// Not yet expired.
    fn usable(&self, now: SystemTime) -> bool {
        self.credentials.expiry().is_none_or(|e| e > now)
    }
}

/// The provider and its current snapshot.
pub(crate) struct CredentialCache {
    provider: Option<SharedCredentialsProvider>,
    current: RwLock<Option<Arc<Snapshot>>>,
    refresh: tokio::sync::Mutex<()>,
}

impl fmt::Debug for CredentialCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialCache")
            .field("provider", &self.provider.is_some())
            .finish_non_exhaustive()
    }
}

impl CredentialCache {
    /// A cache over `provider` (`None`: no credentials could be configured).
    pub(crate) fn new(provider: Option<SharedCredentialsProvider>) -> Self {
        Self {
            provider,
            current: RwLock::new(None),
            refresh: tokio::sync::Mutex::new(()),
        }
    }

    fn peek(&self) -> Option<Arc<Snapshot>> {
        match self.current.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// The credentials to sign with now.
    pub(crate) async fn get(&self) -> Result<Arc<Snapshot>, StsError> {
        if let Some(s) = self.peek().filter(|s| s.fresh(SystemTime::now())) {
            return Ok(s);
        }
        let _one_refresh = self.refresh.lock().await;
        let old = self.peek();
        if let Some(s) = old.clone().filter(|s| s.fresh(SystemTime::now())) {
            return Ok(s);
        }
        let provider = self
            .provider
            .as_ref()
            .ok_or_else(|| StsError::Unavailable("no AWS credentials provider".into()))?;
        let loaded = tokio::time::timeout(LOAD_TIMEOUT, provider.provide_credentials()).await;
        let failure = match loaded {
            Ok(Ok(creds)) => {
                let snapshot = Snapshot::new(creds);
                let mut slot = match self.current.write() {
                    Ok(g) => g,
                    Err(p) => p.into_inner(),
                };
                *slot = Some(snapshot.clone());
                return Ok(snapshot);
            }
            Ok(Err(e)) => format!(
                "cannot load tvm's AWS credentials: {}",
                aws_smithy_types::error::display::DisplayErrorContext(&e)
            ),
            Err(_) => format!("loading tvm's AWS credentials took over {LOAD_TIMEOUT:?}"),
        };
        match old.filter(|s| s.usable(SystemTime::now())) {
            Some(s) => {
                tracing::warn!(error = %failure, "refreshing tvm's AWS credentials failed; using the current ones until they expire");
                Ok(s)
            }
            None => Err(StsError::Unavailable(failure)),
        }
    }
}
