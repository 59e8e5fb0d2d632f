//! Strict parsing of the caller ARNs that `sts:GetCallerIdentity` returns.
//!
//! Invariants: only the five caller forms of DESIGN §3 parse; partitions are the
//! three known ones; the account is exactly 12 ASCII digits; names use AWS's
//! character sets; no field may contain `:`, so the glob rule "`*` never crosses
//! `:`" keeps partition, account and resource apart. A parsed ARN keeps its
//! original text and re-serialises to exactly it.

use std::fmt;
use std::str::FromStr;

/// Longest ARN accepted; IAM's own limit for an ARN is 2048.
pub const MAX_ARN_LEN: usize = 2048;

/// Why an ARN was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArnError {
    /// Not of the form `arn:partition:service:region:account:resource`.
    #[error("not an ARN of six ':'-separated fields")]
    Shape,
    /// Longer than [`MAX_ARN_LEN`].
    #[error("ARN too long")]
    TooLong,
    /// Partition other than aws, aws-cn, aws-us-gov.
    #[error("unknown partition")]
    Partition,
    /// Account is not 12 digits.
    #[error("account is not 12 digits")]
    Account,
    /// A service/resource combination that is not a caller identity.
    #[error("not a caller identity (service or resource type)")]
    Kind,
    /// Caller ARNs carry no region.
    #[error("caller ARNs have an empty region field")]
    Region,
    /// A name or path is empty, too long, or has characters AWS does not allow.
    #[error("invalid {0}")]
    Name(&'static str),
}

/// An AWS partition tvm knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Partition {
    /// `aws`
    Aws,
    /// `aws-cn`
    AwsCn,
    /// `aws-us-gov`
    AwsUsGov,
}

impl Partition {
    /// The partition as it appears in ARNs.
    pub fn as_str(self) -> &'static str {
        match self {
            Partition::Aws => "aws",
            Partition::AwsCn => "aws-cn",
            Partition::AwsUsGov => "aws-us-gov",
        }
    }

    /// Parses an ARN partition field.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "aws" => Some(Partition::Aws),
            "aws-cn" => Some(Partition::AwsCn),
            "aws-us-gov" => Some(Partition::AwsUsGov),
            _ => None,
        }
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A 12-digit AWS account id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId(String);

impl AccountId {
    /// Accepts exactly 12 ASCII digits.
    pub fn parse(s: &str) -> Result<Self, ArnError> {
        if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(s.to_owned()))
        } else {
            Err(ArnError::Account)
        }
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The kind of caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrincipalType {
    /// An IAM user.
    User,
    /// A role session (including IAM Identity Center / SSO).
    AssumedRole,
    /// A federated user (`sts:GetFederationToken`).
    FederatedUser,
    /// The account root user.
    Root,
}

impl PrincipalType {
    /// The name used in policies and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalType::User => "user",
            PrincipalType::AssumedRole => "assumed-role",
            PrincipalType::FederatedUser => "federated-user",
            PrincipalType::Root => "root",
        }
    }

    /// Parses a policy `principal_types` entry.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "user" => Some(PrincipalType::User),
            "assumed-role" => Some(PrincipalType::AssumedRole),
            "federated-user" => Some(PrincipalType::FederatedUser),
            "root" => Some(PrincipalType::Root),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Resource {
    User { path: String, name: String },
    AssumedRole { role: String, session: String },
    FederatedUser { name: String },
    Root,
}

/// A parsed caller ARN (DESIGN §3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerArn {
    text: String,
    partition: Partition,
    account: AccountId,
    resource: Resource,
}

/// `[\w+=,.@-]` with ASCII `\w`: IAM's character set for user, role and session names.
pub(crate) fn is_iam_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '=' | ',' | '.' | '@' | '-')
}

fn name(s: &str, min: usize, max: usize, what: &'static str) -> Result<String, ArnError> {
    if (min..=max).contains(&s.len()) && s.chars().all(is_iam_name_char) {
        Ok(s.to_owned())
    } else {
        Err(ArnError::Name(what))
    }
}

/// IAM paths: `/` or `/segment/.../` of printable ASCII, at most 512 characters.
/// `:` is refused although IAM would allow it, so that no ARN field holds one.
fn path(s: &str) -> Result<String, ArnError> {
    let ok = s.len() <= 512
        && s.starts_with('/')
        && s.ends_with('/')
        && !s.contains("//")
        && s.bytes().all(|b| (0x21..=0x7e).contains(&b) && b != b':');
    if ok {
        Ok(s.to_owned())
    } else {
        Err(ArnError::Name("path"))
    }
}

fn resource(service: &str, res: &str) -> Result<Resource, ArnError> {
    match service {
        "iam" if res == "root" => Ok(Resource::Root),
        "iam" => {
            let rest = res.strip_prefix("user/").ok_or(ArnError::Kind)?;
            let (p, n) = match rest.rfind('/') {
                Some(i) => (format!("/{}", &rest[..=i]), &rest[i + 1..]),
                None => ("/".to_owned(), rest),
            };
            let path = path(&p)?;
            Ok(Resource::User {
                path,
                name: name(n, 1, 64, "user name")?,
            })
        }
        "sts" => {
            if let Some(rest) = res.strip_prefix("assumed-role/") {
                let (role, session) = rest.split_once('/').ok_or(ArnError::Shape)?;
                Ok(Resource::AssumedRole {
                    role: name(role, 1, 64, "role name")?,
                    session: name(session, 2, 64, "session name")?,
                })
            } else if let Some(n) = res.strip_prefix("federated-user/") {
                Ok(Resource::FederatedUser {
                    name: name(n, 2, 32, "federated user name")?,
                })
            } else {
                Err(ArnError::Kind)
            }
        }
        _ => Err(ArnError::Kind),
    }
}

impl FromStr for CallerArn {
    type Err = ArnError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() > MAX_ARN_LEN {
            return Err(ArnError::TooLong);
        }
        let fields: Vec<&str> = s.splitn(6, ':').collect();
        let [arn, partition, service, region, account, res] = fields[..] else {
            return Err(ArnError::Shape);
        };
        if arn != "arn" || res.contains(':') {
            return Err(ArnError::Shape);
        }
        let partition = Partition::parse(partition).ok_or(ArnError::Partition)?;
        if !region.is_empty() {
            return Err(ArnError::Region);
        }
        let account = AccountId::parse(account)?;
        let resource = resource(service, res)?;
        Ok(Self {
            text: s.to_owned(),
            partition,
            account,
            resource,
        })
    }
}

impl CallerArn {
    /// The ARN text, exactly as parsed.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The partition.
    pub fn partition(&self) -> Partition {
        self.partition
    }

    /// The account.
    pub fn account(&self) -> &AccountId {
        &self.account
    }

    /// The kind of principal.
    pub fn principal_type(&self) -> PrincipalType {
        match self.resource {
            Resource::User { .. } => PrincipalType::User,
            Resource::AssumedRole { .. } => PrincipalType::AssumedRole,
            Resource::FederatedUser { .. } => PrincipalType::FederatedUser,
            Resource::Root => PrincipalType::Root,
        }
    }

    /// The role session name, for assumed-role ARNs.
    pub fn session_name(&self) -> Option<&str> {
        match &self.resource {
            Resource::AssumedRole { session, .. } => Some(session),
            _ => None,
        }
    }

    /// The role name, for assumed-role ARNs.
    pub fn role_name(&self) -> Option<&str> {
        match &self.resource {
            Resource::AssumedRole { role, .. } => Some(role),
            _ => None,
        }
    }

    /// The IAM user's or federated user's name, for those ARNs.
    pub fn user_name(&self) -> Option<&str> {
        match &self.resource {
            Resource::User { name, .. } | Resource::FederatedUser { name } => Some(name),
            _ => None,
        }
    }

    /// The username of DESIGN §3: user name, session name, federated name, or `root`.
    pub fn username(&self) -> &str {
        match &self.resource {
            Resource::User { name, .. } | Resource::FederatedUser { name } => name,
            Resource::AssumedRole { session, .. } => session,
            Resource::Root => "root",
        }
    }

    /// The canonical principal: `arn:P:iam::A:role/R` for a role session (the
    /// session ARN omits the role's path, so the canonical form does too), the
    /// ARN itself otherwise.
    pub fn canonical_principal(&self) -> String {
        match &self.resource {
            Resource::AssumedRole { role, .. } => {
                format!("arn:{}:iam::{}:role/{role}", self.partition, self.account)
            }
            _ => self.text.clone(),
        }
    }
}

impl fmt::Display for CallerArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests;
