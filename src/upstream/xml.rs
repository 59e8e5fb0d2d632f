//! Strict XML reading of STS answers with quick-xml, shared by the verifier
//! (`GetCallerIdentity`) and tvm's own `AssumeRole` / `GetCallerIdentity`,
//! and of IAM's answers to tvm's role-policy calls ([`crate::sts::iam`]).
//!
//! Owns: [`read_strict`], a reader driven by a closed [`Element`] schema, and
//! [`error_fields`], which reads an STS error document the way the AWS SDK does
//! (so errors are classified alike).
//!
//! Invariants of [`read_strict`]: no DOCTYPE (so no DTD and no entity
//! declarations), no processing instruction other than a leading XML
//! declaration, no comments or CDATA, no entity references beyond XML's five
//! predefined ones and character references; every element is in the STS
//! namespace (or IAM's, for [`read_strict_in`]) and is one the schema names
//! under its parent, each at most once (under an [`Element::open_node`], an
//! element the schema does not name is skipped whole: AWS may add fields to
//! an answer tvm only reads from);
//! no attributes other than namespace declarations; no text outside leaves.
//! Depth is bounded by the schema's, so hostile nesting costs nothing.

use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::name::{Namespace, ResolveResult};
use quick_xml::NsReader;

/// The XML namespace of STS 2011-06-15 responses.
pub(crate) const STS_NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// The XML namespace of IAM 2010-05-08 responses.
pub(crate) const IAM_NAMESPACE: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

/// Most levels an error document is read to; deeper ones make it unreadable.
const MAX_ERROR_DEPTH: usize = 4;

/// Why a document was refused. Static texts only: the body is upstream data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    /// Not well-formed, stray text, or a second root.
    #[error("malformed body")]
    Malformed,
    /// A DOCTYPE (and so possibly entity declarations).
    #[error("DOCTYPE present")]
    Doctype,
    /// A processing instruction other than the leading XML declaration.
    #[error("processing instruction present")]
    ProcessingInstruction,
    /// An entity reference other than the five predefined ones.
    #[error("unknown entity reference")]
    Entity,
    /// A comment or CDATA section.
    #[error("comment or CDATA present")]
    UnsupportedNode,
    /// The root element is not the schema's.
    #[error("wrong root element")]
    WrongRoot,
    /// An element outside the STS 2011-06-15 namespace.
    #[error("wrong namespace")]
    WrongNamespace,
    /// An attribute other than a namespace declaration.
    #[error("unexpected attribute")]
    UnexpectedAttribute,
    /// An element the schema does not allow where it appears.
    #[error("unexpected element")]
    UnexpectedElement,
    /// An element that may appear once appears twice.
    #[error("duplicate element")]
    DuplicateElement,
}

/// One element of a closed schema. Index 0 is the root (`parent: None`); every
/// other element names the index of its parent, which comes before it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Element {
    /// Local name.
    pub(crate) name: &'static str,
    /// Index of the parent element; `None` only for the root.
    pub(crate) parent: Option<usize>,
    /// A leaf holds text and no elements.
    pub(crate) leaf: bool,
    /// Elements below this one that the schema does not name are skipped
    /// whole (with everything inside them) instead of refused: for answers
    /// AWS may extend, where tvm reads only what it needs.
    pub(crate) open: bool,
}

impl Element {
    /// The root element.
    pub(crate) const fn root(name: &'static str) -> Self {
        Self {
            name,
            parent: None,
            leaf: false,
            open: false,
        }
    }

    /// An element holding elements, under `parent`.
    pub(crate) const fn node(name: &'static str, parent: usize) -> Self {
        Self {
            name,
            parent: Some(parent),
            leaf: false,
            open: false,
        }
    }

    /// [`Element::node`] whose unnamed children are skipped, not refused.
    pub(crate) const fn open_node(name: &'static str, parent: usize) -> Self {
        Self {
            open: true,
            ..Self::node(name, parent)
        }
    }

    /// A text element under `parent`.
    pub(crate) const fn leaf(name: &'static str, parent: usize) -> Self {
        Self {
            name,
            parent: Some(parent),
            leaf: true,
            open: false,
        }
    }
}

/// `GetCallerIdentityResponse`: 1 the result, 2..=4 `Arn`, `UserId`, `Account`,
/// 6 the request id.
pub(crate) const GET_CALLER_IDENTITY: [Element; 7] = [
    Element::root("GetCallerIdentityResponse"),
    Element::node("GetCallerIdentityResult", 0),
    Element::leaf("Arn", 1),
    Element::leaf("UserId", 1),
    Element::leaf("Account", 1),
    Element::node("ResponseMetadata", 0),
    Element::leaf("RequestId", 5),
];

/// What [`read_strict`] found, by schema index.
#[derive(Debug)]
pub(crate) struct Document<const N: usize> {
    /// Whether each element appeared.
    pub(crate) seen: [bool; N],
    /// The text of each leaf that appeared (`None` for other elements).
    pub(crate) text: [Option<String>; N],
}

/// Reads `body` against `schema` (see the module docs for what is refused).
pub(crate) fn read_strict<const N: usize>(
    body: &str,
    schema: &[Element; N],
) -> Result<Document<N>, XmlError> {
    read_strict_in(body, STS_NAMESPACE, schema)
}

/// [`read_strict`] for a document in `namespace` (IAM's answers are in
/// [`IAM_NAMESPACE`]), with the same rules.
pub(crate) fn read_strict_in<const N: usize>(
    body: &str,
    namespace: &str,
    schema: &[Element; N],
) -> Result<Document<N>, XmlError> {
    let mut reader = NsReader::from_str(body);
    reader.config_mut().expand_empty_elements = true;
    let mut stack: Vec<usize> = Vec::with_capacity(8);
    let mut doc = Document {
        seen: [false; N],
        text: std::array::from_fn(|_| None),
    };
    let mut first = true;
    loop {
        let (ns, event) = reader
            .read_resolved_event()
            .map_err(|_| XmlError::Malformed)?;
        let was_first = std::mem::replace(&mut first, false);
        match event {
            Event::Decl(_) if was_first => {}
            Event::Decl(_) | Event::PI(_) => return Err(XmlError::ProcessingInstruction),
            Event::DocType(_) => return Err(XmlError::Doctype),
            Event::Comment(_) | Event::CData(_) => return Err(XmlError::UnsupportedNode),
            Event::Start(start) => {
                if ns != ResolveResult::Bound(Namespace(namespace.as_bytes())) {
                    return Err(XmlError::WrongNamespace);
                }
                check_attributes(&start)?;
                let name = start.local_name();
                let name = name.as_ref();
                let index = match stack.last() {
                    None if doc.seen[0] => return Err(XmlError::Malformed),
                    None if name == schema[0].name.as_bytes() => 0,
                    None => return Err(XmlError::WrongRoot),
                    Some(&parent) => {
                        match schema
                            .iter()
                            .position(|e| e.parent == Some(parent) && e.name.as_bytes() == name)
                        {
                            Some(index) => index,
                            None if schema[parent].open => {
                                reader
                                    .read_to_end(start.name())
                                    .map_err(|_| XmlError::Malformed)?;
                                continue;
                            }
                            None => return Err(XmlError::UnexpectedElement),
                        }
                    }
                };
                if std::mem::replace(&mut doc.seen[index], true) {
                    return Err(XmlError::DuplicateElement);
                }
                if schema[index].leaf {
                    doc.text[index] = Some(String::new());
                }
                stack.push(index);
            }
            Event::End(_) => {
                stack.pop();
            }
            Event::Text(text) => {
                let text = text.decode().map_err(|_| XmlError::Malformed)?;
                match stack.last() {
                    Some(&i) if schema[i].leaf => push(&mut doc.text[i], &text),
                    _ if text.trim().is_empty() => {}
                    _ => return Err(XmlError::Malformed),
                }
            }
            Event::GeneralRef(r) => match stack.last() {
                Some(&i) if schema[i].leaf => {
                    let c = resolve_reference(&r).ok_or(XmlError::Entity)?;
                    push(&mut doc.text[i], c.encode_utf8(&mut [0; 4]));
                }
                _ => return Err(XmlError::Malformed),
            },
            Event::Empty(_) => return Err(XmlError::Malformed),
            Event::Eof => break,
        }
    }
    if !doc.seen[0] || !stack.is_empty() {
        return Err(XmlError::Malformed);
    }
    Ok(doc)
}

fn push(slot: &mut Option<String>, text: &str) {
    if let Some(s) = slot {
        s.push_str(text);
    }
}

/// Only namespace declarations (`xmlns`, `xmlns:p`) are allowed as attributes.
fn check_attributes(start: &BytesStart<'_>) -> Result<(), XmlError> {
    for attr in start.attributes() {
        let attr = attr.map_err(|_| XmlError::Malformed)?;
        if attr.key.as_namespace_binding().is_none() {
            return Err(XmlError::UnexpectedAttribute);
        }
    }
    Ok(())
}

/// `&#NN;` / `&#xNN;` and the five predefined entities; anything else is `None`.
pub(crate) fn resolve_reference(r: &BytesRef<'_>) -> Option<char> {
    if r.is_char_ref() {
        return r.resolve_char_ref().ok().flatten();
    }
    match r.as_ref() {
        b"amp" => Some('&'),
        b"lt" => Some('<'),
        b"gt" => Some('>'),
        b"quot" => Some('"'),
        b"apos" => Some('\''),
        _ => None,
    }
}

/// `Code` and `Message` of an STS error document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ErrorFields {
    /// `Error/Code`, if present.
    pub(crate) code: Option<String>,
    /// `Error/Message`, if present.
    pub(crate) message: Option<String>,
}

/// Reads an error document as the AWS SDK's query protocol does: any root, its
/// child `Error`, and that element's `Code` and `Message` (the last of each
/// wins). Refuses DOCTYPE, processing instructions, unknown entities and
/// nesting deeper than [`MAX_ERROR_DEPTH`] by returning empty fields: the
/// answer is then classified by its status alone.
pub(crate) fn error_fields(body: &str) -> ErrorFields {
    read_error(body).unwrap_or_default()
}

fn read_error(body: &str) -> Option<ErrorFields> {
    let mut reader = NsReader::from_str(body);
    reader.config_mut().expand_empty_elements = true;
    let mut path: Vec<Vec<u8>> = Vec::with_capacity(MAX_ERROR_DEPTH);
    let mut fields = ErrorFields::default();
    loop {
        let (_, event) = reader.read_resolved_event().ok()?;
        match event {
            Event::DocType(_) | Event::PI(_) => return None,
            Event::Start(start) => {
                if path.len() >= MAX_ERROR_DEPTH {
                    return None;
                }
                path.push(start.local_name().as_ref().to_vec());
                match slot(&path) {
                    Some(0) => fields.code = Some(String::new()),
                    Some(_) => fields.message = Some(String::new()),
                    None => {}
                }
            }
            Event::End(_) => {
                path.pop();
            }
            Event::Text(text) => {
                let text = text.decode().ok()?;
                append(&mut fields, slot(&path), &text);
            }
            Event::GeneralRef(r) => {
                let c = resolve_reference(&r)?;
                append(&mut fields, slot(&path), c.encode_utf8(&mut [0; 4]));
            }
            Event::Eof => return path.is_empty().then_some(fields),
            _ => {}
        }
    }
}

/// 0 for `root/Error/Code`, 1 for `root/Error/Message`.
fn slot(path: &[Vec<u8>]) -> Option<usize> {
    match path {
        [_, error, field] if error.as_slice() == b"Error" => match field.as_slice() {
            b"Code" => Some(0),
            b"Message" => Some(1),
            _ => None,
        },
        _ => None,
    }
}

fn append(fields: &mut ErrorFields, slot: Option<usize>, text: &str) {
    let target = match slot {
        Some(0) => &mut fields.code,
        Some(_) => &mut fields.message,
        None => return,
    };
    push(target, text);
}

#[cfg(test)]
mod tests;
