//! tvm's production STS client: `AssumeRole` (on every vend) and
//! `GetCallerIdentity` (the start-up self-check), signed with SigV4 and sent on
//! the pooled client the verifier uses ([`crate::upstream::transport`]).
//!
//! Owns: [`AwsSts`], its endpoint, credentials ([`creds`]), signing ([`sign`]),
//! form bodies ([`form`]) and answer reading ([`answer`]), and the retry rule.
//! It replaced `aws-sdk-sts` on the vend path, whose per-call machinery was half
//! of a vend's instructions; [`crate::sts::sdk::SdkSts`] stays as the reference
//! the tests hold this client to.
//!
//! Invariants: the endpoint is resolved once, as the SDK would (`endpoint_url`,
//! else the SDK's own resolver for the region, FIPS and dual-stack settings);
//! plain http only if that endpoint is http; one retry ([`MAX_ATTEMPTS`]), only
//! after throttling or a 5xx, each attempt freshly signed; the whole call is
//! bounded by [`OPERATION_TIMEOUT`]; errors are classified by [`answer`].

mod answer;
mod creds;
pub(super) mod form;
pub(super) mod sign;

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use aws_config::{BehaviorVersion, Region};
use bytes::Bytes;
use jiff::Timestamp;
use rand::Rng;

use super::{AssumeRoleInput, AssumedRole, CallerIdentity, Sts, StsError};
use crate::upstream::transport::{HyperTransport, TransportResponse};

/// Time allowed for one call including its retry (defined in
/// [`crate::config`], whose `server.request_timeout` must outlive it, so the
/// caller gets an STS error, not a generic timeout).
pub use crate::config::OPERATION_TIMEOUT;
/// Attempts per call: one retry, after throttling or a 5xx.
pub const MAX_ATTEMPTS: u32 = 2;
/// The longest pause before the retry (a random part of it, as the SDK's
/// standard retry's first backoff).
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// Where calls go, resolved once.
#[derive(Debug, Clone)]
struct Target {
    /// `scheme://authority/`.
    uri: http::Uri,
    /// The `host` header, signed: the authority without a default port.
    host: String,
}

/// The STS client (see the module docs).
pub struct AwsSts {
    target: Result<Target, String>,
    region: String,
    transport: Result<HyperTransport, String>,
    credentials: creds::CredentialCache,
}

impl fmt::Debug for AwsSts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsSts")
            .field("target", &self.target)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

impl AwsSts {
    /// The client for `region`, at `endpoint_url` if given, with explicit
    /// credentials or (when `None`) the default aws-config chain. A setup
    /// problem (no endpoint, no TLS roots) makes every call fail `Unavailable`
    /// with the reason, which the start-up self-check reports.
    pub async fn new(
        region: &str,
        endpoint_url: Option<&str>,
        credentials: Option<aws_credential_types::Credentials>,
    ) -> Self {
        let mut loader =
            aws_config::defaults(BehaviorVersion::latest()).region(Region::new(region.to_owned()));
        if let Some(creds) = credentials {
            loader = loader.credentials_provider(creds);
        }
        let shared = loader.load().await;
        let url = match endpoint_url.or(shared.endpoint_url()) {
            Some(url) => Ok(url.to_owned()),
            None => resolve(region, &shared).await,
        };
        let target = url.and_then(|u| target(&u));
        let transport = match &target {
            Ok(t) => {
                HyperTransport::new(t.uri.scheme_str() == Some("http")).map_err(|e| e.to_string())
            }
            Err(e) => Err(e.clone()),
        };
        Self {
            target,
            region: region.to_owned(),
            transport,
            credentials: creds::CredentialCache::new(shared.credentials_provider()),
        }
    }

    /// Sends `body` (signed afresh for each attempt) and returns a 2xx answer.
    async fn call(&self, body: String) -> Result<TransportResponse, StsError> {
        let work = async {
            let mut attempt = 1;
            loop {
                let response = self.attempt(&body).await?;
                let status = response.status.as_u16();
                if (200..300).contains(&status) {
                    return Ok(response);
                }
                let error = answer::classify(&response);
                if attempt >= MAX_ATTEMPTS || !answer::retryable(status, &error) {
                    return Err(error);
                }
                attempt += 1;
                let pause = rand::rng().random_range(Duration::ZERO..=MAX_BACKOFF);
                tokio::time::sleep(pause).await;
            }
        };
        tokio::time::timeout(OPERATION_TIMEOUT, work)
            .await
            .map_err(|_| StsError::Unavailable(format!("no answer within {OPERATION_TIMEOUT:?}")))?
    }

    async fn attempt(&self, body: &str) -> Result<TransportResponse, StsError> {
        let target = self
            .target
            .as_ref()
            .map_err(|e| StsError::Unavailable(e.clone()))?;
        let transport = self
            .transport
            .as_ref()
            .map_err(|e| StsError::Unavailable(e.clone()))?;
        let snapshot = self.credentials.get().await?;
        let signed = sign::sign(
            &snapshot.credentials,
            &snapshot.keys,
            &self.region,
            &target.host,
            body.as_bytes(),
            Timestamp::now(),
        );
        let mut request = http::Request::post(target.uri.clone())
            .header(http::header::HOST, &target.host)
            .header(http::header::CONTENT_TYPE, sign::CONTENT_TYPE)
            .header("x-amz-date", &signed.amz_date)
            .header(http::header::AUTHORIZATION, &signed.authorization);
        if let Some(token) = &signed.security_token {
            request = request.header("x-amz-security-token", token);
        }
        let request = request
            .body(Bytes::copy_from_slice(body.as_bytes()))
            .map_err(|e| StsError::Unavailable(format!("cannot build the STS request: {e}")))?;
        transport
            .send_bytes(request)
            .await
            .map_err(|e| StsError::Unavailable(e.to_string()))
    }
}

/// The SDK's own endpoint for STS in `region` with `shared`'s FIPS and
/// dual-stack settings.
async fn resolve(region: &str, shared: &aws_config::SdkConfig) -> Result<String, String> {
    use aws_sdk_sts::config::endpoint::{DefaultResolver, Params, ResolveEndpoint};
    let params = Params::builder()
        .region(region)
        .use_fips(shared.use_fips().unwrap_or(false))
        .use_dual_stack(shared.use_dual_stack().unwrap_or(false))
        .build()
        .map_err(|e| format!("cannot resolve the STS endpoint: {e}"))?;
    DefaultResolver::new()
        .resolve_endpoint(&params)
        .await
        .map(|e| e.url().to_owned())
        .map_err(|e| format!("cannot resolve the STS endpoint for {region}: {e}"))
}

/// `url` as a target: http(s), an authority, no path other than `/`, no query.
fn target(url: &str) -> Result<Target, String> {
    let bad = || format!("STS endpoint {url:?} is not scheme://host[:port]");
    let parsed: http::Uri = url.parse().map_err(|_| bad())?;
    let scheme = parsed.scheme_str().ok_or_else(bad)?;
    let authority = parsed.authority().ok_or_else(bad)?;
    if !matches!(scheme, "http" | "https")
        || !matches!(parsed.path(), "" | "/")
        || parsed.query().is_some()
        || authority.as_str().contains('@')
    {
        return Err(bad());
    }
    let default_port = if scheme == "https" { 443 } else { 80 };
    let host = match authority.port_u16() {
        Some(p) if p == default_port => authority.host().to_owned(),
        _ => authority.as_str().to_owned(),
    };
    let uri = http::Uri::builder()
        .scheme(scheme)
        .authority(authority.clone())
        .path_and_query("/")
        .build()
        .map_err(|_| bad())?;
    Ok(Target { uri, host })
}

#[async_trait]
impl Sts for AwsSts {
    async fn assume_role(&self, input: AssumeRoleInput) -> Result<AssumedRole, StsError> {
        let body = form::assume_role(&input)?;
        answer::assumed_role(&self.call(body).await?)
    }

    async fn get_caller_identity(&self) -> Result<CallerIdentity, StsError> {
        answer::caller_identity(&self.call(form::GET_CALLER_IDENTITY.to_owned()).await?)
    }
}

#[cfg(test)]
mod tests;
