//! The verifier's reading of STS answers: the `GetCallerIdentityResponse`
//! document through the shared strict reader ([`crate::upstream::xml`], which
//! states what is refused), and the error code of a refusal.
//!
//! Invariants: the tree is exactly `GetCallerIdentityResponse{
//! GetCallerIdentityResult{Arn,UserId,Account}, ResponseMetadata?{RequestId?}}`,
//! each at most once, the three fields required; an error body with a DOCTYPE,
//! a processing instruction or an entity reference yields no code.

use quick_xml::events::Event;
use quick_xml::NsReader;

use super::fields::{GciFields, ResponseError};
use crate::upstream::xml::{read_strict, GET_CALLER_IDENTITY};

/// Parses a `GetCallerIdentityResponse`.
pub(super) fn parse_gci(body: &str) -> Result<GciFields, ResponseError> {
    let doc = read_strict(body, &GET_CALLER_IDENTITY)?;
    if !doc.seen[1] {
        return Err(ResponseError::MissingElement);
    }
    let [_, _, arn, user_id, account, _, _] = doc.text;
    match (arn, user_id, account) {
        (Some(arn), Some(user_id), Some(account)) => Ok(GciFields {
            arn,
            user_id,
            account,
        }),
        _ => Err(ResponseError::MissingElement),
    }
}

/// Reads `Code` under `Error` from an STS error body (any root, any namespace),
/// with the same refusals of DOCTYPE, PIs and unknown entities. `None` when the
/// body is not such a document.
pub(super) fn error_code(body: &str) -> Option<String> {
    let mut reader = NsReader::from_str(body);
    reader.config_mut().expand_empty_elements = true;
    let mut path: Vec<Vec<u8>> = Vec::new();
    let mut code: Option<String> = None;
    loop {
        let (_, event) = reader.read_resolved_event().ok()?;
        match event {
            Event::DocType(_) | Event::PI(_) | Event::GeneralRef(_) => return None,
            Event::Start(start) => {
                if path.len() >= 4 {
                    return None;
                }
                path.push(start.local_name().as_ref().to_vec());
            }
            Event::End(_) => {
                path.pop();
            }
            Event::Text(text) => {
                let in_code = path.len() >= 2
                    && path[path.len() - 1] == b"Code"
                    && path[path.len() - 2] == b"Error";
                if in_code {
                    code.get_or_insert_with(String::new)
                        .push_str(&text.decode().ok()?);
                }
            }
            Event::Eof => return code,
            _ => {}
        }
    }
}
