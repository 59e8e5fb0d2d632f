//! The approval commands of DESIGN §12: `tvm request [--wait]` (ask for a
//! profile that needs a second person), `tvm requests` (what is pending for
//! this caller), `tvm approve` and `tvm deny`.
//!
//! - [`api`]: the signed calls (`POST /requests`, `GET /requests`,
//!   `GET /requests/{id}`, `POST /requests/{id}/approve|deny`);
//! - [`request`]: `tvm request`, its `--wait` polling and `--print-credentials`;
//! - [`listing`]: `tvm requests` and its table;
//! - [`decide`]: `tvm approve` / `tvm deny`.
//!
//! Invariants: every call carries a token minted for its own method and path
//! (an approve token is useless for a deny); a request id goes into a path only
//! after it was checked to be 16 lowercase hex ([`is_request_id`]), so no input
//! can steer a token to another route; every request object is held to its
//! grammar ([`super::checked::request`]: id, status, profile, times) before
//! anything is shown, and its free text (reasons, ARNs, comments) is printed
//! only through [`super::visible`] (control, separator and bidi characters
//! shown escaped); a failure is one line on stderr and exit 1.
//!
//! This file is an index: it declares the modules and re-exports, and holds no
//! code.

pub mod api;
pub mod decide;
pub mod listing;
pub mod request;
#[cfg(test)]
mod tests;

pub use super::checked::is_request_id;
pub use super::wire::{ApprovalInfo, RequestInfo};
pub use api::Decision;
pub use decide::{decide_command, DecideArgs};
pub use listing::{age, requests_command, table, RequestsArgs};
pub use request::{request_command, RequestArgs};
