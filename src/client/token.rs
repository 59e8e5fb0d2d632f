//! Minting caller proofs: `tvm-v1` tokens (and EKS-style tokens) presigned with
//! the caller's own credentials via `aws-sigv4`.
//!
//! Owns: [`mint_tvm_v1`], [`mint_eks`], [`MintError`].
//!
//! Invariants: credentials only sign locally and never appear in a token other
//! than as SigV4 public parts (access key id, session token as AWS requires);
//! every token carries a fresh 128-bit nonce from the thread CSPRNG (ChaCha,
//! seeded from the OS), so two tokens never share a signature; the token binds
//! the audience, the SHA-256 of the exact body and the nonce as signed headers,
//! exactly as [`crate::auth`] rebuilds them; the endpoint goes through the same
//! strict URL grammar the server applies.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, SignableBody, SignableRequest, SignatureLocation, SigningParams, SigningSettings,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;

use crate::auth::{
    body_sha256, encode_eks, encode_tvm_v1, is_audience, is_region_name, sigv4_encode, Endpoint,
    EndpointError,
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
    /// The audience is empty, too long, or not visible ASCII without spaces
    /// ([`crate::auth::is_audience`], the server's own rule).
    #[error("invalid audience (1..=256 visible ASCII characters, no spaces)")]
    Audience,
    /// aws-sigv4 refused to sign.
    #[error("signing failed: {0}")]
    Signing(String),
}

/// Mints `tvm-v1.{nonce}.{base64url(presigned URL)}` for a request to tvm whose
/// body will be exactly `body` (empty for GET).
pub fn mint_tvm_v1(
    creds: &Credentials,
    endpoint: &str,
    region: &str,
    audience: &str,
    body: &[u8],
    now: SystemTime,
) -> Result<String, MintError> {
    check_audience(audience)?;
    let nonce = hex::encode(rand::random::<[u8; 16]>());
    let hash = body_sha256(body);
    let headers = [
        ("x-tvm-audience", audience),
        ("x-tvm-body-sha256", hash.as_str()),
        ("x-tvm-nonce", nonce.as_str()),
    ];
    let url = presign(creds, endpoint, region, &headers, now)?;
    Ok(encode_tvm_v1(&nonce, &url))
}

/// Mints `k8s-aws-v1.{base64url(presigned URL)}` signed for `x-k8s-aws-id:
/// cluster_id`, like `aws eks get-token` (accepted by tvm only when
/// `auth.accept_eks_tokens` is on; it binds no body and no nonce).
pub fn mint_eks(
    creds: &Credentials,
    endpoint: &str,
    region: &str,
    cluster_id: &str,
    now: SystemTime,
) -> Result<String, MintError> {
    check_audience(cluster_id)?;
    let url = presign(
        creds,
        endpoint,
        region,
        &[("x-k8s-aws-id", cluster_id)],
        now,
    )?;
    Ok(encode_eks(&url))
}

fn check_audience(audience: &str) -> Result<(), MintError> {
    is_audience(audience)
        .then_some(())
        .ok_or(MintError::Audience)
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
