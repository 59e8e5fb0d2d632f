//! tvm's own IAM client: the three role-policy calls the revocation writer
//! makes (DESIGN §13 "In AWS") — `iam:PutRolePolicy`, `iam:GetRolePolicy`,
//! `iam:DeleteRolePolicy` — signed with SigV4 for service `iam` and sent on
//! the shared hyper client ([`crate::upstream::transport`]), as
//! [`crate::sts::aws`] sends `AssumeRole`.
//!
//! Owns: [`AwsIam`] (the endpoint of a partition or an override), the form
//! bodies (IAM's query protocol, `Version=2010-05-08`), answer reading
//! ([`answer`]) and [`IamError`].
//!
//! Invariants:
//! - each call is signed with the temporary credentials it is given (the
//!   revoker role's session), never with tvm's own chain, and the signing key
//!   is derived per call: a revoker session lives for one apply;
//! - the endpoint is the partition's global IAM endpoint (IAM has one per
//!   partition, signed in that partition's home region) or an override
//!   endpoint URL, which follows the config's endpoint rules: `https`, or
//!   plain `http` only on a loopback host;
//! - no retry here: the per-role queue decides when to try again, and
//!   [`IamError`] keeps throttling, limits and refusals apart for it;
//! - neither credentials nor policy documents are logged or put in an
//!   error's text (IAM's `Message` is kept: it names the fault, not the
//!   document); the whole call is bounded by [`OPERATION_TIMEOUT`].

mod answer;
mod error;

pub use error::IamError;

use std::fmt;

use bytes::Bytes;
use jiff::Timestamp;

use super::aws::form::param;
use super::aws::sign::{self, KeyCache, CONTENT_TYPE};
use super::Credentials;
use crate::config::EndpointUrl;
use crate::identity::Partition;
use crate::upstream::transport::{HyperTransport, TransportResponse};

pub use crate::config::OPERATION_TIMEOUT;

/// The signing service of IAM.
pub const SERVICE: &str = "iam";
/// IAM's query-protocol API version.
pub const API_VERSION: &str = "2010-05-08";

/// IAM's quota on the size of all of a role's inline policies together
/// ("role policy size"), as [`policy_size`] counts it: a write beyond it is
/// `LimitExceeded`.
pub const ROLE_POLICIES_QUOTA: usize = 10_240;

/// The size a document counts against [`ROLE_POLICIES_QUOTA`]: its characters
/// (Unicode scalar values), not counting JSON whitespace (space, tab, CR,
/// LF) outside string literals — IAM documents that whitespace does not
/// count. A role's total is the sum over its inline policies; policy names
/// are not counted. The simulator's IAM counts with this same function.
pub fn policy_size(document: &str) -> usize {
    let (mut size, mut in_string, mut escaped) = (0, false, false);
    for c in document.chars() {
        if in_string {
            size += 1;
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if !matches!(c, ' ' | '\t' | '\r' | '\n') {
            size += 1;
            in_string = c == '"';
        }
    }
    size
}

/// The global IAM endpoint of `partition` and the region it is signed in.
pub fn partition_endpoint(partition: Partition) -> (&'static str, &'static str) {
    match partition {
        Partition::Aws => ("https://iam.amazonaws.com", "us-east-1"),
        Partition::AwsCn => ("https://iam.cn-north-1.amazonaws.com.cn", "cn-north-1"),
        Partition::AwsUsGov => ("https://iam.us-gov.amazonaws.com", "us-gov-west-1"),
    }
}

/// Where calls go, resolved once.
#[derive(Debug, Clone)]
struct Target {
    /// `scheme://authority/`.
    uri: http::Uri,
    /// The `host` header, signed: the authority without a default port.
    host: String,
}

/// The IAM client (see the module docs).
#[derive(Clone)]
pub struct AwsIam {
    target: Target,
    region: &'static str,
    transport: HyperTransport,
}

impl fmt::Debug for AwsIam {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsIam")
            .field("target", &self.target.uri)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

impl AwsIam {
    /// The client for `partition`'s IAM endpoint, or `endpoint_url` when given
    /// (`revocation.iam_endpoint_url`: `https://host[:port]`, or `http` on a
    /// loopback host), signed in the partition's home region.
    pub fn new(partition: Partition, endpoint_url: Option<&str>) -> Result<Self, IamError> {
        let (default_url, region) = partition_endpoint(partition);
        let url = endpoint_url.unwrap_or(default_url);
        let endpoint = EndpointUrl::parse(url)
            .map_err(|e| IamError::Unavailable(format!("IAM endpoint {url:?}: {e}")))?;
        let default_port = if endpoint.scheme == "https" { 443 } else { 80 };
        let bare = if endpoint.host.contains(':') {
            format!("[{}]", endpoint.host)
        } else {
            endpoint.host.clone()
        };
        // The signed `host` header leaves a default port out, as SigV4 signers do.
        let host = match endpoint.port {
            Some(p) if p != default_port => format!("{bare}:{p}"),
            _ => bare,
        };
        let authority = host.clone();
        let uri = http::Uri::builder()
            .scheme(endpoint.scheme.as_str())
            .authority(authority.as_str())
            .path_and_query("/")
            .build()
            .map_err(|e| IamError::Unavailable(format!("IAM endpoint {url:?}: {e}")))?;
        let transport = HyperTransport::new(endpoint.scheme == "http")
            .map_err(|e| IamError::Unavailable(e.to_string()))?;
        Ok(Self {
            target: Target { uri, host },
            region,
            transport,
        })
    }

    /// `iam:PutRolePolicy`: creates or replaces `policy_name` on `role_name`.
    pub async fn put_role_policy(
        &self,
        credentials: &Credentials,
        role_name: &str,
        policy_name: &str,
        document: &str,
    ) -> Result<(), IamError> {
        let mut body = form("PutRolePolicy", role_name, policy_name);
        param(&mut body, "PolicyDocument", document);
        let response = self.call(credentials, body).await?;
        answer::empty(&response, answer::Call::Put)
    }

    /// `iam:GetRolePolicy`: the document, URL-decoded (IAM returns it
    /// percent-encoded), or `None` when the role has no policy of that name
    /// (IAM's `NoSuchEntity`; a missing role is that error too, since IAM
    /// answers both alike).
    pub async fn get_role_policy(
        &self,
        credentials: &Credentials,
        role_name: &str,
        policy_name: &str,
    ) -> Result<Option<String>, IamError> {
        let body = form("GetRolePolicy", role_name, policy_name);
        match self.call(credentials, body).await {
            Ok(response) => answer::policy_document(&response, role_name, policy_name).map(Some),
            Err(IamError::NoSuchEntity(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `iam:DeleteRolePolicy`. `NoSuchEntity` is returned as the error (the
    /// queue counts it as done; a caller checking a role may not).
    pub async fn delete_role_policy(
        &self,
        credentials: &Credentials,
        role_name: &str,
        policy_name: &str,
    ) -> Result<(), IamError> {
        let body = form("DeleteRolePolicy", role_name, policy_name);
        let response = self.call(credentials, body).await?;
        answer::empty(&response, answer::Call::Delete)
    }

    /// Signs and sends `body`; a 2xx answer, else the classified error.
    async fn call(
        &self,
        credentials: &Credentials,
        body: String,
    ) -> Result<TransportResponse, IamError> {
        let work = async {
            let response = self.attempt(credentials, &body).await?;
            if response.status.is_success() {
                Ok(response)
            } else {
                Err(answer::classify(&response))
            }
        };
        tokio::time::timeout(OPERATION_TIMEOUT, work)
            .await
            .map_err(|_| IamError::Unavailable(format!("no answer within {OPERATION_TIMEOUT:?}")))?
    }

    async fn attempt(
        &self,
        credentials: &Credentials,
        body: &str,
    ) -> Result<TransportResponse, IamError> {
        let creds = aws_credential_types::Credentials::new(
            &credentials.access_key_id,
            &credentials.secret_access_key,
            Some(credentials.session_token.clone()),
            Some(std::time::SystemTime::from(credentials.expiration)),
            "tvm-iam",
        );
        let signed = sign::sign_for(
            SERVICE,
            &creds,
            &KeyCache::default(),
            self.region,
            &self.target.host,
            body.as_bytes(),
            Timestamp::now(),
        );
        let mut request = http::Request::post(self.target.uri.clone())
            .header(http::header::HOST, &self.target.host)
            .header(http::header::CONTENT_TYPE, CONTENT_TYPE)
            .header("x-amz-date", &signed.amz_date)
            .header(http::header::AUTHORIZATION, &signed.authorization);
        if let Some(token) = &signed.security_token {
            request = request.header("x-amz-security-token", token);
        }
        let request = request
            .body(Bytes::copy_from_slice(body.as_bytes()))
            .map_err(|e| IamError::Unavailable(format!("cannot build the IAM request: {e}")))?;
        self.transport
            .send_bytes(request)
            .await
            .map_err(|e| IamError::Unavailable(e.to_string()))
    }
}

/// `Action`, `Version`, `RoleName`, `PolicyName`: botocore's order.
fn form(action: &str, role_name: &str, policy_name: &str) -> String {
    let mut body = format!("Action={action}&Version={API_VERSION}");
    param(&mut body, "RoleName", role_name);
    param(&mut body, "PolicyName", policy_name);
    body
}

#[cfg(test)]
mod tests;
