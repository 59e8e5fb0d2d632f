//! The pre-verification rate limits (DESIGN §1 "limit per client address"):
//! a token bucket per client address for `/vend` and `/profiles`, checked before
//! any token work, and a separate, cheaper one for `GET /.well-known/tvm`.
//!
//! Invariants: the key is the resolved client address ([`ClientAddr::ip`]:
//! the TCP peer, or what a trusted proxy forwarded; IPv6 by /64), never a
//! header from an untrusted peer; buckets live behind [`RateBuckets`], in the
//! state backend (shared by every replica with Redis); each refusal is counted
//! in `tvm_rate_limited_total{scope}` and the refusal summary, not logged alone.

use std::sync::Arc;

use super::client_addr::ClientAddr;
use crate::config::{address_key, ServerLimits};
use crate::metrics::Metrics;
use crate::state::{Backend, BucketScope, RateBuckets, RateError};

/// Which per-address bucket a request is charged to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressScope {
    /// `POST /vend`, `GET /profiles`.
    Api,
    /// `GET /.well-known/tvm`.
    Discovery,
}

impl AddressScope {
    fn label(self) -> &'static str {
        match self {
            AddressScope::Api => "address",
            AddressScope::Discovery => "discovery",
        }
    }
}

/// The per-address buckets; a `None` bucket is off.
#[derive(Debug, Default)]
pub struct AddressLimits {
    api: Option<Arc<dyn RateBuckets>>,
    discovery: Option<Arc<dyn RateBuckets>>,
}

impl AddressLimits {
    /// Buckets in `backend`, sized by the config.
    pub fn new(backend: &Backend, limits: &ServerLimits) -> Self {
        Self {
            api: backend.buckets(BucketScope::Address, limits.address_rate),
            discovery: backend.buckets(BucketScope::Discovery, limits.discovery_rate),
        }
    }

    /// In-memory buckets sized by the config.
    pub fn in_memory(limits: &ServerLimits) -> Self {
        Self::new(&Backend::in_memory(1_000), limits)
    }

    /// Takes one request from `client`'s `scope` budget; `Limited` (already
    /// counted) when it is spent. Requests without a known client (in-process
    /// router tests) are not limited.
    pub async fn check(
        &self,
        scope: AddressScope,
        client: Option<&ClientAddr>,
        metrics: &Metrics,
    ) -> Result<(), RateError> {
        let bucket = match scope {
            AddressScope::Api => &self.api,
            AddressScope::Discovery => &self.discovery,
        };
        let (Some(bucket), Some(client)) = (bucket, client) else {
            return Ok(());
        };
        bucket
            .take(&address_key(client.ip).to_string())
            .await
            .inspect_err(|e| {
                if matches!(e, RateError::Limited(_)) {
                    metrics.rate_limited(scope.label());
                }
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RateLimit;

    fn client(ip: &str) -> ClientAddr {
        ClientAddr {
            peer: "10.0.0.1:443".parse().unwrap(),
            ip: ip.parse().unwrap(),
            via_trusted_proxy: true,
        }
    }

    #[tokio::test]
    async fn clients_behind_one_proxy_have_their_own_buckets() {
        let limits = ServerLimits {
            address_rate: RateLimit {
                per_minute: 1,
                burst: 2,
            },
            ..ServerLimits::default()
        };
        let l = AddressLimits::in_memory(&limits);
        let m = Metrics::new();
        let (a, b) = (client("198.51.100.1"), client("198.51.100.2"));
        for _ in 0..2 {
            assert!(l.check(AddressScope::Api, Some(&a), &m).await.is_ok());
        }
        assert!(l.check(AddressScope::Api, Some(&a), &m).await.is_err());
        assert!(l.check(AddressScope::Api, Some(&b), &m).await.is_ok());
        // Discovery has its own bucket.
        assert!(l.check(AddressScope::Discovery, Some(&a), &m).await.is_ok());
        // One IPv6 /64 is one client.
        let (c, d) = (client("2001:db8::1"), client("2001:db8::2"));
        assert!(l.check(AddressScope::Api, Some(&c), &m).await.is_ok());
        assert!(l.check(AddressScope::Api, Some(&d), &m).await.is_ok());
        assert!(l.check(AddressScope::Api, Some(&c), &m).await.is_err());
        assert_eq!(m.rate_limited.with_label_values(&["address"]).get(), 2);
    }
}
