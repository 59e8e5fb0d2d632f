//! What reading a `GetCallerIdentity` answer yields: its three fields, or why
//! a 200 answer was not accepted ([`ResponseError`], static texts only).
//!
//! Invariant: nothing here carries upstream bytes except the fields
//! themselves, which the caller checks before trusting them.

use serde::Deserialize;

use crate::upstream::xml::XmlError;

/// Why a 200 answer from STS was not accepted. Static texts only: the body is
/// upstream data and stays out of logs except through these names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ResponseError {
    /// A status other than 200 that is not an error class we know.
    #[error("unexpected status")]
    Status,
    /// Content type is neither XML nor JSON.
    #[error("unexpected content type")]
    ContentType,
    /// Body larger than the cap.
    #[error("body too large")]
    TooLarge,
    /// Body is not UTF-8.
    #[error("body is not UTF-8")]
    NotUtf8,
    /// Not well-formed XML or JSON, or stray text.
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
    /// Root element is not `GetCallerIdentityResponse`.
    #[error("wrong root element")]
    WrongRoot,
    /// An element outside the STS 2011-06-15 namespace.
    #[error("wrong namespace")]
    WrongNamespace,
    /// An attribute other than a namespace declaration.
    #[error("unexpected attribute")]
    UnexpectedAttribute,
    /// An element not allowed where it appears.
    #[error("unexpected element")]
    UnexpectedElement,
    /// An element that must appear once appears twice.
    #[error("duplicate element")]
    DuplicateElement,
    /// The result or one of its fields is missing.
    #[error("missing element")]
    MissingElement,
    /// `Account` is not 12 digits.
    #[error("account is not 12 digits")]
    BadAccount,
    /// `Arn` is not a caller ARN of a known partition.
    #[error("ARN is not a caller ARN")]
    BadArn,
    /// `Account` differs from the ARN's account.
    #[error("account differs from the ARN's account")]
    AccountMismatch,
    /// The ARN's partition is not the configured one.
    #[error("ARN partition differs from the configured partition")]
    PartitionMismatch,
    /// `UserId` does not have the shape the principal type implies.
    #[error("UserId inconsistent with the ARN")]
    BadUserId,
}

/// The three fields of a `GetCallerIdentityResult`, unchecked.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GciFields {
    #[serde(rename = "Arn")]
    pub(crate) arn: String,
    #[serde(rename = "UserId")]
    pub(crate) user_id: String,
    #[serde(rename = "Account")]
    pub(crate) account: String,
}

impl From<XmlError> for ResponseError {
    fn from(e: XmlError) -> Self {
        match e {
            XmlError::Malformed => Self::Malformed,
            XmlError::Doctype => Self::Doctype,
            XmlError::ProcessingInstruction => Self::ProcessingInstruction,
            XmlError::Entity => Self::Entity,
            XmlError::UnsupportedNode => Self::UnsupportedNode,
            XmlError::WrongRoot => Self::WrongRoot,
            XmlError::WrongNamespace => Self::WrongNamespace,
            XmlError::UnexpectedAttribute => Self::UnexpectedAttribute,
            XmlError::UnexpectedElement => Self::UnexpectedElement,
            XmlError::DuplicateElement => Self::DuplicateElement,
        }
    }
}
