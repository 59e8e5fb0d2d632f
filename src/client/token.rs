//! Minting caller proofs: `tvm-v1` tokens (and EKS-style tokens) presigned with
//! the caller's own credentials via `aws-sigv4`.
//!
//! Owns: [`mint_tvm_v1`], [`mint_eks`], [`MintError`].
//!
//! Invariants: credentials only sign locally and never appear in a token other
//! than as SigV4 public parts (access key id, session token as AWS requires);
//! every token carries a fresh 128-bit nonce from the thread CSPRNG (ChaCha,
//! seeded from the OS), so two tokens never share a signature; the token binds
//! the audience (the [`Origin`] of the URL the caller uses — never a value a
//! server announced), the method and path ([`Target`]), the SHA-256 of the exact
//! body and the nonce as signed headers, exactly as [`crate::auth`] rebuilds
//! them; the endpoint goes through the same strict URL grammar the server applies.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, SignableBody, SignableRequest, SignatureLocation, SigningParams, SigningSettings,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;

use crate::auth::{
    body_sha256, encode_eks, encode_tvm_v1, is_eks_cluster_id, is_region_name, sigv4_encode,
    Endpoint, EndpointError, Origin,
};

/// Validity of a minted token (`X-Amz-Expires`). Short: a token is used at once,
/// and a leaked one is useless a minute later (the server also refuses reuse).
pub const TOKEN_EXPIRES: Duration = Duration::from_secs(60);

/// Why a token could not be minted. Never contains secret material.
#[derive(Debug, thiserror::Error)]
pub enum MintError {
    /// The STS endpoint is not `scheme://host[:port]`.
    #[error("invalid STS endpoint: {0}")]
    Endpoint(#[from] EndpointError),
    /// The region is not a region name ([`crate::auth::is_region_name`]).
    #[error("invalid region")]
    Region,
    /// The EKS cluster id is not a cluster name ([`crate::auth::is_eks_cluster_id`]).
    #[error("invalid EKS cluster id")]
    ClusterId,
    /// aws-sigv4 refused to sign.
    #[error("signing failed: {0}")]
    Signing(String),
}

/// Longest path a [`Target`] may carry.
pub const MAX_TARGET_PATH_LEN: usize = 1024;

/// The method and path of the one request a token authorizes (`x-tvm-target`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    text: String,
}

/// Why a target was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("target must be `METHOD /path`: an uppercase method, one space, a path starting with / (no query, no spaces)")]
pub struct TargetError;

impl Target {
    /// `POST /vend`.
    pub fn vend() -> Self {
        Self {
            text: "POST /vend".into(),
        }
    }

    /// `GET /profiles`.
    pub fn profiles() -> Self {
        Self {
            text: "GET /profiles".into(),
        }
    }

    /// Parses `METHOD /path`, as sent: an uppercase method, one space, and a
    /// path of printable ASCII that starts with `/` and has no query.
    pub fn parse(s: &str) -> Result<Self, TargetError> {
        let (method, path) = s.split_once(' ').ok_or(TargetError)?;
        let method_ok =
            (1..=16).contains(&method.len()) && method.bytes().all(|b| b.is_ascii_uppercase());
        let path_ok = path.starts_with('/')
            && path.len() <= MAX_TARGET_PATH_LEN
            && path
                .bytes()
                .all(|b| (0x21..=0x7e).contains(&b) && b != b'?' && b != b'#');
        if method_ok && path_ok {
            Ok(Self { text: s.to_owned() })
        } else {
            Err(TargetError)
        }
    }

    /// The method (`POST`).
    pub fn method(&self) -> &str {
        self.text.split_once(' ').map_or("", |(m, _)| m)
    }

    /// The path (`/vend`).
    pub fn path(&self) -> &str {
        self.text.split_once(' ').map_or("", |(_, p)| p)
    }

    /// `METHOD /path`, the signed header value.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// Mints `tvm-v1.{nonce}.{base64url(presigned URL)}` for one request to the tvm
/// at `audience` (the origin of the URL the caller uses), at `target`, whose
/// body will be exactly `body` (empty for GET).
pub fn mint_tvm_v1(
    creds: &Credentials,
    endpoint: &str,
    region: &str,
    audience: &Origin,
    target: &Target,
    body: &[u8],
    now: SystemTime,
) -> Result<String, MintError> {
    let nonce = hex::encode(rand::random::<[u8; 16]>());
    let hash = body_sha256(body);
    let headers = [
        ("x-tvm-audience", audience.as_str()),
        ("x-tvm-body-sha256", hash.as_str()),
        ("x-tvm-nonce", nonce.as_str()),
        ("x-tvm-target", target.as_str()),
    ];
    let url = presign(creds, endpoint, region, &headers, now)?;
    Ok(encode_tvm_v1(&nonce, &url))
}

/// Mints `k8s-aws-v1.{base64url(presigned URL)}` signed for `x-k8s-aws-id:
/// cluster_id`, like `aws eks get-token` (accepted by tvm only when
/// `auth.eks_cluster_id` names that id; it binds no body, target or nonce).
pub fn mint_eks(
    creds: &Credentials,
    endpoint: &str,
    region: &str,
    cluster_id: &str,
    now: SystemTime,
) -> Result<String, MintError> {
    if !is_eks_cluster_id(cluster_id) {
        return Err(MintError::ClusterId);
    }
    let url = presign(
        creds,
        endpoint,
        region,
        &[("x-k8s-aws-id", cluster_id)],
        now,
    )?;
    Ok(encode_eks(&url))
}

/// Presigns `GET {endpoint}/?Action=GetCallerIdentity&Version=2011-06-15` with
/// `headers` signed, and returns the URL.
fn presign(
    creds: &Credentials,
    endpoint: &str,
    region: &str,
    headers: &[(&str, &str)],
    now: SystemTime,
) -> Result<String, MintError> {
    let endpoint = Endpoint::parse(endpoint)?;
    if !is_region_name(region) {
        return Err(MintError::Region);
    }
    let mut url = format!(
        "{}/?Action=GetCallerIdentity&Version=2011-06-15",
        endpoint.base_url()
    );

    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(TOKEN_EXPIRES);
    let identity: Identity = creds.clone().into();
    let params: SigningParams<'_> = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("sts")
        .time(now)
        .settings(settings)
        .build()
        .map_err(|e| MintError::Signing(e.to_string()))?
        .into();
    let request = SignableRequest::new(
        "GET",
        url.as_str(),
        headers.iter().copied(),
        SignableBody::Bytes(&[]),
    )
    .map_err(|e| MintError::Signing(e.to_string()))?;
    let (instructions, _signature) = sign(request, &params)
        .map_err(|e| MintError::Signing(e.to_string()))?
        .into_parts();
    for (name, value) in instructions.params() {
        url.push('&');
        url.push_str(&sigv4_encode(name));
        url.push('=');
        url.push_str(&sigv4_encode(value));
    }
    Ok(url)
}

#[cfg(test)]
mod tests;
