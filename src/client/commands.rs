//! The commands that print what one tvm gives: `tvm token` (a token for curl
//! and scripts) and `tvm credentials` (`credential_process` JSON, cached), and
//! the arguments every client command shares ([`TvmArgs`], [`CallerArgs`],
//! [`VendArgs`]).
//!
//! Invariants: nothing secret is printed except the credentials on stdout that
//! `credential_process` asks for; a failure is one line on stderr with the
//! server's `Code` and `RequestId`, and exit 1. Like every client command, this
//! file imports only from the client's lower files and the layers below
//! (never from `crate::cli`, which parses the command line and calls in here).

use std::path::PathBuf;
use std::process::ExitCode;

use aws_credential_types::Credentials;
use clap::Args;
use serde::Serialize;

use super::error::ClientError;
use super::server::{Server, ServerArgs};
use super::token::Target;
use super::wire::{VendRequest, VendedCredentials};
use super::{cache, caller_key, source};

/// The environment variable every client command's `--url` defaults to
/// (DESIGN §13).
pub const TVM_URL_ENV: &str = "TVM_URL";

/// `--audience` help, shared by the commands that sign.
pub(crate) const AUDIENCE_HELP: &str =
    "The public origin of the tvm (https://host[:port]) when --url is \
not it, e.g. through a port-forward. By default tokens are signed for the origin of --url; \
a token signed for one origin is refused everywhere else.";

/// `tvm token`.
#[derive(Debug, Args)]
pub struct TokenArgs {
    /// The tvm the token is for, e.g. https://tvm.example.com; the token is
    /// signed for its origin. Default: the TVM_URL environment variable.
    #[arg(long, env = TVM_URL_ENV)]
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
    /// Where your own AWS credentials come from.
    #[command(flatten)]
    pub caller: CallerArgs,
}

/// `tvm credentials`.
#[derive(Debug, Args)]
pub struct CredentialsArgs {
    /// Which tvm, and whose credentials sign.
    #[command(flatten)]
    pub tvm: TvmArgs,
    /// What to vend.
    #[command(flatten)]
    pub vend: VendArgs,
    /// Neither read nor write the credentials cache.
    #[arg(long)]
    pub no_cache: bool,
}

/// What a vend asks for: `tvm credentials` and `tvm exec` take the same.
#[derive(Debug, Clone, Args)]
pub struct VendArgs {
    /// The profile to vend.
    #[arg(long)]
    pub profile: String,
    /// Session length in seconds (default: the profile's).
    #[arg(long)]
    pub duration: Option<u32>,
    /// Use the grant of this approved request (docs/protocol.md §4); `tvm exec`'s
    /// refreshed sessions stay under it until it ends.
    #[arg(long, conflicts_with = "reason")]
    pub approval_id: Option<String>,
    /// Break-glass: vend at once, with this reason, notified on every vend.
    /// `tvm credentials` caches such a session only under this exact reason,
    /// so a call without it (or with another reason) never gets it; `tvm exec`
    /// does not use the cache.
    #[arg(long)]
    pub reason: Option<String>,
}

impl VendArgs {
    /// The `POST /vend` body these arguments ask for.
    pub fn request(&self) -> VendRequest {
        VendRequest {
            profile: self.profile.clone(),
            duration_seconds: self.duration,
            approval_id: self.approval_id.clone(),
            reason: self.reason.clone(),
        }
    }
}

/// Where the caller's own AWS credentials come from.
#[derive(Debug, Clone, Args)]
pub struct CallerArgs {
    /// The AWS profile whose credentials sign your requests to tvm (default:
    /// AWS_PROFILE, else the default chain: environment, SSO, web identity,
    /// container, IMDS...).
    #[arg(long, value_name = "NAME")]
    pub aws_profile: Option<String>,
}

/// Which tvm to call and whose credentials sign: what every command that talks
/// to tvm with the caller's own credentials takes.
#[derive(Debug, Clone, Args)]
pub struct TvmArgs {
    /// The tvm base URL, e.g. https://tvm.example.com (tokens are signed for
    /// its origin). Default: the TVM_URL environment variable.
    #[arg(long, env = TVM_URL_ENV)]
    pub url: String,
    /// The public origin, when `--url` is not it (the help text says more).
    #[arg(long, help = AUDIENCE_HELP)]
    pub audience: Option<String>,
    /// Where your own AWS credentials come from.
    #[command(flatten)]
    pub caller: CallerArgs,
}

impl TvmArgs {
    /// What the user said about the server.
    pub fn server_args(&self) -> ServerArgs {
        ServerArgs {
            url: self.url.clone(),
            audience: self.audience.clone(),
            ..ServerArgs::default()
        }
    }

    /// The server, with the origin derived from `--url` / `--audience`.
    pub async fn connect(&self) -> Result<Server, ClientError> {
        Server::connect(&self.server_args()).await
    }

    /// The caller's own credentials (`--aws-profile`, else the default chain).
    pub async fn credentials(&self) -> Result<Credentials, ClientError> {
        source::load(&source::provider(self.caller.profile()).await?).await
    }
}

impl CallerArgs {
    /// `--aws-profile`.
    pub fn profile(&self) -> Option<&str> {
        self.aws_profile.as_deref().filter(|p| !p.is_empty())
    }
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
    let creds = source::load(&source::provider(args.caller.profile()).await?).await?;
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

/// `v` as `credential_process` JSON (one line).
pub(super) fn credential_process_json(v: &VendedCredentials) -> Result<String, ClientError> {
    serde_json::to_string(&CredentialProcess {
        version: 1,
        access_key_id: &v.access_key_id,
        secret_access_key: &v.secret_access_key,
        session_token: &v.token,
        expiration: &v.expiration,
    })
    .map_err(|e| ClientError::Decode(e.to_string()))
}

/// Prints `credential_process` JSON; exit 1 on failure.
pub async fn credentials_command(args: CredentialsArgs) -> ExitCode {
    let printed = credentials(&args)
        .await
        .and_then(|v| credential_process_json(&v));
    match printed {
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

/// The credentials for `args`: from the cache when a trusted, fresh entry is
/// there — with no network call at all, so a cached session outlives a tvm
/// outage — else vended (and cached unless `--no-cache`; break-glass sessions
/// under their reason only).
pub(super) async fn credentials(args: &CredentialsArgs) -> Result<VendedCredentials, ClientError> {
    let server_args = args.tvm.server_args();
    let (_, audience) = server_args.origins()?;
    let cache = (!args.no_cache)
        .then(cache::default_dir)
        .flatten()
        .and_then(cache::Cache::open);
    let key = match &cache {
        // Who the caller is, told offline; when it cannot be, nothing is cached.
        Some(_) => caller_key::caller_key(args.tvm.caller.profile())
            .await
            .map(|caller| cache::CacheKey {
                origin: audience.as_str().to_owned(),
                profile: args.vend.profile.clone(),
                duration: args.vend.duration,
                caller,
                approval_id: args.vend.approval_id.clone(),
                reason: args.vend.reason.clone(),
            }),
        None => None,
    };
    if let (Some(c), Some(k)) = (&cache, &key) {
        if let Some(hit) = c.get(k, jiff::Timestamp::now()) {
            return Ok(hit);
        }
    }
    let server = Server::connect(&server_args).await?;
    let creds = args.tvm.credentials().await?;
    let vended = server.vend_with(&creds, &args.vend.request()).await?;
    if let (Some(c), Some(k)) = (&cache, &key) {
        if let Err(e) = c.put(k, &vended) {
            eprintln!("tvm credentials: not cached: {e}");
        }
    }
    Ok(vended)
}
