//! The simulator's public value types: what tests configure (roles, pre-made
//! sessions, faults) and what they read back (recorded calls), plus [`SimError`].
//!
//! Invariants: types that carry a secret or a session token redact them in
//! `Debug`; a [`RecordedCall`] never holds signatures, session tokens or the
//! `Authorization` header.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use jiff::Timestamp;

/// AWS's default `MaxSessionDuration` of a role, in seconds.
pub const DEFAULT_MAX_SESSION_DURATION: u32 = 3600;

/// A role that can be assumed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimRole {
    /// `arn:P:iam::A:role/path/Name`.
    pub arn: String,
    /// Who may assume it. Each entry is compared exactly with the caller's
    /// canonical principal (the user ARN, or for a role session the role ARN as
    /// registered, path included) and with the caller's ARN as
    /// `GetCallerIdentity` returns it; `arn:P:iam::A:root` trusts every
    /// principal of account `A`, as an AWS trust policy does.
    pub trusted_principals: Vec<String>,
    /// The role's `MaxSessionDuration` in seconds (AWS: 3600..=43200).
    pub max_session_duration: u32,
    /// If set, `AssumeRole` must pass exactly this `ExternalId`.
    pub external_id: Option<String>,
    /// Whether its sessions may call the simulator's IAM subset
    /// (`iam:PutRolePolicy`, `GetRolePolicy`, `DeleteRolePolicy`) on the
    /// other roles of its account — never on itself, as DESIGN §13's revoker
    /// permissions exclude the revoker role. Nobody else may.
    pub writes_role_policies: bool,
}

impl SimRole {
    /// A role trusting `trusted_principals`, with the default one-hour maximum
    /// session duration and no external id.
    pub fn new(arn: impl Into<String>, trusted_principals: Vec<String>) -> Self {
        Self {
            arn: arn.into(),
            trusted_principals,
            max_session_duration: DEFAULT_MAX_SESSION_DURATION,
            external_id: None,
            writes_role_policies: false,
        }
    }

    /// Lets its sessions write the inline policies of the account's other
    /// roles (the revoker role of DESIGN §13).
    pub fn with_role_policy_writer(mut self) -> Self {
        self.writes_role_policies = true;
        self
    }

    /// Sets the maximum session duration (seconds).
    pub fn with_max_session_duration(mut self, seconds: u32) -> Self {
        self.max_session_duration = seconds;
        self
    }

    /// Requires this external id.
    pub fn with_external_id(mut self, external_id: impl Into<String>) -> Self {
        self.external_id = Some(external_id.into());
        self
    }
}

/// A role session made outside the simulator (e.g. an IAM Identity Center user
/// `AWSReservedSSO_Admin_abc/alice@example.com`), whose keys can sign requests.
#[derive(Clone, PartialEq, Eq)]
pub struct SimRoleSession {
    /// The role, `arn:P:iam::A:role/path/Name`; it need not be registered with
    /// [`Simulator::add_role`](super::Simulator::add_role).
    pub role_arn: String,
    /// The session name (2..=64 of `[\w+=,.@-]`).
    pub session_name: String,
    /// The access key id, conventionally `ASIA...`.
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: String,
    /// The session token the requests must carry.
    pub session_token: String,
    /// When the session stops working (`ExpiredToken` afterwards).
    pub expiration: Timestamp,
    /// A SourceIdentity already set on the session (sticky for chained calls).
    pub source_identity: Option<String>,
}

impl fmt::Debug for SimRoleSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimRoleSession")
            .field("role_arn", &self.role_arn)
            .field("session_name", &self.session_name)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("session_token", &"<redacted>")
            .field("expiration", &self.expiration)
            .field("source_identity", &self.source_identity)
            .finish()
    }
}

/// A long-term access key made by
/// [`Simulator::create_access_key`](super::Simulator::create_access_key).
#[derive(Clone, PartialEq, Eq)]
pub struct SimAccessKey {
    /// `AKIA...`.
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: String,
}

impl fmt::Debug for SimAccessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimAccessKey")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .finish()
    }
}

/// A failure to inject for an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// 400 `Throttling` "Rate exceeded", as STS answers when throttling.
    Throttle,
    /// 500 `InternalFailure`.
    InternalError,
    /// Sleep this long, then answer normally.
    Delay(Duration),
    /// Answer with this status and this body (as `text/xml`), verbatim.
    Status(u16, String),
}

/// One request the simulator received, whatever its outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedCall {
    /// The `Action` parameter, if present.
    pub action: Option<String>,
    /// Decoded query and form parameters, without `X-Amz-Signature` and
    /// `X-Amz-Security-Token`. If a name was repeated, its first value.
    pub params: BTreeMap<String, String>,
    /// The caller's ARN, if the signature verified.
    pub caller_arn: Option<String>,
    /// The HTTP status answered.
    pub status: u16,
    /// The STS error code answered, if any (`None` for success and for
    /// [`Fault::Status`]).
    pub error_code: Option<String>,
    /// The `x-tvm-*` and `x-k8s-aws-id` headers received that the request
    /// lists in its SignedHeaders: (lowercase name, value), sorted by name.
    pub signed_headers: Vec<(String, String)>,
}

impl RecordedCall {
    /// The value of a recorded parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    /// The value of a recorded signed `x-tvm-*` / `x-k8s-aws-id` header.
    pub fn signed_header(&self, name: &str) -> Option<&str> {
        self.signed_headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why the simulator refused a configuration call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    /// The ARN is not of the expected form.
    #[error("invalid {kind} ARN {arn:?}")]
    InvalidArn {
        /// What was expected: `user`, `role`.
        kind: &'static str,
        /// The ARN given.
        arn: String,
    },
    /// The access key id is already registered.
    #[error("access key id {0} is already registered")]
    DuplicateAccessKey(String),
    /// The role ARN is already registered.
    #[error("role {0} is already registered")]
    DuplicateRole(String),
    /// A value is out of AWS's range or has a forbidden character.
    #[error("invalid {field}: {reason}")]
    InvalidValue {
        /// Which field.
        field: &'static str,
        /// Why.
        reason: &'static str,
    },
}
