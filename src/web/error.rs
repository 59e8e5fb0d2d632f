//! The one error type of the HTTP API and its wire format (DESIGN §6):
//! `{"Code": "...", "Message": "...", "RequestId": "..."}`.
//!
//! Invariant: bodies carry a stable code and a fixed, generic message per code;
//! causes (STS error text, which check failed, which rule denied) go to the log
//! once, never to the caller. A deny and an unknown profile look the same.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::auth::{VerifyError, VerifyErrorKind};
use crate::identity::RequestId;
use crate::vend::VendError;

/// What went wrong, as far as the caller may know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiErrorKind {
    /// 400 `INVALID_REQUEST`.
    InvalidRequest,
    /// 400 `INVALID_DURATION`.
    InvalidDuration,
    /// 401 `INVALID_TOKEN`.
    InvalidToken,
    /// 401 `TOKEN_EXPIRED`.
    TokenExpired,
    /// 401 `TOKEN_REPLAYED`.
    TokenReplayed,
    /// 403 `POLICY_DENY`.
    PolicyDeny,
    /// 403 `APPROVAL_REQUIRED` (DESIGN §12).
    ApprovalRequired,
    /// 404 `NOT_FOUND` (no such route, or a request this caller may not see).
    NotFound,
    /// 409 `CONFLICT` (the request is no longer pending).
    Conflict,
    /// 405 `METHOD_NOT_ALLOWED`.
    MethodNotAllowed,
    /// 413 `PAYLOAD_TOO_LARGE`.
    PayloadTooLarge,
    /// 429 `RATE_LIMITED`.
    RateLimited,
    /// 502 `STS_ERROR`.
    StsError,
    /// 502 `CREDENTIAL_ERROR`.
    CredentialError,
    /// 503 `STS_THROTTLED`.
    StsThrottled,
    /// 503 `UNAVAILABLE`.
    Unavailable,
    /// 501 `NOT_CONFIGURED`: a route of DESIGN §12 or §13 on a tvm without
    /// `database.url`.
    NotConfigured,
}

impl ApiErrorKind {
    /// The HTTP status.
    pub fn status(self) -> StatusCode {
        use ApiErrorKind::*;
        match self {
            InvalidRequest | InvalidDuration => StatusCode::BAD_REQUEST,
            InvalidToken | TokenExpired | TokenReplayed => StatusCode::UNAUTHORIZED,
            PolicyDeny | ApprovalRequired => StatusCode::FORBIDDEN,
            Conflict => StatusCode::CONFLICT,
            NotFound => StatusCode::NOT_FOUND,
            MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            RateLimited => StatusCode::TOO_MANY_REQUESTS,
            StsError | CredentialError => StatusCode::BAD_GATEWAY,
            StsThrottled | Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            NotConfigured => StatusCode::NOT_IMPLEMENTED,
        }
    }

    /// The stable `Code`.
    pub fn code(self) -> &'static str {
        use ApiErrorKind::*;
        match self {
            InvalidRequest => "INVALID_REQUEST",
            InvalidDuration => "INVALID_DURATION",
            InvalidToken => "INVALID_TOKEN",
            TokenExpired => "TOKEN_EXPIRED",
            TokenReplayed => "TOKEN_REPLAYED",
            PolicyDeny => "POLICY_DENY",
            NotFound => "NOT_FOUND",
            ApprovalRequired => "APPROVAL_REQUIRED",
            Conflict => "CONFLICT",
            MethodNotAllowed => "METHOD_NOT_ALLOWED",
            PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            RateLimited => "RATE_LIMITED",
            StsError => "STS_ERROR",
            CredentialError => "CREDENTIAL_ERROR",
            StsThrottled => "STS_THROTTLED",
            Unavailable => "UNAVAILABLE",
            NotConfigured => "NOT_CONFIGURED",
        }
    }

    fn default_message(self) -> &'static str {
        use ApiErrorKind::*;
        match self {
            InvalidRequest => "the request is malformed",
            InvalidDuration => "duration_seconds is out of range",
            InvalidToken => "the caller proof is not valid",
            TokenExpired => "the caller proof has expired",
            TokenReplayed => "the caller proof was already used",
            PolicyDeny => "the policy does not allow this request",
            NotFound => "not found",
            ApprovalRequired => {
                "this profile needs an approval: POST /requests, then vend with the approval_id"
            }
            Conflict => "the request is no longer pending",
            MethodNotAllowed => "method not allowed",
            PayloadTooLarge => "the request body is too large",
            RateLimited => "too many requests",
            StsError => "the upstream credential service failed",
            CredentialError => "the upstream credential service returned unusable credentials",
            StsThrottled => "the upstream credential service is throttling; retry later",
            Unavailable => "the service is unavailable; retry later",
            NotConfigured => "this tvm has no database (database.url): approvals are not available",
        }
    }
}

/// An error response. `message` is only ever tvm's own text.
#[derive(Debug, Clone)]
pub struct ApiError {
    kind: ApiErrorKind,
    message: Option<String>,
    request_id: Option<RequestId>,
    retry_after_secs: Option<u64>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Body<'a> {
    code: &'a str,
    message: &'a str,
    request_id: &'a str,
}

impl ApiError {
    /// An error with the code's generic message.
    pub fn new(kind: ApiErrorKind) -> Self {
        Self {
            kind,
            message: None,
            request_id: None,
            retry_after_secs: None,
        }
    }

    /// Replaces the generic message with tvm's own, caller-safe text.
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// Adds the request id to the body.
    pub fn with_request_id(mut self, id: &RequestId) -> Self {
        self.request_id = Some(id.clone());
        self
    }

    /// Adds `Retry-After`.
    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after_secs = Some(secs);
        self
    }

    /// The kind.
    pub fn kind(&self) -> ApiErrorKind {
        self.kind
    }
}

impl From<&VerifyError> for ApiErrorKind {
    fn from(e: &VerifyError) -> Self {
        match e.kind() {
            VerifyErrorKind::InvalidToken => ApiErrorKind::InvalidToken,
            VerifyErrorKind::Expired => ApiErrorKind::TokenExpired,
            VerifyErrorKind::Replayed => ApiErrorKind::TokenReplayed,
            VerifyErrorKind::Throttled => ApiErrorKind::StsThrottled,
            VerifyErrorKind::StsError => ApiErrorKind::StsError,
            VerifyErrorKind::Unavailable => ApiErrorKind::Unavailable,
        }
    }
}

impl From<&VendError> for ApiError {
    fn from(e: &VendError) -> Self {
        match e {
            VendError::BadRequest(msg) => {
                ApiError::new(ApiErrorKind::InvalidRequest).with_message(*msg)
            }
            VendError::BadDuration(msg) => {
                ApiError::new(ApiErrorKind::InvalidDuration).with_message(msg.clone())
            }
            VendError::TooLarge => ApiError::new(ApiErrorKind::PayloadTooLarge),
            VendError::RateLimited(wait) => {
                ApiError::new(ApiErrorKind::RateLimited).with_retry_after(wait.as_secs().max(1))
            }
            VendError::Verify(v) => ApiError::new(v.into()),
            VendError::Denied | VendError::Revoked(_) => ApiError::new(ApiErrorKind::PolicyDeny),
            VendError::ApprovalRequired => ApiError::new(ApiErrorKind::ApprovalRequired),
            VendError::UnboundToken => ApiError::new(ApiErrorKind::InvalidToken),
            VendError::Sts(crate::sts::StsError::Throttled(_)) => {
                ApiError::new(ApiErrorKind::StsThrottled).with_retry_after(1)
            }
            VendError::Sts(_) => ApiError::new(ApiErrorKind::StsError),
            VendError::Credentials(_) => ApiError::new(ApiErrorKind::CredentialError),
            VendError::Unavailable(_) | VendError::Ledger => {
                ApiError::new(ApiErrorKind::Unavailable).with_retry_after(1)
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            code: self.kind.code(),
            message: self
                .message
                .as_deref()
                .unwrap_or(self.kind.default_message()),
            request_id: self.request_id.as_ref().map_or("", |r| r.as_str()),
        };
        let mut resp = (self.kind.status(), axum::Json(body)).into_response();
        let headers = resp.headers_mut();
        if self.kind.status() == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(secs) = self.retry_after_secs {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        resp
    }
}
