//! Pre-built shots for the load generator, made before the timed phase on
//! every core: a unique `tvm-v1` token per vend (minted by the client's own
//! [`mint_tvm_v1`]), or for the direct ceiling the same two STS calls a vend
//! makes (the caller's presigned GetCallerIdentity from such a token, and an
//! AssumeRole signed with tvm's key, as `aws-sdk-sts` would send it).
//!
//! Invariants: every token carries a fresh nonce (the client's minting code
//! guarantees it), so no shot is a replay; secrets only sign and are never
//! placed in a shot.

use std::net::SocketAddr;
use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use base64::Engine;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method};

use super::error::BenchError;
use super::load::{Prepared, Shot};
use crate::auth::{body_sha256, Origin};
use crate::client::token::{mint_tvm_v1, Target};
use crate::commands::sim::SimKey;

/// The region everything is signed for.
pub(crate) const BENCH_REGION: &str = "us-east-1";

/// The vend body every shot sends.
pub(crate) const VEND_BODY: &[u8] = br#"{"profile":"bench"}"#;

/// The AssumeRole form the direct ceiling sends (the bench profile's role).
const ASSUME_ROLE_FORM: &str = "Action=AssumeRole&Version=2011-06-15\
    &RoleArn=arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2FTvmDemoReadOnly\
    &RoleSessionName=tvm-alice-bench&SourceIdentity=tvm.alice.direct.000000000000\
    &DurationSeconds=3600";

/// Where the shots go and who signs them.
#[derive(Debug, Clone)]
pub(crate) struct Signers {
    /// The caller's key (tokens).
    pub(crate) caller: SimKey,
    /// tvm's own key (the direct AssumeRole).
    pub(crate) service: SimKey,
    /// The upstream STS address.
    pub(crate) sts: SocketAddr,
    /// tvm's API address (the audience).
    pub(crate) tvm: SocketAddr,
}

fn creds(key: &SimKey) -> Credentials {
    Credentials::new(
        &key.access_key_id,
        &key.secret_access_key,
        None,
        None,
        "tvm-bench",
    )
}

fn header(map: &mut HeaderMap, name: &str, value: &str) -> Result<(), BenchError> {
    let name =
        HeaderName::from_bytes(name.as_bytes()).map_err(|e| BenchError::Prepare(e.to_string()))?;
    let value = HeaderValue::from_str(value).map_err(|e| BenchError::Prepare(e.to_string()))?;
    map.insert(name, value);
    Ok(())
}

impl Signers {
    fn audience(&self) -> Result<Origin, BenchError> {
        Origin::parse(&format!("http://{}", self.tvm))
            .map_err(|e| BenchError::Prepare(e.to_string()))
    }

    fn token(&self, audience: &Origin) -> Result<String, BenchError> {
        mint_tvm_v1(
            &creds(&self.caller),
            &format!("http://{}", self.sts),
            BENCH_REGION,
            audience,
            &Target::vend(),
            VEND_BODY,
            SystemTime::now(),
        )
        .map_err(|e| BenchError::Prepare(e.to_string()))
    }

    /// `POST /vend` with a fresh token, as tvm's client sends it.
    fn vend_shot(&self, audience: &Origin) -> Result<Shot, BenchError> {
        let token = self.token(audience)?;
        let mut headers = HeaderMap::new();
        header(&mut headers, "host", &self.tvm.to_string())?;
        header(&mut headers, "authorization", &format!("Bearer {token}"))?;
        header(&mut headers, "x-tvm-audience", audience.as_str())?;
        header(&mut headers, "content-type", "application/json")?;
        Ok(vec![Prepared {
            method: Method::POST,
            target: "/vend".into(),
            headers,
            body: Bytes::from_static(VEND_BODY),
        }])
    }

    /// The presigned GetCallerIdentity inside a fresh token, then AssumeRole.
    fn direct_shot(&self, audience: &Origin) -> Result<Shot, BenchError> {
        let token = self.token(audience)?;
        let mut parts = token.splitn(3, '.');
        let (_, nonce, encoded) = (parts.next(), parts.next(), parts.next());
        let (Some(nonce), Some(encoded)) = (nonce, encoded) else {
            return Err(BenchError::Prepare("unexpected token shape".into()));
        };
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(encoded)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| BenchError::Prepare("unexpected token encoding".into()))?;
        let base = format!("http://{}", self.sts);
        let target = url
            .strip_prefix(&base)
            .ok_or_else(|| BenchError::Prepare("token for another endpoint".into()))?;
        let mut gci = HeaderMap::new();
        header(&mut gci, "host", &self.sts.to_string())?;
        header(&mut gci, "x-tvm-audience", audience.as_str())?;
        header(&mut gci, "x-tvm-body-sha256", &body_sha256(VEND_BODY))?;
        header(&mut gci, "x-tvm-nonce", nonce)?;
        header(&mut gci, "x-tvm-target", Target::vend().as_str())?;
        Ok(vec![
            Prepared {
                method: Method::GET,
                target: target.to_owned(),
                headers: gci,
                body: Bytes::new(),
            },
            self.assume_role()?,
        ])
    }

    /// AssumeRole as a header-signed form POST with tvm's key.
    fn assume_role(&self) -> Result<Prepared, BenchError> {
        let host = self.sts.to_string();
        let url = format!("http://{host}/");
        let content_type = "application/x-www-form-urlencoded";
        let identity: Identity = creds(&self.service).into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(BENCH_REGION)
            .name("sts")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| BenchError::Prepare(e.to_string()))?
            .into();
        let signed = [("content-type", content_type), ("host", host.as_str())];
        let request = SignableRequest::new(
            "POST",
            url.as_str(),
            signed.iter().copied(),
            SignableBody::Bytes(ASSUME_ROLE_FORM.as_bytes()),
        )
        .map_err(|e| BenchError::Prepare(e.to_string()))?;
        let (instructions, _) = sign(request, &params)
            .map_err(|e| BenchError::Prepare(e.to_string()))?
            .into_parts();
        let mut headers = HeaderMap::new();
        for (name, value) in signed.iter().copied().chain(instructions.headers()) {
            header(&mut headers, name, value)?;
        }
        Ok(Prepared {
            method: Method::POST,
            target: "/".into(),
            headers,
            body: Bytes::from_static(ASSUME_ROLE_FORM.as_bytes()),
        })
    }

    /// `count` shots (vends, or direct pairs), made on every core.
    pub(crate) fn make(&self, count: usize, direct: bool) -> Result<Vec<Shot>, BenchError> {
        let audience = self.audience()?;
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let per = count.div_ceil(threads).max(1);
        let chunks: Vec<Result<Vec<Shot>, BenchError>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let n = per.min(count.saturating_sub(t * per));
                    let audience = &audience;
                    s.spawn(move || {
                        (0..n)
                            .map(|_| {
                                if direct {
                                    self.direct_shot(audience)
                                } else {
                                    self.vend_shot(audience)
                                }
                            })
                            .collect()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(BenchError::Prepare("a minting thread panicked".into()))
                    })
                })
                .collect()
        });
        let mut shots = Vec::with_capacity(count);
        for chunk in chunks {
            shots.extend(chunk?);
        }
        Ok(shots)
    }
}
