//! HTTPS for the API listener (`listen.tls`): a rustls acceptor that the accept
//! loop calls to turn a TCP stream into a TLS stream, with a certificate that is
//! reloaded when its files change (cert-manager rotates them in place).
//!
//! Invariants: a handshake always uses the newest certificate that loaded
//! completely and whose key matches it; a reload never touches open connections
//! (they keep the session they negotiated); a bad or half-written pair of files
//! is logged and counted, and the last good certificate keeps serving. Only
//! HTTP/1.1 is offered (ALPN), as the server speaks nothing else. Key material is
//! never logged.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::server::TlsStream;

use crate::config::TlsConfig;
use crate::metrics::Metrics;

/// How often the certificate files are compared with what is being served.
pub const RELOAD_POLL_INTERVAL: Duration = Duration::from_secs(5);

/// Time a client has for the TLS handshake; a stalled handshake holds a
/// connection slot, so it is cut off like a slow request head.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a certificate could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The PEM text holds no usable certificate or key.
    #[error("{path}: {message}")]
    Pem {
        /// The file.
        path: PathBuf,
        /// What is wrong (no key material).
        message: String,
    },
    /// rustls refused the pair (unsupported key, key not matching the certificate).
    #[error("certificate and key rejected: {0}")]
    Rustls(#[from] rustls::Error),
}

/// The bytes of both files as last loaded, to notice changes.
#[derive(PartialEq, Eq)]
struct Loaded {
    cert: Vec<u8>,
    key: Vec<u8>,
}

/// The certificate being served, swapped atomically on reload.
#[derive(Debug)]
struct ReloadingCert {
    current: RwLock<Arc<CertifiedKey>>,
}

impl ResolvesServerCert for ReloadingCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(
            self.current
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        )
    }
}

/// Turns accepted TCP streams into TLS streams; cheap to clone.
#[derive(Clone)]
pub struct TlsAcceptor {
    acceptor: tokio_rustls::TlsAcceptor,
    cert: Arc<ReloadingCert>,
    files: TlsConfig,
    provider: Arc<CryptoProvider>,
    loaded: Arc<Mutex<Loaded>>,
    metrics: Metrics,
}

impl std::fmt::Debug for TlsAcceptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsAcceptor")
            .field("files", &self.files)
            .finish_non_exhaustive()
    }
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_owned(),
        source,
    })
}

fn certified_key(
    files: &TlsConfig,
    provider: &CryptoProvider,
) -> Result<(CertifiedKey, Loaded), TlsError> {
    let loaded = Loaded {
        cert: read(&files.cert_file)?,
        key: read(&files.key_file)?,
    };
    let pem_error = |path: &Path, message: &str| TlsError::Pem {
        path: path.to_owned(),
        message: message.to_owned(),
    };
    let chain = CertificateDer::pem_slice_iter(&loaded.cert)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| pem_error(&files.cert_file, "not valid PEM certificates"))?;
    if chain.is_empty() {
        return Err(pem_error(&files.cert_file, "no CERTIFICATE block"));
    }
    // The parser's error would not echo key bytes, but say nothing about them anyway.
    let key = PrivateKeyDer::from_pem_slice(&loaded.key)
        .map_err(|_| pem_error(&files.key_file, "no usable PRIVATE KEY block"))?;
    let certified = CertifiedKey::from_der(chain, key, provider)?;
    Ok((certified, loaded))
}

impl TlsAcceptor {
    /// Loads the certificate and key named by `files`; errors stop start-up.
    pub fn load(files: &TlsConfig, metrics: Metrics) -> Result<Self, TlsError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let (key, loaded) = certified_key(files, &provider)?;
        let cert = Arc::new(ReloadingCert {
            current: RwLock::new(Arc::new(key)),
        });
        let mut config = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_cert_resolver(cert.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        metrics.tls_reloads.with_label_values(&["success"]).inc();
        Ok(Self {
            acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
            cert,
            files: files.clone(),
            provider,
            loaded: Arc::new(Mutex::new(loaded)),
            metrics,
        })
    }

    /// Runs the TLS handshake on an accepted connection, within [`HANDSHAKE_TIMEOUT`].
    pub async fn accept<IO>(&self, stream: IO) -> std::io::Result<TlsStream<IO>>
    where
        IO: AsyncRead + AsyncWrite + Unpin,
    {
        tokio::time::timeout(HANDSHAKE_TIMEOUT, self.acceptor.accept(stream))
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "TLS handshake"))?
    }

    /// Reloads the certificate if either file changed. `Ok(true)` when a new one
    /// is now served; on error the previous one keeps serving.
    pub fn reload_if_changed(&self) -> Result<bool, TlsError> {
        let unchanged = {
            let last = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
            read(&self.files.cert_file)? == last.cert && read(&self.files.key_file)? == last.key
        };
        if unchanged {
            return Ok(false);
        }
        let (key, loaded) = match certified_key(&self.files, &self.provider) {
            Ok(pair) => pair,
            Err(e) => {
                self.metrics.tls_reloads.with_label_values(&["error"]).inc();
                return Err(e);
            }
        };
        *self.cert.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(key);
        *self.loaded.lock().unwrap_or_else(|e| e.into_inner()) = loaded;
        self.metrics
            .tls_reloads
            .with_label_values(&["success"])
            .inc();
        Ok(true)
    }

    /// Polls the files every `interval` until `stop` resolves.
    pub async fn watch(self, interval: Duration, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = &mut stop => return,
                _ = tick.tick() => {}
            }
            match self.reload_if_changed() {
                Ok(true) => tracing::info!(
                    cert_file = %self.files.cert_file.display(),
                    "TLS certificate reloaded"
                ),
                Ok(false) => {}
                Err(e) => tracing::error!(
                    error = %e,
                    "TLS certificate reload failed; the previous certificate keeps serving"
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests;
