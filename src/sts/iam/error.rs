//! [`IamError`]: why one of tvm's IAM calls failed, typed for the revocation
//! writer (which counts `NoSuchEntity` on delete as done, marks a role
//! `failed` on `LimitExceeded`, and retries throttling later).
//!
//! Invariant: texts are IAM's code and message or a transport cause, for the
//! operator's log; never a credential or a policy document.

/// Why an IAM call failed. The texts are for the operator's log: IAM's own
/// code and message, never a credential or a document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IamError {
    /// The role, or the named inline policy, does not exist (404).
    #[error("iam: NoSuchEntity: {0}")]
    NoSuchEntity(String),
    /// The role's inline policies would exceed IAM's size quota (409).
    #[error("iam: LimitExceeded: {0}")]
    LimitExceeded(String),
    /// IAM refused the document's grammar or content (400).
    #[error("iam: MalformedPolicyDocument: {0}")]
    MalformedPolicyDocument(String),
    /// The signing session may not make this call (403).
    #[error("iam: AccessDenied: {0}")]
    AccessDenied(String),
    /// IAM asked us to slow down (`Throttling`, 429).
    #[error("iam throttled the request: {0}")]
    Throttling(String),
    /// Any other refusal, with IAM's code.
    #[error("iam rejected the request: {code}: {message}")]
    Rejected {
        /// The IAM error code (or `Unknown (HTTP n)`).
        code: String,
        /// The IAM error message.
        message: String,
    },
    /// IAM could not be reached, timed out, answered 5xx or garbage, or the
    /// client could not be set up.
    #[error("iam unavailable: {0}")]
    Unavailable(String),
}

impl IamError {
    /// A bounded label for metrics and the role's status.
    pub fn code(&self) -> &'static str {
        match self {
            IamError::NoSuchEntity(_) => "NoSuchEntity",
            IamError::LimitExceeded(_) => "LimitExceeded",
            IamError::MalformedPolicyDocument(_) => "MalformedPolicyDocument",
            IamError::AccessDenied(_) => "AccessDenied",
            IamError::Throttling(_) => "Throttling",
            IamError::Rejected { .. } => "Rejected",
            IamError::Unavailable(_) => "Unavailable",
        }
    }
}
