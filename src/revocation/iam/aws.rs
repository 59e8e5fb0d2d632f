//! The [`Iam`] trait on tvm's own IAM client ([`crate::sts::iam::AwsIam`]):
//! one client per partition, built once at start-up (the endpoint of the
//! partition, or `revocation.iam_endpoint_url` for all of them), each call
//! signed with the revoker session's credentials it was handed.
//!
//! Invariants: the credentials live in one [`SignedIam`] for one pass and
//! never print (`Credentials`' `Debug` is redacted); the client's errors map
//! one to one onto [`IamError`], so throttling and outages stay retryable.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;

use super::client::{Iam, IamError};
use super::revoker::IamClientFactory;
use crate::config::EndpointUrl;
use crate::identity::Partition;
use crate::sts::iam::{AwsIam, IamError as ClientError};
use crate::sts::Credentials;

impl From<ClientError> for IamError {
    fn from(e: ClientError) -> Self {
        match e {
            ClientError::NoSuchEntity(m) => IamError::NoSuchEntity(m),
            ClientError::LimitExceeded(m) => IamError::LimitExceeded(m),
            ClientError::MalformedPolicyDocument(m) => IamError::Malformed(m),
            ClientError::AccessDenied(m) => IamError::AccessDenied(m),
            ClientError::Throttling(m) => IamError::Throttled(m),
            ClientError::Rejected { code, message } => IamError::Other { code, message },
            ClientError::Unavailable(m) => IamError::Unavailable(m),
        }
    }
}

/// One partition's client with the revoker session's credentials.
struct SignedIam {
    client: Result<AwsIam, IamError>,
    credentials: Credentials,
}

impl SignedIam {
    fn client(&self) -> Result<&AwsIam, IamError> {
        self.client.as_ref().map_err(Clone::clone)
    }
}

#[async_trait]
impl Iam for SignedIam {
    async fn get_role_policy(&self, role: &str, name: &str) -> Result<Option<String>, IamError> {
        Ok(self
            .client()?
            .get_role_policy(&self.credentials, role, name)
            .await?)
    }

    async fn put_role_policy(&self, role: &str, name: &str, doc: &str) -> Result<(), IamError> {
        Ok(self
            .client()?
            .put_role_policy(&self.credentials, role, name, doc)
            .await?)
    }

    async fn delete_role_policy(&self, role: &str, name: &str) -> Result<(), IamError> {
        Ok(self
            .client()?
            .delete_role_policy(&self.credentials, role, name)
            .await?)
    }
}

/// The factory of real IAM clients: each partition's endpoint, or
/// `endpoint` for all.
pub fn aws_client_factory(endpoint: Option<&EndpointUrl>) -> IamClientFactory {
    let url = endpoint.map(EndpointUrl::to_url);
    let clients: HashMap<Partition, Result<AwsIam, IamError>> =
        [Partition::Aws, Partition::AwsCn, Partition::AwsUsGov]
            .into_iter()
            .map(|p| (p, AwsIam::new(p, url.as_deref()).map_err(IamError::from)))
            .collect();
    Arc::new(move |credentials, partition| {
        let client = clients
            .get(&partition)
            .cloned()
            .unwrap_or_else(|| Err(IamError::Unavailable("unknown partition".into())));
        Arc::new(SignedIam {
            client,
            credentials,
        })
    })
}
