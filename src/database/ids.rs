//! Row ids: 16 lowercase hex from the CSPRNG — the ids of approval requests,
//! break-glass records, audit rows and webhook events (and, with DESIGN §13,
//! revocations).
//!
//! Invariant: an id is unguessable (64 random bits), so knowing one id tells
//! nothing of another; [`is_id`] is checked before an id from a caller
//! reaches a query.

use rand::RngCore;

/// A new 16-lowercase-hex id from the CSPRNG (request and record ids).
pub fn new_id() -> String {
    let mut b = [0u8; 8];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// Whether `s` looks like an id (16 lowercase hex).
pub fn is_id(s: &str) -> bool {
    s.len() == 16 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}
