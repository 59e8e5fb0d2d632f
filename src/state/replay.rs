//! Step 6 of DESIGN §2: a proof's signature is accepted once.
//!
//! Owns: [`ReplayKey`] (what is remembered of a signature), the async
//! [`ReplayStore`] trait that the verifier (`crate::auth`) calls, and
//! [`InMemoryReplayStore`] (one replica); the shared store for several replicas is
//! [`crate::state::redis::RedisState`].
//!
//! Invariants: a key is refused while it is live (up to and including its
//! `expires_at`), so a signature is accepted by STS through tvm at most once
//! inside its validity window; memory is bounded by [`REPLAY_CACHE_CAPACITY`];
//! when the store is full of live entries it fails closed ([`ReplayError::Full`])
//! and never evicts a live entry, because eviction would re-open the window for
//! exactly the token that was evicted. Check and insert are one atomic step, so of
//! concurrent duplicates exactly one wins.
//!
//! # Reservations
//!
//! The verifier inserts the key *before* STS is called, as a reservation, and
//! then settles it by the STS outcome:
//!
//! - **kept** for every outcome but one: success, throttling, 5xx, timeouts,
//!   redirects, answers we do not trust, and a request cancelled mid-call. That is
//!   the fail-closed choice: a captured token cannot be retried until STS answers
//!   again; clients simply mint a new token (they are cheap and single-use).
//! - **released** ([`ReplayStore::release`]) when STS answered 4xx other than
//!   throttling (`sts_rejected`): STS refused the signature or the credentials.
//!   Without this, anyone could fill the store with forged tokens (any 64-hex
//!   signature, no AWS credentials needed) and lock every caller out with
//!   [`ReplayError::Full`] for the lifetime of the entries.
//!
//! Why releasing cannot re-open a replay: a key has at most one live reservation
//! (check and insert are atomic); only the request that made it releases it, only
//! after STS refused *that* request, so that request vended nothing; a reservation
//! whose request STS accepted is never released. Hence while the key is live at
//! most one request holding it was accepted, and every later use of the signature
//! is refused as before. A retry after a release is simply checked by STS again:
//! the signature is an HMAC over the exact request, so the same token and body
//! normally get the same refusal, and should it succeed after all (another body,
//! a key switched back on) that is its first and only acceptance.
//! The release names the expiry it reserved with, so a release that arrives after
//! its entry expired cannot free a later reservation of the same key.
//!
//! What releasing does change: a caller that holds a *not yet used* tvm-v1 token
//! without its body can now try several bodies inside the token's window (each
//! wrong body is an STS refusal) instead of one. It still gets at most one
//! success, only for the body the owner signed, and the rate limit in front of
//! the verifier bounds the tries.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Mutex;

use jiff::{SignedDuration, Timestamp};
use sha2::{Digest, Sha256};

/// Default capacity (`state.replay_capacity`): most live entries kept.
///
/// An entry lives until the last instant the pure checks could still accept its
/// token, plus [`REPLAY_CLOCK_MARGIN`] ([`keep_until`]): about 90 s for tvm's own
/// 60 s tokens, at most `skew` + 30 s (5.5 min by default) for any token. So
/// this holds about 3,000 proofs per second per replica even if every one claims
/// the longest life (about 11,000 per second of tvm's own 60 s tokens), before
/// the store refuses new tokens (fail closed) rather than forgetting live ones.
/// Tokens that STS refuses are released, so forged tokens do not count against
/// it (unless STS throttles or fails on them: those stay).
///
/// Memory, measured with a counting allocator (x86-64, random keys, the two
/// B-trees of [`InMemoryReplayStore`]): an entry is 40 bytes in each tree (32-byte
/// key + 8-byte expiry second) in nodes of 11 that run about two-thirds full, so
/// about 125–130 B per entry at every size: 12.5 MB at 100,000 entries, 125 MB
/// when 1,000,000 arrive at once, 128 MB held steady at this capacity under
/// continuous arrival and expiry. Memory is taken as entries arrive and given
/// back as they expire or are released. Size `state.replay_capacity` from the
/// memory you give the pod: about 130 B per entry. (A `HashMap` index was
/// measured too: its deleted-slot markers made it double to 2^22 buckets under
/// churn at this size, about 234 MB in all.)
pub use crate::config::REPLAY_CACHE_CAPACITY;

/// Extra time an entry is kept beyond the last instant its token could pass the
/// time window: a backward step of the clock (NTP) smaller than this cannot
/// make a token acceptable again after its entry was dropped.
pub const REPLAY_CLOCK_MARGIN: SignedDuration = SignedDuration::from_secs(30);

/// How long a reservation must live: the pure checks accept a token only while
/// `now <= signed_at + skew` and `now <= signed_at + expires`, so after the
/// earlier of the two (plus [`REPLAY_CLOCK_MARGIN`]) it can never pass them
/// again and need not be remembered.
pub fn keep_until(signed_at: Timestamp, expires_at: Timestamp, skew: SignedDuration) -> Timestamp {
    let last_acceptable = signed_at
        .checked_add(skew)
        .unwrap_or(Timestamp::MAX)
        .min(expires_at);
    last_acceptable
        .checked_add(REPLAY_CLOCK_MARGIN)
        .unwrap_or(Timestamp::MAX)
}

/// Why a key was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    /// The key was already accepted and is still live.
    #[error("key already used")]
    Replayed,
    /// The store holds its maximum of live entries.
    #[error("replay store full")]
    Full,
    /// The store could not be reached (for shared stores).
    #[error("replay store unavailable: {0}")]
    Unavailable(String),
}

/// What the store remembers of a proof: the SHA-256 of its `X-Amz-Signature`.
///
/// 32 bytes, inline, instead of the 64-character hex string on the heap; and the
/// store (or a shared store's contents) never holds signature material. SHA-256
/// is collision resistant, so distinct signatures never share a key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReplayKey([u8; 32]);

impl ReplayKey {
    /// The key of a signature (the verifier passes the validated 64-hex value).
    pub fn from_signature(signature: &str) -> Self {
        Self(Sha256::digest(signature.as_bytes()).into())
    }

    /// The 32 bytes, e.g. for a shared store's key.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for ReplayKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ReplayKey({}…)", hex::encode(&self.0[..4]))
    }
}

/// Remembers reserved proofs until they expire.
#[async_trait::async_trait]
pub trait ReplayStore: Send + Sync + 'static {
    /// Atomically: if `key` is live at `now`, fail with [`ReplayError::Replayed`];
    /// otherwise reserve it, live up to and including `expires_at`. A shared
    /// store that cannot answer fails with [`ReplayError::Unavailable`] (closed).
    async fn check_and_insert(
        &self,
        key: &ReplayKey,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<(), ReplayError>;

    /// Gives back the reservation of `key` that was made with this `expires_at`,
    /// so the key is free again at once; does nothing if the key is not held with
    /// that expiry (already expired, or reserved again since by another request).
    ///
    /// Callers must release only their own reservation and only after STS refused
    /// the request (4xx, not throttling): see the module docs for why that cannot
    /// re-open a replay. The expiry makes a late release harmless: a request that
    /// reserves the key after this entry expired passed the time window later,
    /// so its expiry is strictly later and its reservation is not touched.
    ///
    /// A shared store that cannot reach its backend may keep the key: that only
    /// fails closed (the token stays consumed, as before releases existed).
    async fn release(&self, key: &ReplayKey, expires_at: Timestamp);

    /// `(live entries, capacity)` for the `tvm_replay_store_*` gauges, when the
    /// store can tell cheaply.
    fn usage(&self) -> Option<(usize, usize)> {
        None
    }
}

/// A process-local [`ReplayStore`]: one B-tree by key for lookups and one by
/// expiry for purging, kept in exact step. Every operation is O(log n) in the
/// worst case, whatever keys a caller chooses (no hashing to flood); purging
/// costs O(log n) per expired entry and never visits a live one; releasing
/// removes the entry from both at once, so nothing piles up however many
/// reservations are released. About 1–2.5 µs per check at a million entries.
///
/// Expiries are kept in whole seconds, rounded up, so an entry may outlive its
/// `expires_at` by under a second and never the other way round.
#[derive(Debug)]
pub struct InMemoryReplayStore {
    capacity: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Key → expiry second (rounded up).
    live: BTreeMap<ReplayKey, i64>,
    /// The same entries, ordered by expiry second.
    by_expiry: BTreeSet<(i64, ReplayKey)>,
}

impl InMemoryReplayStore {
    /// A store holding at most [`REPLAY_CACHE_CAPACITY`] live entries.
    pub fn new() -> Self {
        Self::with_capacity(REPLAY_CACHE_CAPACITY)
    }

    /// A store holding at most `capacity` live entries (tests use small ones).
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            capacity,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// Number of entries currently held (live or not yet purged).
    pub fn len(&self) -> usize {
        self.lock().live.len()
    }

    /// Whether no entries are held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // Every method updates the map and the tree without a panic point between
        // them, and at worst an entry lingers, which cannot admit a replay; so
        // recover from a poisoned lock.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Default for InMemoryReplayStore {
    fn default() -> Self {
        Self::new()
    }
}

/// `t` in whole seconds, rounded up (toward the future).
fn ceil_second(t: Timestamp) -> i64 {
    t.as_second() + i64::from(t.subsec_nanosecond() > 0)
}

/// `t` in whole seconds, rounded down (toward the past).
fn floor_second(t: Timestamp) -> i64 {
    t.as_second() - i64::from(t.subsec_nanosecond() < 0)
}

impl Inner {
    /// Drops every entry whose expiry second is before the second of `now`, so an
    /// entry is live at every instant up to and including its `expires_at`.
    fn purge(&mut self, now: Timestamp) {
        let now = floor_second(now);
        while let Some(&(at, key)) = self.by_expiry.first() {
            if at >= now {
                break;
            }
            self.by_expiry.pop_first();
            self.live.remove(&key);
        }
    }
}

impl InMemoryReplayStore {
    /// [`ReplayStore::check_and_insert`], synchronously (it never waits).
    pub fn check_and_insert(
        &self,
        key: &ReplayKey,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<(), ReplayError> {
        let mut inner = self.lock();
        inner.purge(now);
        if inner.live.contains_key(key) {
            return Err(ReplayError::Replayed);
        }
        if inner.live.len() >= self.capacity {
            return Err(ReplayError::Full);
        }
        let at = ceil_second(expires_at);
        inner.live.insert(*key, at);
        inner.by_expiry.insert((at, *key));
        Ok(())
    }

    /// [`ReplayStore::release`], synchronously.
    pub fn release(&self, key: &ReplayKey, expires_at: Timestamp) {
        let at = ceil_second(expires_at);
        let mut inner = self.lock();
        if inner.live.get(key) == Some(&at) {
            inner.live.remove(key);
            inner.by_expiry.remove(&(at, *key));
        }
    }
}

#[async_trait::async_trait]
impl ReplayStore for InMemoryReplayStore {
    async fn check_and_insert(
        &self,
        key: &ReplayKey,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<(), ReplayError> {
        InMemoryReplayStore::check_and_insert(self, key, expires_at, now)
    }

    async fn release(&self, key: &ReplayKey, expires_at: Timestamp) {
        InMemoryReplayStore::release(self, key, expires_at);
    }

    fn usage(&self) -> Option<(usize, usize)> {
        Some((self.len(), self.capacity))
    }
}

#[cfg(test)]
mod tests;
