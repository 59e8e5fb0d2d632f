//! The oracles of tvm's fuzz targets, shared with the seed generator.
//!
//! The targets under `fuzz_targets/` are thin: each hands its input to one
//! `check` function here, which runs tvm's own code on it and panics when an
//! invariant fails. Keeping the oracles in a library lets
//! `examples/gen_seeds.rs` assert that every seed it writes is accepted where it
//! should be, so the seeds really reach the deepest checks.
//!
//! Every oracle re-derives what it asserts from the input with code written here,
//! not with tvm's helpers, so a bug in a tvm parser cannot hide itself.

pub mod arn;
pub mod mutate;
mod reference;
pub mod token;
