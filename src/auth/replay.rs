//! Step 6 of DESIGN §2: a proof's signature is accepted once.
//!
//! Owns: the [`ReplayStore`] trait (so a shared Redis store can replace the
//! in-memory one for several replicas) and [`InMemoryReplayStore`].
//!
//! Invariants: a key is refused while it is live (until its `expires_at`), so a
//! token can never be used twice inside its validity window; memory is bounded
//! by [`REPLAY_CACHE_CAPACITY`]; when the store is full of live entries it fails
//! closed ([`ReplayError::Full`]) and never evicts a live entry, because eviction
//! would re-open the window for exactly the token that was evicted. Check and
//! insert are one atomic step, so of concurrent duplicates exactly one wins.
//!
//! A key is consumed as soon as it is inserted, before STS is called: a token
//! whose STS call then fails (STS down, throttled) stays consumed. That is the
//! fail-closed choice: otherwise a captured token could be retried until STS
//! answers. Clients simply mint a new token (they are cheap and single-use).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Mutex;

use jiff::Timestamp;

/// Most live entries kept. With proofs valid for at most 900 s plus the clock
/// skew, this allows on the order of 100 proofs per second per replica before the
/// store refuses new tokens (fail closed) rather than forgetting live ones.
pub const REPLAY_CACHE_CAPACITY: usize = 100_000;

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

/// Remembers accepted proofs until they expire.
pub trait ReplayStore: Send + Sync + 'static {
    /// Atomically: if `key` is live at `now`, fail with [`ReplayError::Replayed`];
    /// otherwise remember it until `expires_at`.
    fn check_and_insert(
        &self,
        key: &str,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<(), ReplayError>;
}

/// A process-local [`ReplayStore`]: a map plus a min-heap on expiry, so purging
/// expired entries costs O(log n) each and never scans live ones.
#[derive(Debug)]
pub struct InMemoryReplayStore {
    capacity: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    live: HashMap<String, Timestamp>,
    by_expiry: BinaryHeap<Reverse<(Timestamp, String)>>,
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
        // A panic while holding the lock cannot leave the map and heap out of step
        // in a way that admits a replay (at worst an entry lingers), so recover.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Default for InMemoryReplayStore {
    fn default() -> Self {
        Self::new()
    }
}

impl Inner {
    /// Drops every entry whose expiry is at or before `now`.
    fn purge(&mut self, now: Timestamp) {
        while let Some(Reverse((at, _))) = self.by_expiry.peek() {
            if *at > now {
                break;
            }
            if let Some(Reverse((at, key))) = self.by_expiry.pop() {
                if self.live.get(&key) == Some(&at) {
                    self.live.remove(&key);
                }
            }
        }
    }
}

impl ReplayStore for InMemoryReplayStore {
    fn check_and_insert(
        &self,
        key: &str,
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
        inner.live.insert(key.to_owned(), expires_at);
        inner.by_expiry.push(Reverse((expires_at, key.to_owned())));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use jiff::SignedDuration;

    use super::*;

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + secs).unwrap()
    }

    #[test]
    fn a_key_is_accepted_once_until_it_expires() {
        let store = InMemoryReplayStore::new();
        assert_eq!(store.check_and_insert("a", t(60), t(0)), Ok(()));
        assert_eq!(
            store.check_and_insert("a", t(60), t(1)),
            Err(ReplayError::Replayed)
        );
        assert_eq!(
            store.check_and_insert("a", t(60), t(59)),
            Err(ReplayError::Replayed)
        );
        assert_eq!(store.check_and_insert("b", t(60), t(1)), Ok(()));
        // At expiry the entry is purged; the verifier's own window check rejects
        // such a token long before, so accepting the key again is harmless.
        assert_eq!(store.check_and_insert("a", t(120), t(60)), Ok(()));
        assert_eq!(store.len(), 1, "b expired with a");
    }

    #[test]
    fn full_store_fails_closed_and_never_evicts_live_entries() {
        let store = InMemoryReplayStore::with_capacity(3);
        for k in ["a", "b", "c"] {
            store.check_and_insert(k, t(100), t(0)).unwrap();
        }
        assert_eq!(
            store.check_and_insert("d", t(100), t(1)),
            Err(ReplayError::Full)
        );
        // Live entries are still refused as replays, not forgotten.
        assert_eq!(
            store.check_and_insert("a", t(100), t(1)),
            Err(ReplayError::Replayed)
        );
        // Once they expire, room comes back.
        assert_eq!(store.check_and_insert("d", t(200), t(100)), Ok(()));
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn purge_frees_only_expired_entries() {
        let store = InMemoryReplayStore::with_capacity(2);
        store.check_and_insert("short", t(10), t(0)).unwrap();
        store.check_and_insert("long", t(1000), t(0)).unwrap();
        assert_eq!(
            store.check_and_insert("x", t(1000), t(5)),
            Err(ReplayError::Full)
        );
        assert_eq!(store.check_and_insert("x", t(1000), t(10)), Ok(()));
        assert_eq!(
            store.check_and_insert("long", t(1000), t(10)),
            Err(ReplayError::Replayed)
        );
    }

    #[test]
    fn concurrent_duplicates_exactly_one_wins() {
        let store = Arc::new(InMemoryReplayStore::new());
        let now = Timestamp::now();
        let until = now + SignedDuration::from_secs(60);
        for round in 0..20 {
            let key = format!("sig-{round}");
            let handles: Vec<_> = (0..16)
                .map(|_| {
                    let (store, key) = (Arc::clone(&store), key.clone());
                    std::thread::spawn(move || store.check_and_insert(&key, until, now).is_ok())
                })
                .collect();
            let wins = handles
                .into_iter()
                .map(|h| h.join().expect("thread"))
                .filter(|ok| *ok)
                .count();
            assert_eq!(wins, 1, "round {round}");
        }
    }
}
