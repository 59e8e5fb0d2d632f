//! The fixed label values of `tvm_vend_total`, shared by the registry and the
//! pre-resolved series of `hot.rs`.
//!
//! Invariant: a closed set chosen by tvm (DESIGN §7); never caller input.

/// The outcomes of `tvm_vend_total`.
pub const VEND_OUTCOMES: [&str; 10] = [
    "issued",
    "approval_required",
    "denied",
    "invalid_token",
    "replayed",
    "rate_limited",
    "sts_error",
    "sts_throttled",
    "bad_request",
    "ledger_error",
];
