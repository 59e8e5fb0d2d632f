//! One request through the simulator, independent of the HTTP server: parameter
//! decoding, fault injection, authentication, the action, and the call record.
//!
//! Invariants: every request yields exactly one [`RecordedCall`], rejected ones
//! included; no action runs unless the signature verified with the secret of a
//! known, unexpired key whose session token (if any) matched in constant time;
//! a long-term key presenting a session token is refused; a call made with a
//! session its role's inline policies deny is refused before it acts
//! (GetCallerIdentity excepted); IAM calls ([`iam`]) are told apart by their
//! `Version` and answer in IAM's namespace.

use std::collections::BTreeMap;

use http::{HeaderMap, StatusCode};

use super::actions;
use super::iam;
use super::params::{decode_form, Params};
use super::rules::parse_assume_role;
use super::sigv4::{self, Claim, Received};
use super::store::Principal;
use super::types::{Fault, RecordedCall};
use super::xml::{echo, Format, StsFault};
use super::Simulator;

/// The only API version STS speaks.
pub(crate) const API_VERSION: &str = "2011-06-15";

/// Whether the request names IAM's API version: an IAM call (see [`iam`]).
fn is_iam(call: &RecordedCall) -> bool {
    call.params.get("Version").map(String::as_str) == Some(iam::IAM_API_VERSION)
}

/// A received request, as bytes.
pub(crate) struct Incoming<'a> {
    pub(crate) method: &'a http::Method,
    pub(crate) path: &'a str,
    pub(crate) raw_query: &'a str,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) body: &'a [u8],
    /// The document format the caller accepts.
    pub(crate) format: Format,
}

/// What an action produced.
#[derive(Debug)]
pub(crate) struct Acted {
    /// The response document (may contain a secret: never log it).
    pub(crate) body: String,
    /// For `AssumeRole`, what was issued.
    pub(crate) issued: Option<actions::Issued>,
}

/// What to answer.
#[derive(Debug)]
pub(crate) enum Reply {
    /// 200 with this document (in the request's format).
    Doc(String),
    /// An injected verbatim answer.
    Raw(StatusCode, String),
    /// An STS error.
    Fault(StsFault),
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| {
            m.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// The recorded `x-tvm-*` / `x-k8s-aws-id` headers that the claim signs.
fn tvm_headers(headers: &HeaderMap, claim: &Claim) -> Vec<(String, String)> {
    claim
        .signed_headers
        .iter()
        .filter(|n| n.starts_with("x-tvm-") || *n == "x-k8s-aws-id")
        .filter_map(|n| {
            let v = headers.get(n.as_str())?.to_str().ok()?;
            Some((n.clone(), v.to_owned()))
        })
        .collect()
}

impl Simulator {
    /// Handles one request and records it.
    pub(crate) async fn dispatch(&self, req: Incoming<'_>, request_id: &str) -> Reply {
        let mut call = RecordedCall {
            action: None,
            params: BTreeMap::new(),
            caller_arn: None,
            status: 0,
            error_code: None,
            signed_headers: Vec::new(),
        };
        let reply = match self.run(&req, request_id, &mut call).await {
            Ok(reply) => reply,
            // IAM's errors come in IAM's namespace, whatever step refused.
            Err(fault) if is_iam(&call) => Reply::Fault(fault.in_iam()),
            Err(fault) => Reply::Fault(fault),
        };
        match &reply {
            Reply::Doc(_) => call.status = 200,
            Reply::Raw(status, _) => call.status = status.as_u16(),
            Reply::Fault(f) => {
                call.status = f.status.as_u16();
                call.error_code = Some(f.code.to_string());
            }
        }
        tracing::debug!(
            action = call.action.as_deref().map(echo).unwrap_or_default(),
            status = call.status,
            error_code = call.error_code.as_deref().unwrap_or("-"),
            "sts simulator request"
        );
        self.record(call);
        reply
    }

    async fn run(
        &self,
        req: &Incoming<'_>,
        request_id: &str,
        call: &mut RecordedCall,
    ) -> Result<Reply, StsFault> {
        if req.method != http::Method::GET && req.method != http::Method::POST {
            return Err(StsFault::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                "Only GET and POST are supported.",
            ));
        }
        let query = decode_form(req.raw_query)?;
        let mut pairs = query.clone();
        if req.method == http::Method::POST && is_form(req.headers) {
            let body = std::str::from_utf8(req.body).map_err(|_| {
                StsFault::new(
                    StatusCode::BAD_REQUEST,
                    "MalformedQueryString",
                    "The body is not UTF-8.",
                )
            })?;
            pairs.extend(decode_form(body)?);
        }
        let params = Params::collect(pairs);
        call.params = params.recorded();
        call.action = params.get("Action").map(str::to_owned);
        if req.path != "/" {
            return Err(StsFault::new(
                StatusCode::NOT_FOUND,
                "NotFound",
                "Unknown path.",
            ));
        }
        params.check()?;

        if let Some(reply) = self.inject(call.action.as_deref()).await? {
            return Ok(reply);
        }

        // The one unsigned action: the web identity token is the proof.
        if call.action.as_deref() == Some("AssumeRoleWithWebIdentity")
            && params.get("Version") == Some(API_VERSION)
        {
            let ar = parse_assume_role(&params)?;
            let token = params.get("WebIdentityToken").ok_or_else(|| {
                StsFault::validation(
                    "1 validation error detected: Value null at 'webIdentityToken' failed to \
                     satisfy constraint: Member must not be null",
                )
            })?;
            let now = self.now();
            let mut inner = self.lock();
            let issued = actions::assume_role_with_web_identity(
                &mut inner.store,
                &ar,
                token,
                now,
                request_id,
                req.format,
            )?;
            call.caller_arn = Some(issued.assumed_role_arn.clone());
            return Ok(Reply::Doc(issued.body));
        }
        let iam_call = is_iam(call);
        let received = Received {
            service: if iam_call { "iam" } else { "sts" },
            method: req.method.as_str(),
            path: req.path,
            raw_query: req.raw_query,
            query: &query,
            headers: req.headers,
            body: req.body,
        };
        let caller = self.authenticate(&received, call)?;
        call.caller_arn = Some(caller.arn());
        self.enforce_role_policies(&caller, call, iam_call)?;
        if iam_call {
            let mut inner = self.lock();
            return iam::act(&mut inner.store, &caller, &params, request_id).map(Reply::Doc);
        }
        self.act(&caller, &params, request_id, req.format)
            .map(|a| Reply::Doc(a.body))
    }

    /// Refuses a call made with a session whose role's inline policies deny
    /// it (DESIGN §13) — every call but STS's `GetCallerIdentity`, which AWS
    /// answers even for a denied session.
    pub(crate) fn enforce_role_policies(
        &self,
        caller: &Principal,
        call: &RecordedCall,
        iam_call: bool,
    ) -> Result<(), StsFault> {
        let action = call.action.as_deref().unwrap_or_default();
        if !iam_call && action == "GetCallerIdentity" {
            return Ok(());
        }
        let Some(session) = caller.session() else {
            return Ok(());
        };
        if iam::session_denied(&self.lock().store, session) {
            let service = if iam_call { "iam" } else { "sts" };
            return Err(iam::explicit_deny(caller, &format!("{service}:{action}")));
        }
        Ok(())
    }

    /// Applies the fault injected for `action`: `Ok(None)` to go on (after any
    /// delay), `Ok(Some(_))` to answer verbatim, `Err(_)` to answer an error.
    pub(crate) async fn inject(&self, action: Option<&str>) -> Result<Option<Reply>, StsFault> {
        match self.fault_for(action) {
            Some(Fault::Throttle) => Err(StsFault::new(
                StatusCode::BAD_REQUEST,
                "Throttling",
                "Rate exceeded",
            )),
            Some(Fault::InternalError) => Err(StsFault::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalFailure",
                "An internal error has occurred.",
            )),
            Some(Fault::Status(status, body)) => {
                let status =
                    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                Ok(Some(Reply::Raw(status, body)))
            }
            Some(Fault::Delay(d)) => {
                tokio::time::sleep(d).await;
                Ok(None)
            }
            None => Ok(None),
        }
    }

    /// SigV4, key, session token and expiry: the caller, or why not.
    fn authenticate(
        &self,
        req: &Received<'_>,
        call: &mut RecordedCall,
    ) -> Result<Principal, StsFault> {
        let claim = sigv4::parse(req)?.ok_or_else(|| {
            StsFault::new(
                StatusCode::FORBIDDEN,
                "MissingAuthenticationToken",
                "Request is missing Authentication Token",
            )
        })?;
        call.signed_headers = tvm_headers(req.headers, &claim);
        let now = self.now();
        sigv4::check_time(&claim, now)?;
        let entry = self
            .lock()
            .store
            .keys
            .get(&claim.access_key_id)
            .cloned()
            .ok_or_else(StsFault::invalid_client_token)?;
        match (&entry.principal, claim.session_token.as_deref()) {
            (Principal::User { .. }, None) => {}
            (Principal::Session(s), Some(token)) if s.session_token.matches(token) => {
                if now >= s.expiration {
                    return Err(StsFault::new(
                        StatusCode::FORBIDDEN,
                        "ExpiredToken",
                        "The security token included in the request is expired",
                    ));
                }
            }
            _ => return Err(StsFault::invalid_client_token()),
        }
        sigv4::verify(req, &claim, entry.secret.expose())?;
        Ok(entry.principal)
    }

    /// Runs the action named in `params` for an authenticated caller.
    pub(crate) fn act(
        &self,
        caller: &Principal,
        params: &Params,
        request_id: &str,
        format: Format,
    ) -> Result<Acted, StsFault> {
        let action = params.get("Action").ok_or_else(|| {
            StsFault::new(StatusCode::BAD_REQUEST, "MissingAction", "Missing Action")
        })?;
        let version = params.get("Version").unwrap_or("NO_VERSION_SPECIFIED");
        let unknown = || {
            StsFault::new(
                StatusCode::BAD_REQUEST,
                "InvalidAction",
                format!(
                    "Could not find operation {} for version {}",
                    echo(action),
                    echo(version)
                ),
            )
        };
        if version != API_VERSION {
            return Err(unknown());
        }
        match action {
            "GetCallerIdentity" => Ok(Acted {
                body: actions::get_caller_identity(caller, request_id, format),
                issued: None,
            }),
            "GetAccessKeyInfo" => {
                let inner = self.lock();
                actions::get_access_key_info(&inner.store, params, request_id, format)
                    .map(|body| Acted { body, issued: None })
            }
            "AssumeRole" => {
                let req = parse_assume_role(params)?;
                let now = self.now();
                let mut inner = self.lock();
                let issued =
                    actions::assume_role(&mut inner.store, caller, &req, now, request_id, format)?;
                Ok(Acted {
                    body: issued.body.clone(),
                    issued: Some(issued),
                })
            }
            _ => Err(unknown()),
        }
    }
}
