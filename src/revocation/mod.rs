//! Revocation (DESIGN §13): ending sessions, grants, caller keys and people
//! early, at tvm and in AWS.
//!
//! Layout: [`iam`] — the AWS side: the per-role inline deny policy derived
//! from the database, the leased per-role queue that writes it through the
//! revoker role, manual mode's instructions, and the read-back check. The
//! revocations themselves (kinds, blocks, lifts) join this module beside it.
//!
//! Invariant: nothing here is on the vend path's critical section; a vend
//! never waits for IAM.

pub mod iam;
