//! `tvm dev`'s own webhook receiver: a `break_glass` rule needs a webhook
//! subscribed to `break_glass.used` (DESIGN §12), so `tvm dev` runs a small
//! receiver on loopback and prints each event it gets, as a real receiver
//! would see it.
//!
//! Invariants: it listens on 127.0.0.1 only; an event is printed only when its
//! signature (`X-Tvm-Signature: sha256={HMAC-SHA256 of "{timestamp}.{body}"}`)
//! verifies with the secret and its timestamp is within five minutes, as
//! DESIGN §12 tells receivers to check; what it prints has control characters
//! escaped.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::net::TcpListener;

/// Oldest timestamp a receiver accepts (DESIGN §12: 5 minutes).
const MAX_AGE_SECS: i64 = 300;

/// The running receiver.
#[derive(Debug)]
pub struct WebhookSink {
    /// Where tvm POSTs events.
    pub url: String,
    /// The file holding the shared secret (0600).
    pub secret_file: PathBuf,
    /// The events received and verified so far, in order.
    received: Arc<Mutex<Vec<String>>>,
}

impl WebhookSink {
    /// Waits up to `within` for a verified `event`; whether it came.
    pub async fn wait_for(&self, event: &str, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let seen = self
                .received
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .any(|e| e == event);
            if seen {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// The receiver's state: the secret and what it has seen.
#[derive(Clone)]
struct Receiver {
    secret: Arc<Vec<u8>>,
    received: Arc<Mutex<Vec<String>>>,
}

/// Whether `signature` is the §12 signature of `body` at `timestamp` under
/// `secret`, and `timestamp` is within [`MAX_AGE_SECS`] of `now`.
pub fn verify(secret: &[u8], timestamp: &str, signature: &str, body: &[u8], now: i64) -> bool {
    let Ok(ts) = timestamp.parse::<i64>() else {
        return false;
    };
    if (now - ts).abs() > MAX_AGE_SECS {
        return false;
    }
    let Some(hex_sig) = signature.strip_prefix("sha256=") else {
        return false;
    };
    let Ok(sig) = hex::decode(hex_sig) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&sig).is_ok()
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |k: &str| {
        headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let now = jiff::Timestamp::now().as_second();
    if !verify(
        &r.secret,
        &header("x-tvm-timestamp"),
        &header("x-tvm-signature"),
        &body,
        now,
    ) {
        println!("webhook: refused an event with a bad signature");
        return StatusCode::UNAUTHORIZED;
    }
    #[derive(serde::Deserialize)]
    struct Event {
        event: String,
        text: String,
    }
    match serde_json::from_slice::<Event>(&body) {
        Ok(e) => {
            let clean = |s: &str| -> String {
                s.chars()
                    .map(|c| if c.is_control() { ' ' } else { c })
                    .collect()
            };
            println!("webhook {}: {}", clean(&e.event), clean(&e.text));
            r.received
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(e.event);
            StatusCode::OK
        }
        Err(_) => StatusCode::BAD_REQUEST,
    }
}

/// Writes a fresh secret to `dir/webhook-secret` and serves the receiver on
/// 127.0.0.1 until the process ends.
pub async fn start(dir: &Path) -> std::io::Result<WebhookSink> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let secret = {
        use rand::TryRngCore;
        let mut b = [0u8; 32];
        rand::rngs::OsRng
            .try_fill_bytes(&mut b)
            .map_err(std::io::Error::other)?;
        hex::encode(b)
    };
    let secret_file = dir.join("webhook-secret");
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&secret_file)?
        .write_all(secret.as_bytes())?;
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    let received = Arc::new(Mutex::new(Vec::new()));
    let app = axum::Router::new()
        .route("/hook", post(receive))
        .with_state(Receiver {
            secret: Arc::new(secret.into_bytes()),
            received: received.clone(),
        });
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(WebhookSink {
        url,
        secret_file,
        received,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(secret: &[u8], ts: &str, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
        mac.update(format!("{ts}.").as_bytes());
        mac.update(body);
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    }

    #[test]
    fn only_fresh_events_signed_with_the_secret_pass() {
        let body = br#"{"id":"x","event":"break_glass.used","text":"t","request":{}}"#;
        let sig = sign(b"s3cret", "1000", body);
        assert!(verify(b"s3cret", "1000", &sig, body, 1_100));
        assert!(!verify(b"other", "1000", &sig, body, 1_100));
        assert!(!verify(b"s3cret", "1001", &sig, body, 1_100));
        assert!(!verify(b"s3cret", "1000", &sig, b"{}", 1_100));
        assert!(!verify(b"s3cret", "1000", &sig, body, 1_301), "too old");
        assert!(!verify(b"s3cret", "1000", &sig[7..], body, 1_100));
    }
}
