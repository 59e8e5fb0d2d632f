//! `tvm serve` as an operator starts it: the config file from `TVM_CONFIG`,
//! Kubernetes service-link variables ignored, tvm's own AWS identity checked at
//! start (not ready, with the reason and a metric, until it works), HTTPS with a
//! certificate rotated under a running server, and SIGTERM exiting 0.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rcgen::{CertifiedKey, KeyPair};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tvm::clock::SystemClock;
use tvm::sts::sim::{SimHandle, Simulator};

use crate::support::{free_port, metric, request, POLICY, SERVICE_ARN};

const TVM: &str = env!("CARGO_BIN_EXE_tvm");

struct Served {
    /// `None` once terminated.
    child: Option<Child>,
    api: u16,
    admin: u16,
    _dir: tempfile::TempDir,
    _sim: SimHandle,
}

impl Served {
    fn admin_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.admin)
    }

    /// SIGTERM, then the exit status and everything logged.
    fn terminate(mut self) -> (std::process::ExitStatus, String) {
        let child = self.child.take().expect("running");
        let pid = child.id().to_string();
        assert!(Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success());
        let out = child.wait_with_output().unwrap();
        let logs = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status, logs)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        // A failed assertion must not leave the server running.
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Starts `tvm serve` without `--config`, with only the environment given
/// (no AWS credentials unless passed), against a simulator on loopback.
async fn serve(extra_yaml: &str, env: &[(&str, String)], sim: Simulator) -> Served {
    let handle = sim.spawn().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (api, admin) = (free_port(), free_port());
    let policy = dir.path().join("policy.yaml");
    std::fs::write(&policy, POLICY).unwrap();
    let config = dir.path().join("tvm.yaml");
    std::fs::write(
        &config,
        format!(
            "listen: {{addr: 127.0.0.1:{api}{extra_yaml}}}\nadmin: {{addr: 127.0.0.1:{admin}}}\n\
             auth: {{audience: https://tvm.test}}\nsts: {{region: us-east-1, endpoint_url: {}}}\n\
             policy: {{file: {}}}\nserver: {{shutdown_timeout: 2s}}\n",
            handle.url(),
            policy.display()
        ),
    )
    .unwrap();
    let mut cmd = Command::new(TVM);
    cmd.arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir.path())
        .env("AWS_CONFIG_FILE", dir.path().join("none"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.path().join("none"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("TVM_CONFIG", &config)
        // Service links Kubernetes injects for Services named tvm and tvm-redis.
        .env("TVM_PORT", "tcp://10.0.0.1:8080")
        .env("TVM_SERVICE_HOST", "10.0.0.1")
        .env("TVM_REDIS_PORT", "tcp://10.0.0.2:6379")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd.spawn().unwrap();
    let served = Served {
        child: Some(child),
        api,
        admin,
        _dir: dir,
        _sim: handle,
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", served.admin))
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "tvm serve did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    served
}

/// `/readyz` until it answers `want` (or the deadline passes).
async fn readyz_until(served: &Served, want: u16) -> crate::support::Answer {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let a = request(
            "GET",
            &format!("{}/readyz", served.admin_url()),
            &[],
            vec![],
        )
        .await;
        if a.status == want || Instant::now() > deadline {
            return a;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_without_aws_credentials_is_not_ready_and_says_why() {
    let sim = Simulator::new(Arc::new(SystemClock));
    let served = serve("", &[], sim.clone()).await;
    // Give the check time to run (and fail) at least once.
    let deadline = Instant::now() + Duration::from_secs(20);
    let metrics = loop {
        let m = request(
            "GET",
            &format!("{}/metrics", served.admin_url()),
            &[],
            vec![],
        )
        .await;
        if metric(&m.body, "tvm_sts_identity_checks_total{result=\"error\"}") >= 1.0
            || Instant::now() > deadline
        {
            break m.body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(metric(&metrics, "tvm_sts_identity_verified"), 0.0);
    let ready = request(
        "GET",
        &format!("{}/readyz", served.admin_url()),
        &[],
        vec![],
    )
    .await;
    assert_eq!(ready.status, 503, "{}", ready.body);
    assert!(
        ready.body.contains("AWS identity check failed"),
        "{}",
        ready.body
    );
    assert!(sim.calls().is_empty(), "no credentials: nothing was signed");
    let (status, logs) = served.terminate();
    assert!(status.success(), "SIGTERM exits 0: {status:?}\n{logs}");
    assert!(logs.contains("\"from\":\"TVM_CONFIG\""), "{logs}");
    assert!(
        logs.contains("cannot verify tvm's own AWS credentials"),
        "{logs}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_logs_the_identity_it_runs_as_and_becomes_ready() {
    let sim = Simulator::new(Arc::new(SystemClock));
    let key = sim.create_access_key(SERVICE_ARN).unwrap();
    let creds = [
        ("AWS_ACCESS_KEY_ID", key.access_key_id.clone()),
        ("AWS_SECRET_ACCESS_KEY", key.secret_access_key.clone()),
    ];
    let served = serve("", &creds, sim.clone()).await;
    let ready = readyz_until(&served, 200).await;
    assert_eq!(ready.status, 200, "{}", ready.body);
    let m = request(
        "GET",
        &format!("{}/metrics", served.admin_url()),
        &[],
        vec![],
    )
    .await;
    assert_eq!(metric(&m.body, "tvm_sts_identity_verified"), 1.0);
    assert_eq!(sim.calls_for("GetCallerIdentity").len(), 1);
    let (status, logs) = served.terminate();
    assert!(status.success(), "{status:?}\n{logs}");
    assert!(
        logs.contains(&format!("\"arn\":\"{SERVICE_ARN}\"")),
        "{logs}"
    );
    assert!(
        !logs.contains(&key.secret_access_key),
        "no secret in the logs"
    );
}

fn self_signed() -> CertifiedKey<KeyPair> {
    rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap()
}

fn write_pair(dir: &Path, pair: &CertifiedKey<KeyPair>) {
    // Both files land at once, as with a Kubernetes Secret volume's symlink swap.
    let tmp = dir.join("..tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    std::fs::write(tmp.join("tls.crt"), pair.cert.pem()).unwrap();
    std::fs::write(tmp.join("tls.key"), pair.signing_key.serialize_pem()).unwrap();
    std::fs::rename(tmp.join("tls.key"), dir.join("tls.key")).unwrap();
    std::fs::rename(tmp.join("tls.crt"), dir.join("tls.crt")).unwrap();
}

type Tls = tokio_rustls::client::TlsStream<TcpStream>;

async fn tls_connect(port: u16, trusted: &[&CertifiedKey<KeyPair>]) -> std::io::Result<Tls> {
    let mut roots = rustls::RootCertStore::empty();
    for t in trusted {
        roots.add(t.cert.der().clone()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = TcpStream::connect(("127.0.0.1", port)).await?;
    tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect("localhost".try_into().unwrap(), tcp)
        .await
}

/// One keep-alive request on an open TLS connection; the status line.
async fn get_discovery(tls: &mut Tls) -> String {
    tls.write_all(b"GET /.well-known/tvm HTTP/1.1\r\nhost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tls.read(&mut buf).await.unwrap();
    String::from_utf8_lossy(&buf[..n])
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn leaf(tls: &Tls) -> Vec<u8> {
    tls.get_ref().1.peer_certificates().unwrap()[0].to_vec()
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_over_tls_picks_up_a_rotated_certificate_without_dropping_connections() {
    let sim = Simulator::new(Arc::new(SystemClock));
    let certs = tempfile::tempdir().unwrap();
    let (first, second) = (self_signed(), self_signed());
    write_pair(certs.path(), &first);
    let tls_yaml = format!(
        ", tls: {{cert_file: {0}/tls.crt, key_file: {0}/tls.key}}",
        certs.path().display()
    );
    let served = serve(&tls_yaml, &[], sim).await;
    let mut old = tls_connect(served.api, &[&first]).await.unwrap();
    assert_eq!(get_discovery(&mut old).await, "HTTP/1.1 200 OK");
    assert_eq!(leaf(&old), first.cert.der().to_vec());
    // Plain HTTP on the API port is refused: it only speaks TLS.
    let mut plain = TcpStream::connect(("127.0.0.1", served.api)).await.unwrap();
    plain
        .write_all(b"GET /.well-known/tvm HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 16];
    let n = plain.read(&mut buf).await.unwrap_or(0);
    assert!(!buf[..n].starts_with(b"HTTP/1.1 200"));
    // The admin port stays plain HTTP.
    let live = request("GET", &format!("{}/livez", served.admin_url()), &[], vec![]).await;
    assert_eq!(live.status, 200);

    write_pair(certs.path(), &second);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(mut new) = tls_connect(served.api, &[&first, &second]).await {
            if leaf(&new) == second.cert.der().to_vec() {
                assert_eq!(get_discovery(&mut new).await, "HTTP/1.1 200 OK");
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the new certificate was never served"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The connection opened before the rotation still works.
    assert_eq!(get_discovery(&mut old).await, "HTTP/1.1 200 OK");
    let m = request(
        "GET",
        &format!("{}/metrics", served.admin_url()),
        &[],
        vec![],
    )
    .await;
    assert_eq!(
        metric(&m.body, "tvm_tls_reloads_total{result=\"success\"}"),
        2.0
    );
    let refused = "tvm_connections_refused_total{listener=\"api\",reason=\"tls_handshake\"}";
    assert!(
        metric(&m.body, refused) >= 1.0,
        "the plain-HTTP attempt is a refused handshake"
    );
    let (status, logs) = served.terminate();
    assert!(status.success(), "{status:?}\n{logs}");
    assert!(logs.contains("TLS certificate reloaded"), "{logs}");
}
