//! The decision log line: exactly one per `/vend` (DESIGN §8, with §13's
//! `kind, grant_id, client_addr, caller_access_key_id, access_key_id,
//! expiration`), with whatever was known when the request ended, and no other line for that request: the
//! verifier logs nothing of its own on a refusal. At INFO for an answer and a
//! caller's fault, at WARN for a fault of tvm or an upstream. Never contains a
//! token or a credential.

use std::time::Duration;

use super::outcome::{VendError, Vended};
use crate::auth::VerifiedCaller;
use crate::identity::RequestId;
use crate::metrics::Metrics;
use crate::policy::Decision;
use crate::sts::Credentials;

/// Fields of the decision line, filled in as the pipeline advances. If the
/// request is dropped before it finished (request timeout, shutdown abort) the
/// line is still written, from `Drop`, with effect `error` and reason `aborted`:
/// AssumeRole may already have succeeded, and CloudTrail will show its request id.
#[derive(Debug)]
pub(super) struct DecisionLog {
    /// Counts the outcome of an aborted request; `None` once emitted.
    pending: Option<Metrics>,
    pub(super) request_id: String,
    pub(super) principal_arn: Option<String>,
    pub(super) account: Option<String>,
    pub(super) username: Option<String>,
    pub(super) profile: Option<String>,
    pub(super) role_arn: Option<String>,
    pub(super) rule: Option<String>,
    pub(super) reason: Option<&'static str>,
    pub(super) source_identity: Option<String>,
    pub(super) duration_seconds: Option<u32>,
    pub(super) sts_request_id: Option<String>,
    /// `direct|approval|break_glass` once known.
    pub(super) kind: Option<&'static str>,
    pub(super) grant_id: Option<String>,
    pub(super) client_addr: Option<String>,
    /// The access key id that signed the caller's proof (an identifier).
    pub(super) caller_access_key_id: Option<String>,
    /// The vended AccessKeyId (an identifier, never the secret or token).
    pub(super) access_key_id: Option<String>,
    /// STS's Expiration of the vended credentials (RFC 3339).
    pub(super) expiration: Option<String>,
}

impl DecisionLog {
    pub(super) fn new(id: &RequestId, metrics: &Metrics) -> Self {
        Self {
            pending: Some(metrics.clone()),
            request_id: id.to_string(),
            principal_arn: None,
            account: None,
            username: None,
            profile: None,
            role_arn: None,
            rule: None,
            reason: None,
            source_identity: None,
            duration_seconds: None,
            sts_request_id: None,
            kind: None,
            grant_id: None,
            client_addr: None,
            caller_access_key_id: None,
            access_key_id: None,
            expiration: None,
        }
    }

    /// The vended key id and expiry (never the secret key or the token).
    pub(super) fn issued(&mut self, c: &Credentials) {
        self.access_key_id = Some(c.access_key_id.clone());
        self.expiration = Some(c.expiration.strftime("%Y-%m-%dT%H:%M:%SZ").to_string());
    }

    pub(super) fn caller(&mut self, caller: &VerifiedCaller) {
        let identity = caller.identity();
        self.principal_arn = Some(identity.arn().to_string());
        self.account = Some(identity.account().to_string());
        self.username = Some(identity.username().to_owned());
        self.caller_access_key_id = Some(caller.access_key_id().to_owned());
    }

    pub(super) fn decision(&mut self, d: &Decision) {
        self.rule = d.rule.as_ref().map(|r| r.name.to_string());
        self.reason = Some(d.reason.as_str());
        if let Some(g) = d.grant() {
            self.role_arn = Some(g.profile.role_arn.clone());
        }
    }

    pub(super) fn emit(&mut self, result: Result<&Vended, &VendError>, latency: Duration) {
        self.pending = None;
        let (effect, reason) = match result {
            Ok(_) => ("allow", self.reason.unwrap_or("allowed_by_rule")),
            // The pipeline learnt a finer reason on the way (the rule's, the
            // bucket's): it names it.
            Err(
                e @ (VendError::Denied | VendError::BadDuration(_) | VendError::RateLimited(_)),
            ) => (e.effect(), self.reason.unwrap_or(e.reason())),
            Err(e @ VendError::Revoked(reason)) => (e.effect(), *reason),
            Err(e) => (e.effect(), e.reason()),
        };
        let error = result.err().map(|e| e.to_string()).unwrap_or_default();
        let level = match result {
            Err(e) if e.is_server_fault() => Level::Warn,
            _ => Level::Info,
        };
        self.write(level, effect, reason, latency, &error);
    }

    fn write(&self, level: Level, effect: &str, reason: &str, latency: Duration, error: &str) {
        // Borrowed, not cloned, and recorded as `&str` (not `%` Display, which
        // formats each field into a temporary string first).
        fn o(v: &Option<String>) -> &str {
            v.as_deref().unwrap_or_default()
        }
        let latency_ms = latency.as_millis() as u64;
        // One call site per level (a tracing level is fixed per call site).
        macro_rules! decision {
            ($event:ident) => {
                tracing::$event!(
                    target: "tvm::decision",
                    request_id = self.request_id.as_str(),
                    principal_arn = o(&self.principal_arn),
                    account = o(&self.account),
                    username = o(&self.username),
                    profile = o(&self.profile),
                    role_arn = o(&self.role_arn),
                    effect,
                    rule = o(&self.rule),
                    reason,
                    source_identity = o(&self.source_identity),
                    duration_seconds = self.duration_seconds.unwrap_or(0),
                    sts_request_id = o(&self.sts_request_id),
                    kind = self.kind.unwrap_or_default(),
                    grant_id = o(&self.grant_id),
                    client_addr = o(&self.client_addr),
                    caller_access_key_id = o(&self.caller_access_key_id),
                    access_key_id = o(&self.access_key_id),
                    expiration = o(&self.expiration),
                    latency_ms,
                    error,
                    "decision"
                )
            };
        }
        match level {
            Level::Info => decision!(info),
            Level::Warn => decision!(warn),
        }
    }
}

/// The level of a decision line: INFO for an answer and for a caller's fault,
/// WARN for a fault of tvm or an upstream ([`VendError::is_server_fault`]).
#[derive(Debug, Clone, Copy)]
enum Level {
    Info,
    Warn,
}

impl Drop for DecisionLog {
    fn drop(&mut self) {
        if let Some(metrics) = self.pending.take() {
            metrics.vend_outcome("sts_error");
            self.write(
                Level::Warn,
                "error",
                "aborted",
                Duration::ZERO,
                "request aborted before it finished",
            );
        }
    }
}
