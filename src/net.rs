//! Validated names of the AWS and HTTP world, as plain values: region names and
//! the region table, the STS hosts of each partition, configured STS endpoints,
//! origins (`scheme://host[:port]`) and the strict URL grammar with SigV4 query
//! encoding.
//!
//! Owns: `url` (splitting and strict query decoding), `hosts` (the region table,
//! the one region-name grammar, the STS host allowlist, [`Endpoint`]) and
//! `origin` ([`Origin`] in its one normal form).
//!
//! Invariants: every function here is pure (no I/O, no clock) and refuses
//! rather than guesses; a value of these types has passed its parser, so the
//! configuration, the verifier ([`crate::auth`]) and the client all compare the
//! same bytes. It sits in the base layer so that `config` can validate settings
//! with the very rules the trust boundary applies, without importing `auth`.

mod hosts;
mod origin;
mod url;

pub use hosts::{is_known_region, is_region_name, Endpoint, EndpointError, MAX_REGION_LEN};
pub use origin::{Origin, OriginError, MAX_ORIGIN_LEN};
pub use url::{Scheme, UrlError};

pub(crate) use hosts::{regional_host, sts_host, Allowlist};
pub(crate) use url::{
    encode_query, is_ip_literal, parse_query, parse_url, sigv4_encode, ParsedUrl,
};
