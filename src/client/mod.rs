//! The client side of tvm: minting `tvm-v1` tokens from the caller's own AWS
//! credentials, `tvm token`, and `tvm credentials` (`credential_process`).
//!
//! Invariants: the caller's credentials only ever sign locally (they are never
//! sent anywhere); a token is bound to the exact body sent with it; vended
//! credentials are requested over TLS, or plain HTTP to loopback only.

mod http;
pub mod token;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::SystemTime;

use aws_credential_types::provider::ProvideCredentials;
use bytes::Bytes;
use clap::Args;
use serde::{Deserialize, Serialize};

pub use http::{check_base_url, ClientError};

/// `GET /.well-known/tvm`.
#[derive(Debug, Clone, Deserialize)]
pub struct Discovery {
    /// The audience tokens must be signed for.
    pub audience: String,
    /// Where tokens must be presigned for.
    pub sts_endpoint: String,
    /// The STS region.
    pub region: String,
    /// Token formats the server accepts.
    #[serde(default)]
    pub token_versions: Vec<String>,
}

/// The `POST /vend` answer.
#[derive(Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VendedCredentials {
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
    /// Session token.
    pub token: String,
    /// RFC 3339 expiry.
    pub expiration: String,
    /// The SourceIdentity stamp.
    pub source_identity: String,
    /// The role assumed.
    pub role_arn: String,
}

impl std::fmt::Debug for VendedCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VendedCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("expiration", &self.expiration)
            .field("source_identity", &self.source_identity)
            .field("role_arn", &self.role_arn)
            .finish_non_exhaustive()
    }
}

/// Fetches the discovery document.
pub async fn discover(base_url: &str) -> Result<Discovery, ClientError> {
    let base = check_base_url(base_url)?;
    let (status, body) = http::send(
        ::http::Method::GET,
        &format!("{base}/.well-known/tvm"),
        &[],
        Bytes::new(),
    )
    .await?;
    if status != 200 {
        return Err(ClientError::Status {
            status,
            body: String::from_utf8_lossy(&body).into_owned(),
        });
    }
    serde_json::from_slice(&body).map_err(|e| ClientError::Decode(e.to_string()))
}

/// Loads the caller's own credentials from the default AWS chain.
pub async fn default_credentials() -> Result<aws_credential_types::Credentials, ClientError> {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await;
    let provider = config
        .credentials_provider()
        .ok_or_else(|| ClientError::Credentials("no AWS credentials provider configured".into()))?;
    provider
        .provide_credentials()
        .await
        .map_err(|e| ClientError::Credentials(format!("cannot load AWS credentials: {e}")))
}

/// Vends credentials for `profile` from the tvm at `base_url`, proving the
/// caller's identity with `creds`.
pub async fn vend(
    base_url: &str,
    discovery: &Discovery,
    creds: &aws_credential_types::Credentials,
    profile: &str,
    duration_seconds: Option<u32>,
) -> Result<VendedCredentials, ClientError> {
    let base = check_base_url(base_url)?;
    let mut body = serde_json::json!({ "profile": profile });
    if let Some(d) = duration_seconds {
        body["duration_seconds"] = d.into();
    }
    let body = Bytes::from(body.to_string());
    let token = token::mint_tvm_v1(
        creds,
        &discovery.sts_endpoint,
        &discovery.region,
        &discovery.audience,
        &body,
        SystemTime::now(),
    )
    .map_err(|e| ClientError::Credentials(format!("cannot sign the caller proof: {e}")))?;
    let (status, resp) = http::send(
        ::http::Method::POST,
        &format!("{base}/vend"),
        &[
            ("authorization", format!("Bearer {token}")),
            ("content-type", "application/json".into()),
        ],
        body,
    )
    .await?;
    if status != 200 {
        return Err(ClientError::Status {
            status,
            body: String::from_utf8_lossy(&resp).into_owned(),
        });
    }
    serde_json::from_slice(&resp).map_err(|e| ClientError::Decode(e.to_string()))
}

/// `tvm token`.
#[derive(Debug, Args)]
pub struct TokenArgs {
    /// Read audience, STS endpoint and region from this tvm's /.well-known/tvm.
    #[arg(long)]
    pub url: Option<String>,
    /// The audience (the server's auth.audience).
    #[arg(long)]
    pub audience: Option<String>,
    /// The STS endpoint to presign for (default: the regional AWS endpoint).
    #[arg(long)]
    pub sts_endpoint: Option<String>,
    /// The region of the signature (default: us-east-1 or discovery).
    #[arg(long)]
    pub region: Option<String>,
    /// The file whose exact bytes will be the request body (`-` for stdin);
    /// default: empty body (GET /profiles).
    #[arg(long)]
    pub body: Option<PathBuf>,
}

/// `tvm credentials`.
#[derive(Debug, Args)]
pub struct CredentialsArgs {
    /// The tvm base URL, e.g. https://tvm.example.com.
    #[arg(long)]
    pub url: String,
    /// The profile to vend.
    #[arg(long)]
    pub profile: String,
    /// Session length in seconds (default: the profile's).
    #[arg(long)]
    pub duration: Option<u32>,
    /// The audience this tvm must announce. A proof signed for an audience works
    /// at whichever tvm uses it, so pin it when the URL could be mistyped or
    /// spoofed: tvm credentials refuses to sign for any other.
    #[arg(long)]
    pub audience: Option<String>,
}

/// Prints a token; exit 1 on failure.
pub async fn token_command(args: TokenArgs) -> ExitCode {
    match token_inner(args).await {
        Ok(token) => {
            println!("{token}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tvm token: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn token_inner(args: TokenArgs) -> Result<String, ClientError> {
    let discovered = match &args.url {
        Some(url) => Some(discover(url).await?),
        None => None,
    };
    let region = args
        .region
        .or_else(|| discovered.as_ref().map(|d| d.region.clone()))
        .unwrap_or_else(|| "us-east-1".into());
    let audience = args
        .audience
        .or_else(|| discovered.as_ref().map(|d| d.audience.clone()))
        .ok_or_else(|| ClientError::Url("give --audience or --url".into()))?;
    let endpoint = args
        .sts_endpoint
        .or_else(|| discovered.as_ref().map(|d| d.sts_endpoint.clone()))
        .unwrap_or_else(|| format!("https://sts.{region}.amazonaws.com"));
    let body = match args.body.as_deref() {
        None => Vec::new(),
        Some(p) if p.as_os_str() == "-" => {
            let mut buf = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)
                .map_err(|e| ClientError::Credentials(format!("cannot read stdin: {e}")))?;
            buf
        }
        Some(p) => std::fs::read(p)
            .map_err(|e| ClientError::Credentials(format!("cannot read {}: {e}", p.display())))?,
    };
    let creds = default_credentials().await?;
    token::mint_tvm_v1(
        &creds,
        &endpoint,
        &region,
        &audience,
        &body,
        SystemTime::now(),
    )
    .map_err(|e| ClientError::Credentials(format!("cannot sign the caller proof: {e}")))
}

/// The `credential_process` output (version 1).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CredentialProcess<'a> {
    version: u8,
    access_key_id: &'a str,
    secret_access_key: &'a str,
    session_token: &'a str,
    expiration: &'a str,
}

/// Prints `credential_process` JSON; exit 1 on failure.
pub async fn credentials_command(args: CredentialsArgs) -> ExitCode {
    let result = async {
        let discovery = discover(&args.url).await?;
        if let Some(want) = &args.audience {
            if *want != discovery.audience {
                return Err(ClientError::Url(format!(
                    "{} announces audience {:?}, not the pinned {want:?}; refusing to sign a proof for it",
                    args.url, discovery.audience
                )));
            }
        }
        let creds = default_credentials().await?;
        vend(&args.url, &discovery, &creds, &args.profile, args.duration).await
    }
    .await;
    match result {
        Ok(v) => {
            let out = CredentialProcess {
                version: 1,
                access_key_id: &v.access_key_id,
                secret_access_key: &v.secret_access_key,
                session_token: &v.token,
                expiration: &v.expiration,
            };
            match serde_json::to_string(&out) {
                Ok(s) => {
                    println!("{s}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("tvm credentials: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Err(e) => {
            eprintln!("tvm credentials: {e}");
            ExitCode::FAILURE
        }
    }
}
