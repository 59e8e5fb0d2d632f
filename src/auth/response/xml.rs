//! Strict XML reading of STS answers with quick-xml.
//!
//! Invariants: no DOCTYPE (so no DTD and no entity declarations), no processing
//! instruction other than a leading XML declaration, no comments or CDATA, no
//! entity references beyond XML's five predefined ones and character
//! references; every element is in the STS namespace; the tree is exactly
//! `GetCallerIdentityResponse{GetCallerIdentityResult{Arn,UserId,Account},
//! ResponseMetadata?{RequestId?}}`, each at most once, no attributes other than
//! namespace declarations, no text outside leaves. Depth is bounded at 3, so
//! hostile nesting costs nothing.

use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::name::{Namespace, ResolveResult};
use quick_xml::NsReader;

use super::{GciFields, ResponseError, STS_NAMESPACE};

const ROOT: &[u8] = b"GetCallerIdentityResponse";
const RESULT: &[u8] = b"GetCallerIdentityResult";
const METADATA: &[u8] = b"ResponseMetadata";

/// Which element we are in; the stack never exceeds three entries.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Node {
    Root,
    Result,
    Metadata,
    /// A leaf: index into the field slots (0 Arn, 1 UserId, 2 Account, 3 RequestId).
    Leaf(usize),
}

/// Parses a `GetCallerIdentityResponse`.
pub(super) fn parse_gci(body: &str) -> Result<GciFields, ResponseError> {
    let mut reader = NsReader::from_str(body);
    reader.config_mut().expand_empty_elements = true;
    let mut stack: Vec<Node> = Vec::with_capacity(3);
    let mut seen_root = false;
    let mut seen_result = false;
    let mut seen_metadata = false;
    let mut fields: [Option<String>; 4] = Default::default();
    let mut first = true;
    loop {
        let (ns, event) = reader
            .read_resolved_event()
            .map_err(|_| ResponseError::Malformed)?;
        let was_first = std::mem::replace(&mut first, false);
        match event {
            Event::Decl(_) if was_first => {}
            Event::Decl(_) | Event::PI(_) => return Err(ResponseError::ProcessingInstruction),
            Event::DocType(_) => return Err(ResponseError::Doctype),
            Event::Comment(_) | Event::CData(_) => return Err(ResponseError::UnsupportedNode),
            Event::Start(start) => {
                if ns != ResolveResult::Bound(Namespace(STS_NAMESPACE.as_bytes())) {
                    return Err(ResponseError::WrongNamespace);
                }
                check_attributes(&start)?;
                let name = start.local_name();
                let name = name.as_ref();
                let node = match stack.last() {
                    None if seen_root => return Err(ResponseError::Malformed),
                    None if name == ROOT => {
                        seen_root = true;
                        Node::Root
                    }
                    None => return Err(ResponseError::WrongRoot),
                    Some(Node::Root) if name == RESULT => {
                        once(&mut seen_result)?;
                        Node::Result
                    }
                    Some(Node::Root) if name == METADATA => {
                        once(&mut seen_metadata)?;
                        Node::Metadata
                    }
                    Some(Node::Result) => match name {
                        b"Arn" => Node::Leaf(0),
                        b"UserId" => Node::Leaf(1),
                        b"Account" => Node::Leaf(2),
                        _ => return Err(ResponseError::UnexpectedElement),
                    },
                    Some(Node::Metadata) if name == b"RequestId" => Node::Leaf(3),
                    Some(_) => return Err(ResponseError::UnexpectedElement),
                };
                if let Node::Leaf(i) = node {
                    if fields[i].is_some() {
                        return Err(ResponseError::DuplicateElement);
                    }
                    fields[i] = Some(String::new());
                }
                stack.push(node);
            }
            Event::End(_) => {
                stack.pop();
            }
            Event::Text(text) => {
                let text = text.decode().map_err(|_| ResponseError::Malformed)?;
                match stack.last() {
                    Some(Node::Leaf(i)) => push(&mut fields[*i], &text),
                    _ if text.trim().is_empty() => {}
                    _ => return Err(ResponseError::Malformed),
                }
            }
            Event::GeneralRef(r) => match stack.last() {
                Some(Node::Leaf(i)) => {
                    let c = resolve_reference(&r)?;
                    push(&mut fields[*i], c.encode_utf8(&mut [0; 4]));
                }
                _ => return Err(ResponseError::Malformed),
            },
            Event::Empty(_) => return Err(ResponseError::Malformed),
            Event::Eof => break,
        }
    }
    if !seen_root || !stack.is_empty() {
        return Err(ResponseError::Malformed);
    }
    if !seen_result {
        return Err(ResponseError::MissingElement);
    }
    let [arn, user_id, account, _request_id] = fields;
    match (arn, user_id, account) {
        (Some(arn), Some(user_id), Some(account)) => Ok(GciFields {
            arn,
            user_id,
            account,
        }),
        _ => Err(ResponseError::MissingElement),
    }
}

fn once(seen: &mut bool) -> Result<(), ResponseError> {
    if std::mem::replace(seen, true) {
        Err(ResponseError::DuplicateElement)
    } else {
        Ok(())
    }
}

fn push(slot: &mut Option<String>, text: &str) {
    if let Some(s) = slot {
        s.push_str(text);
    }
}

/// Only namespace declarations (`xmlns`, `xmlns:p`) are allowed as attributes.
fn check_attributes(start: &BytesStart<'_>) -> Result<(), ResponseError> {
    for attr in start.attributes() {
        let attr = attr.map_err(|_| ResponseError::Malformed)?;
        if attr.key.as_namespace_binding().is_none() {
            return Err(ResponseError::UnexpectedAttribute);
        }
    }
    Ok(())
}

/// `&#NN;` / `&#xNN;` and the five predefined entities; anything else is refused.
fn resolve_reference(r: &BytesRef<'_>) -> Result<char, ResponseError> {
    if r.is_char_ref() {
        return r
            .resolve_char_ref()
            .ok()
            .flatten()
            .ok_or(ResponseError::Entity);
    }
    match r.as_ref() {
        b"amp" => Ok('&'),
        b"lt" => Ok('<'),
        b"gt" => Ok('>'),
        b"quot" => Ok('"'),
        b"apos" => Ok('\''),
        _ => Err(ResponseError::Entity),
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
