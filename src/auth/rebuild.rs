//! Step 7 of DESIGN §2 and the rebuild: the request tvm itself sends to STS.
//!
//! Invariants: the request is built only from a [`ValidatedProof`] and tvm's own
//! state: the destination comes from configuration or the allowlist, the query
//! from validated values re-encoded with SigV4 encoding, and the bound headers
//! from what *tvm* knows — the configured origin it resolved for this request,
//! the SHA-256 of the body *it received*, the method and path *it received*, and
//! the nonce from the token prefix. So STS accepts the signature only if the
//! client signed this audience, this target, this body and this nonce. No other
//! header and no client byte is forwarded.

use http::header::{HeaderValue, HOST};
use http::Method;
use sha2::{Digest, Sha256};

use super::proof::ValidatedProof;
use super::token::TokenKind;
use super::VerifyError;

/// Signed header carrying the origin the client called (one of `auth.audience`).
pub(crate) const AUDIENCE_HEADER: &str = "x-tvm-audience";
/// Signed header carrying the lowercase hex SHA-256 of the request body.
pub(crate) const BODY_SHA256_HEADER: &str = "x-tvm-body-sha256";
/// Signed header carrying the per-token nonce.
pub(crate) const NONCE_HEADER: &str = "x-tvm-nonce";
/// Signed header carrying `{METHOD} {path}` of the request to tvm.
pub(crate) const TARGET_HEADER: &str = "x-tvm-target";
/// Signed header of EKS tokens, carrying the cluster id (`auth.eks_cluster_id`).
pub(crate) const EKS_ID_HEADER: &str = "x-k8s-aws-id";

/// The values tvm binds a proof to, all computed by tvm from the request it
/// received and its own configuration.
pub(crate) struct Binding<'a> {
    /// For `tvm-v1`: the resolved configured origin; for EKS: the cluster id.
    pub(crate) audience: &'a HeaderValue,
    /// `{METHOD} {path}` as received (unused for EKS).
    pub(crate) target: &'a HeaderValue,
    /// The exact body received (unused for EKS).
    pub(crate) body: &'a [u8],
}

/// Lowercase hex SHA-256 of `body`.
pub(crate) fn body_sha256(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

/// Builds the GET tvm sends to STS for `proof`.
pub(crate) fn request(
    proof: &ValidatedProof,
    binding: &Binding<'_>,
) -> Result<http::Request<()>, VerifyError> {
    let uri = format!("{}/?{}", proof.base_url, proof.query());
    let builder = http::Request::builder()
        .method(Method::GET)
        .uri(uri)
        .header(HOST, proof.host_header.as_str());
    let builder = match &proof.kind {
        TokenKind::TvmV1 { nonce } => builder
            .header(AUDIENCE_HEADER, binding.audience.clone())
            .header(BODY_SHA256_HEADER, body_sha256(binding.body))
            .header(NONCE_HEADER, nonce.as_str())
            .header(TARGET_HEADER, binding.target.clone()),
        TokenKind::Eks => builder.header(EKS_ID_HEADER, binding.audience.clone()),
    };
    // Every part was validated to be printable ASCII, so this cannot fail; if it
    // ever did, refuse rather than send something else.
    builder
        .body(())
        .map_err(|_| VerifyError::Misconfigured("rebuilt request is not valid HTTP"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_hash_is_lowercase_hex_sha256() {
        assert_eq!(
            body_sha256(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
