//! Many replicas (issue #9): two `tvm serve` processes sharing one real Redis
//! accept a token exactly once, share the per-principal limit, fail closed when
//! Redis is lost (503, STS AssumeRole not called) and recover without a restart,
//! keep TTLs on every key, and cost four round trips per vend. The behaviour
//! that also applies to one replica is checked against the in-memory backend.
//! Plus the per-replica cap on concurrent STS calls (in process). TLS and the
//! rate-limit failure policy: `redis_config.rs`.

use std::time::Duration;

use tvm::config::{RateLimit, ServerLimits};
use tvm::sts::gate::StsCallCap;

use crate::fleet::{write_policy, RedisServer, Replica, ReplicaConfig, Sts, BODY};
use crate::support::{metric, spawn_app_with, Options};

/// Rounds of "the same token to both replicas at once".
const ROUNDS: usize = 50;

const PASSWORD: &str = "correct-horse-battery-staple";

/// Two replicas on one Redis (one with the password in a file, one in the URL),
/// or, for the memory backend, one replica standing in for both.
struct Fleet {
    a: Replica,
    b: Option<Replica>,
    sts: Sts,
    redis: Option<RedisServer>,
    _dir: tempfile::TempDir,
}

impl Fleet {
    async fn start(redis: bool, server_yaml: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let policy = write_policy(dir.path());
        let sts = Sts::start().await;
        let redis = if redis {
            Some(RedisServer::start(Some(PASSWORD)).await)
        } else {
            None
        };
        let password_file = dir.path().join("redis-password");
        std::fs::write(&password_file, format!("{PASSWORD}\n")).unwrap();
        let state = |with_file: bool| match &redis {
            None => "{}".to_owned(),
            Some(r) if with_file => format!(
                "{{redis_url: '{}', redis_password_file: {}, readiness_grace: 1s}}",
                r.url(None),
                password_file.display()
            ),
            Some(r) => format!(
                "{{redis_url: '{}', readiness_grace: 1s}}",
                r.url(Some(PASSWORD))
            ),
        };
        let cfg = |name, with_file| ReplicaConfig {
            dir: dir.path(),
            name,
            sts: &sts,
            state_yaml: state(with_file),
            server_yaml,
            policy: &policy,
        };
        let a = Replica::start(cfg("a", true)).await;
        let b = if redis.is_some() {
            Some(Replica::start(cfg("b", false)).await)
        } else {
            None
        };
        Self {
            a,
            b,
            sts,
            redis,
            _dir: dir,
        }
    }

    fn b(&self) -> &Replica {
        self.b.as_ref().unwrap_or(&self.a)
    }
}

async fn exactly_once(redis: bool) {
    let fleet = Fleet::start(redis, "").await;
    for round in 0..ROUNDS {
        let token = fleet.sts.token(&fleet.sts.alice, BODY);
        let (x, y) = tokio::join!(fleet.a.vend(&token, BODY), fleet.b().vend(&token, BODY));
        let mut statuses = [x.status, y.status];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 401], "round {round}: {x:?} {y:?}");
        let refused = if x.status == 401 { &x } else { &y };
        assert_eq!(refused.code(), "TOKEN_REPLAYED", "round {round}");
    }
    assert_eq!(fleet.sts.calls("AssumeRole"), ROUNDS);
    for r in [&fleet.a, fleet.b()] {
        assert!(
            !r.logs().contains(PASSWORD),
            "the Redis password is never logged"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_replicas_on_one_redis_accept_a_token_exactly_once() {
    if RedisServer::available() {
        exactly_once(true).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn one_replica_in_memory_accepts_a_token_exactly_once() {
    exactly_once(false).await;
}

async fn principal_limit_holds(redis: bool) {
    let fleet = Fleet::start(
        redis,
        "caller_rate_limit_per_minute: 1, caller_rate_limit_burst: 3",
    )
    .await;
    let mut ok = 0;
    for i in 0..8 {
        let replica = if i % 2 == 0 { &fleet.a } else { fleet.b() };
        let token = fleet.sts.token(&fleet.sts.alice, BODY);
        let answer = replica.vend(&token, BODY).await;
        match answer.status {
            200 => ok += 1,
            429 => {
                assert_eq!(answer.code(), "RATE_LIMITED");
                assert!(answer.header("retry-after").is_some());
            }
            _ => panic!("{answer:?}"),
        }
    }
    assert_eq!(ok, 3, "the burst, across both replicas");
    assert_eq!(
        fleet.sts.calls("AssumeRole"),
        3,
        "refused callers never reach AssumeRole"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_per_principal_limit_holds_across_replicas() {
    if RedisServer::available() {
        principal_limit_holds(true).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_per_principal_limit_holds_in_memory() {
    principal_limit_holds(false).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lost_redis_fails_closed_and_tvm_recovers_when_it_returns() {
    if !RedisServer::available() {
        return;
    }
    let mut fleet = Fleet::start(true, "").await;
    let token = fleet.sts.token(&fleet.sts.alice, BODY);
    assert_eq!(fleet.a.vend(&token, BODY).await.status, 200);
    let (gci, assume) = (
        fleet.sts.calls("GetCallerIdentity"),
        fleet.sts.calls("AssumeRole"),
    );

    fleet.redis.as_mut().unwrap().kill();
    let mut refused = Vec::new();
    for replica in [&fleet.a, fleet.b()] {
        let token = fleet.sts.token(&fleet.sts.alice, BODY);
        let answer = replica.vend(&token, BODY).await;
        assert_eq!(answer.status, 503, "{answer:?}");
        assert_eq!(answer.code(), "UNAVAILABLE");
        // The token that was accepted before cannot be used now either.
        assert_eq!(replica.vend(&token, BODY).await.status, 503);
        refused.push(token);
    }
    assert_eq!(fleet.sts.calls("AssumeRole"), assume, "nothing vended");
    assert_eq!(
        fleet.sts.calls("GetCallerIdentity"),
        gci,
        "the proof never left tvm"
    );
    // After the grace period (1 s here) the replicas say they are not ready.
    assert_eq!(fleet.a.readyz_until(503).await, 503);
    let m = fleet.a.metrics().await;
    assert!(
        metric(
            &m,
            "tvm_state_backend_errors_total{operation=\"replay_reserve\"}"
        ) >= 1.0
    );

    fleet.redis.as_mut().unwrap().restart().await;
    for replica in [&fleet.a, fleet.b()] {
        assert_eq!(replica.readyz_until(200).await, 200);
        let token = fleet.sts.token(&fleet.sts.alice, BODY);
        let answer = replica.vend(&token, BODY).await;
        assert_eq!(answer.status, 200, "{answer:?}");
        assert_eq!(replica.vend(&token, BODY).await.code(), "TOKEN_REPLAYED");
    }
    // A token refused during the outage was not used: still valid, it is
    // accepted once now (on either replica), then refused as replayed (README,
    // "Failure policy").
    for token in &refused {
        assert_eq!(fleet.b().vend(token, BODY).await.status, 200);
        assert_eq!(fleet.a.vend(token, BODY).await.code(), "TOKEN_REPLAYED");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_redis_key_has_a_ttl_and_no_arn_in_clear() {
    if !RedisServer::available() {
        return;
    }
    // One request a minute: after one vend each bucket lives 60 s (until it
    // would be full again), long enough to be seen on a loaded machine.
    let fleet = Fleet::start(
        true,
        "caller_rate_limit_per_minute: 1, caller_rate_limit_burst: 5, \
         role_rate_limit_per_minute: 1, role_rate_limit_burst: 10",
    )
    .await;
    let token = fleet.sts.token(&fleet.sts.alice, BODY);
    assert_eq!(fleet.a.vend(&token, BODY).await.status, 200);
    let mut c = fleet.redis.as_ref().unwrap().client(Some(PASSWORD)).await;
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut c)
        .await
        .unwrap();
    assert!(
        keys.iter().any(|k| k.starts_with("tvm:replay:")),
        "{keys:?}"
    );
    assert!(
        keys.iter().any(|k| k.starts_with("tvm:rl:principal:")),
        "{keys:?}"
    );
    assert!(
        keys.iter().any(|k| k.starts_with("tvm:rl:role:")),
        "{keys:?}"
    );
    for key in &keys {
        assert!(key.starts_with("tvm:"), "{key}");
        assert!(!key.contains("arn:"), "{key}");
        let pttl: i64 = redis::cmd("PTTL")
            .arg(key)
            .query_async(&mut c)
            .await
            .unwrap();
        assert!(pttl > 0, "{key} has no TTL ({pttl})");
        if key.starts_with("tvm:replay:") {
            // A 60 s token: kept until signed + 60 s + 30 s, plus 30 s for drift.
            assert!(pttl <= 120_000, "{key}: {pttl}");
            assert!(pttl > 60_000, "{key}: {pttl}");
        } else {
            // A bucket lives only until it would be full again: one request
            // taken, one minute.
            assert!(pttl <= 60_000, "{key}: {pttl}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_vend_costs_four_redis_round_trips_with_every_bucket_on() {
    if !RedisServer::available() {
        return;
    }
    const VENDS: usize = 300;
    let fleet = Fleet::start(
        true,
        "rate_limit_per_minute: 600000, rate_limit_burst: 100000, \
         caller_rate_limit_per_minute: 600000, caller_rate_limit_burst: 100000",
    )
    .await;
    for _ in 0..VENDS {
        let token = fleet.sts.token(&fleet.sts.alice, BODY);
        assert_eq!(fleet.a.vend(&token, BODY).await.status, 200);
    }
    let m = fleet.a.metrics().await;
    let calls = |op: &str| {
        metric(
            &m,
            &format!("tvm_state_backend_duration_seconds_count{{operation=\"{op}\"}}"),
        )
    };
    // One SET NX PX, then one script per bucket: address, principal, role.
    assert_eq!(calls("replay_reserve"), VENDS as f64);
    assert_eq!(calls("rate_limit"), 3.0 * VENDS as f64);
    assert_eq!(calls("replay_release"), 0.0);
    println!(
        "{VENDS} sequential vends through one replica:\n{}",
        crate::chaos::round_trips(&m)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_sts_call_cap_answers_503_without_calling_sts() {
    // GetCallerIdentity goes to a peer that accepts and never answers, so the one
    // slot stays taken while the second request waits and gives up.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    let _hold = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            open.push(s);
        }
    });
    let app = spawn_app_with(Options {
        verification_url: Some(url),
        sts_cap: StsCallCap {
            max: 1,
            wait: Duration::from_millis(200),
        },
        limits: ServerLimits {
            address_rate: RateLimit::OFF,
            ..Options::default().limits
        },
        ..Options::default()
    })
    .await;
    // Three at once: one takes the slot and waits for the silent peer (until
    // the transport gives up, 502), the others give up waiting (503).
    let (x, y, z) = tokio::join!(
        app.vend(&app.alice, BODY),
        app.vend(&app.alice, BODY),
        app.vend(&app.alice, BODY)
    );
    let busy: Vec<_> = [&x, &y, &z]
        .into_iter()
        .filter(|a| a.status == 503)
        .collect();
    assert!(!busy.is_empty(), "{x:?} {y:?} {z:?}");
    for a in busy {
        assert_eq!(a.code(), "UNAVAILABLE");
    }
    let m = app.get(&app.admin, "/metrics", None).await.body;
    assert!(
        metric(
            &m,
            "tvm_sts_queue_timeouts_total{operation=\"GetCallerIdentity\"}"
        ) >= 1.0
    );
    assert_eq!(app.sts_calls("AssumeRole"), 0);
}
