//! [`SimSts`]: the simulator as an in-process [`Sts`], for unit tests of the
//! vending pipeline that want `Arc<dyn Sts>` without a socket.
//!
//! It acts as one registered key's principal and skips SigV4 (there is no
//! request to sign); everything else is the HTTP path's: the same parameter
//! rules, trust and session logic, fault injection and call record.
//!
//! Invariants: an unknown key is `InvalidClientTokenId`, an expired session
//! `ExpiredToken`; errors map to [`StsError`] as the AWS adapter maps STS's
//! (throttling apart, 5xx unavailable, the rest rejected).

use async_trait::async_trait;
use http::StatusCode;

use super::dispatch::{Reply, API_VERSION};
use super::params::Params;
use super::store::{request_id, Principal};
use super::types::RecordedCall;
use super::xml::{Format, StsFault};
use super::Simulator;
use crate::sts::{AssumeRoleInput, AssumedRole, CallerIdentity, Sts, StsError};

/// An in-process STS client signing as one access key of a [`Simulator`].
#[derive(Debug, Clone)]
pub struct SimSts {
    sim: Simulator,
    access_key_id: String,
}

impl Simulator {
    /// An in-process [`Sts`] acting as the principal of `access_key_id` (which
    /// must be registered by the time it is used).
    pub fn sts_client(&self, access_key_id: &str) -> SimSts {
        SimSts {
            sim: self.clone(),
            access_key_id: access_key_id.to_owned(),
        }
    }
}

/// The parameters `aws-sdk-sts` would send for `input`.
fn to_params(input: &AssumeRoleInput) -> Params {
    let mut pairs = vec![
        ("Action".to_owned(), "AssumeRole".to_owned()),
        ("Version".to_owned(), API_VERSION.to_owned()),
        ("RoleArn".to_owned(), input.role_arn.clone()),
        (
            "RoleSessionName".to_owned(),
            input.role_session_name.as_str().to_owned(),
        ),
        (
            "DurationSeconds".to_owned(),
            input.duration_seconds.to_string(),
        ),
        (
            "SourceIdentity".to_owned(),
            input.source_identity.as_str().to_owned(),
        ),
    ];
    if let Some(e) = &input.external_id {
        pairs.push(("ExternalId".to_owned(), e.clone()));
    }
    for (i, (k, v)) in input.tags.iter().enumerate() {
        pairs.push((format!("Tags.member.{}.Key", i + 1), k.clone()));
        pairs.push((format!("Tags.member.{}.Value", i + 1), v.clone()));
    }
    for (i, k) in input.transitive_tag_keys.iter().enumerate() {
        pairs.push((format!("TransitiveTagKeys.member.{}", i + 1), k.clone()));
    }
    if let Some(p) = &input.policy {
        pairs.push(("Policy".to_owned(), p.clone()));
    }
    Params::collect(pairs)
}

fn to_sts_error(fault: StsFault) -> StsError {
    let text = format!("{}: {}", fault.code, fault.message);
    if fault.code == "Throttling" || fault.status == StatusCode::TOO_MANY_REQUESTS {
        StsError::Throttled(text)
    } else if fault.status.is_server_error() {
        StsError::Unavailable(text)
    } else {
        StsError::Rejected {
            code: fault.code.into_owned(),
            message: fault.message,
        }
    }
}

impl SimSts {
    fn caller(&self) -> Result<Principal, StsFault> {
        let entry = self
            .sim
            .lock()
            .store
            .keys
            .get(&self.access_key_id)
            .cloned()
            .ok_or_else(StsFault::invalid_client_token)?;
        if let Some(s) = entry.principal.session() {
            if self.sim.now() >= s.expiration {
                return Err(StsFault::new(
                    StatusCode::FORBIDDEN,
                    "ExpiredToken",
                    "The security token included in the request is expired",
                ));
            }
        }
        Ok(entry.principal)
    }

    fn run(
        &self,
        params: &Params,
        rid: &str,
        call: &mut RecordedCall,
    ) -> Result<AssumedRole, StsFault> {
        let caller = self.caller()?;
        call.caller_arn = Some(caller.arn());
        // As on the HTTP path: a session its role's inline policies deny.
        self.sim.enforce_role_policies(&caller, call, false)?;
        let acted = self.sim.act(&caller, params, rid, Format::Xml)?;
        let issued = acted.issued.ok_or_else(|| {
            StsFault::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalFailure",
                "no credentials",
            )
        })?;
        Ok(AssumedRole {
            credentials: issued.credentials,
            assumed_role_arn: Some(issued.assumed_role_arn),
            sts_request_id: Some(rid.to_owned()),
        })
    }
}

impl SimSts {
    /// One action as the HTTP path runs it: fault injection first, then `act`,
    /// then the record.
    async fn call<T>(
        &self,
        action: &'static str,
        params: Params,
        act: impl FnOnce(&Self, &Params, &str, &mut RecordedCall) -> Result<T, StsFault>,
    ) -> Result<T, StsError> {
        let rid = request_id();
        let mut call = RecordedCall {
            action: Some(action.to_owned()),
            params: params.recorded(),
            caller_arn: None,
            status: 200,
            error_code: None,
            signed_headers: Vec::new(),
        };
        let result = match self.sim.inject(Some(action)).await {
            Ok(Some(Reply::Raw(status, _))) => {
                // A verbatim injected answer: recorded without an error code,
                // as on the HTTP path.
                call.status = status.as_u16();
                self.sim.record(call);
                let text = format!("injected HTTP {}", status.as_u16());
                return Err(match status.as_u16() {
                    429 => StsError::Throttled(text),
                    400..=499 => StsError::Rejected {
                        code: format!("HTTP{}", status.as_u16()),
                        message: text,
                    },
                    _ => StsError::Unavailable(text),
                });
            }
            Ok(Some(Reply::Fault(f))) | Err(f) => Err(f),
            Ok(Some(Reply::Doc(_)) | None) => act(self, &params, &rid, &mut call),
        };
        if let Err(f) = &result {
            call.status = f.status.as_u16();
            call.error_code = Some(f.code.to_string());
        }
        self.sim.record(call);
        result.map_err(to_sts_error)
    }
}

#[async_trait]
impl Sts for SimSts {
    async fn assume_role(&self, input: AssumeRoleInput) -> Result<AssumedRole, StsError> {
        self.call("AssumeRole", to_params(&input), Self::run).await
    }

    async fn get_caller_identity(&self) -> Result<CallerIdentity, StsError> {
        let params = Params::collect(vec![
            ("Action".to_owned(), "GetCallerIdentity".to_owned()),
            ("Version".to_owned(), API_VERSION.to_owned()),
        ]);
        self.call("GetCallerIdentity", params, |this, _, _, call| {
            let caller = this.caller()?;
            call.caller_arn = Some(caller.arn());
            Ok(CallerIdentity {
                arn: caller.arn(),
                account: caller.account().to_owned(),
            })
        })
        .await
    }
}
