//! The vending pipeline for one request (DESIGN §1): body → caller proof →
//! limit per caller → policy → grant or break-glass record → stamps →
//! `AssumeRole` → credentials, and the one decision log line and
//! `tvm_vend_total` outcome every `/vend` produces.
//!
//! Layout: [`Vendor`] (`vendor`) owns the dependencies and the entry points;
//! `pipeline` runs the steps in order; `calls` makes the counted calls out
//! (the proof, the caller's buckets, AssumeRole under the STS call cap);
//! `grants` is the approvals step; `session` the ledger step (DESIGN §13:
//! the pending row before AssumeRole, its completion after); `body` parses
//! the request; `limits` holds
//! the per-caller buckets; `outcome` is how a vend ends ([`Vended`],
//! [`VendError`]); `fault` whose fault an error is; `log` the decision line.
//!
//! Invariants: pure checks (body shape, duration range) run before any network
//! call; a verified caller is charged to its per-caller buckets
//! ([`CallerLimits`]) before policy and AssumeRole; a request refused by the
//! per-address bucket before the pipeline is counted, not logged one line each;
//! nothing reaches STS unless the policy allowed it; every field sent to
//! STS is tvm's (validated profile, stamps built here); credentials never reach
//! a log line.

mod body;
mod calls;
mod fault;
mod grants;
mod limits;
mod log;
mod outcome;
mod pipeline;
mod session;
mod vendor;

pub use body::VendBody;
pub use grants::GRANT_ID_TAG;
pub use limits::CallerLimits;
pub use outcome::{VendError, Vended};
pub use vendor::Vendor;
