//! The approval calls of DESIGN §12 as methods of [`Server`]: create a
//! request, list the pending ones, read one, approve or deny one.
//!
//! Invariants: every call carries a token minted for its own method and path
//! (an approve token is useless for a deny); a request id goes into a path only
//! after `checked_id` ([`is_request_id`]: 16 lowercase hex), so no input can
//! steer a token to another route; an answer with another status than the one
//! expected is an error carrying the server's body only in printable form; every
//! request object returned passed [`checked::request`].

use aws_credential_types::Credentials;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::client::checked::{self, is_request_id};
use crate::client::error::ClientError;
use crate::client::http::printable;
use crate::client::server::Server;
use crate::client::token::Target;
use crate::client::wire::RequestInfo;

/// `id` if it is a request id, else the error a command shows.
pub(super) fn checked_id(id: &str) -> Result<&str, ClientError> {
    if is_request_id(id) {
        Ok(id)
    } else {
        Err(ClientError::Url(
            "a request id is 16 lowercase hex characters".into(),
        ))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RequestList {
    requests: Vec<RequestInfo>,
}

#[derive(Serialize)]
struct CreateBody<'a> {
    profile: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration_seconds: Option<u32>,
    reason: &'a str,
}

#[derive(Serialize)]
struct DecideBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<&'a str>,
}

/// Approve or deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// `POST /requests/{id}/approve`.
    Approve,
    /// `POST /requests/{id}/deny`.
    Deny,
}

impl Decision {
    /// `approve` or `deny`: the last segment of the path, and the command's name.
    pub(super) fn verb(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Deny => "deny",
        }
    }
}

fn decode<T: for<'de> Deserialize<'de>>(
    (status, body): (u16, Bytes),
    ok: u16,
) -> Result<T, ClientError> {
    if status != ok {
        return Err(ClientError::Status {
            status,
            body: printable(&body),
        });
    }
    serde_json::from_slice(&body).map_err(|e| ClientError::Decode(e.to_string()))
}

fn target(text: &str) -> Result<Target, ClientError> {
    Target::parse(text).map_err(|e| ClientError::Url(e.to_string()))
}

impl Server {
    /// `POST /requests`.
    pub async fn create_request(
        &self,
        creds: &Credentials,
        profile: &str,
        duration_seconds: Option<u32>,
        reason: &str,
    ) -> Result<RequestInfo, ClientError> {
        let body = serde_json::to_vec(&CreateBody {
            profile,
            duration_seconds,
            reason,
        })
        .map_err(|e| ClientError::Decode(e.to_string()))?;
        let answer = self
            .call(creds, &target("POST /requests")?, Bytes::from(body))
            .await?;
        let r: RequestInfo = decode(answer, 201)?;
        checked::request(&r)?;
        Ok(r)
    }

    /// `GET /requests?status=pending`: what this caller may approve, and
    /// their own.
    pub async fn pending_requests(
        &self,
        creds: &Credentials,
    ) -> Result<Vec<RequestInfo>, ClientError> {
        let answer = self
            .call_with_query(
                creds,
                &target("GET /requests")?,
                "status=pending",
                Bytes::new(),
            )
            .await?;
        let list = decode::<RequestList>(answer, 200)?.requests;
        checked::requests(&list)?;
        Ok(list)
    }

    /// `GET /requests/{id}`.
    pub async fn request(&self, creds: &Credentials, id: &str) -> Result<RequestInfo, ClientError> {
        let t = target(&format!("GET /requests/{}", checked_id(id)?))?;
        let r: RequestInfo = decode(self.call(creds, &t, Bytes::new()).await?, 200)?;
        checked::request(&r)?;
        Ok(r)
    }

    /// `POST /requests/{id}/approve` or `/deny`.
    pub async fn decide(
        &self,
        creds: &Credentials,
        id: &str,
        decision: Decision,
        comment: Option<&str>,
    ) -> Result<RequestInfo, ClientError> {
        let t = target(&format!(
            "POST /requests/{}/{}",
            checked_id(id)?,
            decision.verb()
        ))?;
        let body = serde_json::to_vec(&DecideBody { comment })
            .map_err(|e| ClientError::Decode(e.to_string()))?;
        let r: RequestInfo = decode(self.call(creds, &t, Bytes::from(body)).await?, 200)?;
        checked::request(&r)?;
        Ok(r)
    }
}
