//! What tvm's two kinds of STS calls share: the verifier's rebuilt
//! `GetCallerIdentity` ([`crate::auth`]) and tvm's own signed `AssumeRole` and
//! `GetCallerIdentity` ([`crate::sts::aws`]).
//!
//! Owns: the pooled HTTP client with its deadlines, TLS rules and body cap
//! ([`transport`]), and the strict reader of STS's XML ([`xml`]).
//!
//! Invariant: both callers get the same network and parsing rules; neither
//! writes its own.

pub mod transport;
pub mod xml;
