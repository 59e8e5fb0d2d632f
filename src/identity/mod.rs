//! Who the caller is, derived from the ARN that STS returned for a verified proof,
//! and the stamps tvm writes into AWS for every vended session.
//!
//! Owns: ARN parsing for the caller forms of DESIGN §3 (IAM user with path,
//! assumed role incl. SSO, federated user, root) in the `aws`, `aws-cn` and
//! `aws-us-gov` partitions; the canonical principal; the username; the
//! SourceIdentity and RoleSessionName stamps (DESIGN §4); request ids.
//!
//! Invariants: an [`Identity`] only exists for an ARN that parsed completely
//! (known partition, 12-digit account, known service/type, non-empty names); a
//! [`CallerArn`] re-serialises to exactly the string it was parsed from.

mod arn;
mod owner;
mod stamp;

pub use arn::{AccountId, ArnError, CallerArn, Partition, PrincipalType, MAX_ARN_LEN};
pub use owner::{exact_key, role_id_of, role_key, sso_key, OwnerKeys, SSO_ROLE_PREFIX};
pub use stamp::{
    Marker, ParsedSourceIdentity, RequestId, RoleSessionName, SourceIdentity, StampError,
    StampPrefix, MARKER_ID_HEX_LEN, MAX_STAMP_LEN, REQUEST_ID_HEX_LEN, TRUNCATION_TAG_LEN,
};

/// A caller identity: the parsed ARN plus what tvm derives from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    arn: CallerArn,
    canonical_principal: String,
    username: String,
}

impl Identity {
    /// Parses the ARN that STS returned and derives the canonical principal and
    /// username (DESIGN §3).
    pub fn from_arn(arn: &str) -> Result<Self, ArnError> {
        let arn: CallerArn = arn.parse()?;
        let canonical_principal = arn.canonical_principal();
        let username = arn.username().to_owned();
        Ok(Self {
            arn,
            canonical_principal,
            username,
        })
    }

    /// The parsed ARN, as STS returned it.
    pub fn arn(&self) -> &CallerArn {
        &self.arn
    }

    /// The canonical principal: the ARN itself, or the role ARN for a role session.
    pub fn canonical_principal(&self) -> &str {
        &self.canonical_principal
    }

    /// The username of DESIGN §3. Chosen by the caller for role sessions, so it
    /// never grants anything alone.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The caller's account.
    pub fn account(&self) -> &AccountId {
        self.arn.account()
    }

    /// The caller's partition.
    pub fn partition(&self) -> Partition {
        self.arn.partition()
    }

    /// The kind of principal.
    pub fn principal_type(&self) -> PrincipalType {
        self.arn.principal_type()
    }
}
