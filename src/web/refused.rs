//! The one log line of a refused request on an authenticated route other than
//! `/vend` (`GET /profiles`, the approvals API, `POST /ui/login-links`); `/vend`
//! writes its decision line instead (`crate::vend`).
//!
//! Invariants: one line per refused request, written here and nowhere else
//! (the verifier logs nothing of its own); it names the reason and the error,
//! never the token; a caller's fault is INFO, a fault of tvm or an upstream is
//! WARN ([`VendError::is_server_fault`]). A refusal by the per-address bucket
//! is counted, not logged, so a flood does not become a log flood.

use crate::identity::RequestId;
use crate::vend::VendError;

/// Logs that `what` (e.g. `"profiles refused"`) refused request `id` because
/// of `e`.
pub(crate) fn log(what: &'static str, id: &RequestId, e: &VendError) {
    if e.is_server_fault() {
        tracing::warn!(request_id = %id, reason = e.reason(), error = %e, "{what}");
    } else {
        tracing::info!(request_id = %id, reason = e.reason(), error = %e, "{what}");
    }
}
