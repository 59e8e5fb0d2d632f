//! The acceptor against a real rustls client: serves the loaded certificate,
//! swaps it when the files change, keeps the old one on a bad pair.

use std::sync::Arc;

use rcgen::{CertifiedKey as RcKey, KeyPair};
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::*;

fn self_signed(name: &str) -> RcKey<KeyPair> {
    rcgen::generate_simple_self_signed(vec![name.to_owned()]).unwrap()
}

fn write(dir: &Path, key: &RcKey<KeyPair>) -> TlsConfig {
    let files = TlsConfig {
        cert_file: dir.join("tls.crt"),
        key_file: dir.join("tls.key"),
    };
    std::fs::write(&files.cert_file, key.cert.pem()).unwrap();
    std::fs::write(&files.key_file, key.signing_key.serialize_pem()).unwrap();
    files
}

/// The leaf certificate a client sees, trusting only `trusted`.
async fn served_cert(
    acceptor: &TlsAcceptor,
    trusted: &[&RcKey<KeyPair>],
) -> Result<CertificateDer<'static>, std::io::Error> {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = {
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            if let Ok(mut tls) = acceptor.accept(tcp).await {
                let mut buf = [0u8; 4];
                let _ = tls.read_exact(&mut buf).await;
                let _ = tls.write_all(b"pong").await;
                let _ = tls.shutdown().await;
            }
        })
    };
    let mut roots = rustls::RootCertStore::empty();
    for k in trusted {
        roots.add(k.cert.der().clone()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = TcpStream::connect(addr).await.unwrap();
    let mut tls = connector
        .connect(ServerName::try_from("tvm.test").unwrap(), tcp)
        .await?;
    tls.write_all(b"ping").await?;
    let mut buf = [0u8; 4];
    tls.read_exact(&mut buf).await?;
    assert_eq!(&buf, b"pong");
    let cert = tls.get_ref().1.peer_certificates().unwrap()[0].clone();
    server.await.unwrap();
    Ok(cert.into_owned())
}

#[tokio::test]
async fn serves_the_loaded_certificate_and_the_rotated_one_after_a_change() {
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (self_signed("tvm.test"), self_signed("tvm.test"));
    let files = write(dir.path(), &first);
    let metrics = Metrics::new();
    let acceptor = TlsAcceptor::load(&files, metrics.clone()).unwrap();
    let seen = served_cert(&acceptor, &[&first]).await.unwrap();
    assert_eq!(seen, *first.cert.der());
    assert!(
        !acceptor.reload_if_changed().unwrap(),
        "nothing changed yet"
    );

    write(dir.path(), &second);
    assert!(acceptor.reload_if_changed().unwrap());
    let seen = served_cert(&acceptor, &[&first, &second]).await.unwrap();
    assert_eq!(seen, *second.cert.der(), "the new certificate is served");
    // A client that trusts only the old certificate now fails the handshake.
    assert!(served_cert(&acceptor, &[&first]).await.is_err());
    assert_eq!(metrics.tls_reloads.with_label_values(&["success"]).get(), 2);
}

#[tokio::test]
async fn a_mismatched_or_broken_pair_keeps_the_last_good_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (first, other) = (self_signed("tvm.test"), self_signed("tvm.test"));
    let files = write(dir.path(), &first);
    let metrics = Metrics::new();
    let acceptor = TlsAcceptor::load(&files, metrics.clone()).unwrap();
    // Half a rotation: the new certificate next to the old key.
    std::fs::write(&files.cert_file, other.cert.pem()).unwrap();
    assert!(matches!(
        acceptor.reload_if_changed(),
        Err(TlsError::Rustls(_))
    ));
    std::fs::write(&files.key_file, "-----BEGIN PRIVATE KEY-----\nnot base64\n").unwrap();
    assert!(acceptor.reload_if_changed().is_err());
    assert_eq!(metrics.tls_reloads.with_label_values(&["error"]).get(), 2);
    let seen = served_cert(&acceptor, &[&first]).await.unwrap();
    assert_eq!(seen, *first.cert.der(), "still the last good certificate");
}

#[test]
fn load_errors_name_the_file_and_never_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let files = write(dir.path(), &self_signed("tvm.test"));
    std::fs::write(&files.key_file, "secret-looking garbage").unwrap();
    let err = TlsAcceptor::load(&files, Metrics::new()).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("tls.key"), "{text}");
    assert!(!text.contains("garbage"), "{text}");
    let missing = TlsConfig {
        cert_file: dir.path().join("absent.crt"),
        key_file: files.key_file.clone(),
    };
    assert!(matches!(
        TlsAcceptor::load(&missing, Metrics::new()),
        Err(TlsError::Read { .. })
    ));
}
