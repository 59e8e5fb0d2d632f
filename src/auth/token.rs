//! Step 1 of DESIGN §2: from the raw `Authorization` header to the presigned URL.
//!
//! Owns: the header shape (`Bearer <token>`), the token size cap, the prefixes
//! (`tvm-v1.{nonce}.` and, when enabled, `k8s-aws-v1.`), the nonce syntax, strict
//! base64url and UTF-8.
//!
//! Invariants: pure (no I/O, no clock); bytes are only inspected after the size
//! cap; base64 is the URL-safe alphabet with no padding and canonical trailing
//! bits, so one URL has exactly one token encoding; [`RawToken`] never prints the
//! URL (it holds the signature).

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use super::VerifyError;

/// Largest token accepted, in bytes. Bounds every later allocation and parse.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// `Bearer ` plus the token: anything longer is refused before it is looked at.
const MAX_AUTHORIZATION_LEN: usize = MAX_TOKEN_LEN + BEARER.len();

const BEARER: &str = "Bearer ";

/// The prefix of a tvm token.
pub(crate) const TVM_V1_PREFIX: &str = "tvm-v1.";

/// The prefix of an `aws eks get-token` token.
pub(crate) const EKS_PREFIX: &str = "k8s-aws-v1.";

/// Length of the per-token nonce, in lowercase hex characters (128 bits).
pub(crate) const NONCE_LEN: usize = 32;

/// Which protocol a token speaks.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum TokenKind {
    /// `tvm-v1`: audience, body hash and nonce are bound by signed headers.
    TvmV1 {
        /// 32 lowercase hex characters, sent back to STS as `x-tvm-nonce`.
        nonce: String,
    },
    /// `k8s-aws-v1`: only the audience is bound (`x-k8s-aws-id`).
    Eks,
}

impl fmt::Debug for TokenKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TokenKind::TvmV1 { .. } => "TvmV1",
            TokenKind::Eks => "Eks",
        })
    }
}

/// A token that passed step 1: its kind and the decoded presigned URL.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct RawToken {
    pub(crate) kind: TokenKind,
    pub(crate) url: String,
}

impl fmt::Debug for RawToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawToken")
            .field("kind", &self.kind)
            .field("url", &"<redacted>")
            .finish()
    }
}

/// Extracts the token from an `Authorization` header value. The scheme is matched
/// case-insensitively (RFC 7235); exactly one space follows it.
pub(crate) fn bearer_token(authorization: Option<&[u8]>) -> Result<&[u8], VerifyError> {
    let header = authorization.ok_or(VerifyError::MissingToken)?;
    if header.len() > MAX_AUTHORIZATION_LEN {
        return Err(VerifyError::TokenTooLarge);
    }
    match header.split_at_checked(BEARER.len()) {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case(BEARER.as_bytes()) => Ok(token),
        _ => Err(VerifyError::BadAuthScheme),
    }
}

/// Parses a token (the part after `Bearer `).
pub(crate) fn parse_token(token: &[u8], accept_eks: bool) -> Result<RawToken, VerifyError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(VerifyError::TokenTooLarge);
    }
    let (kind, payload) = if let Some(rest) = token.strip_prefix(TVM_V1_PREFIX.as_bytes()) {
        let (nonce, payload) = rest
            .split_at_checked(NONCE_LEN)
            .ok_or(VerifyError::BadNonce)?;
        let payload = payload.strip_prefix(b".").ok_or(VerifyError::BadNonce)?;
        (
            TokenKind::TvmV1 {
                nonce: parse_nonce(nonce)?,
            },
            payload,
        )
    } else if let Some(payload) = token.strip_prefix(EKS_PREFIX.as_bytes()) {
        if !accept_eks {
            return Err(VerifyError::EksTokensDisabled);
        }
        (TokenKind::Eks, payload)
    } else {
        return Err(VerifyError::BadPrefix);
    };
    if payload.is_empty() {
        return Err(VerifyError::BadBase64);
    }
    let decoded = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| VerifyError::BadBase64)?;
    let url = String::from_utf8(decoded).map_err(|_| VerifyError::BadUtf8)?;
    Ok(RawToken { kind, url })
}

/// Whether `s` is a well-formed nonce: exactly [`NONCE_LEN`] lowercase hex.
pub(crate) fn is_nonce(s: &[u8]) -> bool {
    s.len() == NONCE_LEN && s.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn parse_nonce(s: &[u8]) -> Result<String, VerifyError> {
    if !is_nonce(s) {
        return Err(VerifyError::BadNonce);
    }
    String::from_utf8(s.to_vec()).map_err(|_| VerifyError::BadNonce)
}

/// Encodes a presigned URL as a `tvm-v1` token (used by the client minter).
pub(crate) fn encode_tvm_v1(nonce: &str, url: &str) -> String {
    format!("{TVM_V1_PREFIX}{nonce}.{}", URL_SAFE_NO_PAD.encode(url))
}

/// Encodes a presigned URL as a `k8s-aws-v1` token (used by the client minter).
pub(crate) fn encode_eks(url: &str) -> String {
    format!("{EKS_PREFIX}{}", URL_SAFE_NO_PAD.encode(url))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NONCE: &str = "0123456789abcdef0123456789abcdef";

    fn reason(r: Result<RawToken, VerifyError>) -> &'static str {
        r.map(|_| "ok").unwrap_or_else(|e| e.reason())
    }

    #[test]
    fn bearer_header_shapes() {
        assert_eq!(bearer_token(None).unwrap_err().reason(), "missing_token");
        assert_eq!(bearer_token(Some(b"Bearer abc")).unwrap(), b"abc");
        assert_eq!(bearer_token(Some(b"bearer abc")).unwrap(), b"abc");
        for bad in [&b"Basic abc"[..], b"Bearer", b"Bearerabc", b""] {
            assert_eq!(
                bearer_token(Some(bad)).unwrap_err().reason(),
                "bad_auth_scheme"
            );
        }
        let huge = vec![b'a'; MAX_AUTHORIZATION_LEN + 1];
        assert_eq!(
            bearer_token(Some(&huge)).unwrap_err().reason(),
            "token_too_large"
        );
    }

    #[test]
    fn round_trips_both_kinds() {
        let url = "https://sts.amazonaws.com/?Action=GetCallerIdentity";
        let t = encode_tvm_v1(NONCE, url);
        let raw = parse_token(t.as_bytes(), false).unwrap();
        assert_eq!(raw.url, url);
        assert_eq!(
            raw.kind,
            TokenKind::TvmV1 {
                nonce: NONCE.into()
            }
        );
        let t = encode_eks(url);
        assert_eq!(
            parse_token(t.as_bytes(), false).unwrap_err().reason(),
            "eks_tokens_disabled"
        );
        assert_eq!(
            parse_token(t.as_bytes(), true).unwrap().kind,
            TokenKind::Eks
        );
    }

    #[test]
    fn rejects_each_bad_token() {
        let b64 = URL_SAFE_NO_PAD.encode("https://x/?a=b");
        let cases: Vec<(String, &str)> = vec![
            (format!("tvm-v2.{NONCE}.{b64}"), "bad_prefix"),
            (format!("TVM-V1.{NONCE}.{b64}"), "bad_prefix"),
            (format!(" tvm-v1.{NONCE}.{b64}"), "bad_prefix"),
            (String::new(), "bad_prefix"),
            (
                format!("tvm-v1.{}.{b64}", NONCE.to_uppercase()),
                "bad_nonce",
            ),
            (format!("tvm-v1.{}.{b64}", &NONCE[1..]), "bad_nonce"),
            (format!("tvm-v1.{NONCE}0.{b64}"), "bad_nonce"),
            (format!("tvm-v1.{NONCE}{b64}"), "bad_nonce"),
            ("tvm-v1.0123".to_string(), "bad_nonce"),
            (format!("tvm-v1.{NONCE}."), "bad_base64"),
            (format!("tvm-v1.{NONCE}.{b64}="), "bad_base64"),
            (format!("tvm-v1.{NONCE}.{b64}=="), "bad_base64"),
            (format!("tvm-v1.{NONCE}.ab/d"), "bad_base64"),
            (format!("tvm-v1.{NONCE}.ab+d"), "bad_base64"),
            (format!("tvm-v1.{NONCE}.{b64} "), "bad_base64"),
            (format!("tvm-v1.{NONCE}.{b64}\n"), "bad_base64"),
            // "QR" has non-zero trailing bits (canonical form is "QQ").
            (format!("tvm-v1.{NONCE}.QR"), "bad_base64"),
            (
                format!("tvm-v1.{NONCE}.{}", URL_SAFE_NO_PAD.encode([0xff, 0xfe])),
                "bad_utf8",
            ),
            (
                format!("tvm-v1.{NONCE}.{}", "A".repeat(MAX_TOKEN_LEN)),
                "token_too_large",
            ),
        ];
        for (token, want) in cases {
            assert_eq!(
                reason(parse_token(token.as_bytes(), true)),
                want,
                "{token:.60}"
            );
        }
        assert_eq!(
            reason(parse_token(format!("tvm-v1.{NONCE}.QQ").as_bytes(), true)),
            "ok"
        );
    }

    #[test]
    fn debug_never_shows_the_url() {
        let raw = parse_token(encode_tvm_v1(NONCE, "https://secret-sig").as_bytes(), false);
        let shown = format!("{raw:?}");
        assert!(
            !shown.contains("secret-sig") && !shown.contains(NONCE),
            "{shown}"
        );
    }

    proptest! {
        #[test]
        fn never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = parse_token(&bytes, true);
            let _ = bearer_token(Some(&bytes));
        }

        #[test]
        fn never_panics_after_prefix(s in "[A-Za-z0-9_+/=.-]{0,200}") {
            let _ = parse_token(format!("tvm-v1.{NONCE}.{s}").as_bytes(), true);
            let _ = parse_token(format!("k8s-aws-v1.{s}").as_bytes(), true);
        }
    }
}
