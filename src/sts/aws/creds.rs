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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;

    use aws_credential_types::provider::{error::CredentialsError, future};

    use super::*;

    /// Hands out credentials expiring `ttl` from now (numbered by call), or
    /// fails once `fail` is set.
    #[derive(Debug)]
    struct Counting {
        calls: Arc<AtomicUsize>,
        ttl: Option<Duration>,
        fail: Arc<Mutex<bool>>,
    }

    impl ProvideCredentials for Counting {
        fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            if *self.fail.lock().unwrap() {
                return future::ProvideCredentials::ready(Err(CredentialsError::not_loaded(
                    "down",
                )));
            }
            let expiry = self.ttl.map(|t| SystemTime::now() + t);
            future::ProvideCredentials::ready(Ok(AwsCredentials::new(
                format!("AKIA{n}"),
                "secret",
                None,
                expiry,
                "test",
            )))
        }
    }

    fn counting(ttl: Option<Duration>) -> (CredentialCache, Arc<AtomicUsize>, Arc<Mutex<bool>>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let fail = Arc::new(Mutex::new(false));
        let provider = Counting {
            calls: calls.clone(),
            ttl,
            fail: fail.clone(),
        };
        (
            CredentialCache::new(Some(SharedCredentialsProvider::new(provider))),
            calls,
            fail,
        )
    }

    #[tokio::test]
    async fn long_lived_credentials_are_loaded_once() {
        let (cache, calls, _) = counting(Some(Duration::from_secs(3600)));
        let handles: Vec<_> = (0..8).map(|_| cache.get()).collect();
        for h in handles {
            assert_eq!(h.await.unwrap().credentials.access_key_id(), "AKIA0");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        let (forever, calls, _) = counting(None);
        forever.get().await.unwrap();
        forever.get().await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn credentials_near_expiry_are_refreshed_and_kept_if_refresh_fails() {
        // Valid for 2 more minutes: inside the refresh window, still usable.
        let (cache, calls, fail) = counting(Some(Duration::from_secs(120)));
        assert_eq!(
            cache.get().await.unwrap().credentials.access_key_id(),
            "AKIA0"
        );
        assert_eq!(
            cache.get().await.unwrap().credentials.access_key_id(),
            "AKIA1"
        );
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        *fail.lock().unwrap() = true;
        assert_eq!(
            cache.get().await.unwrap().credentials.access_key_id(),
            "AKIA1"
        );
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn expired_or_missing_credentials_fail_closed() {
        let (cache, _, fail) = counting(Some(Duration::ZERO));
        *fail.lock().unwrap() = true;
        let err = cache.get().await.unwrap_err();
        assert_eq!(err.outcome(), "unavailable");
        assert!(err.to_string().contains("cannot load"), "{err}");
        let none = CredentialCache::new(None);
        assert_eq!(none.get().await.unwrap_err().outcome(), "unavailable");
        assert!(!format!("{none:?}").contains("secret"));
    }
}
