//! The checks that need the secret or the clock: time windows and the
//! signature itself, recomputed by `aws-sigv4` and compared in constant time.

use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{
    sign, SessionTokenMode, SignableBody, SignableRequest, SignatureLocation, SigningParams,
    SigningSettings,
};
use aws_sigv4::sign::v4;
use http::StatusCode;
use jiff::{SignedDuration, Timestamp};
use subtle::ConstantTimeEq as _;

use super::{amz_date, Claim, Location, Received, MAX_CLOCK_SKEW, QUERY_AUTH_PARAMS};
use crate::sts::sim::params::{decode_component, raw_pairs};
use crate::sts::sim::xml::StsFault;

/// Checks the claim's time against the clock.
pub(crate) fn check_time(claim: &Claim, now: Timestamp) -> Result<(), StsFault> {
    let latest = now.checked_add(MAX_CLOCK_SKEW).unwrap_or(now);
    if claim.time > latest {
        return Err(StsFault::signature(Some(&format!(
            "Signature not yet current: {} is still later than {} ({} + 15 min.)",
            amz_date(claim.time),
            amz_date(latest),
            amz_date(now)
        ))));
    }
    match claim.location {
        Location::Header => {
            let earliest = now.checked_sub(MAX_CLOCK_SKEW).unwrap_or(now);
            if claim.time < earliest {
                return Err(StsFault::signature(Some(&format!(
                    "Signature expired: {} is now earlier than {} ({} - 15 min.)",
                    amz_date(claim.time),
                    amz_date(earliest),
                    amz_date(now)
                ))));
            }
        }
        Location::Query { expires } => {
            let secs = i64::try_from(expires).unwrap_or(i64::MAX);
            let end = claim
                .time
                .checked_add(SignedDuration::from_secs(secs))
                .unwrap_or(claim.time);
            if now > end {
                return Err(StsFault::access_denied("Request has expired"));
            }
        }
    }
    Ok(())
}

/// The raw query without the presigned authentication parameters, byte for byte.
fn query_without_auth(raw: &str) -> String {
    raw_pairs(raw)
        .filter(|(k, _)| {
            decode_component(k).is_none_or(|k| !QUERY_AUTH_PARAMS.contains(&k.as_str()))
        })
        .map(|(k, v)| {
            if v.is_empty() {
                k.to_owned()
            } else {
                format!("{k}={v}")
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Recomputes the signature with `secret` and compares it in constant time.
pub(crate) fn verify(req: &Received<'_>, claim: &Claim, secret: &str) -> Result<(), StsFault> {
    let expected = expected_signature(req, claim, secret)?;
    if bool::from(expected.as_bytes().ct_eq(claim.signature.as_bytes())) {
        Ok(())
    } else {
        Err(StsFault::signature(None))
    }
}

fn expected_signature(req: &Received<'_>, claim: &Claim, secret: &str) -> Result<String, StsFault> {
    let header_mode = claim.location == Location::Header;
    let mut headers: Vec<(&str, &str)> = Vec::new();
    for name in &claim.signed_headers {
        if header_mode && (name == "x-amz-date" || name == "x-amz-security-token") {
            continue; // the signer adds these from the time and the credentials
        }
        let mut any = false;
        for value in req.headers.get_all(name.as_str()) {
            let value = value.to_str().map_err(|_| StsFault::signature(None))?;
            headers.push((name.as_str(), value));
            any = true;
        }
        if !any {
            return Err(StsFault::signature(None));
        }
    }
    let token_signed = claim
        .signed_headers
        .iter()
        .any(|n| n == "x-amz-security-token");
    if header_mode && token_signed && claim.session_token.is_none() {
        return Err(StsFault::signature(None));
    }
    let query = match claim.location {
        Location::Header => req.raw_query.to_owned(),
        Location::Query { .. } => query_without_auth(req.raw_query),
    };
    let uri = if query.is_empty() {
        format!("https://sts.sim.invalid{}", req.path)
    } else {
        format!("https://sts.sim.invalid{}?{query}", req.path)
    };

    let mut settings = SigningSettings::default();
    // Sign exactly the headers the caller listed, no default exclusions.
    settings.excluded_headers = Some(Vec::new());
    match claim.location {
        Location::Header => {
            settings.signature_location = SignatureLocation::Headers;
            if !token_signed {
                settings.session_token_mode = SessionTokenMode::Exclude;
            }
        }
        Location::Query { expires } => {
            settings.signature_location = SignatureLocation::QueryParams;
            settings.expires_in = Some(Duration::from_secs(expires));
        }
    }
    let credentials = aws_credential_types::Credentials::new(
        claim.access_key_id.clone(),
        secret.to_owned(),
        claim.session_token.clone(),
        None,
        "tvm-sts-simulator",
    );
    let identity = credentials.into();
    let params: SigningParams<'_> = v4::SigningParams::builder()
        .identity(&identity)
        .region(&claim.region)
        .name(claim.service)
        .time(SystemTime::from(claim.time))
        .settings(settings)
        .build()
        .map_err(|_| internal())?
        .into();
    let signable = SignableRequest::new(
        req.method,
        uri,
        headers.into_iter(),
        SignableBody::Bytes(req.body),
    )
    .map_err(|_| StsFault::signature(None))?;
    let output = sign(signable, &params).map_err(|_| StsFault::signature(None))?;
    Ok(output.signature().to_owned())
}

fn internal() -> StsFault {
    StsFault::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "InternalFailure",
        "Internal failure.",
    )
}
