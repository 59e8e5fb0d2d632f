//! Steps 2–5 of DESIGN §2: from the decoded URL to a [`ValidatedProof`].
//!
//! Owns: destination checks (configured endpoint or exact allowlist), the query
//! parameter set (names, duplicates, case variants), fixed values (Action,
//! Version, Algorithm, SignedHeaders), the credential scope, and the time window.
//!
//! Invariants: pure (time is a parameter); every value kept in a
//! [`ValidatedProof`] passed a syntax check, so re-encoding it cannot smuggle
//! anything new to STS; the destination (base URL and `Host`) comes from our
//! configuration or allowlist, never from token bytes; `Debug` redacts the
//! signature and session token.

use std::fmt;

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use super::token::{RawToken, TokenKind};
use super::VerifyError;
use crate::net::{
    encode_query, is_ip_literal, is_region_name, parse_query, parse_url, Allowlist, Endpoint,
    ParsedUrl, Scheme, UrlError,
};

/// Longest validity a proof may claim, in seconds (SigV4 presign limit we accept;
/// clients use 60). Bounds how long a leaked token is useful.
pub const MAX_EXPIRES_SECS: i64 = 900;

/// Signed headers of a `tvm-v1` proof: the audience, body, nonce and target bindings.
pub(crate) const TVM_V1_SIGNED_HEADERS: &str =
    "host;x-tvm-audience;x-tvm-body-sha256;x-tvm-nonce;x-tvm-target";

/// Signed headers of an EKS proof: the cluster id stands in for the audience.
pub(crate) const EKS_SIGNED_HEADERS: &str = "host;x-k8s-aws-id";

const ACTION: &str = "GetCallerIdentity";
const VERSION: &str = "2011-06-15";
const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The only query names a proof may carry, in SigV4 canonical (byte) order.
const NAMES: [&str; 9] = [
    "Action",
    "Version",
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-Security-Token",
    "X-Amz-Signature",
    "X-Amz-SignedHeaders",
];
const ACTION_I: usize = 0;
const VERSION_I: usize = 1;
const ALGORITHM_I: usize = 2;
const CREDENTIAL_I: usize = 3;
const DATE_I: usize = 4;
const EXPIRES_I: usize = 5;
const SECURITY_TOKEN: usize = 6;
const SIGNATURE_I: usize = 7;
const SIGNED_HEADERS_I: usize = 8;

/// Where proofs may be sent, prepared once from the settings.
#[derive(Debug, Clone)]
pub(crate) enum AllowedTarget {
    /// Exactly this scheme, host and port.
    Endpoint(Endpoint),
    /// `https` and one of these hosts, no port.
    Aws(Allowlist),
}

/// A proof that passed every check that needs no I/O.
#[derive(Clone)]
pub(crate) struct ValidatedProof {
    pub(crate) kind: TokenKind,
    /// `scheme://authority` from our configuration or allowlist.
    pub(crate) base_url: String,
    /// The `Host` value the client signed (equal to our own copy of it).
    pub(crate) host_header: String,
    pub(crate) access_key_id: String,
    pub(crate) region: String,
    pub(crate) signed_at: Timestamp,
    pub(crate) expires: SignedDuration,
    /// 64 lowercase hex; also the replay key.
    pub(crate) signature: String,
    /// All validated query values, indexed like `NAMES`.
    values: [Option<String>; 9],
}

impl fmt::Debug for ValidatedProof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ValidatedProof")
            .field("kind", &self.kind)
            .field("base_url", &self.base_url)
            .field("access_key_id", &self.access_key_id)
            .field("region", &self.region)
            .field("signed_at", &self.signed_at)
            .field("expires", &self.expires)
            .finish_non_exhaustive()
    }
}

impl ValidatedProof {
    /// When the presigned URL stops being valid (`X-Amz-Date + X-Amz-Expires`).
    pub(crate) fn expires_at(&self) -> Timestamp {
        self.signed_at
            .checked_add(self.expires)
            .unwrap_or(Timestamp::MAX)
    }

    /// The query string tvm sends: the validated values, SigV4-encoded, sorted.
    pub(crate) fn query(&self) -> String {
        encode_query(
            NAMES
                .iter()
                .zip(&self.values)
                .filter_map(|(n, v)| v.as_deref().map(|v| (*n, v))),
        )
    }
}

/// Runs steps 2–5 against `now` with the allowed `skew`.
pub(crate) fn validate(
    raw: &RawToken,
    target: &AllowedTarget,
    skew: SignedDuration,
    now: Timestamp,
) -> Result<ValidatedProof, VerifyError> {
    // Step 2: scheme, host, port, path.
    let url = parse_url(&raw.url)?;
    if url.path != "/" {
        return Err(UrlError::BadPath.into());
    }
    let (base_url, host_header, host_region) = destination(&url, target)?;

    // Step 3: the parameter set and its fixed values.
    let values = collect_params(url.query.ok_or(VerifyError::MissingParam)?)?;
    let missing = (0..NAMES.len()).any(|i| i != SECURITY_TOKEN && values[i].is_none());
    if missing {
        return Err(VerifyError::MissingParam);
    }
    let get = |i: usize| values[i].as_deref().unwrap_or_default();
    if get(ACTION_I) != ACTION {
        return Err(VerifyError::BadAction);
    }
    if get(VERSION_I) != VERSION {
        return Err(VerifyError::BadVersion);
    }
    if get(ALGORITHM_I) != ALGORITHM {
        return Err(VerifyError::BadAlgorithm);
    }
    let (credential, date, signature) = (get(CREDENTIAL_I), get(DATE_I), get(SIGNATURE_I));

    // Step 4: credential scope and signed headers.
    let scope = Scope::parse(credential)?;
    if host_region.is_some_and(|r| r != scope.region) {
        return Err(VerifyError::RegionMismatch);
    }
    let signed_at = parse_amz_date(date)?;
    if !date.starts_with(scope.date) {
        return Err(VerifyError::ScopeDateMismatch);
    }
    let required = match raw.kind {
        TokenKind::TvmV1 { .. } => TVM_V1_SIGNED_HEADERS,
        TokenKind::Eks => EKS_SIGNED_HEADERS,
    };
    if get(SIGNED_HEADERS_I) != required {
        return Err(VerifyError::BadSignedHeaders);
    }

    // Step 5: formats of the remaining values, then the time window.
    let expires = parse_expires(get(EXPIRES_I))?;
    if !is_signature(signature) {
        return Err(VerifyError::BadSignature);
    }
    if values[SECURITY_TOKEN].as_deref() == Some("") {
        return Err(VerifyError::BadSecurityToken);
    }
    check_window(signed_at, expires, skew.abs(), now)?;

    Ok(ValidatedProof {
        kind: raw.kind.clone(),
        base_url,
        host_header,
        access_key_id: scope.access_key_id.to_owned(),
        region: scope.region.to_owned(),
        signed_at,
        expires,
        signature: signature.to_owned(),
        values,
    })
}

/// Returns our base URL, the `Host` header value, and (for AWS hosts) the one
/// region the host serves.
fn destination(
    url: &ParsedUrl<'_>,
    target: &AllowedTarget,
) -> Result<(String, String, Option<&'static str>), VerifyError> {
    match target {
        AllowedTarget::Endpoint(ep) => {
            let same = url.scheme == ep.scheme()
                && url.host == ep.host()
                && url.effective_port() == ep.port();
            if !same {
                return Err(VerifyError::EndpointMismatch);
            }
            Ok((ep.base_url(), ep.host_header(), None))
        }
        AllowedTarget::Aws(allowlist) => {
            if url.scheme != Scheme::Https {
                return Err(VerifyError::InsecureScheme);
            }
            if url.port.is_some() {
                return Err(VerifyError::PortNotAllowed);
            }
            if is_ip_literal(url.host) {
                return Err(VerifyError::IpLiteralHost);
            }
            let (host, region) = allowlist.get(url.host).ok_or(VerifyError::HostNotAllowed)?;
            Ok((format!("https://{host}"), host.to_owned(), Some(region)))
        }
    }
}

/// Decodes the query into one slot per known name. Exact names only; a case
/// variant of a known name is refused on its own (CVE-2022-2385: AWS reads names
/// case-sensitively, some verifiers did not, and the two could disagree).
fn collect_params(query: &str) -> Result<[Option<String>; 9], VerifyError> {
    let mut values: [Option<String>; 9] = Default::default();
    for (name, value) in parse_query(query)? {
        match NAMES.iter().position(|n| *n == name) {
            Some(i) if values[i].is_some() => return Err(VerifyError::DuplicateParam),
            Some(i) => values[i] = Some(value),
            None if NAMES.iter().any(|n| n.eq_ignore_ascii_case(&name)) => {
                return Err(VerifyError::CaseVariantParam)
            }
            None => return Err(VerifyError::UnknownParam),
        }
    }
    Ok(values)
}

/// `{akid}/{yyyymmdd}/{region}/sts/aws4_request`.
struct Scope<'a> {
    access_key_id: &'a str,
    date: &'a str,
    region: &'a str,
}

impl<'a> Scope<'a> {
    fn parse(credential: &'a str) -> Result<Self, VerifyError> {
        let parts: Vec<&str> = credential.split('/').collect();
        let [akid, date, region, "sts", "aws4_request"] = parts[..] else {
            return Err(VerifyError::BadCredential);
        };
        let akid_ok = (16..=128).contains(&akid.len())
            && akid
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        let date_ok = date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit());
        if !(akid_ok && date_ok && is_region_name(region)) {
            return Err(VerifyError::BadCredential);
        }
        Ok(Self {
            access_key_id: akid,
            date,
            region,
        })
    }
}

/// Strict `yyyymmddThhmmssZ` in UTC.
pub(crate) fn parse_amz_date(s: &str) -> Result<Timestamp, VerifyError> {
    let b = s.as_bytes();
    let shape_ok = b.len() == 16
        && b[8] == b'T'
        && b[15] == b'Z'
        && b[..8].iter().chain(&b[9..15]).all(u8::is_ascii_digit);
    if !shape_ok {
        return Err(VerifyError::BadDate);
    }
    let num = |r: std::ops::Range<usize>| {
        b[r].iter()
            .fold(0i32, |acc, d| acc * 10 + i32::from(d - b'0'))
    };
    let field = |r, max: i32| i8::try_from(num(r)).ok().filter(|v| i32::from(*v) <= max);
    let year = i16::try_from(num(0..4)).map_err(|_| VerifyError::BadDate)?;
    let parts = (
        field(4..6, 12),
        field(6..8, 31),
        field(9..11, 23),
        field(11..13, 59),
        field(13..15, 59),
    );
    let (Some(month), Some(day), Some(hour), Some(minute), Some(second)) = parts else {
        return Err(VerifyError::BadDate);
    };
    DateTime::new(year, month, day, hour, minute, second, 0)
        .and_then(|dt| dt.to_zoned(TimeZone::UTC))
        .map(|z| z.timestamp())
        .map_err(|_| VerifyError::BadDate)
}

/// An integer in 1..=[`MAX_EXPIRES_SECS`], plain digits, no leading zero.
fn parse_expires(s: &str) -> Result<SignedDuration, VerifyError> {
    let digits_ok =
        (1..=3).contains(&s.len()) && !s.starts_with('0') && s.bytes().all(|b| b.is_ascii_digit());
    match s.parse::<i64>() {
        Ok(n) if digits_ok && (1..=MAX_EXPIRES_SECS).contains(&n) => {
            Ok(SignedDuration::from_secs(n))
        }
        _ => Err(VerifyError::BadExpires),
    }
}

fn is_signature(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Step 5: `X-Amz-Date` within ±`skew` of now (too old: expired; future: invalid),
/// and now not past `X-Amz-Date + X-Amz-Expires`.
fn check_window(
    signed_at: Timestamp,
    expires: SignedDuration,
    skew: SignedDuration,
    now: Timestamp,
) -> Result<(), VerifyError> {
    let ahead = signed_at.duration_since(now);
    if ahead > skew {
        return Err(VerifyError::DateInFuture);
    }
    if ahead < -skew {
        return Err(VerifyError::StaleDate);
    }
    if now.duration_since(signed_at) > expires {
        return Err(VerifyError::TokenExpired);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
