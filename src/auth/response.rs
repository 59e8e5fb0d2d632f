//! Reading STS's answer to the rebuilt `GetCallerIdentity`.
//!
//! Owns: status classification (200 / throttled / rejected / redirect / 5xx),
//! content-type dispatch, strict XML ([`xml`]) and JSON parsing of
//! `GetCallerIdentityResponse/GetCallerIdentityResult{Arn,UserId,Account}`, and
//! the consistency checks between the three fields.
//!
//! Invariants: only status 200 with an XML or JSON content type is parsed; the
//! body is at most [`MAX_RESPONSE_BYTES`]; exactly one result with exactly one of
//! each field and nothing else; `Account` is 12 digits and equals the ARN's
//! account; the ARN parses as an [`Identity`] (known partition, caller forms
//! only); `UserId` has the shape its principal type implies. STS error text is
//! never returned: only a sanitized error code, for the log.

pub(super) mod fields;
mod xml;

use serde::Deserialize;

use super::error::sanitize_sts_code;
use super::transport::{TransportResponse, MAX_RESPONSE_BYTES};
use super::VerifyError;
use crate::identity::{AccountId, Identity, Partition, PrincipalType};
pub(crate) use fields::GciFields;
pub use fields::ResponseError;

#[cfg(test)]
pub(crate) use crate::upstream::xml::STS_NAMESPACE;

/// STS error codes that mean "slow down" rather than "no".
const THROTTLING_CODES: &[&str] = &["Throttling", "ThrottlingException", "RequestLimitExceeded"];

/// Classifies the status and parses a 200 body.
pub(crate) fn interpret(response: &TransportResponse) -> Result<GciFields, VerifyError> {
    let status = response.status.as_u16();
    match status {
        200 => Ok(parse_success(response)?),
        429 => Err(VerifyError::StsThrottled { status }),
        300..=399 => Err(VerifyError::StsRedirect { status }),
        400..=499 => {
            let code = error_code(response);
            if code
                .as_deref()
                .is_some_and(|c| THROTTLING_CODES.contains(&c))
            {
                Err(VerifyError::StsThrottled { status })
            } else {
                Err(VerifyError::StsRejected { status, code })
            }
        }
        500..=599 => Err(VerifyError::StsUnavailable(format!("status {status}"))),
        _ => Err(ResponseError::Status.into()),
    }
}

enum Format {
    Xml,
    Json,
}

fn format_of(response: &TransportResponse) -> Option<Format> {
    let ct = response.content_type.as_deref()?;
    let media = ct.split(';').next().unwrap_or_default().trim();
    match media.to_ascii_lowercase().as_str() {
        "text/xml" | "application/xml" => Some(Format::Xml),
        "application/json" | "application/x-amz-json-1.0" | "application/x-amz-json-1.1" => {
            Some(Format::Json)
        }
        _ => None,
    }
}

fn parse_success(response: &TransportResponse) -> Result<GciFields, ResponseError> {
    if response.body.len() > MAX_RESPONSE_BYTES {
        return Err(ResponseError::TooLarge);
    }
    let format = format_of(response).ok_or(ResponseError::ContentType)?;
    let body = std::str::from_utf8(&response.body).map_err(|_| ResponseError::NotUtf8)?;
    match format {
        Format::Xml => xml::parse_gci(body),
        Format::Json => parse_json(body),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonEnvelope {
    #[serde(rename = "GetCallerIdentityResponse")]
    response: JsonResponse,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonResponse {
    #[serde(rename = "GetCallerIdentityResult")]
    result: GciFields,
    #[serde(rename = "ResponseMetadata", default)]
    _metadata: Option<JsonMetadata>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonMetadata {
    #[serde(rename = "RequestId", default)]
    _request_id: Option<String>,
}

/// STS's JSON shape. serde refuses duplicate and unknown keys at every level.
fn parse_json(body: &str) -> Result<GciFields, ResponseError> {
    serde_json::from_str::<JsonEnvelope>(body)
        .map(|e| e.response.result)
        .map_err(|_| ResponseError::Malformed)
}

/// The STS error code of a 4xx body, sanitized; `None` if unreadable.
fn error_code(response: &TransportResponse) -> Option<String> {
    if response.body.len() > MAX_RESPONSE_BYTES {
        return None;
    }
    let body = std::str::from_utf8(&response.body).ok()?;
    let code = match format_of(response) {
        Some(Format::Json) => {
            let v: serde_json::Value = serde_json::from_str(body).ok()?;
            v.pointer("/Error/Code")
                .or_else(|| v.get("__type"))
                .and_then(|c| c.as_str())
                .map(str::to_owned)?
        }
        _ => xml::error_code(body)?,
    };
    sanitize_sts_code(&code)
}

/// Checks the fields against each other and builds the [`Identity`]. The ARN
/// must be in `partition` (the configured one), with a real AWS host allowlist
/// and with a configured endpoint alike.
pub(crate) fn check_identity(
    fields: GciFields,
    partition: Partition,
) -> Result<(Identity, String), ResponseError> {
    let GciFields {
        arn,
        user_id,
        account,
    } = fields;
    let account = AccountId::parse(&account).map_err(|_| ResponseError::BadAccount)?;
    let identity = Identity::from_arn(&arn).map_err(|_| ResponseError::BadArn)?;
    if *identity.account() != account {
        return Err(ResponseError::AccountMismatch);
    }
    if partition != identity.partition() {
        return Err(ResponseError::PartitionMismatch);
    }
    if !user_id_consistent(&identity, &user_id) {
        return Err(ResponseError::BadUserId);
    }
    Ok((identity, user_id))
}

/// `AIDA…` for users, `AROA…:{session}` for role sessions, the account id for
/// root, `{account}:{name}` for federated users.
fn user_id_consistent(identity: &Identity, user_id: &str) -> bool {
    let unique_id = |s: &str, prefix: &str| {
        s.strip_prefix(prefix).is_some_and(|rest| {
            (1..=124).contains(&rest.len())
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        })
    };
    let arn = identity.arn();
    match identity.principal_type() {
        PrincipalType::User => unique_id(user_id, "AIDA"),
        PrincipalType::AssumedRole => user_id.split_once(':').is_some_and(|(id, session)| {
            unique_id(id, "AROA") && arn.session_name() == Some(session)
        }),
        PrincipalType::Root => user_id == identity.account().as_str(),
        PrincipalType::FederatedUser => user_id.split_once(':').is_some_and(|(acct, name)| {
            acct == identity.account().as_str() && arn.user_name() == Some(name)
        }),
    }
}

#[cfg(test)]
mod tests;
