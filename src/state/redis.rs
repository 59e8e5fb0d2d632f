//! The shared backend for several replicas: replay reservations and rate buckets
//! in one Redis (or ElastiCache/MemoryDB, Valkey), through the `redis` crate's
//! multiplexed, self-reconnecting `ConnectionManager`.
//!
//! Keys (all under `state.key_prefix`, default `tvm:`, and every one with a TTL):
//!
//! ```text
//! {prefix}replay:{64 hex}          SHA-256 of the signature   SET NX PX; value: reserved expiry (ms)
//! {prefix}rl:{scope}:{32 hex}      truncated SHA-256 of the key   GCRA "theoretical arrival time" (ms)
//! ```
//!
//! Invariants: a reservation is one `SET key v NX PX ttl`, so of two replicas
//! racing for one signature exactly one gets `OK`; its TTL is the time the token
//! could still pass the time checks (`keep_until`, which already has 30 s of
//! margin) plus [`REDIS_DRIFT_MARGIN`] for clocks that disagree between
//! replicas; a release is a compare-and-delete script that only removes the
//! reservation made with that expiry; a rate decision is one Lua script that
//! reads the time from Redis (`TIME`), so every replica charges one clock; no ARN
//! or address is stored in clear (keys are hashes); every call has a timeout, and
//! any failure or timeout of the replay store refuses the token (fail closed);
//! the URL's password is never logged (`crate::config::redact_url`).
//!
//! Cluster and Sentinel are not supported: one primary (with replicas for
//! failover, as ElastiCache and MemoryDB give it behind one endpoint).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, IntoConnectionInfo, Script};
use sha2::{Digest, Sha256};

use super::{BackendHealth, BucketScope, ReplayError, ReplayKey, ReplayStore, StateMetrics};
use crate::config::{redact_url, RateLimitFailure, RedisSettings};

mod buckets;
mod scripts;
pub use buckets::RedisBuckets;

/// Added to every reservation's TTL: replicas whose clocks disagree by less than
/// this still keep a token's reservation for as long as any of them could accept
/// the token.
pub const REDIS_DRIFT_MARGIN: Duration = Duration::from_secs(30);

/// How often the backend is probed (`PING`) so `/readyz` notices a lost Redis
/// while no requests arrive, and sees it come back.
pub const PROBE_INTERVAL: Duration = Duration::from_secs(2);

/// The Redis backend: replay store and the connection the buckets share.
pub struct RedisState {
    conn: ConnectionManager,
    prefix: String,
    command_timeout: Duration,
    failure: RateLimitFailure,
    health: Arc<BackendHealth>,
    metrics: StateMetrics,
    release: Script,
    gcra: Script,
}

impl fmt::Debug for RedisState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisState")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// Why the backend could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("cannot set up redis ({url}): {reason}")]
pub struct SetupError {
    url: String,
    reason: String,
}

impl RedisState {
    /// Builds the client; connects lazily, so tvm starts while Redis is down
    /// (refusing tokens with 503 until it answers, and not ready once it has
    /// failed for the grace period). Must run inside a Tokio runtime.
    pub fn new(settings: &RedisSettings, metrics: StateMetrics) -> Result<Self, SetupError> {
        let fail = |reason: String| SetupError {
            url: redact_url(&settings.url),
            reason,
        };
        // Error texts of the client may quote the URL: never pass them on.
        let mut info = settings
            .url
            .as_str()
            .into_connection_info()
            .map_err(|e| fail(format!("invalid url ({:?})", e.kind())))?;
        if let Some(password) = &settings.password {
            let redis = info.redis_settings().clone().set_password(password);
            info = info.set_redis_settings(redis);
        }
        let client = match &settings.ca_pem {
            None => Client::open(info),
            Some(pem) => Client::build_with_tls(
                info,
                redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(pem.clone()),
                },
            ),
        }
        .map_err(|e| fail(format!("client ({:?})", e.kind())))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(settings.connect_timeout))
            .set_response_timeout(Some(settings.command_timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(1));
        let conn = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| fail(format!("connection manager ({:?})", e.kind())))?;
        Ok(Self {
            conn,
            prefix: settings.key_prefix.clone(),
            command_timeout: settings.command_timeout,
            failure: settings.rate_limit_failure,
            health: Arc::new(BackendHealth::default()),
            metrics,
            release: Script::new(scripts::RELEASE_LUA),
            gcra: Script::new(scripts::GCRA_LUA),
        })
    }

    /// The health `/readyz` reads.
    pub fn health(&self) -> Arc<BackendHealth> {
        self.health.clone()
    }

    /// Probes Redis every [`PROBE_INTERVAL`] until the returned task is aborted.
    pub fn spawn_probe(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let me = Arc::clone(self);
        tokio::spawn(async move {
            loop {
                let _ = me
                    .call("ping", |mut c| async move {
                        redis::cmd("PING").query_async::<String>(&mut c).await
                    })
                    .await;
                tokio::time::sleep(PROBE_INTERVAL).await;
            }
        })
    }

    /// Runs one call with the command timeout, timing it and recording health;
    /// the first failure after a success (and the recovery) is logged once.
    async fn call<T, F, Fut>(&self, operation: &'static str, f: F) -> Option<T>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: std::future::Future<Output = redis::RedisResult<T>>,
    {
        let started = Instant::now();
        let result = tokio::time::timeout(self.command_timeout, f(self.conn.clone())).await;
        let elapsed = started.elapsed().as_secs_f64();
        let was_failing = self.health.failing_for().is_some();
        let outcome = match result {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(format!("{:?}", e.kind())),
            Err(_) => Err("timeout".to_owned()),
        };
        self.metrics.observe(operation, elapsed, outcome.is_ok());
        self.health.record(outcome.is_ok());
        match outcome {
            Ok(v) => {
                if was_failing {
                    tracing::info!(operation, "state backend (redis) answers again");
                }
                Some(v)
            }
            Err(kind) => {
                if !was_failing {
                    tracing::warn!(operation, error = %kind, "state backend (redis) call failed");
                }
                None
            }
        }
    }

    fn replay_key(&self, key: &ReplayKey) -> String {
        format!("{}replay:{}", self.prefix, hex::encode(key.as_bytes()))
    }

    fn bucket_key(&self, scope: BucketScope, key: &str) -> String {
        let digest = Sha256::digest(key.as_bytes());
        format!(
            "{}rl:{}:{}",
            self.prefix,
            scope.as_str(),
            hex::encode(&digest[..16])
        )
    }
}

/// The TTL of a reservation: until `expires_at` as seen from `now`, plus the
/// drift margin; at least the margin.
fn reservation_ttl(expires_at: Timestamp, now: Timestamp) -> Duration {
    let left = expires_at
        .duration_since(now)
        .max(SignedDuration::ZERO)
        .unsigned_abs();
    left.saturating_add(REDIS_DRIFT_MARGIN)
}

#[async_trait::async_trait]
impl ReplayStore for RedisState {
    async fn check_and_insert(
        &self,
        key: &ReplayKey,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<(), ReplayError> {
        let redis_key = self.replay_key(key);
        let value = expires_at.as_millisecond().to_string();
        let ttl_ms =
            u64::try_from(reservation_ttl(expires_at, now).as_millis()).unwrap_or(u64::MAX);
        let set = self
            .call("replay_reserve", |mut c| async move {
                redis::cmd("SET")
                    .arg(&redis_key)
                    .arg(&value)
                    .arg("NX")
                    .arg("PX")
                    .arg(ttl_ms)
                    .query_async::<Option<String>>(&mut c)
                    .await
            })
            .await;
        match set {
            Some(Some(_)) => Ok(()),
            Some(None) => Err(ReplayError::Replayed),
            None => Err(ReplayError::Unavailable("redis did not answer".into())),
        }
    }

    async fn release(&self, key: &ReplayKey, expires_at: Timestamp) {
        let redis_key = self.replay_key(key);
        let value = expires_at.as_millisecond().to_string();
        let script = &self.release;
        // A release that fails keeps the reservation: the token stays consumed
        // (fail closed), as module docs of `replay` explain.
        let _ = self
            .call("replay_release", |mut c| async move {
                script
                    .key(&redis_key)
                    .arg(&value)
                    .invoke_async::<i64>(&mut c)
                    .await
            })
            .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_live_past_their_expiry_by_the_drift_margin() {
        let now = Timestamp::from_second(1_700_000_000).unwrap();
        let at = now + SignedDuration::from_secs(90);
        assert_eq!(reservation_ttl(at, now), Duration::from_secs(120));
        // An expiry already past still gets the margin, never zero (no TTL = forever).
        assert_eq!(
            reservation_ttl(now - SignedDuration::from_secs(5), now),
            REDIS_DRIFT_MARGIN
        );
    }
}
