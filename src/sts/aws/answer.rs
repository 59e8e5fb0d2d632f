//! Reading STS's answers to tvm's own calls: status, error documents and the
//! strict success documents of `AssumeRole` and `GetCallerIdentity`.
//!
//! Invariants: errors are classified exactly as the `aws-sdk-sts` adapter
//! ([`crate::sts::sdk`]) classifies them — status 429 or a `Throttling` /
//! `RequestLimitExceeded` code is throttled, another 5xx unavailable, any other
//! non-2xx rejected, with the code of `Error/Code` or `Unknown (HTTP n)`; a 2xx
//! is read only as the closed document of the call (see
//! [`crate::upstream::xml`]), with every credential field present and an
//! RFC 3339 expiration; anything else is unavailable. Texts here name what was
//! wrong, never a secret.

use jiff::Timestamp;

use super::super::{AssumedRole, CallerIdentity, Credentials, StsError};
use crate::upstream::transport::TransportResponse;
use crate::upstream::xml::{error_fields, read_strict, Element, GET_CALLER_IDENTITY};

/// The codes the SDK's adapter classified as throttling.
const THROTTLING_CODES: [&str; 2] = ["Throttling", "RequestLimitExceeded"];

/// `AssumeRoleResponse`, by index. The result and its parts are open: AWS
/// has added fields to this answer before (`SourceIdentity`,
/// `PackedPolicySize`), and a new one must not stop every vend; what tvm
/// reads is still required exactly once.
const ASSUME_ROLE: [Element; 14] = [
    Element::root("AssumeRoleResponse"),
    Element::open_node("AssumeRoleResult", 0),
    Element::leaf("SourceIdentity", 1),
    Element::open_node("AssumedRoleUser", 1),
    Element::leaf("AssumedRoleId", 3),
    Element::leaf("Arn", 3),
    Element::open_node("Credentials", 1),
    Element::leaf("AccessKeyId", 6),
    Element::leaf("SecretAccessKey", 6),
    Element::leaf("SessionToken", 6),
    Element::leaf("Expiration", 6),
    Element::leaf("PackedPolicySize", 1),
    Element::node("ResponseMetadata", 0),
    Element::leaf("RequestId", 12),
];

/// Whether a failed attempt may be retried: throttling and server errors.
pub(crate) fn retryable(status: u16, error: &StsError) -> bool {
    matches!(error, StsError::Throttled(_)) || (500..=599).contains(&status)
}

/// The error of a non-2xx answer.
pub(crate) fn classify(response: &TransportResponse) -> StsError {
    let status = response.status.as_u16();
    let fields = std::str::from_utf8(&response.body)
        .map(error_fields)
        .unwrap_or_default();
    let code = fields
        .code
        .unwrap_or_else(|| format!("Unknown (HTTP {status})"));
    let message = fields.message.unwrap_or_default();
    if status == 429 || THROTTLING_CODES.contains(&code.as_str()) {
        StsError::Throttled(format!("{code}: {message}"))
    } else if status >= 500 {
        StsError::Unavailable(format!("{code}: {message}"))
    } else {
        StsError::Rejected { code, message }
    }
}

fn malformed(what: &str, why: impl std::fmt::Display) -> StsError {
    StsError::Unavailable(format!("unreadable {what} answer from STS: {why}"))
}

fn body<'a>(response: &'a TransportResponse, what: &str) -> Result<&'a str, StsError> {
    std::str::from_utf8(&response.body).map_err(|_| malformed(what, "not UTF-8"))
}

/// Reads a 2xx `AssumeRole` answer.
pub(crate) fn assumed_role(response: &TransportResponse) -> Result<AssumedRole, StsError> {
    const WHAT: &str = "AssumeRole";
    let doc = read_strict(body(response, WHAT)?, &ASSUME_ROLE).map_err(|e| malformed(WHAT, e))?;
    let [_, _, _, _, role_id, arn, _, akid, secret, token, expiration, _, _, _] = doc.text;
    let (Some(access_key_id), Some(secret_access_key), Some(session_token), Some(expiration)) =
        (akid, secret, token, expiration)
    else {
        return Err(StsError::Unavailable(
            "AssumeRole returned no credentials".into(),
        ));
    };
    let expiration = expiration
        .trim()
        .parse::<Timestamp>()
        .map_err(|e| StsError::Unavailable(format!("bad expiration from STS: {e}")))?;
    if doc.seen[3] && (arn.is_none() || role_id.is_none()) {
        return Err(malformed(
            WHAT,
            "AssumedRoleUser without Arn or AssumedRoleId",
        ));
    }
    Ok(AssumedRole {
        credentials: Credentials {
            access_key_id,
            secret_access_key,
            session_token,
            expiration,
        },
        assumed_role_arn: arn,
        sts_request_id: response.request_id.clone(),
    })
}

/// Reads a 2xx `GetCallerIdentity` answer.
pub(crate) fn caller_identity(response: &TransportResponse) -> Result<CallerIdentity, StsError> {
    const WHAT: &str = "GetCallerIdentity";
    let doc =
        read_strict(body(response, WHAT)?, &GET_CALLER_IDENTITY).map_err(|e| malformed(WHAT, e))?;
    let [_, _, arn, _, account, _, _] = doc.text;
    match (arn, account) {
        (Some(arn), Some(account)) => Ok(CallerIdentity { arn, account }),
        _ => Err(StsError::Unavailable(
            "GetCallerIdentity returned no Arn or Account".into(),
        )),
    }
}

#[cfg(test)]
mod tests;
