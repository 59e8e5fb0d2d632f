//! [`Server`]: one tvm as the client sees it — the origin tokens are signed
//! for, where they are presigned, and the calls every command makes through it
//! (discovery, `POST /vend`, any signed request with retries).
//!
//! Invariants: the origin a token is signed for comes from the user's own input
//! (`--url`, or `--audience` for a port-forward), never from the server, and
//! discovery only fills in what the user did not give and fails early when the
//! server does not accept that origin; every attempt, retries included, carries
//! a token minted for it alone; a vend answer is used only after it passed
//! [`checked::vended`].

use std::time::{Instant, SystemTime};

use aws_credential_types::Credentials;
use bytes::Bytes;

use super::checked;
use super::error::ClientError;
use super::http::{self, check_base_url};
use super::retry;
use super::token::{self, Target};
use super::wire::{Discovery, VendRequest, VendedCredentials};
use crate::auth::Origin;

/// Fetches the discovery document of the tvm at `base` (already checked).
async fn discover(base: &str) -> Result<Discovery, ClientError> {
    let resp = http::send(
        ::http::Method::GET,
        &format!("{base}/.well-known/tvm"),
        &[],
        Bytes::new(),
    )
    .await?;
    if resp.status != 200 {
        return Err(ClientError::Status {
            status: resp.status,
            body: http::printable(&resp.body),
        });
    }
    let d: Discovery =
        serde_json::from_slice(&resp.body).map_err(|e| ClientError::Decode(e.to_string()))?;
    checked::discovery(&d)?;
    Ok(d)
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

impl ServerArgs {
    /// The base URL requests go to and the origin tokens are signed for, from
    /// the user's own input alone (no network: a cache hit needs nothing more).
    pub fn origins(&self) -> Result<(String, Origin), ClientError> {
        let origin = Origin::parse(self.url.trim())
            .map_err(|e| ClientError::Url(format!("--url {}: {e}", self.url)))?;
        let base = check_base_url(origin.as_str())?;
        let audience = match &self.audience {
            Some(a) => Origin::parse(a.trim())
                .map_err(|e| ClientError::Url(format!("--audience {a}: {e}")))?,
            None => origin,
        };
        Ok((base, audience))
    }
}

impl Server {
    /// Derives the origin from the user's own input, then reads the discovery
    /// document for what the user did not give (STS endpoint, region) and to
    /// fail early, with a clear message, when the server does not accept the
    /// origin — never to choose what to sign.
    pub async fn connect(args: &ServerArgs) -> Result<Self, ClientError> {
        let (base, audience) = args.origins()?;
        let (sts_endpoint, region) = match (&args.sts_endpoint, &args.region) {
            (Some(ep), Some(region)) => (ep.clone(), region.clone()),
            _ => {
                let d = discover(&base).await?;
                // Only parsed origins are shown: they are printable ASCII, so a
                // hostile server cannot put control sequences on the terminal.
                let accepted: Vec<Origin> = d
                    .audience
                    .iter()
                    .filter_map(|a| Origin::parse(a).ok())
                    .collect();
                if !accepted.contains(&audience) {
                    let names: Vec<&str> = accepted.iter().map(Origin::as_str).collect();
                    return Err(ClientError::Url(format!(
                        "the tvm at {base} accepts tokens for {}, not for {audience} (the origin {}); \
                         a token is only signed for the origin you call. Use the URL the service is \
                         published at. Pass --audience only for your own port-forward to that \
                         service: a server that asks you to sign for another origin may be \
                         relaying your token",
                        if names.is_empty() { "no valid origin".into() } else { names.join(", ") },
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

    /// `scheme://host[:port]` requests go to.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Sends one request, minting a fresh token for every attempt; retries 429
    /// and 503 answers with jittered backoff that honours `Retry-After`, within
    /// [`retry::RETRY_BUDGET`] in all. Returns the last status and body.
    pub async fn call(
        &self,
        creds: &Credentials,
        target: &Target,
        body: Bytes,
    ) -> Result<(u16, Bytes), ClientError> {
        self.call_with_query(creds, target, "", body).await
    }

    /// [`Server::call`] with a query string (`"status=pending"`, without the
    /// `?`) after the path; the token binds the method and path only (§2).
    pub async fn call_with_query(
        &self,
        creds: &Credentials,
        target: &Target,
        query: &str,
        body: Bytes,
    ) -> Result<(u16, Bytes), ClientError> {
        self.call_limited(creds, target, query, body, http::MAX_RESPONSE_BYTES)
            .await
    }

    /// [`Server::call_with_query`] whose answer may be up to
    /// `max_response_bytes` (a page of the audit export).
    pub(crate) async fn call_limited(
        &self,
        creds: &Credentials,
        target: &Target,
        query: &str,
        body: Bytes,
        max_response_bytes: usize,
    ) -> Result<(u16, Bytes), ClientError> {
        let started = Instant::now();
        let mut attempt = 0u32;
        loop {
            let resp = self
                .call_once(creds, target, query, body.clone(), max_response_bytes)
                .await?;
            if !retry::is_retryable(resp.status) {
                return Ok((resp.status, resp.body));
            }
            match retry::next_delay(attempt, resp.retry_after, started.elapsed()) {
                Some(wait) => tokio::time::sleep(wait).await,
                None => return Ok((resp.status, resp.body)),
            }
            attempt += 1;
        }
    }

    /// One attempt of [`Server::call`].
    async fn call_once(
        &self,
        creds: &Credentials,
        target: &Target,
        query: &str,
        body: Bytes,
        max_response_bytes: usize,
    ) -> Result<http::Response, ClientError> {
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
        http::send_limited(
            method,
            &if query.is_empty() {
                format!("{}{}", self.base, target.path())
            } else {
                format!("{}{}?{query}", self.base, target.path())
            },
            &headers,
            body,
            max_response_bytes,
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
        self.vend_with(
            creds,
            &VendRequest {
                profile: profile.to_owned(),
                duration_seconds,
                ..VendRequest::default()
            },
        )
        .await
    }

    /// Vends credentials for the request `req` (approval id or break-glass
    /// reason included).
    pub async fn vend_with(
        &self,
        creds: &Credentials,
        req: &VendRequest,
    ) -> Result<VendedCredentials, ClientError> {
        let body =
            Bytes::from(serde_json::to_vec(req).map_err(|e| ClientError::Decode(e.to_string()))?);
        let (status, resp) = self.call(creds, &Target::vend(), body).await?;
        if status != 200 {
            return Err(ClientError::Status {
                status,
                body: http::printable(&resp),
            });
        }
        let v: VendedCredentials =
            serde_json::from_slice(&resp).map_err(|e| ClientError::Decode(e.to_string()))?;
        checked::vended(&v)?;
        Ok(v)
    }
}
