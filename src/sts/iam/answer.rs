//! Reading IAM's answers to tvm's role-policy calls: error classification and
//! the strict success documents of `PutRolePolicy`, `DeleteRolePolicy` and
//! `GetRolePolicy`.
//!
//! Invariants: a non-2xx is classified by status and `Error/Code` alone
//! (429 or a throttling code → throttled, another 5xx → unavailable, the four
//! codes the revocation writer acts on → their variants, anything else →
//! rejected with its code); a 2xx is read only as the closed document of its
//! call in IAM's namespace ([`crate::upstream::xml`]); `GetRolePolicy` must
//! name the role and policy asked for, and its document is percent-decoded
//! strictly (a bad escape or non-UTF-8 result is an unreadable answer, `+`
//! stays `+`: IAM encodes per RFC 3986). IAM's `Message` is cut to
//! [`MAX_MESSAGE_CHARS`].

use super::error::IamError;
use crate::upstream::transport::TransportResponse;
use crate::upstream::xml::{error_fields, read_strict_in, Element, IAM_NAMESPACE};

/// The error codes read as throttling.
const THROTTLING_CODES: [&str; 3] = ["Throttling", "ThrottlingException", "RequestLimitExceeded"];
/// The most characters of IAM's `Message` kept in an error (for the log).
pub(crate) const MAX_MESSAGE_CHARS: usize = 512;

/// Which empty-result call answered.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Call {
    /// `PutRolePolicy`.
    Put,
    /// `DeleteRolePolicy`.
    Delete,
}

const PUT: [Element; 3] = [
    Element::root("PutRolePolicyResponse"),
    Element::node("ResponseMetadata", 0),
    Element::leaf("RequestId", 1),
];

const DELETE: [Element; 3] = [
    Element::root("DeleteRolePolicyResponse"),
    Element::node("ResponseMetadata", 0),
    Element::leaf("RequestId", 1),
];

/// `GetRolePolicyResponse`: 2 `RoleName`, 3 `PolicyName`, 4 `PolicyDocument`.
/// The result is open: IAM may add fields to an answer tvm only reads from.
const GET: [Element; 7] = [
    Element::root("GetRolePolicyResponse"),
    Element::open_node("GetRolePolicyResult", 0),
    Element::leaf("RoleName", 1),
    Element::leaf("PolicyName", 1),
    Element::leaf("PolicyDocument", 1),
    Element::node("ResponseMetadata", 0),
    Element::leaf("RequestId", 5),
];

/// The error of a non-2xx answer.
pub(crate) fn classify(response: &TransportResponse) -> IamError {
    let status = response.status.as_u16();
    let fields = std::str::from_utf8(&response.body)
        .map(error_fields)
        .unwrap_or_default();
    let code = fields
        .code
        .unwrap_or_else(|| format!("Unknown (HTTP {status})"));
    let message: String = fields
        .message
        .unwrap_or_default()
        .chars()
        .take(MAX_MESSAGE_CHARS)
        .collect();
    if status == 429 || THROTTLING_CODES.contains(&code.as_str()) {
        return IamError::Throttling(format!("{code}: {message}"));
    }
    if status >= 500 {
        return IamError::Unavailable(format!("{code}: {message}"));
    }
    match code.as_str() {
        "NoSuchEntity" => IamError::NoSuchEntity(message),
        "LimitExceeded" => IamError::LimitExceeded(message),
        "MalformedPolicyDocument" => IamError::MalformedPolicyDocument(message),
        "AccessDenied" | "AccessDeniedException" => IamError::AccessDenied(message),
        _ => IamError::Rejected { code, message },
    }
}

fn malformed(what: &str, why: impl std::fmt::Display) -> IamError {
    IamError::Unavailable(format!("unreadable {what} answer from IAM: {why}"))
}

fn body<'a>(response: &'a TransportResponse, what: &str) -> Result<&'a str, IamError> {
    std::str::from_utf8(&response.body).map_err(|_| malformed(what, "not UTF-8"))
}

/// Checks a 2xx `PutRolePolicy` / `DeleteRolePolicy` answer.
pub(crate) fn empty(response: &TransportResponse, call: Call) -> Result<(), IamError> {
    let (what, result) = match call {
        Call::Put => (
            "PutRolePolicy",
            read_strict_in(body(response, "PutRolePolicy")?, IAM_NAMESPACE, &PUT).map(drop),
        ),
        Call::Delete => (
            "DeleteRolePolicy",
            read_strict_in(body(response, "DeleteRolePolicy")?, IAM_NAMESPACE, &DELETE).map(drop),
        ),
    };
    result.map_err(|e| malformed(what, e))
}

/// Reads a 2xx `GetRolePolicy` answer: the decoded document of `policy_name`
/// on `role_name`.
pub(crate) fn policy_document(
    response: &TransportResponse,
    role_name: &str,
    policy_name: &str,
) -> Result<String, IamError> {
    const WHAT: &str = "GetRolePolicy";
    let doc = read_strict_in(body(response, WHAT)?, IAM_NAMESPACE, &GET)
        .map_err(|e| malformed(WHAT, e))?;
    let [_, _, role, policy, document, _, _] = doc.text;
    // Role names are unique without case in IAM, which answers with the
    // role's own spelling.
    let same_role = role
        .as_deref()
        .is_some_and(|r| r.trim().eq_ignore_ascii_case(role_name));
    if !same_role || policy.as_deref().map(str::trim) != Some(policy_name) {
        return Err(malformed(WHAT, "not the role and policy asked for"));
    }
    let document = document.ok_or_else(|| malformed(WHAT, "no PolicyDocument"))?;
    percent_decode(document.trim()).ok_or_else(|| malformed(WHAT, "bad percent-encoding"))
}

/// RFC 3986 percent-decoding: `%XX` only, the result UTF-8.
pub(crate) fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}
