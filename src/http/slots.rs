//! Connection slots of one listener: a global cap, a cap per client address,
//! and a reserve that only addresses holding no connection may use, so that
//! one client (or a handful) cannot starve everyone else — notably the
//! Kubernetes probes on the admin listener.
//!
//! Invariants: `held` never exceeds `max`; an address (IPv6: its /64) holds at
//! most `per_address` slots unless it is a trusted proxy; the last `reserved`
//! slots go only to addresses that hold none. An attacker therefore needs at
//! least `(max - reserved) / per_address + reserved` distinct addresses to fill
//! a listener, and every slot it holds must keep sending bytes (the first-byte
//! and idle timeouts of [`super::serve`] close silent ones).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use crate::config::address_key;

/// How many connections a listener admits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotLimits {
    /// Most open connections.
    pub max: usize,
    /// Most open connections per client address (trusted proxies exempt).
    pub per_address: usize,
    /// Slots kept for addresses that hold no connection yet.
    pub reserved: usize,
}

/// Why a connection was refused (the `reason` label of
/// `tvm_connections_refused_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refused {
    /// Every slot is taken.
    Limit,
    /// The address holds its share.
    PerAddress,
    /// Only reserved slots are left and the address already holds one.
    Reserved,
}

impl Refused {
    pub(super) fn reason(self) -> &'static str {
        match self {
            Refused::Limit => "limit",
            Refused::PerAddress => "per_address",
            Refused::Reserved => "reserved",
        }
    }
}

/// The slots of one listener.
#[derive(Debug)]
pub(super) struct Slots {
    limits: SlotLimits,
    state: Mutex<State>,
    emptied: Notify,
}

#[derive(Debug, Default)]
struct State {
    held: usize,
    by_address: HashMap<IpAddr, usize>,
}

/// One admitted connection; dropping it frees the slot.
#[derive(Debug)]
pub(super) struct Slot {
    slots: Arc<Slots>,
    key: IpAddr,
}

impl Slots {
    pub(super) fn new(limits: SlotLimits) -> Arc<Self> {
        Arc::new(Self {
            limits,
            state: Mutex::new(State::default()),
            emptied: Notify::new(),
        })
    }

    /// Admits a connection from `ip`, or says why not.
    pub(super) fn try_acquire(
        self: &Arc<Self>,
        ip: IpAddr,
        trusted_proxy: bool,
    ) -> Result<Slot, Refused> {
        let key = address_key(ip);
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let mine = s.by_address.get(&key).copied().unwrap_or(0);
        if s.held >= self.limits.max {
            return Err(Refused::Limit);
        }
        if !trusted_proxy && mine >= self.limits.per_address {
            return Err(Refused::PerAddress);
        }
        if mine > 0 && s.held >= self.limits.max.saturating_sub(self.limits.reserved) {
            return Err(Refused::Reserved);
        }
        s.held += 1;
        *s.by_address.entry(key).or_default() += 1;
        Ok(Slot {
            slots: self.clone(),
            key,
        })
    }

    /// Resolves once no slot is held.
    pub(super) async fn wait_empty(&self) {
        loop {
            let emptied = self.emptied.notified();
            tokio::pin!(emptied);
            emptied.as_mut().enable();
            if self.held() == 0 {
                return;
            }
            emptied.await;
        }
    }

    fn held(&self) -> usize {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).held
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut s = self.slots.state.lock().unwrap_or_else(|e| e.into_inner());
        s.held -= 1;
        if let Some(n) = s.by_address.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                s.by_address.remove(&self.key);
            }
        }
        if s.held == 0 {
            self.slots.emptied.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u8) -> IpAddr {
        IpAddr::from([127, 0, 0, n])
    }

    #[test]
    fn one_address_gets_its_share_and_no_more() {
        let slots = Slots::new(SlotLimits {
            max: 10,
            per_address: 3,
            reserved: 0,
        });
        let held: Vec<_> = (0..3)
            .map(|_| slots.try_acquire(ip(2), false).unwrap())
            .collect();
        assert_eq!(
            slots.try_acquire(ip(2), false).unwrap_err(),
            Refused::PerAddress
        );
        assert!(slots.try_acquire(ip(3), false).is_ok());
        // A trusted proxy carries everyone: exempt from the per-address cap.
        let proxy: Vec<_> = (0..5)
            .map(|_| slots.try_acquire(ip(9), true).unwrap())
            .collect();
        drop(held);
        assert_eq!(slots.held(), 5);
        drop(proxy);
        assert!(slots.try_acquire(ip(2), false).is_ok());
    }

    #[test]
    fn the_reserve_is_only_for_addresses_without_a_connection() {
        let slots = Slots::new(SlotLimits {
            max: 8,
            per_address: 4,
            reserved: 4,
        });
        let mut held = Vec::new();
        // Two addresses fill the general pool.
        for n in [2, 3] {
            for _ in 0..2 {
                held.push(slots.try_acquire(ip(n), false).unwrap());
            }
        }
        assert_eq!(
            slots.try_acquire(ip(2), false).unwrap_err(),
            Refused::Reserved
        );
        // Fresh addresses (a probe) still get in, one each.
        for n in 10..14 {
            held.push(slots.try_acquire(ip(n), false).unwrap());
        }
        assert_eq!(
            slots.try_acquire(ip(20), false).unwrap_err(),
            Refused::Limit
        );
    }

    #[test]
    fn ipv6_addresses_share_their_64() {
        let slots = Slots::new(SlotLimits {
            max: 10,
            per_address: 1,
            reserved: 0,
        });
        let a: IpAddr = "2001:db8::1".parse().unwrap();
        let b: IpAddr = "2001:db8::2".parse().unwrap();
        let _held = slots.try_acquire(a, false).unwrap();
        assert_eq!(
            slots.try_acquire(b, false).unwrap_err(),
            Refused::PerAddress
        );
    }

    #[tokio::test]
    async fn wait_empty_resolves_when_the_last_slot_is_freed() {
        let slots = Slots::new(SlotLimits {
            max: 2,
            per_address: 2,
            reserved: 0,
        });
        let slot = slots.try_acquire(ip(2), false).unwrap();
        let waiter = tokio::spawn({
            let slots = slots.clone();
            async move { slots.wait_empty().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        drop(slot);
        tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
            .await
            .unwrap()
            .unwrap();
    }
}
