//! The client side of tvm: minting `tvm-v1` tokens from the caller's own AWS
//! credentials, `tvm token`, and `tvm credentials` (`credential_process`).
//!
//! Invariants: the caller's credentials only ever sign locally (they are never
//! sent anywhere); a token is bound to the exact body, method and path sent with
//! it, and to the origin of the URL the user gave (`--url`, or `--audience` for a
//! port-forward) — never to anything the server announces, so a phishing or
//! hostile server cannot obtain a token that works at another tvm; vended
//! credentials are requested over TLS, or plain HTTP to loopback only.

mod http;
pub mod token;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::SystemTime;

use aws_credential_types::provider::ProvideCredentials;
use aws_credential_types::Credentials;
use bytes::Bytes;
use clap::Args;
use serde::{Deserialize, Serialize};

pub use http::{check_base_url, ClientError};
use token::Target;

use crate::auth::Origin;

/// `GET /.well-known/tvm`.
#[derive(Debug, Clone, Deserialize)]
pub struct Discovery {
    /// The origins the service accepts tokens for.
    pub audience: Vec<String>,
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

/// Fetches the discovery document of the tvm at `base` (already checked).
async fn discover(base: &str) -> Result<Discovery, ClientError> {
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
pub async fn default_credentials() -> Result<Credentials, ClientError> {
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

/// One tvm as the client sees it: where to send requests, which origin to sign
/// for, and where tokens are presigned.
#[derive(Debug, Clone)]
pub struct Server {
    /// `scheme://host[:port]` requests go to (from `--url`).
    base: String,
    /// The origin every token is signed for: the origin of `--url`, or the
    /// `--audience` the user gave for a port-forward. Never from the server.
    audience: Origin,
    /// The STS endpoint tokens are presigned for.
    sts_endpoint: String,
    /// The region of the signature.
    region: String,
}

/// What the user told the client about the server.
#[derive(Debug, Clone, Default)]
pub struct ServerArgs {
    /// `--url`.
    pub url: String,
    /// `--audience`: the public origin, when `--url` differs from it.
    pub audience: Option<String>,
    /// `--sts-endpoint`, else discovery.
    pub sts_endpoint: Option<String>,
    /// `--region`, else discovery.
    pub region: Option<String>,
}

impl Server {
    /// Derives the origin from the user's own input, then reads the discovery
    /// document for what the user did not give (STS endpoint, region) and to
    /// fail early, with a clear message, when the server does not accept the
    /// origin — never to choose what to sign.
    pub async fn connect(args: &ServerArgs) -> Result<Self, ClientError> {
        let origin = Origin::parse(args.url.trim())
            .map_err(|e| ClientError::Url(format!("--url {}: {e}", args.url)))?;
        let base = check_base_url(origin.as_str())?;
        let audience = match &args.audience {
            Some(a) => Origin::parse(a.trim())
                .map_err(|e| ClientError::Url(format!("--audience {a}: {e}")))?,
            None => origin,
        };
        let (sts_endpoint, region) = match (&args.sts_endpoint, &args.region) {
            (Some(ep), Some(region)) => (ep.clone(), region.clone()),
            _ => {
                let d = discover(&base).await?;
                if !d
                    .audience
                    .iter()
                    .any(|a| Origin::parse(a).is_ok_and(|o| o == audience))
                {
                    return Err(ClientError::Url(format!(
                        "the tvm at {base} accepts tokens for {}, not for {audience} (the origin {}); \
                         a token is only signed for the origin you call. Use the URL the service is \
                         published at, or, behind a port-forward, pass --audience with that origin",
                        d.audience.join(", "),
                        if args.audience.is_some() { "given with --audience" } else { "of --url" },
                    )));
                }
                (
                    args.sts_endpoint.clone().unwrap_or(d.sts_endpoint),
                    args.region.clone().unwrap_or(d.region),
                )
            }
        };
        Ok(Self {
            base,
            audience,
            sts_endpoint,
            region,
        })
    }

    /// The origin tokens are signed for.
    pub fn audience(&self) -> &Origin {
        &self.audience
    }

    /// A token for one request at `target` with exactly `body`.
    pub fn token(
        &self,
        creds: &Credentials,
        target: &Target,
        body: &[u8],
    ) -> Result<String, ClientError> {
        token::mint_tvm_v1(
            creds,
            &self.sts_endpoint,
            &self.region,
            &self.audience,
            target,
            body,
            SystemTime::now(),
        )
        .map_err(|e| ClientError::Credentials(format!("cannot sign the caller proof: {e}")))
    }

    /// Sends one request with a fresh token for it; returns status and body.
    pub async fn call(
        &self,
        creds: &Credentials,
        target: &Target,
        body: Bytes,
    ) -> Result<(u16, Bytes), ClientError> {
        let token = self.token(creds, target, &body)?;
        let method = ::http::Method::from_bytes(target.method().as_bytes())
            .map_err(|_| ClientError::Url("invalid method".into()))?;
        let mut headers = vec![
            ("authorization", format!("Bearer {token}")),
            ("x-tvm-audience", self.audience.as_str().to_owned()),
        ];
        if !body.is_empty() {
            headers.push(("content-type", "application/json".into()));
        }
        http::send(
            method,
            &format!("{}{}", self.base, target.path()),
            &headers,
            body,
        )
        .await
    }

    /// Vends credentials for `profile`, proving the caller's identity with `creds`.
    pub async fn vend(
        &self,
        creds: &Credentials,
        profile: &str,
        duration_seconds: Option<u32>,
    ) -> Result<VendedCredentials, ClientError> {
        let mut body = serde_json::json!({ "profile": profile });
        if let Some(d) = duration_seconds {
            body["duration_seconds"] = d.into();
        }
        let body = Bytes::from(body.to_string());
        let (status, resp) = self.call(creds, &Target::vend(), body).await?;
        if status != 200 {
            return Err(ClientError::Status {
                status,
                body: String::from_utf8_lossy(&resp).into_owned(),
            });
        }
        serde_json::from_slice(&resp).map_err(|e| ClientError::Decode(e.to_string()))
    }
}

/// `--audience` help, shared by the commands that sign.
const AUDIENCE_HELP: &str = "The public origin of the tvm (https://host[:port]) when --url is \
not it, e.g. through a port-forward. By default tokens are signed for the origin of --url; \
a token signed for one origin is refused everywhere else.";

/// `tvm token`.
#[derive(Debug, Args)]
pub struct TokenArgs {
    /// The tvm the token is for, e.g. https://tvm.example.com; the token is
    /// signed for its origin.
    #[arg(long)]
    pub url: String,
    /// The public origin, when `--url` is not it (the help text says more).
    #[arg(long, help = AUDIENCE_HELP)]
    pub audience: Option<String>,
    /// The STS endpoint to presign for (default: from the server's discovery).
    #[arg(long)]
    pub sts_endpoint: Option<String>,
    /// The region of the signature (default: from the server's discovery).
    #[arg(long)]
    pub region: Option<String>,
    /// The file whose exact bytes will be the request body (`-` for stdin);
    /// default: empty body.
    #[arg(long)]
    pub body: Option<PathBuf>,
    /// The request the token is for, `"METHOD /path"`; default `POST /vend`
    /// with --body, `GET /profiles` without.
    #[arg(long)]
    pub target: Option<String>,
}

/// `tvm credentials`.
#[derive(Debug, Args)]
pub struct CredentialsArgs {
    /// The tvm base URL, e.g. https://tvm.example.com (tokens are signed for its origin).
    #[arg(long)]
    pub url: String,
    /// The profile to vend.
    #[arg(long)]
    pub profile: String,
    /// Session length in seconds (default: the profile's).
    #[arg(long)]
    pub duration: Option<u32>,
    /// The public origin, when `--url` is not it (the help text says more).
    #[arg(long, help = AUDIENCE_HELP)]
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
    let body =
        match args.body.as_deref() {
            None => None,
            Some(p) if p.as_os_str() == "-" => {
                let mut buf = Vec::new();
                std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)
                    .map_err(|e| ClientError::Credentials(format!("cannot read stdin: {e}")))?;
                Some(buf)
            }
            Some(p) => Some(std::fs::read(p).map_err(|e| {
                ClientError::Credentials(format!("cannot read {}: {e}", p.display()))
            })?),
        };
    let target = match (&args.target, &body) {
        (Some(t), _) => Target::parse(t).map_err(|e| ClientError::Url(format!("--target: {e}")))?,
        (None, Some(_)) => Target::vend(),
        (None, None) => Target::profiles(),
    };
    let server = Server::connect(&ServerArgs {
        url: args.url,
        audience: args.audience,
        sts_endpoint: args.sts_endpoint,
        region: args.region,
    })
    .await?;
    let creds = default_credentials().await?;
    server.token(&creds, &target, body.as_deref().unwrap_or_default())
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
        let server = Server::connect(&ServerArgs {
            url: args.url.clone(),
            audience: args.audience.clone(),
            ..ServerArgs::default()
        })
        .await?;
        let creds = default_credentials().await?;
        server.vend(&creds, &args.profile, args.duration).await
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
