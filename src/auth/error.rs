//! Why a caller proof was refused.
//!
//! Owns: [`VerifyError`] (one variant per check, each with a stable machine-readable
//! [`VerifyError::reason`]) and [`VerifyErrorKind`] (what the HTTP layer maps to a
//! status and `Code`).
//!
//! Invariants: no variant carries bytes of the token (nor the signature, session
//! token, nonce or any decoded parameter), so `Display` and `Debug` are safe to log;
//! the only upstream text kept is an STS error *code* that passed
//! [`sanitize_sts_code`]. Caller faults ([`VerifyErrorKind::InvalidToken`],
//! `Expired`, `Replayed`) stay apart from upstream faults (`Throttled`, `StsError`,
//! `Unavailable`), so an STS outage is never reported as a bad token.

use super::response::fields::ResponseError;
use crate::net::UrlError;

/// The class of a [`VerifyError`], for the HTTP mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VerifyErrorKind {
    /// 401 `INVALID_TOKEN`: the proof is malformed, not for us, or STS refused it.
    InvalidToken,
    /// 401 `TOKEN_EXPIRED`: the proof was well-formed but is too old.
    Expired,
    /// 401 `TOKEN_REPLAYED`: this signature was already accepted.
    Replayed,
    /// 503 `STS_THROTTLED`: STS asked us to slow down.
    Throttled,
    /// 502 `STS_ERROR`: STS failed or answered something we do not trust.
    StsError,
    /// 503 `UNAVAILABLE`: tvm cannot safely verify right now (replay store full or
    /// down, verifier misconfigured).
    Unavailable,
}

impl VerifyErrorKind {
    /// A bounded label (`invalid_token`, `expired`, `replayed`, `throttled`,
    /// `sts_error`, `unavailable`).
    pub fn as_str(self) -> &'static str {
        match self {
            VerifyErrorKind::InvalidToken => "invalid_token",
            VerifyErrorKind::Expired => "expired",
            VerifyErrorKind::Replayed => "replayed",
            VerifyErrorKind::Throttled => "throttled",
            VerifyErrorKind::StsError => "sts_error",
            VerifyErrorKind::Unavailable => "unavailable",
        }
    }
}

/// Why a caller proof was refused. The text is for the operator's log; callers
/// only ever see the generic message of the [`VerifyErrorKind`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// No `Authorization` header.
    #[error("no Authorization header")]
    MissingToken,
    /// The header is not `Bearer <token>`.
    #[error("Authorization header is not a Bearer token")]
    BadAuthScheme,
    /// The token is longer than [`super::token::MAX_TOKEN_LEN`].
    #[error("token exceeds the size cap")]
    TokenTooLarge,
    /// Neither `tvm-v1.` nor `k8s-aws-v1.`.
    #[error("unknown token prefix")]
    BadPrefix,
    /// A `k8s-aws-v1.` token while `auth.eks_cluster_id` is not set.
    #[error("EKS tokens are not accepted")]
    EksTokensDisabled,
    /// A `k8s-aws-v1.` token for anything but a plain `POST /vend` or
    /// `GET /profiles`: it binds no target and no body.
    #[error("EKS tokens are accepted only for POST /vend and GET /profiles")]
    EksTargetRefused,
    /// The `X-Tvm-Audience` hint names no configured origin.
    #[error("X-Tvm-Audience names no configured origin")]
    UnknownAudienceHint,
    /// No hint, several configured origins, and the request's `Host` (or trusted
    /// `X-Forwarded-Host`) names none of them.
    #[error("no X-Tvm-Audience hint and the Host names no configured origin")]
    AudienceUnresolved,
    /// The nonce is not 32 lowercase hex characters followed by `.`.
    #[error("nonce is not 32 lowercase hex characters")]
    BadNonce,
    /// The payload is not strict unpadded base64url.
    #[error("payload is not strict unpadded base64url")]
    BadBase64,
    /// The decoded URL is not UTF-8.
    #[error("decoded URL is not UTF-8")]
    BadUtf8,
    /// The presigned URL failed the strict URL grammar.
    #[error("bad presigned URL: {0}")]
    Url(#[from] UrlError),
    /// Host not in the exact allowlist of the configured partition.
    #[error("host is not an allowed STS host")]
    HostNotAllowed,
    /// An IP literal where only allowlisted STS hosts are accepted.
    #[error("host is an IP literal")]
    IpLiteralHost,
    /// An explicit port where only allowlisted STS hosts (no port) are accepted.
    #[error("explicit port on an AWS STS host")]
    PortNotAllowed,
    /// `http` where only `https` is accepted.
    #[error("scheme is not https")]
    InsecureScheme,
    /// Scheme, host or port differ from the configured verification endpoint.
    #[error("URL does not match the configured verification endpoint")]
    EndpointMismatch,
    /// The host's region differs from the credential-scope region.
    #[error("host region differs from the credential scope region")]
    RegionMismatch,
    /// A query parameter that is not one of the known names.
    #[error("unknown query parameter")]
    UnknownParam,
    /// A query parameter given twice.
    #[error("duplicate query parameter")]
    DuplicateParam,
    /// A case variant of a known name (`action=`, `x-amz-date=`): CVE-2022-2385.
    #[error("case-variant query parameter name")]
    CaseVariantParam,
    /// A required query parameter is missing.
    #[error("missing query parameter")]
    MissingParam,
    /// `Action` is not exactly `GetCallerIdentity`.
    #[error("Action is not GetCallerIdentity")]
    BadAction,
    /// `Version` is not exactly `2011-06-15`.
    #[error("Version is not 2011-06-15")]
    BadVersion,
    /// `X-Amz-Algorithm` is not exactly `AWS4-HMAC-SHA256`.
    #[error("X-Amz-Algorithm is not AWS4-HMAC-SHA256")]
    BadAlgorithm,
    /// `X-Amz-Credential` is not `{akid}/{yyyymmdd}/{region}/sts/aws4_request`.
    #[error("malformed credential scope")]
    BadCredential,
    /// The credential-scope date differs from the date of `X-Amz-Date`.
    #[error("credential scope date differs from X-Amz-Date")]
    ScopeDateMismatch,
    /// `X-Amz-SignedHeaders` is not exactly the list for this token version.
    #[error("X-Amz-SignedHeaders is not the required list")]
    BadSignedHeaders,
    /// `X-Amz-Date` is not a valid `yyyymmddThhmmssZ`.
    #[error("malformed X-Amz-Date")]
    BadDate,
    /// `X-Amz-Expires` is not an integer in 1..=900.
    #[error("X-Amz-Expires is not an integer in 1..=900")]
    BadExpires,
    /// `X-Amz-Signature` is not 64 lowercase hex characters.
    #[error("malformed X-Amz-Signature")]
    BadSignature,
    /// `X-Amz-Security-Token` is present but empty.
    #[error("empty X-Amz-Security-Token")]
    BadSecurityToken,
    /// `X-Amz-Date` is later than now plus the allowed clock skew.
    #[error("X-Amz-Date is in the future beyond the allowed clock skew")]
    DateInFuture,
    /// `X-Amz-Date` is earlier than now minus the allowed clock skew.
    #[error("X-Amz-Date is older than the allowed clock skew")]
    StaleDate,
    /// Now is past `X-Amz-Date + X-Amz-Expires`.
    #[error("presigned URL has expired")]
    TokenExpired,
    /// This signature was already accepted and has not expired yet.
    #[error("signature already used")]
    Replayed,
    /// The replay store is full of live entries; failing closed.
    #[error("replay store is full of live entries")]
    ReplayCacheFull,
    /// The replay store could not be consulted; failing closed.
    #[error("replay store unavailable")]
    ReplayStoreUnavailable,
    /// This replica's cap on concurrent STS calls stayed full; STS not called.
    #[error("too many STS calls in flight on this replica")]
    StsBusy,
    /// The verifier's own settings cannot produce a valid request (e.g. an
    /// audience that is not a valid header value).
    #[error("verifier misconfigured: {0}")]
    Misconfigured(&'static str),
    /// STS answered 4xx (other than throttling): the signature, key or binding is wrong.
    #[error("sts rejected the proof (status {status}, code {code:?})")]
    StsRejected {
        /// HTTP status from STS.
        status: u16,
        /// The STS error code, if one could be read and passed [`sanitize_sts_code`].
        code: Option<String>,
    },
    /// STS throttled the call.
    #[error("sts throttled the call (status {status})")]
    StsThrottled {
        /// HTTP status from STS.
        status: u16,
    },
    /// STS answered 3xx; redirects are never followed.
    #[error("sts answered a redirect (status {status})")]
    StsRedirect {
        /// HTTP status from STS.
        status: u16,
    },
    /// STS answered 5xx, timed out, or could not be reached.
    #[error("sts unavailable: {0}")]
    StsUnavailable(String),
    /// STS answered 200 with something we do not accept.
    #[error("bad sts response: {0}")]
    BadStsResponse(#[from] ResponseError),
}

impl VerifyError {
    /// The machine-readable name of the failed check, for logs and tests.
    pub fn reason(&self) -> &'static str {
        use VerifyError as E;
        match self {
            E::MissingToken => "missing_token",
            E::BadAuthScheme => "bad_auth_scheme",
            E::TokenTooLarge => "token_too_large",
            E::BadPrefix => "bad_prefix",
            E::EksTokensDisabled => "eks_tokens_disabled",
            E::EksTargetRefused => "eks_target_refused",
            E::UnknownAudienceHint => "unknown_audience_hint",
            E::AudienceUnresolved => "audience_unresolved",
            E::BadNonce => "bad_nonce",
            E::BadBase64 => "bad_base64",
            E::BadUtf8 => "bad_utf8",
            E::Url(e) => e.reason(),
            E::HostNotAllowed => "host_not_allowed",
            E::IpLiteralHost => "ip_literal_host",
            E::PortNotAllowed => "port_not_allowed",
            E::InsecureScheme => "insecure_scheme",
            E::EndpointMismatch => "endpoint_mismatch",
            E::RegionMismatch => "region_mismatch",
            E::UnknownParam => "unknown_param",
            E::DuplicateParam => "duplicate_param",
            E::CaseVariantParam => "case_variant_param",
            E::MissingParam => "missing_param",
            E::BadAction => "bad_action",
            E::BadVersion => "bad_version",
            E::BadAlgorithm => "bad_algorithm",
            E::BadCredential => "bad_credential",
            E::ScopeDateMismatch => "scope_date_mismatch",
            E::BadSignedHeaders => "bad_signed_headers",
            E::BadDate => "bad_date",
            E::BadExpires => "bad_expires",
            E::BadSignature => "bad_signature",
            E::BadSecurityToken => "bad_security_token",
            E::DateInFuture => "date_in_future",
            E::StaleDate => "stale_date",
            E::TokenExpired => "token_expired",
            E::Replayed => "replayed",
            E::ReplayCacheFull => "replay_cache_full",
            E::ReplayStoreUnavailable => "replay_store_unavailable",
            E::StsBusy => "sts_busy",
            E::Misconfigured(_) => "misconfigured",
            E::StsRejected { .. } => "sts_rejected",
            E::StsThrottled { .. } => "sts_throttled",
            E::StsRedirect { .. } => "sts_redirect",
            E::StsUnavailable(_) => "sts_unavailable",
            E::BadStsResponse(_) => "bad_sts_response",
        }
    }

    /// The `tvm_sts_requests_total` outcome of the GetCallerIdentity call this
    /// failure came from, or `None` when it failed before any call was made.
    pub fn sts_outcome(&self) -> Option<&'static str> {
        use VerifyError as E;
        match self {
            E::StsRejected { .. } => Some("rejected"),
            E::StsThrottled { .. } => Some("throttled"),
            E::StsRedirect { .. } | E::StsUnavailable(_) | E::BadStsResponse(_) => {
                Some("unavailable")
            }
            _ => None,
        }
    }

    /// How the HTTP layer should answer.
    pub fn kind(&self) -> VerifyErrorKind {
        use VerifyError as E;
        match self {
            E::StaleDate | E::TokenExpired => VerifyErrorKind::Expired,
            E::Replayed => VerifyErrorKind::Replayed,
            E::ReplayCacheFull | E::ReplayStoreUnavailable | E::StsBusy | E::Misconfigured(_) => {
                VerifyErrorKind::Unavailable
            }
            E::StsThrottled { .. } => VerifyErrorKind::Throttled,
            E::StsRedirect { .. } | E::StsUnavailable(_) | E::BadStsResponse(_) => {
                VerifyErrorKind::StsError
            }
            _ => VerifyErrorKind::InvalidToken,
        }
    }
}

/// Longest STS error code kept for the log.
const MAX_STS_CODE_LEN: usize = 64;

/// Keeps an STS error code only if it looks like one (`[A-Za-z0-9.]{1,64}`), so
/// nothing upstream can inject text into our logs through it.
pub(crate) fn sanitize_sts_code(code: &str) -> Option<String> {
    let ok = !code.is_empty()
        && code.len() <= MAX_STS_CODE_LEN
        && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.');
    ok.then(|| code.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_failures_after_the_sts_call_have_an_sts_outcome() {
        assert_eq!(VerifyError::BadPrefix.sts_outcome(), None);
        assert_eq!(VerifyError::Replayed.sts_outcome(), None);
        let rejected = VerifyError::StsRejected {
            status: 403,
            code: None,
        };
        assert_eq!(rejected.sts_outcome(), Some("rejected"));
        assert_eq!(
            VerifyError::StsThrottled { status: 400 }.sts_outcome(),
            Some("throttled")
        );
        assert_eq!(
            VerifyError::StsRedirect { status: 302 }.sts_outcome(),
            Some("unavailable")
        );
    }

    #[test]
    fn kinds_keep_caller_faults_apart_from_upstream_faults() {
        assert_eq!(VerifyError::BadPrefix.kind(), VerifyErrorKind::InvalidToken);
        assert_eq!(VerifyError::StaleDate.kind(), VerifyErrorKind::Expired);
        assert_eq!(VerifyError::TokenExpired.kind(), VerifyErrorKind::Expired);
        assert_eq!(
            VerifyError::DateInFuture.kind(),
            VerifyErrorKind::InvalidToken
        );
        assert_eq!(VerifyError::Replayed.kind(), VerifyErrorKind::Replayed);
        assert_eq!(
            VerifyError::ReplayCacheFull.kind(),
            VerifyErrorKind::Unavailable
        );
        let rejected = VerifyError::StsRejected {
            status: 403,
            code: None,
        };
        assert_eq!(rejected.kind(), VerifyErrorKind::InvalidToken);
        assert_eq!(
            VerifyError::StsThrottled { status: 429 }.kind(),
            VerifyErrorKind::Throttled
        );
        assert_eq!(
            VerifyError::StsUnavailable("timeout".into()).kind(),
            VerifyErrorKind::StsError
        );
        assert_eq!(
            VerifyError::StsRedirect { status: 302 }.kind(),
            VerifyErrorKind::StsError
        );
        assert_eq!(
            VerifyError::BadStsResponse(ResponseError::Doctype).kind(),
            VerifyErrorKind::StsError
        );
    }

    #[test]
    fn sts_codes_are_sanitized() {
        assert_eq!(
            sanitize_sts_code("Throttling").as_deref(),
            Some("Throttling")
        );
        assert_eq!(sanitize_sts_code(""), None);
        assert_eq!(sanitize_sts_code("Bad\nCode"), None);
        assert_eq!(sanitize_sts_code(&"A".repeat(65)), None);
    }
}
