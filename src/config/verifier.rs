//! The verifier's settings ([`VerifierSettings`]: the `auth` section, validated)
//! and the rules they must pass, with their limits.
//!
//! The trust boundary (`crate::auth`) is built from these and re-exports them;
//! config validation calls [`VerifierSettings::validate`], so the config and
//! the verifier can never disagree about what is acceptable.
//!
//! Invariants: valid settings name 1 to [`MAX_AUDIENCES`] distinct origins,
//! each `https` or plain `http` on a loopback host only; an EKS cluster id is
//! a cluster name; a real-AWS target's region has an STS host in its
//! partition; the clock skew is within 0..=[`MAX_CLOCK_SKEW_LIMIT`].

use jiff::SignedDuration;

use crate::identity::Partition;
use crate::net::{regional_host, Endpoint, Origin, Scheme};

/// Default for `auth.max_clock_skew`.
pub const DEFAULT_MAX_CLOCK_SKEW: SignedDuration = SignedDuration::from_mins(5);

/// Largest `auth.max_clock_skew` accepted: beyond it the time window, and so the
/// usefulness of a stolen token, grows past what SigV4 itself allows (15 min).
pub const MAX_CLOCK_SKEW_LIMIT: SignedDuration = SignedDuration::from_mins(15);

/// Most origins in `auth.audience`. Each one is a name the service answers to;
/// a long list is a sign of a name shared with another deployment (DESIGN §2).
pub const MAX_AUDIENCES: usize = 16;

/// Longest `auth.eks_cluster_id` (EKS cluster names are 1–100 characters).
pub const MAX_EKS_CLUSTER_ID_LEN: usize = 100;

/// Where proofs are verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerificationTarget {
    /// A configured endpoint (simulator, VPC endpoint): tokens must name exactly
    /// its scheme, host and port, and requests go there.
    Endpoint {
        /// Where GetCallerIdentity goes.
        endpoint: Endpoint,
        /// The partition of `sts.region`: verified ARNs must be in it.
        partition: Partition,
    },
    /// Real AWS STS in `partition`: tokens must name an allowlisted host; `region`
    /// (`sts.region`) picks the endpoint advertised to clients.
    Aws {
        /// The partition whose hosts are allowed.
        partition: Partition,
        /// The region advertised in `/.well-known/tvm`.
        region: String,
    },
}

impl VerificationTarget {
    /// The partition every verified ARN must belong to.
    pub fn partition(&self) -> Partition {
        match self {
            VerificationTarget::Endpoint { partition, .. }
            | VerificationTarget::Aws { partition, .. } => *partition,
        }
    }
}

/// What the verifier needs from the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierSettings {
    /// `auth.audience`: the origins clients reach this service by; a `tvm-v1`
    /// token must be signed for one of them (`x-tvm-audience`).
    pub audiences: Vec<Origin>,
    /// Where proofs are verified.
    pub target: VerificationTarget,
    /// `auth.max_clock_skew`: how far `X-Amz-Date` may be from now.
    pub max_clock_skew: SignedDuration,
    /// `auth.eks_cluster_id`: when set, `k8s-aws-v1.` tokens signed for this
    /// cluster id are accepted (plain vends and `GET /profiles` only).
    pub eks_cluster_id: Option<String>,
}

/// Settings the verifier cannot work with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// No origin, or more than [`MAX_AUDIENCES`].
    #[error("audience must list 1 to 16 origins")]
    AudienceCount,
    /// An origin that is plain `http` on a host that is not loopback.
    #[error("origin {0} is plain http: use https (http only for loopback hosts)")]
    InsecureOrigin(String),
    /// The same origin twice.
    #[error("origin {0} is listed twice")]
    DuplicateOrigin(String),
    /// The EKS cluster id is not a cluster name.
    #[error("eks_cluster_id must be 1..=100 letters, digits, `-` or `_`, starting with a letter or digit")]
    EksClusterId,
    /// `sts.region` is not a known region of the partition.
    #[error("region is not a known region of the partition")]
    Region,
    /// Clock skew negative or above [`MAX_CLOCK_SKEW_LIMIT`].
    #[error("max_clock_skew must be between 0 and 15 minutes")]
    ClockSkew,
}

impl VerifierSettings {
    /// Checks the settings; config validation calls this at start-up.
    pub fn validate(&self) -> Result<(), SettingsError> {
        if self.audiences.is_empty() || self.audiences.len() > MAX_AUDIENCES {
            return Err(SettingsError::AudienceCount);
        }
        for (i, origin) in self.audiences.iter().enumerate() {
            if origin.scheme() == Scheme::Http && !origin.is_loopback() {
                return Err(SettingsError::InsecureOrigin(origin.to_string()));
            }
            if self.audiences[..i].contains(origin) {
                return Err(SettingsError::DuplicateOrigin(origin.to_string()));
            }
        }
        if let Some(id) = &self.eks_cluster_id {
            if !is_eks_cluster_id(id) {
                return Err(SettingsError::EksClusterId);
            }
        }
        if let VerificationTarget::Aws { partition, region } = &self.target {
            regional_host(*partition, region).ok_or(SettingsError::Region)?;
        }
        if self.max_clock_skew.is_negative() || self.max_clock_skew > MAX_CLOCK_SKEW_LIMIT {
            return Err(SettingsError::ClockSkew);
        }
        Ok(())
    }
}

/// Whether `id` can be an `auth.eks_cluster_id`: an EKS cluster name (1–100
/// letters, digits, `-`, `_`, starting with a letter or digit).
pub fn is_eks_cluster_id(id: &str) -> bool {
    (1..=MAX_EKS_CLUSTER_ID_LEN).contains(&id.len())
        && id.starts_with(|c: char| c.is_ascii_alphanumeric())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
}
