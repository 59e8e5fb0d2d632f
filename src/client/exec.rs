//! `tvm exec --url U --profile P -- CMD ARGS`: runs CMD with a container
//! credentials endpoint on loopback, so every AWS SDK and the AWS CLI in CMD
//! fetch (and refresh) tvm-vended credentials by themselves.
//!
//! Invariants: the endpoint listens on 127.0.0.1 only, on a random port, and
//! answers only a request whose `Authorization` equals a fresh random token
//! (constant-time compare; 401 otherwise); the child's environment loses every
//! variable an SDK would prefer to the endpoint ([`SCRUBBED`]); credentials are
//! vended afresh, with a fresh token, before they come near expiry; SIGINT and
//! SIGTERM are forwarded to the child, and tvm exits with its status (128+N
//! when a signal N ended it); the region of the caller's (scrubbed) profile is
//! passed on when the environment names none. Credentials are never printed or logged.

use std::ffi::OsString;
use std::process::ExitCode;
use std::sync::Arc;

use aws_credential_types::provider::SharedCredentialsProvider;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use clap::Args;
use jiff::{SignedDuration, Timestamp};
use subtle::ConstantTimeEq as _;
use tokio::sync::Mutex;

use super::cache::REFRESH_BEFORE_EXPIRY;
use super::commands::TvmArgs;
use super::{source, ClientError, Server, VendRequest, VendedCredentials};

/// Variables removed from the child's environment: each would win over the
/// container endpoint in an SDK's default chain.
pub const SCRUBBED: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    source::RECURSION_GUARD,
];

/// `tvm exec`.
#[derive(Debug, Args)]
pub struct ExecArgs {
    /// Which tvm, and whose credentials sign.
    #[command(flatten)]
    pub tvm: TvmArgs,
    /// What to vend.
    #[command(flatten)]
    pub vend: super::commands::VendArgs,
    /// The command to run, after `--`.
    #[arg(last = true, required = true, num_args = 1..)]
    pub command: Vec<OsString>,
}

/// Keeps the current credentials and vends new ones before they expire.
struct Vendor {
    server: Server,
    caller: SharedCredentialsProvider,
    request: VendRequest,
    /// The current credentials and when they were vended.
    current: Mutex<(VendedCredentials, Timestamp)>,
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

/// Runs `tvm exec`; the exit code is the child's.
pub async fn exec_command(args: ExecArgs) -> ExitCode {
    match run(args).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("tvm exec: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: ExecArgs) -> Result<ExitCode, ClientError> {
    let server = args.tvm.connect().await?;
    let config = source::load_config(args.tvm.caller.profile()).await;
    let caller = source::provider_of(&config)?;
    let request = args.vend.request();
    // Vend once before starting the child: a denial fails here, not inside CMD.
    let first = server
        .vend_with(&source::load(&caller).await?, &request)
        .await?;
    let token = hex::encode(rand::random::<[u8; 32]>());
    let endpoint = Arc::new(Endpoint {
        vendor: Vendor {
            server,
            caller,
            request,
            current: Mutex::new((first, Timestamp::now())),
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

    let mut cmd = tokio::process::Command::new(&args.command[0]);
    cmd.args(&args.command[1..]);
    for var in SCRUBBED {
        cmd.env_remove(var);
    }
    cmd.env(
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        format!("http://{addr}/"),
    )
    .env("AWS_CONTAINER_AUTHORIZATION_TOKEN", &token);
    // The profile that gave the region is gone from the child's environment:
    // keep its region (both names: boto3 reads only AWS_DEFAULT_REGION).
    let region_set = ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()));
    if let (false, Some(region)) = (region_set, config.region()) {
        cmd.env("AWS_REGION", region.as_ref())
            .env("AWS_DEFAULT_REGION", region.as_ref());
    }
    let mut child = cmd.spawn().map_err(|e| {
        ClientError::Credentials(format!(
            "cannot run {}: {e}",
            args.command[0].to_string_lossy()
        ))
    })?;
    let status = wait_forwarding_signals(&mut child).await?;
    serving.abort();
    Ok(exit_code(status))
}

/// Waits for `child`, passing SIGINT and SIGTERM on to it.
async fn wait_forwarding_signals(
    child: &mut tokio::process::Child,
) -> Result<std::process::ExitStatus, ClientError> {
    use tokio::signal::unix::{signal, SignalKind};
    let io = |e: std::io::Error| ClientError::Transport(e.to_string());
    let mut int = signal(SignalKind::interrupt()).map_err(io)?;
    let mut term = signal(SignalKind::terminate()).map_err(io)?;
    let pid = child
        .id()
        .and_then(|p| i32::try_from(p).ok())
        .and_then(rustix::process::Pid::from_raw);
    let forward = |sig: rustix::process::Signal| {
        if let Some(pid) = pid {
            let _ = rustix::process::kill_process(pid, sig);
        }
    };
    loop {
        tokio::select! {
            status = child.wait() => return status.map_err(io),
            _ = int.recv() => forward(rustix::process::Signal::INT),
            _ = term.recv() => forward(rustix::process::Signal::TERM),
        }
    }
}

/// The child's exit code, or 128+N when signal N ended it.
fn exit_code(status: std::process::ExitStatus) -> ExitCode {
    use std::os::unix::process::ExitStatusExt as _;
    match (status.code(), status.signal()) {
        (Some(c), _) => ExitCode::from(u8::try_from(c).unwrap_or(1)),
        (None, Some(n)) => ExitCode::from(u8::try_from(128 + n).unwrap_or(255)),
        (None, None) => ExitCode::FAILURE,
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
