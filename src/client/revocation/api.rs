//! The §13 calls as methods of [`Server`]: list and read sessions, revoke a
//! session, a grant, a caller key or a person, list, read, check and lift
//! revocations.
//!
//! Invariants: every call carries a token minted for its own method and
//! path; an id goes into a path only after it passed its grammar
//! ([`is_access_key_id`], 16 hex), so no input can steer a token to another
//! route; query values are form-encoded; an answer with another status than
//! the one expected is an error carrying the server's body only in
//! printable form; every object returned passed [`super::checked`].

use aws_credential_types::Credentials;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::checked::{self, is_access_key_id};
use super::wire::{CheckAnswer, RevocationInfo, RevocationList, SessionInfo, SessionList};
use crate::client::checked::is_request_id as is_hex16;
use crate::client::error::ClientError;
use crate::client::http::printable;
use crate::client::server::Server;
use crate::client::token::Target;

/// What `POST /revocations` asks for.
#[derive(Debug, Clone, Serialize)]
pub struct NewRevocation {
    /// `{"CallerAccessKeyId": …}`, `{"Principal": …}` or `{"User": …}`.
    pub target: std::collections::BTreeMap<&'static str, String>,
    /// Why (1–1,000 characters).
    pub reason: String,
    /// A person's suspension, in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suspend_seconds: Option<u64>,
    /// Answer what would match, change nothing.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub dry_run: bool,
}

#[derive(Serialize)]
struct ReasonBody<'a> {
    reason: &'a str,
}

fn decode<T: DeserializeOwned>((status, body): (u16, Bytes), ok: &[u16]) -> Result<T, ClientError> {
    if !ok.contains(&status) {
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

fn json<T: Serialize>(v: &T) -> Result<Bytes, ClientError> {
    serde_json::to_vec(v)
        .map(Bytes::from)
        .map_err(|e| ClientError::Decode(e.to_string()))
}

/// `id` if it is a vended access key id, else the error a command shows.
pub fn checked_session_id(id: &str) -> Result<&str, ClientError> {
    if is_access_key_id(id) {
        Ok(id)
    } else {
        Err(ClientError::Url(
            "a session id is a vended access key id (ASIA…, 16 to 128 of [A-Z0-9])".into(),
        ))
    }
}

/// `id` if it is 16 lowercase hex (a grant or revocation id).
pub fn checked_hex16<'a>(what: &str, id: &'a str) -> Result<&'a str, ClientError> {
    if is_hex16(id) {
        Ok(id)
    } else {
        Err(ClientError::Url(format!(
            "{what} is 16 lowercase hex characters"
        )))
    }
}

fn revocation(answer: (u16, Bytes), ok: &[u16]) -> Result<RevocationInfo, ClientError> {
    let r: RevocationInfo = decode(answer, ok)?;
    checked::revocation(&r)?;
    Ok(r)
}

impl Server {
    /// `GET /sessions[?all=true|?user=NAME]`.
    pub async fn sessions(
        &self,
        creds: &Credentials,
        all: bool,
        user: Option<&str>,
    ) -> Result<Vec<SessionInfo>, ClientError> {
        let mut query: Vec<(&str, &str)> = Vec::new();
        if all {
            query.push(("all", "true"));
        }
        if let Some(u) = user {
            query.push(("user", u));
        }
        let query =
            serde_urlencoded::to_string(&query).map_err(|e| ClientError::Url(e.to_string()))?;
        let answer = self
            .call_with_query(creds, &target("GET /sessions")?, &query, Bytes::new())
            .await?;
        let list: SessionList = decode(answer, &[200])?;
        checked::sessions(&list.sessions)?;
        Ok(list.sessions)
    }

    /// `POST /sessions/{id}/revoke`.
    pub async fn revoke_session(
        &self,
        creds: &Credentials,
        id: &str,
        reason: &str,
    ) -> Result<RevocationInfo, ClientError> {
        let id = checked_session_id(id)?;
        let path = format!("POST /sessions/{id}/revoke");
        let answer = self
            .call(creds, &target(&path)?, json(&ReasonBody { reason })?)
            .await?;
        revocation(answer, &[201])
    }

    /// `POST /requests/{id}/revoke`.
    pub async fn revoke_grant(
        &self,
        creds: &Credentials,
        id: &str,
        reason: &str,
    ) -> Result<RevocationInfo, ClientError> {
        let id = checked_hex16("a grant id", id)?;
        let path = format!("POST /requests/{id}/revoke");
        let answer = self
            .call(creds, &target(&path)?, json(&ReasonBody { reason })?)
            .await?;
        revocation(answer, &[201])
    }

    /// `POST /revocations` (201; a dry run 200).
    pub async fn create_revocation(
        &self,
        creds: &Credentials,
        new: &NewRevocation,
    ) -> Result<RevocationInfo, ClientError> {
        let answer = self
            .call(creds, &target("POST /revocations")?, json(new)?)
            .await?;
        let ok: &[u16] = if new.dry_run { &[200] } else { &[201] };
        revocation(answer, ok)
    }

    /// `GET /revocations?status=…`.
    pub async fn revocations(
        &self,
        creds: &Credentials,
        status: &str,
    ) -> Result<Vec<RevocationInfo>, ClientError> {
        let query = serde_urlencoded::to_string([("status", status)])
            .map_err(|e| ClientError::Url(e.to_string()))?;
        let answer = self
            .call_with_query(creds, &target("GET /revocations")?, &query, Bytes::new())
            .await?;
        let list: RevocationList = decode(answer, &[200])?;
        list.revocations.iter().try_for_each(checked::revocation)?;
        Ok(list.revocations)
    }

    /// `GET /revocations/{id}`.
    pub async fn revocation(
        &self,
        creds: &Credentials,
        id: &str,
    ) -> Result<RevocationInfo, ClientError> {
        let id = checked_hex16("a revocation id", id)?;
        let answer = self
            .call(
                creds,
                &target(&format!("GET /revocations/{id}"))?,
                Bytes::new(),
            )
            .await?;
        revocation(answer, &[200])
    }

    /// `GET /revocations/{id}/check`.
    pub async fn check_revocation(
        &self,
        creds: &Credentials,
        id: &str,
    ) -> Result<CheckAnswer, ClientError> {
        let id = checked_hex16("a revocation id", id)?;
        let answer = self
            .call(
                creds,
                &target(&format!("GET /revocations/{id}/check"))?,
                Bytes::new(),
            )
            .await?;
        let c: CheckAnswer = decode(answer, &[200])?;
        checked::check(&c)?;
        Ok(c)
    }

    /// `POST /revocations/{id}/lift`.
    pub async fn lift_revocation(
        &self,
        creds: &Credentials,
        id: &str,
        reason: &str,
    ) -> Result<RevocationInfo, ClientError> {
        let id = checked_hex16("a revocation id", id)?;
        let path = format!("POST /revocations/{id}/lift");
        let answer = self
            .call(creds, &target(&path)?, json(&ReasonBody { reason })?)
            .await?;
        revocation(answer, &[200])
    }
}
