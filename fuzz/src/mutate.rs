//! The `token` target's structure-aware mutator.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use crate::token::{bearer, BEARER, EKS_PREFIX, NONCE_LEN, TVM_PREFIX};

/// libFuzzer's byte mutator (`libfuzzer_sys::fuzzer_mutate`).
pub type Mutate = fn(&mut [u8], usize, usize) -> usize;

/// A mutator that usually mutates the *decoded* presigned URL and re-encodes
/// it, so the fuzzer explores the URL grammar and the query checks instead of
/// breaking the base64 layer at almost every step; otherwise, and whenever the
/// input is not `Bearer <prefix><base64url>`, it mutates the raw bytes (which
/// covers the header, prefix, nonce and base64 checks).
pub fn mutate(data: &mut [u8], size: usize, max_size: usize, seed: u32, raw: Mutate) -> usize {
    if seed & 3 != 0 {
        if let Some(n) = mutate_url(data, size, max_size, raw) {
            return n;
        }
    }
    raw(data, size, max_size)
}

fn mutate_url(data: &mut [u8], size: usize, max_size: usize, raw: Mutate) -> Option<usize> {
    let token = bearer(data.get(..size)?)?;
    let prefix_len = BEARER.len()
        + if token.starts_with(TVM_PREFIX) && token.get(TVM_PREFIX.len() + NONCE_LEN) == Some(&b'.')
        {
            TVM_PREFIX.len() + NONCE_LEN + 1
        } else if token.starts_with(EKS_PREFIX) {
            EKS_PREFIX.len()
        } else {
            return None;
        };
    let url = URL_SAFE_NO_PAD.decode(&data[prefix_len..size]).ok()?;
    let room = max_size.checked_sub(prefix_len)? * 3 / 4;
    if room < url.len() {
        return None;
    }
    let len = url.len();
    let mut buf = url;
    buf.resize(room, 0);
    let n = raw(&mut buf, len, room);
    let encoded = URL_SAFE_NO_PAD.encode(&buf[..n]);
    let end = prefix_len + encoded.len();
    data.get_mut(prefix_len..end)?
        .copy_from_slice(encoded.as_bytes());
    Some(end)
}
