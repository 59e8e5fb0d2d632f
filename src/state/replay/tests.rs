//! The in-memory store: once-only keys, fail-closed capacity, exact releases,
//! purging.

use std::sync::Arc;

use jiff::SignedDuration;
use proptest::prelude::*;

use super::*;

fn t(secs: i64) -> Timestamp {
    Timestamp::from_second(1_700_000_000 + secs).unwrap()
}

fn k(name: &str) -> ReplayKey {
    ReplayKey::from_signature(name)
}

/// Entries in the map and in the expiry tree, which must always agree.
fn sizes(store: &InMemoryReplayStore) -> (usize, usize) {
    let inner = store.lock();
    (inner.live.len(), inner.by_expiry.len())
}

#[test]
fn a_key_is_accepted_once_until_it_expires() {
    let store = InMemoryReplayStore::new();
    assert_eq!(store.check_and_insert(&k("a"), t(60), t(0)), Ok(()));
    for now in [t(1), t(59), t(60)] {
        assert_eq!(
            store.check_and_insert(&k("a"), t(60), now),
            Err(ReplayError::Replayed),
            "live up to and including its expiry"
        );
    }
    assert_eq!(store.check_and_insert(&k("b"), t(60), t(1)), Ok(()));
    // After expiry the entry is purged; the verifier's own window check rejects
    // such a token before, so accepting the key again is harmless.
    assert_eq!(store.check_and_insert(&k("a"), t(120), t(61)), Ok(()));
    assert_eq!(store.len(), 1, "b expired with a");
    assert_eq!(sizes(&store), (1, 1));
}

#[test]
fn full_store_fails_closed_and_never_evicts_live_entries() {
    let store = InMemoryReplayStore::with_capacity(3);
    for name in ["a", "b", "c"] {
        store.check_and_insert(&k(name), t(100), t(0)).unwrap();
    }
    assert_eq!(
        store.check_and_insert(&k("d"), t(100), t(1)),
        Err(ReplayError::Full)
    );
    // Live entries are still refused as replays, not forgotten.
    assert_eq!(
        store.check_and_insert(&k("a"), t(100), t(1)),
        Err(ReplayError::Replayed)
    );
    // Once they expire, room comes back.
    assert_eq!(store.check_and_insert(&k("d"), t(200), t(101)), Ok(()));
    assert_eq!(store.len(), 1);
}

#[test]
fn purge_frees_only_expired_entries() {
    let store = InMemoryReplayStore::with_capacity(2);
    store.check_and_insert(&k("short"), t(10), t(0)).unwrap();
    store.check_and_insert(&k("long"), t(1000), t(0)).unwrap();
    assert_eq!(
        store.check_and_insert(&k("x"), t(1000), t(10)),
        Err(ReplayError::Full)
    );
    assert_eq!(store.check_and_insert(&k("x"), t(1000), t(11)), Ok(()));
    assert_eq!(
        store.check_and_insert(&k("long"), t(1000), t(11)),
        Err(ReplayError::Replayed)
    );
    assert_eq!(sizes(&store), (2, 2));
}

#[test]
fn sub_second_expiries_round_toward_keeping() {
    let store = InMemoryReplayStore::new();
    let half = SignedDuration::from_millis(500);
    store.check_and_insert(&k("a"), t(10) + half, t(0)).unwrap();
    for now in [t(10), t(10) + half, t(11), t(11) + half] {
        assert_eq!(
            store.check_and_insert(&k("a"), t(100), now),
            Err(ReplayError::Replayed)
        );
    }
    assert_eq!(store.check_and_insert(&k("a"), t(100), t(12)), Ok(()));
}

#[test]
fn a_released_key_is_free_at_once_and_leaves_nothing_behind() {
    let store = InMemoryReplayStore::with_capacity(1);
    store.check_and_insert(&k("a"), t(100), t(0)).unwrap();
    store.release(&k("a"), t(100));
    assert!(store.is_empty());
    assert_eq!(sizes(&store), (0, 0));
    // The key can be reserved again, and so can another: the slot came back.
    store.check_and_insert(&k("a"), t(100), t(1)).unwrap();
    store.release(&k("a"), t(100));
    store.check_and_insert(&k("b"), t(100), t(1)).unwrap();
    assert_eq!(
        store.check_and_insert(&k("c"), t(100), t(1)),
        Err(ReplayError::Full)
    );
}

#[test]
fn many_releases_never_fill_the_store() {
    let store = InMemoryReplayStore::with_capacity(10);
    for i in 0..10_000 {
        let key = k(&format!("forged-{i}"));
        store.check_and_insert(&key, t(1500), t(0)).unwrap();
        store.release(&key, t(1500));
    }
    assert_eq!(sizes(&store), (0, 0));
}

#[test]
fn a_release_only_frees_its_own_reservation() {
    let store = InMemoryReplayStore::new();
    store.check_and_insert(&k("a"), t(100), t(0)).unwrap();
    // Another expiry, or a key that is not held: nothing happens.
    store.release(&k("a"), t(101));
    store.release(&k("b"), t(100));
    assert_eq!(
        store.check_and_insert(&k("a"), t(100), t(1)),
        Err(ReplayError::Replayed)
    );
    // A late release, after its entry expired and the key was reserved again by
    // a later request (which passed the window later, so expires later), does
    // not free the later reservation.
    store.check_and_insert(&k("x"), t(10), t(0)).unwrap();
    store.check_and_insert(&k("x"), t(60), t(11)).unwrap();
    store.release(&k("x"), t(10));
    assert_eq!(
        store.check_and_insert(&k("x"), t(60), t(12)),
        Err(ReplayError::Replayed)
    );
    assert_eq!(sizes(&store), (2, 2));
}

#[test]
fn a_flood_expires_in_one_purge() {
    let store = InMemoryReplayStore::new();
    for i in 0..50_000 {
        let at = t(100 + i % 7);
        store
            .check_and_insert(&k(&format!("flood-{i}")), at, t(0))
            .unwrap();
    }
    store.check_and_insert(&k("late"), t(1000), t(0)).unwrap();
    store
        .check_and_insert(&k("after"), t(1000), t(107))
        .unwrap();
    assert_eq!(sizes(&store), (2, 2));
}

#[test]
fn keys_are_32_bytes_distinct_and_debug_shows_only_a_prefix() {
    let sig = "a".repeat(64);
    let key = ReplayKey::from_signature(&sig);
    assert_eq!(key, ReplayKey::from_signature(&sig));
    assert_ne!(key, ReplayKey::from_signature(&"b".repeat(64)));
    assert_eq!(key.as_bytes().len(), 32);
    assert_eq!(std::mem::size_of::<ReplayKey>(), 32);
    let shown = format!("{key:?}");
    assert!(shown.len() < 24 && !shown.contains(&hex::encode(key.as_bytes())));
}

#[test]
fn concurrent_duplicates_exactly_one_wins() {
    let store = Arc::new(InMemoryReplayStore::new());
    let now = Timestamp::now();
    let until = now + SignedDuration::from_secs(60);
    for round in 0..20 {
        let key = k(&format!("sig-{round}"));
        let handles: Vec<_> = (0..16)
            .map(|_| {
                let store = Arc::clone(&store);
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

proptest! {
    /// Whatever the sub-second parts, a key is never forgotten before its
    /// expiry, and is forgotten within a second or two after it.
    #[test]
    fn never_purged_before_expiry(
        expiry_ms in 0i64..100_000,
        now_ms in 0i64..100_000,
    ) {
        let ms = |v: i64| t(0) + SignedDuration::from_millis(v);
        let store = InMemoryReplayStore::new();
        store.check_and_insert(&k("a"), ms(expiry_ms), t(0)).unwrap();
        let again = store.check_and_insert(&k("a"), ms(200_000), ms(now_ms));
        if now_ms <= expiry_ms {
            prop_assert_eq!(again, Err(ReplayError::Replayed));
        } else if now_ms >= expiry_ms + 2_000 {
            prop_assert_eq!(again, Ok(()));
        }
    }
}
