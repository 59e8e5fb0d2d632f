//! What every route shares, below both the JSON API ([`crate::api`]) and the
//! web page ([`crate::ui`]) and above the services: the application state
//! ([`AppState`]), the client address ([`ClientAddr`], trusted proxies), the
//! error wire format ([`ApiError`]), the readiness latch, the per-address rate
//! limits, the extractors whose rejections are tvm's own answers
//! ([`ApiQuery`], [`ApiPath`]), the body reader, the refusal log line, the
//! listener facts and the header names a request is read by.
//!
//! Invariants: nothing here routes or decides policy; `api` and `ui` never
//! import each other, only this module; `http` (the router owner) puts the
//! request id, the [`ClientAddr`] and the [`ListenerInfo`] on every request
//! before any handler runs.

mod body;
mod client_addr;
mod error;
mod extract;
mod ratelimit;
mod readiness;
mod refused;
mod request;
mod state;

pub(crate) use body::{read_body, BodyError};
pub use client_addr::{ClientAddr, TrustedProxies};
pub use error::{ApiError, ApiErrorKind};
pub(crate) use extract::{ApiPath, ApiQuery};
pub use ratelimit::{AddressLimits, AddressScope};
pub use readiness::Readiness;
pub(crate) use refused::log as log_refusal;
pub(crate) use request::request_context;
pub use request::{ListenerInfo, AUDIENCE_HINT_HEADER, REQUEST_ID_HEADER};
pub use state::{AppParts, AppState, Discovery};
