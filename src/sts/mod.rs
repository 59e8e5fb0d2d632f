//! AWS STS behind a small trait, so the vending pipeline never depends on the SDK.
//!
//! Owns: the [`Sts`] trait and its input/output types, the production client
//! ([`aws::AwsSts`]: SigV4 over the shared hyper client), tvm's IAM client for
//! the revocation policy ([`iam::AwsIam`]), the `aws-sdk-sts`
//! adapter it is tested against ([`sdk::SdkSts`]), and the STS simulator
//! ([`sim`]) used by `tvm dev` and the tests.
//!
//! Invariants: [`Credentials`] never print their secret parts (`Debug` is
//! redacted); [`StsError`] keeps throttling apart from other failures so the API
//! can answer 503 vs 502, and its text is for logs only, never for callers.

pub mod aws;
pub mod gate;
pub mod iam;
pub mod sdk;
pub mod sim;

use std::fmt;

use async_trait::async_trait;
use jiff::Timestamp;

use crate::identity::{RoleSessionName, SourceIdentity};

/// The parameters tvm sends with `sts:AssumeRole`. Every field was produced or
/// validated by tvm (policy and stamps); nothing here is raw caller input.
/// `Debug` redacts the external id.
#[derive(Clone, PartialEq, Eq)]
pub struct AssumeRoleInput {
    /// The protected role.
    pub role_arn: String,
    /// `tvm-{user}-{request_id}`.
    pub role_session_name: RoleSessionName,
    /// `{prefix}.{user}.{marker}.{request_id}`.
    pub source_identity: SourceIdentity,
    /// 900..=43200, already capped by the policy.
    pub duration_seconds: u32,
    /// The profile's external id, if any.
    pub external_id: Option<String>,
    /// Session tags (already templated and checked against AWS limits).
    pub tags: Vec<(String, String)>,
    /// Keys of `tags` that are transitive.
    pub transitive_tag_keys: Vec<String>,
    /// Inline session policy JSON.
    pub policy: Option<String>,
}

impl fmt::Debug for AssumeRoleInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AssumeRoleInput")
            .field("role_arn", &self.role_arn)
            .field("role_session_name", &self.role_session_name)
            .field("source_identity", &self.source_identity)
            .field("duration_seconds", &self.duration_seconds)
            .field(
                "external_id",
                &self.external_id.as_ref().map(|_| "<redacted>"),
            )
            .field("tags", &self.tags)
            .field("transitive_tag_keys", &self.transitive_tag_keys)
            .field("policy", &self.policy.as_ref().map(String::len))
            .finish()
    }
}

/// Temporary credentials returned by STS.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The access key id (not secret).
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: String,
    /// The session token.
    pub session_token: String,
    /// When the credentials expire.
    pub expiration: Timestamp,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("session_token", &"<redacted>")
            .field("expiration", &self.expiration)
            .finish()
    }
}

/// What `sts:AssumeRole` returned.
#[derive(Debug, Clone)]
pub struct AssumedRole {
    /// The credentials.
    pub credentials: Credentials,
    /// The assumed-role ARN (`arn:aws:sts::A:assumed-role/R/session`), if returned.
    pub assumed_role_arn: Option<String>,
    /// The `x-amzn-RequestId` of the STS call, for the decision log.
    pub sts_request_id: Option<String>,
}

/// Why an STS call failed. The `String`s are for the operator's log only.
#[derive(Debug, thiserror::Error)]
pub enum StsError {
    /// STS asked us to slow down (`Throttling`, `RequestLimitExceeded`, 429).
    #[error("sts throttled the request: {0}")]
    Throttled(String),
    /// STS refused the call (AccessDenied, RegionDisabled, bad parameter...).
    #[error("sts rejected the request: {code}: {message}")]
    Rejected {
        /// The STS error code.
        code: String,
        /// The STS error message.
        message: String,
    },
    /// STS could not be reached, timed out, or answered garbage.
    #[error("sts unavailable: {0}")]
    Unavailable(String),
}

impl StsError {
    /// A bounded label for metrics: `throttled`, `rejected` or `unavailable`.
    pub fn outcome(&self) -> &'static str {
        match self {
            StsError::Throttled(_) => "throttled",
            StsError::Rejected { .. } => "rejected",
            StsError::Unavailable(_) => "unavailable",
        }
    }
}

/// Who tvm's own credentials belong to, as `sts:GetCallerIdentity` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerIdentity {
    /// The ARN tvm runs as (e.g. the IRSA role's assumed-role session).
    pub arn: String,
    /// The account.
    pub account: String,
}

/// The part of STS tvm uses to vend.
#[async_trait]
pub trait Sts: Send + Sync + 'static {
    /// Calls `sts:AssumeRole`.
    async fn assume_role(&self, input: AssumeRoleInput) -> Result<AssumedRole, StsError>;

    /// Calls `sts:GetCallerIdentity` with tvm's own credentials (the start-up
    /// check that they resolve and are accepted).
    async fn get_caller_identity(&self) -> Result<CallerIdentity, StsError>;
}
