//! SigV4 verification of both forms STS accepts: header-signed
//! (`Authorization: AWS4-HMAC-SHA256 ...`) and query-signed (presigned URLs).
//!
//! The expected signature is computed by `aws-sigv4` itself, from a
//! `SignableRequest` rebuilt out of the received method, path, query (minus the
//! presigned auth parameters, which the signer adds back), exactly the headers
//! named in SignedHeaders (minus `x-amz-date` / `x-amz-security-token` in header
//! mode, which the signer adds from the time and credentials), the body, and the
//! time, region and service of the credential scope. Nothing is hand-canonicalised.
//!
//! Invariants: the scope's service is the one the request's API expects
//! (`sts`, or `iam` for IAM's `Version=2010-05-08` — on one simulator port the
//! API stands in for the host AWS would route by, and a request signed for
//! the other service is refused as AWS refuses it); the scope date is the date of `X-Amz-Date`;
//! `host` is signed; a header-signed request is within [`MAX_CLOCK_SKEW`] of the
//! clock; a presigned one is not expired, not dated more than [`MAX_CLOCK_SKEW`]
//! ahead, and its `X-Amz-Expires` is in 1..=[`MAX_PRESIGN_EXPIRES`]; signatures are
//! compared in constant time; signatures and tokens never appear in `Debug`.

use std::fmt;

use http::HeaderMap;
use jiff::{SignedDuration, Timestamp};

use super::xml::{echo, StsFault};

#[cfg(test)]
mod tests;
mod verify;

pub(crate) use verify::{check_time, verify};

/// How far `X-Amz-Date` may be from the simulator's clock (AWS: 15 minutes).
/// Bounds how long a captured header-signed request can be replayed.
pub(crate) const MAX_CLOCK_SKEW: SignedDuration = SignedDuration::from_mins(15);

/// Longest validity of a presigned URL (AWS: 7 days).
pub(crate) const MAX_PRESIGN_EXPIRES: u64 = 604_800;

/// Most headers a request may sign; keeps the rebuilt request small.
pub(crate) const MAX_SIGNED_HEADERS: usize = 32;

const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The query parameters that carry presigned authentication.
const QUERY_AUTH_PARAMS: [&str; 7] = [
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
    "X-Amz-Security-Token",
];

/// What was received, as the verifier needs it.
pub(crate) struct Received<'a> {
    /// `GET` or `POST`.
    pub(crate) method: &'a str,
    /// The path as received (still percent-encoded).
    pub(crate) path: &'a str,
    /// The raw query string, without `?`.
    pub(crate) raw_query: &'a str,
    /// The decoded query parameters.
    pub(crate) query: &'a [(String, String)],
    pub(crate) headers: &'a HeaderMap,
    pub(crate) body: &'a [u8],
    /// The signing service the request's API expects: `sts` or `iam`.
    pub(crate) service: &'static str,
}

/// Where the signature travelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Location {
    /// `Authorization` header.
    Header,
    /// Query string, valid for this many seconds.
    Query { expires: u64 },
}

/// The authentication claims of a request, parsed but not yet verified.
pub(crate) struct Claim {
    pub(crate) access_key_id: String,
    pub(crate) region: String,
    /// The scope's service (the one [`Received::service`] expected).
    pub(crate) service: &'static str,
    /// Lowercase, in the order given.
    pub(crate) signed_headers: Vec<String>,
    signature: String,
    pub(crate) time: Timestamp,
    pub(crate) session_token: Option<String>,
    pub(crate) location: Location,
}

impl fmt::Debug for Claim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Claim")
            .field("access_key_id", &self.access_key_id)
            .field("region", &self.region)
            .field("service", &self.service)
            .field("signed_headers", &self.signed_headers)
            .field("signature", &"<redacted>")
            .field("time", &self.time)
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .field("location", &self.location)
            .finish()
    }
}

/// Parses the authentication material; `Ok(None)` if there is none at all.
pub(crate) fn parse(req: &Received<'_>) -> Result<Option<Claim>, StsFault> {
    let in_query = req
        .query
        .iter()
        .any(|(k, _)| QUERY_AUTH_PARAMS[..6].contains(&k.as_str()));
    let auth_headers = req
        .headers
        .get_all(http::header::AUTHORIZATION)
        .iter()
        .count();
    match (auth_headers, in_query) {
        (0, false) => Ok(None),
        (0, true) => parse_query(req).map(Some),
        (1, false) => parse_header(req).map(Some),
        _ => Err(StsFault::incomplete(
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter \
             or the Authorization header should be specified.",
        )),
    }
}

fn single_header<'h>(headers: &'h HeaderMap, name: &str) -> Result<Option<&'h str>, StsFault> {
    let mut values = headers.get_all(name).iter();
    match (values.next(), values.next()) {
        (None, _) => Ok(None),
        (Some(v), None) => v
            .to_str()
            .map(Some)
            .map_err(|_| StsFault::incomplete(format!("Header {name} is not valid."))),
        (Some(_), Some(_)) => Err(StsFault::incomplete(format!("Header {name} is repeated."))),
    }
}

fn parse_header(req: &Received<'_>) -> Result<Claim, StsFault> {
    let auth = single_header(req.headers, "authorization")?.unwrap_or_default();
    let rest = auth
        .strip_prefix(ALGORITHM)
        .and_then(|r| r.strip_prefix(' '))
        .ok_or_else(|| {
            StsFault::incomplete("Unsupported AWS 'algorithm' in the Authorization header.")
        })?;
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (k, v) = part
            .trim()
            .split_once('=')
            .ok_or_else(|| StsFault::incomplete("Authorization header has a malformed element."))?;
        let slot = match k {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed,
            "Signature" => &mut signature,
            _ => {
                return Err(StsFault::incomplete(
                    "Authorization header has an unknown element.",
                ))
            }
        };
        if slot.replace(v).is_some() {
            return Err(StsFault::incomplete(
                "Authorization header repeats an element.",
            ));
        }
    }
    let (Some(credential), Some(signed), Some(signature)) = (credential, signed, signature) else {
        return Err(StsFault::incomplete(
            "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature'.",
        ));
    };
    let date = single_header(req.headers, "x-amz-date")?.ok_or_else(|| {
        StsFault::incomplete("Authorization header requires existence of the X-Amz-Date header.")
    })?;
    let session_token = single_header(req.headers, "x-amz-security-token")?.map(str::to_owned);
    build_claim(
        req.service,
        credential,
        signed,
        signature,
        date,
        session_token,
        Location::Header,
    )
}

fn parse_query(req: &Received<'_>) -> Result<Claim, StsFault> {
    let get = |name: &str| {
        req.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let need = |name: &str| {
        get(name).ok_or_else(|| {
            StsFault::incomplete(format!(
                "Query-string authentication requires the {name} parameter."
            ))
        })
    };
    if need("X-Amz-Algorithm")? != ALGORITHM {
        return Err(StsFault::incomplete("Unsupported X-Amz-Algorithm."));
    }
    let expires = need("X-Amz-Expires")?;
    let expires = parse_expires(expires).ok_or_else(|| {
        StsFault::incomplete(format!(
            "X-Amz-Expires must be an integer in 1..={MAX_PRESIGN_EXPIRES}."
        ))
    })?;
    build_claim(
        req.service,
        need("X-Amz-Credential")?,
        need("X-Amz-SignedHeaders")?,
        need("X-Amz-Signature")?,
        need("X-Amz-Date")?,
        get("X-Amz-Security-Token").map(str::to_owned),
        Location::Query { expires },
    )
}

fn parse_expires(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 7 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse()
        .ok()
        .filter(|e| (1..=MAX_PRESIGN_EXPIRES).contains(e))
}

fn build_claim(
    expected_service: &'static str,
    credential: &str,
    signed: &str,
    signature: &str,
    date: &str,
    session_token: Option<String>,
    location: Location,
) -> Result<Claim, StsFault> {
    let time = parse_amz_date(date).ok_or_else(|| {
        StsFault::incomplete(
            "X-Amz-Date must be in the ISO 8601 basic format YYYYMMDD'T'HHMMSS'Z'.",
        )
    })?;
    let parts: Vec<&str> = credential.split('/').collect();
    let [akid, scope_date, region, service, terminator] = parts[..] else {
        return Err(StsFault::incomplete(format!(
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{}'.",
            echo(credential)
        )));
    };
    if akid.is_empty() {
        return Err(StsFault::invalid_client_token());
    }
    if scope_date != &date[..8] {
        return Err(StsFault::signature(Some(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP.",
        )));
    }
    let region_ok = !region.is_empty()
        && region.len() <= 32
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !region_ok {
        return Err(StsFault::signature(Some(
            "Credential should be scoped to a valid region.",
        )));
    }
    if service != expected_service {
        return Err(StsFault::signature(Some(&format!(
            "Credential should be scoped to correct service: '{expected_service}'."
        ))));
    }
    if terminator != "aws4_request" {
        return Err(StsFault::signature(Some(
            "Credential should be scoped with a valid terminator: 'aws4_request'.",
        )));
    }
    let signed_headers = parse_signed_headers(signed)?;
    Ok(Claim {
        access_key_id: akid.to_owned(),
        region: region.to_owned(),
        service: expected_service,
        signed_headers,
        signature: signature.to_owned(),
        time,
        session_token,
        location,
    })
}

fn parse_signed_headers(signed: &str) -> Result<Vec<String>, StsFault> {
    let names: Vec<String> = signed.split(';').map(str::to_owned).collect();
    let valid_name = |n: &String| {
        !n.is_empty()
            && n.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b))
    };
    if names.len() > MAX_SIGNED_HEADERS || !names.iter().all(valid_name) {
        return Err(StsFault::incomplete("SignedHeaders is malformed."));
    }
    if !names.windows(2).all(|w| w[0] < w[1]) {
        return Err(StsFault::signature(Some(
            "SignedHeaders must be sorted and unique.",
        )));
    }
    if !names.iter().any(|n| n == "host") {
        return Err(StsFault::signature(Some(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
        )));
    }
    Ok(names)
}

/// Parses `YYYYMMDD'T'HHMMSS'Z'` strictly.
pub(crate) fn parse_amz_date(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<i32> {
        let part = s.get(r)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    let date = jiff::civil::Date::new(
        i16::try_from(digits(0..4)?).ok()?,
        i8::try_from(digits(4..6)?).ok()?,
        i8::try_from(digits(6..8)?).ok()?,
    )
    .ok()?;
    let time = jiff::civil::Time::new(
        i8::try_from(digits(9..11)?).ok()?,
        i8::try_from(digits(11..13)?).ok()?,
        i8::try_from(digits(13..15)?).ok()?,
        0,
    )
    .ok()?;
    date.to_datetime(time)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp())
}

fn amz_date(t: Timestamp) -> String {
    t.strftime("%Y%m%dT%H%M%SZ").to_string()
}
