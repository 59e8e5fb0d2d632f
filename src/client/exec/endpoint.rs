//! The loopback container-credentials endpoint of `tvm exec`: what every AWS
//! SDK's container provider calls (`AWS_CONTAINER_CREDENTIALS_FULL_URI` with
//! `AWS_CONTAINER_AUTHORIZATION_TOKEN`).
//!
//! Invariants: it listens on 127.0.0.1 only, on a random port, and answers
//! only a request whose `Authorization` equals a fresh random token
//! (constant-time compare; 401 otherwise); credentials are vended afresh, with
//! a fresh token, before they come near expiry ([`needs_refresh`]); they are
//! never printed or logged.

use std::sync::Arc;

use aws_credential_types::provider::SharedCredentialsProvider;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use jiff::{SignedDuration, Timestamp};
use subtle::ConstantTimeEq as _;
use tokio::sync::Mutex;

use crate::client::cache::REFRESH_BEFORE_EXPIRY;
use crate::client::{source, ClientError, Server, VendRequest, VendedCredentials};

/// A running endpoint: where it listens and the token it wants.
pub struct Running {
    /// `http://127.0.0.1:PORT/`.
    pub uri: String,
    /// The `Authorization` value it accepts (64 hex digits).
    pub token: String,
    serving: tokio::task::JoinHandle<std::io::Result<()>>,
    /// The access key ids of every session vended for the command, the
    /// first included (what `--revoke-on-exit` ends).
    vended: Arc<std::sync::Mutex<Vec<String>>>,
}

impl Running {
    /// The access key ids of every session the command was given.
    pub fn vended(&self) -> Vec<String> {
        self.vended
            .lock()
            .map(|v| v.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.serving.abort();
    }
}

/// Starts the endpoint, serving `first` until it needs a refresh.
pub async fn start(
    server: Server,
    caller: SharedCredentialsProvider,
    request: VendRequest,
    first: VendedCredentials,
) -> Result<Running, ClientError> {
    let token = hex::encode(rand::random::<[u8; 32]>());
    let vended = Arc::new(std::sync::Mutex::new(vec![first.access_key_id.clone()]));
    let endpoint = Arc::new(Endpoint {
        vendor: Vendor {
            server,
            caller,
            request,
            current: Mutex::new((first, Timestamp::now())),
            vended: vended.clone(),
        },
        token: token.clone(),
    });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(|e| ClientError::Transport(format!("cannot listen on 127.0.0.1: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| ClientError::Transport(e.to_string()))?;
    let app = axum::Router::new()
        .route("/", axum::routing::get(serve_credentials))
        .with_state(endpoint);
    let serving = tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(Running {
        uri: format!("http://{addr}/"),
        token,
        serving,
        vended,
    })
}

/// Keeps the current credentials and vends new ones before they expire.
struct Vendor {
    server: Server,
    caller: SharedCredentialsProvider,
    request: VendRequest,
    /// The current credentials and when they were vended.
    current: Mutex<(VendedCredentials, Timestamp)>,
    /// Every session vended so far (shared with [`Running`]).
    vended: Arc<std::sync::Mutex<Vec<String>>>,
}

impl Vendor {
    /// The current credentials, vended afresh once less than
    /// [`REFRESH_BEFORE_EXPIRY`] (or half their lifetime, if shorter) is left.
    async fn credentials(&self) -> Result<VendedCredentials, ClientError> {
        let mut current = self.current.lock().await;
        let now = Timestamp::now();
        if needs_refresh(&current.0, current.1, now) {
            let creds = source::load(&self.caller).await?;
            let fresh = self.server.vend_with(&creds, &self.request).await?;
            if let Ok(mut v) = self.vended.lock() {
                v.push(fresh.access_key_id.clone());
            }
            *current = (fresh, now);
        }
        Ok(current.0.clone())
    }
}

/// Whether credentials vended at `vended_at` must be replaced at `now`.
fn needs_refresh(v: &VendedCredentials, vended_at: Timestamp, now: Timestamp) -> bool {
    let Ok(exp) = v.expiration.parse::<Timestamp>() else {
        return true;
    };
    let lifetime = exp.duration_since(vended_at);
    let margin = SignedDuration::try_from(REFRESH_BEFORE_EXPIRY)
        .unwrap_or_default()
        .min(lifetime / 2);
    exp.duration_since(now) <= margin
}

/// The endpoint's state.
struct Endpoint {
    vendor: Vendor,
    token: String,
}

/// `GET` on the endpoint: the container-credentials JSON, for the token only.
async fn serve_credentials(State(ep): State<Arc<Endpoint>>, headers: HeaderMap) -> Response {
    let authorized = headers
        .get(header::AUTHORIZATION)
        .is_some_and(|v| bool::from(v.as_bytes().ct_eq(ep.token.as_bytes())));
    if !authorized {
        return (
            StatusCode::UNAUTHORIZED,
            Json(serde_json::json!({"Code": "UNAUTHORIZED", "Message": "missing or wrong authorization token"})),
        )
            .into_response();
    }
    match ep.vendor.credentials().await {
        Ok(v) => Json(serde_json::json!({
            "AccessKeyId": v.access_key_id,
            "SecretAccessKey": v.secret_access_key,
            "Token": v.token,
            "Expiration": v.expiration,
        }))
        .into_response(),
        Err(e) => {
            eprintln!("tvm exec: {e}");
            (
                StatusCode::BAD_GATEWAY,
                Json(serde_json::json!({"Code": "TVM_ERROR", "Message": e.to_string()})),
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(exp: Timestamp) -> VendedCredentials {
        VendedCredentials {
            access_key_id: "ASIA".into(),
            secret_access_key: String::new(),
            token: String::new(),
            expiration: exp.to_string(),
            source_identity: String::new(),
            role_arn: String::new(),
        }
    }

    #[test]
    fn refreshes_five_minutes_before_expiry_or_at_half_life() {
        let t0: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let hour = creds(t0 + SignedDuration::from_hours(1));
        assert!(!needs_refresh(
            &hour,
            t0,
            t0 + SignedDuration::from_mins(54)
        ));
        assert!(needs_refresh(&hour, t0, t0 + SignedDuration::from_mins(55)));
        let short = creds(t0 + SignedDuration::from_secs(4));
        assert!(!needs_refresh(
            &short,
            t0,
            t0 + SignedDuration::from_secs(1)
        ));
        assert!(needs_refresh(&short, t0, t0 + SignedDuration::from_secs(2)));
        let mut broken = hour.clone();
        broken.expiration = "soon".into();
        assert!(needs_refresh(&broken, t0, t0));
    }
}
